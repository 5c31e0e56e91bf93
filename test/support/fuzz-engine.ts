// The fuzz engine: makes a target's cases from seeds (case i of a run seeded S has seed S+i,
// so `FUZZ_SEED=S+i FUZZ_RUNS=1 FUZZ_TARGET=t` replays exactly that case), runs them a few at
// a time, judges each, and keeps every failing case on disk with its command for replay.
// Failing cases are not shrunk: each run costs a process start, and a kept reproducer plus
// its seed is what a fixer needs.

import { availableParallelism } from 'node:os';
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { CI_BOUNDS, describeObservation, firstLine, judge, materialise, observe, saveReproducer, type Bounds, type FuzzCase, type Observation, type Violation } from './fuzz-run.js';
import type { FuzzTarget } from './fuzz-targets.js';

/** The fixed seed of the CI-size run (any change to it changes every generated case). */
export const DEFAULT_SEED = 20261204;

export interface CaseResult {
  readonly case: FuzzCase;
  readonly seed: number | undefined;
  readonly observation: Observation;
  readonly violations: readonly Violation[];
  /** Where the failing case was kept (its files, repro.sh, observed.txt). */
  readonly reproducer?: string;
}

export function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not ${v}`);
  return n;
}

/** The case a target makes from one seed. */
export function caseOf(target: FuzzTarget, seed: number): FuzzCase {
  return fc.sample(target.cases, { seed, numRuns: 1 })[0] as FuzzCase;
}

// At most this many CLI processes at once, across every caller in this process.
const JOBS = envNumber('FUZZ_JOBS', Math.max(1, Math.min(2, availableParallelism())));
let running = 0;
const waiting: (() => void)[] = [];

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= JOBS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function replayHint(c: FuzzCase, seed: number | undefined): string {
  if (seed !== undefined) return `FUZZ_TARGET=${c.target} FUZZ_SEED=${seed} FUZZ_RUNS=1 npm run fuzz`;
  return `FUZZ_TARGET=regression FUZZ_SHAPE='${c.shape.replace(/'/g, `'\\''`)}' npm run fuzz`;
}

/**
 * The time bound scaled to how fast this machine starts the CLI right now: at least the
 * configured bound, and at least 15 times one `vmipolicy --version` (about 0.3 s on an idle
 * 2-core machine, several seconds when it is shared), so a busy machine does not pass for a
 * hang. FUZZ_CASE_SECONDS, when set, is used as it is.
 */
let calibrated: Promise<Bounds> | undefined;
export function effectiveBounds(): Promise<Bounds> {
  calibrated ??= (async () => {
    if (process.env.FUZZ_CASE_SECONDS) return CI_BOUNDS;
    const probe: FuzzCase = { target: 'calibration', shape: '--version', files: [], argv: ['--version'] };
    const dir = materialise(probe);
    try {
      const o = await observe(probe, dir, CI_BOUNDS);
      return { ...CI_BOUNDS, seconds: Math.max(CI_BOUNDS.seconds, Math.ceil(15 * o.seconds)) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  return calibrated;
}

/** Runs one case; a failing case's directory is kept as its reproducer, a passing one removed. */
export async function runCase(c: FuzzCase, seed: number | undefined, given?: Bounds): Promise<CaseResult> {
  const bounds = given ?? await effectiveBounds();
  return slot(async () => {
    const dir = materialise(c);
    const observation = await observe(c, dir, bounds);
    const violations = judge(c, observation, bounds);
    if (!violations.length) {
      rmSync(dir, { recursive: true, force: true });
      return { case: c, seed, observation, violations };
    }
    return { case: c, seed, observation, violations, reproducer: saveReproducer(c, dir, observation, violations, replayHint(c, seed)) };
  });
}

export function runAll(cases: readonly { readonly case: FuzzCase; readonly seed?: number }[], bounds?: Bounds): Promise<CaseResult[]> {
  return Promise.all(cases.map((x) => runCase(x.case, x.seed, bounds)));
}

/** A failing case as a report paragraph: what ran, what it did, why that is wrong, how to replay. */
export function describeFailure(r: CaseResult): string {
  const command = r.case.argv.map((a) => (typeof a === 'string' ? a : `<${a.file}>`)).join(' ');
  return [
    `FAIL ${r.case.target}${r.seed !== undefined ? ` (seed ${r.seed})` : ''}: ${r.case.shape.replace(/[\x00-\x1f\x7f]/g, '?')}`,
    `  command   vmipolicy ${command.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 300)}`,
    `  observed  ${describeObservation(r.observation)}; stderr ${firstLine(r.observation.stderr).replace(/[\x00-\x1f\x7f]/g, '?')}`,
    ...r.violations.map((v) => `  violates  ${v.kind}: ${v.detail.replace(/[\x00-\x1f\x7f]/g, '?')}`),
    `  reproduce ${r.reproducer}/repro.sh`,
    `  replay    ${replayHint(r.case, r.seed)}`,
  ].join('\n');
}

/** Failures grouped by what they are, not by input: target, violation kind and stderr's first line, digits folded. */
export function distinctFailures(results: readonly CaseResult[]): Map<string, CaseResult[]> {
  const groups = new Map<string, CaseResult[]>();
  for (const r of results) {
    for (const v of r.violations) {
      const key = `${r.case.argv.find((a) => typeof a === 'string' && !a.startsWith('-')) ?? ''} ${r.case.argv[1] === 'stats' || r.case.argv[1] === 'query' || r.case.argv[0] === 'vmi' ? r.case.argv[1] : ''} · ${v.kind} · ${v.kind === 'timeout' || v.kind === 'memory' ? '' : v.detail.replace(/\d+/g, 'N').slice(0, 80)}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
  }
  return groups;
}
