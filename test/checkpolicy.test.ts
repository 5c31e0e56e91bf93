// Differential: what we emit must compile with the real tools — standalone with Debian's
// checkpolicy -t Xen, and as a module inside Xen's own policy trees (4.11, 4.17, 4.22)
// through Xen's Makefile flow — and sesearch must find in the binary exactly the grants
// our manifest claims.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { XEN_RELEASES } from '../compiler/index.js';
import { compareReleases } from '../compiler/catalog/vocabulary.js';
import { specArbitrary, toYaml } from './support/arbitrary.js';
import { artifactsOf, compileExampleAt, compileFile, compileText, CORPUS_RELEASES, EXAMPLES, repoPath, requires } from './support/env.js';
import { buildInXenTree, checkpolicy, sesearchAllows, withTempDir } from './support/oracles.js';

interface ManifestGrant { subject: string; object: string; class: string; permissions: string[] }

function manifestGrants(artifacts: ReadonlyMap<string, string>): Set<string> {
  const m = JSON.parse(artifacts.get('manifest.json') ?? '{}') as { grants: ManifestGrant[] };
  return new Set(m.grants.flatMap((g) => g.permissions.map((p) => `${g.subject} ${g.object}:${g.class} ${p}`)));
}

const RANDOM_RUNS = Number(process.env.VMIPOLICY_RANDOM_RUNS ?? 200);

describe('standalone policy.conf compiles with checkpolicy -t Xen', () => {
  for (const example of EXAMPLES) {
    it(`${example}: every Xen release ${XEN_RELEASES[0]} … ${XEN_RELEASES.at(-1)}`, (t) => {
      if (!requires(t, { commands: ['checkpolicy'] })) return;
      for (const xen of XEN_RELEASES) {
        const result = compileFile(`examples/${example}/vmi.yaml`, { xen, mode: 'standalone' });
        if (!result.artifacts && result.diagnostics.every((d) => d.severity !== 'error' || d.code === 'VP1209' || d.code === 'VP1215')) {
          const codes = result.diagnostics.map((d) => d.code);
          if (codes.includes('VP1209')) assert.ok(compareReleases(xen, '4.10') < 0, `only releases before PVH domUs may refuse ${example}`);
          if (codes.includes('VP1215')) assert.ok(compareReleases(xen, '4.19') < 0, `only releases before 4.19 refuse HVM/PVH monitors' foreign maps (${example})`);
          continue;
        }
        const artifacts = artifactsOf(result);
        withTempDir((dir) => {
          const r = checkpolicy(dir, artifacts.get('policy.conf') ?? '');
          assert.ok(r.ok, `Xen ${xen}: ${r.output}`);
        });
      }
    });

    it(`${example}: sesearch finds exactly the manifest's grants`, (t) => {
      if (!requires(t, { commands: ['checkpolicy', 'sesearch'] })) return;
      const artifacts = artifactsOf(compileFile(`examples/${example}/vmi.yaml`, { mode: 'standalone' }));
      withTempDir((dir) => {
        const r = checkpolicy(dir, artifacts.get('policy.conf') ?? '');
        assert.ok(r.ok, r.output);
        assert.deepEqual([...sesearchAllows(r.binary)].sort(), [...manifestGrants(artifacts)].sort());
      });
    });
  }

  it('a large host compiles: no line over checkpolicy\'s 8 KiB lexer limit (YYLMAX)', (t) => {
    if (!requires(t, { commands: ['checkpolicy'] })) return;
    const names = Array.from({ length: 400 }, (_, i) => `tenant-vm-${String(i).padStart(4, '0')}`);
    const spec = [
      'vmipolicy: 1', 'xen: "4.22"', 'policy: {module: big, mode: standalone}', 'introspectors:',
      `  - {name: monitor, guest: pv, lookup: name, targets: [${names.join(', ')}], capabilities: [domain-info, read-memory, memory-events]}`,
      'targets:', ...names.map((n) => `  - {name: ${n}, guest: hvm}`), '',
    ].join('\n');
    const artifacts = artifactsOf(compileText(spec));
    for (const [name, text] of [...artifacts].filter(([n]) => !n.endsWith('.json'))) {
      const longest = text.split('\n').reduce((m, l) => Math.max(m, l.length), 0);
      assert.ok(longest <= 4096, `${name} has a line of ${longest} characters`);
    }
    withTempDir((dir) => {
      const r = checkpolicy(dir, artifacts.get('policy.conf') ?? '');
      assert.ok(r.ok, r.output);
    });
  });

  it(`${RANDOM_RUNS} random valid specs compile, on random releases`, (t) => {
    if (!requires(t, { commands: ['checkpolicy'] })) return;
    let compiled = 0;
    withTempDir((dir) => {
      fc.assert(
        fc.property(specArbitrary({ modes: ['standalone'] }), (spec) => {
          const artifacts = artifactsOf(compileText(toYaml(spec)));
          const r = checkpolicy(dir, artifacts.get('policy.conf') ?? '');
          assert.ok(r.ok, `${r.output}\n--- spec ---\n${toYaml(spec)}`);
          compiled++;
        }),
        { numRuns: RANDOM_RUNS },
      );
    });
    console.log(`# checkpolicy compiled ${compiled} random standalone policies`);
    assert.equal(compiled, RANDOM_RUNS);
  });
});

describe('module .te builds inside Xen\'s own policy tree (Makefile.common flow)', () => {
  for (const release of CORPUS_RELEASES) {
    for (const example of EXAMPLES) {
      it(`${example} in Xen ${release}`, (t) => {
        if (!requires(t, { shared: true, commands: ['checkpolicy', 'm4', 'sesearch'] })) return;
        const artifacts = artifactsOf(compileExampleAt(example, release, 'module'));
        const [teName, te] = [...artifacts].find(([name]) => name.endsWith('.te')) ?? ['', ''];
        withTempDir((dir) => {
          const r = buildInXenTree(dir, release, teName.replace(/\.te$/, ''), te);
          assert.ok(r.ok, r.output);
          // Everything the manifest grants is in the built policy (the stock policy adds
          // attribute rules of its own on top, which the checker accounts for).
          const built = sesearchAllows(r.binary);
          const absent = [...manifestGrants(artifacts)].filter((g) => !built.has(g));
          assert.deepEqual(absent, []);
        });
      });
    }
  }

  it(`${RANDOM_RUNS} random valid specs build as modules in the corpus trees`, (t) => {
    if (!requires(t, { shared: true, commands: ['checkpolicy', 'm4'] })) return;
    let built = 0;
    withTempDir((dir) => {
      fc.assert(
        fc.property(specArbitrary({ releases: CORPUS_RELEASES, modes: ['module'] }), (spec) => {
          const artifacts = artifactsOf(compileText(toYaml(spec)));
          const r = buildInXenTree(dir, spec.xen, spec.policy.module, artifacts.get(`${spec.policy.module}.te`) ?? '');
          assert.ok(r.ok, `${r.output}\n--- spec ---\n${toYaml(spec)}`);
          built++;
        }),
        { numRuns: RANDOM_RUNS },
      );
    });
    console.log(`# Xen's Makefile flow built ${built} random modules`);
    assert.equal(built, RANDOM_RUNS);
  });
});

it('the published schema file is the one examples reference', () => {
  for (const example of EXAMPLES) {
    const text = readFileSync(repoPath('examples', example, 'vmi.yaml'), 'utf8');
    assert.match(text, /^# yaml-language-server: \$schema=\.\.\/\.\.\/schema\/spec-v1\.schema\.json$/m);
  }
});
