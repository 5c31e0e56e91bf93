#!/usr/bin/env node
// The executable: runs the CLI on this process's arguments and sets its exit code.
import { main } from './main.js';

try {
  process.exitCode = main(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  });
} catch (e) {
  // Input errors never throw; reaching here is a bug in vmipolicy, not in the user's spec.
  process.stderr.write(`vmipolicy: internal error: ${(e as Error).message}\nPlease report it with the spec that caused it.\n`);
  process.exitCode = 70;
}
