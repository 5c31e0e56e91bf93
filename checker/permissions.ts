// What each permission means to the proofs. The control edges are the permissions whose
// holder comes to act with the object's rights (CONTROL and RELABEL_PERMS below, each with
// the Xen check that makes it so); the introspection set is everything a capability
// (catalog/capabilities.ts, with the tool profiles of catalog/tools.ts) grants on a target,
// in any release and guest kind, so that "undeclared-target" covers exactly the rights that
// let a domain look into another.

import { CAPABILITIES, GUEST_KINDS } from '../catalog/capabilities.js';
import { grantsUnderAnyTool } from '../catalog/tools.js';
import { XEN_RELEASES } from '../catalog/vocabulary.js';

type PermTable = Readonly<Record<string, readonly string[]>>;

/**
 * Holding one of these on a domain gives the holder that domain's rights (hooks in Xen's
 * xen/xsm/flask/hooks.c unless another file is named):
 * - domain:setvcpucontext, hvm:sethvmc: arbitrary vCPU state, so code execution (flask_domctl);
 * - domain:setdebugging: also gates XEN_DOMCTL_gdbsx_guestmemio, which reads and writes the
 *   domain's memory with no mmu check (flask_domctl; xen/arch/x86/gdbsx.c dbg_rw_guest_mem);
 * - domain2:vm_event, domain2:mem_access: vm_event responses set registers, switch altp2m
 *   views and toggle singlestep with no further check (flask_domctl, flask_mem_access;
 *   xen/common/vm_event.c vm_event_resume);
 * - domain2:resource_map: maps its grant-table, ioreq-server or vmtrace frames
 *   (flask_domain_resource_map); domain2:mem_sharing, domain2:mem_paging, hvm:mem_sharing,
 *   hvm:share_mem: share, fork or evict its pages (flask_mem_sharing, flask_mem_sharing_op,
 *   flask_mem_paging);
 * - mmu:map_write: a writable map of its memory (flask_mmu_update, flask_map_gmfn_foreign);
 *   mmu:target_hack: a pg_owner passes its mapping rights on to another owner's pages
 *   (flask_priv_mapping); mmu:remote_remap, mmuext_op, updatemp, pinpage: edit its page
 *   tables or M2P (flask_mmu_update, flask_mmuext_op, flask_memory_pin_page); mmu:adjust,
 *   exchange: populate or remove its memory (flask_memory_adjust_reservation,
 *   flask_memory_exchange);
 * - hvm:setparam: its HVM params, ring and store PFNs among them (flask_hvm_param);
 *   hvm:altp2mhvm, altp2mhvm_op: altp2m views and change_gfn, which remaps its frames
 *   (flask_hvm_param_altp2mhvm, flask_hvm_altp2mhvm_op); hvm:dm: every device-model
 *   operation on it (flask_dm_op).
 * grant:map_write is left out on purpose, though it guards writable grant mappings as
 * mmu:map_write guards foreign ones: a grant mapping reaches only frames the granting domain
 * put in its own grant table (flask_grant_mapref checks the mapping, the grant table decides
 * the frame), so it is a channel both sides agree on, like an event channel — not power over
 * the granter.
 */
const CONTROL: PermTable = {
  domain: ['setvcpucontext', 'setdebugging'],
  domain2: ['vm_event', 'mem_access', 'resource_map', 'mem_sharing', 'mem_paging'],
  mmu: ['map_write', 'target_hack', 'remote_remap', 'mmuext_op', 'updatemp', 'pinpage', 'adjust', 'exchange'],
  hvm: ['sethvmc', 'setparam', 'altp2mhvm', 'altp2mhvm_op', 'dm', 'mem_sharing', 'share_mem'],
};

/**
 * Permissions that build a control edge only together with others. Relabelling a domain
 * (xen/xsm/flask/flask_op.c flask_relabel_domain) needs domain2:relabelself from its old
 * label to the new one when it relabels itself, else relabelfrom on the old label and
 * relabelto on the new one, and always domain:transition from the old label to the new.
 * Creating a domain with a label is domain:create (hooks.c flask_domctl, flask_domain_create);
 * making a domain another's device model is domain2:make_priv_for, domain2:set_as_target and
 * domain:set_target (hooks.c flask_set_target). The graph combines them.
 */
export const RELABEL_PERMS = { self: 'relabelself', from: 'relabelfrom', to: 'relabelto', transition: 'transition' } as const;

/** Data leaves the object towards the holder (setools' infoflow "read"). */
const READ: PermTable = {
  domain: ['getvcpucontext', 'setdebugging'],
  domain2: ['vm_event', 'mem_access'],
  mmu: ['map_read'],
  hvm: ['gethvmc'],
};

/** Data goes from the holder into the object. */
const WRITE: PermTable = {
  domain: ['setvcpucontext', 'setdebugging'],
  domain2: ['vm_event', 'mem_access'],
  mmu: ['map_write'],
  hvm: ['sethvmc', 'dm', 'setparam'],
};

/**
 * Talking to a domain rather than acting on it: the object has to take part (bind, grant,
 * register a ring). Shown when a guest holds them over an introspector, but they are not
 * power over it.
 */
const COMMUNICATION_CLASSES = new Set(['event', 'argo']);
const COMMUNICATION: PermTable = { grant: ['map_read', 'map_write', 'unmap', 'copy', 'query'] };

/**
 * What every stock guest holds (guest_features.te): console output, PMU use, version queries
 * and, up to 4.12, the unprivileged tmem hypercall ("Allow all domains to use (unprivileged
 * parts of) the tmem hypercall"; tmem_control is the privileged part). Not power over anyone.
 */
const BENIGN: PermTable = {
  xen: ['writeconsole', 'tmem_op'],
  xen2: ['pmu_use'],
  version: ['xen_extraversion', 'xen_compile_info', 'xen_capabilities', 'xen_changeset', 'xen_pagesize', 'xen_guest_handle'],
};

const has = (table: PermTable, cls: string, perm: string): boolean => table[cls]?.includes(perm) ?? false;

export function isControl(cls: string, perm: string): boolean {
  return has(CONTROL, cls, perm);
}

export function isRead(cls: string, perm: string): boolean {
  return has(READ, cls, perm);
}

export function isWrite(cls: string, perm: string): boolean {
  return has(WRITE, cls, perm);
}

export function isCommunication(cls: string, perm: string): boolean {
  return COMMUNICATION_CLASSES.has(cls) || has(COMMUNICATION, cls, perm);
}

export function isBenign(cls: string, perm: string): boolean {
  return isCommunication(cls, perm) || has(BENIGN, cls, perm);
}

/** security:* rewrites or bypasses the policy; compute_* and check_context only read it. */
export function isPolicyControl(cls: string, perm: string): boolean {
  return cls === 'security' && !perm.startsWith('compute_') && perm !== 'check_context';
}

let introspection: ReadonlyMap<string, ReadonlySet<string>> | undefined;

/** class → permissions some capability grants on a target, in any release, guest kind and tool profile. */
function introspectionPermissions(): ReadonlyMap<string, ReadonlySet<string>> {
  if (introspection) return introspection;
  const out = new Map<string, Set<string>>();
  const add = (cls: string, perm: string): void => {
    let set = out.get(cls);
    if (!set) out.set(cls, (set = new Set()));
    set.add(perm);
  };
  for (const cap of CAPABILITIES) {
    for (const xen of XEN_RELEASES) {
      for (const introspector of GUEST_KINDS) {
        for (const target of cap.targetKinds) {
          for (const g of grantsUnderAnyTool(cap, { xen, introspector, target })) if (g.object === 'target') for (const p of g.perms) add(g.cls, p);
        }
      }
    }
  }
  for (const [cls, perms] of Object.entries(CONTROL)) for (const p of perms) add(cls, p);
  return (introspection = out);
}

export function isIntrospection(cls: string, perm: string): boolean {
  return introspectionPermissions().get(cls)?.has(perm) ?? false;
}
