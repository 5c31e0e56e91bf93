// `vmipolicy diff` at the command line: formats (text, JSON, markdown, SARIF 2.1.0 at the
// NEW locations), exit codes (0, 1 with --fail-on new-access, 2 for bad input — always a
// VP50xx or input diagnostic, never a stack trace), a spec facing its own compiled policy,
// and a Xen policy tree read from a git revision.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runDiff } from '../cli/diff.js';
import { compileText, repoPath, requires, sharedPath, artifactsOf } from './support/env.js';
import { withTempDir } from './support/oracles.js';

function cli(args: readonly string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runDiff(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

const SPEC = readFileSync(repoPath('examples', 'tinyvmi', 'vmi.yaml'), 'utf8');
const LESS = SPEC.replace('capabilities: [domain-info, read-memory, read-registers, pause, memory-events]', 'capabilities: [domain-info, read-memory, read-registers, pause]');

function specs<T>(fn: (oldPath: string, newPath: string, dir: string) => T): T {
  return withTempDir((dir) => {
    const a = join(dir, 'old.yaml');
    const b = join(dir, 'new.yaml');
    writeFileSync(a, LESS);
    writeFileSync(b, SPEC);
    return fn(a, b, dir);
  });
}

describe('vmipolicy diff: formats and exit codes', () => {
  it('text by default; exit 0 without --fail-on, 1 with it when NEW adds access, 0 when it only removes', () => {
    specs((a, b) => {
      const r = cli([a, b]);
      assert.equal(r.code, 0);
      assert.match(r.out, /^NEW ACCESS: 9 permissions added/m);
      assert.match(r.out, /tinyvmi gains memory-events on ubuntu → .*domain2:mem_access, domain2:vm_event, hvm:getparam/);
      assert.equal(cli([a, b, '--fail-on', 'new-access']).code, 1);
      assert.equal(cli([b, a, '--fail-on', 'new-access']).code, 0);
      assert.equal(cli([a, a, '--fail-on', 'new-access']).code, 0);
    });
  });

  it('JSON: the report with a format number, deterministic', () => {
    specs((a, b) => {
      const r = cli([a, b, '--format', 'json']);
      const j = JSON.parse(r.out) as { format: number; newAccess: boolean; spec: { capabilities: { capability: string; change: string }[] }; policy: { access: { subject: string; added: string[] }[] } };
      assert.equal(j.format, 1);
      assert.equal(j.newAccess, true);
      assert.deepEqual(j.spec.capabilities.map((c) => `${c.change} ${c.capability}`), ['gained memory-events', 'gained vm_event channel']);
      assert.equal(cli([a, b, '--format', 'json']).out, r.out);
    });
  });

  it('SARIF 2.1.0: one new-access result per widened (subject, object, class), at the NEW spec line (the compiled policy is never written, so it is no location)', () => {
    specs((a, b, dir) => {
      const s = JSON.parse(cli([a, b, '--format', 'sarif', '--sarif-root', dir]).out) as {
        version: string;
        runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[]; relatedLocations?: unknown[] }[] }[];
      };
      assert.equal(s.version, '2.1.0');
      const run = s.runs[0];
      assert.ok(run);
      assert.deepEqual(run.tool.driver.rules.map((r) => r.id), ['new-access', 'new-capability', 'new-xenstore-access', 'new-finding']);
      const access = run.results.filter((r) => r.ruleId === 'new-access');
      assert.equal(access.length, 6);
      for (const r of access) {
        assert.equal(r.locations[0]?.physicalLocation.artifactLocation.uri, 'new.yaml');
        assert.equal(r.locations[0]?.physicalLocation.region.startLine, 21);
        assert.equal(r.relatedLocations, undefined);
      }
      assert.ok(access.some((r) => r.message.text === 'new access: tinyvmi_t ubuntu_t:domain2 { mem_access vm_event }'));
      assert.equal(run.results.filter((r) => r.ruleId === 'new-capability').length, 2);
    });
  });

  it('markdown: a verdict line, a table per introspector, raw detail folded', () => {
    specs((a, b) => {
      const md = cli([a, b, '--format', 'markdown']).out;
      assert.match(md, /^### vmipolicy diff: ⚠️ new access$/m);
      assert.match(md, /^#### Introspector <code>tinyvmi<\/code>$/m);
      assert.match(md, /^\*\*<code>tinyvmi\\_t<\/code>\*\*$/m);
      assert.match(md, /<details><summary>Raw detail<\/summary>[\s\S]*<br>[\s\S]*<\/details>/);
      assert.match(cli([b, a, '--format', 'markdown']).out, /^### vmipolicy diff: ✅ no new access$/m);
    });
  });

  it('usage errors exit 2', () => {
    assert.equal(cli([]).code, 2);
    assert.equal(cli(['a.yaml']).code, 2);
    assert.equal(cli(['a', 'b', 'c']).code, 2);
    assert.match(cli(['a', 'b', '--format', 'pdf']).err, /--format must be text, json, markdown, sarif or html/);
    assert.match(cli(['a', 'b', '--fail-on', 'anything']).err, /--fail-on takes new-access/);
    assert.equal(cli(['a', 'b', '--bogus']).code, 2);
    assert.match(cli(['a', 'b', '--constraints-as', 'system_u']).err, /--constraints-as takes USER:ROLE/);
  });

  it('bad inputs: a VP50xx or input diagnostic and exit 2, never a stack trace', () => {
    specs((a, _b, dir) => {
      const missing = cli([join(dir, 'nope.yaml'), a]);
      assert.equal(missing.code, 2);
      assert.match(missing.err, /VP5003/);
      for (const bad of ['git:', 'git:HEAD', 'git:--output=x:a.yaml', 'git:HEAD:/etc/passwd', 'git:HEAD:../x.yaml', 'git:HEAD..main:a.yaml', 'git:HEAD:-x']) {
        const r = cli([bad, a]);
        assert.equal(r.code, 2, bad);
        assert.match(r.err, /VP5001/, bad);
        assert.doesNotMatch(r.err, /\n\s+at /, bad);
      }
      const broken = join(dir, 'broken.yaml');
      writeFileSync(broken, LESS.replace('read-memory', 'read-memroy'));
      const r = cli([broken, a]);
      assert.equal(r.code, 2);
      assert.match(r.err, /VP1207/);
      assert.match(r.err, /VP5003/);
      const json = JSON.parse(cli([broken, a, '--format', 'json']).out) as { ok: boolean; diagnostics: { code: string }[] };
      assert.equal(json.ok, false);
      assert.ok(json.diagnostics.some((d) => d.code === 'VP1207'));
      const garbage = join(dir, 'garbage.conf');
      writeFileSync(garbage, 'allow allow allow');
      const g = cli([garbage, garbage]);
      assert.equal(g.code, 2);
      assert.match(g.err, /VP3001/);
    });
  });

  it('--xenstore-old/--xenstore-new: ACL changes of two xenstore-ls -p dumps; a domain gaining read is new access', () => {
    withTempDir((dir) => {
      const a = join(dir, 'a.conf');
      writeFileSync(a, 'class xen\nsid xen\nclass xen { settime }\ntype xen_t;\nrole system_r;\nrole system_r types xen_t;\nuser system_u roles system_r;\nsid xen system_u:system_r:xen_t\n');
      const before = join(dir, 'before.txt');
      const after = join(dir, 'after.txt');
      writeFileSync(before, 'local = ""  (n0)\n domain = ""  (n0)\n  5 = ""  (n5)\n   name = "web"  (n0,r5)\n');
      writeFileSync(after, 'local = ""  (n0)\n domain = ""  (n0,r7)\n  5 = ""  (n5)\n   name = "web"  (n0)\n');
      const r = cli([a, a, '--xenstore-old', before, '--xenstore-new', after, '--fail-on', 'new-access']);
      assert.equal(r.code, 1, r.err);
      assert.match(r.out, /^  \+ \/local\/domain: dom7 n → r$/m);
      assert.match(r.out, /^  - \/local\/domain\/5\/name: dom5 r → n$/m);
      assert.equal(cli([a, a, '--xenstore-old', after, '--xenstore-new', before, '--fail-on', 'new-access']).code, 1, 'dom5 regains read');
      assert.equal(cli([a, a, '--xenstore-old', after, '--xenstore-new', after, '--fail-on', 'new-access']).code, 0);
      assert.equal(cli([a, a, '--xenstore-old', after]).code, 2);
      const bad = join(dir, 'bad.txt');
      writeFileSync(bad, 'x = "1"  (q9)\n');
      const b = cli([a, a, '--xenstore-old', bad, '--xenstore-new', after]);
      assert.equal(b.code, 2);
      assert.match(b.err, /VP320/);
    });
  });

  it('a spec against the standalone policy.conf it compiles to: no permission changes', () => {
    withTempDir((dir) => {
      const spec = join(dir, 'vmi.yaml');
      writeFileSync(spec, SPEC);
      const conf = join(dir, 'policy.conf');
      writeFileSync(conf, artifactsOf(compileText(SPEC, { mode: 'standalone' })).get('policy.conf') as string);
      const r = JSON.parse(cli([spec, conf, '--format', 'json']).out) as { newAccess: boolean; policy: { access: unknown[] }; notes: string[] };
      assert.deepEqual(r.policy.access, []);
      assert.equal(r.newAccess, false);
      assert.ok(r.notes.some((n) => /compiled standalone/.test(n)));
    });
  });

  it('git:REV:path of a Xen policy tree (ls-tree + cat-file into a temp dir) against the same tree on disk: empty; and against 4.11', (t) => {
    if (!requires(t, { shared: true, commands: ['git', 'm4'] })) return;
    withTempDir((dir) => {
      const src = sharedPath('corpus', 'xen-4.22', 'src');
      for (const p of ['tools/flask/policy', 'xen/xsm/flask/policy']) {
        mkdirSync(join(dir, p), { recursive: true });
        cpSync(join(src, p), join(dir, p), { recursive: true });
      }
      const git = (...args: string[]) => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, encoding: 'utf8' });
      git('init', '-q');
      git('add', '.');
      assert.equal(git('commit', '-q', '-m', 'xen 4.22 policy').status, 0);
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        const same = cli(['git:HEAD:tools/flask/policy', 'tools/flask/policy', '--format', 'json', '--fail-on', 'new-access']);
        assert.equal(same.code, 0, same.err);
        assert.deepEqual((JSON.parse(same.out) as { policy: { access: unknown[] } }).policy.access, []);
        const older = cli([sharedPath('corpus', 'xen-4.11', 'policy.conf'), 'git:HEAD:tools/flask/policy', '--fail-on', 'new-access']);
        assert.equal(older.code, 1, older.err);
        assert.match(older.out, /^  \+ dom0_t domxen_t:domain getdomaininfo$/m);
        const none = cli(['git:HEAD:no/such/dir', 'tools/flask/policy']);
        assert.equal(none.code, 2);
        assert.match(none.err, /VP5002/);
        const norev = cli(['git:nosuchrev:tools/flask/policy', 'tools/flask/policy']);
        assert.equal(norev.code, 2);
        assert.match(norev.err, /VP5002/);
      } finally {
        process.chdir(cwd);
      }
    });
  });
});
