// The QEMU dump harness itself (test/support/qemu-dumps.ts): on a machine with QEMU it must
// produce at least the ELF and kdump-zlib dumps that the differential tests of the dump readers
// compare against, and it says which formats this QEMU wrote and why the others are missing.
// Without qemu-system-x86_64 the test skips and prints why (in CI, where .ci/run installs it, it fails).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { qemuDumps } from './support/qemu-dumps.js';
import { requires } from './support/env.js';

test('QEMU writes the ELF and kdump-zlib dumps of the paused pattern guest', (t) => {
  if (!requires(t, { commands: ['qemu-system-x86_64'] })) return;
  const dumps = qemuDumps();
  assert.ok(!('skip' in dumps), 'skip' in dumps ? dumps.skip : '');
  assert.ok(dumps.files.elf, `no ELF dump: ${dumps.missing.elf}`);
  assert.ok(dumps.files['kdump-zlib'], `no kdump-zlib dump: ${dumps.missing['kdump-zlib']}`);
  console.log(`# QEMU dumps made: ${Object.keys(dumps.files).join(', ')}`);
  for (const [format, why] of Object.entries(dumps.missing)) console.log(`# QEMU dump missing: ${format}: ${why}`);
});
