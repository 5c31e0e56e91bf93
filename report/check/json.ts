// The JSON report (`check --format json`, README.md "check — prove least privilege"): the
// verdict, counts per rule and severity, and every finding as { ruleId, severity, message,
// subject, object, class, perms[], provenance[], witness? };
// a finding that stands for several instances (nodes, pairs) adds { count, examples[] }.

import type { CheckReport } from '../../checker/check.js';
import type { Finding } from '../../checker/findings.js';
import { renderFindingText } from '../../checker/messages.js';

function findingJson(f: Finding): Record<string, unknown> {
  return {
    ruleId: f.ruleId,
    severity: f.severity,
    message: renderFindingText(f.message),
    subject: f.subject,
    object: f.object,
    class: f.class ?? null,
    perms: f.perms,
    ...(f.objects ? { objects: f.objects } : {}),
    ...(f.subjects ? { subjects: f.subjects } : {}),
    ...(f.count !== undefined ? { count: f.count, examples: f.examples ?? [] } : {}),
    provenance: f.provenance.map((l) => ({ file: l.file, line: l.line, column: l.column, kind: l.kind, ...(l.text ? { text: l.text } : {}) })),
    ...(f.witness ? { witness: f.witness } : {}),
    ...(f.booleans ? { booleans: f.booleans } : {}),
    ...(f.help ? { help: renderFindingText(f.help) } : {}),
  };
}

/**
 * The JSON report as data, for a document that embeds it (verify's stages).
 * `diagnostics`: the input's warnings (already placed in the user's files), kept beside the findings.
 */
export function reportDocument(report: CheckReport, diagnostics: readonly object[] = []): Record<string, unknown> {
  return {
    verdict: report.proven ? 'proven' : 'not-proven',
    spec: report.spec,
    policy: report.policy,
    introspectors: report.introspectors,
    counts: report.counts,
    findings: report.findings.map(findingJson),
    ...(diagnostics.length ? { diagnostics } : {}),
  };
}

export function reportJson(report: CheckReport, diagnostics: readonly object[] = []): string {
  return JSON.stringify(reportDocument(report, diagnostics), null, 2) + '\n';
}
