// examples/ci/vmipolicy.yml, run locally: in a temporary git repository, commit a spec,
// change it as a pull request would, then compile, check, and diff the change against the
// base commit with git:REV:path — markdown out, and the exit code of --fail-on new-access.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoPath, requires } from './support/env.js';
import { withTempDir } from './support/oracles.js';
import { MINIMAL_SPEC } from './support/specs.js';

const BIN = repoPath('dist', 'cli', 'bin.js');
const DIFF_MODULE = pathToFileURL(repoPath('dist', 'cli', 'diff.js')).href;

interface Run { status: number; stdout: string; stderr: string }

function run(cmd: string, args: readonly string[], cwd: string): Run {
  const r = spawnSync(cmd, [...args], { cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function git(cwd: string, ...args: string[]): string {
  const r = run('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.invalid', '-c', 'commit.gpgsign=false', ...args], cwd);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** `vmipolicy diff …` as the workflow runs it: through bin.js once main.ts dispatches it, else runDiff itself. */
function vmipolicyDiff(args: readonly string[], cwd: string): Run {
  const wired = !run('node', [BIN, 'diff'], cwd).stderr.includes('is not in this version');
  if (wired) return run('node', [BIN, 'diff', ...args], cwd);
  const shim = `const { runDiff } = await import(${JSON.stringify(DIFF_MODULE)}); process.exitCode = runDiff(process.argv.slice(1), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });`;
  return run('node', ['--input-type=module', '-e', shim, '--', ...args], cwd);
}

const SPEC = MINIMAL_SPEC;

/** The word joiner the markdown escape puts after `:` (render-markdown.ts md). */
const WJ = '\u2060';

describe('examples/ci: the workflow steps, locally', () => {
  it('the workflow file runs compile, check, selftest and diff against the base sha with --format markdown and posts it', () => {
    const yml = readFileSync(repoPath('examples', 'ci', 'vmipolicy.yml'), 'utf8');
    assert.match(yml, /on:\s*\n\s*pull_request:/);
    assert.match(yml, /vmipolicy compile "\$SPEC"/);
    assert.match(yml, /vmipolicy check "\$SPEC"/);
    assert.match(yml, /vmipolicy selftest "\$SPEC"/);
    assert.match(yml, /BASE_SHA: \$\{\{ github\.event\.pull_request\.base\.sha \}\}/);
    assert.match(yml, /vmipolicy diff "git:\$BASE_SHA:\$SPEC" "\$SPEC" --format markdown --fail-on new-access/);
    assert.match(yml, /gh pr comment "\$PR_NUMBER" --body-file vmipolicy-diff\.md/);
    assert.match(yml, /fetch-depth: 0/);
  });

  it('a PR that adds a capability: compile ok, check runs, diff posts markdown and exits 1; a PR that removes one exits 0', (t) => {
    if (!requires(t, { commands: ['git'] })) return;
    withTempDir((dir) => {
      git(dir, 'init', '-q');
      const spec = join(dir, 'vmi', 'vmi.yaml');
      run('mkdir', ['-p', join(dir, 'vmi')], dir);
      writeFileSync(spec, SPEC);
      git(dir, 'add', 'vmi/vmi.yaml');
      git(dir, 'commit', '-q', '-m', 'base');
      const base = git(dir, 'rev-parse', 'HEAD');

      // The pull request: memory events and pausing for mon.
      writeFileSync(spec, SPEC.replace('[domain-info, read-memory]', '[domain-info, read-memory, pause]'));
      git(dir, 'commit', '-q', '-am', 'mon may pause web');

      const compiled = run('node', [BIN, 'compile', 'vmi/vmi.yaml', '-o', 'vmipolicy-out'], dir);
      assert.equal(compiled.status, 0, compiled.stderr);
      const checked = run('node', [BIN, 'check', 'vmi/vmi.yaml'], dir);
      assert.equal(checked.status, 0, `check exited ${checked.status}: ${checked.stdout}${checked.stderr}`);
      assert.match(checked.stdout, /^PROVEN: /m);
      const selftested = run('node', [BIN, 'selftest', 'vmi/vmi.yaml'], dir);
      assert.equal(selftested.status, 0, `selftest exited ${selftested.status}: ${selftested.stdout}${selftested.stderr}`);

      const diff = vmipolicyDiff([`git:${base}:vmi/vmi.yaml`, 'vmi/vmi.yaml', '--format', 'markdown', '--fail-on', 'new-access'], dir);
      assert.equal(diff.status, 1, diff.stderr);
      assert.match(diff.stdout, /^### vmipolicy diff: ⚠️ new access$/m);
      assert.match(diff.stdout, /^#### Introspector <code>mon<\/code>$/m);
      assert.ok(diff.stdout.includes(`| ➕ gains | <code>web</code> | <code>pause</code> | \\+domain\\:${WJ}pause\\, \\+domain\\:${WJ}unpause | <code>vmi\\/vmi\\.yaml\\:${WJ}9\\:${WJ}46</code> |`), diff.stdout);
      assert.ok(diff.stdout.includes('| <code>web\\_t</code> | <code>domain</code> | <code>\\{ pause unpause \\}</code> |'), diff.stdout);
      assert.match(diff.stdout, /<details><summary>Raw detail<\/summary>/);

      // Without the gate the same diff exits 0; a later PR that only removes access exits 0 too.
      assert.equal(vmipolicyDiff([`git:${base}:vmi/vmi.yaml`, 'vmi/vmi.yaml', '--format', 'markdown'], dir).status, 0);
      const head = git(dir, 'rev-parse', 'HEAD');
      writeFileSync(spec, SPEC.replace('[domain-info, read-memory]', '[domain-info]'));
      const narrowing = vmipolicyDiff([`git:${head}:vmi/vmi.yaml`, 'vmi/vmi.yaml', '--format', 'markdown', '--fail-on', 'new-access'], dir);
      assert.equal(narrowing.status, 0, narrowing.stderr);
      assert.match(narrowing.stdout, /✅ no new access/);
      assert.match(narrowing.stdout, /➖ loses \| <code>web<\/code> \| <code>read\\-memory<\/code>/);
    });
  });
});
