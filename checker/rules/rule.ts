// A proof rule: a stable id (DESIGN §5; SARIF and users' suppressions key on it), one line
// saying what it proves, and a pure function from the check context to findings.

import type { CheckContext } from '../context.js';
import type { Finding, RuleId } from '../findings.js';

export interface CheckRule {
  readonly id: RuleId;
  readonly summary: string;
  run(ctx: CheckContext): Finding[];
}
