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
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSyntheticGuest } from '../vmi/guest/synthetic-guest.js';
import { writeRawSnapshot } from '../vmi/guest/snapshot-files.js';
import { HOST_LITTLE_ENDIAN, PAGE_SIZE } from '../vmi/memory/physical-memory.js';
import { openRawSnapshot } from '../vmi/memory/raw-snapshot.js';
import { AddressSpace } from '../vmi/paging/address-space.js';
import { splitVirtual } from '../vmi/paging/virtual-address.js';
import { median, printTable } from './support.js';

const SNAPSHOT_BYTES = 64 << 20;
const PAGES = 500;
const PASSES = 1000;
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

/** The same passes through the public path (a bigint address per page) and the internal one (split halves). */
interface Ours {
  readonly publicPath: Measurement;
  readonly internalPath: Measurement;
  /** The median over pairs of passes, timed back to back, of public / internal. */
  readonly pairedRatio: number;
}

/** Our median µs/page on each path, after checking every page's content once (outside the timing). */
function measureOurs(file: string, dtb: number, va: bigint, expected: (i: number) => Uint8Array): Ours {
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
  // Interleaved in pairs, each path first in every other pair, so that both see the same
  // machine and neither always runs after the other. The ratio is the median of each pair's
  // ratio: on 2 cores shared with other work the load drifts from pair to pair, which moves
  // either path's median by more than the 10 % the goal allows, but moves both passes of a pair alike.
  const internal: number[] = [];
  const pub: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < PASSES; i++) {
    let t: number;
    let q: number;
    if (i % 2 === 0) {
      t = internalPass();
      q = publicPass();
    } else {
      q = publicPass();
      t = internalPass();
    }
    internal.push(t);
    pub.push(q);
    ratios.push(q / t);
  }
  opened.memory.close();
  return { publicPath: { usPerPage: median(pub), passes: PASSES }, internalPath: { usPerPage: median(internal), passes: PASSES }, pairedRatio: median(ratios) };
}

type CResult = Measurement | { readonly skipped: string };

function measureC(dir: string, file: string, dtb: number, va: bigint): CResult {
  const binary = join(dir, 'pagewalk');
  const built = spawnSync('cc', ['-O2', '-o', binary, C_SOURCE], { encoding: 'utf8' });
  if (built.error) return { skipped: `no C compiler (cc: ${(built.error as NodeJS.ErrnoException).code ?? built.error.message})` };
  if (built.status !== 0) return { skipped: `cc -O2 failed: ${built.stderr.trim().split('\n')[0] ?? ''}` };
  const run = spawnSync(binary, [file, dtb.toString(16), va.toString(16), String(PAGES), String(PASSES)], { encoding: 'utf8' });
  if (run.status !== 0) return { skipped: `the C program failed: ${run.stderr.trim()}` };
  return { usPerPage: Number(run.stdout.split('\n')[0]), passes: PASSES };
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-bench-'));
  try {
    const guest = buildSyntheticGuest({ seed: 2024, memoryBytes: SNAPSHOT_BYTES, dataPages: PAGES });
    const file = join(dir, 'guest.raw');
    writeRawSnapshot(guest.image, file);
    const both = measureOurs(file, guest.dtb, guest.data.va, (i) => guest.dataPage(i));
    const ours = both.internalPath;
    const c = measureC(dir, file, guest.dtb, guest.data.va);
    console.log(`Read one page by virtual address: 4-level walk + 4 KiB copy, ${PAGES} consecutive pages on scattered frames,`);
    console.log(`raw snapshot of ${SNAPSHOT_BYTES >> 20} MiB, translation cache flushed before each pass, median of ${PASSES} passes.`);
    console.log('vmipolicy reads the file with pread into a 16 MiB frame cache; C mmaps it (both: file data in memory, walks cold).');
    console.log(`vmipolicy reads page-table entries as ${HOST_LITTLE_ENDIAN ? 'two u32 from word views of the cached frames' : 'bytes (big-endian host)'}; C as one u64.\n`);
    const rows: string[][] = [
      ['vmipolicy, internal path (readSplitInto, split halves)', ours.usPerPage.toFixed(3), String(ours.passes), '1.00'],
      ['vmipolicy, public path (readVirtualInto, a bigint per page)', both.publicPath.usPerPage.toFixed(3), String(both.publicPath.passes), (both.publicPath.usPerPage / ours.usPerPage).toFixed(2)],
    ];
    if ('skipped' in c) {
      console.log(`C baseline skipped: ${c.skipped}`);
    } else {
      rows.push(['C, cc -O2, mmap (practical limit)', c.usPerPage.toFixed(3), String(c.passes), (c.usPerPage / ours.usPerPage).toFixed(2)]);
    }
    for (const [name, us] of PUBLISHED) rows.push([name, us.toFixed(3), '', (us / ours.usPerPage).toFixed(2)]);
    printTable(['reader', 'µs/page', 'passes', 'its time / internal path'], rows);
    const ratio = both.pairedRatio;
    console.log(`\npublic / internal = ${ratio.toFixed(3)}× (median of ${PASSES} back-to-back pairs; the medians' ratio ${(both.publicPath.usPerPage / ours.usPerPage).toFixed(3)}×) (goal ≤ ${PUBLIC_GOAL}×: ${ratio <= PUBLIC_GOAL ? 'met' : 'NOT met'})`);
    if (!('skipped' in c)) {
      const toC = both.publicPath.usPerPage / c.usPerPage;
      console.log(`public / C = ${toC.toFixed(2)}× (goal ≤ ${C_GOAL}×: ${toC <= C_GOAL ? 'met' : 'NOT met'}); internal / C = ${(ours.usPerPage / c.usPerPage).toFixed(2)}×`);
    }
    console.log(`target ≤ ${TARGET_US} µs/page: ${ours.usPerPage <= TARGET_US ? 'met' : 'NOT met'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
