#!/usr/bin/env node
// The executable: runs the CLI on this process's arguments and sets its exit code.
import { setFlagsFromString } from 'node:v8';
import { main } from './main.js';
import { terminalSafe } from '../core/terminal.js';

// Between two full collections V8 lets its heap grow to up to four times what was live after
// the first: a self-test of 10 000 domains then peaked at 2.7 GiB of mostly garbage. At most
// twice (V8's heap_growing_percent, read at every limit it computes) it peaks at 1.07 GiB
// (verify of 100 × 100 targets, 33 s). Half again kept it at 0.9 GiB but cost a full
// collection more often: `check` of 10 000 targets took 5.8 s instead of 5.45 s and verify
// 36.7 s, and the largest specs the default scale limits let through peak at 0.69 GiB either
// way (bench/limits.bench.ts). A small run's heap never grows enough for it to matter. Set
// for this process only (a library caller owns its own heap), and only for the commands
// whose heap holds several hosts' worth at once: `compile` and `check` of 10 000 targets
// peak at the same 0.5 and 0.7 GiB either way, and bounded growth made `check` 0.25 s slower
// (5.55 s against 5.3 s), collecting in full more often for nothing.
const BOUNDED_GROWTH = new Set(['verify', 'diff']);
if (BOUNDED_GROWTH.has(process.argv[2] ?? '')) setFlagsFromString('--heap-growing-percent=100');

const ISSUES = 'https://github.com/vmipolicy/vmipolicy/issues';

// A reader that stops early (`vmipolicy … | head`) closes the pipe: that is the user's
// choice, not an error, so stop quietly instead of dying with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

try {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    // Colour only for a person at a terminal: never in a pipe or a file, never when NO_COLOR
    // is set to anything (no-color.org), never on a terminal that says it is dumb.
    colour: process.stderr.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb',
    terminal: process.stderr.isTTY === true,
    ...(process.stderr.isTTY === true && process.stderr.columns > 0 ? { columns: process.stderr.columns } : {}),
  });
} catch (e) {
  // Input errors never throw; reaching here is a bug in vmipolicy, not in the user's spec.
  process.stderr.write(`vmipolicy: internal error: ${terminalSafe((e as Error).message)}\nPlease report it at ${ISSUES} with the spec that caused it.\n`);
  process.exitCode = 70;
}
