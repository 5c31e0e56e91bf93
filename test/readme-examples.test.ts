// The README's worked examples, run: the dom0.yaml it shows, checked inside the real Xen 4.22
// tree of ../shared/corpus, prints the lines the README quotes (the escalation to the policy
// itself, at the spec line and the rule behind it, and the verdict with its counts).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoPath, requires, sharedPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';

test('README: `check dom0.yaml --policy xen-4.22` prints the lines the README quotes', (t) => {
  if (!requires(t, { shared: true, commands: ['m4'] })) return;
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const spec = /With this `dom0\.yaml`[^\n]*\n\n```yaml\n([\s\S]*?)```\n\n```\n\$ vmipolicy check dom0\.yaml --policy xen-4\.22\n([\s\S]*?)```/.exec(readme);
  assert.ok(spec, 'the README shows dom0.yaml, then the command and its output');
  const quoted = (spec[2] as string).split('\n').filter((l) => l !== '' && l !== '…');
  withTempDir((dir) => {
    writeFileSync(join(dir, 'dom0.yaml'), spec[1] as string);
    const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), 'check', 'dom0.yaml', '--policy', sharedPath('corpus', 'xen-4.22', 'src')], { encoding: 'utf8', cwd: dir, maxBuffer: 64 << 20 });
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stdout.split('\n');
    for (const line of quoted) assert.ok(lines.includes(line), `the README quotes a line check does not print: ${line}`);
  });
});
