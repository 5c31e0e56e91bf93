// Compiling a spec as a library call: the artifacts (policy, xl snippets, xenstore scripts,
// manifest) as a map of relative path → text, nothing written. Nothing is produced unless
// every phase succeeded.

import { compile, type CompileOptions, type CompileResult } from '../compiler/compile.js';
import { placeAll, type PlacedDiagnostic } from '../core/located.js';
import { EXIT_OK, EXIT_USAGE, type ExitCode } from './exit.js';
import { readSpec, type SpecInput } from './spec-input.js';

export interface CompileOutcome extends Omit<CompileResult, 'diagnostics'> {
  readonly exit: ExitCode;
  readonly diagnostics: readonly PlacedDiagnostic[];
}

export function compileSpec(spec: SpecInput, options: CompileOptions = {}): CompileOutcome {
  const read = readSpec(spec);
  if ('diagnostic' in read) return { exit: EXIT_USAGE, diagnostics: placeAll([read.diagnostic]) };
  const { diagnostics, ...result } = compile(read, options);
  const placed = placeAll(diagnostics, result.source ? [result.source] : []);
  return { ...result, exit: result.artifacts ? EXIT_OK : EXIT_USAGE, diagnostics: placed };
}
