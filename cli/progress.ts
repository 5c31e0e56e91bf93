// Progress inside a long run: one line on stderr, redrawn in place (carriage return, no line
// feed) as the library reports where it is, and wiped before anything else reaches stderr. On a
// terminal only, never with --quiet: a log, a pipe or CI gets nothing (nor does stdout, ever, so
// every report format is the same bytes with or without it). The library reports data
// (api/check.ts CheckPhase, vmi/selftest/selftest.ts SelftestProgress); the words are here.

import { performance } from 'node:perf_hooks';
import type { CheckPhase } from '../api/check.js';
import type { SelftestProgress } from '../vmi/selftest/selftest.js';
import { terminalSafe } from '../core/terminal.js';
import type { Io } from './io.js';

/**
 * Redraws at most this often (milliseconds): a few lines a second can be read, and a
 * self-test of 10 000 sessions must not spend its time writing to the terminal.
 */
export const REDRAW_MS = 250;

/** Room kept at the line's end: a line that fills the last column wraps on some terminals, and \r then redraws only its second half. */
const MARGIN = 1;
const DEFAULT_COLUMNS = 80;

export interface StatusLine {
  /** Whether anything is drawn: when not, a command passes the library no callback at all. */
  readonly active: boolean;
  /** The Io to run the command with: its stderr wipes the status line before writing. */
  readonly io: Io;
  /** Show `text` now if `force` or the last redraw is REDRAW_MS old, else drop it. */
  show(text: string, force?: boolean): void;
  /** Wipe the line (at the end of the run; stderr writes wipe it too). */
  clear(): void;
}

/** A status line on io's stderr; inert (every call a no-op) unless a person is watching. */
export function statusLine(io: Io, clock: () => number = () => performance.now()): StatusLine {
  if (!io.terminal || io.quiet) return { active: false, io, show: () => undefined, clear: () => undefined };
  const width = Math.max(20, (io.columns ?? DEFAULT_COLUMNS) - MARGIN);
  let shown = 0;
  let last = -Infinity;
  const clear = (): void => {
    if (shown === 0) return;
    io.stderr(`\r${' '.repeat(shown)}\r`);
    shown = 0;
  };
  return {
    active: true,
    io: { ...io, stderr: (s) => { clear(); io.stderr(s); } },
    show(text, force = false) {
      const at = clock();
      if (!force && at - last < REDRAW_MS) return;
      last = at;
      const chars = [...`vmipolicy: ${terminalSafe(text)}`];
      const line = chars.length > width ? chars.slice(0, width - 1).join('') + '…' : chars.join('');
      const length = Math.min(chars.length, width);
      io.stderr(`\r${line}${' '.repeat(Math.max(0, shown - length))}`);
      shown = Math.max(length, shown);
    },
    clear,
  };
}

const PHASES: Readonly<Record<CheckPhase, string>> = {
  compile: 'compiling the spec…',
  policy: 'reading the policy…',
  prove: 'proving least privilege…',
};

/** The library's progress callbacks drawing on `status`; none when it is inert. */
export function progressOptions(status: StatusLine): { onPhase?: (phase: CheckPhase) => void; onProgress?: (progress: SelftestProgress) => void } {
  if (!status.active) return {};
  return { onPhase: (phase) => showPhase(status, phase), onProgress: (progress) => showSelftest(status, progress) };
}

/** A check phase as the status line says it; shown at once, there are only three. */
function showPhase(status: StatusLine, phase: CheckPhase): void {
  status.show(PHASES[phase], true);
}

/** A self-test's progress as the status line says it, at most every REDRAW_MS (its start at once: the boot line would otherwise stand for the whole run). */
function showSelftest(status: StatusLine, p: SelftestProgress): void {
  if (p.phase === 'boot') return status.show('self-test: booting the simulated host…', true);
  const sessions = p.targets > 1 ? `, target ${p.targetsDone}/${p.targets}` : '';
  status.show(`self-test: introspector ${p.index + 1}/${p.introspectors} (${p.introspector})${sessions}…`, p.index === 0 && p.targetsDone === 0);
}
