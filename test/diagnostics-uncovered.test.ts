// Diagnostics that no other test produced, each produced here from inputs of its own through
// the entry point a user meets — the library's compile(), the command line (the bin built
// beside this test), or the library function that emits it — and asserted by code, severity
// and, where it has a span, line and column. test/diagnostic-codes.test.ts keeps every code
// of the catalog asserted somewhere.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { compile, positionAt, sourceText, type CompileOptions } from '../compiler/index.js';
import { readXenstoreDump } from '../checker/inputs.js';
import { policyFromText } from '../policy/load.js';
import { runSelftestOn } from '../vmi/selftest/selftest.js';
import { fromXenstoreLs } from '../xenstore/store.js';
import { withTempDir } from './support/oracles.js';

/** The command line of the same build as this test: dist/cli/bin.js beside dist/test/. */
const BIN = fileURLToPath(new URL('../cli/bin.js', import.meta.url));

interface JsonDiagnostic { code: string; severity: string; message: string; line?: number; column?: number }

function cli(args: readonly string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `--format json` output of a failed command: its diagnostics as "CODE severity line:column" (no position: "-"). */
function jsonDiagnostics(stdout: string): string[] {
  return jsonBody(stdout).map((d) => `${d.code} ${d.severity} ${d.line === undefined ? '-' : `${d.line}:${d.column}`}`);
}

function jsonMessages(stdout: string): string[] {
  return jsonBody(stdout).map((d) => d.message);
}

function jsonBody(stdout: string): JsonDiagnostic[] {
  const body = JSON.parse(stdout) as { ok?: boolean; diagnostics?: JsonDiagnostic[] };
  assert.equal(body.ok, false, stdout);
  return body.diagnostics ?? [];
}

// A monitor watching one guest; a point release, so that no note about later point releases
// of a bare branch (VP2005) is added.
const SPEC = `vmipolicy: 1
xen: "4.20.4"
policy:
  module: watch
introspectors:
  - name: probe
    guest: pv
    targets: [vm1]
    capabilities: [domain-info, read-memory]
targets:
  - name: vm1
    guest: hvm
`;

/** compile() through the library: whether it produced artifacts, and each diagnostic as "CODE severity line:column". */
function compiled(text: string, options: CompileOptions = {}): { artifacts: boolean; found: string[] } {
  const r = compile({ file: 'watch.yaml', content: text }, options);
  const source = sourceText('watch.yaml', text);
  const found = r.diagnostics.map((d) => {
    const at = d.span ? positionAt(source, d.span.start) : undefined;
    return `${d.code} ${d.severity} ${at ? `${at.line}:${at.column}` : '-'}`;
  });
  return { artifacts: r.artifacts !== undefined, found };
}

function replaced(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `the input holds ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

describe('spec diagnostics no other test produces', () => {
  it('the spec these tests change compiles with no diagnostic at all', () => {
    assert.deepEqual(compiled(SPEC), { artifacts: true, found: [] });
  });

  it('VP1015: a mapping key that is not a string (a number, a boolean, a sequence), at the key', () => {
    assert.deepEqual(compiled(replaced(SPEC, 'policy:\n', 'policy:\n  7: seven\n')), { artifacts: false, found: ['VP1015 error 4:3'] });
    assert.deepEqual(compiled(replaced(SPEC, '    guest: hvm\n', '    guest: hvm\n    true: yes\n')), { artifacts: false, found: ['VP1015 error 13:5'] });
    assert.deepEqual(compiled(replaced(SPEC, '    guest: pv\n', '    guest: pv\n    ? [a, b]\n    : c\n')), { artifacts: false, found: ['VP1015 error 8:7'] });
    // Quoted, the same key is a string: then it is only a field the schema does not know.
    assert.deepEqual(compiled(replaced(SPEC, 'policy:\n', 'policy:\n  "7": seven\n')).found, ['VP1101 error 4:3']);
  });

  it('VP1106: an empty targets or capabilities list, a description over 500 characters', () => {
    const noTargets = compiled(replaced(SPEC, 'targets: [vm1]', 'targets: []'));
    assert.equal(noTargets.artifacts, false);
    assert.deepEqual(noTargets.found.filter((f) => f.startsWith('VP1106')), ['VP1106 error 8:14']);
    assert.deepEqual(compiled(replaced(SPEC, 'capabilities: [domain-info, read-memory]', 'capabilities: []')), { artifacts: false, found: ['VP1106 error 9:19'] });
    const described = (n: number): string => replaced(SPEC, '    guest: hvm\n', `    guest: hvm\n    description: "${'d'.repeat(n)}"\n`);
    assert.deepEqual(compiled(described(501)), { artifacts: false, found: ['VP1106 error 13:18'] });
    assert.deepEqual(compiled(described(500)), { artifacts: true, found: [] });
  });

  it('VP2002: altp2m on Xen 4.8, which has only the mixed mode, is a warning at the capability', () => {
    const on48 = replaced(replaced(SPEC, '"4.20.4"', '"4.8"'), 'read-memory]', 'read-memory, altp2m]');
    assert.deepEqual(compiled(on48), { artifacts: true, found: ['VP2002 warning 9:46'] });
    // From 4.9 altp2m="external" exists: no warning.
    assert.deepEqual(compiled(replaced(on48, '"4.8"', '"4.9"')), { artifacts: true, found: [] });
  });

  it('VP2003: a target no introspector watches is a warning at its name', () => {
    assert.deepEqual(compiled(`${SPEC}  - name: spare\n    guest: pv\n`), { artifacts: true, found: ['VP2003 warning 13:11'] });
  });

  it('the command line places the same spec diagnostics (VP1015 from compile --format json)', () => {
    withTempDir((dir) => {
      writeFileSync(join(dir, 'watch.yaml'), replaced(SPEC, 'policy:\n', 'policy:\n  7: seven\n'));
      const r = cli(['compile', 'watch.yaml', '-o', 'out', '--format', 'json'], dir);
      assert.equal(r.status, 2, r.stderr);
      assert.deepEqual(jsonDiagnostics(r.stdout), ['VP1015 error 4:3']);
      assert.equal(existsSync(join(dir, 'out')), false);
    });
  });
});

// A small complete policy.conf of our own: two classes (xen through a common), an attribute,
// two types, one role, one user and the xen initial SID.
const POLICY = `class xen
class domain
sid xen
common basics { read }
class xen inherits basics { settime }
class domain { create }
attribute grp;
type hyp_t, grp;
type guest_t;
role system_r;
role system_r types { hyp_t guest_t };
user system_u roles system_r;
sid xen system_u:system_r:hyp_t
`;

/** `vmipolicy policy stats FILE --format json` (or text) on a policy text. */
function policyStats(text: string, format: 'json' | 'text' = 'json'): { status: number | null; stdout: string; stderr: string } {
  return withTempDir((dir) => {
    writeFileSync(join(dir, 'own.conf'), text);
    return cli(['policy', 'stats', 'own.conf', '--format', format], dir);
  });
}

describe('policy diagnostics no other test produces (vmipolicy policy stats)', () => {
  it('the policy these tests change is read with no diagnostic', () => {
    const r = policyStats(POLICY);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal((JSON.parse(r.stdout) as { types: number }).types, 2);
  });

  it('VP3307: a class inheriting a common that is not declared, at the common\'s name', () => {
    const r = policyStats(replaced(POLICY, 'inherits basics', 'inherits basic'));
    assert.equal(r.status, 2, r.stderr);
    assert.deepEqual(jsonDiagnostics(r.stdout), ['VP3307 error 5:20']);
  });

  it('VP3315: a type named where an attribute belongs (type t, other_type;), at that name', () => {
    const r = policyStats(replaced(POLICY, 'type guest_t;', 'type guest_t, hyp_t;'));
    assert.equal(r.status, 2, r.stderr);
    assert.deepEqual(jsonDiagnostics(r.stdout), ['VP3315 error 9:15']);
  });

  // checkpolicy's expand refuses two unconditional type rules giving one key different results
  // (expand_terule_helper, "conflicting type rules"); the same result twice is one rule, and a
  // rule under a condition is another table's business.
  const RULES = 'type_transition hyp_t guest_t:domain hyp_t;\n';
  for (const [name, extra, expected] of [
    ['a second result for the same key, through an attribute', 'type_transition grp guest_t:domain guest_t;\n', ['VP3316 error 11:1']],
    ['a second result through self', 'type_transition hyp_t self:domain guest_t;\ntype_transition hyp_t hyp_t:domain hyp_t;\n', ['VP3316 error 12:1']],
    ['the same result again', 'type_transition grp guest_t:domain hyp_t;\n', []],
    ['another class', 'type_transition hyp_t guest_t:xen guest_t;\n', []],
    ['a type_change, not a type_transition', 'type_change hyp_t guest_t:domain guest_t;\n', []],
  ] as const) {
    it(`VP3316 conflicting type rules: ${name}${expected.length ? '' : ' (silent)'}, as checkpolicy decides`, () => {
      const text = replaced(POLICY, 'role system_r;', `${RULES}${extra}role system_r;`);
      const r = policyStats(text);
      if (expected.length) assert.deepEqual(jsonDiagnostics(r.stdout), expected, r.stderr);
      assert.equal(r.status, expected.length ? 2 : 0, r.stderr);
      const cp = withTempDir((dir) => {
        writeFileSync(join(dir, 'p.conf'), text);
        return spawnSync('checkpolicy', ['-t', 'Xen', '-c', '30', join(dir, 'p.conf'), '-o', join(dir, 'p.bin')], { encoding: 'utf8' });
      });
      if (cp.error) return; // no checkpolicy here: the table above is what it decides
      assert.equal(cp.status === 0, expected.length === 0, `checkpolicy: ${cp.stderr}`);
    });
  }

  it('VP3314: an attribute used by typeattribute before its declaration, at the use', () => {
    const r = policyStats(replaced(POLICY, 'type guest_t;\n', 'type guest_t;\ntypeattribute guest_t late_a;\nattribute late_a;\n'));
    assert.equal(r.status, 2, r.stderr);
    assert.deepEqual(jsonDiagnostics(r.stdout), ['VP3314 error 10:23']);
    // Declared nowhere, the same name is an unknown type or attribute instead.
    const nowhere = policyStats(replaced(POLICY, 'type guest_t;\n', 'type guest_t;\ntypeattribute guest_t late_a;\n'));
    assert.deepEqual(jsonDiagnostics(nowhere.stdout), ['VP3301 error 10:23']);
  });

  it('VP3008: "~" in an alias list is a warning at the list; the policy is still read', () => {
    const text = replaced(POLICY, 'type guest_t;', 'type guest_t alias ~g2_t;');
    const json = policyStats(text);
    assert.equal(json.status, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as { aliases: number }).aliases, 1);
    const r = policyStats(text, 'text');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^own\.conf:9:20: warning VP3008: an alias list names aliases/m);
    assert.equal(r.stderr.match(/\bVP\d{4}\b/g)?.length, 1, r.stderr);
  });
});

describe('check input diagnostics no other test produces', () => {
  it('VP3404: an extra --policy file beside a tree that is not <name>.te with a module name', () => {
    withTempDir((dir) => {
      writeFileSync(join(dir, 'watch.yaml'), SPEC);
      mkdirSync(join(dir, 'tree'));
      for (const extra of ['Bad-Name.te', 'extra.conf']) {
        writeFileSync(join(dir, extra), 'type extra_t;\n');
        const r = cli(['check', 'watch.yaml', '--policy', 'tree', '--policy', extra, '--format', 'json'], dir);
        assert.equal(r.status, 2, `${extra}: ${r.stderr}`);
        assert.deepEqual(jsonDiagnostics(r.stdout), ['VP3404 error -'], extra);
        assert.match(jsonMessages(r.stdout)[0] ?? '', new RegExp(`^cannot add ${extra.replace('.', '\\.')} to a Xen tree`));
      }
    });
  });

  // VP3403: a dump with no node carrying permissions — an empty file, or `xenstore-ls` run
  // without -p — says nothing about the ACLs; checking against it would prove them from nothing.
  it('VP3403: check --xenstore with an empty dump or one without permissions is refused, not PROVEN', () => {
    withTempDir((dir) => {
      writeFileSync(join(dir, 'watch.yaml'), SPEC);
      for (const [name, text] of [['empty.txt', ''], ['no-perms.txt', 'local = ""\n domain = ""\n  1 = ""\n  name = "vm1"\n']] as const) {
        writeFileSync(join(dir, name), text);
        const r = cli(['check', 'watch.yaml', '--xenstore', name, '--format', 'json'], dir);
        assert.equal(r.status, 2, `${name}: ${r.stdout}${r.stderr}`);
        assert.deepEqual(jsonDiagnostics(r.stdout).filter((d) => !d.startsWith('VP3402')), ['VP3403 error -'], name);
        assert.match(jsonMessages(r.stdout).find((m) => m.includes('neither')) ?? '', new RegExp(`^${name.replace('.', '\\.')} is neither`));
      }
    });
  });

  // And reading a dump never fails without saying why: no state always comes with an error.
  it('reading a xenstore dump never fails without an error diagnostic', () => {
    const cases = ['', '\n', '#!/bin/sh\n', 'vmipolicy: 1\nxen: "4.20"\n', '\u0000\u0001garbage', '/a = "x"  (n0)\n  b = "y"  (r0\n', ' /x\n\t\ty\n'];
    const silent = (text: string): boolean => {
      const { state, diagnostics } = readXenstoreDump('dump.txt', text);
      return state === undefined && !diagnostics.some((d) => d.severity === 'error');
    };
    for (const text of cases) assert.equal(silent(text), false, JSON.stringify(text));
    const line = fc.oneof(fc.string(), fc.constantFrom('/local = ""  (n0)', 'local = ""  (n0)', ' domain = ""  (r1)', '   x = "' , '(n0,r1)', '='));
    fc.assert(fc.property(fc.array(line, { maxLength: 8 }), (lines) => !silent(lines.join('\n'))), { numRuns: 500 });
  });
});

describe('xenstore, output and self-test diagnostics no other test produces', () => {
  it('VP4113: a dump whose ACL names a domain the store was not given is a warning at that node', () => {
    const text = '/local = ""  (n0)\n/local/domain = ""  (n0)\n/local/domain/9 = ""  (n9,r0)\n';
    const source = sourceText('dump.txt', text);
    const without = fromXenstoreLs('dump.txt', text, { domains: [0] });
    assert.deepEqual(
      without.diagnostics.map((d) => `${d.code} ${d.severity} ${d.span ? `${positionAt(source, d.span.start).line}:${positionAt(source, d.span.start).column}` : '-'}`),
      ['VP4113 warning 3:1'],
    );
    assert.deepEqual(fromXenstoreLs('dump.txt', text, { domains: [0, 9] }).diagnostics, []);
  });

  it('VP9002: compile -o under a regular file cannot write, and says so', () => {
    withTempDir((dir) => {
      writeFileSync(join(dir, 'watch.yaml'), SPEC);
      writeFileSync(join(dir, 'plain'), 'a file, not a directory\n');
      const r = cli(['compile', 'watch.yaml', '-o', 'plain/out', '--format', 'json'], dir);
      assert.equal(r.status, 2, r.stderr);
      assert.deepEqual(jsonDiagnostics(r.stdout), ['VP9002 error -']);
      assert.match(jsonMessages(r.stdout)[0] ?? '', /^could not write plain\/out: ENOTDIR/);
    });
  });

  it('VP9005: leftovers of an interrupted run that cannot be put right: a non-directory, two old trees', () => {
    withTempDir((dir) => {
      writeFileSync(join(dir, 'watch.yaml'), SPEC);
      mkdirSync(join(dir, 'a'));
      writeFileSync(join(dir, 'a', '.out.vmipolicy-Qw3rT9'), 'not a tree\n');
      const file = cli(['compile', 'watch.yaml', '-o', 'a/out', '--format', 'json'], dir);
      assert.equal(file.status, 2, file.stderr);
      assert.deepEqual(jsonDiagnostics(file.stdout), ['VP9005 error -']);
      assert.match(jsonMessages(file.stdout)[0] ?? '', /^cannot recover a\/out from an interrupted run: .*\.out\.vmipolicy-Qw3rT9 is not a directory$/);

      mkdirSync(join(dir, 'b', '.out.vmipolicy-aaaaaa.old'), { recursive: true });
      mkdirSync(join(dir, 'b', '.out.vmipolicy-bbbbbb.old'));
      const two = cli(['compile', 'watch.yaml', '-o', 'b/out', '--format', 'json'], dir);
      assert.equal(two.status, 2, two.stderr);
      assert.deepEqual(jsonDiagnostics(two.stdout), ['VP9005 error -']);
      assert.match(jsonMessages(two.stdout)[0] ?? '', /^cannot recover b\/out from an interrupted run: several earlier trees could be it/);
      // Refused, nothing changed: both old trees are still there and no DIR was made.
      assert.deepEqual(readdirSync(join(dir, 'b')).sort(), ['.out.vmipolicy-aaaaaa.old', '.out.vmipolicy-bbbbbb.old']);
    });
  });

  it('VP9011: compiled output the simulated host cannot boot (a seclabel outside the policy, a missing xl file)', () => {
    const r = compile({ file: 'watch.yaml', content: SPEC }, { mode: 'standalone' });
    assert.ok(r.artifacts);
    const conf = r.artifacts.get('policy.conf');
    assert.ok(conf !== undefined);
    const loaded = policyFromText('policy.conf', conf);
    assert.ok(loaded.policy, JSON.stringify(loaded.diagnostics));
    const run = (artifacts: ReadonlyMap<string, string>) => runSelftestOn({ artifacts, policy: loaded.policy!, spec: 'watch.yaml' });
    const passed = run(r.artifacts);
    assert.ok('report' in passed && passed.report.verdict === 'pass', 'the untouched output boots and passes');

    const relabelled = new Map(r.artifacts);
    const xl = relabelled.get('xl/vm1.cfg');
    assert.ok(xl !== undefined && /system_u:system_r:vm1_t/.test(xl), xl);
    relabelled.set('xl/vm1.cfg', xl.replace('system_u:system_r:vm1_t', 'system_u:system_r:elsewhere_t'));
    const badLabel = run(relabelled);
    assert.ok('diagnostics' in badLabel, 'no report');
    assert.deepEqual(badLabel.diagnostics.map((d) => [d.code, d.severity]), [['VP9011', 'error']]);
    assert.match(badLabel.diagnostics[0]!.message, /vm1.*elsewhere_t/);

    const missing = new Map(r.artifacts);
    missing.delete('xl/probe.cfg');
    const noXl = run(missing);
    assert.ok('diagnostics' in noXl, 'no report');
    assert.deepEqual(noXl.diagnostics.map((d) => [d.code, d.severity, d.message]), [['VP9011', 'error', 'cannot boot the simulated host: xl/probe.cfg is missing']]);
  });
});
