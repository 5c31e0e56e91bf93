// Queries over the model, expanding symbolic rules only as far as the question asks:
// "what may S do to T" walks the rules once and tests membership, never a product of sets.

import { compareCodePoints } from '../../core/compare.js';
import type { AvRule, AvRuleKind, BoolExpr } from '../grammar/ast.js';
import { SmallSet, type BitSet, type IndexSet } from './bitset.js';
import type { DecisionModel, Guard, ModelAvRule, PolicyModel, Provenance } from './model.js';

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

interface Query {
  readonly source: string;
  readonly target?: string;
  readonly cls?: string;
  readonly perm?: string;
  readonly kinds?: readonly AvRuleKind[];
  /** Boolean values; unset booleans take their declared defaults. */
  readonly booleans?: BooleanState;
}

interface RuleHit {
  readonly kind: AvRuleKind;
  /** The statement as parsed (print it with policy/grammar/printer.ts). */
  readonly statement: AvRule;
  readonly perms: readonly string[];
  readonly at: Provenance;
  /** false when the rule is conditional and its guard is off in the queried boolean state. */
  readonly active: boolean;
  readonly conditional: boolean;
}

interface AccessEntry {
  readonly source: string;
  readonly target: string;
  readonly cls: string;
  readonly kind: AvRuleKind;
  /** Union of the permissions of the active rules. */
  readonly perms: readonly string[];
  readonly rules: readonly RuleHit[];
}

/** The index of a type, through its alias if `name` is one; undefined for attributes and unknowns. */
export function typeIndexOf(model: Pick<DecisionModel, 'typeIndex' | 'aliases'>, name: string): number | undefined {
  return model.typeIndex.get(name) ?? model.aliases.get(name);
}

/** The types a name stands for: itself (or its alias target), or an attribute's members. */
function typesOf(model: PolicyModel, name: string): number[] | undefined {
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

/** How many example (source, target) pairs a rule match carries. */
const EXAMPLE_PAIRS = 3;

/**
 * One rule, for one of its classes, as far as a query reaches it: how many (source, target)
 * pairs it covers within the query's types — counted from set sizes, never listed — and the
 * first few of them in type order.
 */
export interface RuleMatch {
  readonly kind: AvRuleKind;
  readonly statement: AvRule;
  readonly at: Provenance;
  readonly cls: string;
  /** The rule's permissions on `cls` (all of them: a -p query selects rules, it does not trim them). */
  readonly perms: readonly string[];
  readonly active: boolean;
  readonly conditional: boolean;
  readonly pairs: number;
  readonly examples: readonly (readonly [string, string])[];
}

/** |a ∩ b|, walking the smaller set. */
function intersectionCount(a: IndexSet, b: IndexSet): number {
  const [small, large] = a.count() <= b.count() ? [a, b] : [b, a];
  let n = 0;
  for (const i of small) if (large.has(i)) n++;
  return n;
}

/** The query's types as a set: a type (or alias) alone, or an attribute's members; undefined if unknown. */
function queryTypes(model: PolicyModel, name: string): IndexSet | undefined {
  const t = typeIndexOf(model, name);
  if (t !== undefined) return SmallSet.of([t]);
  const a = model.attributeIndex.get(name);
  return a === undefined ? undefined : (model.attributeMembers[a] as BitSet);
}

/** Every type, for a query without -t. */
class AllTypes implements IndexSet {
  constructor(private readonly size: number) {}
  has(i: number): boolean {
    return i >= 0 && i < this.size;
  }
  count(): number {
    return this.size;
  }
  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.size; i++) yield i;
  }
}

/**
 * The rules a query reaches, one match per (rule, class), in policy order. Memory and time
 * are linear in the rules and the types: a rule between two attributes of thousands of
 * types is one match with a count, not millions of entries (`queryAccess` lists those).
 */
export function queryRules(model: PolicyModel, q: Query): RuleMatch[] | undefined {
  const sources = queryTypes(model, q.source);
  const targets = q.target === undefined ? new AllTypes(model.types.length) : queryTypes(model, q.target);
  if (!sources || !targets) return undefined;
  const cls = q.cls === undefined ? undefined : model.classIndex.get(q.cls);
  if (q.cls !== undefined && cls === undefined) return undefined;
  const kinds = new Set(q.kinds ?? ['allow']);
  const state = new Map([...model.booleans, ...(q.booleans ?? [])]);
  const out: RuleMatch[] = [];
  for (const rule of model.avRules) {
    if (!kinds.has(rule.kind)) continue;
    const sourceCount = intersectionCount(rule.sources, sources);
    if (sourceCount === 0) continue;
    const plainTargets = intersectionCount(rule.targets, targets);
    const pairs = pairCount(rule, sources, targets, sourceCount, plainTargets);
    if (pairs === 0) continue;
    for (const [ci, bits] of rule.perms) {
      if (cls !== undefined && ci !== cls) continue;
      const info = model.classes[ci];
      if (!info || bits.isEmpty()) continue;
      const permIdx = q.perm === undefined ? undefined : info.permIndex.get(q.perm);
      if (q.perm !== undefined && (permIdx === undefined || !bits.has(permIdx))) continue;
      out.push({
        kind: rule.kind, statement: rule.statement, at: rule.at, cls: info.name,
        perms: [...bits].map((p) => info.perms[p] as string),
        active: guardHolds(rule.guard, state), conditional: rule.guard !== undefined,
        pairs, examples: examplePairs(rule, sources, targets, plainTargets > 0).map(([s, t]) => [model.types[s] as string, model.types[t] as string] as const),
      });
    }
  }
  return out;
}

/**
 * (source, target) pairs of a rule within the query: sources S = rule.sources ∩ query
 * sources, plain targets T = rule.targets ∩ query targets, and with `self` each s in S
 * that the query's targets include — minus the pairs (s, s) counted both ways.
 */
function pairCount(rule: ModelAvRule, sources: IndexSet, targets: IndexSet, sourceCount: number, plainTargets: number): number {
  let pairs = sourceCount * plainTargets;
  if (rule.self) {
    for (const s of rule.sources) if (sources.has(s) && targets.has(s) && !rule.targets.has(s)) pairs++;
  }
  return pairs;
}

/** The first EXAMPLE_PAIRS pairs in (source, target) index order. */
function examplePairs(rule: ModelAvRule, sources: IndexSet, targets: IndexSet, hasPlainTargets: boolean): [number, number][] {
  const out: [number, number][] = [];
  // Sets iterate in ascending index order (BitSet words, SmallSet sorted).
  for (const s of rule.sources) {
    if (!sources.has(s)) continue;
    const forS: number[] = [];
    if (hasPlainTargets) {
      for (const t of rule.targets) {
        if (targets.has(t)) forS.push(t);
        if (forS.length >= EXAMPLE_PAIRS) break;
      }
    }
    if (rule.self && targets.has(s) && !rule.targets.has(s)) forS.push(s);
    for (const t of forS.sort((a, b) => a - b).slice(0, EXAMPLE_PAIRS - out.length)) out.push([s, t]);
    if (out.length >= EXAMPLE_PAIRS) break;
  }
  return out;
}

interface PolicyStats {
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
