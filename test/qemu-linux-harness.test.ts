// The real-Linux QEMU harness itself (test/support/qemu-linux.ts): on a machine with QEMU and
// Debian's apt it boots Debian's kernel, and hands out both dumps of the paused guest, the
// guest's own BTF and kallsyms, and the process list the guest printed, with the distinctive
// processes its /init started. The VMI differential tests compare their process listing with
// that one. Without qemu-system-x86_64 or dpkg-deb the test skips and prints why (in CI, where
// .ci/run installs them, it fails); when the harness cannot get a kernel (apt knows none) it
// skips with the harness's reason.

import assert from 'node:assert/strict';
import { existsSync, openSync, readSync, closeSync, readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { linuxGuestDumps } from './support/qemu-linux.js';
import { requires } from './support/env.js';

/** The comms test/support/qemu-linux.ts has its guest run: exec'd names cut by the kernel to 15 bytes, and one set through /proc/self/comm. */
const DISTINCTIVE = ['vmitest-alpha', 'vmitest-beta', 'vmitest-gamma-l', 'vmitest delta'];

function firstBytes(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}

test('a real Debian kernel under QEMU is dumped paused, with its BTF, kallsyms and the processes it listed', (t) => {
  if (!requires(t, { commands: ['qemu-system-x86_64', 'dpkg-deb'] })) return;
  const guest = linuxGuestDumps();
  if ('skip' in guest) {
    console.log(`# skipped ${t.name}: ${guest.skip}`);
    t.skip(guest.skip);
    return;
  }
  for (const format of ['elf', 'kdump-zlib'] as const) {
    const path = guest.files[format];
    assert.ok(path && existsSync(path) && statSync(path).size > 0, `no ${format} dump`);
  }
  assert.deepEqual([...firstBytes(guest.btf, 2)], [0x9f, 0xeb], 'the BTF copy lacks its magic');
  assert.match(readFileSync(guest.kallsyms, 'latin1'), /^[0-9a-f]{16} [A-Za-z] init_task$/m);
  const comms = new Set(guest.processes.map((p) => p.comm));
  for (const comm of DISTINCTIVE) assert.ok(comms.has(comm), `the guest did not list ${JSON.stringify(comm)}`);
  assert.ok(guest.processes.some((p) => p.pid === 1), 'the guest did not list pid 1');
  console.log(`# guest kernel ${guest.kernelRelease}: ${guest.processes.length} processes listed`);
});
