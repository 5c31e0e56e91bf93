// The diff as SARIF 2.1.0 for code-scanning UIs: one result per new access, at the NEW
// location that grants it (the spec line for a spec, else the policy rule), with the other
// rules as related locations. Removals are not results: they never fail a review.

import { VERSION } from '../../compiler/version.js';
import { accessLine, capabilityLine, gainLine, pairsNote } from '../../diff/summary.js';
import { resultLocations, sarifLog, uniqueFingerprints, withoutPositions, type SarifPlacement } from '../sarif.js';
import type { DiffReport, Justification, Location } from '../../diff/types.js';
import { renderFindingText } from '../../checker/messages.js';

const RULES = [
  { id: 'new-access', text: 'NEW grants a permission OLD did not (in some boolean state).' },
  { id: 'new-capability', text: 'An introspector gains a capability, or a capability grants more, on a target.' },
  { id: 'new-xenstore-access', text: 'A domain is given read access to a xenstore node.' },
  { id: 'new-finding', text: 'An analysis (escalation path, information flow) finds something OLD did not have.' },
];

/** Where a new access is fixed: the spec line when there is one, else the rule. */
function primary(js: readonly Justification[]): Location | undefined {
  const n = js.filter((j) => j.side === 'new');
  return n.find((j) => j.spec)?.spec ?? n[0]?.rule;
}

/**
 * `placement`: where the locations' files are (absent: file names as the report has them). A
 * result whose places are all compiled output or files of another revision is located at
 * `fallback` (the NEW input, when it is a file).
 */
export function renderSarif(r: DiffReport, placement?: SarifPlacement, fallback?: string): string {
  const results: Record<string, unknown>[] = [];
  const keys: string[] = [];
  const add = (ruleId: string, text: string, at: Location | undefined, related: Location[] = []): void => {
    const places = [at, ...related].filter((l): l is Location => l !== undefined).map((place) => ({ place }));
    results.push({ ruleId, level: 'error', message: { text }, ...resultLocations(places, placement, fallback !== undefined ? { file: fallback, line: 1 } : undefined) });
    keys.push(`${ruleId}/${withoutPositions(text)}`);
  };
  for (const c of r.spec?.capabilities ?? []) {
    if (c.change === 'gained' || (c.change === 'changed' && c.added.length)) add('new-capability', capabilityLine(c), c.spec);
  }
  for (const x of [...(r.spec?.xenstore ?? []), ...r.xenstore]) {
    if (x.change === 'added') add('new-xenstore-access', `${x.reader} gains access to ${x.node}${x.why ? ` (${x.why})` : ''}`, x.spec);
  }
  for (const c of r.policy.access) {
    if (!c.added.length) continue;
    const news = c.rules.filter((j) => j.side === 'new');
    const at = primary(c.rules);
    const related = news.flatMap((j) => [j.rule, j.spec]).filter((l): l is Location => l !== undefined && l !== at);
    add('new-access', `new access: ${accessLine(c, 'added')}${pairsNote(c)}`, at, related);
  }
  for (const x of r.policy.permissive.added) if (x.gainCount) add('new-access', `permissive ${x.type}: every denial is allowed (${x.gainCount} object/class pairs, e.g. ${x.gains.map(gainLine).join(', ')})`, x.at);
  for (const l of r.policy.objectLabels) {
    if (l.gainCount) add('new-access', `${l.resource} relabelled ${l.oldType ?? '(unlabelled)'} → ${l.newType ?? '(unlabelled)'}: ${l.gainCount} new grants, e.g. ${l.gains.map(gainLine).join(', ')}`, l.new?.at ?? l.old?.at, l.new && l.old ? [l.old.at] : []);
  }
  // A dropped or moved bound unmasks what the bounded type held beyond its parent (diff.ts loosenedBounds).
  for (const st of r.policy.statements.removed) if (st.text.startsWith('typebounds ')) add('new-access', `dropped: ${st.text}`, st.at);
  for (const t of r.policy.transitions) add('new-access', `type_transition ${t.source} ${t.target}:${t.cls}: ${t.old ?? '(default)'} → ${t.new ?? '(default)'}`, t.rules.find((j) => j.side === 'new')?.rule ?? t.rules[0]?.rule);
  for (const a of r.analyses) for (const i of a.added) add('new-finding', `${a.analysis}: ${renderFindingText(i.message)}`, i.location);
  const fingerprints = uniqueFingerprints(keys);
  return sarifLog(VERSION, RULES, results.map((res, i) => ({ ...res, partialFingerprints: { vmipolicyChange: fingerprints[i] } })), undefined, placement);
}
