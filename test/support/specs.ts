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
