// The dump formats QEMU writes, read by content: kdump-compressed (flattened as QEMU 7.2
// writes it, and plain), ELF64 and ELF32 cores with overlapping `-p` segments, and the vCPU
// state their notes carry, which makes --dtb and --mode optional. Differential against real
// QEMU dumps of one paused guest (test/support/qemu-dumps.ts): every page the kdump reader
// returns is the page the ELF reader returns, and the known patterns are where they were put.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildSyntheticGuest } from '../vmi/guest/synthetic-guest.js';
import { profileJson } from '../vmi/guest/linux-profile.js';
import { kdumpBytes, writeElfCore, writeKdump, writeRawSnapshot } from '../vmi/guest/snapshot-files.js';
import { MemoryImage } from '../vmi/memory/memory-image.js';
import { disjoint } from '../vmi/memory/elf-core.js';
import { openSnapshot } from '../vmi/memory/open-snapshot.js';
import { PAGE_SIZE, type PhysicalMemory } from '../vmi/memory/physical-memory.js';
import { pagingFromRegisters } from '../vmi/paging/modes.js';
import { qemuDumps } from './support/qemu-dumps.js';
import { repoPath, requires } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8' });

/** An image of `pages` RAM pages with a mix of zero, compressible and random pages. */
function imageOf(seed: number, pages: number): MemoryImage {
  const end = pages * PAGE_SIZE;
  const image = new MemoryImage(end, end > 0x100000 ? [{ start: 0, end: 0xa0000 }, { start: 0x100000, end }] : [{ start: 0, end }]);
  let x = seed | 1;
  const next = (): number => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
  for (let pfn = 0; pfn < pages; pfn++) {
    if (!image.isRam(pfn * PAGE_SIZE, PAGE_SIZE)) continue;
    const kind = next() % 3;
    if (kind === 0) continue;
    const page = new Uint8Array(PAGE_SIZE);
    if (kind === 1) page.fill(pfn & 0xff, 0, 100 + (pfn % 50));
    else for (let i = 0; i < PAGE_SIZE; i++) page[i] = next() & 0xff;
    image.write(pfn * PAGE_SIZE, page);
  }
  return image;
}

function samePages(a: PhysicalMemory, b: PhysicalMemory, pages: number, what: string): void {
  for (let pfn = 0; pfn < pages; pfn++) {
    const x = a.frame(pfn)?.slice();
    const y = b.frame(pfn)?.slice();
    assert.equal(x === undefined, y === undefined, `${what}: pfn 0x${pfn.toString(16)} present in one only`);
    if (x && y) assert.ok(Buffer.from(x).equals(y), `${what}: pfn 0x${pfn.toString(16)} differs`);
  }
}

describe('kdump-compressed dumps', () => {
  it('read back every page of the image, flattened (records in any order and size) or plain', () => {
    const image = imageOf(5, 300);
    withTempDir((dir) => {
      fc.assert(
        fc.property(fc.boolean(), fc.integer({ min: 1, max: 5 }), fc.integer(), (flat, recordPages, seed) => {
          const path = join(dir, 'k.dump');
          const order = (n: number): number[] => {
            const idx = Array.from({ length: n }, (_, i) => i);
            let s = seed | 1;
            for (let i = n - 1; i > 0; i--) {
              s = (s * 1103515245 + 12345) & 0x7fffffff;
              const j = s % (i + 1);
              [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
            }
            return idx;
          };
          writeKdump(image, path, { flattened: flat, recordBytes: recordPages * 1000, order });
          const opened = openSnapshot(path, { cacheFrames: 16 });
          assert.ok(opened.ok, opened.ok ? '' : opened.diagnostic.message);
          assert.equal(opened.kind, 'kdump');
          samePages(opened.memory, image, 300, flat ? 'flattened' : 'plain');
          opened.memory.close();
        }),
        { numRuns: 12 },
      );
    });
  });

  it('a cut, a flipped byte or a lying count is exit 2 or a page that is not there — never a crash or a hang', () => {
    const image = imageOf(9, 64);
    const good = kdumpBytes(image, { flattened: true });
    withTempDir((dir) => {
      const path = join(dir, 'bad.dump');
      fc.assert(
        fc.property(fc.nat({ max: good.length }), fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.boolean(), (cut, at, byte, truncate) => {
          const bytes = truncate ? good.subarray(0, cut) : good.slice();
          if (!truncate) bytes[at] = byte;
          writeFileSync(path, bytes);
          const opened = openSnapshot(path, { cacheFrames: 8 });
          if (!opened.ok) {
            assert.equal(opened.diagnostic.code, 'VP4002');
            return;
          }
          for (let pfn = 0; pfn < 80; pfn++) opened.memory.frame(pfn);
          opened.memory.close();
        }),
        { numRuns: 300 },
      );
    });
  });

  it('lzo and snappy pages are refused by name, and so are formats that are not memory dumps vmipolicy reads', () => {
    const image = imageOf(3, 40);
    withTempDir((dir) => {
      const cases: [Uint8Array, RegExp][] = [
        [kdumpBytes(image, { flattened: true, status: 0x2 }), /compressed with lzo/],
        [kdumpBytes(image, { status: 0x4 }), /compressed with snappy/],
        [new Uint8Array([...Buffer.from('PAGEDU64'), ...new Uint8Array(4088)]), /Windows crash dump/],
        [new Uint8Array([...Buffer.from('QEVM'), 0, 0, 0, 3]), /migration stream/],
      ];
      for (const [bytes, message] of cases) {
        const path = join(dir, 'x.dump');
        writeFileSync(path, bytes);
        const r = cli(['vmi', 'translate', '--snapshot', path, '--dtb', '0x1000', '--address', '0x1000']);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /\n\s+at /);
      }
    });
  });
});

describe('ELF cores', () => {
  it('overlapping -p segments keep every physical address once, from the first segment that holds it', () => {
    const segs = disjoint([
      { physical: 0xf5000, fileOffset: 0x9000, size: 0x2000 },
      { physical: 0xc0000, fileOffset: 0x1000, size: 0x40000 },
      { physical: 0x100000, fileOffset: 0x50000, size: 0x1000 },
      { physical: 0xc1000, fileOffset: 0x2000, size: 0x1000 },
    ]);
    assert.deepEqual(segs, [
      { physical: 0xc0000, fileOffset: 0x1000, size: 0x40000 },
      { physical: 0x100000, fileOffset: 0x50000, size: 0x1000 },
    ]);
  });

  it('a 32-bit core (ELFCLASS32, as QEMU dumps a 32-bit guest) reads like the 64-bit one', () => {
    const image = imageOf(4, 64);
    withTempDir((dir) => {
      const path = join(dir, 'c32.elf');
      writeFileSync(path, elf32Of(image));
      const opened = openSnapshot(path);
      assert.ok(opened.ok, opened.ok ? '' : opened.diagnostic.message);
      assert.equal(opened.elfClass, 32);
      samePages(opened.memory, image, 64, 'ELF32');
      opened.memory.close();
    });
  });
});

/** An ELF32 core of the image: one PT_LOAD per RAM range, plus one overlapping duplicate. */
function elf32Of(image: MemoryImage): Uint8Array {
  const ranges = [...image.ranges, image.ranges[0] as { start: number; end: number }];
  const headers = 52 + 32 * ranges.length;
  const dataAt = Math.ceil(headers / PAGE_SIZE) * PAGE_SIZE;
  const out = new Uint8Array(dataAt + image.end);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  v.setUint16(16, 4, true);
  v.setUint16(18, 3, true);
  v.setUint32(28, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, ranges.length, true);
  ranges.forEach((r, i) => {
    const at = 52 + 32 * i;
    v.setUint32(at, 1, true);
    v.setUint32(at + 4, dataAt + r.start, true);
    v.setUint32(at + 12, r.start, true);
    v.setUint32(at + 16, r.end - r.start, true);
    v.setUint32(at + 20, r.end - r.start, true);
  });
  for (const pfn of image.writtenFrames()) out.set(image.frame(pfn) as Uint8Array, dataAt + pfn * PAGE_SIZE);
  return out;
}

describe('the vCPU state a dump carries', () => {
  it('control registers select the mode and the page-directory base as the CPU does', () => {
    assert.deepEqual(pagingFromRegisters(0x80050033n, 0x1234567801n, 0x3606f0n, true), { mode: 'ia32e', dtb: 0x1234567000n });
    assert.deepEqual(pagingFromRegisters(0x80050033n, 0x1000n, 0x3606f0n | (1n << 12n), true), { mode: 'la57', dtb: 0x1000n });
    assert.deepEqual(pagingFromRegisters(0x80000011n, 0x1f3c6fe0n, 0x20n, false), { mode: 'pae', dtb: 0x1f3c6fe0n });
    assert.deepEqual(pagingFromRegisters(0x80000011n, 0x1f3c6018n, 0n, false), { mode: 'legacy', dtb: 0x1f3c6000n });
    assert.match((pagingFromRegisters(0x60000010n, 0n, 0n, false) as { problem: string }).problem, /paging is off/);
  });

  it('vmi ps needs no --dtb on an ELF or kdump dump with QEMU\'s CPU note, and lists what it lists with --dtb on the raw file', () => {
    const guest = buildSyntheticGuest({ seed: 21, memoryBytes: 32 << 20, processes: 6, dataPages: 2 });
    const cpu = { cr0: 0x80050033n, cr3: BigInt(guest.dtb) | 0x801n, cr4: 0x3606f0n };
    withTempDir((dir) => {
      const profile = join(dir, 'p.json');
      writeFileSync(profile, profileJson(guest.profile));
      writeRawSnapshot(guest.image, join(dir, 'g.raw'));
      writeElfCore(guest.image, join(dir, 'g.elf'), [cpu]);
      writeKdump(guest.image, join(dir, 'g.kdump'), { cpus: [cpu], flattened: true });
      const expected = cli(['vmi', 'ps', '--snapshot', join(dir, 'g.raw'), '--dtb', `0x${guest.dtb.toString(16)}`, '--profile', profile]);
      assert.equal(expected.status, 0, expected.stderr);
      for (const file of ['g.elf', 'g.kdump']) {
        const r = cli(['vmi', 'ps', '--snapshot', join(dir, file), '--profile', profile]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, expected.stdout, file);
        assert.match(r.stderr, new RegExp(`--dtb 0x${guest.dtb.toString(16)} --mode ia32e: from vCPU 0 of the dump`));
      }
      const raw = cli(['vmi', 'ps', '--snapshot', join(dir, 'g.raw'), '--profile', profile]);
      assert.equal(raw.status, 2);
      assert.match(raw.stderr, /carries no vCPU state: give --dtb/);
      // Per vCPU: one still in reset (paging off), the other running the kernel.
      writeElfCore(guest.image, join(dir, 'smp.elf'), [{ cr0: 0x60000010n, cr3: 0n, cr4: 0n }, cpu]);
      const second = cli(['vmi', 'ps', '--snapshot', join(dir, 'smp.elf'), '--profile', profile, '--vcpu', '1']);
      assert.equal(second.status, 0, second.stderr);
      assert.equal(second.stdout, expected.stdout);
      const first = cli(['vmi', 'ps', '--snapshot', join(dir, 'smp.elf'), '--profile', profile]);
      assert.equal(first.status, 2);
      assert.match(first.stderr, /vCPU 0 of the dump: paging is off/);
      const none = cli(['vmi', 'ps', '--snapshot', join(dir, 'smp.elf'), '--profile', profile, '--vcpu', '5']);
      assert.equal(none.status, 2);
      assert.match(none.stderr, /holds the state of 2 vCPUs \(0 to 1\)/);
    });
  });
});

describe('real QEMU dumps of one paused guest', () => {
  it('kdump-zlib (flattened, as QEMU writes it) holds exactly the ELF dump\'s pages, and the patterns where they were put', (t) => {
    if (!requires(t, { commands: ['qemu-system-x86_64'] })) return;
    const dumps = qemuDumps();
    assert.ok(!('skip' in dumps), 'skip' in dumps ? dumps.skip : '');
    const elf = openSnapshot(dumps.files.elf as string);
    const kdump = openSnapshot(dumps.files['kdump-zlib'] as string);
    assert.ok(elf.ok && kdump.ok, `${elf.ok ? '' : elf.diagnostic.message} ${kdump.ok ? '' : kdump.diagnostic.message}`);
    assert.equal(kdump.kind, 'kdump');
    const pages = Math.ceil(Math.max(elf.memory.end, kdump.memory.end) / PAGE_SIZE);
    samePages(kdump.memory, elf.memory, pages, 'QEMU kdump-zlib vs ELF');
    for (const p of dumps.patterns) {
      const got = new Uint8Array(p.bytes.length);
      assert.ok(kdump.memory.readInto(p.address, got, 0, got.length).ok);
      assert.ok(Buffer.from(got).equals(p.bytes), `pattern at 0x${p.address.toString(16)}`);
    }
    // The paused vCPU is at reset: paging off, and both dumps say so.
    for (const d of [elf, kdump]) {
      const cpu = d.cpus?.[0];
      assert.ok(cpu, `${d.kind} carries the vCPU's state`);
      assert.equal(cpu.cr0 & (1n << 31n), 0n);
    }
    const r = cli(['vmi', 'translate', '--snapshot', dumps.files['kdump-zlib'] as string, '--address', '0x1000']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /vCPU 0 of the dump: paging is off/);
    elf.memory.close();
    kdump.memory.close();
    assert.ok(readFileSync(dumps.files['kdump-zlib'] as string).subarray(0, 12).toString() === 'makedumpfile');
  });
});
