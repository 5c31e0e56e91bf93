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

/** A standalone policy with `n` types in attribute `big` and a few attribute-wide rules. */
function bigAttributePolicy(n: number): string {
  return [
    'class xen', 'class domain', 'class grant', 'sid xen',
    'class xen { readconsole }', 'class domain { pause unpause getdomaininfo }', 'class grant { setup }',
    'attribute big;', 'type xen_t;', 'type dom0_t;',
    ...Array.from({ length: n }, (_, i) => `type t${i}_t, big;`),
    'allow big big:domain { pause unpause };', 'allow big self:grant setup;', 'allow dom0_t big:domain getdomaininfo;', 'allow big xen_t:xen readconsole;',
    'role system_r;', 'role system_r types { xen_t dom0_t big };', 'user system_u roles { system_r };', 'sid xen system_u:system_r:xen_t', '',
  ].join('\n');
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

  it('a reader that stops early (| head) ends the output quietly, without a stack trace', () => {
    withTempDir((dir) => {
      const file = join(dir, 'policy.conf');
      writeFileSync(file, bigAttributePolicy(3000));
      // t5_t's entries run to half a megabyte: far past the pipe's buffer when head exits.
      const r = spawnSync('sh', ['-c', `"${process.execPath}" "${repoPath('dist', 'cli', 'bin.js')}" policy query "${file}" -s t5_t | head -n 1`], { encoding: 'utf8' });
      assert.equal(r.stdout, 'allow t5_t t0_t:domain { pause unpause };\n');
      assert.equal(r.stderr, '');
    });
  });

  it('query -s ATTRIBUTE of 3 000 types counts each rule\'s pairs in bounded memory (was: out of memory)', () => {
    const n = 3000;
    const conf = bigAttributePolicy(n);
    withTempDir((dir) => {
      const file = join(dir, 'policy.conf');
      writeFileSync(file, conf);
      // 9 million (source, target) entries would need gigabytes; 200 MiB of heap is plenty for counting.
      const r = spawnSync(process.execPath, ['--max-old-space-size=200', repoPath('dist', 'cli', 'bin.js'), 'policy', 'query', file, '-s', 'big'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr.slice(0, 2000));
      const line = conf.split('\n').indexOf('allow big big:domain { pause unpause };') + 1;
      assert.equal(r.stdout, [
        `${file}:${line}: allow big big:domain { pause unpause };`,
        '    domain { pause unpause }: 9,000,000 (source, target) pairs: t0_t t0_t, t0_t t1_t, t0_t t2_t, …',
        `${file}:${line + 1}: allow big self:grant setup;`,
        '    grant setup: 3,000 (source, target) pairs: t0_t t0_t, t1_t t1_t, t2_t t2_t, …',
        `${file}:${line + 3}: allow big xen_t:xen readconsole;`,
        '    xen readconsole: 3,000 (source, target) pairs: t0_t xen_t, t1_t xen_t, t2_t xen_t, …',
        '',
      ].join('\n'));
      const json = cli(['policy', 'query', file, '-s', 'big', '-t', 'dom0_t', '--format', 'json']);
      assert.equal(json.status, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), []);
      const one = JSON.parse(cli(['policy', 'query', file, '-s', 'big', '-t', 't7_t', '-c', 'domain', '--format', 'json']).stdout) as { pairs: number; rule: string; examples: { source: string; target: string }[] }[];
      assert.deepEqual(one.map((x) => [x.rule, x.pairs, x.examples[0]]), [['allow big big:domain { pause unpause };', n, { source: 't0_t', target: 't7_t' }]]);
    });
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
