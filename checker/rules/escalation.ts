// escalation — no chain of control edges (checker/permissions.ts) lets a declared domain
// reach rights beyond its declaration: an introspector may come to act as its declared
// targets, a target as nothing but itself. Nodes reached at the same distance through the
// same last hop (the same rules: one attribute-wide rule reaches hundreds of domains at once)
// are one finding, with their count, every node listed, and the minimal witness paths of the
// first few (up to the bound), each hop with its permission and the rule behind it.

import { compareCodePoints } from '../../core/compare.js';
import type { Finding, Location } from '../findings.js';
import { describeTypes, specLocation } from '../context.js';
import { typeIndexOf } from '../../policy/model/query.js';
import { pseudoDomains } from '../effective.js';
import { lastHop, minimalPaths, POLICY_NODE, PrivilegeGraph, reach, type PrivilegeEdge, type ReachResult } from '../graph.js';
import { ownTypes, type DomainIntent } from '../intent.js';
import type { CheckContext } from '../context.js';
import type { CheckRule } from './rule.js';
import { findingText } from '../messages.js';

const graphs = new WeakMap<CheckContext, PrivilegeGraph>();

/** One graph per check, shared by the rules and the renderers. */
export function privilegeGraph(ctx: CheckContext): PrivilegeGraph {
  let g = graphs.get(ctx);
  if (!g) graphs.set(ctx, (g = new PrivilegeGraph(ctx.model)));
  return g;
}

/** How many nodes of a group have their witness paths listed. */
const EXAMPLES = 3;

const at = (l: Location | undefined): string => (l ? `${l.file}:${l.line}:${l.column}` : '?');

/** Nodes grouped by distance and by the rules of their (first) last hop; pseudo-domains apart. */
function groupKey(g: PrivilegeGraph, r: ReachResult, node: string, distance: number): string {
  const id = g.index(node);
  if (id !== undefined && pseudoDomains(g.model).has(id)) return `${distance}\u0000pseudo\u0000${node}`;
  const hop = lastHop(g, r, node);
  return `${distance}\u0000${hop?.kind}\u0000${hop?.cls}:${hop?.perms.join(' ')}\u0000${hop?.rules.map(at).join(' ')}`;
}

export const escalation: CheckRule = {
  id: 'escalation',
  summary: 'no chain of control edges takes a declared domain beyond its declaration',
  remedy: 'Break the chain: remove one hop\'s rule (each hop names its rule), or give the domain a type the chain does not reach.',
  securitySeverity: 9.0,
  run(ctx) {
    const g = privilegeGraph(ctx);
    const findings: Finding[] = [];
    const introspectorNamed = new Map(ctx.intent.introspectors.map((i) => [i.name, i]));
    for (const d of ctx.intent.domains) {
      const start = typeIndexOf(ctx.model, d.type);
      if (start === undefined) continue;
      const introspector = introspectorNamed.get(d.name);
      const allowed = new Set([...ownTypes(d), ...(introspector?.targets.flatMap((t) => ownTypes(t)) ?? [])]);
      const r = reach(g, start, ctx.options.maxDepth, ctx.intent.trusted);
      const groups = new Map<string, { distance: number; nodes: string[] }>();
      for (const [node, distance] of [...r.distance].sort(([a], [b]) => compareCodePoints(a, b))) {
        if (distance === 0 || allowed.has(node)) continue;
        const key = groupKey(g, r, node, distance);
        const group = groups.get(key);
        if (group) group.nodes.push(node);
        else groups.set(key, { distance, nodes: [node] });
      }
      for (const { distance, nodes } of groups.values()) findings.push(escalationFinding(ctx, g, r, d, distance, nodes));
    }
    return findings;
  },
};

/** What reaching a node means, for the message. */
function reachedWhat(ctx: CheckContext, g: PrivilegeGraph, nodes: readonly string[]): string {
  if (nodes.length === 1 && nodes[0] === POLICY_NODE) return 'the security policy itself (it can grant itself anything)';
  const ids = nodes.map((n) => g.index(n) as number);
  const pseudo = nodes.length === 1 ? pseudoDomains(ctx.model).get(ids[0] as number) : undefined;
  // A pseudo-domain has no rights to take over; the control permission over it is power over what it owns.
  if (pseudo) return `${pseudo.owns} (${nodes[0]}, the label of ${pseudo.domid}; it holds no rights, but a control permission over it writes what it owns)`;
  return `the rights of ${describeTypes(ctx.model, ids)}`;
}

function escalationFinding(ctx: CheckContext, g: PrivilegeGraph, r: ReachResult, d: DomainIntent, distance: number, nodes: readonly string[]): Finding {
  const examples = nodes.slice(0, EXAMPLES);
  const perExample = Math.max(1, Math.floor(ctx.options.maxPaths / examples.length));
  const paths: PrivilegeEdge[][] = [];
  let truncated = nodes.length > examples.length;
  for (const node of examples) {
    const found = minimalPaths(g, r, node, perExample);
    paths.push(...found.paths);
    truncated ||= found.truncated;
  }
  const first = paths[0] ?? [];
  const steps = `${distance} step${distance === 1 ? '' : 's'}`;
  const path = first.map((h) => `${h.from} —${h.via}→ ${h.to}`).join(', ');
  const more = paths.length > 1 ? ` (and ${paths.length - 1}${truncated ? '+' : ''} more minimal path${paths.length > 2 ? 's' : ''})` : '';
  const hopRules = [...new Map(first.flatMap((h) => h.rules).map((l) => [at(l), l])).values()];
  return {
    ruleId: 'escalation',
    severity: 'error',
    message: findingText('Escalation', [d.type, d.role, d.name, reachedWhat(ctx, g, nodes), steps, path, more]),
    subject: d.type,
    object: nodes.length === 1 ? (nodes[0] as string) : describeTypes(ctx.model, nodes.map((n) => g.index(n) as number)),
    perms: [...new Set(first.flatMap((h) => h.perms))].sort(compareCodePoints),
    ...(nodes.length > 1 ? { objects: nodes, count: nodes.length, examples } : {}),
    provenance: [specLocation(ctx, d.span), ...hopRules],
    witness: { paths, truncated },
    help: findingText('EscalationBreak', [first[0]?.rules[0]]),
  };
}
