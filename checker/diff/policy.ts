// Policy × policy → PolicyDelta: declarations (types, attributes, memberships, booleans,
// roles, constraints), type transitions, and the effective-access diff. Pure: the two
// sides' extracted facts (facts.ts) in, data out.

import { diffAccess, cmp } from './access.js';
import type { Universe } from './align.js';
import type { ConstraintFilter } from './effective.js';
import type { PolicyFacts } from './facts.js';
import { diffTransitions } from './transitions.js';
import type { BooleanChange, MembershipChange, NamedChange, PolicyDelta, RoleChange, StatementChange } from './types.js';

export function diffPolicies(universe: Universe, o: PolicyFacts, w: PolicyFacts, constraints?: ConstraintFilter): PolicyDelta {
  return {
    types: setDiff(o.types, w.types),
    attributes: setDiff(o.attributes, w.attributes),
    memberships: memberships(o, w),
    booleans: booleans(o, w),
    roles: roles(o, w),
    constraints: multisetDiff(o.constraints, w.constraints),
    transitions: diffTransitions(universe, o.typeRules, w.typeRules),
    access: diffAccess({ universe, old: o.rules, new: w.rules, ...(constraints ? { constraints } : {}) }),
  };
}

export function setDiff(a: Iterable<string>, b: Iterable<string>): NamedChange<string> {
  const A = new Set(a);
  const B = new Set(b);
  return { added: [...B].filter((x) => !A.has(x)).sort(cmp), removed: [...A].filter((x) => !B.has(x)).sort(cmp) };
}

/** Types in both policies whose attributes changed (new types are listed as added types). */
function memberships(o: PolicyFacts, w: PolicyFacts): MembershipChange[] {
  const out: MembershipChange[] = [];
  for (const [type, attrs] of o.typeAttributes) {
    const now = w.typeAttributes.get(type);
    if (!now) continue;
    const d = setDiff(attrs, now);
    if (d.added.length || d.removed.length) out.push({ type, joined: d.added, left: d.removed });
  }
  return out.sort((a, b) => cmp(a.type, b.type));
}

function booleans(o: PolicyFacts, w: PolicyFacts): BooleanChange[] {
  const names = [...new Set([...o.booleans.keys(), ...w.booleans.keys()])].sort(cmp);
  return names
    .filter((n) => o.booleans.get(n) !== w.booleans.get(n))
    .map((n) => ({ name: n, ...(o.booleans.has(n) ? { old: o.booleans.get(n) } : {}), ...(w.booleans.has(n) ? { new: w.booleans.get(n) } : {}) }));
}

function roles(o: PolicyFacts, w: PolicyFacts): RoleChange[] {
  const names = [...new Set([...o.roles.keys(), ...w.roles.keys()])].sort(cmp);
  const out: RoleChange[] = [];
  for (const r of names) {
    const d = setDiff(o.roles.get(r) ?? [], w.roles.get(r) ?? []);
    if (d.added.length || d.removed.length) out.push({ role: r, addedTypes: d.added, removedTypes: d.removed });
  }
  return out;
}

/** Statements compared as printed text (multisets); positions from the side that has them. */
function multisetDiff(a: readonly StatementChange[], b: readonly StatementChange[]): NamedChange<StatementChange> {
  const left = (xs: readonly StatementChange[], ys: readonly StatementChange[]): StatementChange[] => {
    const pool = new Map<string, number>();
    for (const y of ys) pool.set(y.text, (pool.get(y.text) ?? 0) + 1);
    return xs.filter((x) => {
      const n = pool.get(x.text) ?? 0;
      if (n > 0) pool.set(x.text, n - 1);
      return n === 0;
    });
  };
  return { added: left(b, a), removed: left(a, b) };
}
