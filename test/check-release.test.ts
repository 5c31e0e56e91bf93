// A spec names its Xen release; a tree or policy given to check it in may be another's.
// releasesMatching reads the release from the policy's own classes and permissions: the
// real trees of ../shared/corpus must each match their release (our vocabulary tables
// against Xen's access_vectors), our standalone output its spec's, and `check` warns with
// VP3405 when a spec is checked inside another release's tree — and only then.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPolicy, policyFromText } from '../policy/load.js';
import { releaseMismatch, releasesMatching } from '../checker/release.js';
import { compileStandalone } from './support/checker.js';
import { CORPUS_RELEASES, repoPath, requires, sharedPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';
import { MINIMAL_SPEC } from './support/specs.js';

function specAt(xen: string): string {
  return MINIMAL_SPEC.replace(/^xen: .*$/m, `xen: "${xen}"`);
}

function checkInTree(dir: string, xen: string, tree: string | undefined): { status: number; stderr: string } {
  const file = join(dir, `spec-${xen}.yaml`);
  writeFileSync(file, specAt(xen));
  const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), 'check', file, ...(tree ? ['--xen-tree', tree] : [])], { encoding: 'utf8', env: { ...process.env, VMIPOLICY_XEN_TREE: '' } });
  return { status: r.status ?? -1, stderr: r.stderr };
}

describe('check: the policy’s release against the spec’s', () => {
  it('MINIMAL_SPEC names its release on a line of its own (the tests below rewrite it)', () => {
    assert.match(MINIMAL_SPEC, /^xen: .*$/m);
  });

  it('our standalone policy declares exactly its spec’s release vocabulary', () => {
    for (const xen of ['4.11', '4.17', '4.19', '4.22']) {
      const policy = policyFromText('policy.conf', compileStandalone(specAt(xen)).policyText).policy;
      assert.ok(policy);
      assert.ok(releasesMatching(policy.model).includes(xen), `${xen}: matches ${releasesMatching(policy.model).join(', ')}`);
      assert.equal(releaseMismatch(policy.model, xen, 'policy.conf'), undefined);
    }
    const at417 = policyFromText('policy.conf', compileStandalone(specAt('4.17')).policyText).policy;
    assert.equal(releaseMismatch(at417!.model, '4.22', 'policy.conf')?.code, 'VP3405');
  });

  it('each real Xen tree of the corpus matches its own release', (t) => {
    if (!requires(t, { shared: true, commands: ['m4'] })) return;
    for (const release of CORPUS_RELEASES) {
      const policy = loadPolicy(sharedPath('corpus', `xen-${release}`, 'src')).policy;
      assert.ok(policy, release);
      assert.ok(releasesMatching(policy.model).includes(release), `Xen ${release}'s tree matches ${releasesMatching(policy.model).join(', ') || 'nothing'}`);
    }
  });

  it('check warns VP3405 for a spec of another release, not for its own nor for the standalone base', (t) => {
    if (!requires(t, { shared: true, commands: ['m4'] })) return;
    const tree = sharedPath('corpus', 'xen-4.17', 'src');
    withTempDir((dir) => {
      const other = checkInTree(dir, '4.22', tree);
      assert.match(other.stderr, /warning VP3405: the policy .* declares the classes and permissions of Xen 4\.17, 4\.18, not of Xen 4\.22/);
      assert.match(other.stderr, /help: give a tree of Xen 4\.22, or set xen: "4\.18"/);
      const own = checkInTree(dir, '4.17', tree);
      assert.doesNotMatch(own.stderr, /VP3405/);
      assert.equal(own.status, 0, own.stderr);
      assert.doesNotMatch(checkInTree(dir, '4.22', undefined).stderr, /VP3405/);
    });
  });
});
