// `verify --format html`: one banner for the three stages (compile, the least-privilege
// proof, the self-test's PASS/FAIL counts), the check's graph and findings as
// `check --format html` shows them, and the self-test's steps — each operation with what was
// expected and what the simulated host decided, its checks and the avc line Xen prints for
// every denial.

import type { SelftestReport } from '../../vmi/selftest/selftest.js';
import type { LocatedDiagnostic } from '../diagnostics.js';
import { selftestVerdictLine } from '../selftest.js';
import { checkSections, type CheckHtmlInput } from './check.js';
import { html } from './escape.js';
import { banner, diagnosticsHtml, page, table } from './page.js';

interface VerifyHtmlInput {
  readonly spec: string;
  readonly ok: boolean;
  readonly stages: readonly { readonly stage: 'compile' | 'check' | 'selftest'; readonly ok: boolean; readonly files?: readonly string[] }[];
  /** The check stage's report and drawing, when the check ran. */
  readonly check?: CheckHtmlInput;
  readonly selftest?: SelftestReport;
  readonly diagnostics?: readonly LocatedDiagnostic[];
}

function stageLine(input: VerifyHtmlInput, stage: VerifyHtmlInput['stages'][number]): string {
  switch (stage.stage) {
    case 'compile': return stage.ok ? `compile: ok (${stage.files?.length ?? 0} files)` : 'compile: FAILED (see the diagnostics)';
    case 'check': return input.check ? `check: ${input.check.report.proven ? 'PROVEN' : 'NOT PROVEN'}` : 'check: FAILED (the policy could not be read)';
    case 'selftest': return input.selftest ? selftestVerdictLine(input.selftest) : 'selftest: FAILED (the simulated host could not boot)';
  }
}

export function verifyHtml(input: VerifyHtmlInput): string {
  const headline = input.ok ? 'VERIFIED' : 'NOT VERIFIED';
  const lines = [input.spec, ...input.stages.map((s) => stageLine(input, s))];
  const t = input.selftest?.totals;
  const counts = t ? table(['operations', 'as expected', 'not as expected', 'allowed', 'denied', 'probes not applicable'], [[t.operations, t.asExpected, t.mismatches, t.allowed, t.denied, t.notApplicable].map(String)], 'Self-test') : '';
  const body = [banner(input.ok, headline, lines, counts), diagnosticsHtml(input.diagnostics ?? [])];
  if (input.check) body.push(checkSections(input.check));
  if (input.selftest) body.push(selftestSection(input.selftest));
  return page(`vmipolicy verify: ${headline} — ${input.spec}`, body.join('\n'));
}

function selftestSection(r: SelftestReport): string {
  const out: string[] = ['<section aria-labelledby="vp-selftest-h">', `<h2 id="vp-selftest-h">Self-test: <span class="${r.verdict === 'pass' ? 'vp-pass' : 'vp-fail'}">${r.verdict === 'pass' ? 'PASS' : 'FAIL'}</span></h2>`];
  out.push(`<p>${html(`Xen ${r.xen}, policy: ${r.policy}`)}</p>`);
  out.push(table(['domid', 'domain', 'role', 'guest', 'label'], r.domains.map((d) => [String(d.domid), `<code>${html(d.name)}</code>`, html(d.role), html(d.kind), `<code>${html(d.label)}</code>`]), 'Domains on the simulated host'));
  const rows = r.operations.map((o) => {
    const detail: string[] = [];
    if (o.detail) detail.push(`<p>${o.asExpected ? '' : '<strong>why:</strong> '}${html(o.detail)}</p>`);
    if (o.checks.length) detail.push(`<details${o.asExpected ? '' : ' open'}><summary>${o.checks.length} check${o.checks.length === 1 ? '' : 's'}</summary><ul>${o.checks.map((c) => `<li>${c.allowed ? 'allowed' : '<strong>DENIED</strong>'} <code>${html(`${c.row}${c.step ? `/${c.step}` : ''} ${c.cls} { ${c.perms.join(' ')} } ${c.scontext} → ${c.tcontext}`)}</code>${c.count > 1 ? ` ×${c.count}` : ''}</li>`).join('')}</ul></details>`);
    if (o.xenstore.length) detail.push(`<ul>${o.xenstore.map((x) => `<li>xenstore d${x.caller} ${html(x.op)} <code>${html(x.path)}</code>: ${html(x.result)}</li>`).join('')}</ul>`);
    if (o.denials.length) detail.push(`<pre class="vp-src" aria-label="avc lines"><code>${o.denials.map(html).join('\n')}</code></pre>`);
    if (o.unlisted) detail.push(`<p>… and ${o.unlisted.checks} more checks, ${o.unlisted.denials} more avc lines, ${o.unlisted.xenstore} more xenstore requests (the JSON counts them)</p>`);
    return [
      String(o.index + 1),
      o.asExpected ? '<span class="vp-pass">ok</span>' : '<span class="vp-fail">FAIL</span>',
      html(o.expected),
      html(o.actual),
      `<code>${html(`${o.subject} → ${o.object}`)}</code>${o.alike && o.alike > 1 ? ` (and ${o.alike - 1} like it)` : ''}`,
      html(o.kind === 'capability' ? (o.capability ?? '') : o.kind),
      `${html(o.name)}${detail.join('')}`,
    ];
  });
  out.push(table(['#', 'result', 'expected', 'actual', 'subject → object', 'kind', 'operation'], rows, 'Operations'));
  if (r.notApplicable.length) {
    out.push('<h3>Not applicable</h3><p>Xen refuses these before FLASK decides, so they say nothing about the policy.</p>');
    out.push(`<ul>${r.notApplicable.map((n) => `<li><code>${html(`${n.subject} → ${n.object}`)}</code> ${html(`${n.kind} ${n.rows.join(' ')}: ${n.reason}`)}${n.alike && n.alike > 1 ? ` (and ${n.alike - 1} like it)` : ''}</li>`).join('')}</ul>`);
  }
  out.push('</section>');
  return out.join('\n');
}
