// Benchmark: reading a whole Xen policy — parse + PolicyModel — for the corpus policies and
// generated hosts of 1 000 and 10 000 domain types (Xen's stock modules plus per-VM rules,
// built with tools/gen-large.py of the shared tree, SHARED below, through Xen's own m4
// flow), beside Debian's checkpolicy compiling the same policy.conf, in one run. Not a test:
// it prints a table.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel } from '../policy/model/build.js';
import { policyStats } from '../policy/model/query.js';
import { hasErrors } from '../core/diagnostics.js';
import { parsePolicy } from '../policy/grammar/parse.js';
import { loadPolicy } from '../policy/load.js';
import { checkpolicyPeakKiB, elapsedMs, median, mib, printTable, recordGoal, timeCheckpolicy, type ChildOutcome } from './support.js';

/** Issue 12: reading the 10 000-type host at least 1.5 times as fast as checkpolicy compiles it. */
const GOAL_LABEL = '10,000 domain types';
const GOAL_RATIO = 1.5;

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const SHARED = process.env.VMIPOLICY_SHARED ?? resolve(REPO, '..', 'shared');

interface Input {
  readonly label: string;
  readonly text: string;
  readonly runs: number;
}

/** Parse and model once; throws on any error so that only successful reads are timed. */
function read(text: string): ReturnType<typeof policyStats> {
  const parsed = parsePolicy('policy.conf', text);
  if (hasErrors(parsed.diagnostics)) throw new Error(`parse failed: ${parsed.diagnostics[0]?.message}`);
  const built = buildModel(parsed.ast, (o) => parsed.lines.locate(o));
  if (hasErrors(built.diagnostics)) throw new Error(`model failed: ${built.diagnostics[0]?.message}`);
  return policyStats(built.model);
}

/** A host of `n` VM types: gen-large.py's module built into Xen 4.22's tree by Xen's m4 flow. */
function generatedHost(n: number, dir: string): string | undefined {
  const te = join(dir, `big${n}.te`);
  const gen = spawnSync('python3', [join(SHARED, 'tools', 'gen-large.py'), '-n', String(n)], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (gen.status !== 0) return undefined;
  writeFileSync(te, gen.stdout);
  const out = join(dir, `host${n}`);
  const build = spawnSync('bash', [join(SHARED, 'tools', 'build-xen-policy.sh'), '-s', join(SHARED, 'corpus', 'xen-4.22', 'src'), '-o', out, '-m', `big=${te}`], { encoding: 'utf8' });
  // The build also compiles with checkpolicy; only the m4 output is needed here.
  return existsSync(join(out, 'policy.conf')) ? readFileSync(join(out, 'policy.conf'), 'utf8') : undefined;
}

function inputs(dir: string): { inputs: Input[]; notes: string[] } {
  const notes: string[] = [];
  const list: Input[] = [];
  if (!existsSync(join(SHARED, 'corpus'))) return { inputs: list, notes: [`../shared is absent (${SHARED}): nothing to read`] };
  for (const v of ['4.11', '4.17', '4.22']) list.push({ label: `corpus ${v}`, text: readFileSync(join(SHARED, 'corpus', `xen-${v}`, 'policy.conf'), 'utf8'), runs: 20 });
  for (const n of [1_000, 10_000]) {
    const text = generatedHost(n, dir);
    if (text) list.push({ label: `${n.toLocaleString('en-US')} domain types`, text, runs: n > 1000 ? 3 : 7 });
    else notes.push(`could not generate the ${n}-type host (python3, m4 and ${join(SHARED, 'tools')} needed)`);
  }
  return { inputs: list, notes };
}

function row(input: Input, dir: string): string[] {
  read(input.text); // warm-up
  const stats = read(input.text);
  const ms = median(Array.from({ length: input.runs }, () => elapsedMs(() => read(input.text))));
  const rss = process.resourceUsage().maxRSS;
  const conf = join(dir, 'in.conf');
  writeFileSync(conf, input.text);
  const cp: ChildOutcome = timeCheckpolicy(conf, join(dir, 'out.bin'), input.runs > 3 ? 3 : 1);
  const mb = Buffer.byteLength(input.text) / 1e6;
  if (input.label === GOAL_LABEL) {
    const ratio = 'ms' in cp ? cp.ms / ms : undefined;
    recordGoal({
      measure: 'parse + model, 10 000-type host', ours: `${ms.toFixed(0)} ms`, peer: 'ms' in cp ? `checkpolicy ${cp.ms.toFixed(0)} ms` : `checkpolicy ${cp.failure}`,
      goal: `≥ ${GOAL_RATIO}× checkpolicy`, ratio: ratio === undefined ? '—' : `${ratio.toFixed(2)}× checkpolicy`, met: ratio !== undefined && ratio >= GOAL_RATIO,
    });
  }
  return [
    input.label,
    mb.toFixed(2),
    stats.types.toLocaleString('en-US'),
    stats.expandedAllowEntries.toLocaleString('en-US'),
    ms.toFixed(1),
    (mb / (ms / 1000)).toFixed(1),
    'ms' in cp ? cp.ms.toFixed(1) : cp.failure,
    'ms' in cp ? `${(cp.ms / ms).toFixed(1)}×` : '—',
    mib(rss),
    'ms' in cp ? mib(checkpolicyPeakKiB(conf, join(dir, 'out.bin'))) : 'n/a',
  ];
}

/** Median wall ms of `seinfo FILE` (setools reading the binary), or why it could not run. */
function timeSeinfo(binary: string, runs: number): ChildOutcome {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync('seinfo', [binary], { encoding: 'utf8', timeout: 90_000 });
    if (r.error || r.status !== 0) return { failure: r.error ? 'seinfo not installed' : `seinfo exit ${r.status}` };
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { ms: median(times) };
}

/** The binary checkpolicy wrote for `input` (row() leaves it in DIR/out.bin): our whole load of it beside seinfo's. */
function binaryRow(input: Input, dir: string): string[] | undefined {
  const binary = join(dir, 'out.bin');
  if (!existsSync(binary)) return undefined;
  const load = (): void => {
    if (!loadPolicy(binary).policy) throw new Error(`${input.label}: the binary did not load`);
  };
  load();
  const runs = Math.min(input.runs, 5);
  const ms = median(Array.from({ length: runs }, () => elapsedMs(load)));
  const se = timeSeinfo(binary, Math.min(runs, 3));
  return [input.label, (readFileSync(binary).length / 1e6).toFixed(2), ms.toFixed(1), 'ms' in se ? se.ms.toFixed(1) : se.failure, 'ms' in se ? `${(se.ms / ms).toFixed(2)}×` : '—'];
}

function main(): void {
  const started = process.hrtime.bigint();
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-policy-bench-'));
  try {
    const { inputs: list, notes } = inputs(dir);
    const rows: string[][] = [];
    const binaryRows: string[][] = [];
    for (const i of list) {
      rows.push(row(i, dir));
      const b = binaryRow(i, dir);
      if (b) binaryRows.push(b);
    }
    console.log('Reading a Xen policy: vmipolicy parse + PolicyModel vs checkpolicy -t Xen -c 30 on the same policy.conf (medians)');
    printTable(['policy', 'MB', 'types', 'expanded allow entries', 'ours ms', 'ours MB/s', 'checkpolicy ms', 'ratio', 'ours peak RSS', 'checkpolicy peak RSS'], rows);
    console.log('ratio = checkpolicy / ours (goal at 10 000 domain types, issue 12: ≥ 1.5×). ours peak RSS = this process\'s maxRSS so far (inputs in ascending size).');
    console.log(`load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log('\nReading the binary checkpolicy wrote: vmipolicy (read, decode, parse, model) vs seinfo (setools) on the same file (medians)');
    printTable(['policy', 'binary MB', 'ours ms', 'seinfo ms', 'ratio'], binaryRows);
    console.log('ratio = seinfo / ours. compile.bench.js times our writer beside checkpolicy.');
    for (const n of notes) console.log(`note: ${n}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`total bench time ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
}

main();
