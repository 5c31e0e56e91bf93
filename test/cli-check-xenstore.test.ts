// `check` proves the xenstore ACLs too: the compiled xenstore-acl.sh applied to libxl's
// layout (by the interpreter, which runs nothing) must leave each introspector exactly what
// its lookup needs; a script granting more fails at the script's own line; a script with
// anything but the commands vmipolicy writes is refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLES, compileFile, repoPath } from './support/env.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', cwd: repoPath() });
const script = compileFile('examples/tinyvmi/vmi.yaml').artifacts!.get('xenstore-acl.sh')!;
const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-xs-'));

test('the examples\' own scripts leave exactly what the lookups need', () => {
  for (const name of EXAMPLES) {
    const r = cli(['check', `examples/${name}/vmi.yaml`, '--format', 'json', '--rules', 'xenstore-acl']);
    assert.equal(r.status, 0, r.stdout);
    assert.deepEqual(JSON.parse(r.stdout).findings, []);
  }
});

test('a script that grants more fails, placed at the script line that did it', () => {
  const lines = script.trimEnd().split('\n');
  lines.push('xenstore-chmod "/local/domain/$d2/data" "n$d2" "r$d1"');
  const file = join(dir, 'wider.sh');
  writeFileSync(file, lines.join('\n') + '\n');
  const r = cli(['check', 'examples/tinyvmi/vmi.yaml', '--xenstore', file, '--format', 'json']);
  assert.equal(r.status, 1, r.stderr);
  const f = JSON.parse(r.stdout).findings.find((x: { ruleId: string }) => x.ruleId === 'xenstore-acl');
  assert.match(f.message, /can read \/local\/domain\/2\/data/);
  assert.ok(f.provenance.some((p: { file: string; line: number }) => p.file === file && p.line === lines.length));
});

test('a script that drops the name lookup\'s grant fails as missing', () => {
  const file = join(dir, 'narrower.sh');
  writeFileSync(file, script.split('\n').filter((l) => !l.includes('"/local/domain/$d2/name"')).join('\n'));
  const r = cli(['check', 'examples/tinyvmi/vmi.yaml', '--xenstore', file, '--format', 'json']);
  assert.equal(r.status, 1);
  assert.ok(JSON.parse(r.stdout).findings.some((x: { message: string }) => /cannot read \/local\/domain\/2\/name/.test(x.message)));
});

test('a script with anything else in it is refused, with its line and column, exit 2', () => {
  const file = join(dir, 'hostile.sh');
  writeFileSync(file, script.replace("d1=$(domid 'tinyvmi')", "d1=$(domid 'tinyvmi'); rm -rf /"));
  const r = cli(['check', 'examples/tinyvmi/vmi.yaml', '--xenstore', file]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /hostile\.sh:\d+:\d+: error VP41\d\d/);
});
