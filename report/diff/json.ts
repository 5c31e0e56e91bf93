// The diff as JSON: the report as it is, with a format number for consumers.

import type { DiffReport } from '../../diff/types.js';

const DIFF_FORMAT = 1;

export function renderJson(r: DiffReport): string {
  return JSON.stringify({ format: DIFF_FORMAT, ...r }, null, 2) + '\n';
}
