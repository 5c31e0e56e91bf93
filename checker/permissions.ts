// What each permission means to the proofs. The control edges are catalog §5 (permissions a
// least-privilege checker treats as escalation edges); the introspection set is everything a
// capability of the catalog grants on a target, in any release and guest kind, so that
// "undeclared-target" covers exactly the rights that let a domain look into another.

import { CAPABILITIES, GUEST_KINDS } from '../catalog/capabilities.js';
import { capabilityGrants, TOOL_NAMES } from '../catalog/tools.js';
import { XEN_RELEASES } from '../catalog/vocabulary.js';

type PermTable = Readonly<Record<string, readonly string[]>>;

/**
 * catalog §5: holding one of these on a domain gives the holder that domain's rights.
 * grant:map_write is left out on purpose, though §5 lists it beside mmu:map_write: a grant
 * mapping reaches only frames the granting domain put in its own grant table
 * (flask_grant_mapref checks the mapping, the grant table decides the frame), so it is a
 * channel both sides agree on, like an event channel — not power over the granter.
 */
const CONTROL: PermTable = {
  domain: ['setvcpucontext', 'setdebugging'],
  domain2: ['vm_event', 'mem_access', 'resource_map', 'mem_sharing', 'mem_paging'],
  mmu: ['map_write', 'target_hack', 'remote_remap', 'mmuext_op', 'updatemp', 'pinpage', 'adjust', 'exchange'],
  hvm: ['sethvmc', 'setparam', 'altp2mhvm', 'altp2mhvm_op', 'dm', 'mem_sharing', 'share_mem'],
};

/**
 * catalog §5: permissions that build a control edge only together with others, through
 * flask_op.c's relabel, hooks.c's domain creation and set_target. The graph combines them.
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
export function introspectionPermissions(): ReadonlyMap<string, ReadonlySet<string>> {
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
          for (const tool of TOOL_NAMES) for (const g of capabilityGrants(cap, { xen, introspector, target }, tool)) if (g.object === 'target') for (const p of g.perms) add(g.cls, p);
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
