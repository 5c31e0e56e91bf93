// The VMI core on a real kernel's memory: Debian's 6.1 kernel booted under QEMU (TCG), which
// listed its own processes, then paused and dumped as ELF and as kdump-zlib
// (test/support/qemu-linux.ts). The profile comes from the guest's own BTF and kallsyms
// through `vmi profile` — nothing hand-written — and `vmi ps` runs without --dtb (the dump's
// vCPU state gives CR3 and the mode). What it lists must be what the guest said: every pid
// with its comm, in both formats alike.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { linuxGuestDumps } from './support/qemu-linux.js';
import { repoPath, requires } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

/**
 * What task->comm holds of what /proc/PID/comm shows: a workqueue worker's name there adds the
 * work item's queue (`kworker/0:1-events`, `kworker/u2:0+flush`), and a kernel thread's is its
 * full name, where comm keeps TASK_COMM_LEN - 1 = 15 bytes (`rcu_tasks_kthread` → `rcu_tasks_kthre`).
 */
const taskComm = (procComm: string): string => (procComm.startsWith('kworker/') ? procComm.replace(/[-+].*$/, '') : procComm).slice(0, 15);

test('vmi profile from the guest\'s own BTF and kallsyms, then vmi ps on its ELF and kdump dumps: what the guest listed', (t) => {
  if (!requires(t, { commands: ['qemu-system-x86_64', 'dpkg-deb'] })) return;
  const guest = linuxGuestDumps();
  if ('skip' in guest) {
    console.log(`# skipped ${t.name}: ${guest.skip}`);
    t.skip(guest.skip);
    return;
  }
  withTempDir((dir) => {
    const made = cli(['vmi', 'profile', '--btf', guest.btf, '--symbols', guest.kallsyms]);
    assert.equal(made.status, 0, made.stderr);
    const profile = join(dir, 'profile.json');
    writeFileSync(profile, made.stdout);
    const said = new Map(guest.processes.map((p) => [p.pid, taskComm(p.comm)]));
    const listings: string[] = [];
    for (const format of ['elf', 'kdump-zlib'] as const) {
      const dump = guest.files[format];
      assert.ok(dump, `no ${format} dump`);
      const r = cli(['vmi', 'ps', '--snapshot', dump, '--profile', profile, '--format', 'json']);
      assert.equal(r.status, 0, `${format}: ${r.stderr}`);
      assert.match(r.stderr, /--mode ia32e: from vCPU 0 of the dump/);
      const listed = (JSON.parse(r.stdout) as { processes: { pid: number; comm: string; dtb?: string }[] }).processes;
      listings.push(r.stdout);
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
    }
    assert.equal(listings[0], listings[1], 'the ELF and kdump dumps give the same listing');
    console.log(`# ${guest.kernelRelease}: ${guest.processes.length} processes listed by the guest, the same by vmi ps on both dumps`);
  });
});
