// A small valid spec that error, hostile-input and diff tests mutate one line at a time, so
// each test's expected position is easy to read off.
export const MINIMAL_SPEC = `vmipolicy: 1
xen: "4.19.6"
policy:
  module: vmi
introspectors:
  - name: mon
    guest: pv
    targets: [web]
    capabilities: [domain-info, read-memory]
targets:
  - name: web
    guest: hvm
`;

/** One PV monitor reading one HVM guest, standalone: the smallest spec the checker and host tests build on. */
export const monWebSpec = (xen: string): string => `vmipolicy: 1
xen: "${xen}"
policy: { module: vmi, mode: standalone }
introspectors:
  - { name: mon, type: mon_t, guest: pv, targets: [web], capabilities: [domain-info, read-memory], lookup: domid }
targets:
  - { name: web, type: web_t, guest: hvm }
`;

/** Xen's stock policy's dom0 declared as a memory-reading introspector of domU_t: what that means for dom0. */
export const DOM0_SPEC = (xen: string): string => `vmipolicy: 1
xen: "${xen}"
policy: { module: vmi, mode: module }
introspectors:
  - name: Domain-0
    type: dom0_t
    guest: pv
    targets: [guest]
    capabilities: [domain-info, read-memory]
    lookup: domid
targets:
  - { name: guest, type: domU_t, guest: hvm }
`;
