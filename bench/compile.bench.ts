// Benchmark: our compile (spec text → all artifacts, in-process, warm) against Debian's
// checkpolicy compiling the standalone policy.conf we emit, at 10, 1 000 and 10 000 targets;
// and our binary writer (policy.conf → xenpolicy, policy/binary/write.ts) beside checkpolicy,
// with whether the bytes are the same.
// Run with `npm run bench`. Not a test: it prints one table and throws only if a compile fails,
// so a failed compile is never timed.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compile, hasErrors, MAX_SPEC_BYTES } from '../compiler/index.js';
import { parsePolicy } from '../policy/grammar/index.js';
import { writeBinaryPolicy } from '../policy/binary/write.js';
import { fileURLToPath } from 'node:url';
import { CHECKPOLICY_TIMEOUT_MS, checkpolicyPeakKiB, elapsedMs, LIFTED_FLAGS, LIFTED_LIMITS, median, mib, printTable, recordGoal, runCliMeasured, TIME, timeAndMemoryGoal, timeCheckpolicy, type ChildOutcome } from './support.js';

const BIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', 'cli', 'bin.js');
/** Issue 12: `vmipolicy compile` of 10 000 targets, every artifact written, as a user runs it. */
const GOAL = { targets: 10_000, seconds: 4, gib: 1, runs: 3 } as const;

interface Size {
  readonly targets: number;
  /** Untimed runs first (JIT, yaml/ajv caches); one 10 000-target compile is warm-up enough. */
  readonly warmups: number;
  /** Timed runs of our compile; fewer for big specs to keep the whole run within ~5 minutes. */
  readonly runs: number;
  /** Timed runs of checkpolicy. */
  readonly checkpolicyRuns: number;
}

const SIZES: readonly Size[] = [
  { targets: 10, warmups: 2, runs: 50, checkpolicyRuns: 5 },
  { targets: 1_000, warmups: 2, runs: 7, checkpolicyRuns: 3 },
  { targets: 10_000, warmups: 1, runs: 3, checkpolicyRuns: 1 },
];
const TARGETS_PER_INTROSPECTOR = 10;

// Each group of 10 targets shares one guest kind, so its introspector can take the event
// capabilities its targets allow: none for PV, memory/register events for PVH, altp2m for HVM.
const GUESTS = ['pv', 'pvh', 'hvm'] as const;
const BASE_CAPS = ['domain-info', 'read-memory', 'read-registers', 'pause'];
const EXTRA_CAPS: Record<(typeof GUESTS)[number], readonly string[]> = {
  pv: [],
  pvh: ['memory-events', 'register-events'],
  hvm: ['memory-events', 'altp2m'],
};

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const monName = (i: number): string => `mon-${pad(i + 1, 4)}`;
const vmName = (i: number): string => `vm-${pad(i + 1, 5)}`;

/**
 * A standalone spec with `targets` targets and one introspector per 10 of them. Flow-style
 * mappings keep 10 000 targets well under MAX_SPEC_BYTES. Introspectors run PV so that
 * read-memory without write-memory is really read-only (no CannotBeReadOnly warnings).
 */
function makeSpec(targets: number): string {
  const groups = Math.ceil(targets / TARGETS_PER_INTROSPECTOR);
  const lines = ['vmipolicy: 1', 'xen: "4.22"', 'policy: {module: bench, mode: standalone}', 'introspectors:'];
  const targetLines: string[] = [];
  for (let g = 0; g < groups; g++) {
    const guest = GUESTS[g % GUESTS.length] ?? 'hvm';
    const names: string[] = [];
    for (let t = g * TARGETS_PER_INTROSPECTOR; t < Math.min(targets, (g + 1) * TARGETS_PER_INTROSPECTOR); t++) {
      names.push(vmName(t));
      targetLines.push(`  - {name: ${vmName(t)}, guest: ${guest}}`);
    }
    const caps = [...BASE_CAPS, ...EXTRA_CAPS[guest]].join(', ');
    lines.push(`  - {name: ${monName(g)}, guest: pv, targets: [${names.join(', ')}], capabilities: [${caps}]}`);
  }
  return [...lines, 'targets:', ...targetLines, ''].join('\n');
}

/** Compiles a spec; throws on any error so that only successful compiles are measured. */
function compileOrThrow(spec: string): ReadonlyMap<string, string> {
  const result = compile({ file: 'bench.yaml', content: spec }, { limits: LIFTED_LIMITS });
  if (hasErrors(result.diagnostics) || !result.artifacts) {
    const first = result.diagnostics.slice(0, 5).map((d) => `${d.code} ${d.message}`).join('\n');
    throw new Error(`compile failed:\n${first}`);
  }
  return result.artifacts;
}

/** Median wall time of our compile after warm-up; also returns the artifacts of the first run. */
function timeOurs(spec: string, size: Size): { ms: number; artifacts: ReadonlyMap<string, string> } {
  const artifacts = compileOrThrow(spec);
  for (let i = 1; i < size.warmups; i++) compileOrThrow(spec);
  const ms = median(Array.from({ length: size.runs }, () => elapsedMs(() => compileOrThrow(spec))));
  return { ms, artifacts };
}

interface Row {
  readonly targets: number;
  readonly specBytes: number;
  readonly confLines: number;
  readonly oursMs: number;
  readonly checkpolicy: ChildOutcome;
  readonly oursPeakKiB: number;
  readonly checkpolicyPeakKiB?: number;
  /** Our writer: parse + write, median ms, and whether the bytes equal checkpolicy's. */
  readonly binary?: { readonly ms: number; readonly same: boolean; readonly bytes: number };
}

/**
 * Our writer on the policy.conf, timed like checkpolicy (parse included: checkpolicy parses
 * too). Run only when checkpolicy finished: the 10 000-target fleet's avtab is ~100 times the
 * 1 000-target one's (rules over every pair of domain types), which neither can hold in a
 * bench's time.
 */
function timeBinary(conf: string, outPath: string, runs: number): Row['binary'] {
  let bytes: Uint8Array = new Uint8Array(0);
  const ms = median(Array.from({ length: runs }, () => elapsedMs(() => {
    bytes = writeBinaryPolicy(parsePolicy('policy.conf', conf).ast, { version: 30 });
  })));
  return { ms, same: Buffer.from(bytes).equals(readFileSync(outPath)), bytes: bytes.length };
}

function measure(size: Size, dir: string): Row {
  const spec = makeSpec(size.targets);
  const specBytes = Buffer.byteLength(spec, 'utf8');
  if (specBytes > MAX_SPEC_BYTES) throw new Error(`spec for ${size.targets} targets is ${specBytes} B, over MAX_SPEC_BYTES`);
  const { ms: oursMs, artifacts } = timeOurs(spec, size);
  // maxRSS is the process-wide peak so far; sizes run in ascending order, so it is this size's peak.
  const oursPeakKiB = process.resourceUsage().maxRSS;
  const conf = artifacts.get('policy.conf');
  if (conf === undefined) throw new Error('no policy.conf: is the spec in standalone mode?');
  const { outcome: checkpolicy, confPath, outPath } = checkEmitted(conf, join(dir, `policy-${size.targets}`), size.checkpolicyRuns);
  const cpPeak = 'ms' in checkpolicy ? checkpolicyPeakKiB(confPath, outPath) : undefined;
  const confLines = conf.split('\n').length - 1;
  const binary = 'ms' in checkpolicy ? timeBinary(conf, outPath, size.checkpolicyRuns) : undefined;
  return { targets: size.targets, specBytes, confLines, oursMs, checkpolicy, oursPeakKiB, checkpolicyPeakKiB: cpPeak, ...(binary ? { binary } : {}) };
}

/** Times checkpolicy on the emitted policy.conf exactly as written. */
function checkEmitted(conf: string, base: string, runs: number): { outcome: ChildOutcome; confPath: string; outPath: string } {
  const confPath = `${base}.conf`;
  const outPath = `${base}.bin`;
  writeFileSync(confPath, conf);
  return { outcome: timeCheckpolicy(confPath, outPath, runs), confPath, outPath };
}


function cells(r: Row): string[] {
  const cp = r.checkpolicy;
  return [
    r.targets.toLocaleString('en-US'),
    r.specBytes.toLocaleString('en-US'),
    r.confLines.toLocaleString('en-US'),
    r.oursMs.toFixed(2),
    'ms' in cp ? cp.ms.toFixed(2) : cp.failure,
    'ms' in cp ? `${(cp.ms / r.oursMs).toFixed(1)}×` : '—',
    mib(r.oursPeakKiB),
    mib(r.checkpolicyPeakKiB),
  ];
}

/**
 * The goal's figure: the CLI as a child process writing every artifact (the manifest streamed,
 * 10 004 files made durable), wall time and peak RSS under GNU time, median of 3 runs.
 */
function cliGoal(dir: string, row: Row | undefined): void {
  const spec = join(dir, `cli-${GOAL.targets}.yaml`);
  writeFileSync(spec, makeSpec(GOAL.targets));
  const runs = Array.from({ length: GOAL.runs }, (_, i) => runCliMeasured(BIN, ['compile', spec, '-o', join(dir, `cli-out-${i}`), ...LIFTED_FLAGS], 300));
  const failed = runs.find((r) => r.status !== 'exit 0');
  if (failed) throw new Error(`vmipolicy compile -o failed: ${failed.status}`);
  const seconds = median(runs.map((r) => r.seconds));
  const kib = runs.every((r) => r.kib !== undefined) ? Math.max(...runs.map((r) => r.kib as number)) : undefined;
  const cpu = runs.every((r) => r.cpuSeconds !== undefined) ? median(runs.map((r) => r.cpuSeconds as number)) : undefined;
  console.log(`\nvmipolicy compile -o (child process, every artifact written), ${GOAL.targets.toLocaleString('en-US')} targets: ${seconds.toFixed(2)} s wall${cpu === undefined ? '' : `, ${cpu.toFixed(2)} s CPU`}, ${mib(kib)} peak RSS (median of ${GOAL.runs})`);
  const cp = row?.checkpolicy;
  const peer = cp === undefined ? undefined : 'ms' in cp ? `checkpolicy ${(cp.ms / 1000).toFixed(2)} s` : `checkpolicy ${cp.failure}`;
  recordGoal(timeAndMemoryGoal(`compile ${GOAL.targets.toLocaleString('en-US')} targets (vmipolicy compile -o)`, seconds, kib, GOAL.seconds, GOAL.gib, peer));
}

function main(): void {
  const started = process.hrtime.bigint();
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-bench-'));
  try {
    const rows = SIZES.map((s) => measure(s, dir));
    console.log('vmipolicy compile vs checkpolicy -t Xen -c 30 (medians; ours warm and in-process, checkpolicy wall time)');
    printTable(['targets', 'spec bytes', 'policy.conf lines', 'ours ms', 'checkpolicy ms', 'ratio', 'ours peak RSS', 'checkpolicy peak RSS'], rows.map(cells));
    console.log('ratio = checkpolicy / ours. ours peak RSS = this process\'s maxRSS after that size (cumulative, sizes ascending).');
    if (rows.some((r) => 'failure' in r.checkpolicy && r.checkpolicy.failure.startsWith('timed out'))) {
      console.log(`checkpolicy timeout is ${CHECKPOLICY_TIMEOUT_MS / 1000} s per run, to keep the whole bench within ~5 minutes.`);
    }
    if (!existsSync(TIME)) console.log(`checkpolicy peak RSS omitted: ${TIME} not found.`);
    console.log('\nxenpolicy written by vmipolicy (policy/binary/write.ts: parse + write, in-process) vs checkpolicy -t Xen -c 30');
    printTable(['targets', 'binary bytes', 'ours ms', 'checkpolicy ms', 'ratio', 'same bytes'], rows.map((r) => [
      r.targets.toLocaleString('en-US'),
      r.binary ? r.binary.bytes.toLocaleString('en-US') : '—',
      r.binary ? r.binary.ms.toFixed(2) : 'not run',
      'ms' in r.checkpolicy ? r.checkpolicy.ms.toFixed(2) : r.checkpolicy.failure,
      r.binary && 'ms' in r.checkpolicy ? `${(r.checkpolicy.ms / r.binary.ms).toFixed(1)}×` : '—',
      r.binary ? (r.binary.same ? 'yes' : 'NO') : '—',
    ]));
    cliGoal(dir, rows.find((r) => r.targets === GOAL.targets));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`total bench time ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
}

main();
