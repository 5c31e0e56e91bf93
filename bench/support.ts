// Measuring helpers shared by the benchmarks: medians, wall time, and Debian's checkpolicy
// run as a child process with a time limit (its peak RSS from a separate run under GNU time).

import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';

export const TIME = '/usr/bin/time';
/** Per run: at 10 000 domain types checkpolicy can run for many minutes without finishing. */
export const CHECKPOLICY_TIMEOUT_MS = 90_000;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function elapsedMs(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export type ChildOutcome = { ms: number } | { failure: string };

/** One checkpolicy run: wall time of the child process, or why it did not finish. */
export function runCheckpolicy(conf: string, out: string, wrapper: readonly string[] = []): { outcome: ChildOutcome; stderr: string } {
  const argv = [...wrapper, 'checkpolicy', '-t', 'Xen', '-c', '30', conf, '-o', out];
  let result!: ReturnType<typeof spawnSync>;
  const ms = elapsedMs(() => {
    result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: CHECKPOLICY_TIMEOUT_MS, maxBuffer: 64 << 20 });
  });
  const stderr = String(result.stderr ?? '');
  const error = result.error as NodeJS.ErrnoException | undefined;
  if (error?.code === 'ENOENT') return { outcome: { failure: 'checkpolicy not installed' }, stderr };
  if (error?.code === 'ETIMEDOUT') return { outcome: { failure: `timed out (>${CHECKPOLICY_TIMEOUT_MS / 1000} s)` }, stderr };
  if (error) return { outcome: { failure: `error: ${error.message}` }, stderr };
  if (result.status !== 0) return { outcome: { failure: `rejected: ${stderr.trim().split('\n').pop() ?? ''}` }, stderr };
  return { outcome: { ms }, stderr };
}

/** Median over `runs` runs; the first failure (missing, timeout) ends the series. */
export function timeCheckpolicy(conf: string, out: string, runs: number): ChildOutcome {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { outcome } = runCheckpolicy(conf, out);
    if ('failure' in outcome) return outcome;
    times.push(outcome.ms);
  }
  return { ms: median(times) };
}

/** checkpolicy's peak RSS in KiB, from a separate run under GNU time (kept out of the timings). */
export function checkpolicyPeakKiB(conf: string, out: string): number | undefined {
  if (!existsSync(TIME)) return undefined;
  const { outcome, stderr } = runCheckpolicy(conf, out, [TIME, '-f', '%M']);
  if ('failure' in outcome) return undefined;
  const last = stderr.trim().split('\n').pop() ?? '';
  return /^\d+$/.test(last) ? Number(last) : undefined;
}


export const mib = (kib: number | undefined): string => (kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(1)} MiB`);

/** Prints a right-aligned markdown table. */
export function printTable(header: readonly string[], body: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string => '| ' + c.map((x, i) => x.padStart(widths[i] ?? 0)).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 1) + ':').join('|') + '|');
  for (const c of body) console.log(line(c));
}

export interface CliRun {
  readonly seconds: number;
  /** Peak RSS in KiB, from GNU time (absent without it). */
  readonly kib?: number;
  /**
   * User plus system CPU seconds of the child, from GNU time (absent without it): less
   * sensitive than wall time to other work on a shared machine.
   */
  readonly cpuSeconds?: number;
  readonly stdout: string;
  /** "exit N", or "killed/timeout". */
  readonly status: string;
}

/** `vmipolicy ARGS…` as a child process under GNU time, killed after `timeoutSeconds`. */
export function runCliMeasured(bin: string, args: readonly string[], timeoutSeconds: number): CliRun {
  return runMeasured([process.execPath, bin, ...args], timeoutSeconds);
}

/** Any command as a child process under GNU time, killed after `timeoutSeconds`. */
export function runMeasured(command: readonly string[], timeoutSeconds: number): CliRun {
  const argv = ['timeout', '-s', 'KILL', String(timeoutSeconds), ...command];
  const wrapped = existsSync(TIME) ? [TIME, '-f', '%M %U %S', ...argv] : argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(wrapped[0] as string, wrapped.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const last = String(r.stderr ?? '').trim().split('\n').pop() ?? '';
  const m = /^(\d+) (\d+\.\d+) (\d+\.\d+)$/.exec(last);
  const measured = m ? { kib: Number(m[1]), cpuSeconds: Number(m[2]) + Number(m[3]) } : {};
  const status = r.status === 137 || /signal 9/.test(String(r.stderr)) ? 'killed/timeout' : `exit ${r.status}`;
  return { seconds, ...measured, stdout: String(r.stdout ?? ''), status };
}

/**
 * Scale limits lifted for the benchmarks of large hosts (10 000 targets is past the defaults,
 * compiler/scale.ts): as an option of the library, and as the CLI's flags.
 */
export const LIFTED_LIMITS = { domains: 1_000_000, pairs: 1_000_000, probes: 999_999_999 } as const;
export const LIFTED_FLAGS: readonly string[] = ['--max-domains', String(LIFTED_LIMITS.domains), '--max-pairs', String(LIFTED_LIMITS.pairs), '--max-probes', String(LIFTED_LIMITS.probes)];

/**
 * One of issue 12's goals, as a benchmark measured it: ours, the goal, and whether it is met.
 * `npm run bench` (bench/all.ts) gathers them from every benchmark of the run and prints them
 * in one table at the end, with the machine's load.
 */
export interface GoalFigure {
  /** What is measured, e.g. "compile 10 000 targets (CLI, -o)". */
  readonly measure: string;
  /** Ours, as printed (e.g. "3.2 s, 612 MiB"). */
  readonly ours: string;
  /** The peer's figure, as printed, when there is a peer. */
  readonly peer?: string;
  readonly goal: string;
  /** Ours over the goal (or the peer over ours, for "faster than" goals), as printed. */
  readonly ratio: string;
  readonly met: boolean;
}

/** Where bench/all.ts collects the goal figures (one JSON object a line); unset when a benchmark runs alone. */
export const GOALS_FILE_ENV = 'VMIPOLICY_BENCH_GOALS';

/** Records a goal figure for the run's summary (and prints it, so a benchmark run alone shows it too). */
export function recordGoal(figure: GoalFigure): void {
  console.log(`goal: ${figure.measure}: ${figure.ours}${figure.peer ? ` (peer ${figure.peer})` : ''}; goal ${figure.goal}; ${figure.ratio}: ${figure.met ? 'met' : 'NOT met'}`);
  const file = process.env[GOALS_FILE_ENV];
  if (file) appendFileSync(file, JSON.stringify(figure) + '\n');
}

/** "ours / goal" for a time and a memory goal: both under 1× is met. */
export function timeAndMemoryGoal(measure: string, seconds: number, kib: number | undefined, goalSeconds: number, goalGiB: number, peer?: string): GoalFigure {
  const t = seconds / goalSeconds;
  const m = kib === undefined ? undefined : kib / (goalGiB * (1 << 20));
  return {
    measure,
    ours: `${seconds.toFixed(2)} s, ${mib(kib)}`,
    ...(peer !== undefined ? { peer } : {}),
    goal: `≤ ${goalSeconds} s, ≤ ${goalGiB} GiB`,
    ratio: `${t.toFixed(2)}× / ${m === undefined ? '—' : `${m.toFixed(2)}×`} of the goal`,
    met: t <= 1 && m !== undefined && m <= 1,
  };
}
