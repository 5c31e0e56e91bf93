// The privilege graph: domains (and the security policy itself) as nodes, control edges as
// labelled edges that keep the rules behind them (checker/permissions.ts says which
// permissions make one). An edge A → B means A can come to act with B's rights: it can write
// B's memory or registers, answer B's vm_events, create a domain labelled B, relabel a
// domain into B, make a domain B's device model, or rewrite the policy.
//
// The search never materialises an edge per pair of types. An attribute-wide relabel rule
// over N domains gives every domain N² (intermediary, destination) combinations; instead,
// a node's successors are one bitset computed from the rules' type sets (unions and
// intersections over the attribute, never the product), and the edges themselves — with
// the rules behind each — are enumerated lazily, only between the two nodes a witness path
// crosses, and only as many as the path bound asks for.

import type { ModelAvRule, PolicyModel } from '../policy/model/model.js';
import type { Hop, Location } from './findings.js';
import { BitSet, compact, indexSetOf, SmallSet, type IndexSet } from '../policy/model/bitset.js';
import { availability } from '../policy/booleans.js';
import { typeIndexOf } from '../policy/model/query.js';
import { allowRules, derivedDomainOwners, domainTypes, grantingRules, objectsOf, permissiveLocations, permNames, pseudoDomains, ruleLocation, rulesFrom } from './effective.js';
import { isPermissive } from '../policy/model/access.js';
import { isControl, isPolicyControl, isRead, isWrite, RELABEL_PERMS } from './permissions.js';

/** The node that stands for the security policy: whoever reaches it can grant itself anything. */
export const POLICY_NODE = 'security policy';

/** The policy node's id among the type indices. */
const POLICY = -1;

export interface PrivilegeEdge extends Hop {
  readonly kind: 'control' | 'create' | 'relabel' | 'set_target' | 'policy';
}

export interface FlowEdge extends Hop {
  readonly direction: 'read' | 'write';
}

/** What one domain can reach in one step: owners of the types it gains, and the policy. */
interface Successors {
  readonly nodes: IndexSet;
  readonly policy: boolean;
  /** Itself and the domains it has a control edge to: those it can relabel or make device models. */
  readonly controlled: IndexSet;
}

export class PrivilegeGraph {
  /** Type → the domain it stands for, as a table: the search asks it for every type of every rule. */
  private readonly owner: Int32Array;
  /** Domain → the types that stand for it (itself, its _self and _target types). */
  private readonly owned = new Map<number, number[]>();
  private readonly successorsOf = new Map<number, Successors>();
  private readonly liveness = new Map<ModelAvRule, boolean>();
  private readonly liveFrom = new Map<number, readonly ModelAvRule[]>();
  private readonly ownerSets = new Map<ModelAvRule, IndexSet>();
  private readonly withPerm = new Map<string, readonly ModelAvRule[]>();
  readonly domains: BitSet;
  /** Types that stand for another domain (T_self, T_target). */
  readonly derived: BitSet;

  constructor(readonly model: PolicyModel) {
    this.owner = Int32Array.from({ length: model.types.length }, (_, i) => i);
    this.domains = domainTypes(model);
    this.derived = new BitSet(model.types.length);
    for (const [derived, owner] of derivedDomainOwners(model)) {
      this.derived.add(derived);
      this.owner[derived] = owner;
      this.owned.set(owner, [...(this.owned.get(owner) ?? [owner]), derived]);
    }
  }

  /** The domain a type stands for: T for T_self and T_target, the type itself otherwise. */
  ownerOf(type: number): number {
    return this.owner[type] ?? type;
  }

  /**
   * The domains a rule's target set stands for (each type's owner, when a domain), once per
   * rule: an attribute-wide rule is met from every one of its sources.
   */
  ownersIn(rule: ModelAvRule): IndexSet {
    let out = this.ownerSets.get(rule);
    if (!out) {
      // Kept for every rule met: a host of 10 000 domains has tens of thousands of control
      // rules, nearly all on one domain, and a bit per type for each was hundreds of MiB.
      const owners: number[] = [];
      for (const t of rule.targets) {
        const owner = this.ownerOf(t);
        if (this.domains.has(owner)) owners.push(owner);
      }
      this.ownerSets.set(rule, (out = indexSetOf(this.model.types.length, owners)));
    }
    return out;
  }

  /** The types that stand for a domain: the domain, then its derived types. */
  ownedBy(domain: number): readonly number[] {
    return this.owned.get(domain) ?? [domain];
  }

  index(name: string): number | undefined {
    return typeIndexOf(this.model, name);
  }

  name(type: number): string {
    return type === POLICY ? POLICY_NODE : (this.model.types[type] as string);
  }

  /** Whether a rule can be on in some boolean state. */
  live(rule: ModelAvRule): boolean {
    let on = this.liveness.get(rule);
    if (on === undefined) this.liveness.set(rule, (on = !availability(this.model, [rule.guard]).never));
    return on;
  }

  /** The rules from a type that can be on in some boolean state, in policy order. */
  liveRules(from: number): readonly ModelAvRule[] {
    let rules = this.liveFrom.get(from);
    if (!rules) this.liveFrom.set(from, (rules = rulesFrom(this.model, from).filter((r) => this.live(r))));
    return rules;
  }

  successors(from: number): Successors {
    let s = this.successorsOf.get(from);
    if (!s) this.successorsOf.set(from, (s = successorsOf(this, from)));
    return s;
  }

  /** The live rules granting class `c` permission `p`, in policy order. */
  rulesWith(c: number, p: number): readonly ModelAvRule[] {
    const key = `${c} ${p}`;
    let rules = this.withPerm.get(key);
    if (!rules) this.withPerm.set(key, (rules = allowRules(this.model).filter((r) => r.perms.get(c)?.has(p) && this.live(r))));
    return rules;
  }

  /** Control edges out of a domain, for drawing: at most `perNode` to each node it reaches, `max` in all. */
  controlEdges(from: number, perNode = 4, max = Infinity): PrivilegeEdge[] {
    const s = this.successors(from);
    const out: PrivilegeEdge[] = [];
    for (const to of [...(s.policy ? [POLICY] : []), ...s.nodes]) {
      if (out.length >= max) break;
      out.push(...take(this.edgesBetween(from, to), Math.min(perNode, max - out.length)));
    }
    return out;
  }

  /**
   * A permissive domain is refused nothing (policy/model/access.ts requestAllowed), so it
   * holds the security server's policy-changing permissions too: it reaches the policy,
   * through its `permissive` statement rather than an allow rule.
   */
  unconfinedEdge(from: number): PrivilegeEdge | undefined {
    if (!isPermissive(this.model, from)) return undefined;
    const ci = this.model.classIndex.get('security');
    const info = ci === undefined ? undefined : this.model.classes[ci];
    const perms = info ? info.perms.filter((p) => isPolicyControl(info.name, p)) : [];
    return { kind: 'policy', from: this.name(from), to: POLICY_NODE, via: 'permissive: no denial enforced', cls: 'security', perms, rules: permissiveLocations(this.model, from) };
  }

  /**
   * The edges from `from` to `to` (a domain, or the policy), lazily, in a fixed order:
   * direct grants in policy order, then relabelself, relabelling a controlled domain (by
   * intermediary), making a controlled domain a device model (by device model).
   */
  *edgesBetween(from: number, to: number): Generator<PrivilegeEdge> {
    const name = this.name(from);
    if (to === POLICY) {
      const unconfined = this.unconfinedEdge(from);
      if (unconfined) yield unconfined;
      for (const rule of this.liveRules(from)) {
        for (const [ci] of rule.perms) {
          const cls = this.model.classes[ci]?.name as string;
          const policy = permNames(this.model, rule, ci).filter((p) => isPolicyControl(cls, p));
          if (policy.length) yield { kind: 'policy', from: name, to: POLICY_NODE, via: `${cls}:${policy.join(' ')}`, cls, perms: policy, rules: [ruleLocation(this.model, rule)] };
        }
      }
      return;
    }
    if (to === from || !this.domains.has(to)) return;
    const toName = this.name(to);
    const targets = this.ownedBy(to);
    for (const rule of this.liveRules(from)) {
      if (!targets.some((y) => rule.targets.has(y) || (rule.self && y === from))) continue;
      const at = ruleLocation(this.model, rule);
      for (const [ci] of rule.perms) {
        const cls = this.model.classes[ci]?.name as string;
        const perms = permNames(this.model, rule, ci);
        const control = perms.filter((p) => isControl(cls, p));
        if (control.length) yield { kind: 'control', from: name, to: toName, via: `${cls}:${control.join(' ')}`, cls, perms: control, rules: [at] };
        if (cls === 'domain' && perms.includes('create')) yield { kind: 'create', from: name, to: toName, via: 'domain:create', cls, perms: ['create'], rules: [at] };
      }
    }
    const labels = targets.filter((y) => this.domains.has(y));
    // relabelself: flask_op.c flask_relabel_domain checks (d, new, domain2:relabelself) and (d, new, domain:transition).
    for (const y of labels) {
      if (y === from) continue;
      const self = holds(this, from, y, 'domain2', RELABEL_PERMS.self);
      const transition = self && holds(this, from, y, 'domain', RELABEL_PERMS.transition);
      if (self && transition) yield { kind: 'relabel', from: name, to: toName, via: 'domain2:relabelself + domain:transition', cls: 'domain2', perms: [RELABEL_PERMS.self, RELABEL_PERMS.transition], rules: [...self, ...transition] };
    }
    const controlled = this.successors(from).controlled;
    // Relabelling a domain d it controls: (cur, d, relabelfrom), (cur, new, relabelto), (d, new, transition).
    for (const y of labels) {
      const relabelTo = holds(this, from, y, 'domain2', RELABEL_PERMS.to);
      if (!relabelTo) continue;
      for (const d of controlled) {
        const relabelFrom = holds(this, from, d, 'domain2', RELABEL_PERMS.from);
        const transition = relabelFrom && holds(this, d, y, 'domain', RELABEL_PERMS.transition);
        if (relabelFrom && transition) {
          yield { kind: 'relabel', from: name, to: toName, via: `relabel ${this.name(d)} → ${this.name(y)}`, cls: 'domain2', perms: [RELABEL_PERMS.from, RELABEL_PERMS.to, RELABEL_PERMS.transition], rules: [...relabelFrom, ...relabelTo, ...transition] };
        }
      }
    }
    // hooks.c flask_set_target: (cur, dm, make_priv_for), (cur, t, set_as_target), (dm, t, domain:set_target).
    for (const t of labels) {
      const set = holds(this, from, t, 'domain2', 'set_as_target');
      if (!set) continue;
      for (const dm of controlled) {
        const priv = holds(this, from, dm, 'domain2', 'make_priv_for');
        const link = priv && holds(this, dm, t, 'domain', 'set_target');
        if (priv && link) {
          yield { kind: 'set_target', from: name, to: toName, via: `make ${this.name(dm)} the device model of ${this.name(t)}`, cls: 'domain2', perms: ['make_priv_for', 'set_as_target', 'set_target'], rules: [...priv, ...set, ...link] };
        }
      }
    }
  }

  /** Data flow edges of one subject over domains: what it reads from and writes into. */
  flowEdges(from: number): FlowEdge[] {
    const out: FlowEdge[] = [];
    for (const rule of this.liveRules(from)) {
      for (const [ci] of rule.perms) {
        const cls = this.model.classes[ci]?.name as string;
        const perms = permNames(this.model, rule, ci);
        for (const direction of ['read', 'write'] as const) {
          const hit = perms.filter((p) => (direction === 'read' ? isRead(cls, p) : isWrite(cls, p)));
          if (!hit.length) continue;
          for (const o of domainObjects(this, rule, from)) {
            out.push({ direction, from: this.name(from), to: this.name(o), via: hit.join(' '), cls, perms: hit, rules: [ruleLocation(this.model, rule)] });
          }
        }
      }
    }
    return out;
  }
}

function* take<T>(items: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return;
  let i = 0;
  for (const x of items) {
    yield x;
    if (++i >= n) return;
  }
}

/** The domains a rule's objects stand for, other than the subject itself. */
function domainObjects(g: PrivilegeGraph, rule: ModelAvRule, from: number): number[] {
  const out = new Set<number>();
  for (const o of objectsOf(rule, from)) {
    const owner = g.ownerOf(o);
    if (owner !== from && g.domains.has(owner)) out.add(owner);
  }
  return [...out];
}

/** Whether `s` holds cls:perm on `o`, with the rules (unconditional or possibly on). */
function holds(g: PrivilegeGraph, s: number, o: number, cls: string, perm: string): Location[] | undefined {
  const c = g.model.classIndex.get(cls);
  const p = c === undefined ? undefined : g.model.classes[c]?.permIndex.get(perm);
  if (c === undefined || p === undefined) return undefined;
  const rules = grantingRules(g.model, s, o, c, p).filter((r) => g.live(r));
  return rules.length ? rules.map((r) => ruleLocation(g.model, r)) : undefined;
}

/** class:perm as indices, when the policy declares them. */
function permId(model: PolicyModel, cls: string, perm: string): { c: number; p: number } | undefined {
  const c = model.classIndex.get(cls);
  const p = c === undefined ? undefined : model.classes[c]?.permIndex.get(perm);
  return c === undefined || p === undefined ? undefined : { c, p };
}

/** Adds a rule's objects for `subject` (its targets, and the subject for `self`) to a set. */
function addObjects(into: BitSet, rule: ModelAvRule, subject: number): void {
  addAll(into, rule.targets);
  if (rule.self) into.add(subject);
}

function addAll(into: BitSet, set: IndexSet): void {
  if (set instanceof BitSet && set.size === into.size) into.addAll(set);
  else for (const t of set) into.add(t);
}

/** A bitset ∩ any index set. */
function intersectionOf(a: BitSet, b: IndexSet): BitSet {
  if (b instanceof BitSet && b.size === a.size) return intersection(a, b);
  const out = new BitSet(a.size);
  for (const t of b) if (a.has(t)) out.add(t);
  return out;
}

function intersection(a: BitSet, b: BitSet): BitSet {
  const out = new BitSet(a.size);
  for (let w = 0; w < out.words.length; w++) out.words[w] = ((a.words[w] ?? 0) & (b.words[w] ?? 0)) >>> 0;
  return out;
}

/**
 * One domain's successors, from its rules' type sets. The combined edges need a permission
 * on an intermediary d and another on the destination y, tied by d's own permission on y;
 * their destinations are (∪ over the d's of what each d may transition to) ∩ (what the
 * subject may relabel to) — unions and an intersection of sets, never d × y.
 */
function successorsOf(g: PrivilegeGraph, from: number): Successors {
  const size = g.model.types.length;
  // Made on the first successor: most domains of a large host (its targets) have none.
  let nodes: BitSet | undefined;
  let controlled: BitSet | undefined;
  let policy = isPermissive(g.model, from);
  // The objects of each relabelling permission, made on the first rule that grants it: most
  // domains hold none, and a set per permission per domain is most of a 10 000-domain
  // host's allocation (each set is a bit per type).
  const perms: Partial<Record<RelabelKey, BitSet>> = {};
  const ids = relabelIds(g.model);
  for (const rule of g.liveRules(from)) {
    for (const [ci, bits] of rule.perms) {
      const cls = g.model.classes[ci]?.name as string;
      const names = permNames(g.model, rule, ci);
      if (names.some((p) => isPolicyControl(cls, p))) policy = true;
      const control = names.some((p) => isControl(cls, p));
      const create = cls === 'domain' && names.includes('create');
      if (control || create) {
        // `self` adds the subject itself, which is never a step.
        const gains = g.ownersIn(rule);
        if (gains.count() > 0) addAll((nodes ??= new BitSet(size)), gains);
        if (control) addAll((controlled ??= new BitSet(size)), gains);
      }
      for (const key of RELABEL_KEYS) {
        const id = ids[key];
        if (id && id.c === ci && bits.has(id.p)) addObjects((perms[key] ??= new BitSet(size)), rule, from);
      }
    }
  }
  // Itself, and the domains it controls (a bitset only when there are some).
  controlled?.add(from);
  const controls: IndexSet = controlled ? compact(controlled) : new SmallSet([from]);
  // Gaining label y is reaching y's owner: a word at a time for plain domain types, one by one for derived ones.
  const gain = (ys: BitSet): void => {
    if (ys.isEmpty()) return;
    nodes ??= new BitSet(size);
    const labels = intersection(ys, g.domains);
    const derived = intersection(labels, g.derived);
    for (let w = 0; w < nodes.words.length; w++) nodes.words[w] = ((nodes.words[w] ?? 0) | ((labels.words[w] ?? 0) & ~(derived.words[w] ?? 0))) >>> 0;
    for (const y of derived) nodes.add(g.ownerOf(y));
    nodes.delete(from);
  };
  // A domain never gains itself (a rule over its own type, or `self`, is no step).
  nodes?.delete(from);
  if (perms.relabelself && perms.transition) gain(intersection(perms.relabelself, perms.transition));
  if (perms.relabelfrom && perms.relabelto) {
    const relabelFrom = intersectionOf(perms.relabelfrom, controls);
    if (!relabelFrom.isEmpty()) gain(intersection(perms.relabelto, unionOver(g, relabelFrom, ids.transition)));
  }
  if (perms.make_priv_for && perms.set_as_target) {
    const privFor = intersectionOf(perms.make_priv_for, controls);
    if (!privFor.isEmpty()) gain(intersection(perms.set_as_target, unionOver(g, privFor, permId(g.model, 'domain', 'set_target'))));
  }
  // Kept for every domain searched from: most have a handful of successors, and two bits per
  // type for each of 10 000 domains would be most of the search's memory.
  return { nodes: nodes ? compact(nodes) : NO_NODES, policy, controlled: controls };
}

const NO_NODES: IndexSet = new SmallSet([]);

const RELABEL_KEYS = ['relabelself', 'transition', 'relabelto', 'relabelfrom', 'set_as_target', 'make_priv_for'] as const;
type RelabelKey = (typeof RELABEL_KEYS)[number];

const relabelIdsOf = new WeakMap<PolicyModel, Record<RelabelKey, { c: number; p: number } | undefined>>();

/** The relabelling permissions as indices, once per policy. */
function relabelIds(model: PolicyModel): Record<RelabelKey, { c: number; p: number } | undefined> {
  let ids = relabelIdsOf.get(model);
  if (!ids) {
    relabelIdsOf.set(model, (ids = {
      relabelself: permId(model, 'domain2', RELABEL_PERMS.self),
      transition: permId(model, 'domain', RELABEL_PERMS.transition),
      relabelto: permId(model, 'domain2', RELABEL_PERMS.to),
      relabelfrom: permId(model, 'domain2', RELABEL_PERMS.from),
      set_as_target: permId(model, 'domain2', 'set_as_target'),
      make_priv_for: permId(model, 'domain2', 'make_priv_for'),
    }));
  }
  return ids;
}

/** ∪ over the subjects of the objects each holds `id` on; each rule's target set is added once. */
function unionOver(g: PrivilegeGraph, subjects: BitSet, id: { c: number; p: number } | undefined): BitSet {
  const out = new BitSet(g.model.types.length);
  if (!id) return out;
  const rules = g.rulesWith(id.c, id.p);
  // From the rules when there are fewer of them than subjects (an attribute-wide set of
  // intermediaries), from the subjects otherwise (a host with a transition rule per domain).
  if (rules.length < subjects.count()) {
    for (const rule of rules) {
      const meets = intersectionOf(subjects, rule.sources);
      if (meets.isEmpty()) continue;
      addAll(out, rule.targets);
      if (rule.self) out.addAll(meets);
    }
    return out;
  }
  const added = new Set<ModelAvRule>();
  for (const s of subjects) {
    for (const rule of g.liveRules(s)) {
      if (!rule.perms.get(id.c)?.has(id.p)) continue;
      if (rule.self) out.add(s);
      if (!added.has(rule)) {
        added.add(rule);
        addAll(out, rule.targets);
      }
    }
  }
  return out;
}

export interface ReachResult {
  /** The start domain's type index. */
  readonly start: number;
  /** node name → shortest distance from the start. */
  readonly distance: ReadonlyMap<string, number>;
  /** Node ids (type indices; the policy is -1) per distance, in discovery order. */
  readonly layers: readonly (readonly number[])[];
  /** Nodes reached but not expanded (trusted host domains, pseudo-domains, the policy). */
  readonly stopped: ReadonlySet<number>;
}

/**
 * Breadth-first over control edges. Nodes in `stop` (the trusted host domains) are reached
 * but not expanded: reaching dom0 is the finding, and everything dom0 can do would only
 * repeat it. Pseudo-domains are never expanded either: Xen gives DOMID_IO and DOMID_XEN a
 * label (hooks.c flask_domain_alloc_security) but they run no vCPU, so they never act as
 * the subject of a check and have no rights to gain. Only distances are kept; the edges on
 * minimal paths are found again, lazily, for the nodes a finding reports.
 */
export function reach(g: PrivilegeGraph, start: number, maxDepth: number, stop: ReadonlySet<string> = new Set()): ReachResult {
  const distance = new Map<string, number>([[g.name(start), 0]]);
  const first = g.successors(start);
  // No step out (most domains of a large host): the search below would find the same, after
  // a bit per type for what it has seen.
  if (maxDepth >= 1 && !first.policy && first.nodes.count() === 0) return { start, distance, layers: [[start], []], stopped: new Set() };
  const pseudo = pseudoDomains(g.model);
  const layers: number[][] = [[start]];
  const stopped = new Set<number>();
  const seen = new BitSet(g.model.types.length);
  seen.add(start);
  let frontier = [start];
  const discover = (m: number, depth: number, layer: number[]): void => {
    const name = g.name(m);
    distance.set(name, depth);
    layer.push(m);
    if (m === POLICY || stop.has(name) || pseudo.has(m)) stopped.add(m);
  };
  for (let depth = 1; depth <= maxDepth && frontier.length; depth++) {
    const layer: number[] = [];
    for (const n of frontier) {
      const s = g.successors(n);
      if (s.policy && !distance.has(POLICY_NODE)) discover(POLICY, depth, layer);
      if (!(s.nodes instanceof BitSet)) {
        // A few successors (compact): one by one, in increasing order as the words give them.
        for (const m of s.nodes) {
          if (seen.has(m)) continue;
          seen.add(m);
          discover(m, depth, layer);
        }
        continue;
      }
      // Only the successors not seen yet, a word at a time: a dense graph's layers cost N²/32.
      for (let w = 0; w < seen.words.length; w++) {
        let fresh = ((s.nodes.words[w] ?? 0) & ~(seen.words[w] ?? 0)) >>> 0;
        if (fresh === 0) continue;
        seen.words[w] = ((seen.words[w] ?? 0) | fresh) >>> 0;
        while (fresh !== 0) {
          discover(w * 32 + (31 - Math.clz32(fresh & -fresh)), depth, layer);
          fresh = (fresh & (fresh - 1)) >>> 0;
        }
      }
    }
    layers.push(layer);
    frontier = layer.filter((m) => !stopped.has(m));
  }
  return { start, distance, layers, stopped };
}

/** The nodes one step before `node` on its minimal paths: expanded nodes of the previous layer with an edge to it. */
function predecessors(g: PrivilegeGraph, r: ReachResult, node: number, depth: number): number[] {
  const previous = r.layers[depth - 1] ?? [];
  return previous.filter((u) => !r.stopped.has(u) && (node === POLICY ? g.successors(u).policy : g.successors(u).nodes.has(node)));
}

/** Every minimal path from the start to `node` (a name), up to `max` of them. */
export function minimalPaths(g: PrivilegeGraph, r: ReachResult, node: string, max: number): { paths: PrivilegeEdge[][]; truncated: boolean } {
  const paths: PrivilegeEdge[][] = [];
  let truncated = false;
  const id = node === POLICY_NODE ? POLICY : g.index(node);
  const depth = r.distance.get(node);
  if (id === undefined || depth === undefined) return { paths, truncated };
  const walk = (at: number, k: number, suffix: PrivilegeEdge[]): void => {
    if (k === 0) {
      if (paths.length >= max) truncated = true;
      else paths.push(suffix);
      return;
    }
    for (const u of predecessors(g, r, at, k)) {
      for (const e of g.edgesBetween(u, at)) {
        walk(u, k - 1, [e, ...suffix]);
        if (truncated) return;
      }
    }
  };
  walk(id, depth, []);
  return { paths, truncated };
}

/** One minimal path's last hop into `node`: the first edge from its first predecessor. */
export function lastHop(g: PrivilegeGraph, r: ReachResult, node: string): PrivilegeEdge | undefined {
  const id = node === POLICY_NODE ? POLICY : g.index(node);
  const depth = r.distance.get(node);
  if (id === undefined || !depth) return undefined;
  const previous = r.layers[depth - 1] ?? [];
  for (const u of previous) {
    if (r.stopped.has(u) || !(id === POLICY ? g.successors(u).policy : g.successors(u).nodes.has(id))) continue;
    for (const e of g.edgesBetween(u, id)) return e;
  }
  return undefined;
}
