// Benchmark: start-up, which is most of a small run. `vmipolicy --version`, `--help` and
// `verify examples/tinyvmi/vmi.yaml` as child processes, beside `node -e 0` (the floor: no
// CLI can start faster than its runtime) and the goals of 0.1 s and 0.3 s (issue 12). The
// executable is the one package.json's "bin" names (the bundle tools/bundle.ts makes); the
// compiled tree's dist/cli/bin.js, which the tests run, is timed beside it. For
// each: the median wall time of RUNS runs, the median user+sys CPU time (what the process
// itself spent, which other work on a shared machine disturbs far less than wall time), the
// peak RSS, and each as a ratio of the floor's and of the goal. The commands are run in
// turn within each round, so that a change of load during the benchmark affects them alike.
// Then `vmipolicy policy query` beside sesearch on the same policy (see queryBeside).
// `node dist/bench/startup.bench.js [RUNS]` (default 7).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, mib, printTable, recordGoal, runCliMeasured, runMeasured, type CliRun } from './support.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
/** What `vmipolicy` runs once installed: package.json's "bin". */
const BIN = resolve(ROOT, (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { bin: { vmipolicy: string } }).bin.vmipolicy);
/** The compiled tree, unbundled. */
const TREE_BIN = resolve(ROOT, 'dist', 'cli', 'bin.js');
const TINYVMI = resolve(ROOT, 'examples', 'tinyvmi', 'vmi.yaml');

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
  { name: 'vmipolicy verify tinyvmi', argv: [BIN, 'verify', TINYVMI], goal: 0.3, status: 'exit 0' },
  { name: 'dist/cli/bin.js --version', argv: [TREE_BIN, '--version'], status: 'exit 0' },
  { name: 'dist/cli/bin.js verify tinyvmi', argv: [TREE_BIN, 'verify', TINYVMI], status: 'exit 0' },
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
  for (const c of CASES) {
    if (c.goal === undefined) continue;
    const s = summary(c);
    recordGoal({ measure: `${c.name} (wall)`, ours: ms(s.wall), peer: `node -e 0: ${ms(floor.wall)}`, goal: `≤ ${ms(c.goal)}`, ratio: `${times(s.wall / c.goal)} of the goal`, met: s.wall <= c.goal });
  }
  queryBeside(runs);
}

const SHARED = process.env.VMIPOLICY_SHARED ?? resolve(ROOT, '..', 'shared');

/**
 * `vmipolicy policy query` on Xen 4.22's policy.conf beside setools' `sesearch -A` on the
 * binary checkpolicy compiles from it, the same question (what dom0_t may do), in
 * alternating rounds; goal (issue 12): ours faster. Skipped with a note without ../shared,
 * checkpolicy or sesearch.
 */
function queryBeside(runs: number): void {
  const conf = join(SHARED, 'corpus', 'xen-4.22', 'policy.conf');
  if (!existsSync(conf)) return console.log(`\npolicy query vs sesearch: skipped, ${conf} is absent`);
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-startup-bench-'));
  try {
    const binary = join(dir, 'xenpolicy');
    const compiled = spawnSync('checkpolicy', ['-t', 'Xen', '-c', '30', conf, '-o', binary], { encoding: 'utf8' });
    if (compiled.error || compiled.status !== 0) return console.log('\npolicy query vs sesearch: skipped, checkpolicy could not compile the 4.22 policy');
    const ours: CliRun[] = [];
    const theirs: CliRun[] = [];
    for (let round = 0; round < runs; round++) {
      const o = runCliMeasured(BIN, ['policy', 'query', conf, '-s', 'dom0_t'], 60);
      const t = runMeasured(['sesearch', '-A', '-s', 'dom0_t', binary], 60);
      if (o.status !== 'exit 0') throw new Error(`policy query: ${o.status}`);
      if (t.status !== 'exit 0') return console.log(`\npolicy query vs sesearch: skipped, sesearch ${t.status} (setools installed?)`);
      ours.push(o);
      theirs.push(t);
    }
    const wall = (rs: readonly CliRun[]): number => median(rs.map((r) => r.seconds));
    const cpu = (rs: readonly CliRun[]): number | undefined => (rs.every((r) => r.cpuSeconds !== undefined) ? median(rs.map((r) => r.cpuSeconds as number)) : undefined);
    const row = (name: string, rs: readonly CliRun[]): string[] => {
      const c = cpu(rs);
      return [name, ms(wall(rs)), c === undefined ? 'n/a' : ms(c), mib(median(rs.map((r) => r.kib ?? 0)))];
    };
    console.log(`\npolicy query on Xen 4.22's policy.conf vs sesearch -A on checkpolicy's binary of it (-s dom0_t), ${runs} alternating rounds; load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    printTable(['command', 'wall (median)', 'user+sys CPU', 'peak RSS'], [row('vmipolicy policy query', ours), row('sesearch -A', theirs)]);
    const [oc, tc] = [cpu(ours), cpu(theirs)];
    console.log(`sesearch / ours: wall ${times(wall(theirs) / wall(ours))}${oc !== undefined && tc !== undefined ? `, CPU ${times(tc / oc)}` : ''} (goal: > 1×, ours faster)`);
    recordGoal({ measure: 'policy query on the 4.22 corpus policy (wall)', ours: ms(wall(ours)), peer: `sesearch -A ${ms(wall(theirs))}`, goal: 'faster than sesearch', ratio: `sesearch / ours ${times(wall(theirs) / wall(ours))}`, met: wall(theirs) > wall(ours) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
