// SARIF 2.1.0: one run, one reporting descriptor per proof rule (ids are the stable rule ids),
// one result per finding located at the first real place behind it (the policy rule, else
// the spec line), the rest as related locations, and witness paths as code flows — so code
// scanning UIs show the escalation hop by hop. Given a placement, only files under its root
// are locations (report/sarif.ts says why); a finding whose every place is compiled output
// never written is located at its spec. Told which files are compiled output never written
// (api/check.ts CheckOutcome.unwritten), the messages write their places as the text report
// does (report/check/places.ts) and such places are no locations, with or without a placement.

import type { CheckReport } from '../../checker/check.js';
import { CHECK_RULES } from '../../checker/check.js';
import type { Finding, Location } from '../../checker/findings.js';
import { fileOnly, renderFindingText, type FindingText } from '../../checker/messages.js';
import { findingPlaces } from './places.js';
import { diagnosticsSarifResults, diagnosticsSarifRules, flowLocation, resultLocations, sarifLog, uniqueFingerprints, type SarifDiagnostic, type SarifPlacement } from '../sarif.js';

const LEVEL = { error: 'error', warning: 'warning', note: 'note' } as const;

/** The policy rule (or xl, xenstore line) first, then the spec declaration, then the rest; none that `moved` shows at the spec instead. */
function places(f: Finding, moved: (l: Location) => boolean): Location[] {
  const kept = f.provenance.filter((l) => !moved(l));
  const first = kept.find((l) => l.kind !== 'spec') ?? kept[0];
  return first ? [first, ...kept.filter((l) => l !== first)] : [];
}

/**
 * What the finding is about, without positions: the same finding keeps it when lines move.
 * The places the message names are written as their files alone for that reason — their own
 * files, wherever the message shows them, so a fingerprint does not depend on what was written.
 */
function identity(f: Finding): string {
  const message = renderFindingText(f.message, fileOnly);
  return [f.ruleId, f.subject, f.object, f.class ?? '', f.perms.join(','), (f.objects ?? []).join(','), (f.subjects ?? []).join(','), message].join('/');
}

function result(f: Finding, ruleIndex: number, spec: string, placement: SarifPlacement | undefined, unwritten: ((file: string) => boolean) | undefined): Record<string, unknown> {
  const { moved, place: written } = findingPlaces(f, unwritten);
  const where = places(f, moved).map((place, i) => ({ place, ...(i > 0 ? { message: place.kind === 'spec' ? 'declared here' : 'granted here' } : {}) }));
  const say = (t: FindingText): string => renderFindingText(t, written);
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: LEVEL[f.severity],
    message: { text: f.help ? `${say(f.message)}. ${say(f.help)}` : say(f.message) },
    ...resultLocations(where, placement, { file: spec, line: 1 }),
    ...(f.witness && f.witness.paths.length
      ? {
          codeFlows: f.witness.paths.map((path) => ({
            threadFlows: [{ locations: path.map((h) => ({ location: flowLocation(h.rules[0] && !moved(h.rules[0]) ? h.rules[0] : undefined, `${h.from} —${h.via}→ ${h.to}`, placement) })) }],
          })),
        }
      : {}),
    properties: { subject: f.subject, object: f.object, class: f.class ?? null, perms: f.perms, ...(f.count !== undefined ? { count: f.count, examples: f.examples ?? [] } : {}), ...(f.booleans ? { booleans: f.booleans } : {}) },
  };
}

/**
 * `diagnostics`: the input's warnings, as results under their VP codes after the findings.
 * `placement`: where the locations' files are (absent: file names as the report has them).
 * `unwritten`: whether a file the report names is compiled output never written (absent: none is).
 */
export function reportSarif(report: CheckReport, version: string, diagnostics: readonly SarifDiagnostic[] = [], placement?: SarifPlacement, unwritten?: (file: string) => boolean): string {
  const rules = CHECK_RULES.map((r) => ({
    id: r.id,
    name: r.id.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase()),
    text: r.summary,
    full: `${r.summary[0]?.toUpperCase()}${r.summary.slice(1)}. Each result cites the spec declaration it concerns and the policy rules that make it true.`,
    help: r.remedy,
    helpUri: 'https://github.com/vmipolicy/vmipolicy/blob/main/README.md#proof-rules',
    level: 'error' as const,
    securitySeverity: r.securitySeverity,
  }));
  const index = new Map(CHECK_RULES.map((r, i) => [r.id, i]));
  const fingerprints = uniqueFingerprints(report.findings.map(identity));
  const findings = report.findings.map((f, i) => ({
    ...result(f, index.get(f.ruleId) ?? 0, report.spec, placement, unwritten),
    partialFingerprints: { vmipolicyFinding: fingerprints[i] },
  }));
  const warnings = diagnosticsSarifResults(diagnostics, placement, report.spec);
  return sarifLog(version, [...rules, ...diagnosticsSarifRules(diagnostics)], [...findings, ...warnings], { verdict: report.proven ? 'proven' : 'not-proven', spec: report.spec, policy: report.policy }, placement);
}
