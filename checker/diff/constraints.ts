// Constraint evaluation for the diff, through checker/model/access.ts. Constraints speak of
// contexts (user, role, type), the diff of types; the caller says which context a type runs
// in — for Xen, xl labels domains `system_u:system_r:TYPE` — and a permission a constraint
// denies between those contexts counts as not granted on that side.

import { constraintsAllow, type SecurityContext } from '../model/access.js';
import type { PolicyModel } from '../model/model.js';
import type { Side } from './align.js';
import type { ConstraintFilter } from './effective.js';

export type ContextOf = (type: string) => SecurityContext;

/** `USER:ROLE` → every type in that user and role. */
export function uniformContexts(user: string, role: string): ContextOf {
  return (type) => ({ user, role, type });
}

export function constraintFilter(models: Readonly<Record<Side, PolicyModel>>, contextOf: ContextOf): ConstraintFilter {
  return (side, subject, object, cls, perms) => {
    const model = models[side];
    if (model.constraints.length === 0) return perms;
    const s = contextOf(subject);
    const t = contextOf(object);
    return new Set([...perms].filter((p) => constraintsAllow(model, s, t, cls, [p]).length === 0));
  };
}
