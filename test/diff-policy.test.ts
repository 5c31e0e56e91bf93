// The privilege diff on policies: hand-made cases (attributes, self, booleans, membership
// changes, transitions, constraints), the corpus releases against each other, and the
// corpus pairs against setools — sesearch-expanded allow sets of the checkpolicy binaries,
// and sediff's rule-level report — for every TE allow difference after expansion.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { diffInputs, DiffSession, type AnalysisSide, type PreparedSide } from '../diff/diff.js';
import { diffText, renderDiffText, type DiffText } from '../diff/messages.js';
import { findingText } from '../checker/messages.js';
import type { Location } from '../checker/findings.js';
import { renderText } from '../report/diff/text.js';
import { renderMarkdown } from '../report/diff/markdown.js';
import { md } from '../report/markdown.js';
import { renderJson } from '../report/diff/json.js';
import { renderSarif } from '../report/diff/sarif.js';
import { diffHtml } from '../report/html/diff.js';
import { uniformContexts } from '../diff/constraints.js';
import type { AnalysisItem, DiffReport } from '../diff/types.js';
import { CORPUS_RELEASES, repoPath, requires, sharedPath } from './support/env.js';
import { diffSpecTexts, diffTexts, policyInput, reportOf, specInput, tuples } from './support/diff.js';
import { compileText } from './support/env.js';
import { fleetSpec } from './support/fleet.js';
import { checkpolicy, withTempDir } from './support/oracles.js';
import { minimalPolicy } from './support/policies.js';

const te = (...lines: string[]): string => minimalPolicy({ te: lines.join('\n') });
const BASE = ['type c_t, dt;', 'type d_t;', 'role system_r types { c_t d_t };'];

describe('diff: policies, hand-made', () => {
  it('the same policy twice: no change at all', () => {
    const p = te(...BASE, 'allow dt dt:domain create;', 'allow xen_t self:xen settime;');
    const r = diffTexts(p, p);
    assert.deepEqual(r.policy.access, []);
    assert.equal(r.newAccess, false);
  });

  it('an added permission, with the NEW rule and its line', () => {
    const r = diffTexts(te(...BASE, 'allow xen_t b_t:xen settime;'), te(...BASE, 'allow xen_t b_t:xen { settime readconsole };'));
    assert.deepEqual(tuples(r), ['+ xen_t b_t:xen readconsole']);
    const j = r.policy.access[0]?.rules ?? [];
    assert.equal(j.length, 1);
    assert.equal(j[0]?.side, 'new');
    assert.equal(j[0]?.statement, 'allow xen_t b_t:xen { settime readconsole };');
    assert.equal(j[0]?.rule?.file, 'new.conf');
    assert.equal(r.newAccess, true);
  });

  it('a rule quoted with a comment and a #line marker inside reads as the parser read it', () => {
    const b = te(...BASE, 'allow xen_t b_t:xen { settime # why\n#line 7 "x.te"\n readconsole };');
    const r = diffTexts(te(...BASE), b);
    assert.deepEqual(tuples(r), ['+ xen_t b_t:xen readconsole', '+ xen_t b_t:xen settime']);
    assert.equal(r.policy.access[0]?.rules[0]?.statement, 'allow xen_t b_t:xen { settime readconsole };');
  });

  it('attribute expansion and self: a rule on dt reaches each member, self each member itself', () => {
    const r = diffTexts(te(...BASE), te(...BASE, 'allow dt self:domain create;'));
    assert.deepEqual(tuples(r), ['+ c_t c_t:domain create', '+ xen_t xen_t:domain create']);
  });

  it('a type joining an attribute gains what the unchanged attribute rule grants — and nothing else is expanded', () => {
    const r = diffTexts(te(...BASE, 'allow dt dt:domain create;'), te(...BASE, 'typeattribute d_t dt;', 'allow dt dt:domain create;'));
    assert.deepEqual(tuples(r), ['+ c_t d_t:domain create', '+ d_t c_t:domain create', '+ d_t d_t:domain create', '+ d_t xen_t:domain create', '+ xen_t d_t:domain create']);
    assert.deepEqual(r.policy.memberships, [{ type: 'd_t', joined: ['dt'], left: [] }]);
  });

  it('a removed rule whose permission another rule still grants is no change', () => {
    const r = diffTexts(te(...BASE, 'allow xen_t c_t:domain create;', 'allow dt c_t:domain create;'), te(...BASE, 'allow dt c_t:domain create;'));
    assert.deepEqual(r.policy.access, []);
  });

  it('removals are listed with the OLD rule and never count as new access', () => {
    const r = diffTexts(te(...BASE, 'allow xen_t c_t:domain create;'), te(...BASE));
    assert.deepEqual(tuples(r), ['- xen_t c_t:domain create']);
    assert.equal(r.policy.access[0]?.rules[0]?.side, 'old');
    assert.equal(r.newAccess, false);
  });

  it('booleans: a rule moved from if (bb) to else widens in the state bb=false, narrows in bb=true', () => {
    const r = diffTexts(te(...BASE, 'if (bb) { allow xen_t c_t:domain create; }'), te(...BASE, 'if (bb) { } else { allow xen_t c_t:domain create; }'));
    assert.deepEqual(tuples(r), ['+ xen_t c_t:domain create', '- xen_t c_t:domain create']);
    assert.deepEqual(r.policy.access[0]?.conditions, [{ perm: 'create', old: 'bb', new: '!(bb)' }]);
  });

  it('booleans: conditional → unconditional is new access; unconditional → conditional is a removal', () => {
    const cond = te(...BASE, 'if (bb) { allow xen_t c_t:domain create; }');
    const always = te(...BASE, 'allow xen_t c_t:domain create;');
    assert.deepEqual(tuples(diffTexts(cond, always)), ['+ xen_t c_t:domain create']);
    assert.deepEqual(tuples(diffTexts(always, cond)), ['- xen_t c_t:domain create']);
    // Both branches of the same boolean: granted in every state, the same as unconditional.
    assert.deepEqual(tuples(diffTexts(always, te(...BASE, 'if (bb) { allow xen_t c_t:domain create; } else { allow xen_t c_t:domain create; }'))), []);
  });

  it('boolean defaults, types, attributes, roles, transitions and constraints are reported', () => {
    const a = te(...BASE, 'type_transition xen_t c_t:domain c_t;');
    const b = minimalPolicy({ te: [...BASE, 'type e_t;', 'attribute ea;', 'role system_r types e_t;', 'type_transition xen_t c_t:domain d_t;'].join('\n'), constraints: 'constrain domain create ( t1 == t2 );' }).replace('bool bb true;', 'bool bb false;');
    const r = diffTexts(a, b);
    assert.deepEqual(r.policy.types, { added: ['e_t'], removed: [] });
    assert.deepEqual(r.policy.attributes, { added: ['ea'], removed: [] });
    assert.deepEqual(r.policy.booleans, [{ name: 'bb', old: true, new: false }]);
    assert.deepEqual(r.policy.roles, [{ role: 'system_r', addedTypes: ['e_t'], removedTypes: [] }]);
    assert.deepEqual(r.policy.transitions.map((t) => [t.source, t.target, t.cls, t.old, t.new]), [['xen_t', 'c_t', 'domain', 'c_t', 'd_t']]);
    assert.equal(r.policy.constraints.added.length, 1);
    assert.deepEqual(r.notes.map((n) => n.id), ['NoteTransitions', 'NoteConstraintsXenContexts']);
    assert.match(r.notes.map((n) => renderDiffText(n)).join('\n'), /constraints are evaluated with domains as system_u:system_r:TYPE/);
  });

  it('the constraint seam: a filter given in the options decides what is granted', () => {
    const a = te(...BASE);
    const b = te(...BASE, 'allow xen_t c_t:domain create;', 'allow xen_t b_t:domain create;');
    const out = diffInputs(policyInput('a', a), policyInput('b', b), { constraints: (_side, _s, t, _c, perms) => (t === 'b_t' ? new Set() : perms) });
    assert.deepEqual(tuples(out.report as DiffReport), ['+ xen_t c_t:domain create']);
  });

  it('constraints through policy/model/access.ts: a permission a constraint denies between the contexts is not granted', () => {
    const a = te(...BASE);
    const b = minimalPolicy({ te: [...BASE, 'allow xen_t c_t:xen settime;', 'allow xen_t self:xen settime;'].join('\n'), constraints: 'constrain xen settime ( t1 == t2 );' });
    // By default constraints are evaluated with the labels a Xen host gives (xenDefaultContexts).
    assert.deepEqual(tuples(diffTexts(a, b)), ['+ xen_t xen_t:xen settime']);
    const everything = diffInputs(policyInput('a', a), policyInput('b', b), { constraints: (_side, _s, _o, _c, perms) => perms });
    assert.deepEqual(tuples(everything.report as DiffReport), ['+ xen_t c_t:xen settime', '+ xen_t xen_t:xen settime'], 'type enforcement alone grants both');
    const out = diffInputs(policyInput('a', a), policyInput('b', b), { constraintContexts: uniformContexts('system_u', 'system_r') });
    assert.deepEqual(tuples(out.report as DiffReport), ['+ xen_t xen_t:xen settime']);
    assert.deepEqual((out.report as DiffReport).notes, [diffText('NoteConstraintsOneContext', ['system_u:system_r:TYPE'])]);
    assert.equal(renderDiffText((out.report as DiffReport).notes[0] as DiffText), 'constraints are evaluated with every type in the context system_u:system_r:TYPE');
  });

  it('the analyses seam: findings on each side are diffed, new ones count as new access', () => {
    const p = te(...BASE);
    const message = findingText('MissingType', ['xen_t']);
    const out = diffInputs(policyInput('a', p), policyInput('b', p), {
      analyses: [{ name: 'escalation', findings: (side) => (side.side === 'new' ? [{ message, subject: 'c_t', object: 'xen_t' }] : []) }],
    });
    const r = out.report as DiffReport;
    assert.deepEqual(r.analyses, [{ analysis: 'escalation', added: [{ message, subject: 'c_t', object: 'xen_t' }], removed: [] }]);
    assert.equal(r.newAccess, true);
  });

  it('by default an analysis finding is matched by its sentence without positions: a finding whose rule only moved is neither new nor gone', () => {
    const p = te(...BASE);
    const at = (line: number): Location => ({ file: 'p.conf', line, column: 1, kind: 'policy' });
    const findings = (side: AnalysisSide): AnalysisItem[] => [{ message: findingText('ReverseRemove', [at(side.side === 'old' ? 3 : 9)]), subject: 'c_t', object: 'xen_t' }];
    const r = reportOf(diffInputs(policyInput('a', p), policyInput('b', p), { analyses: [{ name: 'reverse access', findings }] }));
    assert.deepEqual(r.analyses, [{ analysis: 'reverse access', added: [], removed: [] }]);
    assert.equal(r.newAccess, false);
  });

  it('analysis items and notes are data — catalog ids, Location data — and every renderer writes the same prose from them (JSON too, as strings)', () => {
    const p = te(...BASE);
    const rule: Location = { file: 'b.conf', line: 7, column: 1, kind: 'policy' };
    const item: AnalysisItem = {
      message: findingText('Escalation', ['mon_t', 'introspector', 'mon', 'xen_t', '1 step', 'mon_t —setvcpucontext→ xen_t', '']),
      subject: 'mon_t', object: 'xen_t',
      witness: [{ step: diffText('WitnessStep', ['mon_t', 'setvcpucontext', 'xen_t']), rule: { file: rule.file, line: rule.line, column: rule.column } }],
      location: { file: rule.file, line: rule.line, column: rule.column },
    };
    // OLD bounds c_t: NEW dropping the bound gives the report a note too.
    const r = reportOf(diffInputs(policyInput('a', te(...BASE, 'typebounds xen_t c_t;')), policyInput('b', p), { analyses: [{ name: 'escalation paths', findings: (side) => (side.side === 'new' ? [item] : []) }] }));
    const said = 'mon_t (introspector "mon") can reach xen_t in 1 step: mon_t —setvcpucontext→ xen_t';
    assert.equal(renderDiffText(item.witness?.[0]?.step as DiffText), 'mon_t —setvcpucontext→ xen_t');
    assert.ok(renderText(r).split('\n').includes(`  + ${said} via mon_t —setvcpucontext→ xen_t [b.conf:7:1]`), 'the text says the finding and its path');
    assert.ok(renderMarkdown(r).includes(`- ➕ ${md(said)}`), 'markdown says the finding');
    assert.ok(diffHtml(r).includes('<li>mon_t —setvcpucontext→ xen_t <span class="vp-from">b.conf:7:1</span></li>'), 'HTML writes the hop');
    const sarif = JSON.parse(renderSarif(r)) as { runs: { results: { ruleId: string; message: { text: string } }[] }[] };
    assert.deepEqual(sarif.runs[0]?.results.filter((x) => x.ruleId === 'new-finding').map((x) => x.message.text), [`escalation paths: ${said}`]);
    const json = JSON.parse(renderJson(r)) as { analyses: { added: { message: unknown; witness: { step: unknown }[] }[] }[]; notes: unknown[] };
    assert.equal(json.analyses[0]?.added[0]?.message, said);
    assert.equal(json.analyses[0]?.added[0]?.witness[0]?.step, 'mon_t —setvcpucontext→ xen_t');
    assert.deepEqual(json.notes, ['typebounds dropped or moved for c_t: what the bound masked is no longer masked; counted as new access']);
  });

  it('the notes say what the diff counted and how, each a sentence of diff/messages.ts', () => {
    const rules = [...BASE, 'allow xen_t c_t:domain create;'];
    const notes = (a: string, b: string): string[] => diffTexts(a, b).notes.map((n) => n.id);
    assert.deepEqual(notes(te(...rules), te(...rules)), []);
    assert.deepEqual(notes(te(...rules, 'typebounds xen_t c_t;'), te(...rules)), ['NoteBounds']);
    assert.equal(renderDiffText(diffTexts(te(...rules, 'typebounds xen_t c_t;'), te(...rules)).notes[0] as DiffText), 'typebounds dropped or moved for c_t: what the bound masked is no longer masked; counted as new access');
    assert.deepEqual(notes(te(...rules), te(...rules, 'permissive c_t;')), ['NotePermissive']);
    assert.deepEqual(notes(te(...rules), te(...rules, 'if (bb) { allow c_t d_t:domain create; }')), ['NoteConditionalRules']);
    assert.deepEqual(notes(te(...rules), te(...rules, 'if (bb) { type_transition c_t d_t:domain c_t; }')), ['NoteTransitions', 'NoteConditionalTransitions']);
    const spec = readFileSync(repoPath('examples', 'tinyvmi', 'vmi.yaml'), 'utf8');
    assert.deepEqual(reportOf(diffInputs(specInput('vmi.yaml', spec), policyInput('p.conf', te(...rules)))).notes.map((n) => n.id).filter((id) => id === 'NoteStandalone'), ['NoteStandalone']);
    // Sides without models (a caller's own PreparedSide): constraints cannot be evaluated, and that is said.
    const constrained = minimalPolicy({ te: rules.join('\n'), constraints: 'constrain domain create ( t1 == t2 );' });
    const session = new DiffSession(false);
    const strip = (s: ReturnType<DiffSession['side']>): PreparedSide => {
      assert.ok(!Array.isArray(s));
      const { model: _model, ...rest } = s;
      return rest;
    };
    const r = session.finish(strip(session.side(policyInput('a', constrained), 'old')), strip(session.side(policyInput('b', constrained), 'new')));
    assert.deepEqual(r.notes, [diffText('NoteConstraintsSkipped', [1, 1])]);
    assert.equal(renderDiffText(r.notes[0] as DiffText), 'constraints are not evaluated (1 in OLD, 1 in NEW): permissions are type enforcement; changed constraints are listed');
  });
});

// ---- setools oracle: effective allow sets of the checkpolicy binaries

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return r.stdout;
}

/** attribute → members, from `seinfo -a -x`. */
function attributeMembers(binary: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of run('seinfo', ['-a', '-x', binary]).split('\n')) {
    const a = /^\s+attribute (\S+);/.exec(line);
    if (a) out.set(a[1] as string, (current = []));
    else if (current && /^\t\S/.test(line)) current.push(line.trim());
  }
  return out;
}

/** Every `s t:c p` that an allow rule of the binary grants (in any boolean state), attributes expanded. */
function effectiveAllows(binary: string): Set<string> {
  const attrs = attributeMembers(binary);
  const expand = (n: string): string[] => attrs.get(n) ?? [n];
  const out = new Set<string>();
  for (const line of run('sesearch', ['-A', binary]).split('\n')) {
    const m = /^allow (\S+) (\S+):(\S+) (?:\{ ([^}]*) \}|(\S+));/.exec(line.trim());
    if (!m) continue;
    const perms = (m[4] ?? m[5] ?? '').trim().split(/\s+/);
    for (const s of expand(m[1] as string)) {
      for (const t of m[2] === 'self' ? [s] : expand(m[2] as string)) for (const p of perms) out.add(`${s} ${t}:${m[3]} ${p}`);
    }
  }
  return out;
}

/** sediff's added and modified allow rules, expanded: `s t:c p` for each added permission (+) and removed one (-). */
function sediffTuples(a: string, b: string, attrsOld: Map<string, string[]>, attrsNew: Map<string, string[]>): { added: Set<string>; removed: Set<string> } {
  const text = run('bash', [sharedPath('tools', 'sediff-xen.sh'), a, b]);
  const added = new Set<string>();
  const removed = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s+([+\-*]) allow (\S+) (\S+):(\S+) (?:\{ ([^}]*) \}|(\S+));/.exec(line);
    if (!m) continue;
    const [, mark, src, tgt, cls] = m as unknown as [string, string, string, string, string];
    const words = (m[5] ?? m[6] ?? '').trim().split(/\s+/);
    const attrs = mark === '-' ? attrsOld : attrsNew;
    const expand = (n: string): string[] => attrs.get(n) ?? [n];
    const plus = mark === '+' ? words : words.filter((w) => w.startsWith('+')).map((w) => w.slice(1));
    const minus = mark === '-' ? words : words.filter((w) => w.startsWith('-')).map((w) => w.slice(1));
    for (const s of expand(src)) {
      for (const t of tgt === 'self' ? [s] : expand(tgt)) {
        for (const p of plus) added.add(`${s} ${t}:${cls} ${p}`);
        for (const p of minus) removed.add(`${s} ${t}:${cls} ${p}`);
      }
    }
  }
  return { added, removed };
}

describe('diff: spec × spec access, against setools on the compiled policies', () => {
  it('the permissions a spec diff adds and removes (read from the compiled grants) are exactly the difference of sesearch\'s expanded allows of the two compiled policies', (t) => {
    if (!requires(t, { commands: ['checkpolicy', 'sesearch', 'seinfo'] })) return;
    // The same domains, other tools and capabilities: every change is in the allow rules.
    const oldSpec = fleetSpec(2, 3);
    const newSpec = fleetSpec(2, 3, { capabilities: ['domain-info', 'libvmi-init', 'read-memory', 'write-memory', 'tsc-info'] });
    const ours = tuples(diffSpecTexts(oldSpec, newSpec)).sort();
    withTempDir((dir) => {
      const binaries = [oldSpec, newSpec].map((spec, i) => {
        const text = compileText(spec, { mode: 'standalone' }).artifacts?.get('policy.conf');
        assert.ok(text, 'the spec does not compile');
        const built = checkpolicy(dir, text);
        assert.ok(built.ok, built.output);
        const bin = join(dir, `side${i}.bin`);
        renameSync(built.binary, bin);
        return bin;
      }) as [string, string];
      const [ea, eb] = binaries.map(effectiveAllows) as [Set<string>, Set<string>];
      const expected = [...[...eb].filter((x) => !ea.has(x)).map((x) => `+ ${x}`), ...[...ea].filter((x) => !eb.has(x)).map((x) => `- ${x}`)].sort();
      assert.ok(expected.some((x) => x.startsWith('+')) && expected.some((x) => x.startsWith('-')), 'the specs grant and revoke something');
      assert.deepEqual(ours, expected);
    });
  });
});

const PAIRS = [['4.11', '4.17'], ['4.17', '4.22'], ['4.11', '4.22']] as const;

describe('diff: the corpus releases', () => {
  for (const v of CORPUS_RELEASES) {
    it(`Xen ${v} against itself: empty`, (t) => {
      if (!requires(t, { shared: true })) return;
      const text = readFileSync(sharedPath('corpus', `xen-${v}`, 'policy.conf'), 'utf8');
      const r = diffTexts(text, text);
      assert.deepEqual(r.policy.access, []);
      assert.equal(r.newAccess, false);
    });
  }

  for (const [a, b] of PAIRS) {
    it(`Xen ${a} → ${b}: every TE allow difference agrees with setools (sesearch-expanded sets and sediff's rules)`, (t) => {
      if (!requires(t, { shared: true, commands: ['checkpolicy', 'sesearch', 'seinfo', 'sediff'] })) return;
      const ta = readFileSync(sharedPath('corpus', `xen-${a}`, 'policy.conf'), 'utf8');
      const tb = readFileSync(sharedPath('corpus', `xen-${b}`, 'policy.conf'), 'utf8');
      const ours = tuples(diffTexts(ta, tb));
      withTempDir((dir) => {
        const ba = checkpolicy(dir, ta);
        assert.ok(ba.ok, ba.output);
        const binA = join(dir, 'old.bin');
        renameSync(ba.binary, binA);
        const bb = checkpolicy(dir, tb);
        assert.ok(bb.ok, bb.output);
        const ea = effectiveAllows(binA);
        const eb = effectiveAllows(bb.binary);
        const expected = [...[...eb].filter((x) => !ea.has(x)).map((x) => `+ ${x}`), ...[...ea].filter((x) => !eb.has(x)).map((x) => `- ${x}`)].sort();
        assert.deepEqual([...ours].sort(), expected);
        // sediff reports rules; expanded, each of its added permissions is either one of
        // ours or granted by OLD through another rule (and the same for removals).
        const sd = sediffTuples(binA, bb.binary, attributeMembers(binA), attributeMembers(bb.binary));
        assert.ok(sd.added.size > 0 && ours.length > 0, 'the releases differ');
        const oursSet = new Set(ours);
        for (const x of sd.added) assert.ok(oursSet.has(`+ ${x}`) || ea.has(x), `sediff adds ${x}, we do not`);
        for (const x of sd.removed) assert.ok(oursSet.has(`- ${x}`) || eb.has(x), `sediff removes ${x}, we do not`);
        // And every difference of ours is one sediff shows (types and attributes do not change between these releases' allow rules).
        for (const x of ours) {
          const bare = x.slice(2);
          assert.ok(x.startsWith('+') ? sd.added.has(bare) : sd.removed.has(bare), `we report ${x}, sediff does not`);
        }
      });
    });
  }
});
