// Benchmark: proving a generated host — N targets, one introspector per 100 of them, the
// spec plus its standalone base — with `vmipolicy check`, beside checkpolicy compiling the
// same policy and sesearch answering one introspector's rules on checkpolicy's binary.
// Every tool runs as a child process under GNU time: wall time and peak RSS, side by side.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, hasErrors } from '../compiler/index.js';
import { CHECKPOLICY_TIMEOUT_MS, elapsedMs, LIFTED_FLAGS, LIFTED_LIMITS, median, mib, printTable, recordGoal, TIME, timeAndMemoryGoal } from './support.js';

const BIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', 'cli', 'bin.js');
const SIZES = [
  { targets: 1_000, introspectors: 10, runs: 3 },
  { targets: 10_000, introspectors: 100, runs: 3 },
] as const;
/** Issue 12: `vmipolicy check` of 10 000 targets under 100 introspectors. */
const GOAL = { targets: 10_000, seconds: 6, gib: 1 } as const;
const GUESTS = ['pv', 'pvh', 'hvm'] as const;

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** PV introspectors (read-only maps); PVH/HVM targets add memory events, so the flows are real. */
function makeSpec(targets: number, introspectors: number): string {
  const per = Math.ceil(targets / introspectors);
  const lines = ['vmipolicy: 1', 'xen: "4.22"', 'policy: {module: bench, mode: standalone}', 'introspectors:'];
  const targetLines: string[] = [];
  for (let g = 0; g < introspectors; g++) {
    const guest = GUESTS[g % GUESTS.length] as (typeof GUESTS)[number];
    const names: string[] = [];
    for (let t = g * per; t < Math.min(targets, (g + 1) * per); t++) {
      names.push(`vm-${pad(t + 1, 5)}`);
      targetLines.push(`  - {name: vm-${pad(t + 1, 5)}, guest: ${guest}}`);
    }
    const caps = ['domain-info', 'read-memory', 'read-registers', 'pause', ...(guest === 'pv' ? [] : ['memory-events'])];
    lines.push(`  - {name: mon-${pad(g + 1, 4)}, guest: pv, targets: [${names.join(', ')}], capabilities: [${caps.join(', ')}]}`);
  }
  return [...lines, 'targets:', ...targetLines, ''].join('\n');
}

interface Run {
  readonly ms?: number;
  readonly kib?: number;
  readonly failure?: string;
  readonly stdout?: string;
}

/**
 * One child run under GNU time (when present), with a time limit. coreutils `timeout` kills
 * the tool itself: killing GNU time alone would leave a runaway checkpolicy behind.
 */
function timed(argv: readonly string[], timeoutMs = CHECKPOLICY_TIMEOUT_MS): Run {
  const limited = ['timeout', '-s', 'KILL', String(Math.ceil(timeoutMs / 1000)), ...argv];
  const wrapped = existsSync(TIME) ? [TIME, '-f', '%M', ...limited] : limited;
  let r!: ReturnType<typeof spawnSync>;
  const ms = elapsedMs(() => {
    r = spawnSync(wrapped[0] as string, wrapped.slice(1), { encoding: 'utf8', timeout: timeoutMs + 30_000, maxBuffer: 512 << 20 });
  });
  const error = r.error as NodeJS.ErrnoException | undefined;
  const stderr = String(r.stderr ?? '');
  if (error?.code === 'ENOENT' || r.status === 127) return { failure: `${argv[0]} not installed` };
  // timeout(1) exits 137 after SIGKILL (GNU time reports the signal and exits non-zero).
  if (error?.code === 'ETIMEDOUT' || r.status === 137 || /signal 9/.test(stderr)) return { failure: `timed out (>${timeoutMs / 1000} s)` };
  const last = stderr.trim().split('\n').pop() ?? '';
  const kib = /^\d+$/.test(last) ? Number(last) : undefined;
  if (r.status !== 0 && r.status !== 1) return { failure: `exit ${r.status}: ${stderr.trim().split('\n').slice(-2, -1)[0] ?? ''}` };
  return { ms, ...(kib !== undefined ? { kib } : {}), stdout: String(r.stdout ?? '') };
}

function best(runs: readonly Run[]): Run {
  const ok = runs.filter((r) => r.ms !== undefined);
  if (ok.length < runs.length) return runs.find((r) => r.failure) as Run;
  return { ms: median(ok.map((r) => r.ms as number)), kib: Math.max(...ok.map((r) => r.kib ?? 0)), ...(ok[0]?.stdout !== undefined ? { stdout: ok[0].stdout } : {}) };
}

const cell = (r: Run): string => (r.ms !== undefined ? `${(r.ms / 1000).toFixed(2)} s` : (r.failure as string));
const ratio = (theirs: Run, ours: Run): string => (theirs.ms !== undefined && ours.ms !== undefined ? `${(theirs.ms / ours.ms).toFixed(2)}×` : '—');

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-check-bench-'));
  const rows: string[][] = [];
  try {
    for (const size of SIZES) {
      const spec = makeSpec(size.targets, size.introspectors);
      const specPath = join(dir, `host-${size.targets}.yaml`);
      writeFileSync(specPath, spec);
      const compiled = compile({ file: specPath, content: spec }, { manifest: false, limits: LIFTED_LIMITS });
      if (hasErrors(compiled.diagnostics) || !compiled.artifacts) throw new Error(`the generated spec does not compile: ${compiled.diagnostics[0]?.message}`);
      const conf = join(dir, `host-${size.targets}.conf`);
      const binary = join(dir, `host-${size.targets}.bin`);
      writeFileSync(conf, compiled.artifacts.get('policy.conf') as string);

      const ours = best(Array.from({ length: size.runs }, () => timed([process.execPath, BIN, 'check', specPath, '--format', 'json', ...LIFTED_FLAGS], 600_000)));
      if (ours.stdout !== undefined && JSON.parse(ours.stdout).verdict !== 'proven') throw new Error('the generated host must be proven');
      // checkpolicy does not finish the 10 000-target policy within its time limit: once is enough to say so.
      const cp = best(Array.from({ length: size.targets >= GOAL.targets ? 1 : size.runs }, () => timed(['checkpolicy', '-t', 'Xen', '-c', '30', conf, '-o', binary])));
      if (size.targets === GOAL.targets && ours.ms !== undefined) {
        recordGoal(timeAndMemoryGoal(`check ${size.targets.toLocaleString('en-US')} targets / ${size.introspectors} introspectors`, ours.ms / 1000, ours.kib, GOAL.seconds, GOAL.gib, `checkpolicy ${cell(cp)}`));
      }
      const search = cp.ms !== undefined
        ? best(Array.from({ length: size.runs }, () => timed(['sesearch', '-A', '-s', 'mon_0001_t', binary])))
        : { failure: 'no binary (checkpolicy did not finish)' };
      rows.push([
        size.targets.toLocaleString('en-US'), String(size.introspectors),
        cell(ours), mib(ours.kib),
        cell(cp), mib(cp.kib), ratio(cp, ours),
        cell(search), mib(search.kib), ratio(search, ours),
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('vmipolicy check (compile + standalone base + every proof) vs checkpolicy -t Xen compiling the same policy and sesearch -A -s mon_0001_t on its binary');
  printTable(['targets', 'introspectors', 'ours', 'ours peak', 'checkpolicy', 'cp peak', 'cp / ours', 'sesearch (1 introspector)', 'sesearch peak', 'sesearch / ours'], rows);
  console.log('Each tool is a child process under GNU time; medians of 3 runs (checkpolicy once at 10 000). Ratios > 1× mean the peer is slower.');
}

main();
