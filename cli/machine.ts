// Machine formats on failure. A CI step parses or uploads what `--format json|sarif|markdown`
// writes on stdout; when the input is bad (exit 2) it must still receive a valid document of
// that format, carrying the diagnostics that stopped the run, instead of an empty stream.
// Commands report each diagnostic through `reportAll` (cli/render.ts), which also
// records it here; `withMachineFailure` writes the document when the command wrote none.

import { VERSION } from '../compiler/version.js';
import { md } from '../report/markdown.js';
import { failurePage } from '../report/html/page.js';
import { diagnosticsSarifResults, diagnosticsSarifRules, sarifLog } from '../report/sarif.js';
import type { LocatedDiagnostic } from '../report/diagnostics.js';
import type { DiagnosticIo, Io } from './io.js';
import { sarifPlacement } from './sarif-placement.js';

export function failureJson(diagnostics: readonly LocatedDiagnostic[]): string {
  return JSON.stringify({ ok: false, diagnostics }, null, 2) + '\n';
}

/**
 * The diagnostics as SARIF results, each at its own file when that is a file under the root
 * (--sarif-root, else the git work tree), else at the first such file among them: code
 * scanning refuses a result without a location.
 */
export function failureSarif(diagnostics: readonly LocatedDiagnostic[], argv: readonly string[] = []): string {
  const named = diagnostics.flatMap((d) => (d.file ? [d.file] : []));
  const placement = sarifPlacement(flagArgument(argv, '--sarif-root'), new Map(named.map((f) => [f, f])));
  const fallback = named.find((f) => placement.open(f) !== undefined);
  return sarifLog(VERSION, diagnosticsSarifRules(diagnostics), diagnosticsSarifResults(diagnostics, placement, fallback), { ok: false }, placement);
}

/** A pull-request comment body: every input string escaped by the diff's markdown escaping. */
export function failureMarkdown(diagnostics: readonly LocatedDiagnostic[]): string {
  const lines = diagnostics.map((d) => {
    const where = d.file !== undefined ? `${md(d.file)}${d.line !== undefined ? `:${d.line}:${d.column ?? 1}` : ''}: ` : '';
    return `- ${d.severity} \`${d.code}\` ${where}${md(d.message)}${d.help ? ` (${md(d.help)})` : ''}`;
  });
  return ['### vmipolicy could not run', '', `vmipolicy could not run: ${diagnostics.length} input diagnostic${diagnostics.length === 1 ? '' : 's'} (exit 2).`, '', ...lines].join('\n') + '\n';
}

const FAILURE_DOCUMENTS: Readonly<Record<string, (d: readonly LocatedDiagnostic[], argv: readonly string[]) => string>> = {
  json: failureJson,
  sarif: failureSarif,
  markdown: failureMarkdown,
  html: (diagnostics) => failurePage(diagnostics),
};

/** The value of the last `FLAG` in argv (`FLAG X` or `FLAG=X`), as the parsers read it. */
export function flagArgument(argv: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    if (a === flag) value = argv[++i];
    else if (a.startsWith(`${flag}=`)) value = a.slice(flag.length + 1);
  }
  return value;
}

/**
 * Runs a command with an Io that records its diagnostics; on exit 2 with a machine format
 * and nothing on stdout yet, writes the failure document. A command that wrote its own
 * document (verify's stages) keeps it.
 */
export function withMachineFailure<R extends number | Promise<number>>(format: string | undefined, io: Io, run: (io: Io) => R, argv: readonly string[] = []): R {
  const render = format === undefined ? undefined : FAILURE_DOCUMENTS[format];
  if (!render) return run(io);
  const diagnostics: LocatedDiagnostic[] = [];
  let wrote = false;
  const machine: DiagnosticIo = {
    ...io,
    stdout: (s) => { wrote = true; io.stdout(s); },
    record: (d) => { diagnostics.push(d); },
    recorded: () => diagnostics,
  };
  const done = (exit: number): number => {
    if (exit === 2 && !wrote) io.stdout(render(diagnostics, argv));
    return exit;
  };
  const exit = run(machine);
  return (typeof exit === 'number' ? done(exit) : exit.then(done)) as R;
}

/** A command whose exit 2 still gives a document in each of its machine `formats`. */
export function machineCommand<R extends number | Promise<number>>(formats: readonly string[], run: (argv: readonly string[], io: Io) => R): (argv: readonly string[], io: Io) => R {
  return (argv, io) => {
    const format = flagArgument(argv, '--format');
    return withMachineFailure(format !== undefined && formats.includes(format) ? format : undefined, io, (io) => run(argv, io), argv);
  };
}
