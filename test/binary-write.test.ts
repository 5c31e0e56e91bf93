// Differential: the binary policy policy/binary/write.ts makes is byte for byte the file
// `checkpolicy -t Xen -c N` makes from the same policy.conf, at both versions libsepol writes
// for Xen (24 and 30) — for every example compiled standalone, the corpus policies, Xen's
// trees with an example's module added (as Xen's Makefile builds them), the statement-coverage
// skeleton and random specs. Bytes equal is the strongest claim there is; where they are not,
// the first differing offset is reported. Independently of checkpolicy, every file written
// reads back (policy/binary/read.ts) into the model of its source.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { specArbitrary, toYaml } from './support/arbitrary.js';
import { artifactsOf, compileExampleAt, compileFile, compileText, CORPUS_RELEASES, EXAMPLES, requires, sharedPath } from './support/env.js';
import { buildInXenTree, checkpolicy, withTempDir } from './support/oracles.js';
import { EXTENDED_SLOTS, minimalMlsPolicy, minimalPolicy } from './support/policies.js';
import { loadPolicy, policyFromBytes, policyFromText } from '../policy/load.js';
import { avtabHash, hashOrder, symhash, tableSize, WriteError, writeBinaryPolicy } from '../policy/binary/write.js';
import { XEN_POLICY_VERSIONS } from '../policy/binary/read.js';
import { policyStats } from '../policy/model/query.js';
import type { PolicyAst } from '../policy/grammar/ast.js';

const RANDOM_RUNS = Math.min(40, Number(process.env.VMIPOLICY_RANDOM_RUNS ?? 40));

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
function assertSameAsCheckpolicy(name: string, text: string, version: number): void {
  const ours = writeBinaryPolicy(astOf(name, text), { version });
  withTempDir((dir) => {
    const r = checkpolicy(dir, text, { version });
    assert.ok(r.ok, `checkpolicy on ${name}: ${r.output}`);
    const theirs = new Uint8Array(readFileSync(r.binary));
    assert.ok(Buffer.from(ours).equals(Buffer.from(theirs)), `${name} at version ${version}: ${firstDifference(ours, theirs)}`);
  });
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
  it('an MLS policy', () => {
    const ast = astOf('mls', minimalMlsPolicy());
    assert.throws(() => writeBinaryPolicy(ast), (e: unknown) => e instanceof WriteError && /MLS/.test(e.message) && e.span !== undefined);
  });
  it('a version libsepol does not write for Xen', () => {
    assert.throws(() => writeBinaryPolicy(astOf('p', minimalPolicy()), { version: 31 }), (e: unknown) => e instanceof WriteError && /24 or 30/.test(e.message));
  });
});
