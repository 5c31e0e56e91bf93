// Constraint evaluation for the diff, through policy/model/access.ts. Constraints speak of
// contexts (user, role, type), the diff of types; the caller says which context a type runs
// in — for Xen, xl labels domains `system_u:system_r:TYPE` — and a permission a constraint
// denies between those contexts counts as not granted on that side.

import type { ConstraintExpr } from '../policy/grammar/ast.js';
import { compareCodePoints } from '../core/compare.js';
import { printConstraint } from '../policy/grammar/printer.js';
import { constraintsAllow, evalConstraint, type SecurityContext } from '../policy/model/access.js';
import { typeIndexOf } from '../policy/model/query.js';
import { domainTypes } from '../checker/effective.js';
import type { PolicyModel } from '../policy/model/model.js';
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

/**
 * What constraints read of one type (in the context `contextOf` gives it), per class: the
 * context's user and role, and its membership in every name set a constraint of the class
 * compares an operand with. Two types with equal answers are interchangeable for the
 * constraints of that side; the rest of an expression compares the two contexts with each
 * other (u1 == u2, r1 == r2, t1 == t2), which the user, the role and the diagonal decide.
 * Only constrain and mlsconstrain: Xen never calls security_validate_transition
 * (xen/xsm/flask/ss/services.c defines it; nothing in hooks.c uses it), so validatetrans
 * changes no access decision and is only listed.
 */
interface ConstraintView {
  /** class → the class's constraints as printed (permissions and expression), sorted: equal strings decide alike. */
  readonly signature: ReadonlyMap<string, string>;
  /** The answers of one type for one class's constraints, or undefined when the side has no such type. */
  feature(type: string, cls: string): string | undefined;
}

export function constraintView(model: PolicyModel, contextOf: ContextOf): ConstraintView {
  const byClass = new Map<string, { text: string; leaves: ConstraintExpr[] }[]>();
  for (const c of model.constraints) {
    if (c.kind !== 'constrain' && c.kind !== 'mlsconstrain') continue;
    for (const ci of c.classes) {
      const info = model.classes[ci];
      if (!info) continue;
      const perms = [...(c.perms.get(ci) ?? [])].map((p) => info.perms[p] as string).sort().join(' ');
      const list = byClass.get(info.name) ?? [];
      list.push({ text: `{ ${perms} } ${printConstraint(c.expr)}`, leaves: [...namedLeaves(c.expr)] });
      byClass.set(info.name, list);
    }
  }
  const signature = new Map<string, string>();
  for (const [cls, list] of byClass) {
    list.sort((a, b) => compareCodePoints(a.text, b.text));
    signature.set(cls, list.map((x) => x.text).join('\n'));
  }
  return {
    signature,
    feature(type, cls) {
      if (typeIndexOf(model, type) === undefined) return undefined;
      const ctx = contextOf(type, model);
      const answers = (byClass.get(cls) ?? []).flatMap((x) => x.leaves.map((l) => (evalConstraint(model, l, ctx, ctx) ? '1' : '0')));
      return `${ctx.user}:${ctx.role}:${answers.join('')}`;
    },
  };
}

/** The comparisons of an operand with a set of names (`t1 == dom_t`, `r2 != { a b }`). */
function* namedLeaves(e: ConstraintExpr): Iterable<ConstraintExpr> {
  switch (e.op) {
    case 'not': yield* namedLeaves(e.operand); return;
    case 'and': case 'or': yield* namedLeaves(e.left); yield* namedLeaves(e.right); return;
    default: if (typeof e.right !== 'string') yield e;
  }
}

/**
 * The classes whose constraints may decide a pair differently on the two sides: their
 * constraints differ as printed, or some type's answers to them (its context, its
 * membership in their name sets) changed.
 */
export function affectedClasses(o: ConstraintView, w: ConstraintView, types: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const cls of new Set([...o.signature.keys(), ...w.signature.keys()])) {
    if (o.signature.get(cls) !== w.signature.get(cls)) out.add(cls);
    else if (types.some((t) => { const a = o.feature(t, cls); const b = w.feature(t, cls); return a !== undefined && b !== undefined && a !== b; })) out.add(cls);
  }
  return out;
}
