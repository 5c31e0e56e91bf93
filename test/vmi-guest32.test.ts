// 32-bit guests and wrong profiles: the process listing reads 4-byte pointers under PAE and
// 32-bit paging (a 32-bit kernel's task_struct), PAE walks accept the PDPTE bits QEMU's TCG
// sets (with a note, and a strict mode that refuses them as a CPU does), and a profile that
// does not fit the guest is said plainly and early — never "task 0x-888" or 65 536 bogus tasks.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryImage } from '../vmi/memory/memory-image.js';
import { AddressSpace } from '../vmi/paging/address-space.js';
import { listProcesses } from '../vmi/guest/process-list.js';
import { profileJson, type LinuxProfile } from '../vmi/guest/linux-profile.js';
import { buildSyntheticGuest } from '../vmi/guest/synthetic-guest.js';
import { writeRawSnapshot } from '../vmi/guest/snapshot-files.js';
import { repoPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8' });

/** A 32-bit kernel's layout: PAGE_OFFSET 0xC0000000 mapping physical 0 onwards; 4-byte pointers. */
const PAGE_OFFSET = 0xc0000000;
const PROFILE32: LinuxProfile = { tasks: 0x10, pid: 0x20, comm: 0x30, mm: 0x40, pgd: 0x8, initTask: BigInt(PAGE_OFFSET + 0x100000) };
const TASKS = [
  { pid: 0, comm: 'swapper/0', at: 0x100000, mm: 0 },
  { pid: 1, comm: 'init', at: 0x101000, mm: 0x200000 },
  { pid: 77, comm: 'sh', at: 0x102000, mm: 0x201000 },
];

/**
 * A 32-bit guest with its kernel mapped at PAGE_OFFSET: PAE (PDPT at 0x1000, one PD of 2 MiB
 * pages at 0x2000) or 32-bit paging (a PD of 4 MiB pages at 0x1000). The page directory is
 * also each process's pgd. `pdpteBits`: extra low bits on the kernel's PDPTE (QEMU sets A, bit 5).
 */
function guest32(mode: 'pae' | 'legacy', pdpteBits = 0): { image: MemoryImage; dtb: number } {
  const image = new MemoryImage(16 << 20);
  let dtb: number;
  if (mode === 'pae') {
    dtb = 0x1000;
    image.writeU64(0x1000 + 3 * 8, BigInt(0x2000 | 1 | pdpteBits));
    for (let i = 0; i < 8; i++) image.writeU64(0x2000 + i * 8, BigInt((i << 21) | 0x83));
  } else {
    dtb = 0x1000;
    for (let i = 0; i < 4; i++) image.writeU32(0x1000 + (0x300 + i) * 4, ((i << 22) | 0x83) >>> 0);
  }
  TASKS.forEach((t, i) => {
    const next = TASKS[(i + 1) % TASKS.length] as (typeof TASKS)[number];
    image.writeU32(t.at + PROFILE32.tasks, PAGE_OFFSET + next.at + PROFILE32.tasks);
    image.writeU32(t.at + PROFILE32.pid, t.pid);
    image.write(t.at + PROFILE32.comm, new TextEncoder().encode(t.comm + '\0'));
    image.writeU32(t.at + PROFILE32.mm, t.mm ? PAGE_OFFSET + t.mm : 0);
    if (t.mm) image.writeU32(t.mm + PROFILE32.pgd, PAGE_OFFSET + dtb);
  });
  return { image, dtb };
}

describe('32-bit guests', () => {
  for (const mode of ['pae', 'legacy'] as const) {
    it(`${mode}: lists the task list with 4-byte pointers, each process's pgd translated`, () => {
      const g = guest32(mode);
      const listing = listProcesses(new AddressSpace(g.image, mode, g.dtb), PROFILE32);
      assert.ok(listing.ok, JSON.stringify(listing, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v)));
      assert.deepEqual(listing.processes.map((p) => [p.pid, p.comm, p.dtb]), [[0, 'swapper/0', undefined], [1, 'init', g.dtb], [77, 'sh', g.dtb]]);
    });
  }

  it('PAE: a PDPTE with Accessed set (as QEMU\'s TCG leaves it) is read, counted and noted; --strict-pdpte refuses it', () => {
    const g = guest32('pae', 0x20);
    const tolerant = new AddressSpace(g.image, 'pae', g.dtb);
    assert.ok(tolerant.translate(PAGE_OFFSET + 0x1234).ok);
    assert.equal(tolerant.toleratedPdptes, 1);
    const strict = new AddressSpace(g.image, 'pae', g.dtb, { strictPdpte: true });
    const t = strict.translate(PAGE_OFFSET + 0x1234);
    assert.ok(!t.ok && t.reason === 'reserved-bit' && t.level === 3);
    withTempDir((dir) => {
      const raw = join(dir, 'g.raw');
      writeRawSnapshot(g.image, raw);
      const r = cli(['vmi', 'translate', '--snapshot', raw, '--dtb', '0x1000', '--mode', 'pae', '--address', '0xc0001234']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^0xc0001234 -> 0x1234/);
      assert.match(r.stderr, /note: 1 walk went through a PAE PDPTE with bits set that Intel reserves/);
      const s = cli(['vmi', 'translate', '--snapshot', raw, '--dtb', '0x1000', '--mode', 'pae', '--address', '0xc0001234', '--strict-pdpte']);
      assert.equal(s.status, 1);
      assert.match(s.stderr, /reserved/);
    });
  });
});

describe('a profile that does not fit the guest', () => {
  const cases: [string, (p: LinuxProfile) => LinuxProfile, RegExp][] = [
    ['pid offset', (p) => ({ ...p, pid: p.pid + 0x40 }), /has pid \d+, not 0|above Linux's limit|both have pid \d+.*the pid offset is wrong/],
    ['tasks offset', (p) => ({ ...p, tasks: p.tasks + 0x100 }), /not a kernel address: the tasks offset or init_task is wrong|pid|comm/],
    ['init_task', (p) => ({ ...p, initTask: p.initTask + 0x1000n }), /init_task|not a kernel address/],
    ['comm offset', (p) => ({ ...p, comm: p.comm + 0x300 }), /comm is not a printable name/],
  ];
  for (const [what, breakIt, message] of cases) {
    it(`a wrong ${what} is a clear error (exit 2), not a walk of garbage`, () => {
      const guest = buildSyntheticGuest({ seed: 4, memoryBytes: 32 << 20, processes: 5, dataPages: 1 });
      const profile = breakIt(guest.profile);
      const listing = listProcesses(new AddressSpace(guest.image, 'ia32e', guest.dtb), profile);
      assert.ok(!listing.ok, what);
      assert.ok(listing.reason === 'wrong-profile' || listing.reason === 'read-failed', `${what}: ${listing.reason}`);
      withTempDir((dir) => {
        const raw = join(dir, 'g.raw');
        writeRawSnapshot(guest.image, raw);
        writeFileSync(join(dir, 'p.json'), profileJson(profile));
        const r = cli(['vmi', 'ps', '--snapshot', raw, '--dtb', `0x${guest.dtb.toString(16)}`, '--profile', join(dir, 'p.json')]);
        assert.ok(r.status === 2 || r.status === 1, r.stderr);
        assert.doesNotMatch(r.stdout + r.stderr, /0x-/, 'no negative addresses');
        assert.ok(r.stdout.split('\n').length < 10, 'no long listing of bogus tasks');
        if (listing.reason === 'wrong-profile') {
          assert.equal(r.status, 2);
          assert.match(r.stderr, /the profile does not fit this guest/);
          assert.match(r.stderr, message);
        }
      });
    });
  }

  it('a tasks offset larger than the entry wraps as the guest\'s arithmetic does, never to a negative address', () => {
    const g = guest32('pae');
    const listing = listProcesses(new AddressSpace(g.image, 'pae', g.dtb), { ...PROFILE32, initTask: 0n, tasks: 0x888 });
    assert.ok(!listing.ok);
    const text = JSON.stringify(listing, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
    assert.doesNotMatch(text, /0x-/);
  });
});
