// SARIF as GitHub code scanning takes it, from the command line run inside a repository: every
// location (result, related, code-flow step) is a file that exists in the repository, named
// relative to its root under the base id SRCROOT; every result has exactly one location (an
// upload with a location-less result is refused); partialFingerprints are unique (results that
// share one are merged into one alert) and survive an edit that only moves lines; rules carry
// the descriptions, help and security-severity code scanning shows. And the document
// validates against the SARIF 2.1.0 schema.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { repoPath, requires, sharedPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';
import { allLocations, assertUploadable, type SarifRun } from './support/sarif.js';

const BIN = fileURLToPath(new URL('../cli/bin.js', import.meta.url));
function vmipolicy(args: readonly string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, timeout: 300_000, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A git work tree in `dir` holding `files` (name → content), committed. */
function repository(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  const git = (...args: string[]): void => void execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'base');
}

// Xen's stock policy with dom0 declared as the introspector of every guest: many findings,
// each at a rule of the tree's modules, with escalation paths as code flows.
const DOM0 = `vmipolicy: 1
xen: "4.22"
policy:
  module: dom0vmi
introspectors:
  - name: Domain-0
    type: dom0_t
    guest: pvh
    targets: [guests]
    capabilities: [domain-info, read-memory]
targets:
  - name: guests
    type: domU_t
    guest: hvm
`;

describe('SARIF for code scanning', () => {
  it('a deployed Xen tree in the repository: every location a file of it, fingerprints unique and stable when lines move', (t) => {
    if (!requires(t, { shared: true, commands: ['git', 'm4'] })) return;
    withTempDir((dir) => {
      repository(dir, { 'policy/dom0.yaml': DOM0 });
      cpSync(sharedPath('corpus', 'xen-4.22', 'src'), join(dir, 'xen'), { recursive: true });
      const args = ['check', 'dom0.yaml', '--policy', '../xen', '--format', 'sarif'];
      const r = vmipolicy(args, join(dir, 'policy'));
      assert.equal(r.status, 1, r.stderr);
      const run = assertUploadable(r.stdout, dir);
      assert.ok(run.results.length > 100, `${run.results.length} results`);
      const uris = new Set(run.results.map((x) => x.locations[0]?.physicalLocation?.artifactLocation.uri));
      assert.ok(uris.has('xen/tools/flask/policy/modules/dom0.te'), [...uris].join(' '));
      assert.ok(run.results.some((x) => x.codeFlows?.length), 'escalation paths as code flows');
      const rule = run.tool.driver.rules.find((x) => x.id === 'escalation');
      assert.ok(rule?.fullDescription?.text && rule.help?.text && rule.shortDescription?.text);
      assert.equal(rule.properties?.['security-severity'], '9.0');

      // The same policy outside the repository: no location can be there, so all are at the spec.
      const outside = assertUploadable(vmipolicy(['check', 'dom0.yaml', '--policy', sharedPath('corpus', 'xen-4.22', 'src'), '--format', 'sarif'], join(dir, 'policy')).stdout, dir);
      assert.deepEqual([...new Set(outside.results.flatMap((x) => allLocations(x).map((l) => l.physicalLocation?.artifactLocation.uri)))], ['policy/dom0.yaml']);

      // Lines added at the top of a module move every rule below: the fingerprints stay.
      const te = join(dir, 'xen', 'tools', 'flask', 'policy', 'modules', 'dom0.te');
      writeFileSync(te, `# a comment\n# and another\n${readFileSync(te, 'utf8')}`);
      const moved = assertUploadable(vmipolicy(args, join(dir, 'policy')).stdout, dir);
      const prints = (x: SarifRun): string[] => x.results.map((y) => JSON.stringify(y.partialFingerprints)).sort();
      assert.deepEqual(prints(moved), prints(run));
    });
  });

  it('a compiled spec: the policy is never written, so findings and warnings are at the spec; --sarif-root above the repository', (t) => {
    if (!requires(t, { commands: ['git'] })) return;
    withTempDir((dir) => {
      repository(join(dir, 'repo'), { 'vmi/tinyvmi.yaml': readFileSync(repoPath('examples', 'tinyvmi', 'vmi.yaml'), 'utf8') });
      const cwd = join(dir, 'repo', 'vmi');
      const r = vmipolicy(['check', 'tinyvmi.yaml', '--format', 'sarif'], cwd);
      assert.equal(r.status, 0, r.stderr);
      const run = assertUploadable(r.stdout, join(dir, 'repo'));
      assert.ok(run.results.length >= 2, 'the spec warnings are results');
      for (const x of run.results) assert.equal(x.locations[0]?.physicalLocation?.artifactLocation.uri, 'vmi/tinyvmi.yaml', x.ruleId);
      const above = vmipolicy(['check', 'tinyvmi.yaml', '--format', 'sarif', '--sarif-root', dir], cwd);
      const upper = assertUploadable(above.stdout, dir);
      assert.equal(upper.results[0]?.locations[0]?.physicalLocation?.artifactLocation.uri, 'repo/vmi/tinyvmi.yaml');
    });
  });

  it('a pull request widening a spec, against git:HEAD: every change at the NEW spec, which is in the repository', (t) => {
    if (!requires(t, { commands: ['git'] })) return;
    withTempDir((dir) => {
      const spec = readFileSync(repoPath('examples', 'tinyvmi', 'vmi.yaml'), 'utf8');
      repository(dir, { 'vmi.yaml': spec });
      writeFileSync(join(dir, 'vmi.yaml'), spec.replace(/capabilities: \[([^\]]*)\]/, (_, list: string) => `capabilities: [${list}, write-registers]`));
      const r = vmipolicy(['diff', 'git:HEAD:vmi.yaml', 'vmi.yaml', '--format', 'sarif'], dir);
      assert.equal(r.status, 0, r.stderr);
      const run = assertUploadable(r.stdout, dir);
      assert.ok(run.results.some((x) => x.ruleId === 'new-capability'));
      for (const x of run.results) assert.equal(x.locations[0]?.physicalLocation?.artifactLocation.uri, 'vmi.yaml');
    });
  });

  it('a broken spec: the failure document is uploadable too, at the spec', (t) => {
    if (!requires(t, { commands: ['git'] })) return;
    withTempDir((dir) => {
      repository(dir, { 'vmi.yaml': 'vmipolicy: 1\nxen: "4.19"\nintrospectors:\n  - name: x\n    guest: pv\n    watches: [y]\n' });
      const r = vmipolicy(['check', 'vmi.yaml', '--format', 'sarif'], dir);
      assert.equal(r.status, 2, r.stderr);
      const run = assertUploadable(r.stdout, dir);
      assert.ok(run.results.length > 0);
    });
  });
});
