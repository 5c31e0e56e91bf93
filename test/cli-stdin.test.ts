// `-` for standard input, where a pipeline wants it: a SPEC for compile, check, selftest and
// verify (`generate-spec | vmipolicy check -`), a LOG for explain. Read to its end under the
// kind's size cap (a pipe has no size to check first), named <stdin> in diagnostics.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { repoPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const cli = (args: string[], input: string) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', input, cwd: repoPath() });
const tiny = readFileSync(repoPath('examples', 'tinyvmi', 'vmi.yaml'), 'utf8');

test('a spec on standard input is checked, verified and compiled as the same spec in a file', () => {
  const fromFile = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), 'check', 'examples/tinyvmi/vmi.yaml', '--format', 'json'], { encoding: 'utf8', cwd: repoPath() });
  const fromPipe = cli(['check', '-', '--format', 'json'], tiny);
  assert.equal(fromPipe.status, 0, fromPipe.stderr);
  const strip = (s: string): unknown => JSON.parse(s.replaceAll('examples/tinyvmi/vmi.yaml', '<stdin>'));
  assert.deepEqual(strip(fromPipe.stdout), strip(fromFile.stdout));
  const verify = cli(['verify', '-'], tiny);
  assert.equal(verify.status, 0, verify.stderr);
  assert.match(verify.stdout, /selftest .* PASS/);
  withTempDir((dir) => {
    const r = cli(['compile', '-', '-o', `${dir}/out`, '--format', 'json'], tiny);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).files.includes('manifest.json'));
  });
});

test('a bad spec on standard input is placed at <stdin>:line:column; one over the cap is refused, exit 2', () => {
  const bad = cli(['check', '-', '--format', 'json'], 'vmipolicy: 1\nxen: [\n');
  assert.equal(bad.status, 2);
  const doc = JSON.parse(bad.stdout);
  assert.equal(doc.ok, false);
  assert.equal(doc.diagnostics[0].file, '<stdin>');
  assert.equal(doc.diagnostics[0].line, 3);
  const huge = cli(['verify', '-'], '#'.repeat((1 << 20) + 10));
  assert.equal(huge.status, 2);
  assert.match(huge.stderr, /VP1003.*standard input/);
});
