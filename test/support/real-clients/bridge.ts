// Test equipment: the simulated host's side of the stand-in libraries (standin.c). A real VMI
// client (LibVMI's unmodified examples, Xen's xen-access) runs as one introspector domain
// of a simulated host booted from a compiled spec; every library call it makes arrives here
// as a line, is performed by the simulated host (hypercalls.ts decides through our AVC, our
// xenstored answers, the synthetic guest's memory and vCPUs are the data) and is recorded
// with the FLASK checks it made — the sequence the differential tests compare with the
// self-test's.
//
// The guest acts as the self-test's steps make it act, at the moment the client arms the
// matching event: a CR3 switch once write_ctrlreg is monitored, a write to a page whose
// write access was removed, an INT3 once software breakpoints are monitored, one
// instruction once single-stepping is on. Each request is put on the ring and the client's
// event-channel connection gets one byte, as Xen's notify_via_xen_event_channel raises the
// port; the client's response and EVTCHNOP_send resume the vCPU.

import { createServer, type Server, type Socket } from 'node:net';
import { PAGE_SIZE } from '../../../vmi/memory/physical-memory.js';
import { mapForeignFrame, maximumGpfn, type SimulatedHost } from '../../../vmi/host/host.js';
import type { CallResult, CheckRecord } from '../../../vmi/host/hypercalls.js';
import { VmEventRing, type MonitorKind, type VmEventRequest, type XenMemAccess } from '../../../vmi/host/vm-event.js';

/** Linux errno values (what the client's errno must hold). */
const ERRNO: Readonly<Record<string, number>> = { EPERM: 1, ENOENT: 2, ESRCH: 3, EACCES: 13, EBUSY: 16, EEXIST: 17, ENODEV: 19, EINVAL: 22, ENOSPC: 28, ENOSYS: 38, EOPNOTSUPP: 95 };

/** One library call the client made, as the simulated host answered it. */
export interface BridgeCall {
  readonly call: string;
  readonly args: readonly string[];
  readonly ok: boolean;
  readonly errno?: string;
  readonly checks: readonly CheckRecord[];
}

/** xenmem_access_t, in the order of xen/include/public/memory.h. */
const XENMEM_ACCESS: readonly XenMemAccess[] = ['n', 'r', 'w', 'rw', 'x', 'rx', 'wx', 'rwx'];
const REASON: Readonly<Record<VmEventRequest['reason'], number>> = { mem_access: 1, write_ctrlreg: 4, software_breakpoint: 6, singlestep: 7 };
const REASON_NAME = new Map(Object.entries(REASON).map(([k, v]) => [v, k as VmEventRequest['reason']]));
const MEM_ACCESS_FLAG: Readonly<Record<'r' | 'w' | 'x', number>> = { r: 1, w: 2, x: 4 };
/** XEN_DOMCTL_MONITOR_EVENT_* bits for the events the simulated guest raises. */
const MONITOR_CAPABILITIES = (1 << 0) | (1 << 2) | (1 << 3);
const HVM_PARAM_ALTP2M = 35;
const XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_ON = 1;

interface Reply {
  readonly rc: number;
  readonly errno?: string;
  readonly values?: readonly (string | number | bigint)[];
  readonly payload?: Uint8Array;
}

export class Bridge {
  readonly calls: BridgeCall[] = [];
  readonly unmodelled: string[] = [];
  /** Events served: a response came back and the vCPU completed what it was paused on. */
  readonly served: VmEventRequest['reason'][] = [];
  private server: Server | undefined;
  private evtchn: Socket | undefined;
  private ring: VmEventRing | undefined;
  private readonly taken: VmEventRequest[] = [];
  private readonly listeners: ((reason: VmEventRequest['reason']) => void)[] = [];

  constructor(readonly sim: SimulatedHost, readonly caller: number) {}

  /** Every FLASK check the client caused, in order. */
  checks(): CheckRecord[] {
    return this.calls.flatMap((c) => c.checks);
  }

  onServed(listener: (reason: VmEventRequest['reason']) => void): void {
    this.listeners.push(listener);
  }

  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.serve(socket));
      server.once('error', reject);
      server.listen(path, () => resolve());
      this.server = server;
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  // ---------------------------------------------------------------- the wire

  private serve(socket: Socket): void {
    let pending = Buffer.alloc(0);
    /** A request line waiting for its payload. */
    let waiting: { line: string; bytes: number } | undefined;
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (waiting) {
          if (pending.length < waiting.bytes) return;
          const body = pending.subarray(0, waiting.bytes);
          pending = pending.subarray(waiting.bytes);
          const { line } = waiting;
          waiting = undefined;
          this.answer(socket, line, body);
          continue;
        }
        const nl = pending.indexOf(10);
        if (nl < 0) return;
        const line = pending.subarray(0, nl).toString('latin1');
        pending = pending.subarray(nl + 1);
        if (line === 'evtchn') {
          this.evtchn = socket;
          continue;
        }
        if (line.startsWith('writeback ')) {
          waiting = { line, bytes: PAGE_SIZE };
          continue;
        }
        this.answer(socket, line);
      }
    });
    socket.on('error', () => undefined);
  }

  private answer(socket: Socket, line: string, body?: Uint8Array): void {
    const [call = '', ...args] = line.split(' ');
    let reply: Reply;
    try {
      reply = this.perform(call, args, body);
    } catch (e) {
      this.unmodelled.push(`${call}: ${(e as Error).message}`);
      reply = { rc: -1, errno: 'ENOSYS' };
    }
    const head = `${reply.rc} ${reply.errno ? ERRNO[reply.errno] ?? 22 : 0}${reply.values?.length ? ' ' + reply.values.join(' ') : ''}\n`;
    socket.write(reply.payload ? Buffer.concat([Buffer.from(head, 'latin1'), reply.payload]) : head);
    this.ringTheBell();
  }

  /** One byte on the event-channel connection per notification Xen raised on the bound port. */
  private ringTheBell(): void {
    while (this.evtchn && this.ring?.takeNotification()) this.evtchn.write('!');
  }

  private record(call: string, args: readonly string[], r: CallResult<unknown>): Reply {
    this.calls.push({ call, args, ok: r.ok, ...(r.errno ? { errno: r.errno } : {}), checks: r.checks });
    return r.ok ? { rc: 0 } : { rc: -1, errno: r.errno ?? 'EINVAL' };
  }

  private note(call: string, args: readonly string[], ok = true, errno?: string): void {
    this.calls.push({ call, args, ok, ...(errno ? { errno } : {}), checks: [] });
  }

  // ---------------------------------------------------------------- the calls

  private perform(call: string, args: readonly string[], body?: Uint8Array): Reply {
    const { hv, xenstore } = this.sim;
    const me = this.caller;
    const n = (i: number): number => Number(args[i]);
    switch (call) {
      case 'open':
      case 'xs_open':
        return { rc: 0 };
      case 'version': {
        const [major = 4, minor = 0] = hv.xen.split('.').map(Number);
        return { rc: 0, values: [major, minor] };
      }
      case 'unmodelled':
        this.unmodelled.push(args.join(' '));
        this.note(`unmodelled ${args.join(' ')}`, [], false, 'ENOSYS');
        return { rc: 0 };

      // ---- discovery and init
      case 'getinfolist': {
        const r = hv.xc_domain_getinfolist(me, n(0), n(1));
        const reply = this.record('xc_domain_getinfolist', args, r);
        if (!r.ok) return reply;
        const values: number[] = [];
        for (const d of r.value ?? []) {
          const guest = this.sim.guests.get(d.domid);
          const pages = guest ? Math.ceil(guest.guest.image.end / PAGE_SIZE) : 0;
          values.push(d.domid, d.kind === 'pv' ? 0 : 1 << 1, pages, pages, 0, d.ssidref);
        }
        return { rc: (r.value ?? []).length, values };
      }
      case 'maximum_gpfn': {
        const r = maximumGpfn(this.sim, me, n(0));
        const reply = this.record('xc_domain_maximum_gpfn', args, r);
        return r.ok ? { rc: 0, values: [r.value ?? 0] } : reply;
      }
      case 'setmaxmem':
        return this.record('xc_domain_setmaxmem', args, hv.xc_domain_setmaxmem(me, n(0)));
      case 'address_size': {
        const r = hv.xc_domain_get_address_size(me, n(0));
        const reply = this.record('xc_domain_get_address_size', args, r);
        return r.ok ? { rc: 0, values: [r.value ?? 64] } : reply;
      }

      // ---- memory
      case 'map': {
        const [dom, prot, count, ...gfns] = args;
        const pages: Uint8Array[] = [];
        for (const gfn of gfns.slice(0, Number(count))) {
          const r = mapForeignFrame(this.sim, me, Number(dom), Number(gfn), prot === 'rw' ? 'read-write' : 'read');
          const reply = this.record(prot === 'rw' ? 'xenforeignmemory_map(PROT_READ|PROT_WRITE)' : 'xenforeignmemory_map(PROT_READ)', [String(dom), String(gfn)], r);
          if (!r.ok || !r.value) return reply;
          const page = new Uint8Array(PAGE_SIZE);
          r.value.readInto(page);
          pages.push(page);
        }
        return { rc: 0, payload: Buffer.concat(pages) };
      }
      case 'unmap':
        for (let i = 0; i < n(1); i++) this.record('xenforeignmemory_unmap', args, hv.xenforeignmemory_unmap(me));
        return { rc: 0 };
      case 'writeback': {
        const image = this.sim.guests.get(n(0))?.guest.image;
        if (!image || !body || !image.write(n(1) * PAGE_SIZE, body)) return { rc: -1, errno: 'EINVAL' };
        return { rc: 0 };
      }
      case 'populate_physmap':
        return this.record('xc_domain_populate_physmap_exact', args, hv.xc_domain_populate_physmap_exact(me, n(0)));
      case 'decrease_reservation':
        return this.record('xc_domain_decrease_reservation_exact', args, hv.xc_domain_decrease_reservation_exact(me, n(0)));

      // ---- vCPU state
      case 'hvm_getcontext_partial':
        return this.registers('xc_domain_hvm_getcontext_partial', args, hv.xc_domain_hvm_getcontext_partial(me, n(0)), n(0), n(1));
      case 'hvm_getcontext':
        return this.registers('xc_domain_hvm_getcontext', args, hv.xc_domain_hvm_getcontext(me, n(0)), n(0), n(1));
      case 'vcpu_getcontext':
        return this.registers('xc_vcpu_getcontext', args, hv.xc_vcpu_getcontext(me, n(0)), n(0), n(1));
      case 'hvm_setcontext':
        return this.record('xc_domain_hvm_setcontext', args, hv.xc_domain_hvm_setcontext(me, n(0)));
      case 'vcpu_setcontext':
        return this.record('xc_vcpu_setcontext', args, hv.xc_vcpu_setcontext(me, n(0)));
      case 'pause':
        return this.record('xc_domain_pause', args, hv.xc_domain_pause(me, n(0)));
      case 'unpause':
        return this.record('xc_domain_unpause', args, hv.xc_domain_unpause(me, n(0)));
      case 'tsc_info': {
        const r = hv.xc_domain_get_tsc_info(me, n(0));
        const reply = this.record('xc_domain_get_tsc_info', args, r);
        return r.ok ? { rc: 0, values: [2_000_000] } : reply;
      }
      case 'inject_trap':
        return this.record('xc_hvm_inject_trap', args, hv.xc_hvm_inject_trap(me, n(0)));
      case 'debug_control': {
        const reply = this.record('xc_domain_debug_control', args, hv.xc_domain_debug_control(me, n(0)));
        if (reply.rc === 0 && n(1) === XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_ON) this.singlestepOn = true;
        if (reply.rc === 0) this.act();
        return reply;
      }

      // ---- params and altp2m
      case 'hvm_param_get': {
        const r = hv.xc_hvm_param_get(me, n(0));
        const reply = this.record('xc_hvm_param_get', args, r);
        if (!r.ok) return reply;
        const altp2m = this.sim.host.domains.get(n(0))?.altp2m;
        return { rc: 0, values: [n(1) === HVM_PARAM_ALTP2M ? ['disabled', 'mixed', 'external', 'limited'].indexOf(altp2m ?? 'disabled') : 0] };
      }
      case 'hvm_param_set':
        return this.record('xc_hvm_param_set', args, hv.xc_hvm_param_set(me, n(0), n(1) === HVM_PARAM_ALTP2M ? 'altp2m' : 'other'));
      case 'altp2m': {
        const [op = '', dom] = args;
        const modelled = { get_domain_state: 'set_domain_state', set_domain_state: 'set_domain_state', create_p2m: 'create_p2m', destroy_p2m: 'create_p2m', switch_p2m: 'switch_p2m', change_gfn: 'change_gfn', vcpu_enable_notify: 'vcpu_enable_notify', set_mem_access: 'set_mem_access' } as const;
        const as = modelled[op as keyof typeof modelled];
        if (!as) throw new Error(`altp2m ${op}`);
        const reply = this.record(`xc_altp2m_${op}`, args, hv.xc_altp2m_op(me, Number(dom), as));
        // get_domain_state reports altp2m on; create_view hands out view 1.
        return reply.rc === 0 ? { rc: 0, values: [1] } : reply;
      }

      // ---- vm_event
      case 'monitor_enable': {
        const r = hv.xc_monitor_enable(me, n(0));
        const reply = this.record('xc_monitor_enable', args, r);
        if (!r.ok || r.value === undefined) return reply;
        this.ring = new VmEventRing(n(0), r.value);
        return { rc: 0, values: [r.value] };
      }
      case 'bind_interdomain': {
        const r = hv.xc_evtchn_bind_interdomain(me, n(0), n(1));
        const reply = this.record('xc_evtchn_bind_interdomain', args, r);
        if (!r.ok || r.value === undefined) return reply;
        const guest = this.sim.guests.get(n(0));
        if (this.ring && guest) {
          this.ring.bind(r.value);
          guest.machine.ring = this.ring;
        }
        return { rc: r.value };
      }
      case 'monitor_get_capabilities': {
        const reply = this.record('xc_monitor_get_capabilities', args, hv.xc_monitor_get_capabilities(me, n(0)));
        return reply.rc === 0 ? { rc: 0, values: [MONITOR_CAPABILITIES] } : reply;
      }
      case 'monitor':
        return this.monitorOp(args);
      case 'monitor_disable': {
        const reply = this.record('xc_monitor_disable', args, hv.xc_monitor_disable(me, n(0)));
        if (reply.rc === 0) {
          const guest = this.sim.guests.get(n(0));
          if (guest) guest.machine.ring = undefined;
        }
        return reply;
      }
      case 'set_access_required':
        return this.record('xc_domain_set_access_required', args, hv.xc_domain_set_access_required(me, n(0)));
      case 'set_mem_access': {
        const reply = this.record('xc_set_mem_access', args, hv.xc_set_mem_access(me, n(0)));
        const access = XENMEM_ACCESS[n(1)];
        const first = BigInt(args[2] ?? '0');
        if (reply.rc === 0 && access && this.ring && first < 1n << 52n) {
          const gfns = Array.from({ length: n(3) }, (_, i) => Number(first) + i);
          this.ring.setAccess(gfns, access);
          // The guest then writes once, to a data page when the range covers one (as the
          // self-test's memory-events step does), else to the range's first page.
          const data = this.sim.guests.get(n(0))?.guest.data.frames[2];
          const page = data !== undefined && gfns.includes(data / PAGE_SIZE) ? data / PAGE_SIZE : gfns[0];
          if (!access.includes('w') && page !== undefined) this.writeTo.push(page);
          this.act();
        }
        return reply;
      }
      case 'get_mem_access':
        return { rc: 0, values: [XENMEM_ACCESS.indexOf(this.ring?.accessOf(n(1)) ?? 'rwx')] };
      case 'take_requests': {
        const reqs = this.taken.splice(0);
        return { rc: reqs.length, values: reqs.flatMap(wire) };
      }
      case 'pending_port': {
        // The requests the notification announced move to the page now (vm_event_put_request).
        for (let r = this.ring?.getRequest(); r; r = this.ring?.getRequest()) this.taken.push(r);
        return { rc: this.ring?.boundPort ?? -1 };
      }
      case 'response': {
        const reason = REASON_NAME.get(n(1));
        if (this.ring && reason) this.ring.putResponse({ vcpu: n(0), reason, unpause: (n(2) & 1) === 1 });
        return { rc: 0 };
      }
      case 'notify': {
        const reply = this.record('xc_evtchn_notify', args, hv.xc_evtchn_notify(me, n(0)));
        if (reply.rc !== 0 || !this.ring) return reply;
        for (const [vcpu, action] of this.machine()?.resume() ?? []) {
          if (!action.done) continue;
          const reason = this.lastReason.get(vcpu) ?? 'mem_access';
          this.served.push(reason);
          for (const l of this.listeners) l(reason);
        }
        return reply;
      }
      case 'unbind':
        return this.record('xc_evtchn_unbind', args, hv.xc_evtchn_unbind(me, n(0)));

      // ---- xenstore
      case 'xs_directory': {
        const path = args.join(' ');
        const r = xenstore.directory(me, path);
        this.note('xs_directory', [path], r.ok, r.ok ? undefined : r.error);
        if (!r.ok) return { rc: -1, errno: r.error };
        const bytes = Buffer.from(r.value.map((s) => `${s}\0`).join(''), 'utf8');
        return { rc: r.value.length, values: [bytes.length], payload: bytes };
      }
      case 'xs_read': {
        const path = args.join(' ');
        const r = xenstore.read(me, path);
        this.note('xs_read', [path], r.ok, r.ok ? undefined : r.error);
        if (!r.ok) return { rc: -1, errno: r.error };
        const bytes = Buffer.from(r.value, 'utf8');
        return { rc: bytes.length, payload: bytes };
      }
      case 'xs_is_domain_introduced':
      case 'xs_watch':
      case 'xs_unwatch':
        this.note(call, args);
        return { rc: 0 };
    }
    throw new Error('no such call');
  }

  // ---------------------------------------------------------------- registers

  private registers(call: string, args: readonly string[], r: CallResult, domid: number, vcpu: number): Reply {
    const reply = this.record(call, args, r);
    if (!r.ok) return reply;
    const guest = this.sim.guests.get(domid);
    const v = guest?.machine.vcpus[vcpu];
    if (!guest || !v) return { rc: -1, errno: 'EINVAL' };
    const cr4 = 0x20 | (guest.guest.mode === 'la57' ? 0x1000 : 0);
    // CR0 PG|WP|NE|ET|MP|PE, EFER SCE|LME|LMA|NXE: a 64-bit kernel with paging on.
    return { rc: 0, values: [0x80050033, v.cr3, cr4, 0xd01, v.rip, 0, 2] };
  }

  // ---------------------------------------------------------------- the guest's part

  private singlestepOn = false;
  private readonly writeTo: number[] = [];
  private readonly lastReason = new Map<number, VmEventRequest['reason']>();
  private acted = new Set<string>();

  private machine() {
    return this.ring ? this.sim.guests.get(this.ring.target)?.machine : undefined;
  }

  private monitorOp(args: readonly string[]): Reply {
    const { hv } = this.sim;
    const [kind = '', dom, enable] = args;
    const on = enable === '1';
    const calls: Readonly<Record<string, (caller: number, domid: number) => CallResult>> = {
      write_ctrlreg: (c, d) => hv.xc_monitor_write_ctrlreg(c, d),
      mov_to_msr: (c, d) => hv.xc_monitor_mov_to_msr(c, d),
      singlestep: (c, d) => hv.xc_monitor_singlestep(c, d),
      software_breakpoint: (c, d) => hv.xc_monitor_software_breakpoint(c, d),
      debug_exceptions: (c, d) => hv.xc_monitor_debug_exceptions(c, d),
    };
    const perform = calls[kind] ?? ((c: number, d: number) => hv.perform('D9', c, d));
    const reply = this.record(`xc_monitor_${kind}`, args, perform(this.caller, Number(dom)));
    if (reply.rc === 0 && this.ring && (kind === 'write_ctrlreg' || kind === 'singlestep' || kind === 'software_breakpoint')) {
      this.ring.monitor(kind as MonitorKind, on);
      if (on) this.act();
    }
    return reply;
  }

  /** The guest does, once each, what the armed events trap. */
  private act(): void {
    const ring = this.ring;
    const target = ring ? this.sim.guests.get(ring.target) : undefined;
    if (!ring || !target || ring.boundPort === undefined) return;
    const { machine, guest } = target;
    const once = (key: string, action: () => void): void => {
      if (this.acted.has(key)) return;
      this.acted.add(key);
      action();
    };
    if (ring.isMonitored('write_ctrlreg')) {
      const user = guest.processes.find((p) => p.dtb !== undefined)?.dtb;
      if (user !== undefined) once('cr3', () => this.track(0, 'write_ctrlreg', machine.setCr3(0, user)));
    }
    if (ring.isMonitored('software_breakpoint')) {
      once('int3', () => this.track(0, 'software_breakpoint', machine.breakpoint(0, guest.layout.kernelText + 0x100n, (guest.layout.kernelImagePhysical + 0x100) / PAGE_SIZE | 0)));
    }
    if (ring.isMonitored('singlestep') && this.singlestepOn) {
      const rip = machine.vcpus[0]?.rip ?? guest.layout.kernelText;
      once('step', () => this.track(0, 'singlestep', machine.step(0, rip, guest.layout.kernelImagePhysical / PAGE_SIZE)));
    }
    for (const gfn of this.writeTo.splice(0)) {
      once(`write ${gfn}`, () => this.track(0, 'mem_access', machine.write(0, gfn * PAGE_SIZE + 0x10, new Uint8Array([0xde, 0xad, 0xbe, 0xef]))));
    }
  }

  private track(vcpu: number, reason: VmEventRequest['reason'], action: { done: boolean }): void {
    if (!action.done) this.lastReason.set(vcpu, reason);
  }
}

/** A request as standin.c's push_requests reads it: reason vcpu flags gfn offset access rip old new cr3. */
function wire(r: VmEventRequest): (number | bigint)[] {
  const gfn = 'gfn' in r ? r.gfn : 0;
  const offset = r.reason === 'mem_access' ? r.offset : 0;
  const access = r.reason === 'mem_access' ? MEM_ACCESS_FLAG[r.access] : 0;
  const rip = 'rip' in r ? r.rip : 0n;
  const [oldValue, newValue] = r.reason === 'write_ctrlreg' ? [r.oldValue, r.newValue] : [0, 0];
  return [REASON[r.reason], r.vcpu, 1, gfn, offset, access, rip, oldValue, newValue, r.reason === 'write_ctrlreg' ? r.newValue : 0];
}
