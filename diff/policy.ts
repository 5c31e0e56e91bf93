// Policy × policy → PolicyDelta: declarations (types, attributes, memberships, booleans,
// roles, constraints), type transitions, and the effective-access diff. Pure: the two
// sides' extracted facts (facts.ts) in, data out.

import { AccessEngine, cmp } from './access.js';
import type { Side, Universe } from './align.js';
import { affectedClasses, constraintView, type ContextOf } from './constraints.js';
import type { ConstraintFilter } from './effective.js';
import type { PolicyFacts } from './facts.js';
import { diffObjectLabels, diffPermissive } from './semantics.js';
import { diffTransitions } from './transitions.js';
import type { PolicyModel } from '../policy/model/model.js';
import type { BooleanChange, MembershipChange, NamedChange, PolicyDelta, RoleChange, StatementChange } from './types.js';

/** How each side decides beyond its rules. */
interface PolicySemantics {
  readonly constraints?: ConstraintFilter;
  /** Each side's model without its rules: constraints, permissive types, contexts. */
  readonly models?: Readonly<Record<Side, PolicyModel>>;
  /** The contexts `constraints` evaluates with; absent for a caller's own filter, which may read anything of a type. */
  readonly contextOf?: ContextOf;
  /** Past this many changed pairs, the access listing is aggregated (access.ts EXPAND_LIMIT). */
  readonly expandLimit?: number;
}

export function diffPolicies(universe: Universe, o: PolicyFacts, w: PolicyFacts, semantics: PolicySemantics = {}): PolicyDelta {
  const engine = new AccessEngine({
    universe, old: o.rules, new: w.rules, ...decisionInputs(universe, semantics),
    ...(semantics.expandLimit !== undefined ? { expandLimit: semantics.expandLimit } : {}),
  });
  return {
    types: setDiff(o.types, w.types),
    attributes: setDiff(o.attributes, w.attributes),
    memberships: memberships(o, w),
    booleans: booleans(o, w),
    roles: roles(o, w),
    constraints: multisetDiff(o.constraints, w.constraints),
    transitions: diffTransitions(universe, o.typeRules, w.typeRules),
    access: engine.changes(),
    permissive: diffPermissive(engine, { facts: o, ...(semantics.models ? { model: semantics.models.old } : {}) }, { facts: w, ...(semantics.models ? { model: semantics.models.new } : {}) }),
    objectLabels: diffObjectLabels(engine, o, w),
    statements: multisetDiff(o.otherStatements, w.otherStatements),
  };
}

/**
 * What the access engine needs beyond the rules: the constraint filter, the classes whose
 * constraints may decide differently, the permissive types, and what tells types apart.
 */
function decisionInputs(universe: Universe, sem: PolicySemantics) {
  const names = universe.names;
  const models = sem.models;
  const permissive = models
    ? {
        old: new Set([...models.old.permissive].map((t) => universe.index.get(models.old.types[t] as string) as number)),
        new: new Set([...models.new.permissive].map((t) => universe.index.get(models.new.types[t] as string) as number)),
      }
    : undefined;
  const permissiveBits = (t: number): string => (permissive ? `${permissive.old.has(t) ? 1 : 0}${permissive.new.has(t) ? 1 : 0}` : '');
  if (!sem.constraints) return { ...(permissive ? { permissive } : {}), feature: permissiveBits };
  if (!models || !sem.contextOf) {
    // A filter of unknown reading: every type stands alone.
    return { constraints: sem.constraints, ...(permissive ? { permissive } : {}), feature: (t: number) => `${t}` };
  }
  const vo = constraintView(models.old, sem.contextOf);
  const vw = constraintView(models.new, sem.contextOf);
  const classes = [...new Set([...vo.signature.keys(), ...vw.signature.keys()])].sort(cmp);
  // Asked once per type for every class's partitions: computed once.
  const memo = new Map<number, string>();
  const feature = (t: number): string => {
    let f = memo.get(t);
    if (f === undefined) {
      const name = names[t] as string;
      memo.set(t, (f = `${permissiveBits(t)}|${classes.map((c) => `${vo.feature(name, c) ?? '-'}/${vw.feature(name, c) ?? '-'}`).join('|')}`));
    }
    return f;
  };
  return { constraints: sem.constraints, permissive: permissive as NonNullable<typeof permissive>, feature, affectedClasses: affectedClasses(vo, vw, names) };
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
