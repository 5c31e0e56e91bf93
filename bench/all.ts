// `npm run bench`: every benchmark in one run, each as its own process (a benchmark's peak RSS
// is its own), then issue 12's goals in one table — each figure as its benchmark measured it,
// beside the peer and the goal — with the machine's load before and after. A benchmark that
// fails is reported and the run goes on; the exit code says whether any failed.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GOALS_FILE_ENV, printTable, type GoalFigure } from './support.js';

const HERE = resolve(fileURLToPath(new URL('.', import.meta.url)));
const BENCHES = ['startup', 'compile', 'policy', 'check', 'diff', 'vmi', 'scale', 'limits', 'verify'];

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-bench-goals-'));
  const goalsFile = join(dir, 'goals.jsonl');
  const failed: string[] = [];
  const started = process.hrtime.bigint();
  const loadBefore = load();
  try {
    for (const name of process.argv.slice(2).length ? process.argv.slice(2) : BENCHES) {
      console.log(`\n=== ${name}.bench (load average ${load()})`);
      const r = spawnSync(process.execPath, [join(HERE, `${name}.bench.js`)], { stdio: 'inherit', env: { ...process.env, [GOALS_FILE_ENV]: goalsFile } });
      if (r.status !== 0) failed.push(`${name} (${r.signal ?? `exit ${r.status}`})`);
    }
    let goals: GoalFigure[] = [];
    try {
      goals = readFileSync(goalsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as GoalFigure);
    } catch { /* no benchmark recorded a goal */ }
    console.log(`\n=== issue 12's goals, as measured in this run (${cpus().length} CPUs; load average before ${loadBefore}, after ${load()})`);
    printTable(['measure', 'ours', 'peer', 'goal', 'ratio', 'met'], goals.map((g) => [g.measure, g.ours, g.peer ?? '—', g.goal, g.ratio, g.met ? 'yes' : 'NO']));
    console.log(`${goals.filter((g) => g.met).length} of ${goals.length} goals met; whole run ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(0)} s`);
    if (failed.length) console.log(`benchmarks that failed: ${failed.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exitCode = failed.length ? 1 : 0;
}

main();
