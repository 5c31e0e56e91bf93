// Pathological hosts for the checker's scale tests and benchmarks: a compiled standalone
// policy plus N generated domain types in one attribute, and a few attribute-wide rules over
// it — relabel and set_target chains, control, reads and writes by an introspector, rights
// over the introspector. Every rule names the attribute, so the policy stays a few KB while
// its type pairs grow as N².

import { inject, type Injected } from './checker.js';

export type PathologicalRule = 'relabel' | 'set-target' | 'control' | 'read' | 'write' | 'reverse';

export const PATHOLOGICAL_ATTRIBUTE = 'gen_dom';

/** The spec the pathological hosts are checked against: one PV introspector, two targets. */
export const SCALE_SPEC = `vmipolicy: 1
xen: "4.17"
policy: { module: vmi, mode: standalone }
introspectors:
  - name: mon-a
    type: mon_a_t
    guest: pv
    targets: [tgt-a, tgt-b]
    capabilities: [domain-info, read-memory, read-registers, pause]
targets:
  - { name: tgt-a, type: tgt_a_t, guest: hvm }
  - { name: tgt-b, type: tgt_b_t, guest: pvh }
`;

/** Its declared domains in the attribute: the search from them meets every generated type. */
export const SCALE_HOST: PathologicalHost = { members: ['tgt_a_t', 'mon_a_t'], introspector: 'mon_a_t' };

export interface PathologicalHost {
  /** Declared domains that join the attribute (so the search from them meets every type). */
  readonly members: readonly string[];
  /** The introspector whose reads and writes `read`/`write` widen, and whom `reverse` exposes. */
  readonly introspector: string;
}

export const genType = (i: number): string => `gen_${String(i).padStart(5, '0')}_t`;

/** The statements each rule kind adds: every kind is one or two attribute-wide allows. */
function ruleStatements(kind: PathologicalRule, host: PathologicalHost): string[] {
  const a = PATHOLOGICAL_ATTRIBUTE;
  switch (kind) {
    case 'relabel': return [`allow ${a} ${a}:domain2 { relabelfrom relabelto relabelself };`, `allow ${a} ${a}:domain transition;`];
    case 'set-target': return [`allow ${a} ${a}:domain2 { make_priv_for set_as_target };`, `allow ${a} ${a}:domain set_target;`];
    case 'control': return [`allow ${a} ${a}:domain setvcpucontext;`];
    case 'read': return [`allow ${host.introspector} ${a}:mmu map_read;`];
    case 'write': return [`allow ${host.introspector} ${a}:mmu map_write;`];
    case 'reverse': return [`allow ${a} ${host.introspector}:domain pause;`];
  }
}

/** `types` new domain types in one attribute (with `host.members`), and the rules of `kinds`. */
export function pathologicalPolicy(basePolicy: string, types: number, kinds: readonly PathologicalRule[], host: PathologicalHost): Injected & { readonly rules: number } {
  const a = PATHOLOGICAL_ATTRIBUTE;
  const declarations = [`attribute ${a};`, ...Array.from({ length: types }, (_, i) => `type ${genType(i + 1)}, domain_type, ${a};`)];
  const membership = [`role system_r types ${a};`, ...host.members.map((m) => `typeattribute ${m} ${a};`)];
  const rules = kinds.flatMap((k) => ruleStatements(k, host));
  return { ...inject(basePolicy, [...declarations, ...membership, ...rules]), rules: rules.length };
}
