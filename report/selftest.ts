// The self-test report as text (a table of operations, the avc lines under each denial,
// details under each mismatch, one verdict line last) and as JSON. Timings sit in their own
// field, null unless the caller measured them (the CLI's --timings): without them the same
// spec gives the same bytes on every run.

import type { OperationReport, SelftestReport } from '../vmi/selftest/selftest.js';
import { terminalSafe as safe } from '../core/terminal.js';

export function selftestVerdictLine(r: SelftestReport): string {
  const t = r.totals;
  const na = t.notApplicable ? `, ${t.notApplicable} probes not applicable` : '';
  return `selftest ${t.asExpected}/${t.operations} as expected (${t.allowed} allowed, ${t.denied} denied${na}) — ${r.verdict === 'pass' ? 'PASS' : `FAIL: ${t.mismatches} not as expected`}`;
}

export function selftestJson(r: SelftestReport): string {
  return JSON.stringify(r, null, 2) + '\n';
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** What a folded entry stands for besides its first operation: " (and 1499 like it)". */
function andMore(alike: number | undefined): string {
  return alike && alike > 1 ? ` (and ${alike - 1} like it)` : '';
}

/** What an operation's lists leave out, as one line, or undefined when they leave out nothing. */
function unlistedLine(o: OperationReport): string | undefined {
  if (!o.unlisted) return undefined;
  const parts = [[o.unlisted.checks, 'checks'], [o.unlisted.denials, 'avc lines'], [o.unlisted.xenstore, 'xenstore requests']] as const;
  return `      … and ${parts.filter(([n]) => n > 0).map(([n, what]) => `${n} more ${what}`).join(', ')} (JSON counts them under "unlisted")`;
}

function label(o: OperationReport): string {
  return o.kind === 'capability' ? (o.capability ?? '') : o.kind;
}

// The text names files, domains, labels and xenstore paths that came from the spec and the
// policy: each input-derived string goes out through `safe`.
export function selftestText(r: SelftestReport, options: { readonly verbose?: boolean } = {}): string {
  const out: string[] = [];
  out.push(`vmipolicy selftest: ${safe(r.spec)} — Xen ${safe(r.xen)}, policy: ${safe(r.policy)}`);
  out.push(`domains: ${r.domains.map((d) => `d${d.domid} ${safe(d.name)} (${d.role}, ${d.kind}, ${safe(d.label)})`).join(' · ')}`);
  out.push('');
  const rows = r.operations.map((o) => ({
    o,
    cells: [String(o.index + 1), o.asExpected ? 'ok' : 'FAIL', o.expected, o.actual, r.timings ? String(r.timings.operations[o.index] ?? '') : '', safe(`${o.subject} → ${o.object}${andMore(o.alike)}`), safe(label(o)), safe(o.rows.join(' ')), safe(o.name)],
  }));
  const head = ['#', 'result', 'expect', 'actual', r.timings ? 'µs' : '', 'subject → object', 'kind', 'rows', 'operation'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x.cells[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 || i === 4 ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : pad(c, widths[i]!))).join('  ').trimEnd();
  out.push(line(head));
  for (const { o, cells } of rows) {
    out.push(line(cells));
    if (!o.asExpected || options.verbose) {
      if (o.detail) out.push(`      ${o.asExpected ? '' : 'why: '}${safe(o.detail)}`);
      for (const c of o.checks) out.push(`      ${c.allowed ? 'allowed' : 'DENIED '} ${safe(`${c.row}${c.step ? `/${c.step}` : ''} ${c.cls} { ${c.perms.join(' ')} } ${c.scontext} → ${c.tcontext}`)}${c.count > 1 ? ` ×${c.count}` : ''}`);
      for (const x of o.xenstore) out.push(`      xenstore d${x.caller} ${x.op} ${safe(x.path)}: ${x.result}`);
    }
    for (const d of o.denials) out.push(`      ${safe(d)}`);
    const unlisted = unlistedLine(o);
    if (unlisted) out.push(unlisted);
  }
  if (r.notApplicable.length) {
    out.push('');
    out.push('not applicable (Xen refuses these before FLASK decides, so they say nothing about the policy):');
    for (const n of r.notApplicable) out.push(`  ${safe(`${n.subject} → ${n.object}${andMore(n.alike)}  ${n.kind}  ${n.rows.join(' ')}: ${n.reason}`)}`);
  }
  if (r.timings) {
    out.push('');
    out.push(`host booted in ${r.timings.bootMicros} µs; ${r.totals.operations} operations in ${r.timings.totalMicros} µs`);
  }
  out.push('');
  out.push(selftestVerdictLine(r));
  return out.join('\n') + '\n';
}
