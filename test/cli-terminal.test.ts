// Hostile strings through the real executable: a guest whose task comm holds escape
// sequences, a profile with an ANSI key, a policy whose #line marker names a file with
// ESC in it, a xenstore dump with names xenstored never creates and one 90 KB path. The
// text output shows every such string escaped (nothing a terminal obeys reaches stdout or
// stderr), JSON keeps the exact data, and bad dumps are exit 2 at their line and column.
// And the machine outputs of selftest and verify are the same bytes on every run.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildSyntheticGuest } from '../vmi/guest/synthetic-guest.js';
import { profileJson } from '../vmi/guest/linux-profile.js';
import { writeRawSnapshot } from '../vmi/guest/snapshot-files.js';
import { AddressSpace } from '../vmi/paging/address-space.js';
import { compileStandalone, inject } from './support/checker.js';
import { repoPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', cwd: repoPath(), maxBuffer: 64 << 20 });

/** What a terminal obeys rather than shows (newlines aside, which end the output's own lines). */
const OBEYED = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

function assertShowable(out: string, what: string): void {
  out.split('\n').forEach((line, i) => assert.doesNotMatch(line, OBEYED, `${what}, line ${i + 1}: ${JSON.stringify(line)}`));
}

// A #line name with a control character is refused by the parser (VP3004); Unicode format
// characters are legal names and must reach the terminal escaped.
const HOSTILE_FILE = 'a\u2066b\u202e.te';

describe('hostile strings reach the terminal escaped', () => {
  it('vmi ps: a comm with ESC, CSI, newline, BEL and DEL read from guest memory', () => {
    const guest = buildSyntheticGuest({ seed: 5, memoryBytes: 32 << 20, dataPages: 1 });
    const victim = guest.processes[3]!;
    const kernel = new AddressSpace(guest.image, 'ia32e', guest.dtb);
    const at = kernel.translate(victim.task + BigInt(guest.profile.comm));
    assert.ok(at.ok);
    const comm = [0x1b, ...Buffer.from('[2Jevil'), 0x9b, ...Buffer.from('31m'), 0x0a, 0x07, 0x7f];
    assert.ok(guest.image.write(at.physical, Uint8Array.from([...comm, 0])));
    withTempDir((dir) => {
      const snapshot = join(dir, 'g.raw');
      const profile = join(dir, 'profile.json');
      writeRawSnapshot(guest.image, snapshot);
      writeFileSync(profile, profileJson(guest.profile));
      const common = ['vmi', 'ps', '--snapshot', snapshot, '--dtb', '0x' + guest.dtb.toString(16), '--profile', profile];
      const text = cli(common);
      assert.equal(text.status, 0, text.stderr);
      assertShowable(text.stdout, 'ps');
      assert.match(text.stdout, new RegExp(`^\\[ *${victim.pid}\\] \\\\x1b\\[2Jevil\\\\x9b31m\\\\n\\\\x07\\\\x7f \\(struct addr:`, 'm'));
      assert.equal(text.stdout.trim().split('\n').length, guest.processes.length, 'the newline in comm forges no line');
      const json = cli([...common, '--format', 'json']);
      assert.equal(json.status, 0, json.stderr);
      const listed = (JSON.parse(json.stdout) as { processes: { pid: number; comm: string }[] }).processes.find((p) => p.pid === victim.pid);
      assert.equal(listed?.comm, String.fromCharCode(...comm), 'JSON keeps the exact bytes');
    });
  });

  it('vmi ps: a profile whose unknown key holds ANSI colour codes', () => {
    const guest = buildSyntheticGuest({ seed: 5, memoryBytes: 32 << 20, dataPages: 1 });
    withTempDir((dir) => {
      const snapshot = join(dir, 'g.raw');
      writeRawSnapshot(guest.image, snapshot);
      const profile = join(dir, 'profile.json');
      writeFileSync(profile, JSON.stringify({ ...JSON.parse(profileJson(guest.profile)), '\x1b[31mred\x1b[0m\u2066': 1 }));
      const r = cli(['vmi', 'ps', '--snapshot', snapshot, '--dtb', '0x' + guest.dtb.toString(16), '--profile', profile]);
      assert.equal(r.status, 2);
      assertShowable(r.stderr, 'stderr');
      assert.match(r.stderr, /VP4011 .*unknown field "\\x1b\[31mred\\x1b\[0m\\u2066"/);
    });
  });

  it('policy stats and query: a #line marker naming a file with bidi isolate and override characters', () => {
    withTempDir((dir) => {
      const conf = join(dir, 'policy.conf');
      writeFileSync(conf, ['class domain', 'sid dom0', 'class domain { create }', `#line 1 "${HOSTILE_FILE}"`, 'type a_t;', 'allow a_t b_t:domain create;', ''].join('\n'));
      const r = cli(['policy', 'stats', conf]);
      assert.equal(r.status, 2);
      assertShowable(r.stderr, 'stderr');
      assert.match(r.stderr, /^a\\u2066b\\u202e\.te:2:11: error VP3301: unknown type or attribute "b_t"$/m);
      const base = compileStandalone('vmipolicy: 1\nxen: "4.22"\npolicy: { module: vmi, mode: standalone }\nintrospectors:\n  - { name: mon, type: mon_t, guest: pv, targets: [web], capabilities: [domain-info], lookup: domid }\ntargets:\n  - { name: web, type: web_t, guest: hvm }\n');
      const good = join(dir, 'good.conf');
      writeFileSync(good, inject(base.policyText, [`#line 1 "${HOSTILE_FILE}"`, 'allow mon_t web_t:domain setvcpucontext;']).text);
      const q = cli(['policy', 'query', good, '-s', 'mon_t', '-t', 'web_t', '-c', 'domain', '-p', 'setvcpucontext']);
      assert.equal(q.status, 0, q.stderr);
      assertShowable(q.stdout, 'query');
      assert.match(q.stdout, /^ {4}a\\u2066b\\u202e\.te:1: allow mon_t web_t:domain setvcpucontext;$/m);
      // check: the finding cites the rule under the hostile name, escaped in the text report.
      const spec = join(dir, 'spec.yaml');
      writeFileSync(spec, 'vmipolicy: 1\nxen: "4.22"\npolicy: { module: vmi, mode: standalone }\nintrospectors:\n  - { name: mon, type: mon_t, guest: pv, targets: [web], capabilities: [domain-info], lookup: domid }\ntargets:\n  - { name: web, type: web_t, guest: hvm }\n');
      const c = cli(['check', spec, '--policy', good]);
      assert.equal(c.status, 1, c.stderr);
      assertShowable(c.stdout, 'check');
      assert.match(c.stdout, /a\\u2066b\\u202e\.te:1:1 {2}allow mon_t web_t:domain setvcpucontext;/);
    });
  });

  it('compile: a spec whose values and lines hold ESC and a bidi override', () => {
    withTempDir((dir) => {
      const spec = join(dir, 'spec.yaml');
      writeFileSync(spec, 'vmipolicy: 1\nxen: "4.1\x1b[2J\u202e"\npolicy: { module: vmi, mode: standalone }\nintrospectors: []\ntargets: []\n');
      const r = cli(['compile', spec, '-o', join(dir, 'out')]);
      assert.equal(r.status, 2, r.stdout);
      assertShowable(r.stderr, 'stderr');
      assert.match(r.stderr, /4\.1\\x1b\[2J\\u202e/);
    });
  });

  it('check --xenstore: a dump with names xenstored never creates, and one 90 KB path: exit 2 at line:column', () => {
    withTempDir((dir) => {
      const dump = join(dir, 'dump.txt');
      writeFileSync(dump, ['local = ""  (n0)', ' dom\x1b]0;pwned\x07ain = ""  (n0)', ' ok\u202ecod = ""  (n0)', ''].join('\n'));
      const r = cli(['check', 'examples/tinyvmi/vmi.yaml', '--xenstore', dump]);
      assert.equal(r.status, 2, r.stdout);
      assertShowable(r.stderr, 'stderr');
      assert.match(r.stderr, /dump\.txt:2:5: error VP3204: xenstored never creates the node name "dom\\x1b\]0;pwned\\x07ain": it holds the character U\+001B/);
      assert.match(r.stderr, /dump\.txt:3:4: error VP3204: .*"ok\\u202ecod": it holds the character U\+202E/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');

      const deep = join(dir, 'deep.txt');
      writeFileSync(deep, `/${Array.from({ length: 30_000 }, () => 'abc').join('/')} = "v"  (n0)\n`);
      const d = cli(['check', 'examples/tinyvmi/vmi.yaml', '--xenstore', deep]);
      assert.equal(d.status, 2, d.stdout);
      assert.match(d.stderr, /deep\.txt:1:1: error VP3205: this node's path is 120000 characters long; xenstored accepts at most 2048/);
    });
  });
});

describe('machine output is the same bytes on every run', () => {
  it('selftest --format json: no timings unless --timings; then they are there', () => {
    const args = ['selftest', 'examples/tinyvmi/vmi.yaml', '--format', 'json'];
    const a = cli(args);
    const b = cli(args);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.equal((JSON.parse(a.stdout) as { timings: unknown }).timings, null);
    const timed = cli([...args, '--timings']);
    assert.equal(timed.status, 0, timed.stderr);
    const report = JSON.parse(timed.stdout) as { timings: { totalMicros: number; operations: number[] }; operations: unknown[] };
    assert.ok(typeof report.timings.totalMicros === 'number' && report.timings.operations.length === report.operations.length);
    assert.deepEqual({ ...report, timings: null }, JSON.parse(a.stdout));
  });

  it('selftest text and verify --format json too', () => {
    for (const args of [['selftest', 'examples/tinyvmi/vmi.yaml'], ['verify', 'examples/tinyvmi/vmi.yaml', '--format', 'json']]) {
      const a = cli(args);
      const b = cli(args);
      assert.equal(a.status, 0, a.stderr);
      assert.equal(a.stdout, b.stdout, args.join(' '));
    }
    assert.match(cli(['selftest', 'examples/tinyvmi/vmi.yaml', '--timings']).stdout, /^host booted in \d+ µs; \d+ operations in \d+ µs$/m);
  });
});
