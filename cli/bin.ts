#!/usr/bin/env node
// The executable: runs the CLI on this process's arguments and sets its exit code.
import { main } from './main.js';
import { terminalSafe } from '../core/terminal.js';

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
  });
} catch (e) {
  // Input errors never throw; reaching here is a bug in vmipolicy, not in the user's spec.
  process.stderr.write(`vmipolicy: internal error: ${terminalSafe((e as Error).message)}\nPlease report it with the spec that caused it.\n`);
  process.exitCode = 70;
}
