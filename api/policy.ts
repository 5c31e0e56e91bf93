// Reading any Xen FLASK policy as a library call: a policy.conf, or a Xen tree's
// tools/flask/policy expanded as Xen's Makefile does (m4 confined to the tree). The loaded
// policy carries its text, AST, LineMap and model (query it with policy/model/query.ts).

import { inPolicy, placeAll, type PlacedDiagnostic } from '../core/located.js';
import { diagnostic, type Diagnostic } from '../core/diagnostics.js';
import { printStatement } from '../policy/grammar/printer.js';
import { neverallowViolations } from '../checker/rules/neverallow.js';
import { loadPolicy, policyFromText, type LoadedPolicy, type LoadPolicyOptions } from '../policy/load.js';
import { WriteError, writeBinaryPolicy, type WriteOptions } from '../policy/binary/write.js';
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

export interface BinaryOutcome {
  readonly exit: ExitCode;
  /** The binary policy, byte for byte what `checkpolicy -t Xen -c <version>` writes. */
  readonly bytes?: Uint8Array;
  readonly diagnostics: readonly PlacedDiagnostic[];
}

/**
 * The loadable binary policy (xenpolicy) of a policy.conf, a Xen tree or a binary, written
 * as checkpolicy writes it (policy/binary/write.ts): a host built without checkpolicy.
 */
export function buildBinaryPolicy(path: string, options: LoadPolicyOptions & WriteOptions = {}): BinaryOutcome {
  const load = loadPolicy(path, options);
  const place = load.parsed ? inPolicy(load.parsed) : undefined;
  if (!load.policy) return { exit: EXIT_USAGE, diagnostics: placeAll(load.diagnostics, [], place) };
  return binaryOf(load.policy, options, placeAll(load.diagnostics, [], place), place);
}

/** The binary policy of policy text already loaded (compile --binary: the policy.conf it made). */
export function binaryPolicyOfText(file: string, text: string, options: WriteOptions = {}): BinaryOutcome {
  const load = policyFromText(file, text);
  const place = load.parsed ? inPolicy(load.parsed) : undefined;
  if (!load.policy) return { exit: EXIT_USAGE, diagnostics: placeAll(load.diagnostics, [], place) };
  return binaryOf(load.policy, options, placeAll(load.diagnostics, [], place), place);
}

function binaryOf(policy: LoadedPolicy, options: WriteOptions, diagnostics: readonly PlacedDiagnostic[], place: ReturnType<typeof inPolicy> | undefined): BinaryOutcome {
  const broken = neverallowBroken(policy);
  if (broken) return { exit: EXIT_USAGE, diagnostics: [...diagnostics, ...placeAll([broken], [], place)] };
  try {
    return { exit: EXIT_OK, bytes: writeBinaryPolicy(policy.ast, options), diagnostics };
  } catch (e) {
    if (!(e instanceof WriteError)) throw e;
    const d = diagnostic('BinaryPolicyUnwritable', [policy.file, e.message], e.span);
    return { exit: EXIT_USAGE, diagnostics: [...diagnostics, ...placeAll([d], [], place)] };
  }
}

/**
 * checkpolicy refuses to write a policy in which an allow rule grants what a neverallow
 * forbids (libsepol expand.c check_assertions, "neverallow violated"), so neither do we: the
 * first such rule, placed on the allow rule.
 */
function neverallowBroken(policy: LoadedPolicy): Diagnostic | undefined {
  const v = neverallowViolations(policy.model, { inactiveToo: true })[0];
  if (!v) return undefined;
  const [s, t] = v.first;
  const granted = [...v.perms].map(([cls, perms]) => `${cls}:{ ${perms.join(' ')} }`).join(', ');
  const never = printStatement(v.never.statement).join(' ').replace(/\s+/g, ' ').trim();
  const why = `this allow rule grants ${policy.model.types[s]} ${granted} on ${policy.model.types[t]}${v.count > 1 ? ` (and ${v.count - 1} more type pairs)` : ''}, which \`${never}\` forbids; checkpolicy refuses such a policy`;
  return diagnostic('BinaryPolicyUnwritable', [policy.file, why], v.allow.statement.span, 'remove those permissions from the allow rule, or the neverallow if the grant is meant');
}
