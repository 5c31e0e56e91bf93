// The VMI core on a real kernel's memory: Debian's 6.1 kernel booted under QEMU (TCG), which
// listed its own processes, then paused and dumped as ELF (with and without -p), as kdump-zlib
// and raw (test/support/qemu-linux.ts) — once per kernel flavour: amd64 (4-level IA-32e
// paging), the same kernel on a CPU with LA57 (5-level), and i386's 686-pae (PAE paging) and
// 686 (32-bit paging). First, without a profile, `vmi translate` without --dtb must take the
// flavour's paging mode and CR3 from the dump's vCPU state and find _text where nokaslr loads
// it. Then the profile comes from the guest's own BTF and kallsyms through `vmi profile` —
// nothing hand-written — and `vmi ps` runs without --dtb, reading the guest's pointers at its
// width (4 bytes on the i386 kernels). What it lists must be what the guest said: every pid
// with its comm, in every format alike. The raw dump carries no vCPU state: there the walk is
// given the --dtb the ELF dump's CPU note gives and the flavour's --mode, and without --dtb
// the CLI must refuse (exit 2) rather than guess.
// Debian's i386 kernels are built without CONFIG_DEBUG_INFO_BTF (and without
// CONFIG_KALLSYMS_ALL, so their kallsyms has no init_task): the guest has no BTF to give, and
// their profile comes from the DWARF and symbol table of the same build's -dbg vmlinux
// (test/support/kernel-debug.ts) through `vmi profile --dwarf` — again nothing hand-written.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kernelDebugFor } from './support/kernel-debug.js';
import { linuxGuestFor, type KernelFlavour, type LinuxGuestDumps } from './support/qemu-linux.js';
import { repoPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

/**
 * What task->comm holds of what /proc/PID/comm shows: a workqueue worker's name there adds the
 * work item's queue (`kworker/0:1-events`, `kworker/u2:0+flush`), and a kernel thread's is its
 * full name, where comm keeps TASK_COMM_LEN - 1 = 15 bytes (`rcu_tasks_kthread` → `rcu_tasks_kthre`).
 */
const taskComm = (procComm: string): string => (procComm.startsWith('kworker/') ? procComm.replace(/[-+].*$/, '') : procComm).slice(0, 15);

/** Each flavour and the paging mode its kernel runs, which the CLI must read from the dump. */
const FLAVOURS: readonly { readonly flavour: KernelFlavour; readonly mode: 'ia32e' | 'la57' | 'pae' | 'legacy' }[] = [
  { flavour: 'amd64', mode: 'ia32e' },
  { flavour: 'amd64-la57', mode: 'la57' },
  { flavour: '686-pae', mode: 'pae' },
  { flavour: '686', mode: 'legacy' },
];

interface Listed {
  readonly pid: number;
  readonly comm: string;
  readonly dtb?: string;
}

/** `vmi ps --format json` output against what the guest listed: every pid with its comm (init_task first, as pid 0); returns the processes. */
function sameAsGuest(guest: LinuxGuestDumps, json: string, format: string): readonly Listed[] {
  const said = new Map(guest.processes.map((p) => [p.pid, taskComm(p.comm)]));
  const listed = (JSON.parse(json) as { processes: Listed[] }).processes;
  // init_task is pid 0, which /proc never shows; every other task is one the guest listed.
  assert.deepEqual(listed[0], { ...listed[0], pid: 0, comm: 'swapper/0' });
  const ours = new Map(listed.filter((p) => p.pid !== 0).map((p) => [p.pid, p.comm]));
  for (const [pid, comm] of said) {
    // A worker may come or go in the instant between the guest's listing and the pause.
    if (comm.startsWith('kworker/') && !ours.has(pid)) continue;
    assert.equal(ours.get(pid), comm, `${format}: pid ${pid}`);
  }
  for (const [pid, comm] of ours) if (!said.has(pid)) assert.match(comm, /^kworker\//, `${format}: pid ${pid} (${comm}) that the guest did not list`);
  assert.ok(listed.some((p) => p.comm === 'vmitest delta' && p.dtb !== undefined), 'a user process with its own address space');
  return listed;
}

/** Where all three flavours load the kernel image (CONFIG_PHYSICAL_START) under nokaslr. */
const TEXT_PHYSICAL = '0x1000000';

/** What the CLI says without --dtb or --mode on a snapshot with no vCPU state (cli/vmi.ts pagingOf). */
const NO_VCPU_STATE = /carries no vCPU state: give --dtb/;

/**
 * The page-directory base the ELF dump's vCPU 0 gives (its CPU note's CR3, as `vmi translate`
 * without --dtb says it took it), with what _text translates to there: a raw dump has no vCPU
 * state, so its reader must be given this.
 */
function fromElfNote(elf: string, text: string): { readonly dtb: string; readonly physical: string } {
  const r = cli(['vmi', 'translate', '--snapshot', elf, '--address', `0x${text}`, '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const dtb = /--dtb (0x[0-9a-f]+) --mode \S+: from vCPU 0 of the dump/.exec(r.stderr)?.[1];
  assert.ok(dtb, r.stderr);
  return { dtb, physical: (JSON.parse(r.stdout) as { physical: string }).physical };
}

for (const { flavour, mode } of FLAVOURS) {
  test(`${flavour}: vmi profile from the kernel's own files, then vmi ps on its ELF, kdump and raw dumps: what the guest listed`, async (t) => {
    const guest = linuxGuestFor(t, flavour);
    if (!guest) return;
    const fromDump = new RegExp(`--mode ${mode}: from vCPU 0 of the dump`);

    const text = /^([0-9a-f]{8}|[0-9a-f]{16}) T _text$/m.exec(readFileSync(guest.kallsyms, 'latin1'))?.[1];
    for (const format of ['elf', 'elf-paging', 'kdump-zlib'] as const) {
      await t.test(`${format}: without --dtb, --mode ${mode} from the dump's vCPU, whose tables map _text to ${TEXT_PHYSICAL}`, () => {
        assert.ok(text, 'kallsyms has no _text');
        const dump = guest.files[format];
        assert.ok(dump, `no ${format} dump`);
        const r = cli(['vmi', 'translate', '--snapshot', dump, '--address', `0x${text}`, '--format', 'json']);
        assert.match(r.stderr, fromDump, r.stderr);
        assert.equal(r.status, 0, r.stderr);
        assert.equal((JSON.parse(r.stdout) as { physical?: string }).physical, TEXT_PHYSICAL, r.stdout);
      });
    }

    await t.test(`raw: with --dtb from the ELF dump's vCPU note and --mode ${mode}, _text translates as on the ELF dump; without --dtb, exit 2`, () => {
      assert.ok(text, 'kallsyms has no _text');
      const raw = guest.files.raw;
      assert.ok(raw && guest.files.elf, 'no raw or ELF dump');
      const elf = fromElfNote(guest.files.elf, text);
      const r = cli(['vmi', 'translate', '--snapshot', raw, '--dtb', elf.dtb, '--mode', mode, '--address', `0x${text}`, '--format', 'json']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { physical?: string }).physical, elf.physical, r.stdout);
      assert.equal(elf.physical, TEXT_PHYSICAL);
      const bare = cli(['vmi', 'translate', '--snapshot', raw, '--address', `0x${text}`]);
      assert.equal(bare.status, 2, bare.stderr);
      assert.match(bare.stderr, NO_VCPU_STATE);
    });

    await t.test(`vmi profile from its ${flavour.startsWith('amd64') ? 'BTF and kallsyms' : "-dbg package's DWARF and symbol table"}, vmi ps on every dump: every pid with the comm the guest printed`, (st) => {
      // amd64 profiles from what the running guest gave (its BTF and kallsyms); the i386
      // kernels have no BTF and no init_task in kallsyms, so theirs comes from the same build's
      // -dbg package: its vmlinux's DWARF for the offsets, its System.map for init_task (the
      // vmlinux's own .symtab gives the same: test/vmi-dwarf.test.ts).
      let made: ReturnType<typeof cli>;
      let symbolsFile = guest.kallsyms;
      if (guest.btf) {
        made = cli(['vmi', 'profile', '--btf', guest.btf, '--symbols', guest.kallsyms]);
      } else {
        assert.ok(flavour === '686-pae' || flavour === '686', `the ${flavour} guest has no BTF`);
        const dbg = kernelDebugFor(st, flavour);
        if (!dbg) return;
        assert.equal(dbg.release, guest.kernelRelease, 'the -dbg package is of the kernel the guest runs');
        made = cli(['vmi', 'profile', '--dwarf', dbg.vmlinux, '--symbols', dbg.systemMap]);
        symbolsFile = dbg.systemMap;
      }
      withTempDir((dir) => {
        assert.equal(made.status, 0, made.stderr);
        const profile = join(dir, 'profile.json');
        writeFileSync(profile, made.stdout);
        const listings: string[] = [];
        for (const format of ['elf', 'elf-paging', 'kdump-zlib'] as const) {
          const dump = guest.files[format];
          assert.ok(dump, `no ${format} dump`);
          const r = cli(['vmi', 'ps', '--snapshot', dump, '--profile', profile, '--format', 'json']);
          assert.equal(r.status, 0, `${format}: ${r.stderr}`);
          assert.match(r.stderr, fromDump);
          listings.push(r.stdout);
          sameAsGuest(guest, r.stdout, format);
        }
        assert.equal(listings[1], listings[0], 'the ELF dump with -p gives the same listing as without');
        assert.equal(listings[2], listings[0], 'the ELF and kdump dumps give the same listing');
        // The raw dump has no vCPU state: the page-directory base comes from the ELF dump's note.
        const raw = guest.files.raw;
        assert.ok(raw && text, 'no raw dump, or no _text in kallsyms');
        const { dtb } = fromElfNote(guest.files.elf!, text);
        const r = cli(['vmi', 'ps', '--snapshot', raw, '--dtb', dtb, '--mode', mode, '--profile', profile, '--format', 'json']);
        assert.equal(r.status, 0, `raw: ${r.stderr}`);
        sameAsGuest(guest, r.stdout, 'raw');
        assert.equal(r.stdout, listings[0], 'the raw and ELF dumps give the same listing');
        const bare = cli(['vmi', 'ps', '--snapshot', raw, '--profile', profile]);
        assert.equal(bare.status, 2, bare.stderr);
        assert.match(bare.stderr, NO_VCPU_STATE);
        console.log(`# ${guest.kernelRelease}: ${guest.processes.length} processes listed by the guest, the same by vmi ps on all four dumps (raw with --dtb ${dtb} --mode ${mode})`);
        // vmi read: the kernel's linux_banner (what /proc/version prints) names the release the
        // guest's uname -r printed, on every dump. amd64's kallsyms lists data symbols; the
        // i386 kernels' do not, and their System.map (the -dbg package's) does.
        const symbols = readFileSync(symbolsFile, 'latin1');
        const banner = /^([0-9a-f]{8}|[0-9a-f]{16}) [A-Za-z] linux_banner$/m.exec(symbols)?.[1];
        assert.ok(banner, 'no linux_banner among the symbols');
        const expected = `Linux version ${guest.kernelRelease} (`;
        const reads: [string, string[]][] = [
          ...(['elf', 'elf-paging', 'kdump-zlib'] as const).map((f): [string, string[]] => [f, ['--snapshot', guest.files[f]!]]),
          ['raw', ['--snapshot', raw, '--dtb', dtb, '--mode', mode]],
        ];
        for (const [format, args] of reads) {
          const r = cli(['vmi', 'read', ...args, '--address', `0x${banner}`, '--length', String(expected.length), '--format', 'json']);
          assert.equal(r.status, 0, `${format}: ${r.stderr}`);
          assert.equal(Buffer.from((JSON.parse(r.stdout) as { hex: string }).hex, 'hex').toString('latin1'), expected, format);
        }
        console.log(`# ${guest.kernelRelease}: vmi read of linux_banner at 0x${banner} gives "${expected}…" on all four dumps`);
      });
    });
  });
}

// KPTI: the amd64 kernel on an Intel-vendor CPU isolates its page tables, and the guest keeps a
// process spinning in user mode, so the dump's CR3 is the user half of a PGD pair (bit 12 set),
// which maps the kernel's text (no PCID under TCG: pti_clone_kernel_text) but none of its data.
// Without --dtb, translate and ps must still give what the guest says, through the kernel half
// that the tables show; the spinning process's own pgd is that kernel half. QEMU's -p dump
// holds only what the vCPU's CR3 maps — here the user's memory, not even its page tables —
// so there the listing fails, saying the walk left the snapshot.
test('amd64-pti: a KPTI guest paused in user mode: translate and ps through the kernel half of its CR3 give what the guest says', (t) => {
  const guest = linuxGuestFor(t, 'amd64-pti');
  if (!guest) return;
  assert.equal(guest.meltdown, 'Mitigation: PTI');
  const kallsyms = readFileSync(guest.kallsyms, 'latin1');
  const symbol = (name: string): bigint => BigInt(`0x${new RegExp(`^([0-9a-f]{16}) \\S ${name}$`, 'm').exec(kallsyms)?.[1] ?? '0'}`);
  const physicalOf = (va: bigint): string => `0x${(va - 0xffffffff80000000n).toString(16)}`;
  withTempDir((dir) => {
    const made = cli(['vmi', 'profile', '--btf', guest.btf!, '--symbols', guest.kallsyms]);
    assert.equal(made.status, 0, made.stderr);
    const profile = join(dir, 'profile.json');
    writeFileSync(profile, made.stdout);
    for (const format of ['elf', 'kdump-zlib'] as const) {
      const dump = guest.files[format]!;
      const text = cli(['vmi', 'translate', '--snapshot', dump, '--address', `0x${symbol('_text').toString(16)}`, '--format', 'json']);
      assert.equal(text.status, 0, text.stderr);
      assert.equal((JSON.parse(text.stdout) as { physical: string }).physical, TEXT_PHYSICAL);
      assert.doesNotMatch(text.stderr, /KPTI/, 'the user half maps the kernel text: no switch');
      const cr3 = BigInt(/from vCPU 0 of the dump \(CR3 (0x[0-9a-f]+)/.exec(text.stderr)?.[1] ?? '0');
      assert.equal(cr3 & 0x1000n, 0x1000n, `CR3 ${cr3.toString(16)} is the user half`);
      const kernelHalf = `0x${(cr3 - 0x1000n).toString(16)}`;
      const kptiNote = new RegExp(`CR3 0x${cr3.toString(16)} is the user half of a KPTI page-table pair .* kernel half --dtb ${kernelHalf} is used`);
      const initTask = cli(['vmi', 'translate', '--snapshot', dump, '--address', `0x${symbol('init_task').toString(16)}`, '--format', 'json']);
      assert.equal(initTask.status, 0, initTask.stderr);
      assert.equal((JSON.parse(initTask.stdout) as { physical: string }).physical, physicalOf(symbol('init_task')));
      assert.match(initTask.stderr, kptiNote);
      const user = cli(['vmi', 'translate', '--snapshot', dump, '--dtb', `0x${cr3.toString(16)}`, '--address', `0x${symbol('init_task').toString(16)}`]);
      assert.equal(user.status, 1, 'under the user half itself, init_task is not mapped');
      const ps = cli(['vmi', 'ps', '--snapshot', dump, '--profile', profile, '--format', 'json']);
      assert.equal(ps.status, 0, ps.stderr);
      assert.match(ps.stderr, kptiNote);
      const listed = sameAsGuest(guest, ps.stdout, format);
      assert.equal(listed.find((p) => p.comm === 'vmitest-spin')?.dtb, kernelHalf, 'the spinning process runs on that pair');
    }
    const paging = cli(['vmi', 'ps', '--snapshot', guest.files['elf-paging']!, '--profile', profile]);
    assert.equal(paging.status, 1);
    assert.match(paging.stderr, /outside the memory snapshot/);
    // The raw dump has no vCPU state, so no user CR3 to start from: given the kernel half, it
    // reads as the ELF dump does through it.
    const raw = guest.files.raw;
    assert.ok(raw, 'no raw dump');
    const elf = fromElfNote(guest.files.elf!, symbol('_text').toString(16));
    const kernelHalf = `0x${(BigInt(elf.dtb) - 0x1000n).toString(16)}`;
    const text = cli(['vmi', 'translate', '--snapshot', raw, '--dtb', kernelHalf, '--mode', 'ia32e', '--address', `0x${symbol('_text').toString(16)}`, '--format', 'json']);
    assert.equal(text.status, 0, text.stderr);
    assert.equal((JSON.parse(text.stdout) as { physical: string }).physical, elf.physical);
    const elfPs = cli(['vmi', 'ps', '--snapshot', guest.files.elf!, '--profile', profile, '--format', 'json']);
    const ps = cli(['vmi', 'ps', '--snapshot', raw, '--dtb', kernelHalf, '--mode', 'ia32e', '--profile', profile, '--format', 'json']);
    assert.equal(ps.status, 0, `raw: ${ps.stderr}`);
    assert.doesNotMatch(ps.stderr, /KPTI/, 'a --dtb is used as given');
    assert.equal(sameAsGuest(guest, ps.stdout, 'raw').find((p) => p.comm === 'vmitest-spin')?.dtb, kernelHalf);
    assert.equal(ps.stdout, elfPs.stdout, 'the raw and ELF dumps give the same listing');
    const bare = cli(['vmi', 'ps', '--snapshot', raw, '--profile', profile]);
    assert.equal(bare.status, 2, bare.stderr);
    assert.match(bare.stderr, NO_VCPU_STATE);
    console.log(`# amd64-pti: ${guest.processes.length} processes listed by the guest, the same by vmi ps on the ELF and kdump dumps, through the kernel half of the user CR3, and on the raw dump with --dtb ${kernelHalf}`);
  });
});
