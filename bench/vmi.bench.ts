// Benchmark: the seed's headline figure. Time to read one page by virtual address = an IA-32e
// 4-level walk + a 4 KiB copy, averaged over 500 consecutive virtual pages that map to
// scattered frames, on a raw snapshot of 64 MiB; caches cold (the translation cache is
// flushed before every pass; the file's frames stay in memory, as the OS page cache does for
// the C program's mmap); median of 1000 passes. Timed on both of AddressSpace's read entries:
// readVirtualInto with a bigint per page (what library users call) and readSplitInto with the
// address's 32-bit halves (the internal path it leads to). Printed beside a minimal C
// implementation of the same walk + copy over the same file, compiled here with `cc -O2`, and
// the published LibVMI figures for context. Run with `npm run bench` or `node dist/bench/vmi.bench.js`.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSyntheticGuest } from '../vmi/guest/synthetic-guest.js';
import { writeRawSnapshot } from '../vmi/guest/snapshot-files.js';
import { HOST_LITTLE_ENDIAN, PAGE_SIZE } from '../vmi/memory/physical-memory.js';
import { openRawSnapshot } from '../vmi/memory/raw-snapshot.js';
import { AddressSpace } from '../vmi/paging/address-space.js';
import { splitVirtual } from '../vmi/paging/virtual-address.js';
import { median, printTable, recordGoal } from './support.js';

const SNAPSHOT_BYTES = 64 << 20;
const PAGES = 500;
const PASSES = 1000;
/** Rounds the passes are split into, ours and C's alternating (see measure). */
const ROUNDS = 10;
const WARMUP_PASSES = 50;
const TARGET_US = 0.15;
/** Issue goals: the public path within 1.1× of the internal one, and within 2.5× of the C walk. */
const PUBLIC_GOAL = 1.1;
const C_GOAL = 2.5;
const PUBLISHED = [
  ['LibVMI in Mini-OS (published)', 3.7],
  ['LibVMI in dom0 (published)', 5.7],
] as const;

/** The C source sits in bench/c/, beside this file's TypeScript source (dist/bench/ → ../../bench/c). */
const C_SOURCE = fileURLToPath(new URL('../../bench/c/pagewalk.c', import.meta.url));

interface Measurement {
  readonly usPerPage: number;
  readonly passes: number;
}

/** One round of our passes: µs/page of each pass on each path, pair by pair. */
interface OurRound {
  readonly internal: readonly number[];
  readonly pub: readonly number[];
}

/**
 * Timed passes through the public path (a bigint address per page, what library users call)
 * and the internal one (split halves), after checking every page's content once (outside the
 * timing) and warming both up.
 */
function prepareOurs(file: string, dtb: number, va: bigint, expected: (i: number) => Uint8Array): { round(pairs: number): OurRound; close(): void } {
  const opened = openRawSnapshot(file);
  if (!opened.ok) throw new Error(opened.diagnostic.message);
  const space = new AddressSpace(opened.memory, 'ia32e', dtb);
  const { hi, lo } = splitVirtual(va)!;
  const buffer = new Uint8Array(PAGE_SIZE);
  for (let i = 0; i < PAGES; i++) {
    const status = space.readVirtualInto(va + BigInt(i * PAGE_SIZE), buffer, 0, PAGE_SIZE);
    if (!status.ok || !Buffer.from(buffer).equals(expected(i))) throw new Error(`page ${i} reads wrong: the benchmark would time a broken reader`);
  }
  const addresses = Array.from({ length: PAGES }, (_, i) => va + BigInt(i * PAGE_SIZE));
  const internalPass = (): number => {
    space.flush();
    const start = process.hrtime.bigint();
    for (let i = 0; i < PAGES; i++) {
      const sum = lo + i * PAGE_SIZE;
      const status = space.readSplitInto((hi + Math.floor(sum / 2 ** 32)) >>> 0, sum >>> 0, buffer, 0, PAGE_SIZE);
      if (!status.ok) throw new Error(`page ${i} failed during the timed pass`);
    }
    return Number(process.hrtime.bigint() - start) / 1e3 / PAGES;
  };
  const publicPass = (): number => {
    space.flush();
    const start = process.hrtime.bigint();
    for (let i = 0; i < PAGES; i++) {
      const status = space.readVirtualInto(addresses[i] as bigint, buffer, 0, PAGE_SIZE);
      if (!status.ok) throw new Error(`page ${i} failed during the timed pass`);
    }
    return Number(process.hrtime.bigint() - start) / 1e3 / PAGES;
  };
  for (let i = 0; i < WARMUP_PASSES; i++) {
    internalPass();
    publicPass();
  }
  return {
    // Pairs of passes, each path first in every other pair, so that both see the same machine
    // and neither always runs after the other.
    round(pairs) {
      const internal: number[] = [];
      const pub: number[] = [];
      for (let i = 0; i < pairs; i++) {
        if (i % 2 === 0) {
          internal.push(internalPass());
          pub.push(publicPass());
        } else {
          pub.push(publicPass());
          internal.push(internalPass());
        }
      }
      return { internal, pub };
    },
    close: () => opened.memory.close(),
  };
}

/** The C walk built once; each run is a child process timing `passes` passes and printing their median µs/page. */
function prepareC(dir: string, file: string, dtb: number, va: bigint): ((passes: number) => number | string) | { readonly skipped: string } {
  const binary = join(dir, 'pagewalk');
  const built = spawnSync('cc', ['-O2', '-o', binary, C_SOURCE], { encoding: 'utf8' });
  if (built.error) return { skipped: `no C compiler (cc: ${(built.error as NodeJS.ErrnoException).code ?? built.error.message})` };
  if (built.status !== 0) return { skipped: `cc -O2 failed: ${built.stderr.trim().split('\n')[0] ?? ''}` };
  return (passes) => {
    const run = spawnSync(binary, [file, dtb.toString(16), va.toString(16), String(PAGES), String(passes)], { encoding: 'utf8' });
    return run.status === 0 ? Number(run.stdout.split('\n')[0]) : `the C program failed: ${run.stderr.trim()}`;
  };
}

interface Results {
  readonly internalPath: Measurement;
  readonly publicPath: Measurement;
  readonly c: Measurement | { readonly skipped: string };
  /** The median over pairs of passes timed back to back of public / internal. */
  readonly publicToInternal: number;
  /** The median over rounds of public / C, each round's medians. */
  readonly publicToC: number;
  readonly internalToC: number;
}

/**
 * Ours and C in alternating rounds. The machine has 2 cores shared with other work, and its
 * load drifts by more than the 10 % the public/internal goal allows between the start and the
 * end of a run; a ratio of figures measured at different moments would measure the drift. So
 * public/internal is the median of each back-to-back pair's ratio, and public/C (C runs as a
 * child, between our rounds) the median of each round's ratio of medians.
 */
function measure(dir: string, file: string, dtb: number, va: bigint, expected: (i: number) => Uint8Array): Results {
  const ours = prepareOurs(file, dtb, va, expected);
  const c = prepareC(dir, file, dtb, va);
  const perRound = PASSES / ROUNDS;
  const internal: number[] = [];
  const pub: number[] = [];
  const pairRatios: number[] = [];
  const cRounds: number[] = [];
  const toC: number[] = [];
  const internalToC: number[] = [];
  let cFailure: string | undefined = 'skipped' in c ? c.skipped : undefined;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const round = ours.round(perRound);
      internal.push(...round.internal);
      pub.push(...round.pub);
      round.pub.forEach((q, i) => pairRatios.push(q / (round.internal[i] as number)));
      if (cFailure !== undefined || 'skipped' in c) continue;
      const cUs = c(perRound);
      if (typeof cUs === 'string') {
        cFailure = cUs;
        continue;
      }
      cRounds.push(cUs);
      toC.push(median(round.pub) / cUs);
      internalToC.push(median(round.internal) / cUs);
    }
  } finally {
    ours.close();
  }
  return {
    internalPath: { usPerPage: median(internal), passes: internal.length },
    publicPath: { usPerPage: median(pub), passes: pub.length },
    c: cFailure !== undefined ? { skipped: cFailure } : { usPerPage: median(cRounds), passes: cRounds.length * perRound },
    publicToInternal: median(pairRatios),
    publicToC: cFailure !== undefined ? Number.NaN : median(toC),
    internalToC: cFailure !== undefined ? Number.NaN : median(internalToC),
  };
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-bench-'));
  try {
    const guest = buildSyntheticGuest({ seed: 2024, memoryBytes: SNAPSHOT_BYTES, dataPages: PAGES });
    const file = join(dir, 'guest.raw');
    writeRawSnapshot(guest.image, file);
    const m = measure(dir, file, guest.dtb, guest.data.va, (i) => guest.dataPage(i));
    const ours = m.internalPath;
    console.log(`Read one page by virtual address: 4-level walk + 4 KiB copy, ${PAGES} consecutive pages on scattered frames,`);
    console.log(`raw snapshot of ${SNAPSHOT_BYTES >> 20} MiB, translation cache flushed before each pass, median of ${PASSES} passes`);
    console.log(`in ${ROUNDS} rounds, ours and C's alternating. Load average before the run: ${loadavg().map((l) => l.toFixed(2)).join(', ')}.`);
    console.log('vmipolicy reads the file with pread into a 16 MiB frame cache; C mmaps it (both: file data in memory, walks cold).');
    console.log(`vmipolicy reads page-table entries as ${HOST_LITTLE_ENDIAN ? 'two u32 from word views of the cached frames' : 'bytes (big-endian host)'}; C as one u64.\n`);
    const rows: string[][] = [
      ['vmipolicy, internal path (readSplitInto, split halves)', ours.usPerPage.toFixed(3), String(ours.passes), '1.00'],
      ['vmipolicy, public path (readVirtualInto, a bigint per page)', m.publicPath.usPerPage.toFixed(3), String(m.publicPath.passes), (m.publicPath.usPerPage / ours.usPerPage).toFixed(2)],
    ];
    if ('skipped' in m.c) {
      console.log(`C baseline skipped: ${m.c.skipped}`);
    } else {
      rows.push(['C, cc -O2, mmap (practical limit)', m.c.usPerPage.toFixed(3), String(m.c.passes), (m.c.usPerPage / ours.usPerPage).toFixed(2)]);
    }
    for (const [name, us] of PUBLISHED) rows.push([name, us.toFixed(3), '', (us / ours.usPerPage).toFixed(2)]);
    printTable(['reader', 'µs/page', 'passes', 'its time / internal path'], rows);
    const met = (ratio: number, goal: number): string => `goal ≤ ${goal}×: ${ratio <= goal ? 'met' : 'NOT met'}`;
    console.log(`\npublic / internal = ${m.publicToInternal.toFixed(3)}× (${met(m.publicToInternal, PUBLIC_GOAL)}; median of ${m.publicPath.passes} back-to-back pairs; the ratio of the medians above: ${(m.publicPath.usPerPage / ours.usPerPage).toFixed(3)}×)`);
    if (!('skipped' in m.c)) console.log(`public / C = ${m.publicToC.toFixed(2)}× (${met(m.publicToC, C_GOAL)}; median of ${ROUNDS} rounds); internal / C = ${m.internalToC.toFixed(2)}×`);
    console.log(`target ≤ ${TARGET_US} µs/page: ${ours.usPerPage <= TARGET_US ? 'met' : 'NOT met'}`);
    recordGoal({ measure: 'VMI public read path vs internal', ours: `${m.publicPath.usPerPage.toFixed(3)} µs/page`, peer: `internal ${ours.usPerPage.toFixed(3)} µs/page`, goal: `≤ ${PUBLIC_GOAL}×`, ratio: `${m.publicToInternal.toFixed(3)}×`, met: m.publicToInternal <= PUBLIC_GOAL });
    if (!('skipped' in m.c)) {
      recordGoal({ measure: 'VMI public read path vs hand C', ours: `${m.publicPath.usPerPage.toFixed(3)} µs/page`, peer: `C ${m.c.usPerPage.toFixed(3)} µs/page`, goal: `≤ ${C_GOAL}×`, ratio: `${m.publicToC.toFixed(2)}×`, met: m.publicToC <= C_GOAL });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
