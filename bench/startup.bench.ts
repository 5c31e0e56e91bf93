// Benchmark: start-up, which is most of a small run. `vmipolicy --version`, `--help` and
// `verify examples/tinyvmi/vmi.yaml` as child processes, beside `node -e 0` (the floor: no
// CLI can start faster than its runtime) and the goals of 0.1 s and 0.3 s; the median of
// RUNS runs each, with peak RSS. `node dist/bench/startup.bench.js [RUNS]`.

import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, mib, printTable, runCliMeasured } from './support.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const BIN = resolve(ROOT, 'dist', 'cli', 'bin.js');

interface Case {
  readonly name: string;
  readonly args: readonly string[];
  /** Seconds. */
  readonly goal?: number;
}

const CASES: readonly Case[] = [
  { name: 'vmipolicy --version', args: ['--version'], goal: 0.1 },
  { name: 'vmipolicy --help', args: ['--help'] },
  { name: 'vmipolicy verify tinyvmi', args: ['verify', resolve(ROOT, 'examples', 'tinyvmi', 'vmi.yaml')], goal: 0.3 },
];

/** `node -e 0` through the same wrappers (timeout, GNU time) as the commands. */
function floorSeconds(): number {
  return runCliMeasured('-e', ['0'], 60).seconds;
}

function main(): void {
  const runs = Number(process.argv[2] ?? 7);
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const floor = median(Array.from({ length: runs }, floorSeconds));
  const rows = [['node -e 0 (floor)', `${(floor * 1000).toFixed(0)} ms`, '—', '—', '1.00×', '—']];
  for (const c of CASES) {
    const measured = Array.from({ length: runs }, () => runCliMeasured(BIN, c.args, 60));
    const seconds = median(measured.map((m) => m.seconds));
    const kib = median(measured.map((m) => m.kib ?? 0));
    rows.push([c.name, `${(seconds * 1000).toFixed(0)} ms`, mib(kib), c.goal === undefined ? '—' : `${c.goal * 1000} ms`, `${(seconds / floor).toFixed(2)}×`, c.goal === undefined ? '—' : `${(seconds / c.goal).toFixed(2)}×`]);
  }
  printTable(['command', `median of ${runs}`, 'peak RSS', 'goal', 'of floor', 'of goal'], rows);
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main();
