// The monitor vm_event ring of one target, and the guest vCPUs whose actions feed it — the
// part of xen/common/vm_event.c, mem_access.c and monitor.c that happens *after* the FLASK
// checks. The hypercall layer (hypercalls.ts) makes the checks of ring set-up (D1a–h),
// binding (D2), mem_access (D5), monitor ops (D6–D8) and notification (D4); this file keeps
// what those calls leave behind and does what Xen then does with no further XSM check:
//
// * p2m access rights per gfn, as XENMEM_access_op set_access records them (n, r, w, rw, x,
//   rx, wx, rwx: xenmem_access_t). LibVMI's vmi_set_mem_event(VMI_MEMACCESS_W) asks for
//   "trap writes", i.e. the access rx.
// * A guest access the rights forbid faults: Xen pauses the vCPU, puts a mem_access request
//   (gfn, offset, the violated access, vCPU, VM_EVENT_FLAG_VCPU_PAUSED) on the ring and
//   notifies the ring's Xen-side port, which raises the introspector's bound port
//   (vm_event_put_request → notify_via_xen_event_channel: no XSM check).
// * The introspector takes the request, puts a response, and notifies (EVTCHNOP_send, D4 —
//   the caller checks that). Xen's monitor_notification then runs vm_event_resume: every
//   response with VM_EVENT_FLAG_VCPU_PAUSED unpauses its vCPU, which retries the faulting
//   access — and faults again if the rights still forbid it.
// * Control-register writes, INT3 and single steps raise their own requests when their
//   monitor op is on (VM_EVENT_REASON_WRITE_CTRLREG, SOFTWARE_BREAKPOINT, SINGLESTEP).

import { PAGE_SIZE } from '../memory/physical-memory.js';
import type { MemoryImage } from '../memory/memory-image.js';

/** xenmem_access_t: what the guest may still do to the page. */
export type XenMemAccess = 'n' | 'r' | 'w' | 'rw' | 'x' | 'rx' | 'wx' | 'rwx';
type AccessKind = 'r' | 'w' | 'x';

/** VMI_MEMACCESS_* → the xenmem_access_t Xen is asked for: the event fires on what is removed. */
export function accessTrapping(kinds: readonly AccessKind[]): XenMemAccess {
  const left = (['r', 'w', 'x'] as const).filter((k) => !kinds.includes(k)).join('');
  return (left === '' ? 'n' : left) as XenMemAccess;
}

export type MonitorKind = 'write_ctrlreg' | 'software_breakpoint' | 'singlestep';

export type VmEventRequest =
  | { readonly reason: 'mem_access'; readonly vcpu: number; readonly gfn: number; readonly offset: number; readonly access: AccessKind; readonly vcpuPaused: true }
  | { readonly reason: 'write_ctrlreg'; readonly vcpu: number; readonly index: 'cr3'; readonly oldValue: number; readonly newValue: number; readonly vcpuPaused: true }
  | { readonly reason: 'software_breakpoint'; readonly vcpu: number; readonly gfn: number; readonly rip: bigint; readonly vcpuPaused: true }
  | { readonly reason: 'singlestep'; readonly vcpu: number; readonly gfn: number; readonly rip: bigint; readonly vcpuPaused: true };

interface VmEventResponse {
  readonly vcpu: number;
  readonly reason: VmEventRequest['reason'];
  /** VM_EVENT_FLAG_VCPU_PAUSED: unpause the vCPU that raised the request. */
  readonly unpause: boolean;
}

/**
 * Requests the ring holds before a faulting vCPU must wait for room. Xen's ring holds as many
 * requests as fit in its 4 KiB page; the simulation only needs "bounded", and a small bound
 * makes a forgotten response show up as a full ring instead of silently piling up.
 */
const DEFAULT_RING_SLOTS = 8;

interface GuestVcpu {
  readonly id: number;
  cr3: number;
  rip: bigint;
  /** Paused by a synchronous vm_event until its response comes back. */
  paused: boolean;
}

/** The outcome of one guest action. */
type GuestAction =
  | { readonly done: true }
  | { readonly done: false; readonly why: 'trapped' | 'vcpu-paused' | 'ring-full' | 'outside-ram' };

/** An access a vCPU is paused on, retried when its response unpauses it. */
interface PendingAccess {
  readonly retry: () => GuestAction;
}

export class VmEventRing {
  private readonly access = new Map<number, XenMemAccess>();
  private readonly monitored = new Set<MonitorKind>();
  private readonly requests: VmEventRequest[] = [];
  private readonly responses: VmEventResponse[] = [];
  /** Notifications raised on the introspector's port and not yet consumed. */
  private pendingNotifications = 0;
  private localPort: number | undefined;

  constructor(
    readonly target: number,
    /** The target-side port XEN_VM_EVENT_ENABLE allocated (D1f′). */
    readonly xenPort: number,
    readonly slots = DEFAULT_RING_SLOTS,
  ) {}

  // ---------------------------------------------------------------- state the checked calls set

  /** xc_evtchn_bind_interdomain succeeded: events now reach this port of the introspector. */
  bind(localPort: number): void {
    this.localPort = localPort;
  }

  get boundPort(): number | undefined {
    return this.localPort;
  }

  /** XENMEM_access_op set_access succeeded for these gfns. */
  setAccess(gfns: readonly number[], access: XenMemAccess): void {
    for (const gfn of gfns) {
      if (access === 'rwx') this.access.delete(gfn);
      else this.access.set(gfn, access);
    }
  }

  accessOf(gfn: number): XenMemAccess {
    return this.access.get(gfn) ?? 'rwx';
  }

  /** A monitor op (write_ctrlreg, software_breakpoint, singlestep) was switched on or off. */
  monitor(kind: MonitorKind, on: boolean): void {
    if (on) this.monitored.add(kind);
    else this.monitored.delete(kind);
  }

  isMonitored(kind: MonitorKind): boolean {
    return this.monitored.has(kind);
  }

  // ---------------------------------------------------------------- Xen's side

  get full(): boolean {
    return this.requests.length >= this.slots;
  }

  /** vm_event_put_request: onto the ring, then notify the Xen-side port (→ the bound port). */
  putRequest(request: VmEventRequest): void {
    this.requests.push(request);
    if (this.localPort !== undefined) this.pendingNotifications++;
  }

  /** vm_event_resume: consume every response; returns the vCPUs to unpause. */
  resume(): number[] {
    const unpause: number[] = [];
    for (const r of this.responses.splice(0)) if (r.unpause) unpause.push(r.vcpu);
    return unpause;
  }

  // ---------------------------------------------------------------- the introspector's side

  /** xenevtchn_pending + unmask: whether the bound port fired since the last look. */
  takeNotification(): boolean {
    if (this.pendingNotifications === 0) return false;
    this.pendingNotifications--;
    return true;
  }

  /** RING_COPY_REQUEST. */
  getRequest(): VmEventRequest | undefined {
    return this.requests.shift();
  }

  /** RING_PUSH_RESPONSES. */
  putResponse(response: VmEventResponse): void {
    this.responses.push(response);
  }
}

/**
 * A target's vCPUs acting on its memory and registers with a monitor ring attached: every
 * guest action goes through here, which is the hook that turns a forbidden access into a
 * vm_event, as the EPT violation handler (p2m_mem_access_check) does.
 */
export class MonitoredGuest {
  ring: VmEventRing | undefined;
  readonly vcpus: GuestVcpu[];
  private readonly pending = new Map<number, PendingAccess>();

  constructor(readonly image: MemoryImage, vcpus: readonly { cr3: number; rip: bigint }[]) {
    this.vcpus = vcpus.map((v, id) => ({ id, cr3: v.cr3, rip: v.rip, paused: false }));
  }

  private vcpu(id: number): GuestVcpu {
    const v = this.vcpus[id];
    if (!v) throw new RangeError(`no vCPU ${id}`);
    return v;
  }

  /** The guest writes `bytes` at guest-physical `gpa` from vCPU `vcpu`. */
  write(vcpu: number, gpa: number, bytes: Uint8Array): GuestAction {
    const attempt = (): GuestAction => {
      const gfn = Math.floor(gpa / PAGE_SIZE);
      if (this.ring && !this.ring.accessOf(gfn).includes('w')) {
        return this.trap(vcpu, attempt, { reason: 'mem_access', vcpu, gfn, offset: gpa % PAGE_SIZE, access: 'w', vcpuPaused: true });
      }
      return this.image.write(gpa, bytes) ? { done: true } : { done: false, why: 'outside-ram' };
    };
    return this.run(vcpu, attempt);
  }

  /** MOV to CR3 (a context switch). */
  setCr3(vcpu: number, value: number): GuestAction {
    const attempt = (): GuestAction => {
      const v = this.vcpu(vcpu);
      if (this.ring?.isMonitored('write_ctrlreg') && v.cr3 !== value) {
        // The event is sent before the write takes effect (hvm_monitor_cr); the retry completes it.
        const oldValue = v.cr3;
        return this.trap(vcpu, () => {
          v.cr3 = value;
          return { done: true };
        }, { reason: 'write_ctrlreg', vcpu, index: 'cr3', oldValue, newValue: value, vcpuPaused: true });
      }
      v.cr3 = value;
      return { done: true };
    };
    return this.run(vcpu, attempt);
  }

  /** The vCPU executes an INT3 at `rip` (page `gfn`). */
  breakpoint(vcpu: number, rip: bigint, gfn: number): GuestAction {
    return this.run(vcpu, () => {
      this.vcpu(vcpu).rip = rip;
      if (!this.ring?.isMonitored('software_breakpoint')) return { done: true };
      return this.trap(vcpu, () => ({ done: true }), { reason: 'software_breakpoint', vcpu, gfn, rip, vcpuPaused: true });
    });
  }

  /** The vCPU retires one instruction at `rip`; with singlestep monitored that is an event. */
  step(vcpu: number, rip: bigint, gfn: number): GuestAction {
    return this.run(vcpu, () => {
      this.vcpu(vcpu).rip = rip + 1n;
      if (!this.ring?.isMonitored('singlestep')) return { done: true };
      return this.trap(vcpu, () => ({ done: true }), { reason: 'singlestep', vcpu, gfn, rip, vcpuPaused: true });
    });
  }

  /**
   * The introspector notified the ring's Xen-side port (its EVTCHNOP_send was allowed):
   * vm_event_resume unpauses the vCPUs whose responses say so, and each retries what it
   * was paused on. Returns what the retries did, by vCPU.
   */
  resume(): Map<number, GuestAction> {
    const out = new Map<number, GuestAction>();
    for (const id of this.ring?.resume() ?? []) {
      const v = this.vcpu(id);
      v.paused = false;
      const pending = this.pending.get(id);
      this.pending.delete(id);
      if (pending) out.set(id, pending.retry());
    }
    return out;
  }

  private run(vcpu: number, attempt: () => GuestAction): GuestAction {
    return this.vcpu(vcpu).paused ? { done: false, why: 'vcpu-paused' } : attempt();
  }

  private trap(vcpu: number, retry: () => GuestAction, request: VmEventRequest): GuestAction {
    const ring = this.ring as VmEventRing;
    if (ring.full) return { done: false, why: 'ring-full' };
    this.vcpu(vcpu).paused = true;
    this.pending.set(vcpu, { retry });
    ring.putRequest(request);
    return { done: false, why: 'trapped' };
  }
}
