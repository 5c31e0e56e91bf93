// Physical memory sources on generated files: a raw snapshot and a QEMU-style ELF core
// written from the same synthetic guest must read the same bytes; holes, segment edges and
// the end of the file are out of the source; bad files are diagnostics naming the file.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryImage } from '../vmi/memory/memory-image.js';
import { openSnapshot } from '../vmi/memory/open-snapshot.js';
import { parseElfCore } from '../vmi/memory/elf-core.js';
import { readPhysical, type PhysicalMemory } from '../vmi/memory/physical-memory.js';
import { elfLayout, writeElfCore, writeRawSnapshot } from '../vmi/guest/snapshot-files.js';
import { withTempDir } from './support/oracles.js';

function imageWithRanges(): MemoryImage {
  // Two RAM ranges with a hole between, the second not page-aligned at its start.
  const image = new MemoryImage(0x40000, [{ start: 0, end: 0x10000 }, { start: 0x20800, end: 0x40000 }]);
  for (let at = 0; at < 0x10000; at += 0x1000) image.write(at, new Uint8Array(16).fill((at >> 12) + 1));
  image.write(0xfff8, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  image.write(0x20800, new Uint8Array([9, 9, 9]));
  image.write(0x3fffc, new Uint8Array([0xaa, 0xbb, 0xcc, 0xdd]));
  return image;
}

function open(path: string): PhysicalMemory {
  const r = openSnapshot(path, { cacheFrames: 8 });
  assert.ok(r.ok, r.ok ? '' : r.diagnostic.message);
  return r.memory;
}

describe('memory sources', () => {
  it('raw, ELF core and the in-memory image agree on every readable byte; the ELF core keeps the holes', () => {
    withTempDir((dir) => {
      const image = imageWithRanges();
      writeRawSnapshot(image, join(dir, 'g.raw'));
      writeElfCore(image, join(dir, 'g.elf'));
      const raw = open(join(dir, 'g.raw'));
      const elf = open(join(dir, 'g.elf'));
      for (const [address, length] of [[0, 32], [0xfff8, 8], [0x20800, 3], [0x3fffc, 4], [0x7000, 0x2000]] as const) {
        const want = readPhysical(image, address, length);
        assert.ok(want.ok);
        for (const source of [raw, elf]) {
          const got = readPhysical(source, address, length);
          assert.ok(got.ok, `${source.name} 0x${address.toString(16)}`);
          assert.deepEqual(got.bytes, want.bytes);
        }
      }
      // Across the end of the first segment into the hole: the ELF core says where the data stops.
      const across = readPhysical(elf, 0xfffc, 8);
      assert.deepEqual(across, { ok: false, reason: 'out-of-memory-source', address: 0x10000, bytesRead: 4 });
      const inHole = readPhysical(elf, 0x20000, 4);
      assert.ok(!inHole.ok && inHole.address === 0x20000 && inHole.bytesRead === 0);
      // The raw file cannot express holes (zeros), but its end is the end of the source.
      const rawHole = readPhysical(raw, 0x20000, 4);
      assert.ok(rawHole.ok && rawHole.bytes.every((b) => b === 0));
      const pastEnd = readPhysical(raw, 0x3fffe, 4);
      assert.ok(!pastEnd.ok && pastEnd.address === 0x40000 && pastEnd.bytesRead === 2);
      // The image's own hole behaves like the core's.
      assert.ok(!readPhysical(image, 0x10000, 1).ok);
      raw.close();
      elf.close();
    });
  });

  it('a small cache re-reads evicted frames correctly (many frames through an 8-frame cache)', () => {
    withTempDir((dir) => {
      const image = new MemoryImage(0x100000);
      for (let pfn = 0; pfn < 256; pfn++) image.write(pfn * 4096, new Uint8Array([pfn, 255 - pfn]));
      writeRawSnapshot(image, join(dir, 'big.raw'));
      const raw = open(join(dir, 'big.raw'));
      for (const pfn of [3, 200, 11, 3, 131, 67, 200, 5, 255, 3]) {
        const frame = raw.frame(pfn);
        assert.ok(frame);
        assert.deepEqual([frame[0], frame[1]], [pfn, 255 - pfn]);
      }
      raw.close();
      assert.ok(!readPhysical(raw, 0, 1).ok, 'reads after close are out of source');
    });
  });

  it('the ELF writer lays out page-aligned PT_LOAD segments the parser reads back', () => {
    const image = imageWithRanges();
    const layout = elfLayout(image);
    withTempDir((dir) => {
      const path = join(dir, 'g.elf');
      writeElfCore(image, path);
      const r = openSnapshot(path);
      assert.ok(r.ok && r.kind === 'elf');
      assert.equal(r.memory.end, 0x40000);
      r.memory.close();
    });
    assert.deepEqual(layout.segments.map((s) => [s.physical, s.size]), [[0, 0x10000], [0x20800, 0x1f800]]);
    assert.ok(layout.segments.every((s) => s.fileOffset % 4096 === 0));
  });

  it('malformed ELF cores are VP4002 diagnostics naming the file; missing files are VP4001', () => {
    withTempDir((dir) => {
      const image = imageWithRanges();
      const path = join(dir, 'g.elf');
      writeElfCore(image, path);
      const good = new Uint8Array(readFileSync(path));
      const cases: [string, (b: Uint8Array) => void, RegExp][] = [
        ['class 3', (b) => { b[4] = 3; }, /class 3 is neither 32- nor 64-bit/],
        ['big-endian', (b) => { b[5] = 2; }, /little-endian/],
        ['not a core', (b) => { b[16] = 2; }, /core/],
        ['truncated', (b) => { new DataView(b.buffer).setBigUint64(64 + 56 + 32, 1n << 40n, true); }, /truncated/],
      ];
      for (const [name, mutate, message] of cases) {
        const bytes = good.slice();
        mutate(bytes);
        const file = join(dir, `${name}.elf`);
        writeFileSync(file, bytes);
        const r = openSnapshot(file);
        assert.ok(!r.ok, name);
        assert.equal(r.diagnostic.code, 'VP4002');
        assert.match(r.diagnostic.message, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        assert.match(r.diagnostic.message, message, name);
      }
      const missing = openSnapshot(join(dir, 'nope.raw'));
      assert.ok(!missing.ok && missing.diagnostic.code === 'VP4001' && /nope\.raw: ENOENT/.test(missing.diagnostic.message));
      writeFileSync(join(dir, 'empty.raw'), '');
      const empty = openSnapshot(join(dir, 'empty.raw'));
      assert.ok(!empty.ok && empty.diagnostic.code === 'VP4002');
    });
  });

  it('hostile ELF counts and offsets are checked against the file before anything is sized by them', () => {
    withTempDir((dir) => {
      /** An ELF64 core header: program headers at 0x100, section header 0 at 0x40. */
      const core = (size: number, edit: (v: DataView) => void): string => {
        const file = new Uint8Array(size);
        const v = new DataView(file.buffer);
        file.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
        v.setUint16(16, 4, true);
        v.setBigUint64(32, 0x100n, true);
        v.setBigUint64(40, 0x40n, true);
        v.setUint16(54, 56, true);
        v.setUint16(58, 64, true);
        v.setUint16(56, 1, true);
        v.setUint32(0x100, 1, true);
        v.setBigUint64(0x100 + 8, 0x1000n, true);
        v.setBigUint64(0x100 + 32, 0x1000n, true);
        edit(v);
        const path = join(dir, `core-${Math.random().toString(36).slice(2)}.elf`);
        writeFileSync(path, file);
        return path;
      };
      const cases: [string, string, RegExp][] = [
        // The red-team file: PN_XNUM with 2^32 - 1 in sh_info, in 8 KiB.
        ['PN_XNUM with sh_info 2^32-1', core(0x2000, (v) => { v.setUint16(56, 0xffff, true); v.setUint32(0x40 + 44, 0xffffffff, true); }), /4294967295 program headers; vmipolicy reads cores of at most 1048576/],
        ['PN_XNUM without a section header', core(0x2000, (v) => { v.setUint16(56, 0xffff, true); v.setBigUint64(40, 0x10000n, true); }), /no section header 0/],
        ['more headers than the file holds', core(0x2000, (v) => { v.setUint16(56, 200, true); }), /ends inside the program headers \(200 at offset 256, file of 8192 bytes\)/],
        ['headers past the end of the file', core(0x2000, (v) => { v.setBigUint64(32, 0x100000n, true); }), /ends inside the program headers/],
        ['a segment beyond 52 bits of physical address', core(0x2000, (v) => { v.setBigUint64(0x100 + 24, 2n ** 52n - 0x800n, true); }), /beyond the 52-bit physical address space/],
      ];
      for (const [name, path, message] of cases) {
        const r = openSnapshot(path);
        assert.ok(!r.ok, name);
        assert.equal(r.diagnostic.code, 'VP4002', name);
        assert.match(r.diagnostic.message, message, name);
      }
      const fine = openSnapshot(core(0x2000, () => {}));
      assert.ok(fine.ok, 'the unedited header is a valid core');
      fine.memory.close();
    });
  });

  it('an e_phnum of PN_XNUM takes the real count from section header 0', () => {
    const file = new Uint8Array(0x3000);
    const v = new DataView(file.buffer);
    file.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    v.setUint16(16, 4, true);
    v.setBigUint64(32, 0x100n, true); // e_phoff
    v.setBigUint64(40, 0x40n, true); // e_shoff
    v.setUint16(54, 56, true);
    v.setUint16(56, 0xffff, true);
    v.setUint32(0x40 + 44, 2, true); // sh_info = 2 program headers
    for (let i = 0; i < 2; i++) {
      const at = 0x100 + i * 56;
      v.setUint32(at, 1, true);
      v.setBigUint64(at + 8, BigInt(0x1000 * (i + 1)), true);
      v.setBigUint64(at + 24, BigInt(0x100000 * (i + 1)), true);
      v.setBigUint64(at + 32, 0x1000n, true);
    }
    const parsed = parseElfCore((offset, length) => file.subarray(offset, offset + length), file.length);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.segments.map((s) => s.physical), [0x100000, 0x200000]);
  });
});

describe('MemoryImage.discard', () => {
  it('gives its frames to later images zeroed, and reads as fresh RAM itself', () => {
    const old = new MemoryImage(1 << 20);
    const full = new Uint8Array(4096).fill(0xab);
    for (let pfn = 0; pfn < 8; pfn++) old.write(pfn * 4096, full);
    old.discard();
    assert.deepEqual(old.writtenFrames(), []);
    assert.deepEqual(old.frame(3), new Uint8Array(4096), 'the discarded image reads as zeros');
    const next = new MemoryImage(1 << 20);
    // One byte written into each frame: the rest of a reused frame must be zero, not 0xab.
    for (let pfn = 0; pfn < 8; pfn++) next.write(pfn * 4096 + 100, Uint8Array.of(7));
    for (let pfn = 0; pfn < 8; pfn++) {
      const expected = new Uint8Array(4096);
      expected[100] = 7;
      assert.deepEqual(next.frame(pfn), expected);
      assert.equal(next.frameWords(pfn)?.[0], 0);
    }
  });
});
