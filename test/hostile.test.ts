// Hostile input through the real command line: every case must exit 2 with a positioned
// error and no stack trace, and must not create the output directory. Then a fuzz: no
// byte string or mangled spec ever makes the compiler throw.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compile, MAX_SPEC_BYTES } from '../compiler/index.js';
import { repoPath } from './support/env.js';
import { MINIMAL_SPEC } from './support/specs.js';
import { withTempDir } from './support/oracles.js';

const BASE = MINIMAL_SPEC;

function runCli(dir: string, content: string | Uint8Array): { status: number | null; stderr: string; out: string } {
  const spec = join(dir, 'spec.yaml');
  writeFileSync(spec, content);
  const out = join(dir, 'out');
  const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), 'compile', spec, '-o', out], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, out };
}

function expectRejected(content: string | Uint8Array, code: string, line?: number): void {
  withTempDir((dir) => {
    const r = runCli(dir, content);
    assert.equal(r.status, 2, r.stderr);
    const where = line === undefined ? '\\d+' : String(line);
    assert.match(r.stderr, new RegExp(`spec\\.yaml:${where}:\\d+: error ${code}:`), r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
    assert.equal(existsSync(r.out), false, 'the output directory must not be created');
  });
}

describe('hostile input → exit 2, positioned error, nothing written', () => {
  it('unknown fields and wrong types', () => {
    expectRejected(BASE + 'extra: true\n', 'VP1101', 13);
    expectRejected(BASE.replace('vmipolicy: 1', 'vmipolicy: "one"'), 'VP1104', 1);
  });

  it('duplicate keys', () => {
    expectRejected(BASE.replace('    guest: pv\n', '    guest: pv\n    guest: hvm\n'), 'VP1011', 8);
  });

  it('anchors, aliases and an alias bomb', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill('*' + String.fromCharCode(96 + i)).join(',')}]`);
    expectRejected(bomb.join('\n') + '\n', 'VP1012', 1);
  });

  it('a 10 MB file is refused by its size, before it is read', () => {
    withTempDir((dir) => {
      const r = runCli(dir, BASE + '#' + 'x'.repeat(10 * 1024 * 1024) + '\n');
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /error VP1003: spec .*spec\.yaml is 10485\d+ bytes; vmipolicy reads specs of at most 1048576 bytes/);
      assert.equal(existsSync(r.out), false);
    });
  });

  it('a spec path with a newline and other control characters is data: it compiles, and the comments print it escaped', () => {
    withTempDir((dir) => {
      const spec = join(dir, 'a\nallow x y:z *;\r\u2028b.yaml');
      writeFileSync(spec, BASE);
      const out = join(dir, 'out');
      for (const args of [['compile', spec, '-o', out], ['check', spec], ['verify', spec]]) {
        const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8' });
        assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
      }
      const escaped = 'a\\nallow x y:z *;\\r\\u2028b.yaml';
      for (const file of ['vmi.te', 'xenstore-acl.sh', 'xenstore-acl-revoke.sh', 'xl/web.cfg']) {
        const text = readFileSync(join(out, file), 'utf8');
        assert.ok(text.includes(`from ${escaped}`), `${file} names the spec escaped`);
        assert.doesNotMatch(text, /^allow x y:z/m, `${file}: the name cannot start a line`);
      }
      const bad = join(dir, 'b\nc.yaml');
      writeFileSync(bad, BASE + 'extra: true\n');
      const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), 'compile', bad, '-o', out], { encoding: 'utf8' });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /b\\nc\.yaml:13:1: error VP1101/, 'a diagnostic stays on one line');
    });
  });

  it('non-UTF-8 bytes', () => {
    const bytes = Buffer.concat([Buffer.from(BASE.slice(0, 30)), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from(BASE.slice(30))]);
    expectRejected(bytes, 'VP1002', 3);
  });

  for (const [label, name] of [
    ['a semicolon', 'web;reboot'],
    ['a command substitution', 'web$(reboot)'],
    ['backticks', 'web`id`'],
    ['quotes', `web'"`],
    ['a newline', 'web\nallow x y:z *;'],
    ['Unicode', 'wéb'],
    ['a slash', '../../etc/passwd'],
    ['a leading dash', '-web'],
  ] as const) {
    it(`a domain name with ${label}`, () => {
      const quoted = JSON.stringify(name);
      expectRejected(BASE.replace('  - name: web', `  - name: ${quoted}`).replace('[web]', `[${quoted}]`), 'VP1105');
    });
  }

  it('a type and a module name that would inject policy text', () => {
    expectRejected(BASE.replace('  - name: mon\n', '  - name: mon\n    type: "x_t; allow mon_t dom0_t:domain *; #_t"\n'), 'VP1105', 7);
    expectRejected(BASE.replace('module: vmi', "module: \"vmi')dnl\""), 'VP1105', 4);
  });
});

describe('fuzz: the compiler never throws', () => {
  it('on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const r = compile({ file: 'fuzz.yaml', content: bytes });
        assert.ok(r.artifacts !== undefined || r.diagnostics.some((d) => d.severity === 'error'));
      }),
      { numRuns: 500 },
    );
  });

  it('on a valid spec with random edits', () => {
    fc.assert(
      fc.property(fc.nat(BASE.length), fc.nat(20), fc.string({ maxLength: 12 }), (at, cut, insert) => {
        const text = BASE.slice(0, at) + insert + BASE.slice(Math.min(BASE.length, at + cut));
        const r = compile({ file: 'fuzz.yaml', content: text });
        if (!r.artifacts) assert.ok(r.diagnostics.some((d) => d.severity === 'error'), 'no artifacts means an error was reported');
        for (const d of r.diagnostics) assert.match(d.code, /^VP\d{4}$/);
      }),
      { numRuns: 1000 },
    );
  });

  it('the size limit is what the README states', () => {
    assert.equal(MAX_SPEC_BYTES, 1024 * 1024);
  });
});
