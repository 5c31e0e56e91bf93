// `check --format html`: the verdict and counts per rule; the privilege graph as the SVG
// output draws it (report/check/dot.ts, laid out by Graphviz), where a domain, clicked or
// chosen with the keyboard, lists its findings and edges and lights up every witness path
// through it; then the findings by rule, filterable by domain, rule and severity, each with
// its spec line and policy lines as source snippets, the boolean state it needs and its help.

import type { CheckReport } from '../../checker/check.js';
import { CHECK_RULES } from '../../checker/check.js';
import type { Finding } from '../../checker/findings.js';
import { renderFindingText } from '../../checker/messages.js';
import { compareCodePoints } from '../../core/compare.js';
import type { DrawnGraph } from '../check/dot.js';
import { findingPlaces } from '../check/places.js';
import { verdictLine } from '../check/text.js';
import type { LocatedDiagnostic } from '../diagnostics.js';
import { html } from './escape.js';
import { banner, diagnosticsHtml, locationHtml, NO_SOURCES, page, table, type Sources } from './page.js';

export interface CheckHtmlInput {
  readonly report: CheckReport;
  /** The drawing with ids (`drawGraph(report, { ids: true })`) and Graphviz's SVG of its dot. */
  readonly drawing: DrawnGraph;
  readonly svg: string;
  readonly sources?: Sources;
  /** Whether a file the report names is compiled output never written (api/check.ts CheckOutcome.unwritten): its places are shown at the spec line, as the text and SARIF reports show them. */
  readonly unwritten?: (file: string) => boolean;
  /** The input's warnings met on the way, placed in the user's files. */
  readonly diagnostics?: readonly LocatedDiagnostic[];
}

export function checkHtml(input: CheckHtmlInput): string {
  const { report } = input;
  const title = `vmipolicy check: ${report.proven ? 'PROVEN' : 'NOT PROVEN'} — ${report.spec}`;
  return page(title, checkBanner(report) + diagnosticsHtml(input.diagnostics ?? []) + checkSections(input));
}

function checkBanner(report: CheckReport): string {
  return banner(report.proven, report.proven ? 'PROVEN' : 'NOT PROVEN', [`${report.spec} against ${report.policy}`, verdictLine(report)], countsTable(report));
}

function countsTable(report: CheckReport): string {
  const rows = CHECK_RULES.filter((r) => {
    const c = report.counts[r.id];
    return c.error + c.warning + c.note > 0;
  }).map((r) => {
    const c = report.counts[r.id];
    return [`<a href="#rule-${r.id}">${html(r.id)}</a>`, html(r.summary), String(c.error), String(c.warning), String(c.note)];
  });
  return rows.length ? table(['rule', 'proves', 'errors', 'warnings', 'notes'], rows, 'Findings per rule') : '<p>No findings under any rule.</p>';
}

/**
 * Links a domain's list holds before it says how many more there are: an attribute-wide rule
 * makes one finding about thousands of domains, and the page must not list it under each in full.
 */
const MAX_LISTED = 100;

/** Every domain a finding concerns: subjects, objects, and each hop of its witness paths. */
function domainsOf(f: Finding): string[] {
  const out = new Set<string>([...(f.subjects ?? [f.subject]), ...(f.objects ?? [f.object])]);
  for (const path of f.witness?.paths ?? []) for (const h of path) out.add(h.from).add(h.to);
  out.delete('');
  return [...out];
}

/** The graph, the domains' lists and the findings: check's page below its banner (verify's too). */
export function checkSections(input: CheckHtmlInput): string {
  const { report, drawing } = input;
  const sources = input.sources ?? NO_SOURCES;
  const nodeId = new Map(drawing.nodes.map((n, i) => [n, `vpn${i}`]));
  const edgeId = new Map(drawing.edges.map((e, i) => [`${e.from}\u0000${e.to}`, `vpe${i}`]));
  const involved = report.findings.map(domainsOf);
  const domains = [...new Set([...drawing.nodes, ...involved.flat()])].sort(compareCodePoints);
  const index = new Map(domains.map((d, i) => [d, i]));
  const namesOf = new Map<string, string[]>();
  for (const d of report.context.intent.domains) namesOf.set(d.type, [...(namesOf.get(d.type) ?? []), `${d.name} (${d.role})`]);

  const findingIds = report.findings.map((_, i) => `f-${i + 1}`);
  const byDomain = new Map<string, number[]>();
  involved.forEach((ds, i) => { for (const d of ds) byDomain.set(d, [...(byDomain.get(d) ?? []), i]); });

  const out: string[] = [];
  out.push('<section aria-labelledby="vp-graph-h"><h2 id="vp-graph-h">Privilege graph</h2>');
  out.push('<p>Each domain type is a node; one edge per subject and object, its classes and permissions on the label. Click a domain, or Tab to it and press Enter, to list its findings and light up the witness paths through it; Escape shows everything again.</p>');
  out.push(`<figure class="vp-graph" aria-label="privilege graph">${inlineSvg(input.svg)}</figure>`);
  out.push('<ul class="vp-legend" aria-label="legend"><li>box: introspector</li><li>green ellipse: target</li><li>grey box: trusted host domain</li><li>double octagon: label shared by roles</li><li>red octagon: the policy itself</li><li>dashed blue: declared introspection</li><li>thick red: witness of a finding</li><li>dotted red: excess, undeclared or reverse access</li><li>grey: other control</li><li>orange (selected): witness paths through the chosen domain</li><li>blue (selected): the chosen domain\'s own edges</li></ul>');
  out.push('</section>');

  out.push('<section id="vp-domains" aria-labelledby="vp-domains-h" aria-live="polite"><h2 id="vp-domains-h">Domains</h2>');
  out.push('<p id="vp-hint" hidden>Choose a domain in the graph, or in the domain filter below, to see its findings and edges here.</p>');
  domains.forEach((d, k) => {
    const node = nodeId.get(d);
    const edges = drawing.edges.map((e, i) => ({ e, id: `vpe${i}` })).filter(({ e }) => e.from === d || e.to === d);
    const found = byDomain.get(d) ?? [];
    const attrs = `class="vp-domain vp-panel" data-d="${k}"${node ? ` data-node="${node}"` : ''}${edges.length ? ` data-edges="${edges.map((x) => x.id).join(' ')}"` : ''}`;
    out.push(`<section ${attrs}><h3>${html(d)}${namesOf.has(d) ? ` <small>${html((namesOf.get(d) as string[]).join(', '))}</small>` : ''}</h3>`);
    out.push(`<p>${found.length} finding${found.length === 1 ? '' : 's'}${node ? '' : ' (not drawn in the graph)'}</p>`);
    const listed = found.slice(0, MAX_LISTED);
    if (listed.length) out.push(`<ul>${listed.map((i) => { const f = report.findings[i] as Finding; return `<li><a href="#${findingIds[i]}"><span class="vp-sev vp-sev-${f.severity}">${f.severity}</span> ${html(f.ruleId)}: ${html(renderFindingText(f.message))}</a></li>`; }).join('')}</ul>`);
    if (found.length > listed.length) out.push(`<p>… and ${found.length - listed.length} more: the findings below, filtered to this domain.</p>`);
    if (edges.length) {
      out.push(`<details><summary>${edges.length} edge${edges.length === 1 ? '' : 's'} in the graph</summary><ul>${edges.map(({ e }) => `<li><code>${html(`${e.from} → ${e.to}`)}</code>: ${html(e.label.replace(/\n/g, '; '))}</li>`).join('')}</ul></details>`);
    }
    out.push('</section>');
  });
  out.push('</section>');

  out.push('<section aria-labelledby="vp-findings-h"><h2 id="vp-findings-h">Findings</h2>');
  if (!report.findings.length) out.push('<p>No findings: every rule holds.</p>');
  else {
    const rulesPresent = CHECK_RULES.filter((r) => report.findings.some((f) => f.ruleId === r.id));
    const option = (value: string, label: string): string => `<option value="${html(value)}">${html(label)}</option>`;
    out.push('<form id="vp-filters" class="vp-filters" hidden aria-label="filter findings">');
    out.push(`<label>Domain<select name="domain">${option('', 'all domains')}${domains.map((d, k) => (byDomain.has(d) ? option(String(k), d) : '')).join('')}</select></label>`);
    out.push(`<label>Rule<select name="rule">${option('', 'all rules')}${rulesPresent.map((r) => option(r.id, r.id)).join('')}</select></label>`);
    out.push(`<label>Severity<select name="severity">${option('', 'all severities')}${['error', 'warning', 'note'].filter((s) => report.findings.some((f) => f.severity === s)).map((s) => option(s, s)).join('')}</select></label>`);
    out.push('<button type="reset">Show all</button><output id="vp-shown" aria-live="polite"></output></form>');
    for (const rule of rulesPresent) {
      const c = report.counts[rule.id];
      out.push(`<section class="vp-rule" id="rule-${rule.id}"><h3>${html(rule.id)} — ${html(rule.summary)} <small>(${c.error} error${c.error === 1 ? '' : 's'}, ${c.warning} warning${c.warning === 1 ? '' : 's'}, ${c.note} note${c.note === 1 ? '' : 's'})</small></h3>`);
      report.findings.forEach((f, i) => {
        if (f.ruleId !== rule.id) return;
        const ds = (involved[i] as string[]).map((d) => index.get(d)).join(' ');
        const paths = (f.witness?.paths ?? []).map((path) => {
          const ids: string[] = [];
          for (const h of path) ids.push(nodeId.get(h.from) ?? '', edgeId.get(`${h.from}\u0000${h.to}`) ?? '', nodeId.get(h.to) ?? '');
          return [...new Set(ids.filter(Boolean))].join(',');
        }).filter(Boolean);
        out.push(findingHtml(f, findingIds[i] as string, ds, paths, sources, input.unwritten));
      });
      out.push('</section>');
    }
  }
  out.push('</section>');
  return out.join('\n');
}

function findingHtml(f: Finding, id: string, domains: string, paths: readonly string[], sources: Sources, unwritten?: (file: string) => boolean): string {
  const { spec, moved, place } = findingPlaces(f, unwritten);
  const facts: [string, string][] = [['subject → object', `<code>${html(f.subject)}</code> → <code>${html(f.object)}</code>`]];
  if (f.class) facts.push(['permissions', `<code>${html(`${f.class}: ${f.perms.join(' ')}`)}</code>`]);
  else if (f.perms.length) facts.push(['permissions', `<code>${html(f.perms.join(' '))}</code>`]);
  if (f.subjects && f.subjects.length > 1) facts.push(['subjects', html(f.subjects.join(', '))]);
  if (f.objects && f.objects.length > 1) facts.push(['objects', html(f.objects.join(', '))]);
  if (f.count !== undefined) facts.push(['instances', `${f.count}${f.examples?.length ? `, e.g. ${html(f.examples.join(', '))}` : ''}`]);
  facts.push(['boolean state', f.booleans ? `when ${html(Object.entries(f.booleans).map(([k, v]) => `${k}=${v}`).join(', '))}` : 'in every boolean state']);
  const out = [
    `<article class="vp-finding" id="${id}" data-rule="${f.ruleId}" data-severity="${f.severity}" data-d="${domains}"${paths.length ? ` data-paths="${paths.join(' ')}"` : ''}>`,
    `<h4><span class="vp-sev vp-sev-${f.severity}">${f.severity}</span> ${html(renderFindingText(f.message, place))}</h4>`,
    `<dl class="vp-facts">${facts.map(([k, v]) => `<dt>${html(k)}</dt><dd>${v}</dd>`).join('')}</dl>`,
    ...f.provenance.map((l) => locationHtml(l, sources, moved(l) ? spec : undefined)),
  ];
  if (f.witness) {
    f.witness.paths.forEach((path, i) => {
      out.push(`<p>Witness path ${i + 1} of ${f.witness?.paths.length}:</p><ol class="vp-path">${path.map((h) => `<li><code>${html(h.from)}</code> —${html(h.via)}→ <code>${html(h.to)}</code>${h.rules[0] && !moved(h.rules[0]) ? ` <span class="vp-from">${html(`${h.rules[0].file}:${h.rules[0].line}:${h.rules[0].column}`)}</span>` : ''}</li>`).join('')}</ol>`);
    });
    if (f.witness.truncated) out.push('<p>… more minimal paths exist (raise --max-paths).</p>');
  }
  if (f.help) out.push(`<p class="vp-help">${html(renderFindingText(f.help, place))}</p>`);
  out.push('</article>');
  return out.join('\n');
}

/**
 * Graphviz's SVG document as an element of the page: its XML declaration, doctype and
 * comments dropped (the HTML parser reads none of them inside a body). Graphviz's SVG
 * renderer writes `<`, `>`, `&` and quotes of every title and label as entities, so names
 * stay text (test/html-report.test.ts holds it to that with hostile names).
 */
function inlineSvg(svg: string): string {
  const start = svg.indexOf('<svg');
  if (start < 0) return '';
  return svg.slice(start).replace(/<!--[\s\S]*?-->\n?/g, '').replace(/^<svg /, '<svg focusable="false" ').trimEnd();
}
