// The page walker has two entry readers: 32-bit word views of frames (the fast path on
// little-endian hosts, for sources that offer frameWords) and byte-by-byte decoding (the
// portable path a big-endian host gets). Forcing each with `entryAccess` must give identical
// translations and reads, on in-memory images and on raw and ELF snapshot files.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildSyntheticGuest } from '../vmi/guest/synthetic-guest.js';
import { writeElfCore, writeRawSnapshot } from '../vmi/guest/snapshot-files.js';
import { openSnapshot } from '../vmi/memory/open-snapshot.js';
import { HOST_LITTLE_ENDIAN, type PhysicalMemory } from '../vmi/memory/physical-memory.js';
import { AddressSpace } from '../vmi/paging/address-space.js';

const PAGES = 64;

/** Addresses that reach every outcome: data pages, their unaligned edges, the task list, holes, non-canonical. */
function probes(dataVa: bigint, taskVas: readonly bigint[]): bigint[] {
  const vas: bigint[] = [];
  for (let i = 0; i < PAGES + 2; i++) vas.push(dataVa + BigInt(i * 4096), dataVa + BigInt(i * 4096 + 4093));
  vas.push(...taskVas, 0n, 0x1000n, 0x0000800000000000n, 0xffff7fffffffffffn, 0xffff800000000000n, 0xffffffffffffffffn);
  return vas;
}

function agree(memory: PhysicalMemory, mode: 'ia32e' | 'la57', dtb: number, vas: readonly bigint[]): void {
  const words = new AddressSpace(memory, mode, dtb, { entryAccess: 'words' });
  const bytes = new AddressSpace(memory, mode, dtb, { entryAccess: 'bytes' });
  for (const va of vas) {
    assert.deepEqual(words.translate(va), bytes.translate(va), `translate 0x${va.toString(16)}`);
    // 8 bytes from 4093 crosses a page edge: both halves must come from the right frames.
    assert.deepEqual(words.readVirtual(va, 8), bytes.readVirtual(va, 8), `read 0x${va.toString(16)}`);
  }
}

describe('entry access: word views and byte decoding agree', () => {
  it('the host byte order is detected (x86 and arm64 hosts are little-endian)', () => {
    assert.equal(HOST_LITTLE_ENDIAN, new Uint8Array(new Uint16Array([0x0102]).buffer)[0] === 0x02);
  });

  for (const mode of ['ia32e', 'la57'] as const) {
    it(`${mode}: in-memory image, raw snapshot and ELF core give the same translations and bytes either way`, () => {
      const guest = buildSyntheticGuest({ seed: 7, memoryBytes: 32 << 20, mode, dataPages: PAGES });
      const vas = probes(guest.data.va, guest.processes.map((p) => p.task));
      assert.equal(typeof guest.image.frameWords, 'function');
      agree(guest.image, mode, guest.dtb, vas);
      const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-access-'));
      try {
        for (const [kind, write] of [['raw', writeRawSnapshot], ['elf', writeElfCore]] as const) {
          const file = join(dir, `guest.${kind}`);
          write(guest.image, file);
          // A tiny cache forces evictions mid-walk, so word views of reused slots are exercised too.
          const opened = openSnapshot(file, { cacheFrames: 8 });
          assert.ok(opened.ok);
          agree(opened.memory, mode, guest.dtb, vas);
          const space = new AddressSpace(opened.memory, mode, guest.dtb);
          for (let i = 0; i < PAGES; i++) {
            const r = space.readVirtual(guest.data.va + BigInt(i * 4096), 4096);
            assert.ok(r.ok && Buffer.from(r.bytes).equals(guest.dataPage(i)), `${kind} page ${i}`);
          }
          opened.memory.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
