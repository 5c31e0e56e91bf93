// Machine formats on failure. A CI step parses or uploads what `--format json|sarif|markdown`
// writes on stdout; when the input is bad (exit 2) it must still receive a valid document of
// that format, carrying the diagnostics that stopped the run, instead of an empty stream.
// Commands report each diagnostic through `reportDiagnostic` (cli/render.ts), which also
// records it here; `withMachineFailure` writes the document when the command wrote none.

import type { Diagnostic, Severity } from '../core/diagnostics.js';
import { VERSION } from '../compiler/index.js';
import { md } from '../report/diff/markdown.js';
import { diagnosticsSarifResults, diagnosticsSarifRules, sarifLog } from '../report/sarif.js';
import type { Io } from './main.js';
import type { Located } from './render.js';

/** A diagnostic as data for JSON and SARIF: its span resolved to the user's file, 1-based. */
export interface LocatedDiagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly help?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly endLine?: number;
  readonly endColumn?: number;
}

/** `locate` maps an offset of the span's text to the user's file; without it only the file is known. */
export function locateDiagnostic(d: Diagnostic, locate: ((offset: number) => Located) | undefined): LocatedDiagnostic {
  const start = d.span && locate ? locate(d.span.start) : undefined;
  const end = d.span && locate ? locate(d.span.end) : undefined;
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    ...(d.help ? { help: d.help } : {}),
    ...(start ? { file: start.file } : d.span ? { file: d.span.file } : {}),
    ...(start && end ? { line: start.line, column: start.column, endLine: end.line, endColumn: end.column } : {}),
  };
}

/** An Io that also collects the diagnostics its command reports. */
export interface DiagnosticIo extends Io {
  readonly record: (d: LocatedDiagnostic) => void;
  readonly recorded: () => readonly LocatedDiagnostic[];
}

export function recordDiagnostic(io: Io, d: LocatedDiagnostic): void {
  (io as Partial<DiagnosticIo>).record?.(d);
}

export function recordedDiagnostics(io: Io): readonly LocatedDiagnostic[] {
  return (io as Partial<DiagnosticIo>).recorded?.() ?? [];
}

export function failureJson(diagnostics: readonly LocatedDiagnostic[]): string {
  return JSON.stringify({ ok: false, diagnostics }, null, 2) + '\n';
}

export function failureSarif(diagnostics: readonly LocatedDiagnostic[]): string {
  return sarifLog(VERSION, diagnosticsSarifRules(diagnostics), diagnosticsSarifResults(diagnostics), { ok: false });
}

/** A pull-request comment body: every input string escaped by the diff's markdown escaping. */
export function failureMarkdown(diagnostics: readonly LocatedDiagnostic[]): string {
  const lines = diagnostics.map((d) => {
    const where = d.file !== undefined ? `${md(d.file)}${d.line !== undefined ? `:${d.line}:${d.column ?? 1}` : ''}: ` : '';
    return `- ${d.severity} \`${d.code}\` ${where}${md(d.message)}${d.help ? ` (${md(d.help)})` : ''}`;
  });
  return ['### vmipolicy could not run', '', `vmipolicy could not run: ${diagnostics.length} input diagnostic${diagnostics.length === 1 ? '' : 's'} (exit 2).`, '', ...lines].join('\n') + '\n';
}

const FAILURE_DOCUMENTS: Readonly<Record<string, (d: readonly LocatedDiagnostic[]) => string>> = {
  json: failureJson,
  sarif: failureSarif,
  markdown: failureMarkdown,
};

/** The value of the last `--format` in argv (`--format X` or `--format=X`), as the parsers read it. */
export function formatArgument(argv: readonly string[]): string | undefined {
  let format: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    if (a === '--format') format = argv[++i];
    else if (a.startsWith('--format=')) format = a.slice('--format='.length);
  }
  return format;
}

/**
 * Runs a command with an Io that records its diagnostics; on exit 2 with a machine format
 * and nothing on stdout yet, writes the failure document. A command that wrote its own
 * document (verify's stages) keeps it.
 */
export function withMachineFailure<R extends number | Promise<number>>(format: string | undefined, io: Io, run: (io: Io) => R): R {
  const render = format === undefined ? undefined : FAILURE_DOCUMENTS[format];
  if (!render) return run(io);
  const diagnostics: LocatedDiagnostic[] = [];
  let wrote = false;
  const machine: DiagnosticIo = {
    stdout: (s) => { wrote = true; io.stdout(s); },
    stderr: io.stderr,
    record: (d) => { diagnostics.push(d); },
    recorded: () => diagnostics,
  };
  const done = (exit: number): number => {
    if (exit === 2 && !wrote) io.stdout(render(diagnostics));
    return exit;
  };
  const exit = run(machine);
  return (typeof exit === 'number' ? done(exit) : exit.then(done)) as R;
}

/** A command whose exit 2 still gives a document in each of its machine `formats`. */
export function machineCommand<R extends number | Promise<number>>(formats: readonly string[], run: (argv: readonly string[], io: Io) => R): (argv: readonly string[], io: Io) => R {
  return (argv, io) => {
    const format = formatArgument(argv);
    return withMachineFailure(format !== undefined && formats.includes(format) ? format : undefined, io, (io) => run(argv, io));
  };
}
