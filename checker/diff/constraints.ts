// Constraint evaluation for the diff, through checker/model/access.ts. Constraints speak of
// contexts (user, role, type), the diff of types; the caller says which context a type runs
// in — for Xen, xl labels domains `system_u:system_r:TYPE` — and a permission a constraint
// denies between those contexts counts as not granted on that side.

import { constraintsAllow, type SecurityContext } from '../model/access.js';
import { typeIndexOf } from '../model/query.js';
import { domainTypes } from '../effective.js';
import type { PolicyModel } from '../model/model.js';
import type { Side } from './align.js';
import type { ConstraintFilter } from './effective.js';

export type ContextOf = (type: string, model: PolicyModel) => SecurityContext;

/** `USER:ROLE` → every type in that user and role. */
export function uniformContexts(user: string, role: string): ContextOf {
  return (type) => ({ user, role, type });
}

/**
 * The contexts a Xen host gives: a domain type (one a role other than object_r may take) runs
 * as system_u:system_r:TYPE, which is what vmipolicy's xl snippets write; every other type
 * (channels, _self types, resources) is an object, system_u:object_r:TYPE. The checker labels
 * the same way, so `check` and `diff` agree on what a constraint allows.
 */
export const xenDefaultContexts: ContextOf = (type, model) => {
  const t = typeIndexOf(model, type);
  const domain = t !== undefined && domainTypes(model).has(t);
  return { user: 'system_u', role: domain ? 'system_r' : 'object_r', type };
};

/**
 * What constraint evaluation needs of a model, without its rules: the rules hold the parse
 * tree (for provenance), and keeping it until the other side is read would double the peak.
 */
export function constraintModel(model: PolicyModel): PolicyModel {
  return { ...model, avRules: [], typeRules: [], roleTransitions: [] };
}

export function constraintFilter(models: Readonly<Record<Side, PolicyModel>>, contextOf: ContextOf): ConstraintFilter {
  return (side, subject, object, cls, perms) => {
    const model = models[side];
    if (model.constraints.length === 0) return perms;
    const s = contextOf(subject, model);
    const t = contextOf(object, model);
    return new Set([...perms].filter((p) => constraintsAllow(model, s, t, cls, [p]).length === 0));
  };
}
