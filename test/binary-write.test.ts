// Differential: the binary policy policy/binary/write.ts makes is byte for byte the file
// `checkpolicy -t Xen -c N` makes from the same policy.conf, at both versions libsepol writes
// for Xen (24 and 30) — for every example compiled standalone, the corpus policies, Xen's
// trees with an example's module added (as Xen's Makefile builds them), the statement-coverage
// skeleton and random specs. Bytes equal is the strongest claim there is; where they are not,
// the first differing offset is reported. Independently of checkpolicy, every file written
// reads back (policy/binary/read.ts) into the model of its source.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { specArbitrary, toYaml } from './support/arbitrary.js';
import { artifactsOf, compileExampleAt, compileFile, compileText, CORPUS_RELEASES, EXAMPLES, repoPath, requires, sharedPath } from './support/env.js';
import { buildInXenTree, checkpolicy, withTempDir } from './support/oracles.js';
import { EXTENDED_MLS_SLOTS, EXTENDED_SLOTS, minimalMlsPolicy, minimalPolicy } from './support/policies.js';
import { loadPolicy, policyFromBytes, policyFromText } from '../policy/load.js';
import { binaryPolicyOfText } from '../api/policy.js';
import { locatePlaced } from '../report/diagnostics.js';
import { avtabHash, hashOrder, symhash, tableSize, WriteError, writeBinaryPolicy } from '../policy/binary/write.js';
import { XEN_POLICY_VERSIONS } from '../policy/binary/read.js';
import { policyStats } from '../policy/model/query.js';
import type { PolicyAst } from '../policy/grammar/ast.js';

const RANDOM_RUNS = Number(process.env.VMIPOLICY_RANDOM_RUNS ?? 200);

function astOf(name: string, text: string): PolicyAst {
  const load = policyFromText(name, text);
  assert.ok(load.policy, `${name} parses: ${JSON.stringify(load.diagnostics.slice(0, 2))}`);
  return load.policy.ast;
}

/** Where two byte strings first differ, for a failure message that says where to look. */
function firstDifference(a: Uint8Array, b: Uint8Array): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `first difference at byte ${i} (0x${i.toString(16)}): ours 0x${a[i]?.toString(16)}, checkpolicy's 0x${b[i]?.toString(16)}`;
  return a.length === b.length ? 'identical' : `lengths differ: ours ${a.length}, checkpolicy's ${b.length}`;
}

/** Ours and checkpolicy's, for one policy.conf at one version. */
function assertSameAsCheckpolicy(name: string, text: string, version: number, mls = false): void {
  const ours = writeBinaryPolicy(astOf(name, text), { version, mls });
  withTempDir((dir) => {
    const r = checkpolicy(dir, text, { version, mls });
    assert.ok(r.ok, `checkpolicy on ${name}: ${r.output}`);
    const theirs = new Uint8Array(readFileSync(r.binary));
    assert.ok(Buffer.from(ours).equals(Buffer.from(theirs)), `${name} at version ${version}: ${firstDifference(ours, theirs)}`);
  });
}

/**
 * What the examples and corpus do not exercise: aliases, `-`/`*`/`~`/`self` sets, `*` and `~`
 * permissions, type_member/type_change, an `if` with only an `else`, two `if`s on one
 * expression, `!`-expressions, role allows, constraints on several classes, Xen's device labels.
 */
function assorted(version: number): string {
  return minimalPolicy({
    defaults: 'policycap open_perms;\npolicycap ioctl_skip_cloexec;',
    te: [
      'type d_t alias { d_alias dd_alias };',
      'type e_t;',
      'typealias e_t alias e_alias;',
      'typeattribute e_t dt;',
      'bool cc false;',
      'role other_r;',
      'role other_r types { d_t e_t };',
      'allow dt { dt -xen_t }:xen settime;',
      'allow dt { e_t -dt }:domain create;',
      'allow b_t self:xen *;',
      'allow d_alias e_t:xen ~settime;',
      'auditallow dt b_t:domain create;',
      'dontaudit xen_t { b_t d_t }:{ xen domain } *;',
      'type_member xen_t b_t:domain d_t;',
      'type_change dt b_t:xen e_t;',
      'if (!bb) { allow b_t d_t:xen settime; } else { allow b_t e_t:xen settime; type_transition b_t e_t:domain d_t; }',
      'if (cc) { } else { allow d_t e_t:xen readconsole; }',
      'if (bb && !cc) { allow e_t d_t:domain create; }',
      'if (!(bb && !cc)) { allow e_t b_t:domain create; }',
      'if (!bb) { allow d_t b_t:domain create; }',
      'allow system_r other_r;',
      'allow other_r system_r;',
    ].join('\n'),
    constraints: 'constrain { xen domain } * (u1 == u2 or r1 == system_r);\nconstrain xen ~readconsole (t1 == t2 or not r1 == r2);\nconstrain xen readconsole not (u1 == system_u and r2 != { system_r other_r });',
    devices: [
      'pirqcon 33 system_u:object_r:b_t',
      'pirqcon 34 system_u:object_r:xen_t',
      'ioportcon 0x3f8-0x3ff system_u:object_r:b_t',
      'ioportcon 0x60 system_u:object_r:xen_t',
      'iomemcon 0xfeb00-0xfebff system_u:object_r:b_t',
      ...(version >= 30 ? ['iomemcon 0x100000000-0x1000000ff system_u:object_r:xen_t', 'devicetreecon "/soc/uart@1000" system_u:object_r:b_t'] : []),
      'pcidevicecon 0xc800 system_u:object_r:b_t',
    ].join('\n'),
  }).replace('user system_u roles system_r;', 'user system_u roles { system_r other_r };\nuser other_u roles other_r;');
}

/**
 * MLS: sensitivity and category aliases, levels with category ranges, users' levels and
 * ranges, range_transitions (a hash table of their own in libsepol), mlsconstrain and
 * mlsvalidatetrans on level pairs, constraints naming types and attributes, labels with ranges.
 */
function assortedMls(version: number): string {
  const text = [
    'class xen', 'class domain', 'sid xen', 'sid dom0',
    'class xen { settime readconsole }', 'class domain { create transition }',
    'sensitivity s0 alias bottom;', 'sensitivity s1;', 'sensitivity s2 alias { upper top };', 'dominance { s0 s1 s2 }',
    'category c0 alias zero;', 'category c1;', 'category c2;', 'category c3 alias { three drei };',
    'level s0:c0.c1;', 'level s1:c0.c3;', 'level s2:c0.c3;',
    'mlsconstrain xen settime l1 eq l2;',
    'mlsconstrain domain { create transition } (h1 dom h2 and l1 domby l2) or (l1 incomp h2 or t1 == dt);',
    'mlsvalidatetrans domain (l1 == l2 or h1 != h2 or t3 == { b_t xen_t });',
    'attribute dt;', 'type xen_t, dt;', 'type b_t;', 'type d_t;',
    'role system_r;', 'role system_r types { xen_t b_t d_t };',
    'allow xen_t b_t:xen settime;',
    'range_transition xen_t b_t:domain s0;',
    'range_transition xen_t { b_t d_t }:xen s1:c0,c2 - s2:c0.c3;',
    'range_transition b_t d_t:{ xen domain } s1;',
    'range_transition dt xen_t:domain bottom - upper:zero;',
    'user system_u roles system_r level s0 range s0 - s2:c0.c3;',
    'user other_u roles system_r level s1:c1 range s1:c1 - s1:c1,c3;',
    'constrain domain create (t1 == dt or t2 != { b_t d_t } or r1 == system_r);',
    'sid xen system_u:system_r:xen_t:s0',
    'sid dom0 system_u:system_r:xen_t:s0 - s2:c0.c3',
    'pirqcon 33 system_u:system_r:b_t:s1:c1',
    'iomemcon 0xfeb00-0xfebff other_u:system_r:b_t:s1:c1 - s1:c1,c3',
    ...(version >= 30 ? ['devicetreecon "/soc/uart@1000" system_u:system_r:b_t:s2'] : []),
    '',
  ];
  return text.join('\n');
}

function standalone(example: string): string {
  return artifactsOf(compileFile(`examples/${example}/vmi.yaml`, { mode: 'standalone' })).get('policy.conf') ?? '';
}

describe('libsepol\'s hash orders', () => {
  it('symhash and the table sizes hashtab_check_resize reaches', () => {
    // Known values: rotate-left-4 xor over the bytes, masked.
    assert.equal(symhash('a', 512), 0x61);
    assert.equal(symhash('ab', 1 << 30), (0x61 << 4) ^ 0x62);
    assert.equal(tableSize(512, 3), 512);
    assert.equal(tableSize(512, 512), 512);
    assert.equal(tableSize(512, 513), 1024);
    assert.equal(tableSize(2, 5), 8);
    // Same bucket: strcmp order; different buckets: bucket order, whatever the names.
    const order = hashOrder(['b', 'a', 'q'], 16);
    assert.deepEqual(order, ['a', 'q', 'b']); // 'a' = 0x61 & 15 = 1 = 'q' (0x71 & 15), 'b' → 2
  });

  it('avtab_hash stays in the 2^20 slots and depends on all three key parts', () => {
    const h = avtabHash(1, 2, 3);
    assert.ok(h >= 0 && h < 1 << 20);
    assert.notEqual(avtabHash(2, 1, 3), h);
    assert.notEqual(avtabHash(1, 2, 4), h);
  });
});

describe('written binaries equal checkpolicy\'s, byte for byte', () => {
  for (const version of XEN_POLICY_VERSIONS) {
    for (const example of EXAMPLES) {
      it(`${example} (standalone) at version ${version}`, (t) => {
        if (!requires(t, { commands: ['checkpolicy'] })) return;
        assertSameAsCheckpolicy(example, standalone(example), version);
      });
    }
    for (const release of CORPUS_RELEASES) {
      it(`Xen ${release}'s policy.conf at version ${version}`, (t) => {
        if (!requires(t, { shared: true, commands: ['checkpolicy'] })) return;
        assertSameAsCheckpolicy(`xen-${release}`, readFileSync(sharedPath('corpus', `xen-${release}`, 'policy.conf'), 'utf8'), version);
      });
    }
    it(`the statement-coverage skeleton at version ${version}`, (t) => {
      if (!requires(t, { commands: ['checkpolicy'] })) return;
      assertSameAsCheckpolicy('skeleton', minimalPolicy({ ...EXTENDED_SLOTS }), version);
    });
    it(`the MLS skeleton with every extended statement at version ${version}`, (t) => {
      if (!requires(t, { commands: ['checkpolicy'] })) return;
      const text = minimalMlsPolicy({ ...EXTENDED_SLOTS, defaults: EXTENDED_MLS_SLOTS.defaults ?? '', te: `${EXTENDED_SLOTS.te}\n${EXTENDED_MLS_SLOTS.te}` });
      assertSameAsCheckpolicy('MLS skeleton', text, version, true);
    });
    it(`MLS: aliases, levels, ranges, range_transitions, MLS constraints at version ${version}`, (t) => {
      if (!requires(t, { commands: ['checkpolicy'] })) return;
      assertSameAsCheckpolicy('assorted MLS', assortedMls(version), version, true);
    });
    it(`aliases, set operators, type_member/change, conditionals, role allows, device labels at version ${version}`, (t) => {
      if (!requires(t, { commands: ['checkpolicy'] })) return;
      assertSameAsCheckpolicy('assorted', assorted(version), version);
    });
  }

  for (const release of CORPUS_RELEASES) {
    it(`Xen ${release}'s tree with tinyvmi's module, as Xen's Makefile builds it`, (t) => {
      if (!requires(t, { shared: true, commands: ['checkpolicy', 'm4'] })) return;
      const artifacts = artifactsOf(compileExampleAt('tinyvmi', release, 'module'));
      const [teName, te] = [...artifacts].find(([name]) => name.endsWith('.te')) ?? ['', ''];
      const module = teName.replace(/\.te$/, '');
      withTempDir((dir) => {
        const r = buildInXenTree(dir, release, module, te);
        assert.ok(r.ok, r.output);
        const load = loadPolicy(sharedPath('corpus', `xen-${release}`, 'src'), { extraModules: [{ name: module, te }] });
        assert.ok(load.policy, JSON.stringify(load.diagnostics.slice(0, 2)));
        const theirs = new Uint8Array(readFileSync(r.binary));
        const version = new DataView(theirs.buffer, theirs.byteOffset).getUint32(16, true);
        const ours = writeBinaryPolicy(load.policy.ast, { version });
        assert.ok(Buffer.from(ours).equals(Buffer.from(theirs)), `Xen ${release} tree + ${module}: ${firstDifference(ours, theirs)}`);
      });
    });
  }

  it(`${RANDOM_RUNS} random specs compiled standalone, at both versions`, (t) => {
    if (!requires(t, { commands: ['checkpolicy'] })) return;
    fc.assert(
      fc.property(specArbitrary({ modes: ['standalone'] }), fc.constantFrom(...XEN_POLICY_VERSIONS), (spec, version) => {
        const result = compileText(toYaml(spec));
        if (!result.artifacts) return; // a spec the compiler refuses (e.g. for its release) has no policy to write
        assertSameAsCheckpolicy(`random spec\n${toYaml(spec)}`, result.artifacts.get('policy.conf') ?? '', version);
      }),
      { numRuns: RANDOM_RUNS },
    );
  });
});

describe('written binaries read back as their source', () => {
  for (const example of EXAMPLES) {
    it(`${example}: the reader gives the source's counts at both versions`, () => {
      const text = standalone(example);
      const source = policyFromText(example, text).policy;
      assert.ok(source);
      for (const version of XEN_POLICY_VERSIONS) {
        const back = policyFromBytes(`${example}.bin`, writeBinaryPolicy(source.ast, { version })).policy;
        assert.ok(back, `${example} at ${version} reads back`);
        const a = policyStats(source.model);
        const b = policyStats(back.model);
        for (const key of ['classes', 'permissions', 'types', 'attributes', 'roles', 'users', 'booleans'] as const) {
          assert.equal(b[key], a[key], `${example} v${version}: ${key}`);
        }
      }
    });
  }
});

describe('what the writer refuses, with the statement', () => {
  it('an MLS policy without mls (checkpolicy without -M refuses it too), and mls for a policy without sensitivities', () => {
    assert.throws(() => writeBinaryPolicy(astOf('mls', minimalMlsPolicy()), { mls: false }), (e: unknown) => e instanceof WriteError && /MLS/.test(e.message));
    assert.throws(() => writeBinaryPolicy(astOf('p', minimalPolicy()), { mls: true }), (e: unknown) => e instanceof WriteError && /sensitivities/.test(e.message));
  });
  it('a named type transition, with its position', () => {
    const ast = astOf('named', minimalPolicy({ te: 'type_transition xen_t b_t:domain xen_t "x";' }));
    assert.throws(() => writeBinaryPolicy(ast), (e: unknown) => e instanceof WriteError && /named type transition/.test(e.message) && e.span?.file === 'named');
  });
  // checkpolicy's expand refuses an allow rule that breaks a neverallow, in either branch of a
  // conditional whatever the booleans (libsepol check_assertions); so must we, on the allow rule.
  for (const [name, te] of [
    ['an allow rule through an attribute', 'allow dt b_t:domain create;\nneverallow xen_t b_t:domain create;'],
    ['a conditional allow no boolean state activates', 'neverallow xen_t b_t:xen settime;\nif (bb && !bb) { allow xen_t b_t:xen settime; }'],
  ] as const) {
    it(`${name} that breaks a neverallow: refused with the allow rule's line, as checkpolicy refuses it`, (t) => {
      const text = minimalPolicy({ te });
      const ours = binaryPolicyOfText('never.conf', text);
      assert.equal(ours.exit, 2);
      assert.equal(ours.bytes, undefined);
      const d = ours.diagnostics.map((p) => p.diagnostic).find((x) => x.code === 'VP3031');
      assert.ok(d && /neverallow/.test(d.message) && /checkpolicy refuses/.test(d.message), JSON.stringify(ours.diagnostics.map((p) => p.diagnostic.message)));
      const allowLine = text.split('\n').findIndex((l) => /\ballow (dt|xen_t) b_t/.test(l) && !l.startsWith('neverallow')) + 1;
      const placed = ours.diagnostics.find((p) => p.diagnostic.code === 'VP3031');
      assert.equal(placed && locatePlaced(placed).line, allowLine);
      if (!requires(t, { commands: ['checkpolicy'] })) return;
      withTempDir((dir) => {
        const theirs = checkpolicy(dir, text);
        assert.equal(theirs.ok, false, 'checkpolicy must refuse it too');
        assert.match(theirs.output, /neverallow/);
      });
    });
  }

  it('a version libsepol does not write for Xen', () => {
    assert.throws(() => writeBinaryPolicy(astOf('p', minimalPolicy()), { version: 31 }), (e: unknown) => e instanceof WriteError && /24 or 30/.test(e.message));
  });
});

describe('the command line', () => {
  function runCli(args: readonly string[]): { exit: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8' });
    return { exit: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('compile --binary writes xenpolicy beside policy.conf, the binary of that policy.conf', () => {
    withTempDir((dir) => {
      const out = join(dir, 'out');
      const r = runCli(['compile', repoPath('examples', 'tinyvmi', 'vmi.yaml'), '-o', out, '--mode', 'standalone', '--binary', '--policy-version', '24']);
      assert.equal(r.exit, 0, r.stderr);
      const conf = readFileSync(join(out, 'policy.conf'), 'utf8');
      const bytes = new Uint8Array(readFileSync(join(out, 'xenpolicy')));
      assert.ok(Buffer.from(bytes).equals(Buffer.from(writeBinaryPolicy(astOf('policy.conf', conf), { version: 24 }))));
      assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(16, true), 24);
    });
  });

  it('compile --binary refuses module mode, before writing anything', () => {
    withTempDir((dir) => {
      for (const mode of [[], ['--mode', 'module']]) {
        const r = runCli(['compile', repoPath('examples', 'tinyvmi', 'vmi.yaml'), '-o', join(dir, 'out'), '--binary', ...mode]);
        assert.equal(r.exit, 2);
        assert.match(r.stderr, /--binary needs a standalone policy/);
        assert.ok(!existsSync(join(dir, 'out')));
      }
    });
  });

  it('policy build writes what checkpolicy writes, and refuses what it cannot write with the line', (t) => {
    withTempDir((dir) => {
      const conf = join(dir, 'p.conf');
      writeFileSync(conf, standalone('drakvuf'));
      const out = join(dir, 'xenpolicy');
      const r = runCli(['policy', 'build', conf, '-o', out]);
      assert.equal(r.exit, 0, r.stderr);
      if (requires(t, { commands: ['checkpolicy'] })) {
        const cp = checkpolicy(dir, standalone('drakvuf'), { version: 30, name: 'theirs' });
        assert.ok(readFileSync(out).equals(readFileSync(cp.binary)));
      }
      writeFileSync(conf, minimalPolicy({ te: 'type_transition xen_t b_t:domain xen_t "x";' }));
      const bad = runCli(['policy', 'build', conf, '-o', out]);
      assert.equal(bad.exit, 2);
      assert.match(bad.stderr, /VP3031/);
      assert.match(bad.stderr, /p\.conf:\d+:\d+/);
      assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/, 'no stack trace');
      assert.equal(runCli(['policy', 'build', conf, '-o', out, '--policy-version', '29']).exit, 2);
      // MLS: with --mls as checkpolicy needs -M; without it, refused with the reason.
      writeFileSync(conf, minimalMlsPolicy());
      assert.equal(runCli(['policy', 'build', conf, '-o', out, '--mls']).exit, 0);
      if (requires(t, { commands: ['checkpolicy'] })) {
        const cp = checkpolicy(dir, minimalMlsPolicy(), { version: 30, mls: true, name: 'theirs-mls' });
        assert.ok(readFileSync(out).equals(readFileSync(cp.binary)));
      }
      const noMls = runCli(['policy', 'build', conf, '-o', out]);
      assert.equal(noMls.exit, 2);
      assert.match(noMls.stderr, /VP3031.*MLS/s);
      assert.equal(runCli(['policy', 'build', conf]).exit, 2);
    });
  });
});
