// The privilege graph as Graphviz dot: introspectors, targets, trusted host domains and the
// policy as differently drawn nodes; the declared domains' control edges (a few per node
// they reach) and every hop of an escalation's witness paths; declared
// introspection dashed; every edge on a finding's witness path drawn red. People would rather
// look than read.

import type { CheckReport } from '../../checker/check.js';
import { POLICY_NODE } from '../../checker/graph.js';
import type { Hop } from '../../checker/findings.js';

/** A DOT string: quotes and backslashes escaped, line breaks as DOT's own \n. */
const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

export function reportDot(report: CheckReport): string {
  const { graph, context } = report;
  const intent = context.intent;
  // Every declared domain's edges (a few per node it reaches), even with no finding.
  const explored: Hop[] = intent.domains.flatMap((d) => {
    const i = graph.index(d.type);
    return i === undefined ? [] : graph.controlEdges(i, 4, MAX_EXPLORED_EDGES);
  });
  const offending = new Set<string>();
  for (const f of report.findings) for (const path of f.witness?.paths ?? []) for (const h of path) offending.add(`${h.from}\u0000${h.to}\u0000${h.via}`);

  const roleOf = new Map<string, string>();
  for (const d of intent.domains) roleOf.set(d.type, roleOf.has(d.type) && roleOf.get(d.type) !== d.role ? 'shared' : d.role);
  const namesOf = new Map<string, string[]>();
  for (const d of intent.domains) namesOf.set(d.type, [...(namesOf.get(d.type) ?? []), d.name]);

  const nodes = new Set<string>([...intent.domains.map((d) => d.type)]);
  const witnessHops = report.findings.flatMap((f) => f.ruleId === 'escalation' ? (f.witness?.paths.flat() ?? []) : []);
  const edges = [...explored, ...witnessHops].filter((e) => nodes.has(e.from) || offending.has(`${e.from}\u0000${e.to}\u0000${e.via}`));
  for (const e of edges) {
    nodes.add(e.from);
    nodes.add(e.to);
  }
  const lines = [
    `digraph vmipolicy {`,
    `  label=${quote(`${report.proven ? 'PROVEN' : 'NOT PROVEN'}: ${report.spec} against ${report.policy}`)};`,
    '  labelloc=t; rankdir=LR; node [fontname="Helvetica"]; edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const n of [...nodes].sort()) {
    const role = roleOf.get(n);
    const names = namesOf.get(n);
    const text = names ? `${n}\n${names.join(', ')}` : n;
    const style = n === POLICY_NODE
      ? 'shape=octagon, style=filled, fillcolor="#f4cccc"'
      : role === 'introspector' ? 'shape=box, style="filled,bold", fillcolor="#cfe2f3"'
      : role === 'target' ? 'shape=ellipse, style=filled, fillcolor="#d9ead3"'
      : role === 'shared' ? 'shape=doubleoctagon, style=filled, fillcolor="#f4cccc"'
      : intent.trusted.has(n) ? 'shape=box, style=filled, fillcolor="#eeeeee"'
      : 'shape=ellipse';
    lines.push(`  ${quote(n)} [label=${quote(text)}, ${style}];`);
  }
  const seen = new Set<string>();
  for (const e of edges.sort((a, b) => (`${a.from} ${a.to} ${a.via}` < `${b.from} ${b.to} ${b.via}` ? -1 : 1))) {
    const key = `${e.from}\u0000${e.to}\u0000${e.via}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const bad = offending.has(key);
    const declared = intent.introspectors.some((s) => s.type === e.from && s.targets.some((t) => t.type === e.to));
    const attrs = [`label=${quote(e.via)}`, ...(bad ? ['color=red', 'penwidth=2.5', 'fontcolor=red'] : declared ? ['style=dashed', 'color="#3d85c6"'] : ['color="#999999"'])];
    lines.push(`  ${quote(e.from)} -> ${quote(e.to)} [${attrs.join(', ')}];`);
  }
  for (const e of findingEdges(report)) {
    for (const n of [e.from, e.to]) if (!nodes.has(n)) { nodes.add(n); lines.splice(3, 0, `  ${quote(n)} [label=${quote(n)}, shape=ellipse];`); }
    lines.push(`  ${quote(e.from)} -> ${quote(e.to)} [label=${quote(e.label)}, color=red, style=dotted, fontcolor=red];`);
  }
  for (const e of declaredEdges(report)) lines.push(`  ${quote(e.from)} -> ${quote(e.to)} [label=${quote(e.label)}, style=dashed, color="#3d85c6", fontcolor="#3d85c6"];`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

interface Drawn {
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

/** How many control edges of one declared domain a drawing shows (an attribute-wide rule reaches thousands). */
const MAX_EXPLORED_EDGES = 200;

/** How many finding edges a drawing can hold before it stops being readable. */
const MAX_FINDING_EDGES = 200;

/** Excess, undeclared introspection and reverse access as red dotted edges, type to type. */
function findingEdges(report: CheckReport): Drawn[] {
  const model = report.context.model;
  const isType = (n: string): boolean => model.typeIndex.has(n) || model.aliases.has(n);
  const out = new Map<string, Drawn>();
  for (const f of report.findings) {
    if (f.severity !== 'error' || !['excess', 'undeclared-target', 'reverse-access'].includes(f.ruleId) || !f.class) continue;
    for (const from of (f.subjects ?? [f.subject]).filter(isType)) {
      for (const to of (f.objects ?? [f.object]).filter(isType)) {
        const key = `${from}\u0000${to}\u0000${f.ruleId}`;
        const prior = out.get(key);
        const label = `${f.ruleId}: ${f.class}:${f.perms.join(' ')}`;
        out.set(key, { from, to, label: prior ? `${prior.label}\n${f.class}:${f.perms.join(' ')}` : label });
      }
    }
  }
  return [...out.values()].sort((a, b) => (`${a.from} ${a.to} ${a.label}` < `${b.from} ${b.to} ${b.label}` ? -1 : 1)).slice(0, MAX_FINDING_EDGES);
}

/** What each introspector may do to each declared target, by class: the intent, drawn dashed. */
function declaredEdges(report: CheckReport): Drawn[] {
  const out: Drawn[] = [];
  for (const s of report.context.intent.introspectors) {
    const needed = report.context.intent.needed.get(s.type);
    for (const t of s.targets) {
      const classes = new Set([...(needed?.keys() ?? [])].filter((k) => k.startsWith(`${t.type} `)).map((k) => k.split(' ')[1] as string));
      if (classes.size) out.push({ from: s.type, to: t.type, label: `declared: ${[...classes].sort().join(', ')}` });
    }
  }
  return out;
}
