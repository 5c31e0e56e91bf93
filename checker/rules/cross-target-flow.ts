// cross-target-flow — data cannot flow from one domain to another through an introspector:
// it would need to read the first (maps, registers, events) and write the second. Between
// declared targets of the same introspector, using only what its capabilities need, the flow
// is declared: one warning per introspector (it is trusted with all of them). Any other
// flow — through an undeclared domain or an unneeded permission — is an error per pair.

import type { Finding } from '../findings.js';
import type { CheckContext } from '../context.js';
import { specLocation } from '../context.js';
import type { FlowEdge } from '../graph.js';
import { typeIndexOf } from '../model/query.js';
import { accessKey, ownTypes, type IntrospectorIntent } from '../intent.js';
import type { CheckRule } from './rule.js';
import { privilegeGraph } from './escalation.js';

export const crossTargetFlow: CheckRule = {
  id: 'cross-target-flow',
  summary: 'no data flows from one domain to another through an introspector',
  run(ctx) {
    const g = privilegeGraph(ctx);
    const findings: Finding[] = [];
    for (const s of ctx.intent.introspectors) {
      const subject = typeIndexOf(ctx.model, s.type);
      if (subject === undefined) continue;
      const own = new Set(ownTypes(s));
      const declared = new Set(s.targets.map((t) => t.type));
      const needed = ctx.intent.needed.get(s.type);
      const isNeeded = (e: FlowEdge): boolean => e.perms.every((perm) => needed?.has(accessKey(e.to, e.cls, perm)) ?? false);
      const edges = g.flowEdges(subject).filter((e) => !own.has(e.to) && !ctx.intent.trusted.has(e.to));
      // Decided once per edge: the pair loop below only visits domains with an undeclared side.
      const declaredEdges = new Set(edges.filter((e) => declared.has(e.to) && isNeeded(e)));
      const isDeclared = (e: FlowEdge): boolean => declaredEdges.has(e);
      const reads = edges.filter((e) => e.direction === 'read');
      const writes = edges.filter((e) => e.direction === 'write');
      const declaredReads = byDomain(reads.filter(isDeclared));
      const declaredWrites = byDomain(writes.filter(isDeclared));
      const declaredPairs = [...declaredReads.keys()].some((a) => [...declaredWrites.keys()].some((b) => a !== b));
      if (declaredPairs) findings.push(declaredFlow(ctx, s, declaredReads, declaredWrites));
      // Every other pair: at least one side undeclared or unneeded.
      const allReads = byDomain(reads);
      const allWrites = byDomain(writes);
      const undeclaredFrom = new Set([...allReads].filter(([, rs]) => rs.some((e) => !isDeclared(e))).map(([d]) => d));
      const undeclaredTo = new Set([...allWrites].filter(([, ws]) => ws.some((e) => !isDeclared(e))).map(([d]) => d));
      const pairs = new Set<string>();
      for (const from of undeclaredFrom) for (const to of allWrites.keys()) pairs.add(`${from}\u0000${to}`);
      for (const to of undeclaredTo) for (const from of allReads.keys()) pairs.add(`${from}\u0000${to}`);
      for (const pair of [...pairs].sort()) {
        const [from, to] = pair.split('\u0000') as [string, string];
        if (from === to) continue;
        const rs = allReads.get(from) ?? [];
        const ws = allWrites.get(to) ?? [];
        const read = rs.find((e) => !isDeclared(e)) ?? rs[0];
        const write = ws.find((e) => !isDeclared(e)) ?? ws[0];
        if (!read || !write) continue;
        findings.push({
          ruleId: 'cross-target-flow',
          severity: 'error',
          message: `data can flow from ${from} to ${to} through introspector "${s.name}": it reads ${from} (${read.cls}:${read.via}) and writes ${to} (${write.cls}:${write.via})`,
          subject: s.type,
          object: `${from} → ${to}`,
          perms: [...new Set([...read.perms, ...write.perms])].sort(),
          provenance: [specLocation(ctx, s.span), ...read.rules, ...write.rules],
          witness: { paths: [[read, write]], truncated: rs.length * ws.length > 1 },
          help: `remove the write (${write.rules[0]?.file}:${write.rules[0]?.line}) or the read (${read.rules[0]?.file}:${read.rules[0]?.line})`,
        });
      }
    }
    return findings;
  },
};

function byDomain(edges: readonly FlowEdge[]): Map<string, FlowEdge[]> {
  const out = new Map<string, FlowEdge[]>();
  for (const e of [...edges].sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0))) out.set(e.to, [...(out.get(e.to) ?? []), e]);
  return out;
}

function declaredFlow(ctx: CheckContext, s: IntrospectorIntent, reads: Map<string, FlowEdge[]>, writes: Map<string, FlowEdge[]>): Finding {
  const first = <T>(m: Map<string, T[]>): T => [...m.values()][0]?.[0] as T;
  const read = first(reads);
  const write = [...writes.values()].flat().find((w) => w.to !== read.to) ?? first(writes);
  const domains = [...new Set([...reads.keys(), ...writes.keys()])].sort();
  return {
    ruleId: 'cross-target-flow',
    severity: 'warning',
    message: `data can flow between the ${domains.length} targets of introspector "${s.name}" (${domains.length <= 4 ? domains.join(', ') : `${domains.slice(0, 3).join(', ')}, …`}): it reads ${reads.size} and writes ${writes.size} of them with its declared capabilities`,
    subject: s.type,
    object: domains.join(', '),
    objects: domains,
    perms: [...new Set([...read.perms, ...write.perms])].sort(),
    provenance: [specLocation(ctx, s.span), ...read.rules, ...write.rules],
    witness: { paths: [[read, write]], truncated: reads.size * writes.size > 1 },
    help: s.guest === 'pv'
      ? 'declared: the introspector may write what it watches; give each tenant its own introspector to keep them apart'
      : 'Xen checks map_write for every foreign map by an HVM/PVH introspector; run it as PV to confine it to reading, or give each target its own introspector',
  };
}
