// The human report: findings grouped by proof rule, each with the spec line it violates,
// the rules behind it and what to do next; witness paths hop by hop; one verdict line last.

import type { CheckReport } from '../../checker/check.js';
import { RULE_IDS, type Finding, type Location } from '../../checker/findings.js';
import { CHECK_RULES } from '../../checker/check.js';
import { renderFindingText } from '../../checker/messages.js';
import { findingPlaces } from './places.js';
import { terminalSafe as safe } from '../../core/terminal.js';

// Every string here may come from an input (file names from #line markers, statements as
// written, xenstore paths, spec text quoted in messages): each goes out through `safe`.
const where = (l: Location): string => `${safe(l.file)}:${l.line}:${l.column}`;

export interface TextOptions {
  /** Show notes too (they are counted, not listed, by default). */
  readonly showNotes?: boolean;
  /**
   * Whether a file the report names is compiled output never written (absent: none is;
   * api/check.ts CheckOutcome.unwritten says which). A place in one — the policy.conf a check
   * compiles in memory — is shown at the spec line of its finding, as SARIF locates it
   * (report/check/sarif.ts): the rule's text stays, its line in a file nobody has does not.
   */
  readonly unwritten?: (file: string) => boolean;
}

function renderFinding(f: Finding, unwritten: ((file: string) => boolean) | undefined): string[] {
  const { spec, moved: compiled, place } = findingPlaces(f, unwritten);
  const lines = [`  ${f.severity.padEnd(7)} ${safe(renderFindingText(f.message, place))}`];
  if (f.booleans) lines.push(`          when ${Object.entries(f.booleans).map(([k, v]) => `${safe(k)}=${v}`).join(', ')}`);
  for (const l of f.provenance) lines.push(`          ${l.kind.padEnd(8)} ${compiled(l) ? `compiled from ${where(spec as Location)}` : where(l)}${l.text ? `  ${safe(l.text)}` : ''}`);
  if (f.witness) {
    f.witness.paths.forEach((path, i) => {
      lines.push(`          path ${i + 1}:`);
      for (const h of path) lines.push(`            ${safe(h.from)} —${safe(h.via)}→ ${safe(h.to)}${h.rules[0] && !compiled(h.rules[0]) ? `  (${where(h.rules[0])})` : ''}`);
    });
    if (f.witness.truncated) lines.push('          … more minimal paths exist (raise --max-paths)');
  }
  if (f.help) lines.push(`          help     ${safe(renderFindingText(f.help, place))}`);
  return lines;
}

export function verdictLine(report: CheckReport): string {
  const count = (sev: 'error' | 'warning' | 'note'): number => report.findings.filter((f) => f.severity === sev).length;
  const errors = count('error');
  const byRule = RULE_IDS.filter((id) => report.counts[id].error > 0).map((id) => `${id} ${report.counts[id].error}`);
  const tail = `${report.introspectors.length} introspector${report.introspectors.length === 1 ? '' : 's'}, ${errors} error${errors === 1 ? '' : 's'}, ${count('warning')} warning${count('warning') === 1 ? '' : 's'}, ${count('note')} note${count('note') === 1 ? '' : 's'}`;
  return report.proven
    ? `PROVEN: least privilege holds over ${safe(report.policy)} in every boolean state (${tail})`
    : `NOT PROVEN: ${byRule.join(', ')} (${tail})`;
}

export function reportText(report: CheckReport, options: TextOptions = {}): string {
  const out = [`vmipolicy check: ${safe(report.spec)} against ${safe(report.policy)}`, ''];
  for (const rule of CHECK_RULES) {
    const findings = report.findings.filter((f) => f.ruleId === rule.id && (options.showNotes || f.severity !== 'note'));
    if (!findings.length) continue;
    const c = report.counts[rule.id];
    out.push(`${rule.id} — ${rule.summary} (${c.error} error${c.error === 1 ? '' : 's'}, ${c.warning} warning${c.warning === 1 ? '' : 's'}${c.note ? `, ${c.note} note${c.note === 1 ? '' : 's'}` : ''})`);
    for (const f of findings) out.push(...renderFinding(f, options.unwritten));
    out.push('');
  }
  const hiddenNotes = options.showNotes ? 0 : report.findings.filter((f) => f.severity === 'note').length;
  if (hiddenNotes) out.push(`(${hiddenNotes} note${hiddenNotes === 1 ? '' : 's'} not shown; --notes shows them)`, '');
  out.push(verdictLine(report));
  return out.join('\n') + '\n';
}
