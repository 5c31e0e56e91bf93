// Explaining Xen's avc denials as a library call: the spec compiled (nothing written), the
// log read with its size cap, every denial grouped and explained in capability terms
// (explain/explain.ts). `locate` turns the report's spans (in the log and in the spec) into
// line and column for a renderer.

import type { ScaleLimits } from '../compiler/scale.js';
import { compile } from '../compiler/compile.js';
import { hasErrors, type SourceSpan } from '../core/diagnostics.js';
import { placeAll, type Located, type PlacedDiagnostic } from '../core/located.js';
import { INPUT_KINDS, readInputText } from '../core/read-input.js';
import { positionAt, sourceText, type SourceText } from '../core/source.js';
import { concernsSpec, explainLog, type ExplainReport } from '../explain/explain.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, type ExitCode } from './exit.js';
import { readSpec, type SpecInput } from './spec-input.js';
import { readPolicy } from './policy.js';

/** A log by path, or a name and its text already read (standard input, a test). */
export type LogInput = string | { readonly file: string; readonly text: string };

export interface ExplainOutcome {
  /** 0: no denial concerns the spec; 1: some does; 2: the log or the spec could not be used. */
  readonly exit: ExitCode;
  readonly report?: ExplainReport;
  readonly diagnostics: readonly PlacedDiagnostic[];
  /** Line and column of a span in the log or the spec. */
  readonly locate: (span: SourceSpan) => Located | undefined;
}

export interface ExplainOptions {
  /** The policy the host runs (a policy.conf or a Xen tree): each denial is also decided by it. */
  readonly policy?: string;
  /** Lifts the scale limits the spec is held to (compiler/scale.ts; the defaults otherwise). */
  readonly limits?: Partial<ScaleLimits>;
}

export function explain(log: LogInput, spec: SpecInput, options: ExplainOptions = {}): ExplainOutcome {
  const sources: SourceText[] = [];
  const locate = (span: SourceSpan): Located | undefined => {
    const source = sources.find((s) => s.file === span.file);
    return source ? { file: source.file, ...positionAt(source, span.start) } : undefined;
  };
  const fail = (diagnostics: readonly PlacedDiagnostic[]): ExplainOutcome => ({ exit: EXIT_USAGE, diagnostics, locate });
  const read = readSpec(spec);
  if ('diagnostic' in read) return fail(placeAll([read.diagnostic]));
  const compiled = compile(read, { manifest: false, ...(options.limits ? { limits: options.limits } : {}) });
  if (compiled.source) sources.push(compiled.source);
  if (!compiled.ir || hasErrors(compiled.diagnostics)) return fail(placeAll(compiled.diagnostics, sources));
  const text = typeof log === 'string' ? readInputText(log, INPUT_KINDS.log) : { ok: true as const, text: log.text };
  if (!text.ok) return fail(placeAll([text.diagnostic]));
  const file = typeof log === 'string' ? log : log.file;
  sources.push(sourceText(file, text.text));
  const deployed = options.policy === undefined ? undefined : readPolicy(options.policy);
  if (deployed && !deployed.policy) return fail(deployed.diagnostics);
  // The spec's own warnings are check's to report; here only what stops the reading, and the log's.
  const { report, diagnostics } = explainLog(compiled.ir, { file, text: text.text }, deployed?.policy?.model);
  const exit = report.denials.some(concernsSpec) ? EXIT_FINDINGS : EXIT_OK;
  return { exit, report, diagnostics: placeAll(diagnostics, sources), locate };
}
