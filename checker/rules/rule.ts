// A proof rule: a stable id (findings.ts RULE_IDS, listed in README.md "check — prove least
// privilege"; SARIF and users' suppressions key on it), one line saying what it proves, and
// a pure function from the check context to findings.

import type { CheckContext } from '../context.js';
import type { Finding, RuleId } from '../findings.js';

export interface CheckRule {
  readonly id: RuleId;
  readonly summary: string;
  /** What to do about a finding of the rule, in general (each finding's help says it for its case). */
  readonly remedy: string;
  /** How bad a failure of the rule is on GitHub's scale, 0.1–10: what an over-grant of its kind lets a guest do. */
  readonly securitySeverity: number;
  run(ctx: CheckContext): Finding[];
}
