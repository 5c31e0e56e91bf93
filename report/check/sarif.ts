// SARIF 2.1.0: one run, one reporting descriptor per proof rule (ids are the stable rule ids),
// one result per finding located at the first real place behind it (the policy rule, else
// the spec line), the rest as related locations, and witness paths as code flows — so code
// scanning UIs show the escalation hop by hop.

import type { CheckReport } from '../../checker/check.js';
import { CHECK_RULES } from '../../checker/check.js';
import type { Finding, Location } from '../../checker/findings.js';
import { diagnosticsSarifResults, diagnosticsSarifRules, sarifLocation, sarifLog, type SarifDiagnostic } from '../sarif.js';

const LEVEL = { error: 'error', warning: 'warning', note: 'note' } as const;

function primary(f: Finding): Location | undefined {
  return f.provenance.find((l) => l.kind !== 'spec') ?? f.provenance[0];
}

function result(f: Finding, ruleIndex: number): Record<string, unknown> {
  const first = primary(f);
  const related = f.provenance.filter((l) => l !== first);
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: LEVEL[f.severity],
    message: { text: f.help ? `${f.message}. ${f.help}` : f.message },
    locations: first ? [sarifLocation(first)] : [],
    ...(related.length ? { relatedLocations: related.map((l, i) => ({ id: i + 1, ...sarifLocation(l), message: { text: l.kind === 'spec' ? 'declared here' : 'granted here' } })) } : {}),
    ...(f.witness && f.witness.paths.length
      ? {
          codeFlows: f.witness.paths.map((path) => ({
            threadFlows: [{
              locations: path.map((h) => ({
                location: { ...(h.rules[0] ? sarifLocation(h.rules[0]) : {}), message: { text: `${h.from} —${h.via}→ ${h.to}` } },
              })),
            }],
          })),
        }
      : {}),
    partialFingerprints: { vmipolicyFinding: `${f.ruleId}/${f.subject}/${f.object}/${f.class ?? ''}/${f.perms.join(',')}` },
    properties: { subject: f.subject, object: f.object, class: f.class ?? null, perms: f.perms, ...(f.count !== undefined ? { count: f.count, examples: f.examples ?? [] } : {}), ...(f.booleans ? { booleans: f.booleans } : {}) },
  };
}

/** `diagnostics`: the input's warnings, as results under their VP codes after the findings. */
export function reportSarif(report: CheckReport, version: string, diagnostics: readonly SarifDiagnostic[] = []): string {
  const rules = CHECK_RULES.map((r) => ({
    id: r.id,
    name: r.id.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase()),
    text: r.summary,
    helpUri: 'https://github.com/vmipolicy/vmipolicy/blob/main/README.md#proof-rules',
    level: 'error' as const,
  }));
  const index = new Map(CHECK_RULES.map((r, i) => [r.id, i]));
  const findings = report.findings.map((f) => result(f, index.get(f.ruleId) ?? 0));
  return sarifLog(version, [...rules, ...diagnosticsSarifRules(diagnostics)], [...findings, ...diagnosticsSarifResults(diagnostics)], { verdict: report.proven ? 'proven' : 'not-proven', spec: report.spec, policy: report.policy });
}
