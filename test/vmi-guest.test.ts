// The synthetic guest and the process listing: LibVMI's process-list walk over the task
// list finds every task with its pid, comm and page-directory base, in memory, in a raw
// snapshot and in an ELF core; the data region reads back page by page; the profile parser
// refuses bad profiles with VP4011; and the vmi CLI works on the files.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildSyntheticGuest, userPageContent } from '../vmi/guest/synthetic-guest.js';
import { parseLinuxProfile, profileJson } from '../vmi/guest/linux-profile.js';
import { listProcesses } from '../vmi/guest/process-list.js';
import { writeElfCore, writeRawSnapshot } from '../vmi/guest/snapshot-files.js';
import { openSnapshot } from '../vmi/memory/open-snapshot.js';
import { AddressSpace } from '../vmi/paging/address-space.js';
import { runVmi } from '../cli/vmi.js';
import { withTempDir } from './support/oracles.js';

describe('synthetic guest', () => {
  it('is deterministic: the same seed gives the same frames and the same task list', () => {
    const a = buildSyntheticGuest({ seed: 7, memoryBytes: 32 << 20, dataPages: 20 });
    const b = buildSyntheticGuest({ seed: 7, memoryBytes: 32 << 20, dataPages: 20 });
    const c = buildSyntheticGuest({ seed: 8, memoryBytes: 32 << 20, dataPages: 20 });
    assert.deepEqual(a.data.frames, b.data.frames);
    assert.deepEqual(a.processes, b.processes);
    assert.notDeepEqual(a.data.frames, c.data.frames);
  });

  for (const mode of ['ia32e', 'la57'] as const) {
    it(`${mode}: lists every task as LibVMI's process-list does, with each process's own address space`, () => {
      const guest = buildSyntheticGuest({ seed: 3, mode, memoryBytes: 32 << 20, processes: 12, dataPages: 8 });
      const kernel = new AddressSpace(guest.image, mode, guest.dtb);
      const listing = listProcesses(kernel, guest.profile);
      assert.ok(listing.ok);
      assert.deepEqual(listing.processes.map((p) => [p.pid, p.comm, p.task, p.dtb]), guest.processes.map((p) => [p.pid, p.comm, p.task, p.dtb]));
      assert.equal(listing.processes[0]?.comm, 'swapper/0');
      assert.ok(listing.processes.some((p) => p.comm === 'systemd-journal'), 'a 15-character comm survives');
      for (const p of guest.processes.filter((x) => x.dtb !== undefined)) {
        const user = new AddressSpace(guest.image, mode, p.dtb!);
        const stack = user.readVirtual(guest.layout.userStack, 64);
        assert.ok(stack.ok);
        assert.deepEqual(stack.bytes, userPageContent(p.pid, p.comm, guest.layout.userStack).subarray(0, 64));
        const text = user.translate(guest.layout.userText);
        assert.ok(text.ok && text.flags.us && !text.flags.rw && !text.flags.nx);
        const hole = user.translate(guest.layout.userHeap + 4096n);
        assert.ok(!hole.ok && hole.reason === 'not-present');
        // The kernel half is shared: the kernel's data region reads the same through the process's CR3.
        assert.ok(user.readVirtual(guest.data.va, 8).ok);
      }
    });
  }

  it('maps the direct map with a 1 GiB page, the kernel image with 2 MiB pages and data pages on scattered frames', () => {
    const guest = buildSyntheticGuest({ seed: 5, memoryBytes: 32 << 20, dataPages: 64 });
    const kernel = new AddressSpace(guest.image, 'ia32e', guest.dtb);
    const direct = kernel.translate(guest.layout.directMap + 0x123456n);
    assert.ok(direct.ok && direct.pageSize === 1 << 30 && direct.physical === 0x123456 && direct.flags.ps);
    const text = kernel.translate(guest.layout.kernelText);
    assert.ok(text.ok && text.pageSize === 2 << 20 && !text.flags.nx && !text.flags.rw && !text.flags.us);
    const beyondRam = kernel.readVirtual(guest.layout.directMap + BigInt(40 << 20), 4);
    assert.ok(!beyondRam.ok && beyondRam.reason === 'out-of-memory-source' && beyondRam.level === 0);
    const gaps = guest.data.frames.slice(1).map((f, i) => f - guest.data.frames[i]!);
    assert.ok(gaps.filter((g) => g === 4096).length < 4, 'consecutive pages are not on consecutive frames');
    // All 64 pages in one read across 63 page boundaries; the guard page after them is a hole.
    const all = kernel.readVirtual(guest.data.va, 64 * 4096);
    assert.ok(all.ok);
    for (let i = 0; i < 64; i++) assert.deepEqual(all.bytes.subarray(i * 4096, (i + 1) * 4096), guest.dataPage(i));
    const guard = kernel.readVirtual(guest.data.va + BigInt(63 * 4096), 8192);
    assert.ok(!guard.ok && guard.reason === 'not-present' && guard.bytesRead === 4096);
  });

  it('the listing and the data read the same from a raw snapshot and from an ELF core', () => {
    const guest = buildSyntheticGuest({ seed: 11, memoryBytes: 32 << 20, dataPages: 16 });
    withTempDir((dir) => {
      for (const [name, write] of [['g.raw', writeRawSnapshot], ['g.elf', writeElfCore]] as const) {
        const path = join(dir, name);
        write(guest.image, path);
        const opened = openSnapshot(path, { cacheFrames: 64 });
        assert.ok(opened.ok);
        const kernel = new AddressSpace(opened.memory, 'ia32e', guest.dtb);
        const listing = listProcesses(kernel, guest.profile);
        assert.ok(listing.ok, name);
        assert.deepEqual(listing.processes.map((p) => p.pid), guest.processes.map((p) => p.pid));
        for (let i = 0; i < 16; i++) {
          const page = kernel.readVirtual(guest.data.va + BigInt(i * 4096), 4096);
          assert.ok(page.ok && Buffer.from(page.bytes).equals(guest.dataPage(i)), `${name} page ${i}`);
        }
        opened.memory.close();
      }
    });
  });

  it('a task list that loops without returning to its head is a wrong profile or a corrupt list, not a hang', () => {
    const guest = buildSyntheticGuest({ seed: 2, memoryBytes: 32 << 20, dataPages: 1 });
    const second = guest.processes[1]!;
    // Point systemd's tasks.next at itself: the walk cycles without reaching init_task again.
    const kernel = new AddressSpace(guest.image, 'ia32e', guest.dtb);
    const t = kernel.translate(second.task + BigInt(guest.profile.tasks));
    assert.ok(t.ok);
    guest.image.writeU64(t.physical, second.task + BigInt(guest.profile.tasks));
    const listing = listProcesses(kernel, guest.profile, 100);
    assert.ok(!listing.ok && listing.reason === 'wrong-profile' && /comes back to task 0x[0-9a-f]+ without returning to init_task/.test(listing.problem));
  });
});

describe('guest profiles', () => {
  it('round-trips through JSON and accepts numbers or hex strings', () => {
    const guest = buildSyntheticGuest({ seed: 1, memoryBytes: 32 << 20, dataPages: 1 });
    const parsed = parseLinuxProfile(profileJson(guest.profile), 'p.json');
    assert.deepEqual(parsed, { ok: true, profile: guest.profile });
    const numeric = parseLinuxProfile('{"tasks":1224,"pid":1480,"comm":1848,"mm":1304,"pgd":80,"init_task":"0xffffffff82a12940"}', 'p.json');
    assert.ok(numeric.ok && numeric.profile.tasks === 0x4c8 && numeric.profile.initTask === 0xffffffff82a12940n);
  });

  it('refuses what is not a profile with VP4011 naming the file and the field', () => {
    const bad: [string, RegExp][] = [
      ['not json', /not JSON/],
      ['[]', /JSON object/],
      ['{"tasks":1,"pid":2,"comm":3,"mm":4,"pgd":5,"init_task":"0x10","linux_name":6}', /unknown field "linux_name"/],
      ['{"tasks":-1,"pid":2,"comm":3,"mm":4,"pgd":5,"init_task":"0x10"}', /"tasks"/],
      ['{"tasks":1,"pid":2,"comm":3,"mm":4,"pgd":5}', /"init_task"/],
      ['{"tasks":1,"pid":"0xzz","comm":3,"mm":4,"pgd":5,"init_task":"0x10"}', /"pid"/],
    ];
    for (const [text, message] of bad) {
      const r = parseLinuxProfile(text, 'guest.json');
      assert.ok(!r.ok, text);
      assert.equal(r.diagnostic.code, 'VP4011');
      assert.match(r.diagnostic.message, /guest\.json/);
      assert.match(r.diagnostic.message, message);
    }
  });
});

function run(argv: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = runVmi(argv, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
  return { code, stdout, stderr };
}

describe('vmipolicy vmi (runVmi)', () => {
  it('translate, read and ps on a raw snapshot and an ELF core', () => {
    const guest = buildSyntheticGuest({ seed: 4, memoryBytes: 32 << 20, dataPages: 4 });
    withTempDir((dir) => {
      const profile = join(dir, 'profile.json');
      writeFileSync(profile, profileJson(guest.profile));
      for (const [name, write] of [['g.raw', writeRawSnapshot], ['g.elf', writeElfCore]] as const) {
        const snapshot = join(dir, name);
        write(guest.image, snapshot);
        const common = ['--snapshot', snapshot, '--dtb', '0x' + guest.dtb.toString(16)];
        const t = run(['translate', ...common, '--address', '0x' + guest.data.va.toString(16), '--format', 'json']);
        assert.equal(t.code, 0, t.stderr);
        assert.equal(JSON.parse(t.stdout).physical, '0x' + guest.data.frames[0]!.toString(16));
        const text = run(['translate', ...common, '--address', '0x' + guest.layout.kernelText.toString(16)]);
        assert.match(text.stdout, /-> 0x1000000 {2}\(2 MiB page, level-2 entry; present ps\)/);
        const r = run(['read', ...common, '--address', '0x' + (guest.data.va + 4096n - 8n).toString(16), '--length', '16', '--format', 'json']);
        assert.equal(r.code, 0, r.stderr);
        const want = Buffer.concat([guest.dataPage(0).subarray(4088), guest.dataPage(1).subarray(0, 8)]).toString('hex');
        assert.equal(JSON.parse(r.stdout).hex, want);
        const ps = run(['ps', ...common, '--profile', profile]);
        assert.equal(ps.code, 0, ps.stderr);
        assert.match(ps.stdout, /^\[ {4}0\] swapper\/0 \(struct addr:ffffffff81212940\)$/m);
        assert.equal(ps.stdout.trim().split('\n').length, guest.processes.length);
      }
    });
  });

  it('exit 1 when the walk fails, exit 2 with a message naming the file or flag for bad input', () => {
    const guest = buildSyntheticGuest({ seed: 4, memoryBytes: 32 << 20, dataPages: 1 });
    withTempDir((dir) => {
      const snapshot = join(dir, 'g.raw');
      writeRawSnapshot(guest.image, snapshot);
      const common = ['--snapshot', snapshot, '--dtb', String(guest.dtb)];
      const miss = run(['translate', ...common, '--address', '0x1000']);
      assert.equal(miss.code, 1);
      assert.match(miss.stderr, /level-4 entry .* is not present/);
      const nonCanonical = run(['read', ...common, '--address', '0x0000800000000000', '--format', 'json']);
      assert.equal(nonCanonical.code, 1);
      assert.equal(JSON.parse(nonCanonical.stdout).reason, 'non-canonical');
      const badProfile = join(dir, 'bad.json');
      writeFileSync(badProfile, '{"tasks": 1}');
      const cases: [string[], RegExp][] = [
        [['translate', '--snapshot', join(dir, 'none.raw'), '--dtb', '0x1000', '--address', '0'], /VP4001 .*none\.raw/],
        [['translate', ...common], /needs --address/],
        [['translate', ...common, '--address', 'zz'], /--address zz is not/],
        [['translate', '--snapshot', snapshot, '--dtb', '0xg', '--address', '0'], /--dtb 0xg/],
        [['translate', ...common, '--address', '0', '--mode', 'x86'], /--mode must be/],
        [['ps', ...common], /needs --profile/],
        [['ps', ...common, '--profile', badProfile], /VP4011 .*bad\.json/],
        [['ps', ...common, '--profile', join(dir, 'nope.json')], /VP4010 .*nope\.json/],
        [['frob', ...common], /translate, read, ps or profile/],
        [['read', ...common, '--address', '0', '--length', '0'], /--length/],
        [['read', ...common, '--address', '0', '--bogus'], /unknown option --bogus/],
        [['translate', '--snapshot', snapshot, '--dtb', '0x100000000', '--mode', 'pae', '--address', '0'], /32 bits/],
      ];
      for (const [argv, message] of cases) {
        const r = run(argv);
        assert.equal(r.code, 2, argv.join(' '));
        assert.match(r.stderr, message, argv.join(' '));
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }
    });
  });
});
