// The HTML report's page: one self-contained file (`--format html` of check, diff and
// verify) that a reviewer opens from a CI artifact. Everything it shows is in the file: the
// style and the one script are inline, the privilege graph is inline SVG, and a
// Content-Security-Policy (HTML's <meta http-equiv>, CSP Level 3) allows exactly that style
// and that script by their SHA-256 and nothing else — no network, no other script, even if
// an escape were ever missed. The script only shows and hides what the page already holds
// (filters, a domain's findings, its witness paths in the graph); with scripts disabled every
// finding and every domain's list is shown as it is. The same input gives the same bytes.

import { createHash } from 'node:crypto';
import { VERSION } from '../../compiler/version.js';
import type { LocatedDiagnostic } from '../diagnostics.js';
import { html } from './escape.js';

/** Lines of a file around one line, for a finding's source snippet. */
export interface Snippet {
  /** The number of `lines[0]` (1-based). */
  readonly first: number;
  readonly lines: readonly string[];
  /** The line the location points at. */
  readonly line: number;
  /** Where the lines were read when not the file itself ("as m4 expanded it in policy.conf, line 1234"). */
  readonly from?: string;
}

/** The source lines behind a location, when its file can be read (the CLI reads them: cli/sources.ts). */
export type Sources = (file: string, line: number) => Snippet | undefined;

export const NO_SOURCES: Sources = () => undefined;

/** A location as reports carry it: the checker's (`kind`, `text`) or the diff's. */
interface PlaceLike {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
  readonly kind?: string;
  /** The statement as written, shown when the file cannot be read. */
  readonly text?: string;
}

/** Characters of a snippet line shown before it is cut: a minified line must not make a page of one. */
const MAX_LINE = 400;

function where(l: PlaceLike): string {
  return `${l.file}:${l.line}${l.column ? `:${l.column}` : ''}`;
}

/**
 * A location with its source lines, the pointed line marked; or the statement as written.
 * `compiledFrom`: the place is in compiled output never written (report/check/places.ts), so
 * it is shown as compiled from that spec line, with the statement as written.
 */
export function locationHtml(l: PlaceLike, sources: Sources, compiledFrom?: PlaceLike): string {
  if (compiledFrom) {
    const head = `<div class="vp-loc-head">${l.kind ? `<span class="vp-kind">${html(l.kind)}</span> ` : ''}compiled from <code>${html(where(compiledFrom))}</code></div>`;
    return `<div class="vp-loc">${head}${l.text ? `<pre class="vp-src"><code>${html(l.text)}</code></pre>` : ''}</div>`;
  }
  const snippet = sources(l.file, l.line);
  const head = `<div class="vp-loc-head">${l.kind ? `<span class="vp-kind">${html(l.kind)}</span> ` : ''}<code>${html(where(l))}</code>${snippet?.from ? ` <span class="vp-from">${html(snippet.from)}</span>` : ''}</div>`;
  let body = '';
  if (snippet) {
    const width = String(snippet.first + snippet.lines.length - 1).length;
    const rows = snippet.lines.map((text, i) => {
      const n = snippet.first + i;
      const shown = text.length > MAX_LINE ? `${text.slice(0, MAX_LINE)}…` : text;
      const row = `<span class="vp-ln">${String(n).padStart(width)}</span> ${html(shown)}`;
      return n === snippet.line ? `<mark>${row}</mark>` : row;
    });
    body = `<pre class="vp-src"><code>${rows.join('\n')}</code></pre>`;
  } else if (l.text) {
    body = `<pre class="vp-src"><code>${html(l.text)}</code></pre>`;
  }
  return `<div class="vp-loc">${head}${body}</div>`;
}

/** The verdict at the top: a headline, its lines, and a table (already HTML) under it. */
export function banner(ok: boolean, headline: string, lines: readonly string[], extra = ''): string {
  return `<header class="vp-banner ${ok ? 'vp-ok' : 'vp-bad'}" role="banner"><h1>${html(headline)}</h1>${lines.map((l) => `<p>${html(l)}</p>`).join('')}${extra}</header>`;
}

/** A table from header cells and rows of cells already HTML. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], caption?: string): string {
  return `<div class="vp-scroll"><table>${caption ? `<caption>${html(caption)}</caption>` : ''}<thead><tr>${head.map((h) => `<th scope="col">${html(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`;
}

/** The input's own diagnostics (warnings met on the way), each at its place. */
export function diagnosticsHtml(diagnostics: readonly LocatedDiagnostic[]): string {
  if (!diagnostics.length) return '';
  const items = diagnostics.map((d) => `<li><span class="vp-sev vp-sev-${d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'note'}">${html(d.severity)}</span> <code>${html(d.code)}</code> ${d.file !== undefined ? `<code>${html(`${d.file}${d.line !== undefined ? `:${d.line}:${d.column ?? 1}` : ''}`)}</code> ` : ''}${html(d.message)}${d.help ? `<br><span class="vp-help">${html(d.help)}</span>` : ''}</li>`);
  return `<section aria-labelledby="vp-diags"><h2 id="vp-diags">Diagnostics about the input</h2><ul class="vp-diagnostics">${items.join('')}</ul></section>`;
}

const STYLE = `
:root{--ok:#1e6b34;--bad:#a4161a;--warn:#8a5a00;--note:#35607f;--line:#d0d7de;--muted:#57606a;--hl:#e8590c}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;background:#fff}
main{max-width:1200px;margin:0 auto;padding:0 1rem 3rem}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}h3{font-size:1.05rem;margin:1.4rem 0 .4rem}h4{font-size:1rem;margin:0 0 .4rem;font-weight:600}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
code{overflow-wrap:anywhere}
.vp-banner{padding:1rem;margin:1rem 0;border-radius:6px;border:2px solid}
.vp-banner p{margin:.2rem 0;overflow-wrap:anywhere}
.vp-ok{border-color:var(--ok);background:#e9f6ec}.vp-ok h1{color:var(--ok)}
.vp-bad{border-color:var(--bad);background:#fbeaea}.vp-bad h1{color:var(--bad)}
.vp-scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.vp-graph{border:1px solid var(--line);border-radius:6px;overflow:auto;max-height:80vh;background:#fff}
.vp-graph svg{display:block;max-width:none;height:auto}
.vp-graph g.node[tabindex]{cursor:pointer}
.vp-graph g.node:focus{outline:none}
.vp-graph g.node:focus>polygon,.vp-graph g.node:focus>ellipse,.vp-graph g.node:focus>path{stroke:#0969da;stroke-width:4}
.vp-graph g.node.vp-sel>polygon,.vp-graph g.node.vp-sel>ellipse,.vp-graph g.node.vp-sel>path{stroke:var(--hl);stroke-width:5}
.vp-graph g.vp-inc>path{stroke:#0969da;stroke-width:3}
.vp-graph g.edge.vp-hl>path{stroke:var(--hl);stroke-width:5}
.vp-graph g.edge.vp-hl>polygon{stroke:var(--hl);fill:var(--hl)}
.vp-graph g.node.vp-hl>polygon,.vp-graph g.node.vp-hl>ellipse{stroke:var(--hl);stroke-width:4}
.vp-graph g.vp-hl>text{fill:var(--hl);font-weight:bold}
.vp-legend{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;padding:0;list-style:none;font-size:.85rem;color:var(--muted)}
.vp-panel{border:1px solid var(--line);border-radius:6px;padding:.6rem 1rem;margin:1rem 0;background:#f6f8fa}
.vp-domain h3{margin-top:.2rem}
.vp-filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin:.6rem 0;padding:.6rem;border:1px solid var(--line);border-radius:6px;background:#f6f8fa}
.vp-filters label{display:flex;flex-direction:column;font-size:.85rem}
select,button{font:inherit;padding:.2rem .4rem;min-height:2rem}
.vp-finding{border:1px solid var(--line);border-left:5px solid var(--line);border-radius:6px;padding:.6rem .8rem;margin:.6rem 0}
.vp-finding[data-severity=error]{border-left-color:var(--bad)}.vp-finding[data-severity=warning]{border-left-color:var(--warn)}.vp-finding[data-severity=note]{border-left-color:var(--note)}
.vp-finding:target{outline:3px solid #0969da}
.vp-finding h4{overflow-wrap:anywhere}
.vp-sev{display:inline-block;font-size:.75rem;font-weight:700;text-transform:uppercase;padding:0 .35rem;border-radius:3px;color:#fff;background:var(--note)}
.vp-sev-error{background:var(--bad)}.vp-sev-warning{background:var(--warn)}
dl.vp-facts{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.3rem 0}
dl.vp-facts dt{color:var(--muted)}dl.vp-facts dd{margin:0;overflow-wrap:anywhere}
.vp-loc{margin:.4rem 0}
.vp-loc-head{font-size:.85rem}
.vp-kind{display:inline-block;min-width:4.5rem;color:var(--muted)}
.vp-from{color:var(--muted);font-size:.8rem}
pre.vp-src{margin:.2rem 0;padding:.4rem .6rem;background:#f6f8fa;border:1px solid var(--line);border-radius:4px;overflow-x:auto;white-space:pre}
pre.vp-src mark{background:#fff3bf;display:inline-block;min-width:100%}
.vp-ln{color:var(--muted);user-select:none}
ol.vp-path{margin:.2rem 0 .4rem;padding-left:1.6rem}
ol.vp-path li{overflow-wrap:anywhere}
.vp-help{color:var(--muted)}
.vp-help::before{content:"help: ";font-weight:600}
.vp-pass{color:var(--ok);font-weight:700}.vp-fail{color:var(--bad);font-weight:700}
.vp-added{color:var(--bad)}.vp-removed{color:var(--ok)}
details{margin:.4rem 0}summary{cursor:pointer}
a{color:#0969da}
:focus-visible{outline:3px solid #0969da;outline-offset:2px}
@media (max-width:700px){
body{font-size:14px}main{padding:0 .5rem 2rem}h1{font-size:1.3rem}
dl.vp-facts{grid-template-columns:1fr}dl.vp-facts dt{margin-top:.3rem}
.vp-graph{max-height:60vh}
.vp-filters{flex-direction:column;align-items:stretch}
.vp-banner th:nth-child(2),.vp-banner td:nth-child(2){display:none}
}
`;

// Shows and hides what the page holds; reads only the page's own attributes (data-d: domain
// indices, data-paths: witness paths as element ids, data-node/data-edges: a domain's drawing).
const SCRIPT = `
(function () {
  'use strict';
  var doc = document;
  doc.documentElement.classList.add('js');
  var each = function (sel, fn) { Array.prototype.forEach.call(doc.querySelectorAll(sel), fn); };
  var findings = Array.prototype.slice.call(doc.querySelectorAll('.vp-finding'));
  var domains = Array.prototype.slice.call(doc.querySelectorAll('.vp-domain'));
  var form = doc.getElementById('vp-filters');
  var shownOut = doc.getElementById('vp-shown');
  var hint = doc.getElementById('vp-hint');
  var has = function (list, x) { return (' ' + (list || '') + ' ').indexOf(' ' + x + ' ') >= 0; };
  var field = function (name) { return form ? form.elements[name].value : ''; };
  function apply() {
    var d = field('domain'), r = field('rule'), s = field('severity'), shown = 0;
    findings.forEach(function (f) {
      var ok = (!d || has(f.getAttribute('data-d'), d)) && (!r || f.getAttribute('data-rule') === r) && (!s || f.getAttribute('data-severity') === s);
      f.hidden = !ok;
      if (ok) shown++;
    });
    each('.vp-rule', function (g) { g.hidden = !g.querySelector('.vp-finding:not([hidden])'); });
    if (shownOut) shownOut.textContent = shown + ' of ' + findings.length + ' findings shown';
  }
  function mark(id, cls) { var e = id ? doc.getElementById(id) : null; if (e) e.classList.add(cls); }
  function select(d) {
    each('.vp-hl, .vp-inc, .vp-sel', function (e) { e.classList.remove('vp-hl', 'vp-inc', 'vp-sel'); });
    var chosen = null;
    domains.forEach(function (sec) { var me = d !== '' && sec.getAttribute('data-d') === d; sec.hidden = !me; if (me) chosen = sec; });
    if (hint) hint.hidden = !!chosen || !domains.length;
    if (!chosen) return;
    var node = chosen.getAttribute('data-node');
    mark(node, 'vp-sel');
    (chosen.getAttribute('data-edges') || '').split(' ').forEach(function (e) { mark(e, 'vp-inc'); });
    findings.forEach(function (f) {
      if (!has(f.getAttribute('data-d'), d)) return;
      (f.getAttribute('data-paths') || '').split(' ').forEach(function (p) {
        var ids = p.split(',');
        if (!node || ids.indexOf(node) >= 0) ids.forEach(function (id) { mark(id, 'vp-hl'); });
      });
    });
  }
  each('.vp-graph g.node', function (g) {
    var sec = doc.querySelector('.vp-domain[data-node="' + g.id + '"]');
    if (!g.id || !sec) return;
    var d = sec.getAttribute('data-d');
    var title = g.querySelector('title');
    g.setAttribute('tabindex', '0');
    g.setAttribute('role', 'button');
    g.setAttribute('aria-label', 'domain ' + (title ? title.textContent : '') + ': show its findings and paths');
    var go = function () { if (form) form.elements.domain.value = d; apply(); select(d); };
    g.addEventListener('click', go);
    g.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } });
  });
  if (form) {
    form.hidden = false;
    form.addEventListener('change', function () { apply(); select(field('domain')); });
    form.addEventListener('submit', function (e) { e.preventDefault(); });
    form.addEventListener('reset', function () { setTimeout(function () { apply(); select(''); }, 0); });
  }
  doc.addEventListener('keydown', function (e) { if (e.key === 'Escape' && form) form.reset(); });
  apply();
  select('');
})();
`;

const sha256 = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

const CSP = `default-src 'none'; style-src ${sha256(STYLE)}; script-src ${sha256(SCRIPT)}; img-src 'none'; base-uri 'none'; form-action 'none'`;

/** The whole document around `body` (HTML, every input string in it already escaped). */
export function page(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="vmipolicy ${VERSION}">`,
    `<title>${html(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<main>${body}</main>`,
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The document a run that stopped on its input (exit 2) still writes: its diagnostics. */
export function failurePage(diagnostics: readonly LocatedDiagnostic[]): string {
  return page('vmipolicy could not run', banner(false, 'vmipolicy could not run', [`${diagnostics.length} input diagnostic${diagnostics.length === 1 ? '' : 's'} (exit 2)`]) + diagnosticsHtml(diagnostics));
}
