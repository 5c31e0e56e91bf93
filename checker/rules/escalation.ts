// escalation — no chain of control edges (catalog §5) lets a declared domain reach rights
// beyond its declaration: an introspector may come to act as its declared targets, a target
// as nothing but itself. Every finding lists all minimal witness paths (up to the bound),
// each hop with its permission and the rule behind it.

import { compareCodePoints } from '../../grammar/compare.js';
import type { Finding } from '../findings.js';
import { specLocation } from '../context.js';
import { typeIndexOf } from '../model/query.js';
import { minimalPaths, POLICY_NODE, PrivilegeGraph, reach } from '../graph.js';
import { ownTypes } from '../intent.js';
import type { CheckContext } from '../context.js';
import type { CheckRule } from './rule.js';

const graphs = new WeakMap<CheckContext, PrivilegeGraph>();

/** One graph per check, shared by the rules and the renderers. */
export function privilegeGraph(ctx: CheckContext): PrivilegeGraph {
  let g = graphs.get(ctx);
  if (!g) graphs.set(ctx, (g = new PrivilegeGraph(ctx.model)));
  return g;
}

export const escalation: CheckRule = {
  id: 'escalation',
  summary: 'no chain of control edges takes a declared domain beyond its declaration',
  run(ctx) {
    const g = privilegeGraph(ctx);
    const findings: Finding[] = [];
    for (const d of ctx.intent.domains) {
      const start = typeIndexOf(ctx.model, d.type);
      if (start === undefined) continue;
      const introspector = ctx.intent.introspectors.find((i) => i.name === d.name);
      const allowed = new Set([...ownTypes(d), ...(introspector?.targets.flatMap((t) => ownTypes(t)) ?? [])]);
      const r = reach(g, start, ctx.options.maxDepth, ctx.intent.trusted);
      for (const [node, distance] of [...r.distance].sort(([a], [b]) => compareCodePoints(a, b))) {
        if (distance === 0 || allowed.has(node)) continue;
        const { paths, truncated } = minimalPaths(r, node, ctx.options.maxPaths);
        const first = paths[0] ?? [];
        const what = node === POLICY_NODE ? 'the security policy itself (it can grant itself anything)' : `the rights of ${node}`;
        findings.push({
          ruleId: 'escalation',
          severity: 'error',
          message: `${d.type} (${d.role} "${d.name}") can reach ${what} in ${distance} step${distance === 1 ? '' : 's'}: ${first.map((h) => `${h.from} —${h.via}→ ${h.to}`).join(', ')}${paths.length > 1 ? ` (and ${paths.length - 1}${truncated ? '+' : ''} more minimal path${paths.length > 2 ? 's' : ''})` : ''}`,
          subject: d.type,
          object: node,
          perms: [...new Set(first.flatMap((h) => h.perms))].sort(),
          provenance: [specLocation(ctx, d.span), ...first.flatMap((h) => h.rules)],
          witness: { paths, truncated },
          help: `break the chain: remove one hop's rule (the first is at ${first[0]?.rules[0] ? `${first[0].rules[0].file}:${first[0].rules[0].line}` : '?'})`,
        });
      }
    }
    return findings;
  },
};
