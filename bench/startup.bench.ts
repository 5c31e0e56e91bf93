// Benchmark: start-up, which is most of a small run. `vmipolicy --version`, `--help` and
// `verify examples/tinyvmi/vmi.yaml` as child processes, beside `node -e 0` (the floor: no
// CLI can start faster than its runtime) and the goals of 0.1 s and 0.3 s (issue 12). For
// each: the median wall time of RUNS runs, the median user+sys CPU time (what the process
// itself spent, which other work on a shared machine disturbs far less than wall time), the
// peak RSS, and each as a ratio of the floor's and of the goal. The commands are run in
// turn within each round, so that a change of load during the benchmark affects them alike.
// `node dist/bench/startup.bench.js [RUNS]` (default 7).

import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, mib, printTable, runCliMeasured, type CliRun } from './support.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const BIN = resolve(ROOT, 'dist', 'cli', 'bin.js');

interface Case {
  readonly name: string;
  /** The script and its arguments, after `node`. */
  readonly argv: readonly [string, ...string[]];
  /** Wall seconds. */
  readonly goal?: number;
  /** The exit status a correct run has (verify of tinyvmi: 0, with warnings). */
  readonly status: string;
}

const FLOOR: Case = { name: 'node -e 0 (floor)', argv: ['-e', '0'], status: 'exit 0' };
const CASES: readonly Case[] = [
  FLOOR,
  { name: 'vmipolicy --version', argv: [BIN, '--version'], goal: 0.1, status: 'exit 0' },
  { name: 'vmipolicy --help', argv: [BIN, '--help'], status: 'exit 0' },
  { name: 'vmipolicy verify tinyvmi', argv: [BIN, 'verify', resolve(ROOT, 'examples', 'tinyvmi', 'vmi.yaml')], goal: 0.3, status: 'exit 0' },
];

const ms = (seconds: number): string => `${(seconds * 1000).toFixed(0)} ms`;
const times = (x: number): string => `${x.toFixed(2)}×`;

function main(): void {
  const runs = Number(process.argv[2] ?? 7);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`RUNS must be a positive whole number, not ${process.argv[2]}`);
  console.log(`start-up: ${runs} rounds on ${cpus().length} CPUs; load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const measured = new Map<Case, CliRun[]>(CASES.map((c) => [c, []]));
  for (let round = 0; round < runs; round++) {
    for (const c of CASES) {
      const r = runCliMeasured(c.argv[0], c.argv.slice(1), 60);
      // A failing command would be timed doing something else: refuse to report it.
      if (r.status !== c.status) throw new Error(`${c.name}: ${r.status}, expected ${c.status}`);
      measured.get(c)?.push(r);
    }
  }
  const summary = (c: Case): { wall: number; cpu: number | undefined; kib: number | undefined } => {
    const rs = measured.get(c) ?? [];
    const cpu = rs.every((r) => r.cpuSeconds !== undefined) ? median(rs.map((r) => r.cpuSeconds as number)) : undefined;
    const kib = rs.every((r) => r.kib !== undefined) ? median(rs.map((r) => r.kib as number)) : undefined;
    return { wall: median(rs.map((r) => r.seconds)), cpu, kib };
  };
  const floor = summary(FLOOR);
  const rows = CASES.map((c) => {
    const s = summary(c);
    return [
      c.name,
      ms(s.wall),
      s.cpu === undefined ? 'n/a' : ms(s.cpu),
      mib(s.kib),
      c.goal === undefined ? '—' : ms(c.goal),
      times(s.wall / floor.wall),
      s.cpu === undefined || floor.cpu === undefined ? 'n/a' : times(s.cpu / floor.cpu),
      s.kib === undefined || floor.kib === undefined ? 'n/a' : times(s.kib / floor.kib),
      c.goal === undefined ? '—' : times(s.wall / c.goal),
    ];
  });
  printTable(['command', 'wall (median)', 'user+sys CPU', 'peak RSS', 'goal (wall)', 'wall / floor', 'CPU / floor', 'RSS / floor', 'wall / goal'], rows);
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main();
