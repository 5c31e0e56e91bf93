// The three outcomes every vmipolicy operation ends in, as the command line's exit codes:
// the library reports them too, so a caller and the CLI agree on what "failed" means.

import type { Diagnostic } from '../core/diagnostics.js';

/** All holds: proven, passed, written, no new access. */
export const EXIT_OK = 0;
/** The input was read and the answer is no: findings, a self-test not as expected, new access. */
export const EXIT_FINDINGS = 1;
/** The input could not be used: bad spec or policy, wrong usage. */
export const EXIT_USAGE = 2;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FINDINGS | typeof EXIT_USAGE;

/** What stopped an operation before it had an answer, and the diagnostics that say why. */
export interface Failure {
  /** Reading the spec (or an input beside it), the policy, or booting the simulated host. */
  readonly reading: 'spec' | 'policy' | 'host';
  /** The diagnostics of that failure (the outcome's list also holds the warnings before it). */
  readonly diagnostics: readonly Diagnostic[];
}
