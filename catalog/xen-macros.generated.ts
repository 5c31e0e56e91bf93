// Generated from xen-project/xen at the RELEASE-<version>.0 tags:
//   tools/flask/policy/modules/xen.if — the allow rules inside the macros below,
//   as templates over the macro's arguments ($1, $2, $3). Facts only: which permissions
//   Xen's own example policy grants for these standard relationships at each release.
// Used so that dom0 can build, manage and serve the domains vmipolicy declares exactly as
// it does a stock domU_t at that release, in module and standalone mode alike.
// Do not edit: `npm run generate -- --xen-git <clone of xen.git>` rewrites it (tools/generate-catalog.ts),
// and test/generated.test.ts checks that the generator still reproduces it.

/** [subject, object, class, permissions]; $1/$2/$3 are the macro's arguments. */
export type MacroRule = readonly [string, string, string, readonly string[]];

export interface XenMacros {
  readonly declareDomainCommon: readonly MacroRule[];
  readonly createDomainCommon: readonly MacroRule[];
  readonly manageDomain: readonly MacroRule[];
  readonly domainComms: readonly MacroRule[];
  readonly createChannel: readonly MacroRule[];
}

export const XEN_MACROS: Readonly<Record<string, XenMacros>> = {
  '4.8': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext']],
      ['$1', '$2', 'domain2', ['set_cpuid', 'settsc', 'setscheduler', 'setclaim', 'set_max_evtchn', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_cat_op', 'soft_reset']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['cacheattr', 'getparam', 'hvmctl', 'irqlevel', 'pciroute', 'sethvmc', 'setparam', 'pcilevel', 'trackdirtyvram', 'nested', 'altp2mhvm', 'altp2mhvm_op']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.9': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info']],
      ['$1', '$2', 'domain2', ['set_cpuid', 'settsc', 'setscheduler', 'setclaim', 'set_max_evtchn', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_cat_op', 'soft_reset']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['cacheattr', 'getparam', 'hvmctl', 'sethvmc', 'setparam', 'nested', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.10': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info']],
      ['$1', '$2', 'domain2', ['set_cpuid', 'settsc', 'setscheduler', 'setclaim', 'set_max_evtchn', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_cat_op', 'soft_reset', 'set_gnttab_limits']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['cacheattr', 'getparam', 'hvmctl', 'sethvmc', 'setparam', 'nested', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.11': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info']],
      ['$1', '$2', 'domain2', ['set_cpuid', 'settsc', 'setscheduler', 'setclaim', 'set_max_evtchn', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'set_gnttab_limits', 'resource_map']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'nested', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.12': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info']],
      ['$1', '$2', 'domain2', ['set_cpuid', 'settsc', 'setscheduler', 'setclaim', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'resource_map', 'get_cpu_policy']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'nested', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.13': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info']],
      ['$1', '$2', 'domain2', ['set_cpu_policy', 'settsc', 'setscheduler', 'setclaim', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'resource_map', 'get_cpu_policy']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'nested', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.14': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info']],
      ['$1', '$2', 'domain2', ['set_cpu_policy', 'settsc', 'setscheduler', 'setclaim', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'resource_map', 'get_cpu_policy']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'nested', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.15': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info']],
      ['$1', '$2', 'domain2', ['set_cpu_policy', 'settsc', 'setscheduler', 'setclaim', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'resource_map', 'get_cpu_policy']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.16': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info']],
      ['$1', '$2', 'domain2', ['set_cpu_policy', 'settsc', 'setscheduler', 'setclaim', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'resource_map', 'get_cpu_policy']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.17': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_cpu_policy', 'settsc', 'setscheduler', 'setclaim', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'resource_map', 'get_cpu_policy']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.18': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_cpu_policy', 'settsc', 'setscheduler', 'setclaim', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'resource_map', 'get_cpu_policy']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.19': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_cpu_policy', 'settsc', 'setscheduler', 'setclaim', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'resource_map', 'get_cpu_policy']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_vnumainfo']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.20': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_cpu_policy', 'settsc', 'setscheduler', 'setclaim', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'resource_map', 'get_cpu_policy', 'vuart_op', 'set_llc_colors']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_vnumainfo', 'dt_overlay']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.21': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_cpu_policy', 'settsc', 'setscheduler', 'setclaim', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'resource_map', 'get_cpu_policy', 'vuart_op', 'set_llc_colors', 'get_domain_state']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_vnumainfo', 'dt_overlay', 'get_domain_state']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
  '4.22': {
    declareDomainCommon: [
      ['$1', '$2', 'grant', ['query', 'setup']],
      ['$1', '$2', 'mmu', ['adjust', 'physmap', 'map_read', 'map_write', 'stat', 'pinpage', 'updatemp', 'mmuext_op']],
      ['$1', '$2', 'hvm', ['getparam', 'setparam', 'altp2mhvm_op']],
      ['$1', '$2', 'domain2', ['get_vnumainfo']],
    ],
    createDomainCommon: [
      ['$1', '$2', 'domain', ['create', 'max_vcpus', 'setdomainmaxmem', 'setaddrsize', 'getdomaininfo', 'hypercall', 'setvcpucontext', 'getscheduler', 'getvcpuinfo', 'getaddrsize', 'getaffinity', 'setaffinity', 'settime', 'setdomainhandle', 'getvcpucontext', 'set_misc_info', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_cpu_policy', 'settsc', 'setscheduler', 'setclaim', 'set_vnumainfo', 'get_vnumainfo', 'cacheflush', 'psr_cmt_op', 'psr_alloc', 'soft_reset', 'resource_map', 'get_cpu_policy', 'vuart_op', 'set_llc_colors', 'get_domain_state']],
      ['$1', '$2', 'security', ['check_context']],
      ['$1', '$2', 'shadow', ['enable']],
      ['$1', '$2', 'mmu', ['map_read', 'map_write', 'adjust', 'memorymap', 'physmap', 'pinpage', 'mmuext_op', 'updatemp']],
      ['$1', '$2', 'grant', ['setup']],
      ['$1', '$2', 'hvm', ['getparam', 'hvmctl', 'sethvmc', 'setparam', 'altp2mhvm', 'altp2mhvm_op', 'dm']],
    ],
    manageDomain: [
      ['$1', 'domxen_t', 'domain', ['getdomaininfo']],
      ['$1', '$2', 'domain', ['getdomaininfo', 'getvcpuinfo', 'getaffinity', 'getaddrsize', 'pause', 'unpause', 'trigger', 'shutdown', 'destroy', 'setaffinity', 'setdomainmaxmem', 'getscheduler', 'resume', 'setpodtarget', 'getpodtarget', 'getpagingmempool', 'setpagingmempool']],
      ['$1', '$2', 'domain2', ['set_vnumainfo', 'dt_overlay', 'get_domain_state']],
    ],
    domainComms: [
      ['$1', '$2', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
      ['$2', '$1', 'grant', ['map_read', 'map_write', 'copy', 'unmap']],
    ],
    createChannel: [
      ['$1', '$3', 'event', ['create', 'send', 'status']],
      ['$3', '$2', 'event', ['bind']],
    ],
  },
};
