// Benchmark: `vmipolicy diff` on two generated host policies of 1 000, 3 000 and 10 000
// domain types (Xen 4.22's stock modules plus gen-large.py's per-VM rules, built through
// Xen's own m4 + checkpolicy flow) that differ in 1 % of their rules (`--extra`), beside
// setools' sediff on the checkpolicy binaries — both as child processes, wall time and peak
// RSS (GNU time), in one run. sediff runs under a 4 GiB address-space cap and a time limit:
// the stock `allow domain_type domain_type:argo` rule makes it grow with the square of the
// number of types. Not a test: it prints a table.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { elapsedMs, mib, printTable, TIME } from './support.js';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const SHARED = process.env.VMIPOLICY_SHARED ?? resolve(REPO, '..', 'shared');
const SIZES = [1_000, 3_000, 10_000];
const SEDIFF_CAP_BYTES = 4 * 1024 ** 3;
const SEDIFF_TIMEOUT_MS = 120_000;
const OURS_TIMEOUT_MS = 300_000;

interface Host {
  readonly n: number;
  readonly extra: number;
  readonly old: { conf: string; bin: string };
  readonly new: { conf: string; bin: string };
}

type Outcome = { ms: number; kib?: number; detail?: string } | { failure: string };

/** gen-large.py's module for n types (plus `extra` cross-VM rules), built into Xen 4.22's tree. */
function build(dir: string, n: number, extra: number, tag: string): { conf: string; bin: string } | string {
  const te = join(dir, `${tag}.te`);
  const gen = spawnSync('python3', [join(SHARED, 'tools', 'gen-large.py'), '-n', String(n), '--extra', String(extra)], { encoding: 'utf8', maxBuffer: 512 << 20 });
  if (gen.status !== 0) return `gen-large.py failed: ${gen.stderr}`;
  writeFileSync(te, gen.stdout);
  const out = join(dir, tag);
  const b = spawnSync('bash', [join(SHARED, 'tools', 'build-xen-policy.sh'), '-s', join(SHARED, 'corpus', 'xen-4.22', 'src'), '-o', out, '-m', `big=${te}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const conf = join(out, 'policy.conf');
  const bin = join(out, 'xenpolicy');
  if (!existsSync(conf) || !existsSync(bin)) return `build failed: ${(b.stderr ?? '').trim().split('\n').pop()}`;
  return { conf, bin };
}

function hosts(dir: string, notes: string[]): Host[] {
  const out: Host[] = [];
  for (const n of SIZES) {
    // 1 % of the module's rules: gen-large writes a fixed number of allow rules per type.
    const probe = spawnSync('python3', [join(SHARED, 'tools', 'gen-large.py'), '-n', String(n)], { encoding: 'utf8', maxBuffer: 512 << 20 });
    if (probe.status !== 0) {
      notes.push(`could not run gen-large.py for ${n} types`);
      continue;
    }
    const rules = probe.stdout.split('\n').filter((l) => l.startsWith('allow ')).length;
    const extra = Math.round(rules / 100);
    const o = build(dir, n, 0, `old${n}`);
    const w = build(dir, n, extra, `new${n}`);
    if (typeof o === 'string' || typeof w === 'string') {
      notes.push(`${n} types: ${typeof o === 'string' ? o : w}`);
      continue;
    }
    out.push({ n, extra, old: o, new: w });
  }
  return out;
}

/** Runs argv under GNU time (peak RSS on the last stderr line) with a time limit. */
function measure(argv: readonly string[], timeoutMs: number, okStatus: readonly number[], capKiB?: number): Outcome & { stdout?: string; stderr?: string } {
  const timed = existsSync(TIME) ? [TIME, '-f', '%M', ...argv] : [...argv];
  let r!: ReturnType<typeof spawnSync>;
  const ms = elapsedMs(() => {
    r = spawnSync(timed[0] as string, timed.slice(1), { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 512 << 20 });
  });
  const stderr = String(r.stderr ?? '');
  const error = r.error as NodeJS.ErrnoException | undefined;
  if (error?.code === 'ETIMEDOUT') return { failure: `timed out (>${timeoutMs / 1000} s)` };
  if (error) return { failure: `error: ${error.message}` };
  const last = stderr.trim().split('\n').pop() ?? '';
  const kib = /^\d+$/.test(last) ? Number(last) : undefined;
  if (!okStatus.includes(r.status ?? -1)) {
    // sediff under prlimit dies quietly (exit 1, nothing on stderr) when an allocation fails:
    // a peak at the cap is the evidence.
    const atCap = capKiB !== undefined && kib !== undefined && kib >= capKiB * 0.9;
    if (atCap || /MemoryError|Cannot allocate memory|std::bad_alloc|Killed/.test(stderr) || r.signal === 'SIGKILL') return { failure: `exceeded the cap (after ${(ms / 1000).toFixed(0)} s)` };
    return { failure: `exit ${r.status ?? r.signal}: ${stderr.trim().split('\n').slice(-2, -1)[0] ?? ''}`.slice(0, 80) };
  }
  return { ms, ...(kib !== undefined ? { kib } : {}), stdout: String(r.stdout ?? ''), stderr };
}

/** `vmipolicy diff OLD NEW --format json --fail-on new-access` (exit 1: NEW adds access, as built). */
function ours(h: Host): Outcome {
  const shim = `const { runDiff } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'dist', 'cli', 'diff.js')).href)}); process.exitCode = runDiff(process.argv.slice(1), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });`;
  const r = measure(['node', '--input-type=module', '-e', shim, '--', h.old.conf, h.new.conf, '--format', 'json', '--fail-on', 'new-access'], OURS_TIMEOUT_MS, [1]);
  if ('failure' in r) return r;
  const report = JSON.parse(r.stdout ?? '{}') as { policy?: { access?: { added: string[]; removed: string[] }[] } };
  const added = (report.policy?.access ?? []).reduce((n, c) => n + c.added.length, 0);
  const removed = (report.policy?.access ?? []).reduce((n, c) => n + c.removed.length, 0);
  return { ms: r.ms, ...(r.kib !== undefined ? { kib: r.kib } : {}), detail: `${added} added, ${removed} removed${added === h.extra && removed === 0 ? '' : ` (expected ${h.extra} added)`}` };
}

function sediff(h: Host): Outcome {
  if (spawnSync('sh', ['-c', 'command -v sediff && command -v prlimit'], { stdio: 'ignore' }).status !== 0) return { failure: 'sediff or prlimit not installed' };
  const r = measure(['prlimit', `--as=${SEDIFF_CAP_BYTES}`, '--', 'bash', join(SHARED, 'tools', 'sediff-xen.sh'), '--stats', h.old.bin, h.new.bin], SEDIFF_TIMEOUT_MS, [0], SEDIFF_CAP_BYTES / 1024);
  if ('failure' in r) return r;
  const allow = /Allow Rules \((\d+) Added, (\d+) Removed, (\d+) Modified\)/.exec(r.stdout ?? '');
  return { ms: r.ms, ...(r.kib !== undefined ? { kib: r.kib } : {}), detail: allow ? `${allow[1]} added / ${allow[3]} modified rules` : '' };
}

const secs = (o: Outcome): string => ('failure' in o ? o.failure : `${(o.ms / 1000).toFixed(2)} s`);
const mem = (o: Outcome): string => ('failure' in o ? '—' : mib(o.kib));
function ratio(a: Outcome, b: Outcome, pick: (x: { ms: number; kib?: number }) => number | undefined): string {
  if ('failure' in a) return '—';
  if ('failure' in b) return `> ${b.failure}`;
  const x = pick(a);
  const y = pick(b);
  return x && y ? `${(y / x).toFixed(1)}×` : 'n/a';
}

function main(): void {
  const started = process.hrtime.bigint();
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-diff-bench-'));
  try {
    if (!existsSync(join(SHARED, 'corpus'))) {
      console.log(`../shared is absent (${SHARED}): nothing to diff`);
      return;
    }
    const rows: string[][] = [];
    for (const h of hosts(dir, notes)) {
      const o = ours(h);
      const s = sediff(h);
      rows.push([
        h.n.toLocaleString('en-US'), h.extra.toLocaleString('en-US'), (readFileSync(h.new.conf).length / 1e6).toFixed(1),
        secs(o), mem(o), 'detail' in o ? o.detail ?? '' : '',
        secs(s), mem(s),
        ratio(o, s, (x) => x.ms), ratio(o, s, (x) => x.kib),
      ]);
    }
    console.log('vmipolicy diff vs sediff on two host policies differing in 1 % of their rules (child processes; peak RSS from GNU time)');
    printTable(['domain types', 'extra rules', 'policy.conf MB', 'ours wall', 'ours peak RSS', 'ours found', 'sediff wall', 'sediff peak RSS', 'time ratio', 'memory ratio'], rows);
    console.log(`ratio = sediff / ours. sediff runs under prlimit --as=${SEDIFF_CAP_BYTES / 1024 ** 3} GiB and a ${SEDIFF_TIMEOUT_MS / 1000} s limit. ours = parse + model + diff of both policy.conf files (m4 output), JSON out.`);
    for (const n of notes) console.log(`note: ${n}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`total bench time ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
}

main();
