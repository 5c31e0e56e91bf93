// What a standalone policy needs besides the spec's own domains: Xen's pseudo-domain and
// resource types, the labels of the initial SIDs, and dom0 as the host's administrator.
// The facts follow Xen's example policy (tools/flask/policy: xen.te, dom0.te,
// policy/initial_sids); permissions are filtered through the release's vocabulary.
// A standalone policy runs dom0 and the declared domains only: unlabeled domains get
// domU_t, which nothing may create — every guest on such a host must be declared.

import type { Vocabulary } from './vocabulary.js';

export const ATTRIBUTES = ['xen_type', 'domain_type', 'domain_self_type', 'domain_target_type', 'resource_type', 'event_type'] as const;

export const RESOURCE_TYPES = ['irq_t', 'ioport_t', 'iomem_t', 'device_t'] as const;

/** Initial SID → [role, type] of its context (policy/initial_sids). */
export const INITIAL_SID_CONTEXTS: Readonly<Record<string, readonly [string, string]>> = {
  xenboot: ['system_r', 'xenboot_t'],
  xen: ['system_r', 'xen_t'],
  dom0: ['system_r', 'dom0_t'],
  domxen: ['system_r', 'domxen_t'],
  domio: ['system_r', 'domio_t'],
  unlabeled: ['system_r', 'unlabeled_t'],
  security: ['system_r', 'security_t'],
  irq: ['object_r', 'irq_t'],
  iomem: ['object_r', 'iomem_t'],
  ioport: ['object_r', 'ioport_t'],
  device: ['object_r', 'device_t'],
  domU: ['system_r', 'domU_t'],
  domDM: ['system_r', 'dm_dom_t'],
};

/** dom0's rights over itself (dom0.te), old and new names; the release keeps those it has. */
export const DOM0_SELF: Readonly<Record<string, readonly string[]>> = {
  domain: [
    'setvcpucontext', 'max_vcpus', 'setaffinity', 'getaffinity', 'getscheduler', 'getdomaininfo', 'getvcpuinfo',
    'getvcpucontext', 'setdomainmaxmem', 'setdomainhandle', 'setdebugging', 'hypercall', 'settime', 'setaddrsize',
    'getaddrsize', 'trigger', 'getpodtarget', 'setpodtarget', 'getpagingmempool', 'setpagingmempool', 'set_misc_info',
    'set_virq_handler',
  ],
  domain2: [
    'set_cpuid', 'set_cpu_policy', 'gettsc', 'settsc', 'setscheduler', 'set_max_evtchn', 'set_vnumainfo', 'get_vnumainfo',
    'psr_cmt_op', 'psr_cat_op', 'psr_alloc', 'get_cpu_policy', 'dt_overlay', 'get_domain_state',
  ],
  resource: ['add', 'remove'],
};

/** dom0 administering devices (xen.if admin_device, use_device_noiommu). */
export const DOM0_DEVICE_ADMIN = [
  'setup', 'stat_device', 'add_device', 'add_irq', 'add_iomem', 'add_ioport', 'remove_device', 'remove_irq',
  'remove_iomem', 'remove_ioport', 'plug', 'unplug', 'use', 'use_iommu', 'use_iommu_nointremap', 'use_noiommu',
];

export const NEVERALLOW_RESOURCE_USE = ['use', 'use_iommu', 'use_iommu_nointremap', 'use_noiommu'];

/** Keeps the permissions this release has, in bit order. */
export function known(vocab: Vocabulary, cls: string, perms: readonly string[]): string[] {
  return vocab.sortPerms(cls, perms.filter((p) => vocab.has(cls, p)));
}

/** Every permission of a class at this release (for dom0 on the hypervisor itself). */
export function allOf(vocab: Vocabulary, cls: string): string[] {
  return [...(vocab.accessVectors.find(([c]) => c === cls)?.[1] ?? [])];
}
