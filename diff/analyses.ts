// The checker's graph analyses as diff analyses: for a spec side, the escalation paths,
// cross-target flows and reverse access the checker finds over that side's whole policy.
// Matched across sides by (rule, subject, object) — not by message, whose line numbers move
// with every edit — so a review sees exactly the paths a change opens or closes.

import { runChecks } from '../checker/check.js';
import type { Finding, RuleId } from '../checker/findings.js';
import type { AnalysisItem } from './types.js';
import { diffText } from './messages.js';
import type { AnalysisSide, DiffAnalysis } from './diff.js';

function analysis(name: string, rule: RuleId): DiffAnalysis {
  return {
    name,
    findings(side: AnalysisSide): AnalysisItem[] {
      // A policy alone declares no introspectors: there is nothing to measure a path against.
      if (!side.ir || !side.source) return [];
      const report = runChecks({ ir: side.ir, spec: side.source, model: side.model, policyName: side.side, rules: [rule] });
      return report.findings.filter((f) => f.severity !== 'note').map(toItem);
    },
    key: (item) => `${rule}\u0000${item.subject ?? ''}\u0000${item.object ?? ''}`,
  };
}

function toItem(f: Finding): AnalysisItem {
  const path = f.witness?.paths[0];
  const rule = f.provenance.find((l) => l.kind === 'policy');
  return {
    message: f.message,
    subject: f.subject,
    object: f.object,
    ...(path ? { witness: path.map((h) => ({ step: diffText('WitnessStep', [h.from, h.via, h.to]), ...(h.rules[0] ? { rule: { file: h.rules[0].file, line: h.rules[0].line, column: h.rules[0].column } } : {}) })) } : {}),
    ...(rule ? { location: { file: rule.file, line: rule.line, column: rule.column } } : {}),
  };
}

/** Escalation paths, information flows between targets, and guests' power over introspectors. */
export const CHECKER_ANALYSES: readonly DiffAnalysis[] = [
  analysis('escalation paths', 'escalation'),
  analysis('cross-target flows', 'cross-target-flow'),
  analysis('reverse access', 'reverse-access'),
];
