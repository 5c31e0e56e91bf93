// The simulated host's hypercall surface, shaped like libxc / libxenforeignmemory /
// libxenevtchn. Every call interprets its row of the operation table (hypercalls-table.ts):
// it makes exactly the FLASK checks that row lists, through the AVC, choosing each
// object as Xen does (domain_target_sid, or raw SIDs for the event-channel hooks), and
// returns ok or the errno Xen would give, plus every check it made with its provenance —
// what the self-test shows. A FLASK refusal is -EACCES, as avc_has_perm returns it.

import { atLeast, avcLineStyle } from '../../catalog/vocabulary.js';
import type { Provenance } from '../../policy/model/model.js';
import { Avc, type AvcCheck } from './avc.js';
import { DOMID_XEN, type AuditData } from '../../formats/avc-line.js';
import type { Host } from './domains.js';
import type { SimDomain } from './domains.js';
import { MONITOR_ENABLE_STEPS, operation, type CallContext, type CheckSpec, type Refusal } from './hypercalls-table.js';

type Errno = 'EACCES' | Refusal['errno'];

export interface CheckRecord {
  /** The operation-table row (and D1 step) that made the check. */
  readonly row: string;
  readonly step?: string;
  readonly hook: string;
  readonly cls: string;
  readonly perms: readonly string[];
  readonly scontext: string;
  readonly tcontext: string;
  /** The check passed (or was let through in permissive mode). */
  readonly allowed: boolean;
  readonly denied: readonly string[];
  /** Why each denied permission is missing (te, constraint, rbac, bounds). */
  readonly deniedBy: Readonly<Record<string, string>>;
  /** The allow rules behind the granted permissions. */
  readonly grantedAt: readonly Provenance[];
  /** The AVC's audit line, when Xen would print one. */
  readonly line?: string;
}

export interface CallResult<T = undefined> {
  readonly call: string;
  readonly ok: boolean;
  readonly errno?: Errno;
  readonly why?: string;
  readonly value?: T;
  readonly checks: readonly CheckRecord[];
}

interface Port {
  readonly sid: number;
  state: 'unbound' | 'interdomain';
  readonly remoteDomid: number;
  remotePort?: number;
}

interface MonitorState {
  enabled: boolean;
  ringMissing: boolean;
  /** The target-side port Xen allocated (D1f′). */
  port?: number;
}

export type Prot = 'read' | 'read-write';

interface HypervisorOptions {
  /** The Xen release whose hook behaviour applies; default the manifest's. */
  readonly xen?: string;
  readonly enforcing?: boolean;
}

/** A running call: its checks so far, and the first refusal. */
class Call {
  readonly checks: CheckRecord[] = [];
  failure?: { errno: Errno; why: string };
  constructor(readonly name: string) {}
  fail(errno: Errno, why: string): void {
    this.failure ??= { errno, why };
  }
  result<T>(value?: T): CallResult<T> {
    const base = { call: this.name, checks: this.checks };
    if (this.failure) return { ...base, ok: false, ...this.failure };
    return value === undefined ? { ...base, ok: true } : { ...base, ok: true, value };
  }
}

/**
 * arch_acquire_resource_check from Xen 4.19 (xen/arch/x86/mm/p2m-basic.c): a translated caller
 * may make foreign maps only with altp2m disabled and nested HVM off. Before 4.19 the release
 * test (the B rows' `before`) refuses every translated caller anyway.
 */
export function callerStateRefusesForeignMap(xen: string, caller: SimDomain): string | undefined {
  if (caller.kind === 'pv' || !atLeast(xen, '4.19')) return undefined;
  return caller.altp2m !== 'disabled' || caller.nestedHvm ? 'the caller itself has altp2m or nested HVM enabled (arch_acquire_resource_check)' : undefined;
}

export class Hypervisor {
  readonly avc: Avc;
  readonly xen: string;
  private readonly ports = new Map<number, Map<number, Port>>();
  private readonly monitors = new Map<number, MonitorState>();

  constructor(readonly host: Host, options: HypervisorOptions = {}) {
    this.xen = options.xen ?? host.manifest.xen;
    this.avc = new Avc(host.server, { enforcing: options.enforcing ?? true, style: avcLineStyle(this.xen) });
  }

  // ---------------------------------------------------------------- the interpreter

  /** Runs one row of the operation table from `caller` against `domid`. */
  perform(rowId: string, caller: number, domid: number, step?: string): CallResult {
    const call = new Call(operation(rowId).call);
    this.run(call, rowId, caller, domid, step);
    return call.result();
  }

  private resolve(call: Call, caller: number, domid: number): { s: SimDomain; t: SimDomain } | undefined {
    const s = this.host.domains.get(caller);
    const t = this.host.domains.get(domid);
    if (!s) call.fail('ESRCH', `no calling domain ${caller}`);
    else if (!t) call.fail('ESRCH', `no domain ${domid}`);
    return s && t ? { s, t } : undefined;
  }

  private ctx(s: SimDomain, t: SimDomain): CallContext {
    return { xen: this.xen, caller: s.kind, target: t.kind };
  }

  /** The checks of one row; false when the call stops (a refusal or a denied check). */
  private run(call: Call, rowId: string, caller: number, domid: number, step?: string): boolean {
    const row = operation(rowId);
    const pair = this.resolve(call, caller, domid);
    if (!pair) return false;
    const { s, t } = pair;
    const ctx = this.ctx(s, t);
    const refused = row.before?.({ ...ctx, self: s.domid === t.domid });
    if (refused) {
      call.fail(refused.errno, refused.why);
      return false;
    }
    for (const check of row.checks(ctx)) {
      if (!this.check(call, row.id, row.hook, check, s, t, step)) return false;
    }
    const refusedAfter = row.after?.({ ...ctx, self: s.domid === t.domid });
    if (refusedAfter) {
      call.fail(refusedAfter.errno, refusedAfter.why);
      return false;
    }
    return true;
  }

  private check(call: Call, row: string, hook: string, spec: CheckSpec, s: SimDomain, t: SimDomain, step?: string): boolean {
    switch (spec.via) {
      case 'domain': {
        const object = spec.object === 'target' ? t : spec.object === 'self' ? s : this.host.domains.get(spec.object === 'domxen' ? DOMID_XEN : 0);
        if (!object) {
          call.fail('ESRCH', `no ${spec.object} domain on this host`);
          return false;
        }
        const tsid = this.host.domains.targetSid(s, object);
        const ok = this.avcCheck(call, { row, hook, step }, s.sid, tsid, spec.cls, spec.perms, { current: s.domid, sdom: s.domid, tdom: object.domid });
        // getdomaininfolist skips a domain it may not see instead of failing.
        return ok || spec.onDeny === 'skip';
      }
      case 'evtchn-unbound':
        return this.evtchnUnbound(call, { row, hook, step }, t, s) !== undefined;
      case 'evtchn-interdomain':
        return true; // needs the remote port: see xc_evtchn_bind_interdomain
      case 'evtchn-send':
        return true; // needs the local port: see xc_evtchn_notify
    }
  }

  private avcCheck(call: Call, where: { row: string; hook: string; step?: string | undefined }, ssid: number, tsid: number, cls: string, perms: readonly string[], audit: AuditData): boolean {
    const r = this.avc.hasPerm(ssid, tsid, cls, perms, audit);
    call.checks.push(record(this.host, where, r));
    if (!r.allowed) call.fail('EACCES', `FLASK denied ${cls} { ${r.denied.join(' ')} }`);
    return r.allowed;
  }

  // ---------------------------------------------------------------- event channels

  private portsOf(domid: number): Map<number, Port> {
    let m = this.ports.get(domid);
    if (!m) this.ports.set(domid, (m = new Map()));
    return m;
  }

  private allocPort(domid: number, port: Port): number {
    const m = this.portsOf(domid);
    let n = 1; // port 0 is never handed out
    while (m.has(n)) n++;
    m.set(n, port);
    return n;
  }

  /**
   * flask_evtchn_unbound(d1 = owner, id2 = remote), run by the current domain `current`:
   * newsid = transition(owner, domain_target_sid(owner, remote), event); current → newsid
   * event:create; newsid → remote's SID event:bind. Returns the owner's new port.
   */
  private evtchnUnbound(call: Call, where: { row: string; hook: string; step?: string | undefined }, owner: SimDomain, current: SimDomain, remote: SimDomain = current): number | undefined {
    const sid2 = this.host.domains.targetSid(owner, remote);
    const newsid = this.host.server.transitionSid(owner.sid, sid2, 'event');
    if ('error' in newsid) {
      call.fail('EACCES', `no channel label: ${newsid.error}`);
      return undefined;
    }
    const hook = 'flask_evtchn_unbound';
    if (!this.avcCheck(call, { ...where, hook }, current.sid, newsid.sid, 'event', ['create'], { current: current.domid })) return undefined;
    if (!this.avcCheck(call, { ...where, hook }, newsid.sid, sid2, 'event', ['bind'], { current: current.domid })) return undefined;
    return this.allocPort(owner.domid, { sid: newsid.sid, state: 'unbound', remoteDomid: remote.domid });
  }

  /** xc_evtchn_alloc_unbound (a guest offering a port to `remote`): flask_evtchn_unbound. */
  xc_evtchn_alloc_unbound(caller: number, remote: number): CallResult<number> {
    const call = new Call('xc_evtchn_alloc_unbound');
    const pair = this.resolve(call, caller, remote);
    if (!pair) return call.result();
    const port = this.evtchnUnbound(call, { row: 'D1f', hook: 'flask_evtchn_unbound' }, pair.s, pair.s, pair.t);
    return call.result(port);
  }

  /** D2, flask_evtchn_interdomain: S→S_channel create, S_channel→T bind, T's port→S bind. */
  xc_evtchn_bind_interdomain(caller: number, domid: number, remotePort: number): CallResult<number> {
    const call = new Call(operation('D2').call);
    const pair = this.resolve(call, caller, domid);
    if (!pair) return call.result();
    const { s, t } = pair;
    const chn2 = this.ports.get(t.domid)?.get(remotePort);
    if (!chn2 || chn2.state !== 'unbound' || chn2.remoteDomid !== s.domid) {
      call.fail('EINVAL', `domain ${t.domid} has no port ${remotePort} offered to domain ${s.domid}`);
      return call.result();
    }
    const where = { row: 'D2', hook: 'flask_evtchn_interdomain' };
    const audit = { current: s.domid, sdom: s.domid, tdom: t.domid };
    const sid2 = this.host.domains.targetSid(s, t);
    const newsid = this.host.server.transitionSid(s.sid, sid2, 'event');
    if ('error' in newsid) {
      call.fail('EACCES', `no channel label: ${newsid.error}`);
      return call.result();
    }
    if (!this.avcCheck(call, where, s.sid, newsid.sid, 'event', ['create'], audit)) return call.result();
    if (!this.avcCheck(call, where, newsid.sid, sid2, 'event', ['bind'], audit)) return call.result();
    // Re-validate the other end: the target may have been relabelled since it offered the port.
    if (!this.avcCheck(call, where, chn2.sid, this.host.domains.targetSid(t, s), 'event', ['bind'], audit)) return call.result();
    const port = this.allocPort(s.domid, { sid: newsid.sid, state: 'interdomain', remoteDomid: t.domid, remotePort });
    chn2.state = 'interdomain';
    chn2.remotePort = port;
    return call.result(port);
  }

  /** D4, flask_evtchn_send: an interdomain port is checked caller → port SID event:send. */
  xc_evtchn_notify(caller: number, port: number): CallResult {
    const call = new Call(operation('D4').call);
    const s = this.host.domains.get(caller);
    const chn = this.ports.get(caller)?.get(port);
    if (!s || !chn) {
      call.fail('EINVAL', `domain ${caller} has no port ${port}`);
      return call.result();
    }
    if (chn.state === 'interdomain') this.avcCheck(call, { row: 'D4', hook: 'flask_evtchn_send' }, s.sid, chn.sid, 'event', ['send'], { current: s.domid });
    return call.result();
  }

  /** EVTCHNOP_close: no XSM check. */
  xc_evtchn_unbind(caller: number, port: number): CallResult {
    const call = new Call('xc_evtchn_unbind');
    if (!this.ports.get(caller)?.delete(port)) call.fail('EINVAL', `domain ${caller} has no port ${port}`);
    return call.result();
  }

  // ---------------------------------------------------------------- libxc: discovery (A)

  /**
   * XEN_SYSCTL_getdomaininfolist: DOMID_XEN first (from 4.17, XSA-499), then each domain from
   * `first`; domains the caller may not see are skipped, as Xen does.
   */
  xc_domain_getinfolist(caller: number, first: number, max: number): CallResult<readonly { domid: number; name: string; kind: string; ssidref: number }[]> {
    const call = new Call(operation('A4').call);
    const s = this.host.domains.get(caller);
    if (!s) {
      call.fail('ESRCH', `no calling domain ${caller}`);
      return call.result();
    }
    const row = operation('A4');
    const specs = row.checks({ xen: this.xen, caller: s.kind, target: 'pv' });
    const [listCheck] = specs.filter((c) => c.via === 'domain' && c.onDeny === 'skip');
    for (const c of specs) if (c !== listCheck && !this.check(call, row.id, row.hook, c, s, s)) return call.result();
    const seen: { domid: number; name: string; kind: string; ssidref: number }[] = [];
    for (const d of this.host.domains.list()) {
      if (d.domid < first || seen.length >= max) continue;
      if (listCheck && listCheck.via === 'domain') {
        const tsid = this.host.domains.targetSid(s, d);
        const r = this.avc.hasPerm(s.sid, tsid, listCheck.cls, listCheck.perms, { current: s.domid, sdom: s.domid, tdom: d.domid });
        call.checks.push(record(this.host, { row: row.id, hook: row.hook }, r));
        if (!r.allowed) continue;
      }
      seen.push({ domid: d.domid, name: d.name, kind: d.kind, ssidref: d.sid });
    }
    return call.result(seen);
  }

  xc_domain_get_address_size(caller: number, domid: number): CallResult<number> {
    const r = this.perform('A8', caller, domid);
    // The simulated guests are all x86-64.
    const { value: _none, ...rest } = r;
    return r.ok ? { ...rest, value: 64 } : rest;
  }

  xc_domain_maximum_gpfn(caller: number, domid: number): CallResult {
    return this.perform('A9', caller, domid);
  }

  xc_domain_setmaxmem(caller: number, domid: number): CallResult {
    return this.perform('A10', caller, domid);
  }

  // ---------------------------------------------------------------- memory (B)

  /** xenforeignmemory_map: B1 (PV caller, read), B3 (read-write), B2 (HVM/PVH caller), after Xen's test of the caller (p2m_add_foreign: arch_acquire_resource_check). */
  xenforeignmemory_map(caller: number, domid: number, prot: Prot): CallResult {
    const call = new Call(`xenforeignmemory_map(${prot === 'read' ? 'PROT_READ' : 'PROT_READ|PROT_WRITE'})`);
    this.foreignMap(call, caller, domid, prot);
    return call.result();
  }

  private foreignMap(call: Call, caller: number, domid: number, prot: Prot, step?: string): boolean {
    const s = this.host.domains.get(caller);
    const row = prot === 'read' ? (s?.kind === 'pv' ? 'B1' : 'B2') : 'B3';
    // p2m_add_foreign tests the translated caller before xsm_map_gmfn_foreign, at every
    // release: so Xen refuses here without a FLASK check (and without an AVC line).
    // (The release test is the rows' `before`; the caller's own state is tested here.)
    if (this.callerStateRefuses(call, caller, 'EPERM')) return false;
    return this.run(call, row, caller, domid, step);
  }

  /**
   * The 4.19 rule on the caller's own altp2m/nested-HVM state, shared by p2m_add_foreign
   * (-EPERM) and acquire_resource (-EACCES): true, with the call failed, when it refuses.
   */
  private callerStateRefuses(call: Call, caller: number, errno: 'EPERM' | 'EACCES'): boolean {
    const s = this.host.domains.get(caller);
    const why = s ? callerStateRefusesForeignMap(this.xen, s) : undefined;
    if (why) call.fail(errno, why);
    return why !== undefined;
  }

  xenforeignmemory_unmap(caller: number): CallResult {
    return this.perform('B2u', caller, caller);
  }

  xc_domain_populate_physmap_exact(caller: number, domid: number): CallResult {
    return this.perform('B6', caller, domid);
  }

  xc_domain_decrease_reservation_exact(caller: number, domid: number): CallResult {
    return this.perform('B6', caller, domid);
  }

  xenforeignmemory_map_resource(caller: number, domid: number): CallResult {
    return this.perform('F4', caller, domid);
  }

  // ---------------------------------------------------------------- vmtrace (F3/F4, Xen ≥ 4.15)

  /** The target's vmtrace size is tested after the XSM check (resource_max_frames / do_vmtrace_op): -EINVAL without one. */
  private needsVmtraceBuffer(r: CallResult, domid: number): CallResult {
    if (r.ok && !this.host.domains.get(domid)?.vmtraceKb) return { ...r, ok: false, errno: 'EINVAL', why: 'the target has no vmtrace buffer (created without vmtrace_buf_kb)' };
    return r;
  }

  /** xenforeignmemory_map_resource of a vCPU's vmtrace buffer (read-only, as DRAKVUF's xen_enable_ipt maps it). */
  xenforeignmemory_map_vmtrace_buf(caller: number, domid: number): CallResult {
    const call = new Call(operation('F4.vmtrace').call);
    if (this.callerStateRefuses(call, caller, 'EACCES')) return call.result();
    this.run(call, 'F4.vmtrace', caller, domid);
    return this.needsVmtraceBuffer(call.result(), domid);
  }

  /** XEN_DOMCTL_vmtrace_op: enable, set an option, read the position, disable. */
  xc_vmtrace_op(caller: number, domid: number): CallResult {
    return this.needsVmtraceBuffer(this.perform('F3.vmtrace', caller, domid), domid);
  }

  // ---------------------------------------------------------------- vCPU state (C)

  xc_domain_hvm_getcontext(caller: number, domid: number): CallResult {
    return this.hvmTarget('C1', caller, domid);
  }

  xc_domain_hvm_getcontext_partial(caller: number, domid: number): CallResult {
    return this.hvmTarget('C1', caller, domid);
  }

  xc_domain_hvm_setcontext(caller: number, domid: number): CallResult {
    return this.hvmTarget('C2', caller, domid);
  }

  /** do_domctl makes the XSM check before arch_do_domctl refuses a PV domain (-EINVAL). */
  private hvmTarget(row: string, caller: number, domid: number): CallResult {
    const r = this.perform(row, caller, domid);
    if (r.ok && this.host.domains.get(domid)?.kind === 'pv') return { ...r, ok: false, errno: 'EINVAL', why: 'the target is not an HVM/PVH domain' };
    return r;
  }

  xc_vcpu_getcontext(caller: number, domid: number): CallResult {
    return this.perform('C1p', caller, domid);
  }

  xc_vcpu_setcontext(caller: number, domid: number): CallResult {
    return this.perform('C2p', caller, domid);
  }

  xc_domain_pause(caller: number, domid: number): CallResult {
    return this.perform('C3.pause', caller, domid);
  }

  xc_domain_unpause(caller: number, domid: number): CallResult {
    return this.perform('C3.unpause', caller, domid);
  }

  xc_domain_get_tsc_info(caller: number, domid: number): CallResult {
    return this.perform('C4', caller, domid);
  }

  xc_hvm_inject_trap(caller: number, domid: number): CallResult {
    return this.perform('C5', caller, domid);
  }

  // ---------------------------------------------------------------- vm_event (D)

  private monitor(domid: number): MonitorState {
    let m = this.monitors.get(domid);
    if (!m) this.monitors.set(domid, (m = { enabled: false, ringMissing: false }));
    return m;
  }

  /**
   * xc_monitor_enable → xc_vm_event_enable (catalog D1a–h): pause, read the ring GFN, check
   * its type, populate it if missing, map it read-write, enable the ring (which allocates the
   * target-side port, D1f′), take the frame out of the guest's physmap, unpause. Returns the
   * target-side port for xc_evtchn_bind_interdomain.
   */
  xc_monitor_enable(caller: number, domid: number): CallResult<number> {
    const call = new Call('xc_monitor_enable');
    const pair = this.resolve(call, caller, domid);
    if (!pair) return call.result();
    const state = this.monitor(domid);
    let paused = false;
    for (const { step, row, ifRingMissing } of MONITOR_ENABLE_STEPS) {
      if (ifRingMissing && !state.ringMissing) continue;
      let ok: boolean;
      if (step === 'D1e') ok = this.foreignMap(call, caller, domid, 'read-write', step);
      else if (step === 'D1f') {
        if (state.enabled) {
          call.fail('EBUSY', 'the monitor ring is already enabled');
          ok = false;
        } else ok = this.run(call, row, caller, domid, step);
        if (ok) state.port = this.lastPort(domid);
      } else ok = this.run(call, row, caller, domid, step);
      if (step === 'D1a') paused = ok;
      if (!ok) {
        // xc_vm_event_enable unpauses on its way out once it paused.
        if (paused && step !== 'D1h') this.run(new Call('cleanup'), 'C3.unpause', caller, domid);
        return call.result();
      }
      if (step === 'D1f') state.enabled = true;
      if (step === 'D1g') state.ringMissing = true;
    }
    return call.result(state.port);
  }

  private lastPort(domid: number): number | undefined {
    const ports = [...(this.ports.get(domid)?.keys() ?? [])];
    return ports.length > 0 ? Math.max(...ports) : undefined;
  }

  /** XEN_VM_EVENT_DISABLE: domain2:vm_event (D10). */
  xc_monitor_disable(caller: number, domid: number): CallResult {
    const r = this.perform('D3', caller, domid);
    if (r.ok) {
      const m = this.monitor(domid);
      if (m.port !== undefined) this.ports.get(domid)?.delete(m.port);
      m.enabled = false;
      delete m.port;
    }
    return { ...r, call: 'xc_monitor_disable' };
  }

  xc_monitor_get_capabilities(caller: number, domid: number): CallResult {
    return this.perform('D3', caller, domid);
  }

  /** XENMEM_access_op: after the check, -ENODEV unless the target has a monitor ring. */
  xc_set_mem_access(caller: number, domid: number): CallResult {
    const r = this.perform('D5', caller, domid);
    if (r.ok && !this.monitor(domid).enabled) return { ...r, ok: false, errno: 'ENODEV', why: 'the target has no monitor ring' };
    return r;
  }

  xc_domain_set_access_required(caller: number, domid: number): CallResult {
    return this.perform('D5b', caller, domid);
  }

  xc_monitor_write_ctrlreg(caller: number, domid: number): CallResult {
    return this.perform('D6', caller, domid);
  }

  xc_monitor_mov_to_msr(caller: number, domid: number): CallResult {
    return this.perform('D6', caller, domid);
  }

  xc_monitor_software_breakpoint(caller: number, domid: number): CallResult {
    return this.perform('D7', caller, domid);
  }

  xc_monitor_singlestep(caller: number, domid: number): CallResult {
    return this.perform('D8', caller, domid);
  }

  xc_monitor_debug_exceptions(caller: number, domid: number): CallResult {
    return this.perform('D9', caller, domid);
  }

  xc_domain_debug_control(caller: number, domid: number): CallResult {
    return this.perform('F3', caller, domid);
  }

  // ---------------------------------------------------------------- altp2m, params (E, F)

  /**
   * HVMOP_altp2m: -EINVAL when the target's altp2m mode is disabled (before XSM); in
   * external mode (and limited, but for vcpu_enable_notify) a domain may not drive itself.
   */
  xc_altp2m_op(caller: number, domid: number, op: 'set_domain_state' | 'create_p2m' | 'switch_p2m' | 'change_gfn' | 'vcpu_enable_notify' | 'set_mem_access' = 'create_p2m'): CallResult {
    const call = new Call(op === 'set_mem_access' ? operation('D5a').call : `xc_altp2m_${op}`);
    const pair = this.resolve(call, caller, domid);
    if (!pair) return call.result();
    const { s, t } = pair;
    if (t.kind === 'pv' || t.altp2m === 'disabled') {
      call.fail(t.kind === 'pv' ? 'EOPNOTSUPP' : 'EINVAL', t.kind === 'pv' ? 'altp2m needs an HVM target' : 'the target\'s altp2m mode is disabled');
      return call.result();
    }
    const selfForbidden = s.domid === t.domid && (t.altp2m === 'external' || (t.altp2m === 'limited' && op !== 'vcpu_enable_notify'));
    if (selfForbidden) {
      call.fail('EPERM', `altp2m mode ${t.altp2m} forbids the domain driving its own views`);
      return call.result();
    }
    this.run(call, op === 'set_mem_access' ? 'D5a' : 'E1', caller, domid);
    return call.result();
  }

  xc_hvm_param_get(caller: number, domid: number): CallResult {
    return this.perform('F1', caller, domid);
  }

  /** HVMOP_set_param; HVM_PARAM_ALTP2M is E2 (read-only since 4.19: -EEXIST after the check). */
  xc_hvm_param_set(caller: number, domid: number, param: 'altp2m' | 'other' = 'other'): CallResult {
    if (param !== 'altp2m') return this.perform('F2', caller, domid);
    const r = this.perform('E2', caller, domid);
    if (r.ok && atLeast(this.xen, '4.19')) return { ...r, ok: false, errno: 'EEXIST', why: 'HVM_PARAM_ALTP2M is fixed at domain creation since Xen 4.19' };
    return r;
  }

  // ---------------------------------------------------------------- device-model link (set_target)

  /**
   * XEN_DOMCTL_set_target, run by the toolstack domain: make_priv_for on the device model,
   * set_as_target on the guest (both through domain_target_sid), then domain:set_target on
   * the raw SIDs; on success the device model's target SID is computed, the transition of
   * (guest, device model) in class domain — `type_transition T DM:domain T_target` — as
   * flask_set_target does (xen/xsm/flask/hooks.c).
   */
  xc_domain_set_target(caller: number, dm: number, target: number): CallResult {
    const call = new Call('xc_domain_set_target');
    const s = this.host.domains.get(caller);
    const d = this.host.domains.get(dm);
    const t = this.host.domains.get(target);
    if (!s || !d || !t) {
      call.fail('ESRCH', 'no such domain');
      return call.result();
    }
    const where = { row: 'set_target', hook: 'flask_set_target' };
    if (!this.avcCheck(call, where, s.sid, this.host.domains.targetSid(s, d), 'domain2', ['make_priv_for'], { current: s.domid, sdom: s.domid, tdom: d.domid })) return call.result();
    if (!this.avcCheck(call, where, s.sid, this.host.domains.targetSid(s, t), 'domain2', ['set_as_target'], { current: s.domid, sdom: s.domid, tdom: t.domid })) return call.result();
    if (!this.avcCheck(call, where, d.sid, t.sid, 'domain', ['set_target'], { current: s.domid })) return call.result();
    const err = this.host.domains.linkTarget(dm, target);
    if (err) call.fail('EINVAL', err);
    return call.result();
  }
}

function record(host: Host, where: { row: string; hook: string; step?: string | undefined }, r: AvcCheck): CheckRecord {
  const deniedBy: Record<string, string> = {};
  for (const p of r.denied) deniedBy[p] = r.decision?.deniedBy.get(p) ?? 'error';
  const grantedAt: Provenance[] = [];
  for (const p of r.requested) for (const rule of r.decision?.grantedBy.get(p) ?? []) if (!grantedAt.includes(rule.at)) grantedAt.push(rule.at);
  return {
    row: where.row,
    ...(where.step ? { step: where.step } : {}),
    hook: where.hook,
    cls: r.cls,
    perms: r.requested,
    scontext: host.server.contextString(r.ssid) ?? `ssid=${r.ssid}`,
    tcontext: host.server.contextString(r.tsid) ?? `tsid=${r.tsid}`,
    allowed: r.allowed,
    denied: r.denied,
    deniedBy,
    grantedAt,
    ...(r.line ? { line: r.line } : {}),
  };
}
