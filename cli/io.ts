// What every command shares: where output goes, the exit codes, and how a usage mistake is
// reported. Commands import this, never cli/main.ts, so main → command is the only direction.

import { diagnostic } from '../core/diagnostics.js';
import { terminalSafe } from '../core/terminal.js';
import { locateDiagnostic, type LocatedDiagnostic } from '../report/diagnostics.js';
import { INPUT_KINDS, readStdinText } from '../core/read-input.js';
import { placeAll, type PlacedDiagnostic } from '../core/located.js';
import type { SpecInput } from '../api/spec-input.js';

export { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../api/exit.js';
import { EXIT_USAGE } from '../api/exit.js';

export interface Io {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** --quiet: only errors on stderr (warnings and notes still reach the machine formats). */
  readonly quiet?: boolean;
  /** stderr is a terminal that takes colour (and neither NO_COLOR nor --no-color says otherwise). */
  readonly colour?: boolean;
  /** stderr is a terminal: a person is watching, so long runs say what they are doing. */
  readonly terminal?: boolean;
  /** The terminal's width, when stderr is one: a line redrawn in place must not wrap. */
  readonly columns?: number;
}

/**
 * An Io that also collects the diagnostics its command reports (cli/machine.ts makes one for
 * a machine format). Here, not in machine.ts, so that reporting a diagnostic does not load
 * the failure documents' renderers: `--version` and a usage mistake need none of them.
 */
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

/** A line on what a long run is doing now: on a terminal only (a log or a pipe gets none), and not with --quiet. */
export function progress(io: Io, text: string): void {
  if (io.terminal && !io.quiet) io.stderr(`vmipolicy: ${text}\n`);
}

export function usageError(io: Io, message: string): number {
  io.stderr(`vmipolicy: ${terminalSafe(message)}\nRun 'vmipolicy --help' for usage.\n`);
  recordDiagnostic(io, locateDiagnostic(diagnostic('CliUsage', [message], undefined, "run 'vmipolicy --help' for usage"), undefined));
  return EXIT_USAGE;
}

/** How a spec read from standard input is named in diagnostics and reports. */
export const STDIN_NAME = '<stdin>';

/**
 * A SPEC argument as the library takes it: a path, or `-` for the spec on standard input
 * (`generate-spec | vmipolicy check -`), read to its end under the spec's size cap.
 */
export function specArgument(arg: string): SpecInput | { readonly diagnostics: readonly PlacedDiagnostic[] } {
  if (arg !== '-') return arg;
  const read = readStdinText(INPUT_KINDS.spec);
  return read.ok ? { file: STDIN_NAME, content: read.text } : { diagnostics: placeAll([read.diagnostic]) };
}
