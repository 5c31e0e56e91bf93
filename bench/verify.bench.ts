// Benchmark: `vmipolicy verify` (compile, check, self-test) on large generated hosts, as a
// child process under GNU time: wall time and peak RSS beside the goals — 2 000 targets under
// 4 introspectors within 20 s and 1 GiB; 10 000 targets (100 introspectors × 100) within
// 90 s and 2 GiB; and the hostile-input bound every input under 1 MB must keep, 60 s and
// 1 GiB. No other tool self-tests a policy, so there is no peer column: the goals stand in.
// `node dist/bench/verify.bench.js [MONITORS×PER_MONITOR …]`, e.g. `4x500 100x100`.

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIFTED_FLAGS, mib, printTable, recordGoal, runCliMeasured, timeAndMemoryGoal } from './support.js';
import { fleetSpec } from '../test/support/fleet.js';

const BIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', 'cli', 'bin.js');
const TIMEOUT_S = 600;

interface Goal { readonly seconds: number; readonly gib: number }
const GOALS: Readonly<Record<string, Goal>> = { '4x500': { seconds: 20, gib: 1 }, '100x100': { seconds: 90, gib: 2 } };
const HOSTILE_BOUND: Goal = { seconds: 60, gib: 1 };

function run(spec: string): { seconds: number; kib?: number; status: string; operations?: number; entries?: number } {
  const r = runCliMeasured(BIN, ['verify', spec, '--format', 'json', ...LIFTED_FLAGS], TIMEOUT_S);
  let operations: number | undefined;
  let entries: number | undefined;
  try {
    const report = (JSON.parse(r.stdout) as { stages: { stage: string; report?: { totals: { operations: number }; operations: unknown[] } }[] }).stages.find((s) => s.stage === 'selftest')?.report;
    operations = report?.totals.operations;
    entries = report?.operations.length;
  } catch {
    operations = undefined;
  }
  return { seconds: r.seconds, ...(r.kib !== undefined ? { kib: r.kib } : {}), status: r.status, ...(operations !== undefined ? { operations } : {}), ...(entries !== undefined ? { entries } : {}) };
}

const ratio = (seconds: number, kib: number | undefined, goal: Goal): string => `${(seconds / goal.seconds).toFixed(2)}× / ${kib === undefined ? '—' : (kib / (goal.gib * (1 << 20))).toFixed(2)}×`;

function main(): void {
  const cases = process.argv.slice(2).length ? process.argv.slice(2) : ['4x500', '100x100'];
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-verify-bench-'));
  const rows: string[][] = [];
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  try {
    for (const c of cases) {
      const [monitors, per] = c.split('x').map(Number) as [number, number];
      const spec = join(dir, `fleet-${c}.yaml`);
      writeFileSync(spec, fleetSpec(monitors, per));
      const r = run(spec);
      const goal = GOALS[c];
      if (goal) recordGoal(timeAndMemoryGoal(`verify ${(monitors * per).toLocaleString('en-US')} targets (${monitors} × ${per})`, r.seconds, r.kib, goal.seconds, goal.gib));
      rows.push([
        `${monitors} × ${per}`, `${(statSync(spec).size / 1024).toFixed(0)} KiB`, `${r.seconds.toFixed(1)} s`, mib(r.kib),
        goal ? `${goal.seconds} s, ${goal.gib} GiB` : '—', goal ? ratio(r.seconds, r.kib, goal) : '—', ratio(r.seconds, r.kib, HOSTILE_BOUND),
        String(r.operations ?? '—'), String(r.entries ?? '—'), r.status,
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(['monitors × targets', 'spec', 'wall', 'peak RSS', 'goal', 'of goal (time / memory)', 'of 60 s / 1 GiB', 'operations', 'report entries', 'status'], rows);
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main();
