// The privilege graph as Graphviz dot: introspectors, targets, trusted host domains and the
// policy as differently drawn nodes; the declared domains' control edges (a few per node
// they reach) and every hop of an escalation's witness paths; declared
// introspection dashed; every edge on a finding's witness path drawn red. One edge per
// (subject, object), whatever the classes and reasons behind it: a class's permissions on one
// line each once, wrapped, and cut with a count; a legend says what shapes and lines mean.
// People would rather look than read.

import type { CheckReport } from '../../checker/check.js';
import { POLICY_NODE } from '../../checker/graph.js';
import type { Hop } from '../../checker/findings.js';
import { compareCodePoints } from '../../core/compare.js';

/** A DOT string: quotes and backslashes escaped, line breaks as DOT's own \n. */
const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

export function reportDot(report: CheckReport): string {
  return drawGraph(report).dot;
}

/**
 * The drawing as data beside its dot text: the nodes and merged edges in the order they are
 * written. With `ids`, each gets a Graphviz `id` (`vpn<i>`, `vpe<i>`, indices in those
 * lists), which the SVG carries as the element's id: the HTML report (report/html/check.ts)
 * finds a node's and an edge's drawing by them.
 */
export interface DrawnGraph {
  readonly nodes: readonly string[];
  readonly edges: readonly { readonly from: string; readonly to: string; readonly label: string }[];
  readonly dot: string;
}

export function drawGraph(report: CheckReport, options: { readonly ids?: boolean } = {}): DrawnGraph {
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
    // One font for title, nodes and edges (Graphviz's default is Times), and room for self-loop labels.
    '  labelloc=t; rankdir=LR; pad=0.4; graph [fontname="Helvetica"]; node [fontname="Helvetica"]; edge [fontname="Helvetica", fontsize=10];',
  ];
  const extraNodes: string[] = [];
  const merged = new Map<string, MergedEdge>();
  const add = (from: string, to: string, kind: EdgeKind, entry: string): void => {
    const key = `${from}\u0000${to}`;
    let m = merged.get(key);
    if (!m) merged.set(key, (m = { from, to, kinds: new Set(), entries: new Map() }));
    m.kinds.add(kind);
    const list = m.entries.get(kind) ?? [];
    if (!list.includes(entry)) list.push(entry);
    m.entries.set(kind, list);
  };
  for (const e of edges) {
    const bad = offending.has(`${e.from}\u0000${e.to}\u0000${e.via}`);
    const declared = intent.introspectors.some((s) => s.type === e.from && s.targets.some((t) => t.type === e.to));
    add(e.from, e.to, bad ? 'witness' : declared ? 'declared' : 'control', hopText(e));
  }
  for (const e of findingEdges(report)) {
    for (const n of [e.from, e.to]) if (!nodes.has(n)) { nodes.add(n); extraNodes.push(n); }
    for (const entry of e.entries) add(e.from, e.to, 'finding', entry);
  }
  for (const e of declaredEdges(report)) add(e.from, e.to, 'declared', e.label);
  const sortedNodes = [...nodes].sort(compareCodePoints);
  sortedNodes.forEach((n, i) => {
    const role = roleOf.get(n);
    const names = namesOf.get(n);
    const text = names ? `${n}\n${names.join(', ')}` : n;
    const style = extraNodes.includes(n) ? 'shape=ellipse' : nodeStyle(n === POLICY_NODE ? 'policy' : role === 'introspector' || role === 'target' || role === 'shared' ? role : intent.trusted.has(n) ? 'host' : 'other');
    lines.push(`  ${quote(n)} [label=${quote(text)}, ${style}${options.ids ? `, id="vpn${i}"` : ''}];`);
  });
  const sortedEdges = [...merged.values()].sort((a, b) => compareCodePoints(`${a.from} ${a.to}`, `${b.from} ${b.to}`)).map((m) => ({ from: m.from, to: m.to, label: edgeLabel(m), kinds: m.kinds }));
  sortedEdges.forEach((m, i) => {
    lines.push(`  ${quote(m.from)} -> ${quote(m.to)} [label=${quote(m.label)}, ${edgeStyle(m.kinds)}${options.ids ? `, id="vpe${i}"` : ''}];`);
  });
  lines.push(...legend(), '}');
  return { nodes: sortedNodes, edges: sortedEdges.map(({ from, to, label }) => ({ from, to, label })), dot: lines.join('\n') + '\n' };
}

/** Why an edge is drawn: a hop of a finding's witness, a finding (excess, undeclared, reverse), the intent, or another control edge. */
type EdgeKind = 'witness' | 'finding' | 'declared' | 'control';

interface MergedEdge {
  readonly from: string;
  readonly to: string;
  readonly kinds: Set<EdgeKind>;
  /** Per kind, its label entries ("mmu: map_read map_write", "relabel → …"), each once. */
  readonly entries: Map<EdgeKind, string[]>;
}

const KIND_ORDER: readonly EdgeKind[] = ['witness', 'finding', 'declared', 'control'];
const KIND_PREFIX: Readonly<Record<EdgeKind, string>> = { witness: '', finding: '', declared: 'declared: ', control: '' };
/** Characters per label line, and lines per edge, before a label stops being readable. */
const LABEL_WIDTH = 44;
const LABEL_LINES = 6;

function hopText(h: Hop): string {
  return h.perms.length > 0 && h.cls ? `${h.cls}: ${h.perms.join(' ')}` : h.via;
}

/**
 * One edge per (subject, object): the entries of every kind, most important first, with a
 * class's permissions gathered on one line (each once), wrapped, and cut with a count.
 */
function edgeLabel(m: MergedEdge): string {
  const out: string[] = [];
  for (const kind of KIND_ORDER) {
    const entries = m.entries.get(kind);
    if (!entries) continue;
    for (const entry of gatherByClass(entries)) out.push(...wrap(KIND_PREFIX[kind] + entry));
  }
  return out.length <= LABEL_LINES ? out.join('\n') : [...out.slice(0, LABEL_LINES - 1), `… ${out.length - LABEL_LINES + 1} more lines`].join('\n');
}

/** "cls: p q" entries of one class merged into one, permissions in first-seen order; other entries as they are. */
function gatherByClass(entries: readonly string[]): string[] {
  const byClass = new Map<string, string[]>();
  const others: string[] = [];
  for (const e of entries) {
    const m = /^(?:(excess|undeclared-target|reverse-access): )?([a-z0-9_]+): ([a-z0-9_ ]+)$/.exec(e);
    if (!m) {
      if (!others.includes(e)) others.push(e);
      continue;
    }
    const key = `${m[1] ? `${m[1]}: ` : ''}${m[2]}`;
    const perms = byClass.get(key) ?? [];
    for (const p of (m[3] as string).split(' ')) if (!perms.includes(p)) perms.push(p);
    byClass.set(key, perms);
  }
  return [...[...byClass].map(([cls, perms]) => `${cls}: ${perms.join(' ')}`), ...others];
}

function wrap(line: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current && current.length + 1 + word.length > LABEL_WIDTH) {
      out.push(current);
      current = `  ${word}`;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) out.push(current);
  return out;
}

function edgeStyle(kinds: ReadonlySet<EdgeKind>): string {
  if (kinds.has('witness')) return 'color=red, penwidth=2.5, fontcolor=red';
  if (kinds.has('finding')) return 'color=red, style=dotted, fontcolor=red';
  if (kinds.has('declared')) return 'style=dashed, color="#3d85c6", fontcolor="#3d85c6"';
  return 'color="#999999"';
}

type NodeRole = 'policy' | 'introspector' | 'target' | 'shared' | 'host' | 'other';

function nodeStyle(role: NodeRole): string {
  switch (role) {
    case 'policy': return 'shape=octagon, style=filled, fillcolor="#f4cccc"';
    case 'introspector': return 'shape=box, style="filled,bold", fillcolor="#cfe2f3"';
    case 'target': return 'shape=ellipse, style=filled, fillcolor="#d9ead3"';
    case 'shared': return 'shape=doubleoctagon, style=filled, fillcolor="#f4cccc"';
    case 'host': return 'shape=box, style=filled, fillcolor="#eeeeee"';
    case 'other': return 'shape=ellipse';
  }
}

/**
 * What the shapes and lines mean, as a cluster of its own. Its node names start with a space,
 * which no type name can.
 */
function legend(): string[] {
  const node = (id: string, label: string, role: NodeRole): string => `    ${quote(` legend ${id}`)} [label=${quote(label)}, fontsize=10, ${nodeStyle(role)}];`;
  const edge = (from: string, to: string, label: string, kinds: EdgeKind[]): string => `    ${quote(` legend ${from}`)} -> ${quote(` legend ${to}`)} [label=${quote(label)}, ${edgeStyle(new Set(kinds))}];`;
  return [
    '  subgraph cluster_legend {',
    '    label="legend"; fontsize=10; style=dashed; color="#999999";',
    node('introspector', 'introspector', 'introspector'),
    node('target', 'target', 'target'),
    node('host', 'trusted host domain', 'host'),
    node('shared', 'label shared by roles', 'shared'),
    node('policy', 'the policy itself', 'policy'),
    node('other', 'other type', 'other'),
    edge('introspector', 'target', 'declared introspection', ['declared']),
    edge('host', 'shared', 'witness of a finding', ['witness']),
    edge('policy', 'other', 'excess, undeclared or reverse access', ['finding']),
    edge('target', 'other', 'other control', ['control']),
    '  }',
  ];
}

interface Drawn {
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

interface FindingEdge {
  readonly from: string;
  readonly to: string;
  /** "excess: mmu: map_read map_write", one per finding. */
  readonly entries: readonly string[];
}

/** How many control edges of one declared domain a drawing shows (an attribute-wide rule reaches thousands). */
const MAX_EXPLORED_EDGES = 200;

/** How many finding edges a drawing can hold before it stops being readable. */
const MAX_FINDING_EDGES = 200;

/** Excess, undeclared introspection and reverse access as red dotted edges, type to type. */
function findingEdges(report: CheckReport): FindingEdge[] {
  const model = report.context.model;
  const isType = (n: string): boolean => model.typeIndex.has(n) || model.aliases.has(n);
  const out = new Map<string, { from: string; to: string; entries: string[] }>();
  for (const f of report.findings) {
    if (f.severity !== 'error' || !['excess', 'undeclared-target', 'reverse-access'].includes(f.ruleId) || !f.class) continue;
    for (const from of (f.subjects ?? [f.subject]).filter(isType)) {
      for (const to of (f.objects ?? [f.object]).filter(isType)) {
        const key = `${from}\u0000${to}`;
        const entry = out.get(key) ?? { from, to, entries: [] };
        entry.entries.push(`${f.ruleId}: ${f.class}: ${f.perms.join(' ')}`);
        out.set(key, entry);
      }
    }
  }
  return [...out.values()].sort((a, b) => compareCodePoints(`${a.from} ${a.to}`, `${b.from} ${b.to}`)).slice(0, MAX_FINDING_EDGES);
}

/** What each introspector may do to each declared target, by class: the intent, drawn dashed. */
function declaredEdges(report: CheckReport): Drawn[] {
  const out: Drawn[] = [];
  for (const s of report.context.intent.introspectors) {
    const needed = report.context.intent.needed.get(s.type);
    for (const t of s.targets) {
      const classes = new Set([...(needed?.keys() ?? [])].filter((k) => k.startsWith(`${t.type} `)).map((k) => k.split(' ')[1] as string));
      if (classes.size) out.push({ from: s.type, to: t.type, label: [...classes].sort(compareCodePoints).join(", ") });
    }
  }
  return out;
}
