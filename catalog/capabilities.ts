// The closed vocabulary of introspection capabilities, and what each one means in FLASK
// terms for a given Xen release and pair of guest kinds. Each grant says (`why`) which library
// call and hypercall trigger the check and which FLASK hook makes it — the hooks are functions
// of Xen's xen/xsm/flask/hooks.c — and names (`catalog`) the ids of the VMI operations behind
// it: A… discovery and init, B… guest memory, C… vCPU state, D… vm_event, E… altp2m, F…
// debugging, vmtrace and HVM params (the simulated host's vmi/host/hypercalls-table.ts is
// keyed by the same ids). Nothing is granted "just in case": a permission with no operation
// behind it does not belong.

import { atLeast, DOMXEN_INFOLIST_CHECK, hasChange, type XenRelease } from './vocabulary.js';

export type GuestKind = 'pv' | 'pvh' | 'hvm';
export const GUEST_KINDS: readonly GuestKind[] = ['pv', 'pvh', 'hvm'];

/**
 * Whose label the check is made against: Xen's domain_target_sid (xen/xsm/flask/hooks.c) uses
 * the caller's self_sid when a domain acts on itself, its target_sid when it is the target's
 * device model (XEN_DOMCTL_set_target, which no capability grants), else the target's own SID.
 */
export type ObjectRole =
  | 'target' //     T: the target's own label
  | 'self' //       S_self: the introspector acting on itself
  | 'domxen'; //    domxen_t: DOMID_XEN, for XEN_SYSCTL_getdomaininfolist

export interface PermissionGrant {
  readonly object: ObjectRole;
  readonly cls: string;
  readonly perms: readonly string[];
  /** Catalog rows behind this grant. */
  readonly catalog: readonly string[];
  /** The hypercall and hook that make the check, in one line. */
  readonly why: string;
}

export interface CapabilityContext {
  readonly xen: XenRelease;
  readonly introspector: GuestKind;
  readonly target: GuestKind;
}

export interface XlSetting {
  readonly key: string;
  /** Already in xl syntax (quoted where xl wants a string). */
  readonly value: string;
  readonly why: string;
}

export interface CapabilityDef {
  readonly name: string;
  readonly summary: string;
  /** Capabilities this one cannot work without (LibVMI fails at init otherwise). */
  readonly requires: readonly string[];
  /** Guest kinds of the target this capability works on. */
  readonly targetKinds: readonly GuestKind[];
  readonly targetKindReason?: string;
  /** The first Xen release with the hypercalls behind it (absent: every supported release). */
  readonly since?: { readonly xen: XenRelease; readonly why: string };
  /** Needs the four vm_event channel rules (compiler/lower.ts eventChannelGrants). */
  readonly eventChannel: boolean;
  /**
   * Maps target frames into the introspector: its memory, or the vm_event ring page that every
   * event capability maps read-write. Such a map is subject to Xen's checks before FLASK
   * (foreignMapRefusal).
   */
  readonly mapsTargetFrames: boolean;
  /** Set when the capability amounts to control of the target (its control edges: checker/permissions.ts). */
  readonly control?: string;
  grants(ctx: CapabilityContext): PermissionGrant[];
  /** xl settings the target's config needs for this capability. */
  targetXl?(ctx: CapabilityContext): XlSetting[];
}

const autoTranslated = (kind: GuestKind): boolean => kind !== 'pv';
const hvmLike = (kind: GuestKind): boolean => kind !== 'pv';

/** A grant on the target's own label (tool profiles build theirs with it too). */
export const onTarget = (cls: string, perms: string[], catalog: string[], why: string): PermissionGrant => ({ object: 'target', cls, perms, catalog, why });
const t = onTarget;
const self = (cls: string, perms: string[], catalog: string[], why: string): PermissionGrant => ({ object: 'self', cls, perms, catalog, why });

/**
 * A foreign mapping of target memory. A PV introspector edits its own page tables with
 * mmu_update (map_read, plus map_write for a writable PTE); an auto-translated (HVM/PVH)
 * one adds the frame to its own physmap, which checks physmap on itself and always both
 * map_read and map_write on the target (flask_map_gmfn_foreign).
 */
function foreignMap(ctx: CapabilityContext, writable: boolean, rows: string[]): PermissionGrant[] {
  if (autoTranslated(ctx.introspector)) {
    return [
      t('mmu', ['map_read', 'map_write'], [...rows, 'B2'], 'XENMEM_add_to_physmap_batch(gmfn_foreign) → flask_map_gmfn_foreign checks map_read and map_write on the target, even for a read-only mapping'),
      self('mmu', ['physmap'], ['B2', 'B2u'], 'XENMEM_add_to_physmap_batch / remove_from_physmap on DOMID_SELF → flask_add_to_physmap / flask_remove_from_physmap on the introspector itself'),
    ];
  }
  return [
    t('mmu', writable ? ['map_read', 'map_write'] : ['map_read'], [...rows, 'B1'], writable
      ? 'mmu_update with a writable PTE naming the target as foreigndom → flask_mmu_update checks map_read and map_write'
      : 'mmu_update with a read-only PTE naming the target as foreigndom → flask_mmu_update checks map_read'),
  ];
}

/** Setting up the vm_event monitor ring and its event channel (catalog D1a–h, D2–D4, D3, D5b). */
function monitorRing(ctx: CapabilityContext): PermissionGrant[] {
  return [
    t('domain', ['pause', 'unpause'], ['D1a', 'D1h'], 'xc_vm_event_enable pauses the target around ring set-up (XEN_DOMCTL_pausedomain/unpausedomain → flask_domctl)'),
    t('hvm', ['getparam'], ['D1b'], 'reads HVM_PARAM_MONITOR_RING_PFN (HVMOP_get_param → flask_hvm_param)'),
    t('mmu', ['pageinfo'], ['D1c'], 'checks the ring page type (XEN_DOMCTL_getpageframeinfo3 → flask_domctl)'),
    t('mmu', ['adjust'], ['D1d', 'D1g'], 'populates the ring GFN, then removes it from the guest physmap (XENMEM_populate_physmap / decrease_reservation → flask_memory_adjust_reservation)'),
    ...foreignMap(ctx, true, ['D1e']).map((g) => ({ ...g, why: 'maps the ring page read-write: ' + g.why })),
    t('domain2', ['vm_event'], ['D1f', 'D3', 'D5b'], 'enables the monitor ring, queries its capabilities, sets access-required (XEN_DOMCTL_vm_event_op / monitor_op / set_access_required → flask_domctl)'),
  ];
}

function injection(ctx: CapabilityContext, rows: string[]): PermissionGrant {
  return atLeast(ctx.xen, '4.9')
    ? t('hvm', ['dm'], rows, 'xc_hvm_inject_trap → XEN_DMOP_inject_event (dm_op → flask_dm_op)')
    : t('hvm', ['hvmctl'], rows, 'xc_hvm_inject_trap → HVMOP_inject_trap (xsm_hvm_control → flask_hvm_param default: hvmctl, Xen ≤ 4.8)');
}

const EVENT_TARGETS: readonly GuestKind[] = ['pvh', 'hvm'];
const EVENT_TARGET_REASON = 'vm_event monitoring needs an HVM or PVH target (LibVMI enables events only for HVM-type domains on x86)';

export const CAPABILITIES: readonly CapabilityDef[] = [
  {
    name: 'domain-info',
    summary: 'Find the target and read its domain info (vCPU count, HVM or PV, state), address size and memory size.',
    requires: [],
    targetKinds: GUEST_KINDS,
    eventChannel: false,
    mapsTargetFrames: false,
    grants: (ctx) => [
      t('domain', ['getdomaininfo'], ['A4', 'A7', 'A11'], 'xc_domain_getinfolist → XEN_SYSCTL_getdomaininfolist → flask_getdomaininfo on each domain listed'),
      ...(hasChange(ctx.xen, DOMXEN_INFOLIST_CHECK)
        ? [{ object: 'domxen', cls: 'domain', perms: ['getdomaininfo'], catalog: ['A4'], why: 'XEN_SYSCTL_getdomaininfolist first checks getdomaininfo on DOMID_XEN (XSA-499 fix: in 4.22.0, backported in 4.17.7, 4.18.6, 4.19.6, 4.20.4, 4.21.2)' } satisfies PermissionGrant]
        : []),
      ...(ctx.target === 'pv' ? [t('domain', ['getaddrsize'], ['A8'], 'PV target address width: XEN_DOMCTL_get_address_size → flask_domctl')] : []),
      t('mmu', ['stat'], ['A9'], 'maximum GFN / memory size: XENMEM_maximum_gpfn → flask_memory_stat_reservation'),
    ],
  },
  {
    name: 'libvmi-init',
    summary: "LibVMI's mandatory init step (since 2023-11): raise the target's memory limit to ~0, restore it at teardown.",
    requires: ['domain-info'],
    targetKinds: GUEST_KINDS,
    eventChannel: false,
    mapsTargetFrames: false,
    control: 'domain:setdomainmaxmem lets the introspector unlimit the target\'s memory (host memory exhaustion)',
    grants: () => [
      t('domain', ['setdomainmaxmem'], ['A10', 'A12'], 'xen_init_vmi / xen_destroy → xc_domain_setmaxmem → XEN_DOMCTL_max_mem → flask_domctl; init fails without it'),
    ],
  },
  {
    name: 'read-memory',
    summary: "Read the target's physical memory (and so, with read-registers, walk its page tables).",
    requires: ['domain-info'],
    targetKinds: GUEST_KINDS,
    eventChannel: false,
    mapsTargetFrames: true,
    grants: (ctx) => foreignMap(ctx, false, ['B4', 'B5']),
  },
  {
    name: 'write-memory',
    summary: "Write the target's physical memory.",
    requires: ['domain-info'],
    targetKinds: GUEST_KINDS,
    eventChannel: false,
    mapsTargetFrames: true,
    control: 'mmu:map_write on the target gives full control of it',
    grants: (ctx) => foreignMap(ctx, true, ['B3']),
  },
  {
    name: 'read-registers',
    summary: "Read the target's vCPU registers (CR3 for page walks, RIP, MSRs…).",
    requires: ['domain-info'],
    targetKinds: GUEST_KINDS,
    eventChannel: false,
    mapsTargetFrames: false,
    grants: (ctx) =>
      hvmLike(ctx.target)
        ? [t('hvm', ['gethvmc'], ['C1'], 'xc_domain_hvm_getcontext(_partial) → XEN_DOMCTL_gethvmcontext(_partial) → flask_domctl')]
        : [t('domain', ['getvcpucontext'], ['C1p'], 'xc_vcpu_getcontext → XEN_DOMCTL_getvcpucontext → flask_domctl')],
  },
  {
    name: 'write-registers',
    summary: "Change the target's vCPU registers.",
    requires: ['domain-info'],
    targetKinds: GUEST_KINDS,
    eventChannel: false,
    mapsTargetFrames: false,
    control: 'arbitrary CPU state of the target means code execution in it',
    grants: (ctx) =>
      hvmLike(ctx.target)
        ? [
            t('domain', ['pause', 'unpause'], ['C2'], 'xen_set_vcpureg_hvm pauses the target around the update (XEN_DOMCTL_pausedomain/unpausedomain)'),
            t('hvm', ['gethvmc', 'sethvmc'], ['C2'], 'read-modify-write of the HVM context: XEN_DOMCTL_gethvmcontext / sethvmcontext → flask_domctl'),
          ]
        : [t('domain', ['getvcpucontext', 'setvcpucontext'], ['C2p'], 'xc_vcpu_getcontext then xc_vcpu_setcontext → XEN_DOMCTL_get/setvcpucontext → flask_domctl')],
  },
  {
    name: 'pause',
    summary: 'Pause and resume the target.',
    requires: ['domain-info'],
    targetKinds: GUEST_KINDS,
    eventChannel: false,
    mapsTargetFrames: false,
    grants: () => [t('domain', ['pause', 'unpause'], ['C3'], 'xc_domain_pause / xc_domain_unpause → XEN_DOMCTL_pausedomain / unpausedomain → flask_domctl')],
  },
  {
    name: 'tsc-info',
    summary: "Read the target's TSC mode and frequency.",
    requires: ['domain-info'],
    targetKinds: GUEST_KINDS,
    eventChannel: false,
    mapsTargetFrames: false,
    grants: () => [t('domain2', ['gettsc'], ['C4'], 'xc_domain_get_tsc_info → XEN_DOMCTL_gettscinfo → flask_domctl')],
  },
  {
    name: 'memory-events',
    summary: 'Receive mem_access (EPT) events: set page access rights and get an event when the guest violates them.',
    requires: ['domain-info'],
    targetKinds: EVENT_TARGETS,
    targetKindReason: EVENT_TARGET_REASON,
    eventChannel: true,
    mapsTargetFrames: true,
    control: 'vm_event responses can set the target\'s registers and switch its views with no further check (vm_event_resume)',
    grants: (ctx) => [
      ...monitorRing(ctx),
      t('domain2', ['mem_access'], ['D5'], 'xc_set_mem_access(_multi) → XENMEM_access_op → flask_mem_access'),
    ],
  },
  {
    name: 'register-events',
    summary: 'Receive events on control-register (CR0/CR3/CR4/XCR0) and MSR writes.',
    requires: ['domain-info'],
    targetKinds: EVENT_TARGETS,
    targetKindReason: EVENT_TARGET_REASON,
    eventChannel: true,
    mapsTargetFrames: true,
    control: 'vm_event responses can set the target\'s registers with no further check (vm_event_resume)',
    grants: (ctx) => [
      ...monitorRing(ctx),
      t('domain2', ['vm_event'], ['D6'], 'xc_monitor_write_ctrlreg / xc_monitor_mov_to_msr → XEN_DOMCTL_monitor_op → flask_domctl'),
    ],
  },
  {
    name: 'breakpoint-events',
    summary: 'Receive INT3 (software breakpoint) events and re-inject breakpoints the guest owns.',
    requires: ['domain-info'],
    targetKinds: EVENT_TARGETS,
    targetKindReason: EVENT_TARGET_REASON,
    eventChannel: true,
    mapsTargetFrames: true,
    control: 'event injection and vm_event responses change the target\'s execution',
    grants: (ctx) => [
      ...monitorRing(ctx),
      t('domain2', ['vm_event'], ['D7'], 'xc_monitor_software_breakpoint → XEN_DOMCTL_monitor_op → flask_domctl'),
      injection(ctx, ['D7r']),
    ],
  },
  {
    // LibVMI re-injects an INT3 only when the event callback sets interrupt_event.reinject
    // (process_software_breakpoint, libvmi/driver/xen/xen_events.c); a tool that handles only
    // breakpoints it planted never does, and needs no injection right.
    name: 'own-breakpoint-events',
    summary: 'Receive INT3 (software breakpoint) events for breakpoints the introspector planted itself; never re-inject one into the guest (no hvm:dm).',
    requires: ['domain-info'],
    targetKinds: EVENT_TARGETS,
    targetKindReason: EVENT_TARGET_REASON,
    eventChannel: true,
    mapsTargetFrames: true,
    control: 'vm_event responses change the target\'s execution',
    grants: (ctx) => [
      ...monitorRing(ctx),
      t('domain2', ['vm_event'], ['D7'], 'xc_monitor_software_breakpoint → XEN_DOMCTL_monitor_op → flask_domctl'),
    ],
  },
  {
    name: 'singlestep',
    summary: 'Single-step the target\'s vCPUs and receive an event per instruction.',
    requires: ['domain-info'],
    targetKinds: EVENT_TARGETS,
    targetKindReason: EVENT_TARGET_REASON,
    eventChannel: true,
    mapsTargetFrames: true,
    control: 'domain:setdebugging also gates XEN_DOMCTL_gdbsx_guestmemio, which reads and writes target memory with no mmu check (≈ map_write)',
    grants: (ctx) => [
      ...monitorRing(ctx),
      t('domain2', ['vm_event'], ['D8'], 'xc_monitor_singlestep → XEN_DOMCTL_monitor_op → flask_domctl'),
      t('domain', ['setdebugging'], ['D8', 'F3'], 'xc_domain_debug_control(SINGLE_STEP_ON/OFF) → XEN_DOMCTL_debug_op → flask_domctl'),
    ],
  },
  {
    name: 'altp2m',
    summary: 'Create, switch and destroy alternate p2m views of the target, remap GFNs in them (DRAKVUF-style stealth breakpoints).',
    requires: ['domain-info'],
    // do_altp2m_op (xen/arch/x86/hvm/hvm.c) tests is_hvm_domain, true for PVH; libxl sets
    // HVM_PARAM_ALTP2M for PVH guests too (libxl_dom.c in 4.10–4.13; libxl_x86.c hvm_set_conf_params in 4.17).
    targetKinds: ['hvm', 'pvh'],
    targetKindReason: 'altp2m exists only for HVM and PVH guests (do_altp2m_op: is_hvm_domain)',
    eventChannel: false,
    mapsTargetFrames: false,
    control: 'altp2m change_gfn remaps the target\'s frames (code/data aliasing)',
    grants: () => [
      t('hvm', ['altp2mhvm_op'], ['E1', 'D5a'], 'HVMOP_altp2m subops (state, create/destroy/switch view, change_gfn, set_mem_access in a view) → flask_hvm_altp2mhvm_op'),
      t('mmu', ['adjust'], ['B6'], 'xen_alloc_gfn / xen_free_gfn for remapped frames: XENMEM_populate_physmap / decrease_reservation → flask_memory_adjust_reservation'),
    ],
    targetXl: (ctx) =>
      atLeast(ctx.xen, '4.9')
        ? [{ key: 'altp2m', value: '"external"', why: 'altp2m for external tools only: the guest itself cannot drive its views (flask_hvm_altp2mhvm_op refuses the altp2m operations a domain makes on itself in external mode); fixed at creation since 4.19' }]
        : [{ key: 'altp2mhvm', value: '1', why: 'Xen 4.8 has only the boolean altp2mhvm (mixed mode)' }],
  },
  {
    name: 'inject-events',
    summary: 'Inject interrupts, exceptions and page faults into the target (vmi_request_page_fault).',
    requires: ['domain-info'],
    targetKinds: EVENT_TARGETS,
    targetKindReason: 'event injection (XEN_DMOP_inject_event) needs a remote HVM-type domain',
    eventChannel: false,
    mapsTargetFrames: false,
    control: 'hvm:dm covers every device-model operation on the target, not only injection',
    grants: (ctx) => [injection(ctx, ['C5'])],
  },
  {
    name: 'vmtrace',
    summary: "Trace the target's vCPUs with Intel Processor Trace: map each vCPU's trace buffer, switch tracing on and off (DRAKVUF's ipt plugin).",
    requires: ['domain-info'],
    // arch_sanitise_domain_config (xen/arch/x86/domain.c): "vmtrace not supported for PV".
    targetKinds: EVENT_TARGETS,
    targetKindReason: 'vmtrace buffers exist only for HVM-type domains (arch_sanitise_domain_config refuses vmtrace_size for PV)',
    since: { xen: '4.15', why: 'XEN_DOMCTL_vmtrace_op and XENMEM_resource_vmtrace_buf first appear in Xen 4.15' },
    eventChannel: false,
    // acquire_resource tests the caller first (arch_acquire_resource_check): the same rule as a foreign map.
    mapsTargetFrames: true,
    control: 'domain:setdebugging also covers XEN_DOMCTL_debug_op and gdbsx: single-stepping and debugging the target',
    grants: (ctx) => [
      t('domain2', ['resource_map'], ['F4'], 'xenforeignmemory_resource_size / xenforeignmemory_map_resource(XENMEM_resource_vmtrace_buf) → XENMEM_acquire_resource → flask_domain_resource_map'),
      ...(ctx.introspector === 'pv'
        ? [t('mmu', ['map_read'], ['F4'], 'a PV caller maps the trace buffer\'s frames (owned by the target) read-only with mmu_update → flask_mmu_update checks map_read')]
        : [self('mmu', ['physmap'], ['F4', 'B2u'], 'an HVM/PVH caller gets the frames in its own p2m; unmapping them is XENMEM_remove_from_physmap → flask_remove_from_physmap on the introspector itself')]),
      t('domain', ['setdebugging'], ['F3'], 'xc_vmtrace_reset_and_enable / set_option / output_position / disable → XEN_DOMCTL_vmtrace_op → flask_domctl, checked as domain:setdebugging'),
    ],
    targetXl: () => [{ key: 'vmtrace_buf_kb', value: '64', why: 'each vCPU\'s trace buffer in KiB (a power of two, 4 to 16384 for Intel PT; raise it for longer traces); 0, the default, leaves vmtrace off and XEN_DOMCTL_vmtrace_op fails with EINVAL' }],
  },
];

const byName = new Map(CAPABILITIES.map((c) => [c.name, c]));

export function capability(name: string): CapabilityDef | undefined {
  return byName.get(name);
}

export const CAPABILITY_NAMES: readonly string[] = CAPABILITIES.map((c) => c.name);

/** The capabilities that need the vm_event ring and channel (LibVMI's VMI_INIT_EVENTS). */
export const EVENT_CAPABILITY_NAMES: readonly string[] = CAPABILITIES.filter((c) => c.eventChannel).map((c) => c.name);

/** Why `cap` cannot be used on this target, or undefined when it can. */
export function unsupportedReason(cap: CapabilityDef, ctx: CapabilityContext): string | undefined {
  if (cap.since && !atLeast(ctx.xen, cap.since.xen)) return cap.since.why;
  return cap.targetKinds.includes(ctx.target) ? undefined : cap.targetKindReason ?? 'not supported for this guest kind';
}

/**
 * Whether the capability grants mmu:map_write on the target. FLASK checks map_write per
 * target domain, not per page (flask_mmu_update / flask_map_gmfn_foreign take the owner's SID),
 * so a grant needed to map one frame writable — the vm_event ring page, which
 * xc_vm_event_enable maps PROT_READ|PROT_WRITE — lets the introspector write every page.
 */
export function grantsTargetWrite(cap: CapabilityDef, ctx: CapabilityContext, grants: readonly PermissionGrant[] = cap.grants(ctx)): boolean {
  return grants.some((g) => g.object === 'target' && g.cls === 'mmu' && g.perms.includes('map_write'));
}

/**
 * Why Xen refuses, before any FLASK check, a foreign map made by an introspector of this kind,
 * or undefined when it does not. p2m_add_foreign (xen/arch/x86/mm/p2m.c), which every map by an
 * auto-translated (HVM or PVH) caller goes through, first tests the caller: up to 4.14 it must be
 * the hardware domain (`is_hardware_domain(tdom)`); 4.15–4.18 test arch_acquire_resource_check,
 * which still demands the hardware domain for a translated caller; only 4.19 relaxes it
 * (xen/arch/x86/mm/p2m-basic.c) to "altp2m disabled and nested HVM off", which the introspector's
 * own xl settings guarantee. A PV caller maps through mmu_update and never meets the test. A
 * VMI domain is never the hardware domain (dom0 is not introspector material here).
 */
export function foreignMapRefusal(xen: XenRelease, introspector: GuestKind): string | undefined {
  if (!autoTranslated(introspector) || atLeast(xen, '4.19')) return undefined;
  return `Xen ${xen} lets only the hardware domain make foreign maps from an HVM or PVH domain (p2m_add_foreign: ${atLeast(xen, '4.15') ? 'arch_acquire_resource_check' : 'is_hardware_domain'}); 4.19 is the first release that allows it`;
}

/**
 * The first release that runs a guest kind: PVH domUs (xl type = "pvh") arrived in 4.10;
 * 4.8's experimental PVHv1 (pvh = 1) is a different, removed mode.
 */
export const GUEST_KIND_SINCE: Readonly<Record<GuestKind, string>> = { pv: '4.8', pvh: '4.10', hvm: '4.8' };
