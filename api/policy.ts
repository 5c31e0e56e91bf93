// Reading any Xen FLASK policy as a library call: a policy.conf, or a Xen tree's
// tools/flask/policy expanded as Xen's Makefile does (m4 confined to the tree). The loaded
// policy carries its text, AST, LineMap and model (query it with policy/model/query.ts).

import { inPolicy, placeAll, type PlacedDiagnostic } from '../core/located.js';
import { loadPolicy, type LoadedPolicy, type LoadPolicyOptions } from '../policy/load.js';
import { EXIT_OK, EXIT_USAGE, type ExitCode } from './exit.js';

export interface PolicyOutcome {
  readonly exit: ExitCode;
  readonly policy?: LoadedPolicy;
  /** Placed in the user's own files through the policy's LineMap when it was parsed. */
  readonly diagnostics: readonly PlacedDiagnostic[];
}

export function readPolicy(path: string, options: LoadPolicyOptions = {}): PolicyOutcome {
  const load = loadPolicy(path, options);
  const diagnostics = placeAll(load.diagnostics, [], load.parsed ? inPolicy(load.parsed) : undefined);
  return load.policy ? { exit: EXIT_OK, policy: load.policy, diagnostics } : { exit: EXIT_USAGE, diagnostics };
}
