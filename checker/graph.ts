// The privilege graph: domains (and the security policy itself) as nodes, control edges as
// labelled edges that keep the rules behind them (catalog §5). An edge A → B means A can
// come to act with B's rights: it can write B's memory or registers, answer B's vm_events,
// create a domain labelled B, relabel a domain into B, make a domain B's device model, or
// rewrite the policy. Edges are computed per node on demand, so a question about one
// introspector never expands the whole host. The explored part is kept in a graphlib Graph
// for rendering.

import { Graph } from '@dagrejs/graphlib';
import type { ModelAvRule, PolicyModel } from './model/model.js';
import type { Hop, Location } from './findings.js';
import { availability } from './booleans.js';
import { typeIndexOf } from './model/query.js';
import { derivedDomainOwners, domainTypes, grantingRules, objectsOf, permNames, permissiveLocations, ruleLocation, rulesFrom } from './effective.js';
import { isPermissive } from './model/access.js';
import { isControl, isPolicyControl, isRead, isWrite, RELABEL_PERMS } from './permissions.js';

/** The node that stands for the security policy: whoever reaches it can grant itself anything. */
export const POLICY_NODE = 'security policy';

export interface PrivilegeEdge extends Hop {
  readonly kind: 'control' | 'create' | 'relabel' | 'set_target' | 'policy';
}

export interface FlowEdge extends Hop {
  readonly direction: 'read' | 'write';
}

export class PrivilegeGraph {
  /** The explored part, for rendering: node label = { kind }, edge label = PrivilegeEdge. */
  readonly graph = new Graph({ directed: true, multigraph: true });
  private readonly edgesOf = new Map<number, PrivilegeEdge[]>();
  private readonly owner: ReadonlyMap<number, number>;

  constructor(readonly model: PolicyModel) {
    this.owner = derivedDomainOwners(model);
  }

  /** The domain a type stands for: T for T_self and T_target, the type itself otherwise. */
  ownerOf(type: number): number {
    return this.owner.get(type) ?? type;
  }

  index(name: string): number | undefined {
    return typeIndexOf(this.model, name);
  }

  name(type: number): string {
    return this.model.types[type] as string;
  }

  /** Control edges out of a domain type, merged per (target, via, rule). */
  controlEdges(from: number): readonly PrivilegeEdge[] {
    let edges = this.edgesOf.get(from);
    if (edges) return edges;
    edges = [...directControl(this, from), ...combinedControl(this, from)];
    edges.sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : a.via < b.via ? -1 : a.via > b.via ? 1 : 0));
    this.edgesOf.set(from, edges);
    for (const e of edges) {
      if (!this.graph.hasNode(e.from)) this.graph.setNode(e.from, {});
      if (!this.graph.hasNode(e.to)) this.graph.setNode(e.to, {});
      const r = e.rules[0];
      this.graph.setEdge(e.from, e.to, e, `${e.via}@${r ? `${r.file}:${r.line}` : ''}`);
    }
    return edges;
  }

  /** Data flow edges of one subject over domains: what it reads from and writes into. */
  flowEdges(from: number): FlowEdge[] {
    const out: FlowEdge[] = [];
    for (const rule of liveRules(this.model, from)) {
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

function liveRules(model: PolicyModel, from: number): ModelAvRule[] {
  return rulesFrom(model, from).filter((r) => !availability(model, [r.guard]).never);
}

/** The domains a rule's objects stand for, other than the subject itself. */
function domainObjects(g: PrivilegeGraph, rule: ModelAvRule, from: number): number[] {
  const domains = domainTypes(g.model);
  const out = new Set<number>();
  for (const o of objectsOf(rule, from)) {
    const owner = g.ownerOf(o);
    if (owner !== from && domains.has(owner)) out.add(owner);
  }
  return [...out];
}

/**
 * A permissive domain is refused nothing (checker/model/access.ts requestAllowed), so it
 * holds the security server's policy-changing permissions too: it reaches the policy,
 * through its `permissive` statement rather than an allow rule.
 */
function unconfinedEdge(g: PrivilegeGraph, from: number): PrivilegeEdge | undefined {
  if (!isPermissive(g.model, from)) return undefined;
  const ci = g.model.classIndex.get('security');
  const info = ci === undefined ? undefined : g.model.classes[ci];
  const perms = info ? info.perms.filter((p) => isPolicyControl(info.name, p)) : [];
  return { kind: 'policy', from: g.name(from), to: POLICY_NODE, via: 'permissive: no denial enforced', cls: 'security', perms, rules: permissiveLocations(g.model, from) };
}

function directControl(g: PrivilegeGraph, from: number): PrivilegeEdge[] {
  const out: PrivilegeEdge[] = [];
  const unconfined = unconfinedEdge(g, from);
  if (unconfined) out.push(unconfined);
  for (const rule of liveRules(g.model, from)) {
    const at = ruleLocation(g.model, rule);
    for (const [ci] of rule.perms) {
      const cls = g.model.classes[ci]?.name as string;
      const perms = permNames(g.model, rule, ci);
      const policy = perms.filter((p) => isPolicyControl(cls, p));
      if (policy.length) out.push({ kind: 'policy', from: g.name(from), to: POLICY_NODE, via: `${cls}:${policy.join(' ')}`, cls, perms: policy, rules: [at] });
      const control = perms.filter((p) => isControl(cls, p));
      const create = cls === 'domain' && perms.includes('create');
      if (!control.length && !create) continue;
      for (const o of domainObjects(g, rule, from)) {
        if (control.length) out.push({ kind: 'control', from: g.name(from), to: g.name(o), via: `${cls}:${control.join(' ')}`, cls, perms: control, rules: [at] });
        if (create) out.push({ kind: 'create', from: g.name(from), to: g.name(o), via: 'domain:create', cls, perms: ['create'], rules: [at] });
      }
    }
  }
  return out;
}

/** Whether `s` holds cls:perm on `o`, with the rules (unconditional or possibly on). */
function holds(g: PrivilegeGraph, s: number, o: number, cls: string, perm: string): Location[] | undefined {
  const c = g.model.classIndex.get(cls);
  const p = c === undefined ? undefined : g.model.classes[c]?.permIndex.get(perm);
  if (c === undefined || p === undefined) return undefined;
  const rules = grantingRules(g.model, s, o, c, p).filter((r) => !availability(g.model, [r.guard]).never);
  return rules.length ? rules.map((r) => ruleLocation(g.model, r)) : undefined;
}

/** Types a subject holds `cls:perm` on, through any live rule. */
function objectsWith(g: PrivilegeGraph, s: number, cls: string, perm: string): number[] {
  const c = g.model.classIndex.get(cls);
  const p = c === undefined ? undefined : g.model.classes[c]?.permIndex.get(perm);
  if (c === undefined || p === undefined) return [];
  const out = new Set<number>();
  for (const rule of liveRules(g.model, s)) if (rule.perms.get(c)?.has(p)) for (const o of objectsOf(rule, s)) out.add(o);
  return [...out];
}

/**
 * Edges that need several permissions together (flask_op.c flask_relabel_domain, hooks.c
 * flask_set_target): relabelling itself, relabelling a domain it controls, and making a
 * domain it controls the device model of another.
 */
function combinedControl(g: PrivilegeGraph, from: number): PrivilegeEdge[] {
  const out: PrivilegeEdge[] = [];
  const name = g.name(from);
  const controlled = new Set([from, ...directControl(g, from).filter((e) => e.kind === 'control').map((e) => g.index(e.to) as number)]);
  // relabelself: avc_has_perm(d, new, domain2:relabelself) and (d, new, domain:transition).
  for (const y of objectsWith(g, from, 'domain2', RELABEL_PERMS.self)) {
    if (y === from) continue;
    const self = holds(g, from, y, 'domain2', RELABEL_PERMS.self);
    const transition = holds(g, from, y, 'domain', RELABEL_PERMS.transition);
    if (self && transition) out.push({ kind: 'relabel', from: name, to: g.name(g.ownerOf(y)), via: 'domain2:relabelself + domain:transition', cls: 'domain2', perms: [RELABEL_PERMS.self, RELABEL_PERMS.transition], rules: [...self, ...transition] });
  }
  // relabel another domain d it controls: (cur, d, relabelfrom), (cur, new, relabelto), (d, new, transition).
  const relabelTo = objectsWith(g, from, 'domain2', RELABEL_PERMS.to);
  if (relabelTo.length) {
    for (const d of controlled) {
      const relabelFrom = holds(g, from, d, 'domain2', RELABEL_PERMS.from);
      if (!relabelFrom) continue;
      for (const y of relabelTo) {
        const to = holds(g, from, y, 'domain2', RELABEL_PERMS.to);
        const transition = holds(g, d, y, 'domain', RELABEL_PERMS.transition);
        if (to && transition && g.ownerOf(y) !== from) {
          out.push({ kind: 'relabel', from: name, to: g.name(g.ownerOf(y)), via: `relabel ${g.name(d)} → ${g.name(y)}`, cls: 'domain2', perms: [RELABEL_PERMS.from, RELABEL_PERMS.to, RELABEL_PERMS.transition], rules: [...relabelFrom, ...to, ...transition] });
        }
      }
    }
  }
  // set_target: (cur, dm, make_priv_for), (cur, t, set_as_target), (dm, t, domain:set_target).
  const asTarget = objectsWith(g, from, 'domain2', 'set_as_target');
  if (asTarget.length) {
    for (const dm of controlled) {
      const priv = holds(g, from, dm, 'domain2', 'make_priv_for');
      if (!priv) continue;
      for (const t of asTarget) {
        const set = holds(g, from, t, 'domain2', 'set_as_target');
        const link = holds(g, dm, t, 'domain', 'set_target');
        if (set && link && g.ownerOf(t) !== from) {
          out.push({ kind: 'set_target', from: name, to: g.name(g.ownerOf(t)), via: `make ${g.name(dm)} the device model of ${g.name(t)}`, cls: 'domain2', perms: ['make_priv_for', 'set_as_target', 'set_target'], rules: [...priv, ...set, ...link] });
        }
      }
    }
  }
  return out;
}

export interface ReachResult {
  /** node → shortest distance from the start. */
  readonly distance: ReadonlyMap<string, number>;
  /** node → the edges into it from the previous layer (every minimal path uses one of them). */
  readonly into: ReadonlyMap<string, readonly PrivilegeEdge[]>;
}

/**
 * Breadth-first over control edges, keeping every edge that lies on a shortest path. Nodes
 * in `stop` (the trusted host domains, the policy) are reached but not expanded: reaching
 * dom0 is the finding, and everything dom0 can do would only repeat it.
 */
export function reach(g: PrivilegeGraph, start: number, maxDepth: number, stop: ReadonlySet<string> = new Set()): ReachResult {
  const startName = g.name(start);
  const distance = new Map<string, number>([[startName, 0]]);
  const into = new Map<string, PrivilegeEdge[]>();
  let frontier = [start];
  for (let depth = 1; depth <= maxDepth && frontier.length; depth++) {
    const next: number[] = [];
    for (const n of frontier) {
      for (const e of g.controlEdges(n)) {
        const seen = distance.get(e.to);
        if (seen === undefined) {
          distance.set(e.to, depth);
          into.set(e.to, [e]);
          const idx = g.index(e.to);
          if (idx !== undefined && !stop.has(e.to)) next.push(idx);
        } else if (seen === depth) {
          into.get(e.to)?.push(e);
        }
      }
    }
    frontier = next;
  }
  return { distance, into };
}

/** Every minimal path from the start to `node`, up to `max` of them. */
export function minimalPaths(r: ReachResult, node: string, max: number): { paths: PrivilegeEdge[][]; truncated: boolean } {
  const paths: PrivilegeEdge[][] = [];
  let truncated = false;
  const walk = (at: string, suffix: PrivilegeEdge[]): void => {
    if (paths.length >= max) {
      truncated = true;
      return;
    }
    const edges = r.into.get(at);
    if (!edges) {
      paths.push(suffix);
      return;
    }
    for (const e of edges) {
      walk(e.from, [e, ...suffix]);
      if (truncated) return;
    }
  };
  walk(node, []);
  return { paths, truncated };
}
