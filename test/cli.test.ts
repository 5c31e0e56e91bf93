// The command line as a user meets it: the README's commands, exit codes, atomic output,
// refusing to replace a directory vmipolicy did not write, JSON diagnostics, and the
// capability reference in docs/ being the one the code generates.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { capabilityReferenceMarkdown } from '../catalog/reference.js';
import { repoPath, requires } from './support/env.js';
import { withTempDir } from './support/oracles.js';
import { MINIMAL_SPEC } from './support/specs.js';

function cli(args: string[], cwd = repoPath()): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', cwd });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vmipolicy compile', () => {
  it('compiles the README example into the documented files', () => {
    withTempDir((dir) => {
      const out = join(dir, 'out');
      const r = cli(['compile', 'examples/tinyvmi/vmi.yaml', '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readdirSync(out, { recursive: true }).map(String).sort(), [
        'manifest.json', 'modules.conf.append', 'vmi.te', 'xenstore-acl-revoke.sh', 'xenstore-acl.sh', 'xl', 'xl/tinyvmi.cfg', 'xl/ubuntu.cfg',
      ]);
      assert.match(readFileSync(join(out, 'xl', 'tinyvmi.cfg'), 'utf8'), /^seclabel = "system_u:system_r:tinyvmi_t"/m);
    });
  });

  it('replaces its own earlier output, but not a directory it did not write', () => {
    withTempDir((dir) => {
      const out = join(dir, 'out');
      assert.equal(cli(['compile', 'examples/tinyvmi/vmi.yaml', '-o', out]).status, 0);
      assert.equal(cli(['compile', 'examples/drakvuf/vmi.yaml', '-o', out]).status, 0);
      assert.ok(existsSync(join(out, 'policy.conf')) && !existsSync(join(out, 'vmi.te')), 'old files replaced as a whole');
      const mine = join(dir, 'mine');
      mkdirSync(mine);
      writeFileSync(join(mine, 'notes.txt'), 'keep me');
      const r = cli(['compile', 'examples/tinyvmi/vmi.yaml', '-o', mine]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /VP9001/);
      assert.deepEqual(readdirSync(mine), ['notes.txt']);
    });
  });

  it('writes nothing when the spec has errors, and says where', () => {
    withTempDir((dir) => {
      const spec = join(dir, 'bad.yaml');
      writeFileSync(spec, readFileSync(repoPath('examples', 'tinyvmi', 'vmi.yaml'), 'utf8').replace('targets: [ubuntu]', 'targets: [ubunt]'));
      const r = cli(['compile', spec, '-o', join(dir, 'out')]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /bad\.yaml:20:15: error VP1204: introspector "tinyvmi" targets "ubunt"/);
      assert.match(r.stderr, /help: did you mean "ubuntu"\?/);
      assert.equal(existsSync(join(dir, 'out')), false);
    });
  });

  it('--format json reports diagnostics with positions on stdout', () => {
    withTempDir((dir) => {
      const spec = join(dir, 'bad.yaml');
      writeFileSync(spec, 'vmipolicy: 1\nxen: "4.22"\n');
      const r = cli(['compile', spec, '-o', join(dir, 'out'), '--format', 'json']);
      assert.equal(r.status, 2);
      const body = JSON.parse(r.stdout) as { ok: boolean; diagnostics: { code: string; line: number; column: number }[] };
      assert.equal(body.ok, false);
      assert.deepEqual(body.diagnostics.map((d) => [d.code, d.line, d.column]), [['VP1103', 1, 1], ['VP1103', 1, 1], ['VP1103', 1, 1]]);
    });
  });

  it('--xen and --mode override the spec', () => {
    withTempDir((dir) => {
      const out = join(dir, 'out');
      assert.equal(cli(['compile', 'examples/tinyvmi/vmi.yaml', '-o', out, '--xen', '4.11', '--mode', 'standalone']).status, 0);
      const conf = readFileSync(join(out, 'policy.conf'), 'utf8');
      assert.match(conf, /for Xen 4\.11\./);
      assert.doesNotMatch(conf, /^class argo$/m, 'argo arrived in 4.12');
    });
  });

  it('usage errors exit 2; a missing file is reported, not thrown', () => {
    assert.equal(cli([]).status, 2);
    assert.equal(cli(['compile']).status, 2);
    assert.equal(cli(['compile', 'examples/tinyvmi/vmi.yaml']).status, 2);
    assert.equal(cli(['frobnicate']).status, 2);
    assert.equal(cli(['compile', 'x.yaml', '-o', '/tmp/x', '--mode', 'both']).status, 2);
    const r = cli(['compile', 'does-not-exist.yaml', '-o', '/tmp/vmipolicy-never']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /VP1001: cannot read does-not-exist\.yaml: ENOENT/);
    assert.equal(cli(['--version']).status, 0);
    assert.equal(cli(['--help']).status, 0);
  });
});

describe('vmipolicy capabilities', () => {
  it('lists every capability, and docs/capabilities.md is the generated reference', () => {
    const r = cli(['capabilities']);
    assert.equal(r.status, 0);
    for (const c of ['domain-info', 'read-memory', 'memory-events', 'altp2m', 'singlestep']) assert.match(r.stdout, new RegExp(`^${c} `, 'm'));
    assert.equal(readFileSync(repoPath('docs', 'capabilities.md'), 'utf8'), capabilityReferenceMarkdown() + '\n', 'run npm run docs');
  });
});

describe('vmipolicy: a new user’s mistakes on the command line', () => {
  // Each: what was typed, the exit code, the one line on stderr (or stdout) that answers it.
  const mistakes: readonly [readonly string[], number, 'stdout' | 'stderr', RegExp][] = [
    [['verfy', 'examples/tinyvmi/vmi.yaml'], 2, 'stderr', /^vmipolicy: unknown command 'verfy' \(did you mean 'verify'\?\)$/m],
    [['Check'], 2, 'stderr', /^vmipolicy: unknown command 'Check' \(did you mean 'check'\?\)$/m],
    [['frobnicate'], 2, 'stderr', /^vmipolicy: unknown command 'frobnicate'$/m],
    [['verify', 'examples/tinyvmi/vmi.yaml', '--fromat', 'json'], 2, 'stderr', /^vmipolicy: unknown option --fromat \(did you mean --format\?\)$/m],
    [['diff', 'a.yaml', 'b.yaml', '--fial-on', 'new-access'], 2, 'stderr', /^vmipolicy: unknown option --fial-on \(did you mean --fail-on\?\)$/m],
    [['compile', 'examples/tinyvmi/vmi.yaml', '--ouput', 'x'], 2, 'stderr', /^vmipolicy: unknown option --ouput \(did you mean --out\?\)$/m],
    // Releases are suggested by version order, not spelling ("4.23" is near 4.22, not 4.13).
    [['compile', 'examples/tinyvmi/vmi.yaml', '-o', 'never-written', '--xen', '4.23'], 2, 'stderr', /^ {2}help: did you mean --xen 4\.22\?$/m],
    [['compile', 'examples/tinyvmi/vmi.yaml', '-o', 'never-written', '--xen', '4.7'], 2, 'stderr', /^ {2}help: did you mean --xen 4\.8\?$/m],
    [['check', 'examples/tinyvmi/vmi.yaml', '--format', 'sarif', '--sarif-root', 'no-such-dir'], 2, 'stderr', /^vmipolicy: --sarif-root no-such-dir is not a directory$/m],
    [['diff', 'examples/tinyvmi/vmi.yaml', 'examples/tinyvmi/vmi.yaml', '--sarif-root', 'README.md'], 2, 'stderr', /^vmipolicy: --sarif-root README\.md is not a directory$/m],
    [['-V'], 0, 'stdout', /^vmipolicy \d+\.\d+\.\d+$/m],
    [['version'], 0, 'stdout', /^vmipolicy \d+\.\d+\.\d+$/m],
  ];
  for (const [args, status, stream, expected] of mistakes) {
    it(`vmipolicy ${args.join(' ')}`, () => {
      const r = cli([...args]);
      assert.equal(r.status, status, r.stderr);
      assert.match(r[stream], expected);
    });
  }

  it('COMMAND --help prints that command’s usage, not every command’s', () => {
    for (const command of ['verify', 'selftest', 'compile', 'check', 'diff', 'capabilities', 'policy', 'vmi']) {
      const r = cli([command, '--help']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage:\\n  vmipolicy ${command} `));
      const others = r.stdout.split('\n').filter((l) => /^ {2}vmipolicy \w/.test(l) && !l.startsWith(`  vmipolicy ${command} `));
      assert.deepEqual(others, [], `${command} --help shows other commands`);
    }
    assert.match(cli(['--help']).stdout, /^ {2}vmipolicy verify [\s\S]*^ {2}vmipolicy diff /m);
  });
});

describe('vmipolicy: a new user’s mistakes in a spec', () => {
  // Each: the mistake, made in the minimal spec; the one error `check` prints for it (its
  // code, line and column) and the help line under it.
  const mistakes: readonly [string, (spec: string) => string, string, RegExp][] = [
    ['a misspelt field', (s) => s.replace('    guest: pv\n', '    guest: pv\n    capabilites: [pause]\n'), 'VP1101 at 8:5', /help: did you mean "capabilities"\?/],
    ['a misspelt capability', (s) => s.replace('read-memory]', 'read-memroy]'), 'VP1207 at 9:33', /help: did you mean "read-memory"\?/],
    ['a guest kind in capitals', (s) => s.replace('    guest: hvm\n', '    guest: HVM\n'), 'VP1104 at 12:12', /help: did you mean "hvm"\?/],
    ['a tab for indentation', (s) => s.replace('    targets: [web]\n', '\ttargets: [web]\n'), 'VP1016 at 8:1', /help: replace the tab \(shown as →\) with spaces/],
    ['a capability without the one it needs', (s) => s.replace('[domain-info, read-memory]', '[read-memory, pause]'), 'VP1210 at 9:20', /help: add domain-info to the capabilities of "mon"/],
    ['a release after the last one known', (s) => s.replace('xen: "4.19.6"', 'xen: "4.23"'), 'VP1201 at 2:6', /help: did you mean "4\.22"\?/],
    ['a misspelt target', (s) => s.replace('targets: [web]', 'targets: [wbe]'), 'VP1204 at 8:15', /help: did you mean "web"\?/],
  ];
  for (const [what, mistake, expected, help] of mistakes) {
    it(`${what}: one error, ${expected}, with its help`, () => {
      withTempDir((dir) => {
        writeFileSync(join(dir, 'spec.yaml'), mistake(MINIMAL_SPEC));
        const r = cli(['check', 'spec.yaml'], dir);
        assert.equal(r.status, 2, r.stderr);
        const errors = [...r.stderr.matchAll(/^spec\.yaml:(\d+):(\d+): error (VP\d{4}):/gm)].map((m) => `${m[3]} at ${m[1]}:${m[2]}`);
        assert.deepEqual(errors, [expected], r.stderr);
        assert.match(r.stderr, new RegExp(`^ {2}${help.source}`, 'm'));
        assert.match(r.stderr, /^vmipolicy: cannot check \(1 error, \d+ warnings?\)$/m);
      });
    });
  }
});

describe('vmipolicy: --quiet and check --fail-on', () => {
  // tinyvmi proves, with two warnings on the way: VP2004 (memory-events lets it write any page)
  // and VP3402 (no Xen tree given, so it was checked inside our own base).
  const SPEC = 'examples/tinyvmi/vmi.yaml';

  it('--quiet (-q) keeps errors on stderr and drops warnings there, but not from JSON', () => {
    const loud = cli(['check', SPEC]);
    assert.equal(loud.status, 0, loud.stderr);
    assert.match(loud.stderr, /warning VP2004/);
    for (const flag of ['--quiet', '-q']) {
      const quiet = cli(['check', SPEC, flag]);
      assert.equal(quiet.status, 0, quiet.stderr);
      assert.equal(quiet.stderr, '', flag);
      assert.equal(quiet.stdout, loud.stdout);
    }
    const json = JSON.parse(cli(['check', SPEC, '-q', '--format', 'json']).stdout) as { diagnostics?: { code: string }[] };
    assert.ok(json.diagnostics?.some((d) => d.code === 'VP2004'), 'the warning left the JSON');
    const broken = cli(['compile', 'no-such-spec.yaml', '-o', 'never-written', '--quiet']);
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /error VP\d{4}/);
  });

  it('compile --quiet keeps its warnings off stderr (the file list stays on stdout)', () => {
    withTempDir((dir) => {
      const loud = cli(['compile', SPEC, '-o', join(dir, 'a')]);
      assert.equal(loud.status, 0, loud.stderr);
      assert.match(loud.stderr, /warning VP2004/);
      const quiet = cli(['compile', SPEC, '-o', join(dir, 'b'), '--quiet']);
      assert.equal(quiet.status, 0, quiet.stderr);
      assert.equal(quiet.stderr, '');
      assert.match(quiet.stdout, /^wrote \d+ files to .* \(0 errors, 1 warning\)$/m);
    });
  });

  it('a warning met again word for word is shown once, with a count and where else; JSON keeps every one', () => {
    withTempDir((dir) => {
      const log = join(dir, 'dmesg.txt');
      const bad = '(XEN) avc:  denied  { bogus } for domid=1 scontext=system_u:system_r:x_t tcontext=garbage\n';
      writeFileSync(log, bad.repeat(8));
      const text = cli(['explain', log, '--spec', SPEC]);
      assert.equal(text.status, 0, text.stderr);
      assert.equal(text.stderr.match(/warning VP3601/g)?.length, 1, text.stderr);
      assert.match(text.stderr, /^ {2}and 7 more like this one: \S*dmesg\.txt:2:7, \S*dmesg\.txt:3:7, \S*dmesg\.txt:4:7, \S*dmesg\.txt:5:7, \S*dmesg\.txt:6:7 and 2 more$/m);
      const json = JSON.parse(cli(['explain', log, '--spec', SPEC, '--format', 'json']).stdout) as { diagnostics: { code: string }[] };
      assert.equal(json.diagnostics.filter((d) => d.code === 'VP3601').length, 8);
    });
  });

  it('check --fail-on warning exits 1 for a warning; error (the default) does not; anything else is a usage error', () => {
    assert.equal(cli(['check', SPEC, '--fail-on', 'warning']).status, 1);
    assert.equal(cli(['check', SPEC, '--fail-on', 'error']).status, 0);
    const bad = cli(['check', SPEC, '--fail-on', 'note']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^vmipolicy: --fail-on takes error or warning, not note$/m);
  });
});

describe('vmipolicy: colour on a terminal only', () => {
  const ESC = '\u001b[';
  /** stderr of the command run on a pseudo-terminal (util-linux `script`), stdout discarded. */
  function onTerminal(args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
    const line = [process.execPath, repoPath('dist', 'cli', 'bin.js'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync('script', ['-qec', `${line} >/dev/null`, '/dev/null'], { encoding: 'utf8', cwd: repoPath(), env: { ...process.env, NO_COLOR: '', TERM: 'xterm', ...env } });
    return r.stdout;
  }

  it('coloured severity and caret on a terminal; none with NO_COLOR, --no-color, or in a pipe', (t) => {
    if (!requires(t, { commands: ['script'] })) return;
    const SPEC = 'examples/tinyvmi/vmi.yaml';
    const coloured = onTerminal(['check', SPEC]);
    assert.ok(coloured.includes(`${ESC}1;33mwarning VP2004${ESC}0m`), JSON.stringify(coloured.slice(0, 200)));
    assert.ok(!onTerminal(['check', SPEC], { NO_COLOR: '1' }).includes(ESC));
    assert.ok(!onTerminal(['check', SPEC, '--no-color']).includes(ESC));
    assert.ok(!onTerminal(['check', SPEC], { TERM: 'dumb' }).includes(ESC));
    assert.ok(!cli(['check', SPEC]).stderr.includes(ESC), 'colour in a pipe');
  });
});

describe('vmipolicy: progress on a terminal only', () => {
  it('verify says what it is doing on a terminal; not in a pipe, not with --quiet', (t) => {
    if (!requires(t, { commands: ['script'] })) return;
    const SPEC = 'examples/tinyvmi/vmi.yaml';
    const run = (args: readonly string[]): string => {
      const line = [process.execPath, repoPath('dist', 'cli', 'bin.js'), ...args].map((a) => `'${a}'`).join(' ');
      return spawnSync('script', ['-qec', `${line} >/dev/null`, '/dev/null'], { encoding: 'utf8', cwd: repoPath(), env: { ...process.env, NO_COLOR: '1' } }).stdout;
    };
    const shown = run(['verify', SPEC]);
    assert.match(shown, /^vmipolicy: compiling and checking examples\/tinyvmi\/vmi\.yaml…\r?$/m);
    assert.match(shown, /^vmipolicy: proven; self-testing 1 introspector on a simulated host…\r?$/m);
    assert.doesNotMatch(run(['verify', SPEC, '--quiet']), /vmipolicy: compiling/);
    assert.doesNotMatch(cli(['verify', SPEC]).stderr, /vmipolicy: compiling/);
  });
});
