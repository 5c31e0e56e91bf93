// Queries over the model, expanding symbolic rules only as far as the question asks:
// "what may S do to T" walks the rules once and tests membership, never a product of sets.

import { compareCodePoints } from '../../grammar/compare.js';
import type { AvRule, AvRuleKind, BoolExpr } from '../../grammar/ast.js';
import type { BitSet } from './bitset.js';
import type { Guard, PolicyModel, Provenance } from './model.js';

export type BooleanState = ReadonlyMap<string, boolean>;

export function evalBool(expr: BoolExpr, state: BooleanState): boolean {
  switch (expr.op) {
    case 'var': return state.get(expr.name.name) ?? false;
    case 'not': return !evalBool(expr.operand, state);
    case '&&': return evalBool(expr.left, state) && evalBool(expr.right, state);
    case '||': return evalBool(expr.left, state) || evalBool(expr.right, state);
    case '^': return evalBool(expr.left, state) !== evalBool(expr.right, state);
    case '==': return evalBool(expr.left, state) === evalBool(expr.right, state);
    case '!=': return evalBool(expr.left, state) !== evalBool(expr.right, state);
  }
}

export function guardHolds(guard: Guard | undefined, state: BooleanState): boolean {
  return guard === undefined || evalBool(guard.expr, state) === guard.branch;
}

export interface Query {
  readonly source: string;
  readonly target?: string;
  readonly cls?: string;
  readonly perm?: string;
  readonly kinds?: readonly AvRuleKind[];
  /** Boolean values; unset booleans take their declared defaults. */
  readonly booleans?: BooleanState;
}

export interface RuleHit {
  readonly kind: AvRuleKind;
  /** The statement as parsed (print it with grammar/printer.ts). */
  readonly statement: AvRule;
  readonly perms: readonly string[];
  readonly at: Provenance;
  /** false when the rule is conditional and its guard is off in the queried boolean state. */
  readonly active: boolean;
  readonly conditional: boolean;
}

export interface AccessEntry {
  readonly source: string;
  readonly target: string;
  readonly cls: string;
  readonly kind: AvRuleKind;
  /** Union of the permissions of the active rules. */
  readonly perms: readonly string[];
  readonly rules: readonly RuleHit[];
}

/** The index of a type, through its alias if `name` is one; undefined for attributes and unknowns. */
export function typeIndexOf(model: PolicyModel, name: string): number | undefined {
  return model.typeIndex.get(name) ?? model.aliases.get(name);
}

/** The types a name stands for: itself (or its alias target), or an attribute's members. */
export function typesOf(model: PolicyModel, name: string): number[] | undefined {
  const t = typeIndexOf(model, name);
  if (t !== undefined) return [t];
  const a = model.attributeIndex.get(name);
  return a === undefined ? undefined : [...(model.attributeMembers[a] as BitSet)];
}

export function queryAccess(model: PolicyModel, q: Query): AccessEntry[] | undefined {
  const sources = typesOf(model, q.source);
  const targetFilter = q.target === undefined ? undefined : typesOf(model, q.target);
  if (!sources || (q.target !== undefined && !targetFilter)) return undefined;
  const targetSet = targetFilter ? new Set(targetFilter) : undefined;
  const cls = q.cls === undefined ? undefined : model.classIndex.get(q.cls);
  if (q.cls !== undefined && cls === undefined) return undefined;
  const kinds = new Set(q.kinds ?? ['allow']);
  const state = new Map([...model.booleans, ...(q.booleans ?? [])]);
  const entries = new Map<string, { source: number; target: number; cls: number; kind: AvRuleKind; bits: Set<number>; rules: RuleHit[] }>();

  for (const rule of model.avRules) {
    if (!kinds.has(rule.kind)) continue;
    const active = guardHolds(rule.guard, state);
    for (const s of sources) {
      if (!rule.sources.has(s)) continue;
      const targets = new Set<number>();
      if (targetSet) {
        for (const t of targetSet) if (rule.targets.has(t) || (rule.self && t === s)) targets.add(t);
      } else {
        for (const t of rule.targets) targets.add(t);
        if (rule.self) targets.add(s);
      }
      for (const [ci, bits] of rule.perms) {
        if (cls !== undefined && ci !== cls) continue;
        const info = model.classes[ci];
        if (!info) continue;
        const permIdx = q.perm === undefined ? undefined : info.permIndex.get(q.perm);
        if (q.perm !== undefined && (permIdx === undefined || !bits.has(permIdx))) continue;
        const names = [...bits].map((p) => info.perms[p] as string);
        if (names.length === 0) continue;
        for (const t of targets) {
          const key = `${s} ${t} ${ci} ${rule.kind}`;
          let e = entries.get(key);
          if (!e) entries.set(key, (e = { source: s, target: t, cls: ci, kind: rule.kind, bits: new Set(), rules: [] }));
          if (active) for (const p of bits) e.bits.add(p);
          e.rules.push({ kind: rule.kind, statement: rule.statement, perms: names, at: rule.at, active, conditional: rule.guard !== undefined });
        }
      }
    }
  }
  return [...entries.values()]
    .map((e) => {
      const info = model.classes[e.cls];
      return {
        source: model.types[e.source] as string,
        target: model.types[e.target] as string,
        cls: info?.name ?? '?',
        kind: e.kind,
        perms: [...e.bits].sort((a, b) => a - b).map((p) => info?.perms[p] as string),
        rules: e.rules,
      };
    })
    .sort((a, b) => compareCodePoints(a.source, b.source) || compareCodePoints(a.target, b.target) || compareCodePoints(a.cls, b.cls) || compareCodePoints(a.kind, b.kind));
}

export interface PolicyStats {
  readonly classes: number;
  readonly permissions: number;
  readonly commons: number;
  readonly initialSids: number;
  readonly types: number;
  readonly aliases: number;
  readonly attributes: number;
  readonly roles: number;
  readonly users: number;
  readonly booleans: number;
  readonly avRules: Readonly<Record<AvRuleKind, number>>;
  readonly conditionalAvRules: number;
  readonly typeRules: number;
  readonly constraints: number;
  /**
   * (source, target, class) entries the allow rules expand to, counted per rule as
   * |sources| × |targets| × |classes| — arithmetic, never materialised.
   */
  readonly expandedAllowEntries: number;
}

export function policyStats(model: PolicyModel): PolicyStats {
  const avRules = { allow: 0, auditallow: 0, dontaudit: 0, neverallow: 0 };
  let expanded = 0;
  for (const r of model.avRules) {
    avRules[r.kind]++;
    if (r.kind === 'allow') expanded += r.sources.count() * (r.targets.count() + (r.self ? 1 : 0)) * r.perms.size;
  }
  return {
    classes: model.classes.length,
    permissions: model.classes.reduce((n, c) => n + c.perms.length, 0),
    commons: model.commons.size,
    initialSids: model.initialSids.length,
    types: model.types.length,
    aliases: model.aliases.size,
    attributes: model.attributes.length,
    roles: model.roles.size,
    users: model.users.size,
    booleans: model.booleans.size,
    avRules,
    conditionalAvRules: model.avRules.filter((r) => r.guard !== undefined).length,
    typeRules: model.typeRules.length,
    constraints: model.constraints.length,
    expandedAllowEntries: expanded,
  };
}

/**
 * The type Xen's security server computes for a new object: the last matching
 * type_transition (checkpolicy refuses conflicting ones), else the source type for the
 * domain class and the target type otherwise. This is how Xen labels `_self` (source =
 * target = the domain, class domain), `_target` (source = the guest, target = its device
 * model) and `_channel` (source = the channel's creator, class event).
 */
export function computeTransition(model: PolicyModel, source: string, target: string, cls: string, booleans: BooleanState = new Map()): string | undefined {
  const s = typeIndexOf(model, source);
  const t = typeIndexOf(model, target);
  const c = model.classIndex.get(cls);
  if (s === undefined || t === undefined || c === undefined) return undefined;
  const state = new Map([...model.booleans, ...booleans]);
  let result: number | undefined;
  for (const r of model.typeRules) {
    if (r.kind !== 'type_transition' || r.objectName !== undefined || !guardHolds(r.guard, state)) continue;
    if (r.sources.has(s) && (r.targets.has(t) || (r.self && s === t)) && r.classes.includes(c)) result = r.result;
  }
  return model.types[result ?? (cls === 'domain' ? s : t)];
}
