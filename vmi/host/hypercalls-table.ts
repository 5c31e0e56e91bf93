// Which FLASK checks each hypercall makes, as data: one entry per VMI operation, keyed by the
// operation id that capability grants carry (catalog/capabilities.ts `catalog`: A… discovery
// and init, B… guest memory, C… vCPU state, D… vm_event, E… altp2m, F… debugging, vmtrace and
// HVM params; a suffix names one call of a row that has several, e.g. C3.pause / C3.unpause). Every entry names the library call, the hypercall and the hook,
// and lists its checks in the order the hook makes them, for the caller's guest kind and
// the Xen release. The hypercall surface (hypercalls.ts) only interprets this table.

import { atLeast, DOMXEN_INFOLIST_CHECK, hasChange, type XenRelease } from '../../catalog/vocabulary.js';
import { foreignMapRefusal, type GuestKind } from '../../catalog/capabilities.js';

export interface CallContext {
  readonly xen: XenRelease;
  /** The calling domain's guest kind (a PV caller foreign-maps with mmu_update, others with add_to_physmap). */
  readonly caller: GuestKind;
  readonly target: GuestKind;
}

/**
 * One check. `domain`: domain_has_perm/current_has_perm from the caller to a domain, whose
 * label domain_target_sid picks (target: T or T_target; self: S_self; domxen: DOMID_XEN;
 * dom0: domain 0). The event-channel checks take raw SIDs as the evtchn hooks do.
 */
export type CheckSpec =
  | { readonly via: 'domain'; readonly object: 'target' | 'self' | 'domxen' | 'dom0'; readonly cls: string; readonly perms: readonly string[]; readonly onDeny?: 'skip' }
  /** flask_evtchn_unbound(T, chn, S) run inside S's vm_event enable: S→T_channel create, T_channel→S bind. */
  | { readonly via: 'evtchn-unbound' }
  /** flask_evtchn_interdomain(S, T): S→S_channel create, S_channel→T bind, T's port SID→S bind. */
  | { readonly via: 'evtchn-interdomain' }
  /** flask_evtchn_send: caller → its port's SID, event:send. */
  | { readonly via: 'evtchn-send' };

/** Why Xen refuses a call whatever the policy says, checked before or after the FLASK checks. */
export interface Refusal {
  readonly errno: 'EINVAL' | 'EPERM' | 'EOPNOTSUPP' | 'EEXIST' | 'ENODEV' | 'ESRCH' | 'EBUSY' | 'EACCES';
  readonly why: string;
}

interface OperationRow {
  readonly id: string;
  /** The library call as LibVMI/DRAKVUF make it. */
  readonly call: string;
  readonly hypercall: string;
  readonly hook: string;
  checks(ctx: CallContext): readonly CheckSpec[];
  /** Refused before any check (Xen tests this first). */
  readonly before?: (ctx: CallContext & { readonly self: boolean }) => Refusal | undefined;
  /** Refused once every check passed (Xen tests this after the XSM hooks). */
  readonly after?: (ctx: CallContext & { readonly self: boolean }) => Refusal | undefined;
}

const dom = (object: 'target' | 'self' | 'domxen' | 'dom0', cls: string, ...perms: string[]): CheckSpec => ({ via: 'domain', object, cls, perms });
const onTarget = (cls: string, ...perms: string[]) => (): readonly CheckSpec[] => [dom('target', cls, ...perms)];
const hvmOnly = (ctx: CallContext): Refusal | undefined => (ctx.target === 'pv' ? { errno: 'EINVAL', why: 'the target is not an HVM/PVH domain' } : undefined);
const notSelf = (ctx: { self: boolean }): Refusal | undefined => (ctx.self ? { errno: 'EINVAL', why: 'Xen refuses this operation on the caller itself' } : undefined);
/** rcu_lock_live_remote_domain_by_id (xen/common/domain.c): the caller itself is -EPERM, before any XSM hook. */
const remoteOnly = (ctx: { self: boolean }): Refusal | undefined => (ctx.self ? { errno: 'EPERM', why: 'the call needs a remote domain (rcu_lock_live_remote_domain_by_id)' } : undefined);
/** monitor_domctl (xen/common/monitor.c): "no domain_pause()" on the caller itself, -EPERM after do_domctl's XSM check. */
const monitorNotSelf = (ctx: { self: boolean }): Refusal | undefined => (ctx.self ? { errno: 'EPERM', why: 'a monitor op on the caller itself (monitor_domctl)' } : undefined);

/**
 * p2m_add_foreign's first test, before xsm_map_gmfn_foreign: up to Xen 4.18 only the hardware
 * domain may add foreign frames to a translated physmap (foreignMapRefusal says why). The
 * caller's own altp2m/nested-HVM state, tested at the same place from 4.19, is domain state:
 * the hypercall layer tests it.
 */
const translatedCallerMayMap = (ctx: CallContext): Refusal | undefined => {
  const why = foreignMapRefusal(ctx.xen, ctx.caller);
  return why ? { errno: 'EPERM', why } : undefined;
};

/** A foreign mapping (catalog B1/B2/B3): mmu_update for a PV caller, add_to_physmap_batch otherwise. */
function foreignMap(writable: boolean) {
  return (ctx: CallContext): readonly CheckSpec[] =>
    ctx.caller === 'pv'
      ? [dom('target', 'mmu', ...(writable ? ['map_read', 'map_write'] : ['map_read']))]
      : [dom('self', 'mmu', 'physmap'), dom('target', 'mmu', 'map_read', 'map_write')];
}

const ROWS: readonly OperationRow[] = [
  {
    id: 'A4', call: 'xc_domain_getinfolist', hypercall: 'XEN_SYSCTL_getdomaininfolist', hook: 'flask_sysctl → flask_getdomaininfo(dom_xen); then flask_getdomaininfo per domain',
    // The DOMID_XEN check is the XSA-499 fix (flask_sysctl, xen/xsm/flask/hooks.c): in 4.22.0
    // and backported to the stable-4.17 … 4.21 branches; the compiler grants it exactly where
    // hasChange(DOMXEN_INFOLIST_CHECK) holds (catalog/vocabulary.ts), and so does this host.
    checks: (ctx) => [...(hasChange(ctx.xen, DOMXEN_INFOLIST_CHECK) ? [dom('domxen', 'domain', 'getdomaininfo')] : []), { ...dom('target', 'domain', 'getdomaininfo'), onDeny: 'skip' } as CheckSpec],
  },
  { id: 'A8', call: 'xc_domctl(XEN_DOMCTL_get_address_size)', hypercall: 'XEN_DOMCTL_get_address_size', hook: 'flask_domctl', checks: onTarget('domain', 'getaddrsize') },
  { id: 'A9', call: 'xc_domain_maximum_gpfn', hypercall: 'XENMEM_maximum_gpfn', hook: 'flask_memory_stat_reservation', checks: onTarget('mmu', 'stat') },
  { id: 'A10', call: 'xc_domain_setmaxmem', hypercall: 'XEN_DOMCTL_max_mem', hook: 'flask_domctl', checks: onTarget('domain', 'setdomainmaxmem') },
  {
    id: 'B1', call: 'xenforeignmemory_map(PROT_READ)', hypercall: 'mmu_update (PV) / XENMEM_add_to_physmap_batch (HVM/PVH)', hook: 'flask_mmu_update / flask_add_to_physmap + flask_map_gmfn_foreign',
    // B1 is the PV caller's row; an auto-translated caller gets B2's checks for the same call.
    checks: foreignMap(false),
    before: translatedCallerMayMap,
  },
  { id: 'B2', call: 'xenforeignmemory_map (HVM/PVH caller)', hypercall: 'XENMEM_add_to_physmap_batch(gmfn_foreign)', hook: 'flask_add_to_physmap; flask_map_gmfn_foreign', checks: () => [dom('self', 'mmu', 'physmap'), dom('target', 'mmu', 'map_read', 'map_write')], before: translatedCallerMayMap },
  { id: 'B2u', call: 'xenforeignmemory_unmap', hypercall: 'XENMEM_remove_from_physmap (HVM/PVH caller); PTE clear (PV, no check)', hook: 'flask_remove_from_physmap', checks: (ctx) => (ctx.caller === 'pv' ? [] : [dom('self', 'mmu', 'physmap')]) },
  { id: 'B3', call: 'xenforeignmemory_map(PROT_READ|PROT_WRITE)', hypercall: 'mmu_update (PV) / XENMEM_add_to_physmap_batch (HVM/PVH)', hook: 'flask_mmu_update / flask_add_to_physmap + flask_map_gmfn_foreign', checks: foreignMap(true), before: translatedCallerMayMap },
  { id: 'B6', call: 'xc_domain_populate_physmap_exact / xc_domain_decrease_reservation_exact', hypercall: 'XENMEM_populate_physmap / XENMEM_decrease_reservation', hook: 'flask_memory_adjust_reservation', checks: onTarget('mmu', 'adjust') },
  { id: 'C1', call: 'xc_domain_hvm_getcontext(_partial)', hypercall: 'XEN_DOMCTL_gethvmcontext(_partial)', hook: 'flask_domctl', checks: onTarget('hvm', 'gethvmc') },
  { id: 'C1p', call: 'xc_vcpu_getcontext', hypercall: 'XEN_DOMCTL_getvcpucontext', hook: 'flask_domctl', checks: onTarget('domain', 'getvcpucontext') },
  { id: 'C2', call: 'xc_domain_hvm_setcontext', hypercall: 'XEN_DOMCTL_sethvmcontext', hook: 'flask_domctl', checks: onTarget('hvm', 'sethvmc') },
  { id: 'C2p', call: 'xc_vcpu_setcontext', hypercall: 'XEN_DOMCTL_setvcpucontext', hook: 'flask_domctl', checks: onTarget('domain', 'setvcpucontext') },
  { id: 'C3.pause', call: 'xc_domain_pause', hypercall: 'XEN_DOMCTL_pausedomain', hook: 'flask_domctl', checks: onTarget('domain', 'pause'), after: notSelf },
  { id: 'C3.unpause', call: 'xc_domain_unpause', hypercall: 'XEN_DOMCTL_unpausedomain', hook: 'flask_domctl', checks: onTarget('domain', 'unpause') },
  { id: 'C4', call: 'xc_domain_get_tsc_info', hypercall: 'XEN_DOMCTL_gettscinfo', hook: 'flask_domctl', checks: onTarget('domain2', 'gettsc') },
  {
    id: 'C5', call: 'xc_hvm_inject_trap', hypercall: 'XEN_DMOP_inject_event (≥ 4.9) / HVMOP_inject_trap (≤ 4.8)', hook: 'flask_dm_op / flask_hvm_param',
    checks: (ctx) => [dom('target', 'hvm', atLeast(ctx.xen, '4.9') ? 'dm' : 'hvmctl')],
    before: (ctx) => hvmOnly(ctx) ?? (ctx.self ? { errno: 'EINVAL', why: 'dm_op injection needs a remote domain' } : undefined),
  },
  { id: 'D1b', call: 'xc_hvm_param_get(HVM_PARAM_MONITOR_RING_PFN)', hypercall: 'HVMOP_get_param', hook: 'flask_hvm_param', checks: onTarget('hvm', 'getparam'), before: hvmOnly },
  { id: 'D1c', call: 'xc_get_pfn_type_batch', hypercall: 'XEN_DOMCTL_getpageframeinfo3', hook: 'flask_domctl', checks: onTarget('mmu', 'pageinfo') },
  {
    id: 'D1f', call: 'xc_vm_event_control(ENABLE, MONITOR)', hypercall: 'XEN_DOMCTL_vm_event_op', hook: 'flask_domctl (flask_vm_event_control in 4.10–4.21); then flask_evtchn_unbound for the target-side port',
    checks: () => [dom('target', 'domain2', 'vm_event'), { via: 'evtchn-unbound' }],
    before: (ctx) => hvmOnly(ctx) ?? notSelf(ctx),
  },
  { id: 'D2', call: 'xc_evtchn_bind_interdomain', hypercall: 'EVTCHNOP_bind_interdomain', hook: 'flask_evtchn_interdomain', checks: () => [{ via: 'evtchn-interdomain' }] },
  { id: 'D3', call: 'xc_monitor_get_capabilities', hypercall: 'XEN_DOMCTL_monitor_op GET_CAPABILITIES', hook: 'flask_domctl', checks: onTarget('domain2', 'vm_event') },
  { id: 'D4', call: 'xc_evtchn_notify', hypercall: 'EVTCHNOP_send', hook: 'flask_evtchn_send', checks: () => [{ via: 'evtchn-send' }] },
  { id: 'D5', call: 'xc_set_mem_access', hypercall: 'XENMEM_access_op', hook: 'flask_mem_access', checks: onTarget('domain2', 'mem_access'), before: remoteOnly },
  { id: 'D5a', call: 'xc_altp2m_set_mem_access', hypercall: 'HVMOP_altp2m set_mem_access', hook: 'flask_hvm_altp2mhvm_op', checks: onTarget('hvm', 'altp2mhvm_op') },
  { id: 'D5b', call: 'xc_domain_set_access_required', hypercall: 'XEN_DOMCTL_set_access_required', hook: 'flask_domctl', checks: onTarget('domain2', 'vm_event') },
  { id: 'D6', call: 'xc_monitor_write_ctrlreg / xc_monitor_mov_to_msr', hypercall: 'XEN_DOMCTL_monitor_op', hook: 'flask_domctl', checks: onTarget('domain2', 'vm_event'), after: monitorNotSelf },
  { id: 'D7', call: 'xc_monitor_software_breakpoint', hypercall: 'XEN_DOMCTL_monitor_op', hook: 'flask_domctl', checks: onTarget('domain2', 'vm_event'), after: monitorNotSelf },
  { id: 'D8', call: 'xc_monitor_singlestep', hypercall: 'XEN_DOMCTL_monitor_op', hook: 'flask_domctl', checks: onTarget('domain2', 'vm_event'), after: monitorNotSelf },
  { id: 'D9', call: 'xc_monitor_debug_exceptions / _cpuid / _guest_request / …', hypercall: 'XEN_DOMCTL_monitor_op', hook: 'flask_domctl', checks: onTarget('domain2', 'vm_event'), after: monitorNotSelf },
  {
    id: 'E1', call: 'xc_altp2m_* (get/set state, create/destroy/switch view, change_gfn)', hypercall: 'HVMOP_altp2m', hook: 'flask_hvm_altp2mhvm_op',
    checks: onTarget('hvm', 'altp2mhvm_op'),
  },
  {
    id: 'E2', call: 'xc_hvm_param_set(HVM_PARAM_ALTP2M)', hypercall: 'HVMOP_set_param', hook: 'flask_hvm_param (+ flask_hvm_param_altp2mhvm before 4.19)',
    // Since 4.19 hvm_allow_set_param checks setparam, then refuses the read-only param (-EEXIST).
    checks: (ctx) => [dom('target', 'hvm', 'setparam'), ...(atLeast(ctx.xen, '4.19') ? [] : [dom('target', 'hvm', 'altp2mhvm')])],
    before: hvmOnly,
  },
  { id: 'F1', call: 'xc_hvm_param_get', hypercall: 'HVMOP_get_param', hook: 'flask_hvm_param', checks: onTarget('hvm', 'getparam'), before: hvmOnly },
  { id: 'F2', call: 'xc_hvm_param_set', hypercall: 'HVMOP_set_param', hook: 'flask_hvm_param', checks: onTarget('hvm', 'setparam'), before: hvmOnly },
  { id: 'F3', call: 'xc_domain_debug_control / xc_domain_setdebugging', hypercall: 'XEN_DOMCTL_debug_op / setdebugging', hook: 'flask_domctl', checks: onTarget('domain', 'setdebugging') },
  {
    id: 'F4', call: 'xenforeignmemory_map_resource', hypercall: 'XENMEM_acquire_resource', hook: 'flask_domain_resource_map (+ flask_mmu_update for a PV caller\'s remap)',
    checks: (ctx) => [dom('target', 'domain2', 'resource_map'), ...(ctx.caller === 'pv' ? [dom('target', 'mmu', 'map_read', 'map_write')] : [])],
    before: (ctx) => (atLeast(ctx.xen, '4.11') ? undefined : { errno: 'EOPNOTSUPP', why: 'XENMEM_acquire_resource exists from Xen 4.11' }),
  },
  {
    id: 'F4.vmtrace', call: 'xenforeignmemory_map_resource(XENMEM_resource_vmtrace_buf, PROT_READ)', hypercall: 'XENMEM_acquire_resource (then mmu_update to remap, for a PV caller)', hook: 'flask_domain_resource_map (+ flask_mmu_update for a PV caller)',
    // The frames belong to the target (vmtrace_alloc_buffer); a PV caller's kernel remaps them read-only.
    checks: (ctx) => [dom('target', 'domain2', 'resource_map'), ...(ctx.caller === 'pv' ? [dom('target', 'mmu', 'map_read')] : [])],
    // acquire_resource tests the caller first (arch_acquire_resource_check): -EACCES, no AVC line.
    before: (ctx) => {
      if (!atLeast(ctx.xen, '4.15')) return { errno: 'EOPNOTSUPP', why: 'XENMEM_resource_vmtrace_buf exists from Xen 4.15' };
      const why = foreignMapRefusal(ctx.xen, ctx.caller);
      return why ? { errno: 'EACCES', why } : undefined;
    },
  },
  {
    id: 'F3.vmtrace', call: 'xc_vmtrace_reset_and_enable / _set_option / _output_position / _disable', hypercall: 'XEN_DOMCTL_vmtrace_op', hook: 'flask_domctl (domain:setdebugging)',
    checks: onTarget('domain', 'setdebugging'),
    before: (ctx) => (atLeast(ctx.xen, '4.15') ? undefined : { errno: 'EOPNOTSUPP', why: 'XEN_DOMCTL_vmtrace_op exists from Xen 4.15' }),
    // do_vmtrace_op (xen/arch/x86/domctl.c): "No vcpu_pause()" of the caller itself, after the XSM check.
    after: (ctx) => (ctx.self ? { errno: 'EINVAL', why: 'do_vmtrace_op refuses the caller itself' } : undefined),
  },
];

/** The operation table, keyed by catalog row id. */
export const OPERATIONS: ReadonlyMap<string, OperationRow> = new Map(ROWS.map((r) => [r.id, r]));

export function operation(id: string): OperationRow {
  const row = OPERATIONS.get(id);
  if (!row) throw new Error(`no operation ${id} in the hypercall table`);
  return row;
}

/**
 * The vm_event ring set-up xc_monitor_enable performs (catalog D1a–h): each step names the
 * row whose checks it makes. D1d runs only when the ring frame is missing from the guest.
 */
export const MONITOR_ENABLE_STEPS: readonly { readonly step: string; readonly row: string; readonly ifRingMissing?: boolean }[] = [
  { step: 'D1a', row: 'C3.pause' },
  { step: 'D1b', row: 'D1b' },
  { step: 'D1c', row: 'D1c' },
  { step: 'D1d', row: 'B6', ifRingMissing: true },
  { step: 'D1e', row: 'B3' },
  { step: 'D1f', row: 'D1f' },
  { step: 'D1g', row: 'B6' },
  { step: 'D1h', row: 'C3.unpause' },
];
