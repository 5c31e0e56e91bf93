// `vmipolicy policy stats|query` as a user runs them: on a policy.conf and on an unexpanded
// Xen tree, answers traced to the user's module files, errors placed in those files.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, requires, sharedPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vmipolicy policy', () => {
  it('stats of a corpus policy.conf, as JSON', (t) => {
    if (!requires(t, { shared: true })) return;
    const r = cli(['policy', 'stats', sharedPath('corpus', 'xen-4.22', 'policy.conf'), '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { classes: number; types: number; avRules: { allow: number }; booleans: number; expandedAllowEntries: number };
    assert.equal(s.classes, 13);
    assert.equal(s.booleans, 2);
    assert.ok(s.types > 20 && s.avRules.allow > 100 && s.expandedAllowEntries >= s.avRules.allow);
  });

  it('query on an unexpanded Xen tree names the module line behind each permission', (t) => {
    if (!requires(t, { shared: true, commands: ['m4'] })) return;
    const r = cli(['policy', 'query', sharedPath('corpus', 'xen-4.22', 'src'), '-s', 'dom0_t', '-t', 'domU_t', '-c', 'domain', '-p', 'create']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^allow dom0_t domU_t:domain \{[^}]*\bcreate\b[^}]*\};$/m);
    assert.match(r.stdout, /^ {4}modules\/domU\.te:9: allow dom0_t domU_t:domain \{/m);
  });

  it('query --format json; unknown names and missing flags are usage errors', (t) => {
    if (!requires(t, { shared: true })) return;
    const conf = sharedPath('corpus', 'xen-4.17', 'policy.conf');
    const r = cli(['policy', 'query', conf, '-s', 'domU_t', '-t', 'dom0_t', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const entries = JSON.parse(r.stdout) as { source: string; target: string; cls: string; perms: string[]; rules: { at: { file: string; line: number }; rule: string }[] }[];
    const grant = entries.find((e) => e.cls === 'grant');
    assert.ok(grant && grant.perms.includes('map_read'));
    assert.ok(grant.rules.every((x) => x.at.file.startsWith('modules/') && x.rule.startsWith('allow ')));
    assert.equal(cli(['policy', 'query', conf, '-s', 'no_such_t']).status, 2);
    assert.equal(cli(['policy', 'query', conf]).status, 2);
    assert.equal(cli(['policy', 'frob', conf]).status, 2);
  });

  it('a reader that stops early (| head) ends the output quietly, without a stack trace', (t) => {
    if (!requires(t, { shared: true })) return;
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${repoPath('dist', 'cli', 'bin.js')}" policy query "${sharedPath('corpus', 'xen-4.22', 'policy.conf')}" -s domain_type | head -n 1`], { encoding: 'utf8' });
    assert.match(r.stdout, /^allow /);
    assert.equal(r.stderr, '');
  });

  it('errors point into the file m4 read, not into policy.conf', () => {
    withTempDir((dir) => {
      const conf = join(dir, 'policy.conf');
      writeFileSync(conf, ['class domain', 'sid dom0', 'class domain { create }', '#line 1 "modules/mine.te"', 'type a_t;', 'allow a_t b_t:domain create;', ''].join('\n'));
      const r = cli(['policy', 'stats', conf]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^modules\/mine\.te:2:11: error VP3301: unknown type or attribute "b_t"$/m);
    });
  });
});
