// cross-target-flow — data cannot flow from one domain to another through an introspector:
// it would need to read the first (maps, registers, events) and write the second. Between
// two declared targets of the same introspector, using only what its capabilities need,
// the flow is declared (a warning: the introspector is trusted with both); any other flow
// is an error.

import type { Finding } from '../findings.js';
import { specLocation, typeIndex } from '../context.js';
import { accessKey, ownTypes } from '../intent.js';
import type { CheckRule } from './rule.js';
import { privilegeGraph } from './escalation.js';

export const crossTargetFlow: CheckRule = {
  id: 'cross-target-flow',
  summary: 'no data flows from one domain to another through an introspector',
  run(ctx) {
    const g = privilegeGraph(ctx);
    const findings: Finding[] = [];
    for (const s of ctx.intent.introspectors) {
      const subject = typeIndex(ctx.model, s.type);
      if (subject === undefined) continue;
      const own = new Set(ownTypes(s));
      const declared = new Set(s.targets.map((t) => t.type));
      const needed = ctx.intent.needed.get(s.type);
      const edges = g.flowEdges(subject).filter((e) => !own.has(e.to) && !ctx.intent.trusted.has(e.to));
      const reads = edges.filter((e) => e.direction === 'read');
      const writes = edges.filter((e) => e.direction === 'write');
      const pairs = new Map<string, { read: typeof reads; write: typeof writes }>();
      for (const r of reads) for (const w of writes) {
        if (r.to === w.to) continue;
        const key = `${r.to}\u0000${w.to}`;
        const p = pairs.get(key) ?? { read: [], write: [] };
        if (!p.read.includes(r)) p.read.push(r);
        if (!p.write.includes(w)) p.write.push(w);
        pairs.set(key, p);
      }
      for (const [key, p] of [...pairs].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const [from, to] = key.split('\u0000') as [string, string];
        const isNeeded = (e: (typeof edges)[number]): boolean => e.perms.every((perm) => needed?.has(accessKey(e.to, e.cls, perm)) ?? false);
        const declaredFlow = declared.has(from) && declared.has(to) && p.read.some(isNeeded) && p.write.some(isNeeded);
        const read = (declaredFlow ? p.read.find(isNeeded) : p.read[0]) as (typeof edges)[number];
        const write = (declaredFlow ? p.write.find(isNeeded) : p.write[0]) as (typeof edges)[number];
        const paths = p.read.slice(0, ctx.options.maxPaths).flatMap((r) => p.write.slice(0, 2).map((w) => [r, w]));
        findings.push({
          ruleId: 'cross-target-flow',
          severity: declaredFlow ? 'warning' : 'error',
          message: `data can flow from ${from} to ${to} through introspector "${s.name}": it reads ${from} (${read.cls}:${read.via}) and writes ${to} (${write.cls}:${write.via})`,
          subject: s.type,
          object: `${from} → ${to}`,
          perms: [...new Set([...read.perms, ...write.perms])].sort(),
          provenance: [specLocation(ctx, s.span), ...read.rules, ...write.rules],
          witness: { paths: paths.slice(0, ctx.options.maxPaths), truncated: paths.length > ctx.options.maxPaths },
          help: declaredFlow
            ? (s.guest === 'pv'
              ? 'declared: the introspector may write what it watches; give each tenant its own introspector to keep them apart'
              : 'Xen checks map_write for every foreign map by an HVM/PVH introspector; run it as PV to confine it to reading, or give each target its own introspector')
            : `remove the write (${write.rules[0]?.file}:${write.rules[0]?.line}) or the read (${read.rules[0]?.file}:${read.rules[0]?.line})`,
        });
      }
    }
    return findings;
  },
};
