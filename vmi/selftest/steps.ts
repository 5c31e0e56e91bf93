// The positive half of the self-test, as data: for each capability, the steps LibVMI (or
// DRAKVUF, for what LibVMI does not cover) takes, in the call order of LibVMI's Xen driver
// (libvmi/driver/xen/), each naming the ids of its operations as capability grants name
// them (catalog/capabilities.ts; the checks of each in vmi/host/hypercalls-table.ts). Every
// step runs the checked hypercalls against the simulated host and then checks what came back
// against the guest's ground truth: CR3 from the vCPU context is the guest's page-directory
// base, 500 pages read through a page walk hold the bytes the guest put there, the process
// list is the guest's, a mem_access event arrives with the gfn and offset the guest wrote to.

import { PAGE_SIZE } from '../memory/physical-memory.js';
import { addressSpace, type AddressSpace } from '../paging/address-space.js';
import { listProcesses } from '../guest/process-list.js';
import { getVcpuContext, mapForeignFrame, maximumGpfn, type SimulatedGuest, type SimulatedHost } from '../host/host.js';
import type { SimDomain } from '../host/domains.js';
import type { CallResult, Hypervisor } from '../host/hypercalls.js';
import { accessTrapping, VmEventRing, type MonitorKind, type VmEventRequest } from '../host/vm-event.js';
import type { IntrospectorIntent } from './intent.js';
import type { ToolName } from '../../catalog/tools.js';
import { EVENT_CAPABILITY_NAMES } from '../../catalog/capabilities.js';
import { ForeignMemory } from './foreign-memory.js';
import type { Recorder } from './recorder.js';

/** A session that read a guest's full data region: the introspector and its target. */
export interface Proof {
  readonly introspector: string;
  readonly target: string;
}

/** The state one introspector builds up against one target over its steps. */
export interface PairSession {
  readonly sim: SimulatedHost;
  readonly introspector: IntrospectorIntent;
  readonly caller: SimDomain;
  readonly target: SimDomain;
  readonly guest: SimulatedGuest;
  /** The session of the same introspector profile and guest kind that read the full data region (this one has one page). */
  readonly provenOn?: Proof;
  /** From XENMEM_maximum_gpfn at init; the guest's RAM end until then. */
  memoryEnd: number;
  /** CR3 from the vCPU context, once read. */
  cr3?: number;
  ring?: VmEventRing;
}

interface Step {
  readonly name: string;
  /** The capability the step exercises ('lookup' and 'events' for the shared parts). */
  readonly capability: string;
  readonly rows: (s: PairSession) => readonly string[];
  /** Runs the step; a step may refuse to start (blocked) when what it needs is missing. */
  readonly run: (s: PairSession, rec: Recorder) => void;
}

const hvmLike = (d: SimDomain): boolean => d.kind !== 'pv';
const mapReadRows = (s: PairSession): string[] => (hvmLike(s.caller) ? ['B2', 'B2u', 'B5'] : ['B1', 'B5']);

// ------------------------------------------------------------------ lookup and init (A rows)

/** xen_get_domainid_from_name: list /local/domain, read each name until one matches (A3). */
function lookupByName(s: PairSession, rec: Recorder): void {
  const { xenstore } = s.sim;
  const me = s.caller.domid;
  const listing = xenstore.directory(me, '/local/domain');
  if (!rec.xs(me, 'directory', '/local/domain', listing)) return;
  let refused = 0;
  for (const id of listing.value) {
    const path = `/local/domain/${id}/name`;
    const name = xenstore.read(me, path);
    // Unreadable names count as no match, as in LibVMI; they are recorded, not fatal.
    if (!name.ok) refused++;
    if (name.ok && name.value === s.target.name) {
      rec.xenstore.push({ caller: me, op: 'read', path, result: 'ok' });
      if (Number(id) !== s.target.domid) rec.fail(`name "${s.target.name}" resolved to domain ${id}, not ${s.target.domid}`);
      else rec.note(`found "${s.target.name}" as domain ${id} among ${listing.value.length} entries (${refused} unreadable)`);
      return;
    }
    rec.xenstore.push({ caller: me, op: 'read', path, result: name.ok ? 'ok' : name.error });
  }
  if (refused > 0) rec.deny(`no readable /local/domain/<id>/name says "${s.target.name}" (${refused} unreadable)`);
  else rec.fail(`no /local/domain/<id>/name says "${s.target.name}"`);
}

/** XEN_SYSCTL_getdomaininfolist from `domid`, one entry: the domain must be the one listed (A4/A7). */
export function lookupByDomid(sim: SimulatedHost, caller: number, domid: number, rec: Recorder): void {
  const r = sim.hv.xc_domain_getinfolist(caller, domid, 1);
  if (!rec.call(r)) return;
  const first = r.value?.[0];
  if (first?.domid === domid) {
    rec.note(`domain ${domid} listed`);
    return;
  }
  // Xen skips a domain the caller may not see; LibVMI then reports "Invalid id".
  const hidden = r.checks.some((c) => !c.allowed);
  if (hidden) rec.deny(`domain ${domid} is not listed (getdomaininfo denied)`);
  else rec.fail(`domain ${domid} is not listed`);
}

const LOOKUP: Step = {
  name: 'look the target up as declared',
  capability: 'lookup',
  rows: (s) => (s.introspector.lookup === 'name' ? ['A3'] : ['A4']),
  run: (s, rec) => (s.introspector.lookup === 'name' ? lookupByName(s, rec) : lookupByDomid(s.sim, s.caller.domid, s.target.domid, rec)),
};

const DOMAIN_INFO: Step = {
  name: 'domain info: getinfolist, address size, max gfn',
  capability: 'domain-info',
  rows: (s) => ['A7', ...(s.target.kind === 'pv' ? ['A8'] : []), 'A9'],
  run: (s, rec) => {
    lookupByDomid(s.sim, s.caller.domid, s.target.domid, rec);
    if (rec.failed) return;
    if (s.target.kind === 'pv') {
      const width = s.sim.hv.xc_domain_get_address_size(s.caller.domid, s.target.domid);
      if (!rec.call(width)) return;
      if (width.value !== 64) return rec.fail(`address size ${String(width.value)}, expected 64`);
    }
    const max = maximumGpfn(s.sim, s.caller.domid, s.target.domid);
    if (!rec.call(max)) return;
    s.memoryEnd = ((max.value as number) + 1) * PAGE_SIZE;
    rec.note(`max gfn 0x${(max.value as number).toString(16)}`);
  },
};

/** A step that is one hypercall from the introspector on the target, recorded as it comes back. */
function oneCall(name: string, capability: string, row: string, call: (hv: Hypervisor, caller: number, target: number) => CallResult): Step {
  return { name, capability, rows: () => [row], run: (s, rec) => void rec.call(call(s.sim.hv, s.caller.domid, s.target.domid)) };
}

const LIBVMI_INIT = oneCall('raise the memory limit (xen_init_vmi)', 'libvmi-init', 'A10', (hv, me, them) => hv.xc_domain_setmaxmem(me, them));

const LIBVMI_TEARDOWN = oneCall('restore the memory limit (xen_destroy)', 'libvmi-init', 'A12', (hv, me, them) => hv.xc_domain_setmaxmem(me, them));

// ------------------------------------------------------------------ vCPU state and pause (C rows)

const PAUSE: Step = {
  name: 'pause and resume',
  capability: 'pause',
  rows: () => ['C3.pause', 'C3.unpause'],
  run: (s, rec) => {
    if (!rec.call(s.sim.hv.xc_domain_pause(s.caller.domid, s.target.domid))) return;
    rec.call(s.sim.hv.xc_domain_unpause(s.caller.domid, s.target.domid));
  },
};

const READ_REGISTERS: Step = {
  name: 'read vCPU 0 registers: CR3',
  capability: 'read-registers',
  rows: (s) => [hvmLike(s.target) ? 'C1' : 'C1p'],
  run: (s, rec) => {
    const ctx = getVcpuContext(s.sim, s.caller.domid, s.target.domid);
    if (!rec.call(ctx)) return;
    const cr3 = ctx.value?.cr3;
    if (cr3 !== s.guest.guest.dtb) return rec.fail(`CR3 0x${cr3?.toString(16)} is not the guest's page-directory base 0x${s.guest.guest.dtb.toString(16)}`);
    s.cr3 = cr3;
    rec.note(`CR3 = 0x${cr3.toString(16)}`);
  },
};

const WRITE_REGISTERS: Step = {
  name: 'write vCPU 0 registers (read-modify-write of the context)',
  capability: 'write-registers',
  rows: (s) => (hvmLike(s.target) ? ['C3.pause', 'C1', 'C2', 'C3.unpause'] : ['C1p', 'C2p']),
  run: (s, rec) => {
    const { hv } = s.sim;
    const [me, them] = [s.caller.domid, s.target.domid];
    if (!hvmLike(s.target)) {
      if (!rec.call(getVcpuContext(s.sim, me, them))) return;
      rec.call(hv.xc_vcpu_setcontext(me, them));
      return;
    }
    // xen_set_vcpureg_hvm: pause, get the whole context, set it back changed, unpause.
    if (!rec.call(hv.xc_domain_pause(me, them))) return;
    const ok = rec.call(hv.xc_domain_hvm_getcontext(me, them)) && rec.call(hv.xc_domain_hvm_setcontext(me, them));
    const resumed = hv.xc_domain_unpause(me, them);
    if (ok) rec.call(resumed);
  },
};

const TSC_INFO = oneCall('read TSC info', 'tsc-info', 'C4', (hv, me, them) => hv.xc_domain_get_tsc_info(me, them));

const INJECT = oneCall('inject a page fault (vmi_request_page_fault)', 'inject-events', 'C5', (hv, me, them) => hv.xc_hvm_inject_trap(me, them));

// ------------------------------------------------------------------ guest memory (B rows)

/**
 * The kernel page-directory base to walk from: CR3 as read from the vCPU, or — when the
 * introspector does not read registers — the kpgd a LibVMI config or profile names.
 */
function kernelDtb(s: PairSession): number {
  return s.cr3 ?? s.guest.guest.dtb;
}

/** The kernel's address space read through the introspector's foreign maps; undefined, with the step failed, when it cannot be opened. */
function openKernelSpace(s: PairSession, rec: Recorder): { readonly mem: ForeignMemory; readonly space: AddressSpace } | undefined {
  const mem = new ForeignMemory(s.sim, s.caller.domid, s.target.domid, rec, s.memoryEnd);
  const opened = addressSpace(mem, s.guest.guest.mode, kernelDtb(s));
  if (!opened.ok) {
    rec.fail(opened.problem);
    return undefined;
  }
  return { mem, space: opened.space };
}

/** Unmaps what an auto-translated caller mapped (XENMEM_remove_from_physmap per frame, B2u). */
function unmapAll(s: PairSession, rec: Recorder, mem: ForeignMemory): void {
  if (!hvmLike(s.caller)) return;
  for (let i = 0; i < mem.mapped().length; i++) if (!rec.call(s.sim.hv.xenforeignmemory_unmap(s.caller.domid))) return;
}

const READ_PAGES: Step = {
  name: `page walk and read of the data region, page by page, with content checks`,
  capability: 'read-memory',
  rows: mapReadRows,
  run: (s, rec) => {
    const { guest } = s.guest;
    const opened = openKernelSpace(s, rec);
    if (!opened) return;
    const { mem, space } = opened;
    space.flush();
    const page = new Uint8Array(PAGE_SIZE);
    let matching = 0;
    for (let i = 0; i < guest.data.pages; i++) {
      const read = space.readVirtualInto(guest.data.va + BigInt(i * PAGE_SIZE), page, 0, PAGE_SIZE);
      if (!read.ok) {
        if (!rec.failed) rec.fail(`page ${i} at 0x${(guest.data.va + BigInt(i * PAGE_SIZE)).toString(16)}: ${read.reason}`);
        break;
      }
      if (equalBytes(page, guest.dataPage(i))) matching++;
    }
    if (!rec.failed && matching !== guest.data.pages) rec.fail(`${guest.data.pages - matching} of ${guest.data.pages} pages differ from the guest's`);
    const mapped = mem.mapped().length;
    if (!rec.failed) unmapAll(s, rec, mem);
    rec.note(`${matching}/${guest.data.pages} pages read and matching, ${mapped} frames mapped (tables + data)${s.provenOn !== undefined ? `; the full region was read ${s.provenOn.introspector === s.introspector.name ? '' : `by ${s.provenOn.introspector} `}on ${s.provenOn.target}` : ''}`);
  },
};

const PROCESS_LIST: Step = {
  name: 'process list (init_task.tasks walk)',
  capability: 'read-memory',
  rows: mapReadRows,
  run: (s, rec) => {
    const { guest } = s.guest;
    const opened = openKernelSpace(s, rec);
    if (!opened) return;
    const { mem, space } = opened;
    const listing = listProcesses(space, guest.profile);
    if (!listing.ok) {
      if (!rec.failed) rec.fail(`process list: ${listing.reason}`);
      return;
    }
    const got = listing.processes.map((p) => `${p.pid}:${p.comm}`).join(' ');
    const want = guest.processes.map((p) => `${p.pid}:${p.comm}`).join(' ');
    if (got !== want) return rec.fail(`process list "${got}" is not the guest's "${want}"`);
    unmapAll(s, rec, mem);
    rec.note(`${listing.processes.length} processes: ${got}`);
  },
};

const MARKER = new TextEncoder().encode('vmipolicy selftest write');

const WRITE_MEMORY: Step = {
  name: 'write guest memory through a read-write foreign map (and restore it)',
  capability: 'write-memory',
  rows: (s) => ['B3', ...(hvmLike(s.caller) ? ['B2u'] : [])],
  run: (s, rec) => {
    const { guest } = s.guest;
    const address = guest.data.frames[1] ?? guest.data.frames[0];
    if (address === undefined) return rec.fail('the guest has no data page');
    const frame = address / PAGE_SIZE;
    const mapped = mapForeignFrame(s.sim, s.caller.domid, s.target.domid, frame, 'read-write');
    if (!rec.call(mapped) || !mapped.value) return;
    const before = new Uint8Array(PAGE_SIZE);
    mapped.value.readInto(before);
    const wrote = mapped.value.write(0, MARKER);
    const seen = new Uint8Array(MARKER.length);
    guest.image.readInto(address, seen, 0, MARKER.length);
    mapped.value.write(0, before.subarray(0, MARKER.length));
    if (!wrote || !equalBytes(seen, MARKER)) return rec.fail('the guest did not see the bytes written');
    if (hvmLike(s.caller)) rec.call(s.sim.hv.xenforeignmemory_unmap(s.caller.domid));
    rec.note(`wrote and restored ${MARKER.length} bytes at gfn 0x${frame.toString(16)}`);
  },
};

// ------------------------------------------------------------------ vm_event (D rows)

const EVENT_CAPABILITIES = EVENT_CAPABILITY_NAMES;

/** xen_init_events: monitor ring (D1a–h), bind the port (D2), query capabilities (D3). */
const EVENTS_SETUP: Step = {
  name: 'set up the vm_event monitor ring and its event channel',
  capability: 'events',
  rows: () => ['D1a', 'D1b', 'D1c', 'D1e', 'D1f', 'D1g', 'D1h', 'D2', 'D3'],
  run: (s, rec) => {
    const { hv } = s.sim;
    const [me, them] = [s.caller.domid, s.target.domid];
    const enabled = hv.xc_monitor_enable(me, them);
    if (!rec.call(enabled) || enabled.value === undefined) return;
    const bound = hv.xc_evtchn_bind_interdomain(me, them, enabled.value);
    if (!rec.call(bound) || bound.value === undefined) return;
    if (!rec.call(hv.xc_monitor_get_capabilities(me, them))) return;
    const ring = new VmEventRing(them, enabled.value);
    ring.bind(bound.value);
    s.ring = ring;
    s.guest.machine.ring = ring;
    rec.note(`ring up: Xen port ${enabled.value}, introspector port ${bound.value}`);
  },
};

/**
 * The introspector's event loop for one expected request: the port fired, the request is
 * the one expected, `handle` runs (LibVMI's callback), the response goes back with the vCPU
 * unpaused, EVTCHNOP_send (D4), and Xen resumes the vCPU. Returns the retried guest action.
 */
function serveOneEvent(s: PairSession, rec: Recorder, expect: (r: VmEventRequest) => string | undefined, handle: (r: VmEventRequest) => boolean): boolean {
  const ring = s.ring as VmEventRing;
  if (!ring.takeNotification()) {
    rec.fail('no notification arrived on the introspector\'s port');
    return false;
  }
  const request = ring.getRequest();
  if (!request) {
    rec.fail('the ring is empty');
    return false;
  }
  const wrong = expect(request);
  if (wrong) {
    rec.fail(`unexpected request: ${wrong}`);
    return false;
  }
  if (!handle(request)) return false;
  ring.putResponse({ vcpu: request.vcpu, reason: request.reason, unpause: request.vcpuPaused });
  if (!rec.call(s.sim.hv.xc_evtchn_notify(s.caller.domid, ring.boundPort as number))) return false;
  const retried = s.guest.machine.resume().get(request.vcpu);
  if (!retried?.done) {
    rec.fail(`vCPU ${request.vcpu} did not complete its access after the response (${retried ? retried.why : 'not resumed'})`);
    return false;
  }
  return true;
}

function needsRing(s: PairSession, rec: Recorder): boolean {
  if (s.ring) return true;
  rec.block('the vm_event ring is not set up');
  return false;
}

/**
 * Whether the tool marks a listener as required (XEN_DOMCTL_set_access_required) before
 * watching pages: xen-access does (xenaccess_init); LibVMI only when the application calls
 * vmi_event_listener_required (libvmi/events.c), which its mem_event path does not.
 */
const setsAccessRequired = (s: PairSession): boolean => s.introspector.tool !== 'libvmi';

const MEMORY_EVENT: Step = {
  name: 'mem_access: trap writes to a page, the guest writes, receive the event, clear it',
  capability: 'memory-events',
  rows: (s) => [...(setsAccessRequired(s) ? ['D5b'] : []), 'D5', 'D4'],
  run: (s, rec) => {
    if (!needsRing(s, rec)) return;
    const { hv } = s.sim;
    const [me, them] = [s.caller.domid, s.target.domid];
    const { guest, machine } = s.guest;
    const gpa = (guest.data.frames[2] ?? guest.data.frames[0] as number) + 0x10;
    const gfn = Math.floor(gpa / PAGE_SIZE);
    if (setsAccessRequired(s) && !rec.call(hv.xc_domain_set_access_required(me, them))) return;
    // vmi_set_mem_event(VMI_MEMACCESS_W): Xen is asked for rx, so a write faults.
    if (!rec.call(hv.xc_set_mem_access(me, them))) return;
    (s.ring as VmEventRing).setAccess([gfn], accessTrapping(['w']));
    const written = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    const original = new Uint8Array(written.length);
    guest.image.readInto(gpa, original, 0, original.length);
    const action = machine.write(0, gpa, written);
    if (action.done || action.why !== 'trapped') return rec.fail(`the guest's write was not trapped (${action.done ? 'written' : action.why})`);
    const ok = serveOneEvent(
      s, rec,
      (r) => (r.reason === 'mem_access' && r.gfn === gfn && r.offset === gpa % PAGE_SIZE && r.access === 'w' ? undefined : JSON.stringify({ ...r, rip: undefined })),
      () => {
        // vmi_clear_event: the page back to rwx so the retried write goes through.
        if (!rec.call(hv.xc_set_mem_access(me, them))) return false;
        (s.ring as VmEventRing).setAccess([gfn], 'rwx');
        return true;
      },
    );
    if (!ok) return;
    const now = new Uint8Array(written.length);
    guest.image.readInto(gpa, now, 0, now.length);
    if (!equalBytes(now, written)) return rec.fail('the guest\'s write did not land after the response');
    machine.write(0, gpa, original);
    rec.note(`mem_access event: gfn 0x${gfn.toString(16)} offset 0x${(gpa % PAGE_SIZE).toString(16)} access w, vCPU 0; write completed after the response`);
  },
};

/** Switches a monitor op on, makes the guest trigger it, serves the event, switches it off. */
function monitorStep(
  name: string, capability: string, kind: MonitorKind, rows: string[],
  toggle: (s: PairSession, on: boolean) => ReturnType<SimulatedHost['hv']['xc_monitor_singlestep']>[],
  trigger: (s: PairSession) => { action: ReturnType<SimulatedGuest['machine']['write']>; expect: (r: VmEventRequest) => string | undefined },
  handle: (s: PairSession, rec: Recorder) => boolean = () => true,
  undo: (s: PairSession) => void = () => undefined,
): Step {
  return {
    name, capability, rows: () => rows,
    run: (s, rec) => {
      if (!needsRing(s, rec)) return;
      for (const r of toggle(s, true)) if (!rec.call(r)) return;
      (s.ring as VmEventRing).monitor(kind, true);
      const { action, expect } = trigger(s);
      if (action.done || action.why !== 'trapped') return rec.fail(`the guest was not trapped (${action.done ? 'no event' : action.why})`);
      if (!serveOneEvent(s, rec, expect, () => handle(s, rec))) return;
      for (const r of toggle(s, false)) if (!rec.call(r)) return;
      (s.ring as VmEventRing).monitor(kind, false);
      undo(s);
      rec.note(`${kind} event received and answered`);
    },
  };
}

const REGISTER_EVENT = monitorStep(
  'register events: CR3 write monitored, the guest switches address space, receive the event',
  'register-events', 'write_ctrlreg', ['D6', 'D4'],
  (s) => [s.sim.hv.xc_monitor_write_ctrlreg(s.caller.domid, s.target.domid)],
  (s) => {
    const user = s.guest.guest.processes.find((p) => p.dtb !== undefined)?.dtb as number;
    const old = s.guest.machine.vcpus[0]?.cr3;
    return {
      action: s.guest.machine.setCr3(0, user),
      expect: (r) => (r.reason === 'write_ctrlreg' && r.newValue === user && r.oldValue === old ? undefined : `${r.reason} for vCPU ${r.vcpu}`),
    };
  },
  undefined,
  (s) => void s.guest.machine.setCr3(0, s.guest.guest.dtb),
);

const watchBreakpoints = (s: PairSession): CallResult[] => [s.sim.hv.xc_monitor_software_breakpoint(s.caller.domid, s.target.domid)];

/** vCPU 0 executes an INT3 `offset` bytes into the kernel text; the request must name that RIP. */
function int3At(offset: number) {
  return (s: PairSession) => {
    const rip = s.guest.guest.layout.kernelText + BigInt(offset);
    const gfn = (s.guest.guest.layout.kernelImagePhysical + offset) / PAGE_SIZE | 0;
    return {
      action: s.guest.machine.breakpoint(0, rip, gfn),
      expect: (r: VmEventRequest) => (r.reason === 'software_breakpoint' && r.rip === rip ? undefined : `${r.reason} for vCPU ${r.vcpu}`),
    };
  };
}

const BREAKPOINT_EVENT = monitorStep(
  'breakpoint events: INT3 monitored, the guest hits one, re-inject it',
  'breakpoint-events', 'software_breakpoint', ['D7', 'D7r', 'D4'],
  watchBreakpoints,
  int3At(0x100),
  // The breakpoint is the guest's own: LibVMI's callback re-injects it (xc_hvm_inject_trap, D7r).
  (s, rec) => rec.call(s.sim.hv.xc_hvm_inject_trap(s.caller.domid, s.target.domid)),
);

/** Breakpoints the introspector planted: the event is consumed, nothing is re-injected. */
const OWN_BREAKPOINT_EVENT = monitorStep(
  'own breakpoint events: INT3 monitored, the guest hits the introspector\'s breakpoint, consume it',
  'own-breakpoint-events', 'software_breakpoint', ['D7', 'D4'],
  watchBreakpoints,
  int3At(0x180),
);

const SINGLESTEP_EVENT = monitorStep(
  'singlestep: monitored and switched on for vCPU 0, one instruction, receive the event',
  'singlestep', 'singlestep', ['D8', 'F3', 'D4'],
  (s) => [s.sim.hv.xc_monitor_singlestep(s.caller.domid, s.target.domid), s.sim.hv.xc_domain_debug_control(s.caller.domid, s.target.domid)],
  (s) => {
    const rip = s.guest.machine.vcpus[0]?.rip ?? s.guest.guest.layout.kernelText;
    const gfn = s.guest.guest.layout.kernelImagePhysical / PAGE_SIZE;
    return {
      action: s.guest.machine.step(0, rip, gfn),
      expect: (r) => (r.reason === 'singlestep' && r.rip === rip ? undefined : `${r.reason} for vCPU ${r.vcpu}`),
    };
  },
);

/**
 * xen_events_destroy (D10): getinfolist, pause, access reset, unmap the ring page (for an
 * auto-translated caller that is XENMEM_remove_from_physmap), ring disable, unbind, unpause.
 */
const EVENTS_TEARDOWN: Step = {
  name: 'tear the vm_event ring down',
  capability: 'events',
  rows: (s) => ['D10', 'A4', 'C3.pause', ...(s.introspector.capabilities.includes('memory-events') ? ['D5'] : []), ...(hvmLike(s.caller) ? ['B2u'] : []), 'D3', 'C3.unpause'],
  run: (s, rec) => {
    if (!needsRing(s, rec)) return;
    const { hv } = s.sim;
    const [me, them] = [s.caller.domid, s.target.domid];
    lookupByDomid(s.sim, me, them, rec);
    if (rec.failed || !rec.call(hv.xc_domain_pause(me, them))) return;
    if (s.introspector.capabilities.includes('memory-events') && !rec.call(hv.xc_set_mem_access(me, them))) return;
    if (hvmLike(s.caller) && !rec.call(hv.xenforeignmemory_unmap(me))) return;
    if (!rec.call(hv.xc_monitor_disable(me, them))) return;
    rec.call(hv.xc_evtchn_unbind(me, (s.ring as VmEventRing).boundPort as number));
    rec.call(hv.xc_domain_unpause(me, them));
    s.guest.machine.ring = undefined;
    delete s.ring;
  },
};

// ------------------------------------------------------------------ altp2m (E rows)

const ALTP2M: Step = {
  name: 'altp2m: enable, create a view, remap a gfn into it, switch, restrict, switch back',
  capability: 'altp2m',
  rows: () => ['E1', 'B6', 'D5a'],
  run: (s, rec) => {
    const { hv } = s.sim;
    const [me, them] = [s.caller.domid, s.target.domid];
    const calls = [
      () => hv.xc_altp2m_op(me, them, 'set_domain_state'),
      () => hv.xc_altp2m_op(me, them, 'create_p2m'),
      // xen_alloc_gfn: a fresh frame for the shadow copy of a page (DRAKVUF's breakpoint pages).
      () => hv.xc_domain_populate_physmap_exact(me, them),
      () => hv.xc_altp2m_op(me, them, 'change_gfn'),
      () => hv.xc_altp2m_op(me, them, 'switch_p2m'),
      () => hv.xc_altp2m_op(me, them, 'set_mem_access'),
      () => hv.xc_altp2m_op(me, them, 'switch_p2m'),
      () => hv.xc_domain_decrease_reservation_exact(me, them),
    ];
    for (const call of calls) if (!rec.call(call())) return;
  },
};

// ------------------------------------------------------------------ vmtrace (F rows, Xen ≥ 4.15)

/** DRAKVUF's ipt plugin (xen_enable_ipt / xen_disable_ipt): option, buffer map, enable, disable, unmap. */
const VMTRACE: Step = {
  name: 'vmtrace: set the trace options, map vCPU 0\'s trace buffer, enable and disable tracing, unmap',
  capability: 'vmtrace',
  rows: (s) => ['F3', 'F4', ...(hvmLike(s.caller) ? ['B2u'] : [])],
  run: (s, rec) => {
    const { hv } = s.sim;
    const [me, them] = [s.caller.domid, s.target.domid];
    for (const call of [() => hv.xc_vmtrace_op(me, them), () => hv.xenforeignmemory_map_vmtrace_buf(me, them), () => hv.xc_vmtrace_op(me, them), () => hv.xc_vmtrace_op(me, them)]) {
      if (!rec.call(call())) return;
    }
    if (hvmLike(s.caller)) rec.call(hv.xenforeignmemory_unmap(me));
    rec.note(`trace buffer of ${s.target.vmtraceKb} KiB per vCPU mapped; tracing switched on and off`);
  },
};

// ------------------------------------------------------------------ tool profiles' own calls

/** drakvuf_set_vcpu_gprs (DRAKVUF src/libdrakvuf/drakvuf.c): the vCPU context, get then set, on an HVM/PVH target too. */
const DRAKVUF_SET_GPRS: Step = {
  name: 'set general-purpose registers through the vCPU context (DRAKVUF drakvuf_set_vcpu_gprs)',
  capability: 'write-registers',
  rows: () => ['C1p', 'C2p'],
  run: (s, rec) => {
    const { hv } = s.sim;
    if (!rec.call(hv.xc_vcpu_getcontext(s.caller.domid, s.target.domid))) return;
    rec.call(hv.xc_vcpu_setcontext(s.caller.domid, s.target.domid));
  },
};

/**
 * DRAKVUF's altp2m set-up (xen_set_altp2m_params, inject_trap_pa): read HVM_PARAM_ALTP2M, then
 * copy a page into a shadow frame through a read-write foreign map, and unmap it.
 */
const DRAKVUF_SHADOW_COPY: Step = {
  name: 'read the altp2m mode, copy a page into a shadow frame (DRAKVUF xen_set_altp2m_params, inject_trap_pa)',
  capability: 'altp2m',
  rows: (s) => ['F1', 'B3', ...(hvmLike(s.caller) ? ['B2u'] : [])],
  run: (s, rec) => {
    const { hv } = s.sim;
    const [me, them] = [s.caller.domid, s.target.domid];
    if (!rec.call(hv.xc_hvm_param_get(me, them))) return;
    const { guest } = s.guest;
    const source = guest.data.frames[3] ?? guest.data.frames[0];
    if (source === undefined) return rec.fail('the guest has no data page');
    const read = mapForeignFrame(s.sim, me, them, source / PAGE_SIZE, 'read-write');
    if (!rec.call(read) || !read.value) return;
    const page = new Uint8Array(PAGE_SIZE);
    read.value.readInto(page);
    // The shadow frame is the guest's own page here: writing its bytes back changes nothing.
    if (!read.value.write(0, page)) return rec.fail('the read-write map refused the copy');
    if (hvmLike(s.caller)) rec.call(hv.xenforeignmemory_unmap(me));
    rec.note(`copied gfn 0x${(source / PAGE_SIZE).toString(16)} through a read-write map`);
  },
};

/** Steps a tool profile adds after a capability's own (tools.ts says why each call is made). */
const TOOL_STEPS: Readonly<Record<ToolName, Readonly<Record<string, readonly Step[]>>>> = {
  custom: {},
  libvmi: {},
  'xen-access': {},
  drakvuf: { 'write-registers': [DRAKVUF_SET_GPRS], altp2m: [DRAKVUF_SHADOW_COPY] },
};

// ------------------------------------------------------------------ the plan

/** Capability → its steps, in the order LibVMI would take them. */
const CAPABILITY_STEPS: readonly { readonly capability: string; readonly steps: readonly Step[] }[] = [
  { capability: 'domain-info', steps: [DOMAIN_INFO] },
  { capability: 'libvmi-init', steps: [LIBVMI_INIT] },
  { capability: 'pause', steps: [PAUSE] },
  { capability: 'read-registers', steps: [READ_REGISTERS] },
  { capability: 'read-memory', steps: [READ_PAGES, PROCESS_LIST] },
  { capability: 'write-memory', steps: [WRITE_MEMORY] },
  { capability: 'write-registers', steps: [WRITE_REGISTERS] },
  { capability: 'tsc-info', steps: [TSC_INFO] },
  { capability: 'inject-events', steps: [INJECT] },
  { capability: 'altp2m', steps: [ALTP2M] },
  { capability: 'memory-events', steps: [MEMORY_EVENT] },
  { capability: 'register-events', steps: [REGISTER_EVENT] },
  { capability: 'breakpoint-events', steps: [BREAKPOINT_EVENT] },
  { capability: 'own-breakpoint-events', steps: [OWN_BREAKPOINT_EVENT] },
  { capability: 'singlestep', steps: [SINGLESTEP_EVENT] },
  { capability: 'vmtrace', steps: [VMTRACE] },
];

/** What LibVMI's vmi_init does before the ring: domain info, then the memory limit (xen_init_vmi). */
const INIT_CAPABILITIES = ['domain-info', 'libvmi-init'];

/**
 * The steps for one introspector and one target: lookup, init, capabilities, teardown. The
 * ring comes up as part of init, right after the memory limit and before any register or
 * memory access, as LibVMI's xen_init_vmi calls xen_init_events when VMI_INIT_EVENTS is set.
 */
export function pairSteps(introspector: IntrospectorIntent): Step[] {
  const declared = new Set(introspector.capabilities);
  const wantsEvents = EVENT_CAPABILITIES.some((c) => declared.has(c));
  const steps: Step[] = [LOOKUP];
  let eventsSetUp = false;
  for (const { capability, steps: forCapability } of CAPABILITY_STEPS) {
    if (!declared.has(capability)) continue;
    if (wantsEvents && !eventsSetUp && !INIT_CAPABILITIES.includes(capability)) {
      steps.push(EVENTS_SETUP);
      eventsSetUp = true;
    }
    steps.push(...forCapability, ...(TOOL_STEPS[introspector.tool][capability] ?? []));
  }
  if (wantsEvents && !eventsSetUp) steps.push(EVENTS_SETUP);
  if (wantsEvents) steps.push(EVENTS_TEARDOWN);
  if (declared.has('libvmi-init')) steps.push(LIBVMI_TEARDOWN);
  return steps;
}

/** Byte equality, by Buffer.compare: 500 pages per pair make this the self-test's hottest loop. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
