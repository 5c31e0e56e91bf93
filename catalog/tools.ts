// Introspector tool profiles: what a real VMI tool does beyond the capabilities a spec
// declares. A capability says what an operation needs from Xen; a tool decides which
// operations it makes, some of them whether the user wants them or not (LibVMI raises the
// target's memory limit inside vmi_init and gives up when it cannot) and some with calls the
// capability's own grants do not cover (DRAKVUF sets registers with xc_vcpu_setcontext).
// Every fact cites the tool's file and function at the release the profile models; the
// differential tests run the real tools (test/real-clients.test.ts) against these facts.
//
// `custom` is the profile of a tool vmipolicy knows nothing about: the declared capabilities,
// as they are.

import { capability, EVENT_CAPABILITY_NAMES, onTarget, type CapabilityContext, type CapabilityDef, type PermissionGrant } from './capabilities.js';

export type ToolName = 'custom' | 'libvmi' | 'drakvuf' | 'xen-access';
export const TOOL_NAMES: readonly ToolName[] = ['custom', 'libvmi', 'drakvuf', 'xen-access'];

/** A capability the tool cannot run without, and the call in the tool that needs it. */
export interface MandatoryCapability {
  readonly capability: string;
  readonly why: string;
}

export interface ToolProfile {
  readonly name: ToolName;
  readonly summary: string;
  /** The releases of the tool whose behaviour the profile records. */
  readonly models: string;
  /** Added to the declared capabilities (the spec need not list them). */
  readonly mandatory: readonly MandatoryCapability[];
  /** The tool works only with at least one of these declared (empty: no such rule). */
  readonly needsOneOf?: { readonly capabilities: readonly string[]; readonly why: string };
  /** Grants the tool needs when `capability` is declared, beyond the capability's own. */
  extraGrants(capability: string, ctx: CapabilityContext): PermissionGrant[];
}


/** LibVMI's vmi_init on Xen (libvmi/driver/xen/xen.c xen_init_vmi), which every LibVMI tool runs. */
const LIBVMI_INIT: readonly MandatoryCapability[] = [
  { capability: 'domain-info', why: 'xen_init_vmi (libvmi/driver/xen/xen.c) calls xc_domain_getinfolist and xc_domain_maximum_gpfn and fails without them' },
  { capability: 'libvmi-init', why: 'xen_init_vmi (libvmi/driver/xen/xen.c) fails when xc_domain_setmaxmem(~0) is refused' },
];

const PROFILES: readonly ToolProfile[] = [
  {
    name: 'custom',
    summary: 'A tool vmipolicy has no profile for: exactly the declared capabilities.',
    models: 'any',
    mandatory: [],
    extraGrants: () => [],
  },
  {
    name: 'libvmi',
    summary: 'A LibVMI application: vmi_init reads the domain info and raises the memory limit; with events, the vm_event ring comes up inside vmi_init.',
    models: 'LibVMI since the mandatory setmaxmem (2023-11) up to v0.15.0 (commit 82bbee6)',
    mandatory: LIBVMI_INIT,
    extraGrants: () => [],
  },
  {
    name: 'drakvuf',
    summary: 'DRAKVUF: a LibVMI application (its init), which also sets registers through the vCPU context and manages altp2m itself.',
    models: 'DRAKVUF at commit cb62139 (2026-03) on LibVMI v0.15.0',
    mandatory: LIBVMI_INIT,
    extraGrants: (cap, ctx) => DRAKVUF_EXTRA[cap]?.(ctx) ?? [],
  },
  {
    name: 'xen-access',
    summary: "Xen's vm_event test client (tools/misc/xen-access.c): enables the monitor ring on its target and reads its maximum GFN.",
    models: 'xen-access of Xen 4.17',
    mandatory: [],
    needsOneOf: { capabilities: EVENT_CAPABILITY_NAMES, why: 'xenaccess_init (tools/misc/xen-access.c) enables the monitor ring before anything else' },
    // Its xc_domain_maximum_gpfn (xenaccess_init) is domain-info's, which every capability requires.
    extraGrants: () => [],
  },
];

/** A read-write foreign map of target frames, as write-memory grants it, for another reason. */
function writeMap(ctx: CapabilityContext, why: string): PermissionGrant[] {
  return (capability('write-memory')?.grants(ctx) ?? []).map((g) => ({ ...g, why: `${why}: ${g.why}` }));
}

/** DRAKVUF's calls beyond the capability's own grants (read at DRAKVUF commit cb62139, 2026-03). */
const DRAKVUF_EXTRA: Readonly<Record<string, (ctx: CapabilityContext) => PermissionGrant[]>> = {
  // An HVM/PVH target's registers are set through the PV-style vCPU context, not the HVM
  // context LibVMI uses (a PV target's write-registers already grants these).
  'write-registers': (ctx) =>
    ctx.target === 'pv'
      ? []
      : [onTarget('domain', ['getvcpucontext', 'setvcpucontext'], ['C1p', 'C2p'], 'drakvuf_set_vcpu_gprs (src/libdrakvuf/drakvuf.c) → xen_get_vcpu_ctx / xen_set_vcpu_ctx (src/xen_helper/xen_helper.c) → xc_vcpu_getcontext / xc_vcpu_setcontext → XEN_DOMCTL_get/setvcpucontext → flask_domctl')],
  altp2m: (ctx) => [
    // xen_set_altp2m_params sets the param only when the mode is not external; the compiled
    // xl config creates the target with altp2m="external", so no hvm:setparam is needed.
    onTarget('hvm', ['getparam'], ['F1'], 'xen_set_altp2m_params (src/xen_helper/xen_helper.c) reads HVM_PARAM_ALTP2M: xc_hvm_param_get → HVMOP_get_param → flask_hvm_param'),
    ...writeMap(ctx, 'inject_trap_pa (src/libdrakvuf/vmi.c) copies each breakpointed page into its shadow gfn with vmi_read_pa / vmi_write_pa (LibVMI xen_put_memory → xc_map_foreign_range(PROT_WRITE))'),
  ],
};

const BY_NAME = new Map(PROFILES.map((p) => [p.name, p]));

export function toolProfile(name: ToolName): ToolProfile {
  return BY_NAME.get(name) ?? (BY_NAME.get('custom') as ToolProfile);
}

export function isToolName(name: unknown): name is ToolName {
  return typeof name === 'string' && BY_NAME.has(name as ToolName);
}

/**
 * The one place a capability's grants are computed: its own (capabilities.ts), plus what the
 * tool profile adds for it. Compiler, checker and self-test all ask here.
 */
export function capabilityGrants(cap: CapabilityDef, ctx: CapabilityContext, tool: ToolName = 'custom'): readonly PermissionGrant[] {
  // Asked once per introspector–target pair and capability (100 000 times on a large host),
  // with a handful of distinct answers: each made once per capability, release, guest kinds
  // and tool.
  let byContext = grantsMade.get(cap);
  if (!byContext) grantsMade.set(cap, (byContext = new Map()));
  const key = `${ctx.xen} ${ctx.introspector} ${ctx.target} ${tool}`;
  let grants = byContext.get(key);
  if (!grants) {
    const extra = toolProfile(tool).extraGrants(cap.name, ctx);
    byContext.set(key, (grants = extra.length === 0 ? cap.grants(ctx) : [...cap.grants(ctx), ...extra]));
  }
  return grants;
}

const grantsMade = new WeakMap<CapabilityDef, Map<string, readonly PermissionGrant[]>>();

/**
 * What the capability grants under any tool profile: its own grants once, then every
 * profile's additions — the union over profiles of `capabilityGrants`, in a quarter of the
 * calls of the capability's grant function (the checker takes this union over every
 * release, guest kind and tool at start-up). A grant may appear more than once.
 */
export function grantsUnderAnyTool(cap: CapabilityDef, ctx: CapabilityContext): PermissionGrant[] {
  return [...cap.grants(ctx), ...PROFILES.flatMap((p) => p.extraGrants(cap.name, ctx))];
}

/**
 * Whether the capability, as the tool uses it, maps target frames into the introspector
 * (and so meets Xen's foreign-map checks before FLASK): the capability's own flag, or a
 * read-write map the profile adds (DRAKVUF's shadow copies for altp2m).
 */
export function mapsTargetFrames(cap: CapabilityDef, ctx: CapabilityContext, tool: ToolName): boolean {
  return cap.mapsTargetFrames || toolProfile(tool).extraGrants(cap.name, ctx).some((g) => g.object === 'target' && g.cls === 'mmu' && g.perms.includes('map_read'));
}

/** The capabilities a profile adds to a declared list, in catalog order, with why. */
export function impliedCapabilities(tool: ToolName, declared: readonly string[]): MandatoryCapability[] {
  return toolProfile(tool).mandatory.filter((m) => !declared.includes(m.capability) && capability(m.capability) !== undefined);
}
