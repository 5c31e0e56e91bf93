// The diff as JSON: the report as it is, with a format number for consumers — but for its
// sentences (analysis findings, witness hops, notes), which the report holds as catalog ids
// with arguments (checker/messages.ts, diff/messages.ts) and JSON, a render like the others,
// writes as the prose the text report shows: the documented shape, strings, stays.

import { renderFindingText } from '../../checker/messages.js';
import { renderDiffText } from '../../diff/messages.js';
import type { AnalysisItem, DiffReport } from '../../diff/types.js';

const DIFF_FORMAT = 1;

function item(i: AnalysisItem): Record<string, unknown> {
  return { ...i, message: renderFindingText(i.message), ...(i.witness ? { witness: i.witness.map((w) => ({ ...w, step: renderDiffText(w.step) })) } : {}) };
}

export function renderJson(r: DiffReport): string {
  const prose = {
    ...r,
    analyses: r.analyses.map((a) => ({ ...a, added: a.added.map(item), removed: a.removed.map(item) })),
    notes: r.notes.map((n) => renderDiffText(n)),
  };
  return JSON.stringify({ format: DIFF_FORMAT, ...prose }, null, 2) + '\n';
}
