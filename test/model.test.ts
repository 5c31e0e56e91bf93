// The PolicyModel against the real tools: on checkpolicy binaries of the corpus policies,
// seinfo's counts equal ours, and every (source, target, class, permission) that sesearch
// reports — attributes expanded through seinfo — is exactly what our model expands to.
// Plus precise unit cases: sets, self, exclusions, complements, conditionals, provenance.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildModel } from '../policy/model/build.js';
import type { PolicyModel } from '../policy/model/model.js';
import { computeTransition, policyStats, queryAccess, queryRules } from '../policy/model/query.js';
import { expandXenPolicyTree } from '../formats/xen-tree.js';
import { parsePolicy } from '../policy/grammar/parse.js';
import { CORPUS_RELEASES, requires, sharedPath } from './support/env.js';
import { checkpolicy, sesearchExpanded, withTempDir } from './support/oracles.js';
import { EXTENDED_SLOTS, minimalPolicy } from './support/policies.js';

function model(text: string, file = 'p.conf'): PolicyModel {
  const parsed = parsePolicy(file, text);
  assert.deepEqual(parsed.diagnostics.map((d) => `${d.code} ${d.message}`), []);
  const built = buildModel(parsed.ast, (o) => parsed.lines.locate(o));
  assert.deepEqual(built.diagnostics.map((d) => `${d.code} ${d.message}`), []);
  return built.model;
}

/** Every allow (s t:c p), all rules, both branches of every conditional. */
function expandAll(m: PolicyModel): Set<string> {
  const out = new Set<string>();
  for (const r of m.avRules) {
    if (r.kind !== 'allow') continue;
    for (const s of r.sources) {
      const targets = [...r.targets, ...(r.self ? [s] : [])];
      for (const [ci, bits] of r.perms) {
        const c = m.classes[ci];
        if (!c) continue;
        for (const t of targets) for (const p of bits) out.add(`${m.types[s]} ${m.types[t]}:${c.name} ${c.perms[p]}`);
      }
    }
  }
  return out;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function seinfoCount(binary: string, label: string): number {
  const m = new RegExp(`${label}:\\s+(\\d+)`).exec(run('seinfo', [binary]));
  assert.ok(m, label);
  return Number(m[1]);
}

describe('PolicyModel against seinfo and sesearch on the corpus', () => {
  for (const release of CORPUS_RELEASES) {
    it(`Xen ${release}`, (t) => {
      if (!requires(t, { shared: true, commands: ['checkpolicy', 'seinfo', 'sesearch'] })) return;
      const text = readFileSync(sharedPath('corpus', `xen-${release}`, 'policy.conf'), 'utf8');
      const m = model(text, `xen-${release}/policy.conf`);
      withTempDir((dir) => {
        const built = checkpolicy(dir, text);
        assert.ok(built.ok, built.output);
        const s = policyStats(m);
        assert.equal(s.types, seinfoCount(built.binary, 'Types'));
        assert.equal(s.attributes, seinfoCount(built.binary, 'Attributes'));
        assert.equal(s.roles + 1, seinfoCount(built.binary, 'Roles'), 'seinfo counts the implicit object_r');
        assert.equal(s.users, seinfoCount(built.binary, 'Users'));
        assert.equal(s.booleans, seinfoCount(built.binary, 'Booleans'));
        assert.equal(s.classes, seinfoCount(built.binary, 'Classes'));
        assert.equal(s.permissions, seinfoCount(built.binary, 'Permissions'));
        assert.equal(s.constraints, seinfoCount(built.binary, 'Constraints'));
        assert.equal(s.initialSids, seinfoCount(built.binary, 'Initial SIDs'));
        const ours = expandAll(m);
        const theirs = sesearchExpanded(built.binary, m.attributes);
        assert.deepEqual([...ours].filter((x) => !theirs.has(x)).slice(0, 10), [], 'we expand to accesses sesearch does not report');
        assert.deepEqual([...theirs].filter((x) => !ours.has(x)).slice(0, 10), [], 'sesearch reports accesses we miss');
        assert.equal(ours.size, theirs.size);
      });
    });
  }
});

const SMALL = `class domain
class event
sid xen
sid dom0
class domain { create pause unpause getdomaininfo }
class event { bind send }
attribute domain_type;
attribute event_type;
type xen_t;
type dom0_t, domain_type;
type a_t, domain_type;
type b_t, domain_type;
type c_t, domain_type;
type a_chan, event_type;
bool locked false;
allow dom0_t domain_type:domain *;
allow a_t { domain_type -c_t }:domain pause;
allow b_t { b_t c_t }:domain getdomaininfo;
neverallow b_t ~{ a_t dom0_t xen_t a_chan }:domain create;
allow a_t self:domain unpause;
allow a_chan b_t:event bind;
if (!locked) {
allow a_t c_t:domain create;
} else {
allow a_t c_t:domain getdomaininfo;
}
role system_r;
role system_r types { domain_type xen_t };
user system_u roles { system_r };
sid xen system_u:system_r:xen_t
sid dom0 system_u:system_r:dom0_t
`;

describe('PolicyModel semantics', () => {
  it('expands attributes, exclusions, complements and self; keeps provenance', () => {
    const m = model(SMALL);
    const perms = (s: string, t: string): string[] => (queryAccess(m, { source: s, target: t, cls: 'domain' }) ?? []).flatMap((e) => e.perms);
    assert.deepEqual(perms('dom0_t', 'c_t'), ['create', 'pause', 'unpause', 'getdomaininfo']);
    assert.deepEqual(perms('a_t', 'b_t'), ['pause']);
    assert.deepEqual(perms('a_t', 'c_t'), ['create'], 'c_t excluded from pause; the conditional create is on by default');
    assert.deepEqual(perms('a_t', 'a_t'), ['pause', 'unpause'], 'self');
    assert.deepEqual(perms('b_t', 'c_t'), ['getdomaininfo']);
    // checkpolicy takes ~ in neverallow rules only.
    const never = (s: string, t: string): string[] => (queryAccess(m, { source: s, target: t, cls: 'domain', kinds: ['neverallow'] }) ?? []).flatMap((e) => e.perms);
    assert.deepEqual([never('b_t', 'c_t'), never('b_t', 'b_t'), never('b_t', 'a_t'), never('b_t', 'xen_t')], [['create'], ['create'], [], []], 'complement');
    assert.deepEqual(perms('b_t', 'a_t'), []);
    const hit = queryAccess(m, { source: 'a_t', target: 'a_t', cls: 'domain' })?.[0]?.rules.find((r) => r.perms.includes('unpause'));
    assert.deepEqual(hit?.at, { file: 'p.conf', line: 20, column: 1 });
    const locked = queryAccess(m, { source: 'a_t', target: 'c_t', cls: 'domain', booleans: new Map([['locked', true]]) });
    assert.deepEqual(locked?.flatMap((e) => e.perms), ['getdomaininfo']);
    assert.equal(policyStats(m).conditionalAvRules, 2);
  });

  it('permissive types, typebounds, role attributes and role_transitions land in the model', () => {
    const m = model(minimalPolicy(EXTENDED_SLOTS));
    const type = (name: string): number => {
      const t = m.typeIndex.get(name);
      assert.ok(t !== undefined, name);
      return t;
    };
    assert.deepEqual([...m.permissive], [type('b_t')]);
    assert.deepEqual([...m.typebounds], [[type('c_t'), type('xen_t')]], 'bounded c_t → bounding xen_t');
    assert.deepEqual([...m.roleAttributes].map(([a, rs]) => [a, [...rs].sort()]), [['ratt', ['rx', 'ry']], ['rbatt', ['ry']]]);
    // `role ratt types b_t;` reaches the member roles; the attribute is not a role.
    const typesOf = (role: string): string[] => [...(m.roles.get(role) ?? [])].map((t) => m.types[t] ?? '?').sort();
    assert.deepEqual(typesOf('rx'), ['b_t']);
    assert.deepEqual(typesOf('ry'), ['b_t']);
    assert.equal(m.roles.has('ratt'), false);
    assert.deepEqual([...m.roles.keys()].sort(), ['rx', 'ry', 'system_r']);
    assert.deepEqual(
      m.roleTransitions.map((r) => [r.roles, [...r.types].map((t) => m.types[t]), r.classes.map((c) => m.classes[c]?.name), r.result]),
      [
        [['system_r'], ['b_t'], ['domain'], 'rx'],
        [['rx', 'ry'], ['xen_t'], ['xen', 'domain'], 'system_r'],
      ],
    );
  });

  it('unknown names in the new statements are reported', () => {
    const parsed = parsePolicy('p.conf', minimalPolicy({ te: 'permissive nope_t;\ntypebounds xen_t gone_t;\nrole rz, no_ra;\nrole_transition system_r b_t:domain no_r;' }));
    assert.deepEqual(parsed.diagnostics, []);
    const built = buildModel(parsed.ast, (o) => parsed.lines.locate(o));
    assert.deepEqual(built.diagnostics.map((d) => `${d.code} ${d.message}`), [
      'VP3301 unknown type or attribute "nope_t"',
      'VP3301 unknown type or attribute "gone_t"',
      'VP3305 unknown role "no_ra"',
      'VP3305 unknown role "no_r"',
    ]);
  });

  it('queryRules counts each rule\'s pairs as the per-pair expansion lists them, self and overlaps included', () => {
    // A rule whose target set holds self and some of the sources themselves: (a_t, a_t) once.
    const m = model(SMALL.replace('role system_r;', 'allow domain_type { self a_t b_t }:domain pause;\nrole system_r;'));
    for (const source of ['domain_type', 'a_t', 'xen_t']) {
      for (const target of [undefined, 'domain_type', 'a_t', 'c_t']) {
        const q = { source, ...(target ? { target } : {}) };
        const matches = queryRules(m, q) ?? [];
        // Brute force: one queryAccess per source type, entries attributed to their rules.
        const members = m.typeIndex.has(source) ? [source] : [...(m.attributeMembers[m.attributeIndex.get(source) as number] ?? [])].map((t) => m.types[t] as string);
        const expanded = new Map<string, string[]>();
        for (const s of members) {
          for (const e of queryAccess(m, { source: s, ...(target ? { target } : {}) }) ?? []) {
            for (const r of e.rules) {
              const key = `${r.at.line} ${e.cls}`;
              expanded.set(key, [...(expanded.get(key) ?? []), `${e.source} ${e.target}`]);
            }
          }
        }
        const counted = new Map(matches.map((x) => [`${x.at.line} ${x.cls}`, x.pairs]));
        assert.deepEqual(counted, new Map([...expanded].map(([k, pairs]) => [k, pairs.length])), `${source} → ${target ?? '*'}`);
        for (const x of matches) {
          const all = (expanded.get(`${x.at.line} ${x.cls}`) ?? []).sort((a, b) => (m.typeIndex.get(a.split(' ')[0] as string) as number) - (m.typeIndex.get(b.split(' ')[0] as string) as number) || (m.typeIndex.get(a.split(' ')[1] as string) as number) - (m.typeIndex.get(b.split(' ')[1] as string) as number));
          assert.deepEqual(x.examples.map(([s, t]) => `${s} ${t}`), all.slice(0, 3), `examples of line ${x.at.line}`);
        }
      }
    }
    assert.equal(queryRules(m, { source: 'no_such_t' }), undefined);
  });

  it('counts expanded entries arithmetically', () => {
    const s = policyStats(model(SMALL));
    // dom0 → 4 domain types; a_t → 3 (domain_type − c_t); b_t → 2 (b_t, c_t); a_t self 1;
    // a_chan → b_t 1; conditional create 1, getdomaininfo 1.
    assert.equal(s.expandedAllowEntries, 4 + 3 + 2 + 1 + 1 + 1 + 1);
  });

  it('computes _self, _target and _channel types as Xen does (corpus 4.22)', (t) => {
    if (!requires(t, { shared: true })) return;
    const m = model(readFileSync(sharedPath('corpus', 'xen-4.22', 'policy.conf'), 'utf8'), 'policy.conf');
    assert.equal(computeTransition(m, 'domU_t', 'domU_t', 'domain'), 'domU_t_self');
    assert.equal(computeTransition(m, 'domU_t', 'dm_dom_t', 'domain'), 'domU_t_target');
    assert.equal(computeTransition(m, 'domU_t', 'dom0_t', 'event'), 'domU_t_channel');
    assert.equal(computeTransition(m, 'dom0_t', 'dom0_t', 'domain'), 'dom0_t', 'a singleton domain is its own _self');
  });

  it('reads every corpus tree through m4 with no diagnostics, positions in the module files', (t) => {
    if (!requires(t, { shared: true, commands: ['m4'] })) return;
    for (const release of CORPUS_RELEASES) {
      const expanded = expandXenPolicyTree({ tree: sharedPath('corpus', `xen-${release}`, 'src') });
      assert.ok(expanded.text, expanded.diagnostics.map((x) => x.message).join('\n'));
      const m = model(expanded.text, expanded.file);
      const files = new Set(m.avRules.map((r) => r.at.file));
      assert.ok(files.has('modules/dom0.te') && files.has('modules/xen.te'), [...files].join(', '));
    }
  });

  it('reads the MLS build of every corpus tree (m4 -D enable_mls) with no diagnostics', (t) => {
    if (!requires(t, { shared: true, commands: ['m4'] })) return;
    for (const release of CORPUS_RELEASES) {
      const expanded = expandXenPolicyTree({ tree: sharedPath('corpus', `xen-${release}`, 'src'), mls: true });
      assert.ok(expanded.text, expanded.diagnostics.map((x) => x.message).join('\n'));
      const parsed = parsePolicy(expanded.file, expanded.text);
      assert.deepEqual(parsed.diagnostics.map((d) => `${d.code} ${d.message}`), []);
      const kinds = new Set(parsed.ast.statements.map((s) => s.kind));
      for (const k of ['sensitivity', 'dominance', 'category', 'level', 'mlsconstrain'] as const) assert.ok(kinds.has(k), `${release}: ${k}`);
    }
  });

  it('maps rules from a Xen tree build to the module files through #line', (t) => {
    if (!requires(t, { shared: true })) return;
    const text = readFileSync(sharedPath('corpus', 'xen-4.22', 'policy.conf'), 'utf8');
    const m = model(text, 'policy.conf');
    const e = queryAccess(m, { source: 'dom0_t', target: 'domU_t', cls: 'domain', perm: 'create' });
    const files = new Set(e?.flatMap((x) => x.rules.map((r) => r.at.file)));
    assert.ok(files.has('modules/domU.te'), [...files].join(', '));
  });
});
