// Each proof rule, table-driven: statements added to (or removed from) a proven compiled
// policy that must make the rule fire, citing the added line — and changes that must not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advice, says, checkPolicyText, citing, compileStandalone, ids, inject, sentences } from './support/checker.js';
import { readXenstoreDump, readXlLabel } from '../checker/inputs.js';
import { Xenstore, toXenstoreLs } from '../xenstore/store.js';
import type { RuleId } from '../checker/findings.js';
import type { FindingMessageId } from '../checker/messages.js';
import type { XlLabel } from '../checker/inputs.js';

const SPEC = `vmipolicy: 1
xen: "4.19"
policy: { module: vmi, mode: standalone }
introspectors:
  - name: mon-a
    type: mon_a_t
    guest: pv
    targets: [tgt-a, tgt-b]
    capabilities: [domain-info, read-memory, read-registers, pause]
    lookup: name
  - name: mon-b
    type: mon_b_t
    guest: hvm
    targets: [tgt-c]
    capabilities: [domain-info, libvmi-init, read-memory, memory-events]
    lookup: domid
targets:
  - { name: tgt-a, type: tgt_a_t, guest: hvm }
  - { name: tgt-b, type: tgt_b_t, guest: pvh }
  - { name: tgt-c, type: tgt_c_t, guest: hvm }
`;

const base = compileStandalone(SPEC);

test('the base policy is proven: no errors, no warnings', () => {
  const r = checkPolicyText(base, base.policyText);
  assert.deepEqual(r.findings.filter((f) => f.severity !== 'note').map((f) => says(f)), []);
  assert.equal(r.proven, true);
});

interface Case {
  readonly name: string;
  readonly add: readonly string[];
  /** Rules that must fire and cite an added line. */
  readonly fires: readonly RuleId[];
  /** Rules that must not fire at all. */
  readonly silent?: readonly RuleId[];
  /** Sentences of the finding catalog (checker/messages.ts) the findings citing the added lines must say. */
  readonly say?: readonly FindingMessageId[];
}

const CASES: readonly Case[] = [
  { name: 'excess: an unneeded control permission on a declared target', add: ['allow mon_a_t tgt_a_t:domain setvcpucontext;'], fires: ['excess'], silent: ['undeclared-target', 'escalation'], say: ['Excess', 'ExcessRemove'] },
  { name: 'excess (warning): what every stock guest holds', add: ['allow mon_a_t xen_t:xen2 pmu_use;'], fires: ['excess'], say: ['Excess', 'ExcessHarmless'] },
  { name: 'excess: a needed permission granted twice is not excess', add: ['allow mon_a_t tgt_a_t:mmu map_read;'], fires: [], silent: ['excess'] },
  { name: 'undeclared-target: an introspector reads a target it does not watch', add: ['allow mon_a_t tgt_c_t:mmu map_read;'], fires: ['undeclared-target', 'excess'], say: ['UndeclaredTarget', 'UndeclaredRemoveOrDeclare'] },
  { name: 'undeclared-target: a target reads another target', add: ['allow tgt_a_t tgt_b_t:mmu map_read;'], fires: ['undeclared-target'], say: ['UndeclaredTarget', 'UndeclaredTargetRemove'] },
  { name: 'undeclared-target: talking over Argo is not introspection', add: ['allow tgt_a_t tgt_b_t:argo send;'], fires: [], silent: ['undeclared-target'] },
  { name: 'reverse-access: a target pauses its introspector', add: ['allow tgt_a_t mon_a_t:domain pause;'], fires: ['reverse-access'], say: ['ReverseHolds', 'ReverseRemove'] },
  { name: 'reverse-access: dom0 is trusted', add: ['allow dom0_t mon_a_t:domain getvcpucontext;'], fires: [], silent: ['reverse-access'] },
  { name: 'shared-label: an attribute rule spreads introspection rights', add: ['allow mon_a_t domain_type:mmu map_read;'], fires: ['shared-label', 'undeclared-target', 'excess'], say: ['SpreadingRule', 'SpreadingRuleOwnTypes'] },
  { name: 'escalation: a target controls dom0', add: ['allow tgt_a_t dom0_t:domain setvcpucontext;'], fires: ['escalation'], say: ['Escalation', 'EscalationBreak'] },
  { name: 'escalation: relabelling itself into another domain', add: ['allow tgt_a_t tgt_b_t:domain2 relabelself;', 'allow tgt_a_t tgt_b_t:domain transition;'], fires: ['escalation'] },
  { name: 'escalation: relabelself without transition is no edge', add: ['allow tgt_a_t tgt_b_t:domain2 relabelself;'], fires: [], silent: ['escalation'] },
  { name: 'escalation: creating a domain with another label', add: ['allow mon_a_t tgt_c_t:domain create;'], fires: ['escalation', 'excess'] },
  { name: 'escalation: rewriting the policy', add: ['allow tgt_a_t security_t:security setenforce;'], fires: ['escalation'] },
  { name: 'escalation: two hops through a watched target', add: ['allow tgt_c_t tgt_a_t:domain setvcpucontext;'], fires: ['escalation', 'undeclared-target'] },
  { name: 'cross-target-flow: reading one target and writing another', add: ['allow mon_a_t tgt_b_t:mmu map_write;'], fires: ['cross-target-flow', 'excess'], say: ['Flow', 'FlowRemove'] },
  { name: 'neverallow: an allow the policy forbids', add: ['neverallow mon_a_t tgt_a_t:domain setvcpucontext;', 'allow mon_a_t tgt_a_t:domain setvcpucontext;'], fires: ['neverallow', 'excess'], say: ['Neverallow', 'NeverallowRemove'] },
  { name: 'neverallow: a neverallow alone is no finding', add: ['neverallow mon_a_t tgt_a_t:domain setvcpucontext;'], fires: [], silent: ['neverallow'] },
  { name: 'permissive: an introspector Xen does not confine', add: ['permissive mon_a_t;'], fires: ['permissive', 'escalation'], say: ['PermissiveDomain', 'PermissiveDomainRemove', 'PermissiveIntrospector'] },
  { name: 'permissive: a target Xen does not confine (it can act on its introspector)', add: ['permissive tgt_a_t;'], fires: ['permissive', 'escalation'], say: ['PermissiveTarget'] },
  { name: 'permissive: a domain the spec does not declare', add: ['permissive dom0_t;'], fires: ['permissive'], silent: ['escalation'], say: ['PermissiveAny'] },
  { name: 'permissive: also when the type is made permissive twice, or behind an alias', add: ['typealias tgt_c_t alias tgt_c_alias_t;', 'permissive tgt_c_alias_t;', 'permissive tgt_c_t;'], fires: ['permissive'] },
  { name: 'excess: a boolean-guarded grant, with the state it needs', add: ['bool vmi_debug false;', 'if (vmi_debug) {', 'allow mon_a_t tgt_a_t:domain setdebugging;', '}'], fires: ['excess'] },
];

for (const c of CASES) {
  test(c.name, () => {
    const injected = inject(base.policyText, c.add);
    const r = checkPolicyText(base, injected.text);
    const cited = ids(citing(r.findings, injected.lines));
    for (const id of c.fires) assert.ok(cited.includes(id), `${id} should cite the added lines; got ${cited.join(', ') || 'nothing'}:\n${r.findings.map((f) => `${f.ruleId} ${says(f)}`).join('\n')}`);
    for (const id of c.silent ?? []) assert.equal(r.findings.filter((f) => f.ruleId === id && f.severity !== 'note').length, 0, `${id} must not fire`);
    if (c.fires.length === 0) assert.deepEqual(cited, [], 'nothing should cite the added lines');
    const said = sentences(citing(r.findings, injected.lines, { notes: true }));
    for (const id of c.say ?? []) assert.ok(said.includes(id), `the findings should say ${id}; they say ${said.join(', ')}`);
  });
}

test('severities: a benign extra permission is a warning, and the policy stays proven', () => {
  const r = checkPolicyText(base, inject(base.policyText, ['allow mon_a_t xen_t:xen2 pmu_use;']).text);
  assert.equal(r.proven, true);
  assert.deepEqual(r.findings.filter((f) => f.ruleId === 'excess').map((f) => f.severity), ['warning']);
});

test('excess: one grant written in several places is one finding citing every rule', () => {
  const injected = inject(base.policyText, ['allow mon_a_t tgt_a_t:domain setdebugging;', 'allow mon_a_t tgt_a_t:domain setdebugging;', 'allow mon_a_t tgt_a_t:domain setdebugging;']);
  const r = checkPolicyText(base, injected.text);
  const excess = r.findings.filter((f) => f.ruleId === 'excess' && f.severity === 'error');
  assert.equal(excess.length, 1, excess.map((f) => says(f)).join('\n'));
  assert.deepEqual(excess[0]!.provenance.filter((l) => l.kind === 'policy').map((l) => l.line), injected.lines);
  assert.match(advice(excess[0]), new RegExp(injected.lines.map((l) => `policy.conf:${l}`).join(', ')));
  assert.deepEqual(sentences(excess), ['Excess', 'ExcessRemoveEverywhere']);
});

test('severities: a target talking to its introspector over Argo is a note', () => {
  const r = checkPolicyText(base, inject(base.policyText, ['allow tgt_a_t mon_a_t:argo send;']).text);
  assert.equal(r.proven, true);
  assert.deepEqual(r.findings.filter((f) => f.ruleId === 'reverse-access').map((f) => f.severity), ['note']);
  assert.deepEqual(sentences(r.findings.filter((f) => f.ruleId === 'reverse-access')), ['ReverseReaches']);
});

test('booleans: a grant under a boolean names the state that turns it on', () => {
  const r = checkPolicyText(base, inject(base.policyText, ['bool vmi_debug false;', 'if (vmi_debug) {', 'allow mon_a_t tgt_a_t:domain setdebugging;', '}']).text);
  const f = r.findings.find((x) => x.ruleId === 'excess');
  assert.deepEqual(f?.booleans, { vmi_debug: true });
});

test('booleans: a guard that can never hold grants nothing', () => {
  const r = checkPolicyText(base, inject(base.policyText, ['bool vmi_debug false;', 'if (vmi_debug && !vmi_debug) {', 'allow mon_a_t tgt_a_t:domain setdebugging;', '}']).text);
  assert.equal(r.findings.filter((f) => f.ruleId === 'excess').length, 0);
});

/** Removes one permission from the first rule matching `rule` (a prefix of the line). */
function removePerm(text: string, rulePrefix: string, perm: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(rulePrefix) && new RegExp(`\\b${perm}\\b`).test(l));
  assert.ok(i >= 0, `no rule ${rulePrefix}… with ${perm}`);
  lines[i] = (lines[i] as string).replace(new RegExp(`\\s${perm}\\b`), '').replace(/\{\s*\}/, '{ getdomaininfo }');
  return lines.join('\n');
}

test('insufficient: a capability whose permission was removed, with the capability named', () => {
  const r = checkPolicyText(base, removePerm(base.policyText, 'allow mon_a_t tgt_a_t:mmu', 'map_read'));
  const f = r.findings.filter((x) => x.ruleId === 'insufficient');
  assert.ok(f.some((x) => /read-memory/.test(says(x)) && x.object === 'tgt_a_t' && x.perms.includes('map_read')), JSON.stringify(f.map((x) => says(x))));
  assert.deepEqual(sentences(f), ['Insufficient', 'InsufficientGrant', 'MissingRule']);
  assert.equal(r.proven, false);
});

test('insufficient: a needed permission only under a boolean that can be off', () => {
  const without = removePerm(base.policyText, 'allow mon_a_t tgt_a_t:mmu', 'map_read');
  const r = checkPolicyText(base, inject(without, ['bool vmi_read true;', 'if (vmi_read) {', 'allow mon_a_t tgt_a_t:mmu map_read;', '}']).text);
  const f = r.findings.find((x) => x.ruleId === 'insufficient' && x.perms.includes('map_read'));
  assert.deepEqual(f?.booleans, { vmi_read: false });
  assert.deepEqual(sentences(f ? [f] : []), ['Insufficient', 'InsufficientGrant', 'MissingConditional']);
});

test('insufficient: a constraint that blocks a needed permission', () => {
  const lines = base.policyText.split('\n');
  const at = lines.findIndex((l) => l.startsWith('sid ') && l.includes('system_u'));
  lines.splice(at, 0, 'constrain mmu { map_read } ( t1 == dom0_t );');
  const r = checkPolicyText(base, lines.join('\n'));
  const f = r.findings.find((x) => x.ruleId === 'insufficient' && x.perms.includes('map_read'));
  assert.match(says(f), new RegExp(`a constraint denies it \\(policy\\.conf:${at + 1}: constrain mmu`));
  assert.deepEqual(sentences(f ? [f] : []), ['Insufficient', 'InsufficientGrant', 'MissingConstraint']);
});

test('label: the compiled xl snippets are valid; wrong, unknown and unauthorised labels are not', () => {
  const label = (name: string, text: string) => {
    const l = readXlLabel(`${name}.cfg`, `name = "${name}"\n${text}\n`).label;
    assert.ok(l);
    return l;
  };
  const good = [...base.ir!.domains].map((d) => readXlLabel(`xl/${d.name}.cfg`, base.artifacts!.get(`xl/${d.name}.cfg`) as string, d.name).label!);
  assert.equal(checkPolicyText(base, base.policyText, { xl: good }).findings.filter((f) => f.ruleId === 'label').length, 0);
  const cases: [string, RegExp, FindingMessageId[], string[]?][] = [
    ['seclabel = "system_u:system_r:nosuch_t"', /does not declare/, ['LabelDeclareType', 'LabelSetType', 'LabelUnknownType', 'LabelWrongType']],
    ['seclabel = "system_u:object_r:mon_a_t"', /not authorised/, ['LabelDomainRole', 'LabelObjectRole']],
    ['seclabel = "nobody_u:system_r:mon_a_t"', /user nobody_u/, ['LabelDeclareUser', 'LabelUnknownUser']],
    ['seclabel = "system_u:system_r:tgt_a_t"', /declares it as mon_a_t/, ['LabelSetType', 'LabelWrongType']],
    ['memory = 512', /sets no seclabel/, ['LabelAdd', 'LabelMissing']],
    ['seclabel = "system_u:nosuch_r:mon_a_t"', /names role nosuch_r/, ['LabelDeclareRole', 'LabelUnknownRole']],
    // A role the policy declares but gives neither the type nor the user.
    ['seclabel = "system_u:other_r:mon_a_t"', /role other_r is not authorised for type mon_a_t/, ['LabelAddRoleType', 'LabelAddUserRole', 'LabelRoleType', 'LabelUserRole'], ['role other_r;']],
  ];
  for (const [line, expected, said, add] of cases) {
    const r = checkPolicyText(base, add ? inject(base.policyText, add).text : base.policyText, { xl: [label('mon-a', line)] });
    const f = r.findings.filter((x) => x.ruleId === 'label');
    assert.ok(f.some((x) => expected.test(says(x))), `${line}: ${f.map((x) => says(x)).join(' | ')}`);
    assert.deepEqual(sentences(f), said, line);
    assert.equal(f[0]?.provenance[0]?.kind, 'xl');
  }
});

/** A xenstore laid out like libxl for dom0 + the spec's domains (domids 1…), as a `xenstore-ls -f -p` dump. */
function dump(change: (xs: Xenstore) => void = () => {}): string {
  const names = ['mon-a', 'mon-b', 'tgt-a', 'tgt-b', 'tgt-c'];
  const xs = new Xenstore({ domains: [0, 1, 2, 3, 4, 5] });
  const ok = (r: { ok: boolean }) => assert.ok(r.ok);
  ok(xs.write(0, '/local/domain/0/name', 'Domain-0'));
  names.forEach((n, i) => {
    const id = i + 1;
    ok(xs.write(0, `/local/domain/${id}/name`, n));
    ok(xs.setPerms(0, `/local/domain/${id}`, ['n0', `r${id}`]));
    ok(xs.setPerms(0, `/local/domain/${id}/name`, ['n0', `r${id}`]));
    ok(xs.write(0, `/local/domain/${id}/data/secret`, 'x'));
    ok(xs.setPerms(0, `/local/domain/${id}/data`, [`n${id}`]));
    ok(xs.setPerms(0, `/local/domain/${id}/data/secret`, [`n${id}`]));
  });
  // What vmipolicy's script grants: mon-a (lookup by name) lists domains and reads its targets' names.
  ok(xs.setPerms(0, '/local/domain', ['n0', 'r1']));
  ok(xs.setPerms(0, '/local/domain/3/name', ['n0', 'r3', 'r1']));
  ok(xs.setPerms(0, '/local/domain/4/name', ['n0', 'r4', 'r1']));
  change(xs);
  return toXenstoreLs(xs);
}

function xenstoreFindings(text: string) {
  const { state } = readXenstoreDump('xs.txt', text);
  assert.ok(state);
  return checkPolicyText(base, base.policyText, { xenstore: state }).findings.filter((f) => f.ruleId === 'xenstore-acl');
}

test('xenstore-acl: exactly what the lookups need is clean', () => {
  assert.deepEqual(xenstoreFindings(dump()).map((f) => says(f)), []);
});

test('xenstore-acl: a recursive chmod that makes the introspector owner of every domain', () => {
  const f = xenstoreFindings(dump((xs) => {
    for (const s of xs.nodeStates()) if (s.path.startsWith('/local/domain/')) xs.setPerms(0, s.path, ['r1']);
  }));
  assert.ok(f.some((x) => /domain 1 \("mon-a"\) owns \/local\/domain\/3/.test(says(x))), f.map((x) => says(x)).join('\n'));
  assert.ok(f.some((x) => /every domain "r" by default/.test(says(x))));
  assert.deepEqual(sentences(f), ['XenstoreBeyondLookup', 'XenstoreFirstEntry', 'XenstoreForeignOwner', 'XenstoreGiveBack', 'XenstoreOpenDefault', 'XenstoreRemoveEntries']);
});

test('xenstore-acl: a read beyond the lookup, and a missing read the lookup needs', () => {
  const f = xenstoreFindings(dump((xs) => {
    xs.setPerms(0, '/local/domain/3/data/secret', ['n3', 'r2']);
    xs.setPerms(0, '/local/domain/4/name', ['n0', 'r4']);
  }));
  assert.ok(f.some((x) => x.subject === 'mon-b' && /can read \/local\/domain\/3\/data\/secret/.test(says(x))), f.map((x) => says(x)).join('\n'));
  assert.ok(f.some((x) => x.subject === 'mon-a' && /cannot read \/local\/domain\/4\/name/.test(says(x))));
  assert.deepEqual(sentences(f), ['XenstoreBeyondLookup', 'XenstoreCannotRead', 'XenstoreChmod', 'XenstoreRemoveEntries']);
});

test('escalation: the witness lists every minimal path, hop by hop, with the rule behind each hop', () => {
  const injected = inject(base.policyText, ['allow tgt_c_t tgt_a_t:domain setvcpucontext;', 'allow tgt_c_t tgt_a_t:mmu map_write;']);
  const r = checkPolicyText(base, injected.text);
  const f = r.findings.find((x) => x.ruleId === 'escalation' && x.subject === 'mon_b_t' && x.object === 'tgt_a_t');
  assert.ok(f?.witness, r.findings.map((x) => says(x)).join('\n'));
  const paths = f.witness.paths;
  assert.ok(paths.every((p) => p.length === 2 && p[0]?.from === 'mon_b_t' && p[0]?.to === 'tgt_c_t' && p[1]?.to === 'tgt_a_t'));
  const lastHopLines = new Set(paths.map((p) => p[1]?.rules[0]?.line));
  assert.deepEqual([...lastHopLines].sort(), [...injected.lines].sort(), 'both injected rules appear as the second hop of some minimal path');
  const firstHops = new Set(paths.map((p) => p[0]?.via));
  assert.ok(firstHops.size >= 2, `mon-b controls tgt-c in more than one way (map_write, vm_event): ${[...firstHops].join(', ')}`);
  assert.equal(paths.length, firstHops.size * 2);
  for (const p of paths) for (const h of p) assert.ok(h.rules.every((l) => l.kind === 'policy' && l.line > 0 && l.text));
});

test('permissive: one error per domain type, citing every permissive statement; never PROVEN; a type no domain can run as is a warning', () => {
  const injected = inject(base.policyText, ['permissive mon_b_t;', 'permissive tgt_b_t_channel;']);
  const r = checkPolicyText(base, injected.text);
  assert.equal(r.proven, false);
  const found = r.findings.filter((f) => f.ruleId === 'permissive');
  assert.deepEqual(found.map((f) => [f.subject, f.severity]), [['mon_b_t', 'error'], ['tgt_b_t_channel', 'warning']]);
  const [domain, inert] = found as [typeof found[0], typeof found[0]];
  assert.match(says(domain), /^mon_b_t is permissive \(policy\.conf:\d+\): Xen lets every denial of a domain running as mon_b_t through, so introspector "mon-b" holds every permission on every domain/);
  assert.deepEqual(domain.provenance.map((l) => [l.kind, l.kind === 'policy' ? l.line : 0]), [['spec', 0], ['policy', injected.lines[0]]]);
  assert.deepEqual(inert.provenance.map((l) => l.line), [injected.lines[1]]);
  assert.deepEqual(sentences([inert]), ['PermissiveInert', 'PermissiveInertRemove']);
  assert.equal(advice(inert), `remove the statement at policy.conf:${injected.lines[1]}: a role given the type later would run unconfined`);
  // Without the statements: nothing.
  assert.equal(checkPolicyText(base, base.policyText).findings.filter((f) => f.ruleId === 'permissive').length, 0);
});

test('permissive: escalation follows a chain through a permissive domain (an introspector that writes a permissive target reaches the policy)', () => {
  const injected = inject(base.policyText, ['permissive tgt_c_t;']);
  const r = checkPolicyText(base, injected.text);
  const chain = r.findings.find((f) => f.ruleId === 'escalation' && f.subject === 'mon_b_t');
  assert.ok(chain, r.findings.map((f) => `${f.ruleId} ${says(f)}`).join('\n'));
  assert.equal(chain.object, 'security policy');
  const hops = chain.witness?.paths[0] ?? [];
  assert.deepEqual(hops.map((h) => [h.from, h.to]), [['mon_b_t', 'tgt_c_t'], ['tgt_c_t', 'security policy']]);
  assert.deepEqual(hops[1]?.rules.map((l) => l.line), [injected.lines[0]]);
});

// Sentences of the finding catalog no case above reaches: each from the input that produces it.

test('insufficient: a spec checked against a policy without its types says which type is missing, and for whom', () => {
  const grown = SPEC.replace('targets: [tgt-a, tgt-b]', 'targets: [tgt-a, tgt-b, tgt-d]').replace('targets:\n  - {', [
    '  - { name: mon-c, type: mon_c_t, guest: pv, targets: [tgt-a], capabilities: [domain-info], lookup: domid }',
    'targets:',
    '  - { name: tgt-d, type: tgt_d_t, guest: hvm }',
    '  - { name: tgt-e, type: tgt_e_t, guest: hvm }',
    '  - {',
  ].join('\n'));
  const r = checkPolicyText(compileStandalone(grown), base.policyText);
  const f = r.findings.filter((x) => x.ruleId === 'insufficient');
  assert.deepEqual(sentences(f), ['Insufficient', 'InsufficientDeclareType', 'InsufficientTargetType', 'MissingIntrospectorType', 'MissingType']);
  assert.ok(f.some((x) => says(x) === 'the policy has no type tgt_e_t (the type of target "tgt-e"): xl cannot start the domain with that label'), f.map((x) => says(x)).join('\n'));
});

test('insufficient: a permission the policy\'s class does not have', () => {
  let inMmu = false;
  const noStat = base.policyText
    .split('\n')
    .filter((l) => {
      if (/^class mmu$/.test(l)) inMmu = true;
      else if (/^class /.test(l)) inMmu = false;
      return !(inMmu && l.trim() === 'stat');
    })
    .map((l) => (l.includes(':mmu') ? l.replace(/ stat\b/, '') : l))
    .join('\n');
  const f = checkPolicyText(base, noStat).findings.filter((x) => x.ruleId === 'insufficient');
  assert.deepEqual(sentences(f), ['Insufficient', 'InsufficientGrant', 'MissingPermission']);
  assert.ok(f.some((x) => /which capability domain-info needs: the policy has no permission mmu:stat$/.test(says(x))), f.map((x) => says(x)).join('\n'));
});

test('shared-label: domains of a deployed spec that share a type, with and without an introspector among them', () => {
  const host = (a2: string, mon2: string) => `vmipolicy: 1
xen: "4.19"
policy: { module: vmi, mode: standalone }
introspectors:
  - { name: mon, type: mon_t, guest: pv, targets: [a], capabilities: [domain-info], lookup: domid }
  - { name: mon2, type: ${mon2}, guest: pv, targets: [b], capabilities: [domain-info], lookup: domid }
targets:
  - { name: a, type: a_t, guest: hvm }
  - { name: a2, type: ${a2}, guest: hvm }
  - { name: b, type: b_t, guest: hvm }
`;
  const policy = compileStandalone(host('a2_t', 'mon2_t')).policyText;
  const shared = compileStandalone(host('a_t', 'b_t'), 'spec.yaml', { deployed: true });
  const f = checkPolicyText(shared, policy).findings.filter((x) => x.ruleId === 'shared-label');
  assert.deepEqual(sentences(f), ['SharedType', 'SharedTypeOwn', 'SharedTypeWithIntrospector']);
  assert.deepEqual(f.map((x) => says(x)).sort(), [
    'introspector "mon2", target "b" share the type b_t: every right of one is a right of the others, so the watched guest holds whatever its introspector holds',
    'target "a", target "a2" share the type a_t: every right of one is a right of the others',
  ]);
});

test('cross-target-flow: what the declared capabilities let flow is a warning, with the remedy for the guest kind', () => {
  const spec = (guest: string, caps: string) => compileStandalone(`vmipolicy: 1
xen: "4.19"
policy: { module: vmi, mode: standalone }
introspectors:
  - { name: mon, type: mon_t, guest: ${guest}, targets: [a, b], capabilities: [${caps}], lookup: domid }
targets:
  - { name: a, type: a_t, guest: hvm }
  - { name: b, type: b_t, guest: hvm }
`);
  for (const [guest, caps, remedy] of [['hvm', 'domain-info, read-memory', 'FlowDeclaredHvm'], ['pv', 'domain-info, read-memory, write-memory', 'FlowDeclaredPv']] as const) {
    const c = spec(guest, caps);
    const f = checkPolicyText(c, c.policyText).findings.filter((x) => x.ruleId === 'cross-target-flow');
    assert.deepEqual(f.map((x) => x.severity), ['warning'], guest);
    assert.deepEqual(sentences(f), ['FlowDeclared', remedy]);
  }
});

test('cross-target-flow: one rule that reads and writes several targets is one finding counting the pairs', () => {
  const injected = inject(base.policyText, ['allow mon_a_t { tgt_a_t tgt_b_t tgt_c_t }:mmu { map_read map_write };']);
  const f = citing(checkPolicyText(base, injected.text).findings, injected.lines).filter((x) => x.ruleId === 'cross-target-flow');
  assert.deepEqual(sentences(f), ['FlowPairs', 'FlowRemove']);
  assert.match(advice(f[0]), new RegExp(`^remove the write \\(policy\\.conf:${injected.lines[0]}\\) or the read \\(policy\\.conf:\\d+\\)$`));
});

test('label: a seclabel a library caller passes that is no user:role:type context', () => {
  const l: XlLabel = { file: 'mon-a.cfg', name: 'mon-a', seclabel: 'unlabelled', at: { file: 'mon-a.cfg', line: 2, column: 1, kind: 'xl' } };
  const f = checkPolicyText(base, base.policyText, { xl: [l] }).findings.filter((x) => x.ruleId === 'label');
  assert.deepEqual(sentences(f), ['LabelNotContext', 'LabelWriteContext']);
});

test('xenstore-acl: an introspector the dump does not show running cannot be checked (a warning)', () => {
  const f = xenstoreFindings(dump((xs) => assert.ok(xs.write(0, '/local/domain/2/name', 'someone-else').ok)));
  const notRunning = f.filter((x) => x.subject === 'mon-b');
  assert.deepEqual(notRunning.map((x) => x.severity), ['warning']);
  assert.deepEqual(sentences(notRunning), ['XenstoreNotRunning']);
});
