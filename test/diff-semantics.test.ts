// The gate beyond allow rules: `permissive`, constraints, resource labels and initial SIDs,
// typebounds — each a way NEW can grant access with no allow rule changed — and the
// aggregated listing of large changes. A property test checks `--fail-on new-access`
// against a brute-force evaluation of random policy pairs that differ only in constraints,
// object contexts and permissive types.

import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { runDiff } from '../cli/diff.js';
import { diffInputs } from '../diff/diff.js';
import type { DiffReport } from '../diff/types.js';
import { diffTexts, policyInput, reportOf, tuples } from './support/diff.js';
import { withTempDir } from './support/oracles.js';
import { renderText } from '../report/diff/text.js';

interface Slots {
  readonly te?: string;
  readonly constraints?: string;
  readonly sids?: Readonly<Record<string, string>>;
  readonly devices?: string;
}

/** A small complete Xen policy with the resource class and the irq/iomem/device initial SIDs. */
function policy(s: Slots = {}): string {
  const sid = (n: string, t: string): string => `sid ${n} system_u:${t === 'xen_t' ? 'system_r' : 'object_r'}:${s.sids?.[n] ?? t}`;
  return [
    'class xen', 'class domain', 'class resource',
    'sid xen', 'sid irq', 'sid iomem', 'sid device',
    'class xen { settime readconsole }', 'class domain { create pause }', 'class resource { use add_irq }',
    'attribute dt;', 'type xen_t, dt;', 'type c_t;', 'type d_t;', 'type v2;', 'type irq_t;', 'type nic_t;', 'type dev_t;',
    'bool bb true;', 'role system_r;', 'role system_r types { xen_t c_t d_t };',
    s.te ?? '',
    'user system_u roles system_r;',
    s.constraints ?? '',
    sid('xen', 'xen_t'), sid('irq', 'irq_t'), sid('iomem', 'dev_t'), sid('device', 'dev_t'),
    s.devices ?? '',
    '',
  ].join('\n');
}

const RULES = 'allow xen_t c_t:domain { create pause };\nallow c_t nic_t:resource use;\nallow xen_t irq_t:resource add_irq;';

function gate(a: string, b: string): number {
  let code = -1;
  withTempDir((dir) => {
    writeFileSync(join(dir, 'old.conf'), a);
    writeFileSync(join(dir, 'new.conf'), b);
    code = runDiff([join(dir, 'old.conf'), join(dir, 'new.conf'), '--fail-on', 'new-access', '--format', 'json'], { stdout: () => {}, stderr: () => {} });
  });
  return code;
}

describe('diff: permissive', () => {
  it('permissive T added in NEW is new access and fails the gate; the same on both sides, or removed, is not', () => {
    const a = policy({ te: RULES });
    const b = policy({ te: `${RULES}\npermissive c_t;` });
    const r = diffTexts(a, b);
    assert.equal(r.newAccess, true);
    assert.deepEqual(r.policy.permissive.added.map((p) => [p.type, p.at.line]), [['c_t', 25]]);
    // Every (object, class) of the 7 types × 3 classes: OLD grants c_t none of them in full.
    assert.equal(r.policy.permissive.added[0]?.gainCount, 21);
    assert.deepEqual(r.policy.permissive.added[0]?.gains[0], { subject: 'c_t', object: 'c_t', cls: 'domain', perms: ['create', 'pause'] });
    assert.equal(gate(a, b), 1);
    assert.equal(diffTexts(b, b).newAccess, false);
    assert.equal(gate(b, a), 0);
    assert.deepEqual(diffTexts(b, a).policy.permissive.removed.map((p) => p.type), ['c_t']);
  });

  it('rules of a subject permissive on both sides change nothing it can do', () => {
    const a = policy({ te: `${RULES}\npermissive c_t;` });
    const b = policy({ te: `${RULES}\npermissive c_t;\nallow c_t xen_t:domain create;` });
    assert.equal(diffTexts(a, b).newAccess, false);
  });
});

describe('diff: constraints and what they read', () => {
  it('a dropped constraint: the permission it denied becomes new access', () => {
    const a = policy({ te: RULES, constraints: 'constrain domain pause ( t1 == t2 );' });
    const b = policy({ te: RULES });
    const r = diffTexts(a, b);
    assert.deepEqual(tuples(r), ['+ xen_t c_t:domain pause']);
    assert.equal(r.policy.access[0]?.rules[0]?.statement, 'allow xen_t c_t:domain { create pause };');
    assert.equal(gate(a, b), 1);
    assert.deepEqual(tuples(diffTexts(b, a)), ['- xen_t c_t:domain pause']);
  });

  it('a loosened constraint, and one whose name set gains a member through typeattribute', () => {
    const rules = `${RULES}\nallow xen_t d_t:domain pause;`;
    const a = policy({ te: rules, constraints: 'constrain domain pause ( t2 == c_t );' });
    assert.deepEqual(tuples(diffTexts(a, policy({ te: rules, constraints: 'constrain domain pause ( t2 == { c_t d_t } );' }))), ['+ xen_t d_t:domain pause']);
    const viaAttr = (extra: string): string => policy({ te: `${rules}\nattribute ok;\ntypeattribute c_t ok;\n${extra}`, constraints: 'constrain domain pause ( t2 == ok );' });
    const r = diffTexts(viaAttr(''), viaAttr('typeattribute d_t ok;'));
    assert.deepEqual(tuples(r), ['+ xen_t d_t:domain pause']);
  });

  it('a role change that moves a type from object_r to system_r satisfies r1 == r2', () => {
    const rules = `${RULES}\nallow xen_t v2:domain pause;`;
    const a = policy({ te: rules, constraints: 'constrain domain pause ( r1 == r2 );' });
    const b = policy({ te: `${rules}\nrole system_r types v2;`, constraints: 'constrain domain pause ( r1 == r2 );' });
    assert.deepEqual(tuples(diffTexts(a, b)), ['+ xen_t v2:domain pause']);
  });

  it('typebounds dropped: counted as new access, with the statement listed', () => {
    const a = policy({ te: `${RULES}\ntypebounds xen_t c_t;` });
    const r = diffTexts(a, policy({ te: RULES }));
    assert.equal(r.newAccess, true);
    assert.deepEqual(r.policy.statements.removed.map((s) => s.text), ['typebounds xen_t c_t;']);
  });
});

describe('diff: object contexts and initial SIDs', () => {
  it('a pirq relabelled to a type some domain holds more on: new access, both lines reported', () => {
    const a = policy({ te: RULES, devices: 'pirqcon 5 system_u:object_r:irq_t' });
    const b = policy({ te: RULES, devices: 'pirqcon 5 system_u:object_r:nic_t' });
    const r = diffTexts(a, b);
    assert.equal(r.newAccess, true);
    const l = r.policy.objectLabels;
    assert.equal(l.length, 1);
    assert.equal(l[0]?.resource, 'pirq 5');
    assert.equal(l[0]?.old?.text, 'pirqcon 5 system_u:object_r:irq_t');
    assert.equal(l[0]?.new?.text, 'pirqcon 5 system_u:object_r:nic_t');
    assert.deepEqual(l[0]?.gains, [{ subject: 'c_t', object: 'nic_t', cls: 'resource', perms: ['use'] }]);
    assert.equal(gate(a, b), 1);
    // The other way round xen_t gains add_irq on irq_t.
    assert.equal(diffTexts(b, a).newAccess, true);
    // Relabelled to a type nobody holds anything on: reported, not new access.
    const c = diffTexts(a, policy({ te: RULES, devices: 'pirqcon 5 system_u:object_r:v2' }));
    assert.equal(c.policy.objectLabels.length, 1);
    assert.equal(c.newAccess, false);
  });

  it('newly labelled, or unlabelled (back to the initial SID), are compared the same way', () => {
    const none = policy({ te: RULES });
    const labelled = policy({ te: RULES, devices: 'pirqcon 5 system_u:object_r:nic_t' });
    const r = diffTexts(none, labelled);
    assert.deepEqual(r.policy.objectLabels.map((l) => [l.resource, l.oldType, l.newType, l.old, l.new?.text]), [['pirq 5', 'irq_t', 'nic_t', { text: 'sid irq system_u:object_r:irq_t', at: { file: 'old.conf', line: 28, column: 1 } }, 'pirqcon 5 system_u:object_r:nic_t']]);
    assert.equal(r.newAccess, true);
    // Unlabelled: pirq 5 falls back to irq_t, on which xen_t holds add_irq.
    assert.equal(diffTexts(labelled, none).newAccess, true);
  });

  it('iomem ranges are compared on the pieces both sides cut: a widened range relabels only its new part', () => {
    const a = policy({ te: RULES, devices: 'iomemcon 0x1000-0x1fff system_u:object_r:nic_t' });
    const b = policy({ te: RULES, devices: 'iomemcon 0x1000-0x2fff system_u:object_r:nic_t' });
    const r = diffTexts(a, b);
    assert.deepEqual(r.policy.objectLabels.map((l) => [l.resource, l.oldType, l.newType, l.gainCount]), [['iomem 0x2000-0x2fff', 'dev_t', 'nic_t', 1]]);
    assert.equal(r.newAccess, true);
  });

  it('a device-tree path and an initial SID: the SID type counts as a subject too', () => {
    const a = policy({ te: RULES, devices: 'devicetreecon "/soc/uart" system_u:object_r:dev_t' });
    const b = policy({ te: RULES, devices: 'devicetreecon "/soc/uart" system_u:object_r:nic_t' });
    assert.deepEqual(diffTexts(a, b).policy.objectLabels.map((l) => l.resource), ['devicetree "/soc/uart"']);
    assert.equal(diffTexts(a, b).newAccess, true);
    // sid device now labels with c_t, which holds resource:use on nic_t as a subject.
    const r = diffTexts(policy({ te: RULES }), policy({ te: RULES, sids: { device: 'c_t' } }));
    assert.ok(r.policy.objectLabels.some((l) => l.resource === 'sid device' && l.gains.some((g) => g.subject === 'c_t' && g.object === 'nic_t')));
    assert.equal(r.newAccess, true);
    assert.match(renderText(r), /\+ sid device: dev_t → c_t/);
  });
});

describe('diff: large attribute changes are aggregated, the verdict stays exact', () => {
  it('800 types in attributes, attribute-wide rules changed: a few aggregated entries with exact counts', () => {
    const types = Array.from({ length: 800 }, (_, i) => `ty${i}`);
    const decl = types.map((t, i) => `type ${t}, ${i % 2 ? 'odd' : 'even'};`).join('\n');
    const side = (perms: string): string => policy({ te: `${RULES}\nattribute odd;\nattribute even;\n${decl}\nallow odd even:domain ${perms};\nallow even odd:xen settime;\nallow odd odd:domain create;` });
    const started = Date.now();
    const r = diffTexts(side('create'), side('{ create pause }'));
    assert.ok(Date.now() - started < 20_000);
    assert.equal(r.newAccess, true);
    assert.equal(r.policy.access.length, 1);
    const c = r.policy.access[0];
    assert.deepEqual([c?.cls, c?.added, c?.pairs?.count, c?.pairs?.examples.length], ['domain', ['pause'], 400 * 400, 5]);
    assert.match(renderText(r), /160000 subject\/object pairs with this change/);
  });

  it('an attribute-wide type_transition changed: counted as new access, listed aggregated past the limit', () => {
    const decl = Array.from({ length: 60 }, (_, i) => `type ty${i}, grp;`).join('\n');
    const side = (result: string): string => policy({ te: `attribute grp;\n${decl}\ntype_transition grp grp:domain ${result};` });
    const r = diffTexts(side('c_t'), side('d_t'));
    assert.equal(r.newAccess, true);
    assert.deepEqual(r.policy.transitions.map((t) => [t.old, t.new, t.pairs?.count]), [['c_t', 'd_t', 3600]]);
  });

  it('below the limit every pair is listed; above, the same pairs are counted', () => {
    const types = Array.from({ length: 6 }, (_, i) => `ty${i}`);
    const decl = types.map((t) => `type ${t}, grp;`).join('\n');
    const side = (perms: string): string => policy({ te: `attribute grp;\n${decl}\nallow grp grp:domain ${perms};` });
    const listed = reportOf(diffInputs(policyInput('a', side('create')), policyInput('b', side('{ create pause }'))));
    const counted = reportOf(diffInputs(policyInput('a', side('create')), policyInput('b', side('{ create pause }')), { expandLimit: 5 }));
    assert.equal(listed.policy.access.length, 36);
    assert.deepEqual(counted.policy.access.map((c) => [c.pairs?.count, c.added]), [[36, ['pause']]]);
    assert.equal(counted.newAccess, listed.newAccess);
  });
});

// ---- property: NEW differs from OLD only in constraints, object contexts and permissive

const TYPES = ['xen_t', 'c_t', 'd_t', 'v2', 'irq_t', 'nic_t', 'dev_t'];
const DOMAINS = new Set(['xen_t', 'c_t', 'd_t']);
const CLASSES: Record<string, string[]> = { domain: ['create', 'pause'], resource: ['use', 'add_irq'] };
const MEMBERS: Record<string, string[]> = { dt: ['xen_t'] };

interface Rule { src: string; tgt: string; cls: string; perms: string[]; guard?: boolean }
/** A constraint template: its text, and its meaning as the brute force evaluates it. */
interface Con { cls: string; perm: string; text: string; holds: (s: string, t: string) => boolean }
interface Pol { rules: Rule[]; cons: Con[]; permissive: string[]; pirq: (string | undefined)[] }

const role = (t: string): string => (DOMAINS.has(t) ? 'system_r' : 'object_r');
const EXPRS: { text: string; holds: (s: string, t: string) => boolean }[] = [
  { text: 't1 == t2', holds: (s, t) => s === t },
  { text: 't1 != t2', holds: (s, t) => s !== t },
  { text: 't2 == { c_t nic_t }', holds: (_s, t) => t === 'c_t' || t === 'nic_t' },
  { text: 'r1 == r2', holds: (s, t) => role(s) === role(t) },
  { text: 'not (t1 == xen_t)', holds: (s) => s !== 'xen_t' },
  { text: '(t2 == dt or t1 == t2)', holds: (s, t) => t === 'xen_t' || s === t },
];

const con: fc.Arbitrary<Con> = fc.record({ cls: fc.constantFrom('domain', 'resource'), pi: fc.nat(1), e: fc.constantFrom(...EXPRS) })
  .map(({ cls, pi, e }) => {
    const perm = (CLASSES[cls] as string[])[pi] as string;
    return { cls, perm, text: `constrain ${cls} ${perm} ( ${e.text} );`, holds: e.holds };
  });

const avRule: fc.Arbitrary<Rule> = fc.record({
  src: fc.constantFrom(...TYPES, 'dt'), tgt: fc.constantFrom(...TYPES, 'dt', 'self'), cls: fc.constantFrom('domain', 'resource'),
  pick: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }), guard: fc.option(fc.boolean(), { nil: undefined }),
}).map(({ src, tgt, cls, pick, guard }) => {
  const all = CLASSES[cls] as string[];
  const chosen = all.filter((_, i) => pick[i]);
  return { src, tgt, cls, perms: chosen.length ? chosen : [all[0] as string], ...(guard !== undefined ? { guard } : {}) };
});

const variant = fc.record({
  cons: fc.array(con, { maxLength: 3 }),
  permissive: fc.subarray(TYPES, { maxLength: 2 }),
  pirq: fc.array(fc.option(fc.constantFrom(...TYPES), { nil: undefined }), { minLength: 3, maxLength: 3 }),
});

const polPair: fc.Arbitrary<[Pol, Pol]> = fc.record({ rules: fc.array(avRule, { maxLength: 7 }), a: variant, b: variant })
  .map(({ rules, a, b }) => [{ rules, ...a }, { rules, ...b }]);

function render(p: Pol): string {
  const text = (r: Rule): string => `allow ${r.src} ${r.tgt}:${r.cls} { ${r.perms.join(' ')} };`;
  const te = [
    ...p.rules.map((r) => (r.guard === undefined ? text(r) : r.guard ? `if (bb) { ${text(r)} }` : `if (bb) { } else { ${text(r)} }`)),
    ...p.permissive.map((t) => `permissive ${t};`),
  ].join('\n');
  const devices = p.pirq.flatMap((t, i) => (t ? [`pirqcon ${i + 1} system_u:object_r:${t}`] : [])).join('\n');
  return policy({ te, constraints: p.cons.map((c) => c.text).join('\n'), devices });
}

/** Brute force: every (subject, object, class, perm) allowed in a boolean state, TE ∧ constraints, permissive subjects allowed everything. */
function allowed(p: Pol, bb: boolean): Set<string> {
  const ex = (n: string): string[] => MEMBERS[n] ?? [n];
  const out = new Set<string>();
  for (const r of p.rules) {
    if (r.guard !== undefined && r.guard !== bb) continue;
    for (const s of ex(r.src)) {
      for (const t of r.tgt === 'self' ? [s] : ex(r.tgt)) {
        for (const perm of r.perms) if (p.cons.every((c) => c.cls !== r.cls || c.perm !== perm || c.holds(s, t))) out.add(`${s} ${t} ${r.cls} ${perm}`);
      }
    }
  }
  for (const s of p.permissive) for (const t of TYPES) for (const [cls, perms] of Object.entries(CLASSES)) for (const perm of perms) out.add(`${s} ${t} ${cls} ${perm}`);
  return out;
}

/** …and on each pirq, through its label (the irq initial SID's irq_t when unlabelled). */
function effective(p: Pol, bb: boolean): Set<string> {
  const types = allowed(p, bb);
  const out = new Set(types);
  p.pirq.forEach((label, i) => {
    for (const x of types) {
      const [s, t, cls, perm] = x.split(' ');
      if (t === (label ?? 'irq_t')) out.add(`${s} pirq${i + 1} ${cls} ${perm}`);
    }
  });
  return out;
}

function bruteAdded(a: Pol, b: Pol): string[] {
  const added: string[] = [];
  for (const bb of [false, true]) {
    const before = effective(a, bb);
    for (const x of effective(b, bb)) if (!before.has(x)) added.push(x);
  }
  return added;
}

describe('diff: property — constraints, object contexts and permissive against brute force', () => {
  it('new access iff NEW allows some (subject, object, class, perm) OLD does not, in some boolean state', () => {
    fc.assert(fc.property(polPair, ([a, b]) => {
      const r: DiffReport = diffTexts(render(a), render(b));
      const expected = bruteAdded(a, b);
      assert.equal(r.newAccess, expected.length > 0, `brute force adds ${expected.slice(0, 5).join('; ')}`);
    }), { numRuns: 400 });
  });

  it('the CLI gate agrees (exit 1 iff the brute force adds something)', () => {
    fc.assert(fc.property(polPair, ([a, b]) => {
      assert.equal(gate(render(a), render(b)), bruteAdded(a, b).length > 0 ? 1 : 0);
    }), { numRuns: 30 });
  });
});
