// cross-target-flow — data cannot flow from one domain to another through an introspector:
// it would need to read the first (maps, registers, events) and write the second. Between
// declared targets of the same introspector, using only what its capabilities need, the flow
// is declared: one warning per introspector (it is trusted with all of them). Any other
// flow — through an undeclared domain or an unneeded permission — is an error, one per pair
// of granting rules (read side, write side), with the number of domain pairs it joins and
// the first few spelled out: an attribute-wide read and write over 600 domains is one
// finding of 359 400 pairs, not 359 400 findings.

import { compareCodePoints } from '../../core/compare.js';
import type { Finding } from '../findings.js';
import type { CheckContext } from '../context.js';
import { specLocation } from '../context.js';
import type { FlowEdge } from '../graph.js';
import { typeIndexOf } from '../../policy/model/query.js';
import { accessKey, ownTypes, type IntrospectorIntent } from '../intent.js';
import type { CheckRule } from './rule.js';
import { findingText } from '../messages.js';
import { privilegeGraph } from './escalation.js';

export const crossTargetFlow: CheckRule = {
  id: 'cross-target-flow',
  summary: 'no data flows from one domain to another through an introspector',
  remedy: 'Remove the write or the read that joins the two domains (the result names both rules), or split the introspector into one per target.',
  securitySeverity: 7.0,
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
      // Decided once per edge: the classes below are made of whole edges.
      const declaredEdges = new Set(edges.filter((e) => declared.has(e.to) && isNeeded(e)));
      const isDeclared = (e: FlowEdge): boolean => declaredEdges.has(e);
      const reads = edges.filter((e) => e.direction === 'read');
      const writes = edges.filter((e) => e.direction === 'write');
      const declaredReads = byDomain(reads.filter(isDeclared));
      const declaredWrites = byDomain(writes.filter(isDeclared));
      const declaredPairs = [...declaredReads.keys()].some((a) => [...declaredWrites.keys()].some((b) => a !== b));
      if (declaredPairs) findings.push(declaredFlow(ctx, s, declaredReads, declaredWrites));
      // Every other pair: at least one side undeclared or unneeded. A domain's side of a pair
      // is the edge it is read (or written) through, an undeclared one first; domains whose
      // edge comes from the same rule form one class, and each (read class, write class)
      // is one finding over their product — never a finding, nor a string, per pair.
      const readClasses = edgeClasses(byDomain(reads), isDeclared);
      const writeClasses = edgeClasses(byDomain(writes), isDeclared);
      for (const r of readClasses) {
        for (const w of writeClasses) {
          if (r.declared && w.declared) continue;
          const f = flowFinding(ctx, s, r, w);
          if (f) findings.push(f);
        }
      }
    }
    return findings;
  },
};

function byDomain(edges: readonly FlowEdge[]): Map<string, FlowEdge[]> {
  const out = new Map<string, FlowEdge[]>();
  for (const e of [...edges].sort((a, b) => compareCodePoints(a.to, b.to))) {
    const list = out.get(e.to);
    if (list) list.push(e);
    else out.set(e.to, [e]);
  }
  return out;
}

/** Domains read (or written) through the same edge of the same rule, and whether that edge is declared. */
interface EdgeClass {
  readonly declared: boolean;
  /** Sorted by code point; each with the edge a pair through it uses, and how many edges it has. */
  readonly domains: readonly string[];
  readonly edge: ReadonlyMap<string, { readonly chosen: FlowEdge; readonly alternatives: number }>;
}

const place = (l: { file: string; line: number; column: number }): string => `${l.file}:${l.line}:${l.column}`;

function edgeClasses(byDomainEdges: ReadonlyMap<string, readonly FlowEdge[]>, isDeclared: (e: FlowEdge) => boolean): EdgeClass[] {
  const classes = new Map<string, { declared: boolean; domains: string[]; edge: Map<string, { chosen: FlowEdge; alternatives: number }> }>();
  for (const [domain, edges] of byDomainEdges) {
    const chosen = edges.find((e) => !isDeclared(e)) ?? (edges[0] as FlowEdge);
    const key = `${chosen.cls}\u0000${chosen.via}\u0000${chosen.rules.map(place).join(' ')}`;
    let c = classes.get(key);
    if (!c) classes.set(key, (c = { declared: isDeclared(chosen), domains: [], edge: new Map() }));
    c.domains.push(domain);
    c.edge.set(domain, { chosen, alternatives: edges.length });
  }
  return [...classes.values()];
}

/** The ordered pairs (from ≠ to) of reads × writes: how many, and the first few in code-point order. */
function pairs(froms: readonly string[], tos: readonly string[], first: number): { count: number; examples: [string, string][] } {
  const toSet = new Set(tos);
  const count = froms.length * tos.length - froms.filter((f) => toSet.has(f)).length;
  const examples: [string, string][] = [];
  for (const from of froms) {
    for (const to of tos) {
      if (examples.length >= first) break;
      if (from !== to) examples.push([from, to]);
    }
    if (examples.length >= first) break;
  }
  return { count, examples };
}

/** How many pairs a flow finding spells out. */
const EXAMPLES = 3;

function flowFinding(ctx: CheckContext, s: IntrospectorIntent, r: EdgeClass, w: EdgeClass): Finding | undefined {
  const { count, examples } = pairs(r.domains, w.domains, EXAMPLES);
  const [from, to] = examples[0] ?? [];
  if (from === undefined || to === undefined) return undefined;
  const read = r.edge.get(from)?.chosen as FlowEdge;
  const write = w.edge.get(to)?.chosen as FlowEdge;
  const paths = examples.map(([a, b]) => [r.edge.get(a)?.chosen as FlowEdge, w.edge.get(b)?.chosen as FlowEdge]);
  const more = examples.some(([a, b]) => (r.edge.get(a)?.alternatives ?? 1) * (w.edge.get(b)?.alternatives ?? 1) > 1);
  const common = {
    ruleId: 'cross-target-flow' as const,
    severity: 'error' as const,
    subject: s.type,
    perms: [...new Set([...read.perms, ...write.perms])].sort(compareCodePoints),
    provenance: [specLocation(ctx, s.span), ...read.rules, ...write.rules],
    witness: { paths, truncated: more || count > examples.length },
    help: findingText('FlowRemove', [write.rules[0], read.rules[0]]),
  };
  if (count === 1) {
    return {
      ...common,
      message: findingText('Flow', [from, to, s.name, read.cls, read.via, write.cls, write.via]),
      object: `${from} → ${to}`,
    };
  }
  const sources = describeNames(r.domains);
  const sinks = describeNames(w.domains);
  const spelled = examples.map(([a, b]) => `${a} → ${b}`);
  return {
    ...common,
    message: findingText('FlowPairs', [sources, sinks, s.name, count, spelled.join(', '), read.cls, read.via, write.cls, write.via]),
    object: `${sources} → ${sinks}`,
    objects: [...new Set([...r.domains, ...w.domains])].sort(compareCodePoints),
    count,
    examples: spelled,
  };
}

/** Names for a message: all of them when few, else a count and the first three. */
function describeNames(names: readonly string[]): string {
  return names.length <= 4 ? names.join(', ') : `${names.length} domains (${names.slice(0, 3).join(', ')}, …)`;
}

function declaredFlow(ctx: CheckContext, s: IntrospectorIntent, reads: Map<string, FlowEdge[]>, writes: Map<string, FlowEdge[]>): Finding {
  const first = <T>(m: Map<string, T[]>): T => [...m.values()][0]?.[0] as T;
  const read = first(reads);
  const write = [...writes.values()].flat().find((w) => w.to !== read.to) ?? first(writes);
  const domains = [...new Set([...reads.keys(), ...writes.keys()])].sort(compareCodePoints);
  return {
    ruleId: 'cross-target-flow',
    severity: 'warning',
    message: findingText('FlowDeclared', [domains.length, s.name, domains.length <= 4 ? domains.join(', ') : `${domains.slice(0, 3).join(', ')}, …`, reads.size, writes.size]),
    subject: s.type,
    object: domains.join(', '),
    objects: domains,
    perms: [...new Set([...read.perms, ...write.perms])].sort(compareCodePoints),
    provenance: [specLocation(ctx, s.span), ...read.rules, ...write.rules],
    witness: { paths: [[read, write]], truncated: reads.size * writes.size > 1 },
    help: findingText(s.guest === 'pv' ? 'FlowDeclaredPv' : 'FlowDeclaredHvm'),
  };
}
