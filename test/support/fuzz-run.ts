// Running one fuzz case through the real command line (`node dist/cli/bin.js …` as a child
// process) under a time and a memory bound, and judging what it did: the per-case oracle of
// the fuzz harness. Peak RSS comes from GNU time (`/usr/bin/time -f %M`, Debian package
// `time`), which reads the child's rusage after it has exited — the only figure that cannot
// miss a late peak. Without it, /proc/<pid>/status VmHWM is sampled while the child runs
// (Linux keeps the high-water mark itself, so only a peak in the last sampling interval is
// missed) and the report says the figure is sampled.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath } from './env.js';

/** One file a case writes into its directory before the run. */
export type FuzzFile =
  /** A string's CASE_DIR_MARK becomes the case's directory (so a command an input smuggles in has a known place to write). */
  | { readonly name: string; readonly content: string | Uint8Array }
  /** A named pipe nobody writes to: a reader that opens it blocks until killed. */
  | { readonly name: string; readonly fifo: true }
  /** A symbolic link (to /dev/zero, say): an endless or special file behind an ordinary name. */
  | { readonly name: string; readonly link: string };

export type Arg = string | { readonly file: string };

export interface FuzzCase {
  /** The generator (or regression shape) that made it: what a report groups failures by. */
  readonly target: string;
  /** What the case is, in a few words (the regression shapes), or the generator's note. */
  readonly shape: string;
  readonly files: readonly FuzzFile[];
  /** CLI arguments; `{ file }` stands for the absolute path of the case's file of that name. */
  readonly argv: readonly Arg[];
  /**
   * Files committed, before `files` are written, into a git repository made in the case's
   * directory (where the CLI runs), for git:REV:path inputs: a hostile REV never touches
   * this repository.
   */
  readonly git?: readonly { readonly name: string; readonly content: string }[];
}

export interface Bounds {
  /** Wall time after which the child's process group is killed. */
  readonly seconds: number;
  /** Peak resident set size allowed (MiB); V8's old space is capped a little below it. */
  readonly rssMiB: number;
}

export const CI_BOUNDS: Bounds = {
  seconds: Number(process.env.FUZZ_CASE_SECONDS ?? 10),
  rssMiB: Number(process.env.FUZZ_CASE_MIB ?? 768),
};

/** In a file's text: the case's directory. */
export const CASE_DIR_MARK = '@CASE_DIR@';
/** Inputs that try to run a command make it create this file in the case's directory. */
export const EXECUTED_MARKER = 'pwned';

/** Captured output beyond this is dropped (and the case fails: no answer needs that much). */
const MAX_CAPTURE = 64 << 20;

export interface Observation {
  readonly exit: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly seconds: number;
  /** Peak RSS in MiB; undefined when it could not be measured. */
  readonly peakMiB: number | undefined;
  readonly peakSource: 'gnu-time' | 'vmhwm-sampled';
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly outputCapped: boolean;
  /** The input made vmipolicy (or m4, git, a shell) run a command: EXECUTED_MARKER appeared. */
  readonly executed: boolean;
}

const GNU_TIME = '/usr/bin/time';
export const HAS_GNU_TIME = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;

const BIN = repoPath('dist', 'cli', 'bin.js');

/** The arguments with each `{ file }` as its absolute path in `dir`. */
export function resolveArgv(argv: readonly Arg[], dir: string): string[] {
  return argv.map((a) => (typeof a === 'string' ? a : join(dir, a.file)));
}

/** Writes the case's files into a fresh directory under `parent`. */
export function materialise(c: FuzzCase, parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, 'vmipolicy-fuzz-'));
  if (c.git) commitInto(dir, c.git);
  for (const f of c.files) {
    const path = join(dir, f.name);
    mkdirSync(join(path, '..'), { recursive: true });
    if ('fifo' in f) {
      const r = spawnSync('mkfifo', [path]);
      if (r.status !== 0) throw new Error(`mkfifo ${path} failed`);
    } else if ('link' in f) {
      symlinkSync(f.link, path);
    } else {
      writeFileSync(path, typeof f.content === 'string' ? f.content.replaceAll(CASE_DIR_MARK, dir) : f.content);
    }
  }
  return dir;
}

/** The first child of a process (node under GNU time), from /proc. */
function firstChild(pid: number): number {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : pid;
  } catch {
    return pid;
  }
}

function commitInto(dir: string, files: readonly { readonly name: string; readonly content: string }[]): void {
  for (const f of files) {
    mkdirSync(join(dir, f.name, '..'), { recursive: true });
    writeFileSync(join(dir, f.name), f.content);
  }
  const git = (...args: string[]): void => {
    const r = spawnSync('git', ['-c', 'user.name=fuzz', '-c', 'user.email=fuzz@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed in ${dir}: ${r.stderr}`);
  };
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'seed');
  // A second commit, so HEAD~1 names something.
  writeFileSync(join(dir, '.fuzz-second'), '');
  git('add', '-A');
  git('commit', '-qm', 'second');
}

function sampleVmHwm(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the case's command in `dir` and observes it; never rejects. */
export function observe(c: FuzzCase, dir: string, bounds: Bounds): Promise<Observation> {
  const heapMiB = Math.max(64, Math.floor(bounds.rssMiB * 0.75));
  const node = [process.execPath, `--max-old-space-size=${heapMiB}`, BIN, ...resolveArgv(c.argv, dir)];
  const timeFile = join(dir, '.time');
  const [cmd, ...args] = HAS_GNU_TIME ? [GNU_TIME, '-f', '%M', '-o', timeFile, ...node] : node;
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    // Its own process group, so a timeout kills node and not just GNU time above it.
    const child = spawn(cmd as string, args, {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LC_ALL: 'C', NO_COLOR: '1' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let captured = 0;
    let capped = false;
    const collect = (into: Buffer[]) => (chunk: Buffer): void => {
      if (captured + chunk.length > MAX_CAPTURE) { capped = true; return; }
      captured += chunk.length;
      into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    let timedOut = false;
    let sampled: number | undefined;
    const killGroup = (): void => {
      try { process.kill(-(child.pid as number), 'SIGKILL'); } catch { /* already gone */ }
    };
    const timer = setTimeout(() => { timedOut = true; killGroup(); }, bounds.seconds * 1000);
    // Sampled in both modes: GNU time reports nothing for a child killed at the time bound,
    // and a child reading an endless file grows by gigabytes a second outside V8's heap (its
    // buffers), so it is killed as soon as it passes the memory bound — the machine is shared.
    const sampler = setInterval(() => {
      const kb = sampleVmHwm(HAS_GNU_TIME ? firstChild(child.pid as number) : child.pid as number);
      if (kb !== undefined) sampled = Math.max(sampled ?? 0, kb);
      if ((sampled ?? 0) > bounds.rssMiB * 1024) killGroup();
    }, HAS_GNU_TIME ? 50 : 20);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(sampler);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let exit = code;
      let sig: string | null = signal;
      let peakKb = sampled;
      let fromTime = false;
      if (HAS_GNU_TIME) {
        // GNU time exits 128+N for a child killed by signal N and writes why into its file.
        const report = existsSync(timeFile) ? readFileSync(timeFile, 'utf8') : '';
        const killed = /Command terminated by signal (\d+)/.exec(report);
        if (killed) { exit = null; sig = signalName(Number(killed[1])); }
        const lines = report.trim().split('\n');
        const kb = Number(lines[lines.length - 1]);
        fromTime = Number.isFinite(kb) && kb > 0;
        peakKb = fromTime ? kb : sampled;
        rmSync(timeFile, { force: true });
      }
      resolve({
        exit, signal: sig, timedOut, seconds,
        peakMiB: peakKb === undefined ? undefined : peakKb / 1024,
        peakSource: fromTime ? 'gnu-time' : 'vmhwm-sampled',
        stdout: Buffer.concat(out), stderr: Buffer.concat(err), outputCapped: capped,
        executed: existsSync(join(dir, EXECUTED_MARKER)),
      });
    });
  });
}

function signalName(n: number): string {
  const names: Record<number, string> = { 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM', 5: 'SIGTRAP', 4: 'SIGILL', 7: 'SIGBUS' };
  return names[n] ?? `signal ${n}`;
}

// ---------------------------------------------------------------- the oracle

/** The --format a case asked for (the CLI's default is text). */
export function formatOfArgv(argv: readonly Arg[]): string {
  let format = 'text';
  argv.forEach((a, i) => {
    const next = argv[i + 1];
    if (a === '--format') format = typeof next === 'string' ? next : format;
    else if (typeof a !== 'string') return;
    else if (a.startsWith('--format=')) format = a.slice('--format='.length);
  });
  return format;
}

/** A JavaScript stack frame or an uncaught error's name: what bad input must never print. */
const STACK_TRACE = /^ {4}at .+|\b(?:TypeError|RangeError|ReferenceError|SyntaxError|InternalError)\b|FATAL ERROR|Maximum call stack/m;
/** C0 controls other than \t and \n (ESC among them): output a terminal would interpret. */
const C0_CONTROL = /[\x00-\x08\x0b-\x1f]/;

export interface Violation {
  /** A stable kind, what distinct failures are grouped by. */
  readonly kind: 'exit' | 'signal' | 'timeout' | 'memory' | 'stack-trace' | 'json' | 'control-character' | 'output-size' | 'command-execution';
  readonly detail: string;
}

/** Everything the case did that no input may make the CLI do. */
export function judge(c: FuzzCase, o: Observation, bounds: Bounds): Violation[] {
  const v: Violation[] = [];
  const stderr = o.stderr.toString('utf8');
  const stdout = o.stdout.toString('utf8');
  if (o.timedOut) v.push({ kind: 'timeout', detail: `killed after ${bounds.seconds} s` });
  else if (o.signal !== null) v.push({ kind: 'signal', detail: `killed by ${o.signal}` });
  else if (o.exit === 70) v.push({ kind: 'exit', detail: 'exit 70 (internal error)' });
  else if (o.exit === null || ![0, 1, 2].includes(o.exit)) v.push({ kind: 'exit', detail: `exit ${o.exit}` });
  if (!o.timedOut && o.seconds > bounds.seconds) v.push({ kind: 'timeout', detail: `${o.seconds.toFixed(1)} s` });
  if (o.peakMiB !== undefined && o.peakMiB > bounds.rssMiB) v.push({ kind: 'memory', detail: `peak RSS ${o.peakMiB.toFixed(0)} MiB > ${bounds.rssMiB} MiB` });
  const trace = STACK_TRACE.exec(stderr);
  if (trace) v.push({ kind: 'stack-trace', detail: trace[0].trim().slice(0, 160) });
  if (o.executed) v.push({ kind: 'command-execution', detail: `the input ran a command: ${EXECUTED_MARKER} was created in the case's directory` });
  if (o.outputCapped) v.push({ kind: 'output-size', detail: `more than ${MAX_CAPTURE >> 20} MiB of output` });
  const finished = !o.timedOut && o.signal === null;
  const format = formatOfArgv(c.argv);
  if (finished && (format === 'json' || format === 'sarif') && !o.outputCapped) {
    try {
      JSON.parse(stdout);
    } catch (e) {
      v.push({ kind: 'json', detail: `--format ${format}, exit ${o.exit}: stdout is not JSON (${stdout.length ? (e as Error).message : 'empty'})` });
    }
  }
  const textStreams: [string, string][] = [['stderr', stderr]];
  if (format === 'text' || format === 'markdown') textStreams.push(['stdout', stdout]);
  for (const [name, text] of textStreams) {
    const m = C0_CONTROL.exec(text);
    if (m) {
      const line = text.slice(text.lastIndexOf('\n', m.index) + 1, m.index).slice(-60);
      v.push({ kind: 'control-character', detail: `${name} holds U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} after ${JSON.stringify(line)}` });
    }
  }
  return v;
}

/** The first line of stderr, for reports. */
export function firstLine(buffer: Buffer): string {
  const text = buffer.toString('utf8');
  return JSON.stringify(text.split('\n').find((l) => l.trim() !== '')?.slice(0, 200) ?? '');
}

/** One line per case: what ran, exit, time, peak memory. */
export function describeObservation(o: Observation): string {
  const peak = o.peakMiB === undefined ? '?' : `${o.peakMiB.toFixed(0)} MiB${o.peakSource === 'vmhwm-sampled' ? ' (sampled)' : ''}`;
  const end = o.timedOut ? 'timeout' : o.signal ? o.signal : `exit ${o.exit}`;
  return `${end}, ${o.seconds.toFixed(2)} s, peak RSS ${peak}`;
}

/**
 * Keeps a failing case for replay: its files, the exact command (`repro.sh`), and what was
 * observed (`observed.txt`). Returns the directory (under os.tmpdir()).
 */
export function saveReproducer(c: FuzzCase, dir: string, o: Observation, violations: readonly Violation[], replay: string): string {
  const sh = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  const argv = resolveArgv(c.argv, dir);
  writeFileSync(join(dir, 'repro.sh'), [
    '#!/bin/sh',
    `# ${c.target}: ${c.shape.replace(/[\x00-\x1f]/g, '?')}`,
    `# replay the generator: ${replay}`,
    `cd ${sh(dir)}`,
    `exec node ${sh(BIN)} ${argv.map(sh).join(' ')}`,
    '',
  ].join('\n'), { mode: 0o755 });
  writeFileSync(join(dir, 'observed.txt'), [
    describeObservation(o),
    ...violations.map((x) => `${x.kind}: ${x.detail}`),
    '--- stderr (first 4 KiB)',
    o.stderr.subarray(0, 4096).toString('utf8'),
    '--- stdout (first 4 KiB)',
    o.stdout.subarray(0, 4096).toString('utf8'),
  ].join('\n'));
  return dir;
}
