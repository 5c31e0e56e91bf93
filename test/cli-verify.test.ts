// The README's first command, as a user runs it: `vmipolicy verify` through the real
// executable, its three stage lines and exit code; `selftest` alone; and refusals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EXAMPLES, repoPath, requires, sharedPath } from './support/env.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', cwd: repoPath() });

test('npx vmipolicy verify examples/tinyvmi/vmi.yaml: compile, PROVEN, self-test PASS, exit 0', () => {
  const r = cli(['verify', 'examples/tinyvmi/vmi.yaml']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^compile\s+ok/);
  assert.match(lines[1] ?? '', /^check\s+PROVEN: /);
  assert.match(lines[2] ?? '', /^selftest\s+(\d+)\/\1 as expected .* PASS$/);
});

test('verify shows the warnings its check line counts, then self-tests (a spec of 4.19 in a 4.17 tree: VP3405 too)', (t) => {
  if (!requires(t, { shared: true, commands: ['m4'] })) return;
  const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), 'verify', 'examples/tinyvmi/vmi.yaml', '--xen-tree', sharedPath('corpus', 'xen-4.17', 'src')], { encoding: 'utf8', cwd: repoPath(), env: { ...process.env, VMIPOLICY_XEN_TREE: '' } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /warning VP3405: the policy .* declares the classes and permissions of Xen 4\.17, 4\.18, not of Xen 4\.19\.6/);
  const counted = Number(/^check\s+PROVEN: .*\b(\d+) warnings?/m.exec(r.stdout)?.[1]);
  assert.ok(counted > 0, r.stdout);
  assert.equal(r.stdout.match(/^ {2}warning /gm)?.length, counted, r.stdout);
  assert.match(r.stdout, /\n\nselftest\s+(\d+)\/\1 as expected .* PASS\n$/);
});

for (const name of EXAMPLES) {
  test(`vmipolicy selftest examples/${name}: every operation as expected, denials in Xen's format`, () => {
    const r = cli(['selftest', `examples/${name}/vmi.yaml`, '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const text = JSON.stringify(report);
    assert.match(text, /avc: {2}denied {2}\{ [a-z_ ]+ \} for /);
  });
}

test('selftest and verify refuse bad input with exit 2 and no stack trace', () => {
  for (const args of [['selftest'], ['verify', 'examples/none.yaml'], ['selftest', 'examples/tinyvmi/vmi.yaml', '--format', 'sarif'], ['verify', 'examples/tinyvmi/vmi.yaml', '--policy', 'x.conf']]) {
    const r = cli(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
