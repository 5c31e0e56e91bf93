// The real-Linux QEMU harness itself (test/support/qemu-linux.ts), once per Debian kernel
// flavour (amd64; i386's 686-pae and 686): on a machine with QEMU and Debian's apt it boots the
// flavour's kernel, and hands out the dumps of the paused guest (ELF, ELF -p, kdump-zlib, raw), the guest's own kallsyms (and
// BTF, where the kernel has it), and the process list the guest printed, with the distinctive
// processes its /init started. The VMI differential tests compare their process listing with
// that one. Without the flavour's QEMU (qemu-system-x86_64, qemu-system-i386) or dpkg-deb the
// test skips and prints why (in CI, where .ci/run installs them, it fails); when the harness
// cannot get a kernel (apt knows none; for i386, dpkg lacks the i386 architecture) it skips
// with the harness's reason.

import assert from 'node:assert/strict';
import { existsSync, openSync, readSync, closeSync, readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { KERNEL_FLAVOURS, linuxGuestFor } from './support/qemu-linux.js';

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

for (const flavour of KERNEL_FLAVOURS) {
  test(`${flavour}: a real Debian kernel under QEMU is dumped paused, with its kallsyms, its BTF where it has one, and the processes it listed`, (t) => {
    const guest = linuxGuestFor(t, flavour);
    if (!guest) return;
    assert.equal(guest.flavour, flavour);
    // amd64-la57 and amd64-pti boot amd64's kernel on other CPUs.
    assert.match(guest.kernelRelease, new RegExp(`^6\\.1\\.0-[0-9]+-${flavour.replace(/-(la57|pti)$/, '')}$`));
    for (const format of ['elf', 'elf-paging', 'kdump-zlib'] as const) {
      const path = guest.files[format];
      assert.ok(path && existsSync(path) && statSync(path).size > 0, `no ${format} dump`);
    }
    // The raw dump is the guest's 128 MiB of RAM, offset = guest-physical address (the harness compares it with the ELF dump).
    assert.equal(guest.files.raw && existsSync(guest.files.raw) ? statSync(guest.files.raw).size : 0, 128 << 20, 'no raw dump of all 128 MiB');
    const kallsyms = readFileSync(guest.kallsyms, 'latin1');
    if (flavour.startsWith('amd64')) {
      // Debian's amd64 kernel has CONFIG_DEBUG_INFO_BTF and CONFIG_KALLSYMS_ALL.
      assert.ok(guest.btf, 'the amd64 guest had no /sys/kernel/btf/vmlinux');
      assert.match(kallsyms, /^[0-9a-f]{16} [A-Za-z] init_task$/m);
    } else {
      // Debian's i386 kernels have neither: kallsyms lists text symbols; _text is at its link address (nokaslr).
      assert.match(kallsyms, /^c1000000 T _text$/m);
      console.log(`# ${flavour}: ${guest.btf ? 'the guest has BTF' : 'no /sys/kernel/btf/vmlinux in the guest'}; kallsyms ${/ init_task$/m.test(kallsyms) ? 'has' : 'lacks'} init_task`);
    }
    if (guest.btf) assert.deepEqual([...firstBytes(guest.btf, 2)], [0x9f, 0xeb], 'the BTF copy lacks its magic');
    const comms = new Set(guest.processes.map((p) => p.comm));
    for (const comm of DISTINCTIVE) assert.ok(comms.has(comm), `the guest did not list ${JSON.stringify(comm)}`);
    assert.ok(guest.processes.some((p) => p.pid === 1), 'the guest did not list pid 1');
    console.log(`# guest kernel ${guest.kernelRelease}: ${guest.processes.length} processes listed`);
    for (const line of guest.cr3Note.split('\n')) console.log(`# ${flavour}: ${line}`);
  });
}
