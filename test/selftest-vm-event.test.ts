// The vm_event ring on its own: a watched page traps the guest's write and pauses its vCPU,
// the request carries gfn/offset/access, a response unpauses the vCPU, which retries — and
// faults again while the access is still restricted; unwatched pages and a paused vCPU
// behave as Xen's do; the ring is bounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryImage } from '../vmi/memory/memory-image.js';
import { accessTrapping, MonitoredGuest, VmEventRing } from '../vmi/host/vm-event.js';

function setup(slots?: number): { guest: MonitoredGuest; ring: VmEventRing; image: MemoryImage } {
  const image = new MemoryImage(1 << 20);
  const guest = new MonitoredGuest(image, [{ cr3: 0x1000, rip: 0x100n }, { cr3: 0x1000, rip: 0x200n }]);
  const ring = new VmEventRing(5, 1, slots);
  ring.bind(3);
  guest.ring = ring;
  return { guest, ring, image };
}

test('LibVMI access requests map to the access Xen keeps', () => {
  assert.equal(accessTrapping(['w']), 'rx');
  assert.equal(accessTrapping(['r', 'w', 'x']), 'n');
  assert.equal(accessTrapping(['x']), 'rw');
  assert.equal(accessTrapping([]), 'rwx');
});

test('a write to a watched page is an event; the response lets the retried write through once the access is cleared', () => {
  const { guest, ring, image } = setup();
  ring.setAccess([7], accessTrapping(['w']));
  assert.deepEqual(guest.write(0, 7 * 4096 + 0x24, new Uint8Array([1, 2])), { done: false, why: 'trapped' });
  assert.equal(guest.vcpus[0]?.paused, true);
  assert.deepEqual(guest.write(0, 0, new Uint8Array([9])), { done: false, why: 'vcpu-paused' });
  // vCPU 1 runs on, and reads/writes elsewhere are not events.
  assert.deepEqual(guest.write(1, 8 * 4096, new Uint8Array([9])), { done: true });
  assert.equal(ring.takeNotification(), true);
  assert.equal(ring.takeNotification(), false);
  const req = ring.getRequest();
  assert.deepEqual(req, { reason: 'mem_access', vcpu: 0, gfn: 7, offset: 0x24, access: 'w', vcpuPaused: true });
  assert.equal(image.frame(7)?.[0x24], 0, 'the write must not land before the response');

  // A response without clearing the access: the retried write faults again.
  ring.putResponse({ vcpu: 0, reason: 'mem_access', unpause: true });
  assert.deepEqual(guest.resume().get(0), { done: false, why: 'trapped' });
  assert.equal(ring.getRequest()?.reason, 'mem_access');
  ring.setAccess([7], 'rwx');
  ring.putResponse({ vcpu: 0, reason: 'mem_access', unpause: true });
  assert.deepEqual(guest.resume().get(0), { done: true });
  assert.equal(guest.vcpus[0]?.paused, false);
  assert.deepEqual([...(image.frame(7)?.subarray(0x24, 0x26) ?? [])], [1, 2]);
});

test('a response that does not unpause leaves the vCPU paused', () => {
  const { guest, ring } = setup();
  ring.setAccess([2], 'r');
  guest.write(0, 2 * 4096, new Uint8Array([1]));
  ring.getRequest();
  ring.putResponse({ vcpu: 0, reason: 'mem_access', unpause: false });
  assert.equal(guest.resume().size, 0);
  assert.equal(guest.vcpus[0]?.paused, true);
});

test('CR3 writes, INT3 and single steps are events only while monitored', () => {
  const { guest, ring } = setup();
  assert.deepEqual(guest.setCr3(0, 0x2000), { done: true });
  ring.monitor('write_ctrlreg', true);
  assert.deepEqual(guest.setCr3(0, 0x3000), { done: false, why: 'trapped' });
  assert.equal(guest.vcpus[0]?.cr3, 0x2000, 'the new CR3 takes effect after the response');
  assert.deepEqual(ring.getRequest(), { reason: 'write_ctrlreg', vcpu: 0, index: 'cr3', oldValue: 0x2000, newValue: 0x3000, vcpuPaused: true });
  ring.putResponse({ vcpu: 0, reason: 'write_ctrlreg', unpause: true });
  guest.resume();
  assert.equal(guest.vcpus[0]?.cr3, 0x3000);
  assert.deepEqual(guest.breakpoint(1, 0x500n, 0), { done: true });
  ring.monitor('software_breakpoint', true);
  assert.deepEqual(guest.breakpoint(1, 0x500n, 0), { done: false, why: 'trapped' });
  assert.equal(ring.getRequest()?.reason, 'software_breakpoint');
});

test('the ring is bounded: a full ring refuses the event instead of growing', () => {
  const { guest, ring } = setup(1);
  ring.setAccess([1, 2], 'rx');
  assert.deepEqual(guest.write(0, 4096, new Uint8Array([1])), { done: false, why: 'trapped' });
  assert.deepEqual(guest.write(1, 8192, new Uint8Array([1])), { done: false, why: 'ring-full' });
});
