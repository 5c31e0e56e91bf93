// formats/xen-tree.ts: an unexpanded Xen policy tree becomes policy.conf through the real m4,
// byte for byte what Xen's Makefile.common flow (../shared/tools/build-xen-policy.sh)
// produces; bad trees and failing m4 are diagnostics; the user's tree is never written.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { enabledModules, expandXenPolicyTree, type XenPolicyExpansion } from '../formats/xen-tree.js';
import { artifactsOf, compileFile, CORPUS_RELEASES, hasCommand, repoPath, requires, sharedPath } from './support/env.js';
import { checkpolicy, withTempDir } from './support/oracles.js';

const corpusTree = (release: string): string => sharedPath('corpus', `xen-${release}`, 'src');
const FLASK_REL = '../../../xen/xsm/flask/policy';

interface ScriptRun {
  readonly status: number | null;
  readonly output: string;
  /** OUT/policy.conf (written by m4 before checkpolicy runs, so present even if checkpolicy fails). */
  readonly policyConf: string;
  /** The m4 arguments the script echoes in its "+ (cd … && m4 ARGS > …)" line. */
  readonly m4Args: readonly string[];
}

/** ../shared/tools/build-xen-policy.sh -s TREE -o OUT ARGS… */
function buildXenPolicy(tree: string, out: string, args: readonly string[] = []): ScriptRun {
  const r = spawnSync('bash', [sharedPath('tools', 'build-xen-policy.sh'), '-s', tree, '-o', out, ...args], { encoding: 'utf8', timeout: 120_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const echoed = /^\+ \(cd \S+ && \S+ (.*) > \S+\)$/m.exec(r.stderr ?? '');
  let policyConf = '';
  try {
    policyConf = readFileSync(join(out, 'policy.conf'), 'utf8');
  } catch {
    // left empty: the assertion on it shows the script's output
  }
  return { status: r.status, output, policyConf, m4Args: echoed?.[1]?.split(' ') ?? [] };
}

/** The compiled module of an example for a release: [name, .te text]. */
function vmiModule(release: string): [string, string] {
  const artifacts = artifactsOf(compileFile('examples/tinyvmi/vmi.yaml', { xen: release, mode: 'module' }));
  const [teName, te] = [...artifacts].find(([name]) => name.endsWith('.te')) ?? ['', ''];
  assert.ok(te !== '', 'the module compile produced a .te');
  return [teName.replace(/\.te$/, ''), te];
}

function expanded(r: XenPolicyExpansion): string {
  assert.deepEqual(
    r.diagnostics.map((d) => `${d.code} ${d.message}`),
    [],
  );
  assert.ok(r.text !== undefined);
  return r.text;
}

/** Every path under dir with its type, mode and content hash (or link target): a tree's fingerprint. */
function snapshot(dir: string): string[] {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    const path = join(dir, rel);
    const st = lstatSync(path);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) lines.push(`${rel} link ${mode} ${readlinkSync(path)}`);
    else if (st.isDirectory()) {
      lines.push(`${rel}/ dir ${mode}`);
      for (const name of readdirSync(path).sort()) walk(rel === '' ? name : `${rel}/${name}`);
    } else lines.push(`${rel} file ${mode} ${st.size} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
  };
  walk('');
  return lines;
}

/**
 * Runs `fn` with os.tmpdir() a fresh private directory (other processes on the machine create
 * vmipolicy-xen-tree-* directories in the shared one), and returns what is left in it.
 */
function leftInTmp(fn: () => void): string[] {
  const saved = process.env.TMPDIR;
  const tmp = mkdtempSync(join(tmpdir(), 'vmipolicy-test-tmp-'));
  process.env.TMPDIR = tmp;
  try {
    fn();
    return readdirSync(tmp);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * A small tree with Xen's layout, enough for m4 (not for checkpolicy): every file the
 * Makefile needs, modules a (with .if and .cons) and b enabled, c off.
 */
function syntheticTree(root: string): string {
  const files: Record<string, string> = {
    'xen/xsm/flask/policy/security_classes': 'class xen\n',
    'xen/xsm/flask/policy/initial_sids': 'sid xen\n',
    'xen/xsm/flask/policy/access_vectors': 'class xen { tick }\n',
    'tools/flask/policy/Makefile.common': '# stand-in\n',
    'tools/flask/policy/policy/security_classes': '',
    'tools/flask/policy/policy/access_vectors': '',
    'tools/flask/policy/policy/support/misc_macros.spt': "define(`mkt', `type $1_t;')\n",
    'tools/flask/policy/policy/mls': "ifdef(`enable_mls', `mls on', `mls off')\n",
    'tools/flask/policy/policy/global_tunables': '',
    'tools/flask/policy/policy/users': 'user system_u roles { system_r };\n',
    'tools/flask/policy/policy/initial_sids': 'sid xen system_u:system_r:xen_t\n',
    'tools/flask/policy/policy/device_contexts': '',
    'tools/flask/policy/modules/modules.conf': '# modules\na = on\nb = on\nc = off\n',
    'tools/flask/policy/modules/a.te': 'mkt(a)\n',
    'tools/flask/policy/modules/a.if': "define(`a_iface', `allow $1 a_t:xen tick;')\n",
    'tools/flask/policy/modules/a.cons': 'constrain xen tick ( t1 == t2 );\n',
    'tools/flask/policy/modules/b.te': 'mkt(b)\na_iface(b_t)\n',
    'tools/flask/policy/modules/c.te': 'mkt(c)\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

describe('Xen policy tree expansion equals Xen\'s Makefile.common flow', () => {
  for (const release of CORPUS_RELEASES) {
    it(`Xen ${release}: byte-identical to build-xen-policy.sh and to the corpus policy.conf, same m4 arguments, compiles`, (t) => {
      if (!requires(t, { shared: true, commands: ['m4', 'checkpolicy'] })) return;
      const r = expandXenPolicyTree({ tree: corpusTree(release) });
      const text = expanded(r);
      assert.equal(r.file, join(corpusTree(release), 'policy.conf'));
      assert.deepEqual(r.notes, []);
      withTempDir((dir) => {
        const script = buildXenPolicy(corpusTree(release), join(dir, 'out'));
        assert.equal(script.status, 0, script.output);
        assert.ok(text === script.policyConf, `expansion differs from build-xen-policy.sh's policy.conf (Xen ${release})`);
        assert.deepEqual(r.m4Args, script.m4Args);
        // The corpus's policy.conf is that same flow's output (checked: identical for all three).
        assert.ok(text === readFileSync(sharedPath('corpus', `xen-${release}`, 'policy.conf'), 'utf8'), 'expansion differs from the corpus policy.conf');
        const cp = checkpolicy(dir, text);
        assert.ok(cp.ok, cp.output);
      });
      assert.match(text, /^#line 1 "\.\.\/\.\.\/\.\.\/xen\/xsm\/flask\/policy\/security_classes"$/m);
      assert.match(text, /^#line 1 "modules\/domU\.te"$/m);
    });

    it(`Xen ${release} with vmipolicy's module added: byte-identical to build-xen-policy.sh -m, compiles`, (t) => {
      if (!requires(t, { shared: true, commands: ['m4', 'checkpolicy'] })) return;
      const [name, te] = vmiModule(release);
      const r = expandXenPolicyTree({ tree: corpusTree(release), extraModules: [{ name, te }] });
      const text = expanded(r);
      assert.match(text, new RegExp(`^#line 1 "modules/${name}\\.te"$`, 'm'));
      withTempDir((dir) => {
        const teFile = join(dir, `${name}.te`);
        writeFileSync(teFile, te);
        const script = buildXenPolicy(corpusTree(release), join(dir, 'out'), ['-m', `${name}=${teFile}`]);
        assert.equal(script.status, 0, script.output);
        assert.ok(text === script.policyConf, `expansion with module ${name} differs from build-xen-policy.sh -m (Xen ${release})`);
        assert.deepEqual(r.m4Args, script.m4Args);
        const cp = checkpolicy(dir, text);
        assert.ok(cp.ok, cp.output);
      });
    });

    it(`Xen ${release}, MLS: byte-identical to build-xen-policy.sh -M (whose checkpolicy -M run fails on stock policy/mls)`, (t) => {
      if (!requires(t, { shared: true, commands: ['m4', 'checkpolicy'] })) return;
      const r = expandXenPolicyTree({ tree: corpusTree(release), mls: true });
      const text = expanded(r);
      assert.ok(r.m4Args?.includes('enable_mls'));
      withTempDir((dir) => {
        const script = buildXenPolicy(corpusTree(release), join(dir, 'out'), ['-M']);
        // Stock policy/mls names domain:getextvcpucontext, which the access vectors no longer define.
        assert.match(script.output, /getextvcpucontext/);
        assert.ok(script.policyConf !== '', script.output);
        assert.ok(text === script.policyConf, `MLS expansion differs from build-xen-policy.sh -M (Xen ${release})`);
        assert.deepEqual(r.m4Args, script.m4Args);
      });
    });
  }

  it('Xen 4.17 with a stock module disabled: byte-identical to build-xen-policy.sh -x', (t) => {
    if (!requires(t, { shared: true, commands: ['m4', 'checkpolicy'] })) return;
    const r = expandXenPolicyTree({ tree: corpusTree('4.17'), disabledModules: ['nomigrate', 'vm_role'] });
    const text = expanded(r);
    assert.doesNotMatch(text, /modules\/nomigrate\.te|modules\/vm_role\.(te|cons)/);
    withTempDir((dir) => {
      const script = buildXenPolicy(corpusTree('4.17'), join(dir, 'out'), ['-x', 'nomigrate', '-x', 'vm_role']);
      assert.equal(script.status, 0, script.output);
      assert.ok(text === script.policyConf);
      assert.deepEqual(r.m4Args, script.m4Args);
    });
  });

  it('the tools/flask/policy directory alone (default or explicit flaskDir) expands the same as the source root', (t) => {
    if (!requires(t, { shared: true, commands: ['m4'] })) return;
    const whole = expanded(expandXenPolicyTree({ tree: corpusTree('4.22') }));
    const policyDir = join(corpusTree('4.22'), 'tools/flask/policy');
    assert.ok(expanded(expandXenPolicyTree({ tree: policyDir })) === whole);
    const explicit = expandXenPolicyTree({ tree: policyDir, flaskDir: join(corpusTree('4.22'), 'xen/xsm/flask/policy') });
    assert.ok(expanded(explicit) === whole);
    assert.equal(explicit.file, join(policyDir, 'policy.conf'));
  });

  it('a module .te without a final newline: kept as Xen builds it (byte-identical to the script), and noted', (t) => {
    if (!requires(t, { shared: true, commands: ['m4', 'checkpolicy'] })) return;
    const [name, te] = vmiModule('4.17');
    const unterminated = te.replace(/\n+$/, '');
    const r = expandXenPolicyTree({ tree: corpusTree('4.17'), extraModules: [{ name, te: unterminated }] });
    const text = expanded(r);
    assert.equal(r.notes.length, 1, r.notes.join('\n'));
    assert.match(r.notes[0] ?? '', new RegExp(`^modules/${name}\\.te does not end with a newline.*policy/users`));
    // m4 glued the module's last line to policy/users' first line.
    const lastLine = unterminated.slice(unterminated.lastIndexOf('\n') + 1);
    assert.ok(text.includes(lastLine) && !text.includes(`${lastLine}\n`), 'the last line is joined to the next file');
    withTempDir((dir) => {
      const teFile = join(dir, `${name}.te`);
      writeFileSync(teFile, unterminated);
      const script = buildXenPolicy(corpusTree('4.17'), join(dir, 'out'), ['-m', `${name}=${teFile}`]);
      assert.match(script.output, /no final newline/);
      assert.ok(text === script.policyConf);
    });
  });

  it('the user\'s tree is never written, and the temporary copy is removed (success, m4 failure, bad names)', (t) => {
    if (!requires(t, { shared: true, commands: ['m4'] })) return;
    const tree = corpusTree('4.17');
    const before = snapshot(tree);
    const [name, te] = vmiModule('4.17');
    const left = leftInTmp(() => {
      expanded(expandXenPolicyTree({ tree, extraModules: [{ name, te, if: '# interfaces\n', cons: '# constraints\n' }], disabledModules: ['nomigrate'] }));
      assert.ok(expandXenPolicyTree({ tree, extraModules: [{ name: 'broken', te: 'type broken_t;\n`\n' }] }).diagnostics.length > 0);
      assert.ok(expandXenPolicyTree({ tree, extraModules: [{ name: '../../evil', te: '' }] }).diagnostics.length > 0);
    });
    assert.deepEqual(snapshot(tree), before);
    assert.deepEqual(left, []);
  });
});

describe('Xen policy tree: the files m4 reads and how', () => {
  it('section order and m4 arguments follow Makefile.common (synthetic tree)', (t) => {
    if (!requires(t, { commands: ['m4'] })) return;
    withTempDir((dir) => {
      const tree = syntheticTree(join(dir, 'xen'));
      const r = expandXenPolicyTree({ tree });
      const text = expanded(r);
      assert.deepEqual(r.m4Args, [
        '-D', 'self_contained_policy', '-s', '-D', 'mls_num_sens=16', '-D', 'mls_num_cats=256',
        `${FLASK_REL}/security_classes`, 'policy/security_classes', `${FLASK_REL}/initial_sids`,
        `${FLASK_REL}/access_vectors`, 'policy/access_vectors', 'policy/support/misc_macros.spt', 'policy/mls',
        'modules/a.if', 'policy/global_tunables', 'modules/a.te', 'modules/b.te', 'policy/users',
        'modules/a.cons', 'policy/initial_sids', 'policy/device_contexts',
      ]);
      assert.match(text, /^mls off$/m);
      assert.match(text, /^type a_t;$/m);
      assert.match(text, /^allow b_t a_t:xen tick;$/m);
      assert.doesNotMatch(text, /c_t/);
      const mls = expanded(expandXenPolicyTree({ tree, mls: true }));
      assert.match(mls, /^mls on$/m);
      // Extra modules go last among the .te (appended "= on"), with their .if and .cons.
      const extra = expandXenPolicyTree({ tree, extraModules: [{ name: 'z', te: 'mkt(z)\n', if: '# z if\n', cons: '# z cons\n' }], disabledModules: ['a', 'nothere'] });
      expanded(extra);
      assert.deepEqual(extra.m4Args?.filter((a) => a.startsWith('modules/')), ['modules/z.if', 'modules/b.te', 'modules/z.te', 'modules/z.cons']);
      assert.equal(extra.notes.length, 1);
      assert.match(extra.notes[0] ?? '', /"nothere" is not enabled/);
    });
  });

  it('modules.conf is read as Makefile.common\'s awk reads it', () => {
    const conf = [
      '# comment = on',
      'xen = on',
      '  dom0\t=\ton  # trailing comment',
      'domU=on',
      'Upper = on',
      'off_one = off',
      'crlf = on\r',
      'twice = on',
      '_under = on',
      'twice = on',
      '9lives = on',
      'three = on = more',
      'last = on',
    ].join('\n');
    const expected = ['xen', 'dom0', 'twice', 'twice', 'three', 'last'];
    assert.deepEqual(enabledModules(conf), expected);
    if (hasCommand('awk')) {
      const awk = spawnSync('awk', ['/^[ \\t]*[a-z]/{ if ($3 == "on") print $1 }'], { input: conf, encoding: 'utf8' });
      assert.deepEqual(awk.stdout.split('\n').filter((l) => l !== ''), expected);
    }
  });

  it('missing tree pieces are VP3007 naming the missing path', () => {
    withTempDir((dir) => {
      const nowhere = join(dir, 'nowhere');
      const r0 = expandXenPolicyTree({ tree: nowhere });
      assert.deepEqual(r0.diagnostics.map((d) => [d.code, d.message]), [['VP3007', `not a Xen policy tree: ${nowhere} is missing`]]);
      assert.equal(r0.text, undefined);

      mkdirSync(join(dir, 'empty'));
      const r1 = expandXenPolicyTree({ tree: join(dir, 'empty') });
      assert.deepEqual(r1.diagnostics.map((d) => d.code), ['VP3007']);
      assert.ok(r1.diagnostics[0]?.message.includes(join(dir, 'empty', 'tools/flask/policy')));

      const tree = syntheticTree(join(dir, 'xen'));
      rmSync(join(tree, 'tools/flask/policy/modules/b.te'));
      rmSync(join(tree, 'xen/xsm/flask/policy/access_vectors'));
      rmSync(join(tree, 'tools/flask/policy/modules/c.te')); // off: not needed
      const r2 = expandXenPolicyTree({ tree });
      assert.equal(r2.text, undefined);
      assert.deepEqual(
        r2.diagnostics.map((d) => [d.code, d.message]),
        [
          ['VP3007', `not a Xen policy tree: ${join(tree, 'xen/xsm/flask/policy/access_vectors')} is missing`],
          ['VP3007', `not a Xen policy tree: ${join(tree, 'tools/flask/policy/modules/b.te')} is missing`],
        ],
      );
      // A module enabled twice is missing once.
      writeFileSync(join(tree, 'tools/flask/policy/modules/modules.conf'), 'a = on\nb = on\nb = on\n');
      assert.equal(expandXenPolicyTree({ tree }).diagnostics.length, 2);
      // Disabling the module whose .te is missing is what a user would do.
      const r3 = expandXenPolicyTree({ tree, disabledModules: ['b'] });
      assert.deepEqual(r3.diagnostics.map((d) => d.code), ['VP3007']);

      rmSync(join(tree, 'tools/flask/policy/modules/modules.conf'));
      const r4 = expandXenPolicyTree({ tree: join(tree, 'tools/flask/policy'), flaskDir: join(dir, 'flask-elsewhere') });
      assert.deepEqual(
        r4.diagnostics.map((d) => d.message),
        [
          `not a Xen policy tree: ${join(dir, 'flask-elsewhere', 'security_classes')} is missing`,
          `not a Xen policy tree: ${join(dir, 'flask-elsewhere', 'initial_sids')} is missing`,
          `not a Xen policy tree: ${join(dir, 'flask-elsewhere', 'access_vectors')} is missing`,
          `not a Xen policy tree: ${join(tree, 'tools/flask/policy/modules/modules.conf')} is missing`,
        ],
      );
    });
  });

  it('m4 failing (unbalanced quote) is VP3006 with m4\'s message, on the module\'s line', (t) => {
    if (!requires(t, { commands: ['m4'] })) return;
    withTempDir((dir) => {
      const tree = syntheticTree(join(dir, 'xen'));
      const te = 'type bad_t;\nallow bad_t self:xen `tick;\n';
      const r = expandXenPolicyTree({ tree, extraModules: [{ name: 'bad', te }] });
      assert.equal(r.text, undefined);
      assert.deepEqual(r.diagnostics.map((d) => [d.code, d.message]), [['VP3006', 'm4 failed on modules/bad.te:2: ERROR: end of file in string']]);
      const span = r.diagnostics[0]?.span;
      assert.equal(span?.file, 'modules/bad.te');
      assert.equal(te.slice(span?.start, span?.end), 'allow bad_t self:xen `tick;');

      // The same mistake in the user's own tree.
      writeFileSync(join(tree, 'tools/flask/policy/modules/b.te'), "mkt(b\n");
      const r2 = expandXenPolicyTree({ tree });
      assert.deepEqual(r2.diagnostics.map((d) => [d.code, d.message]), [['VP3006', 'm4 failed on modules/b.te:1: ERROR: end of file in argument list']]);
    });
  });

  it('m4 not installed is VP3006, not a throw', () => {
    withTempDir((dir) => {
      const tree = syntheticTree(join(dir, 'xen'));
      const r = expandXenPolicyTree({ tree, m4: join(dir, 'no-such-m4') });
      assert.equal(r.text, undefined);
      assert.deepEqual(r.diagnostics.map((d) => d.code), ['VP3006']);
      assert.match(r.diagnostics[0]?.message ?? '', /no-such-m4 is not installed/);
      assert.ok(r.diagnostics[0]?.help);
    });
  });

  it('extra module names are validated: unsafe VP1105, duplicate VP1213, clashing with the tree VP1211', () => {
    withTempDir((dir) => {
      const tree = syntheticTree(join(dir, 'xen'));
      const codes = (names: string[]): string[] =>
        expandXenPolicyTree({ tree, extraModules: names.map((name) => ({ name, te: '' })) }).diagnostics.map((d) => d.code);
      for (const bad of ['Vmi', '1vmi', 'vmi-x', '../vmi', 'vmi.te', '', 'vmi x', '_vmi']) assert.deepEqual(codes([bad]), ['VP1105'], bad);
      assert.deepEqual(codes(['vmi', 'vmi']), ['VP1213']);
      assert.deepEqual(codes(['a']), ['VP1211']); // modules/a.te exists
      assert.deepEqual(codes(['c']), ['VP1211']); // exists, though off
      writeFileSync(join(tree, 'tools/flask/policy/modules/modules.conf'), 'a = on\nb = on\nghost = on\n');
      assert.deepEqual(codes(['ghost']), ['VP1211']); // modules.conf enables it already (its .te is missing, too)
    });
  });

  it('copying for extra modules keeps the Makefile\'s relative paths, so #line markers name modules/<name>.te', (t) => {
    if (!requires(t, { commands: ['m4'] })) return;
    withTempDir((dir) => {
      const tree = syntheticTree(join(dir, 'xen'));
      // Also through a tree given as tools/flask/policy, with the flask dir somewhere else entirely.
      const flask = join(dir, 'elsewhere', 'flask');
      cpSync(join(tree, 'xen/xsm/flask/policy'), flask, { recursive: true });
      const policyDir = join(tree, 'tools/flask/policy');
      const plain = expanded(expandXenPolicyTree({ tree: policyDir, flaskDir: flask }));
      const r = expandXenPolicyTree({ tree: policyDir, flaskDir: flask, extraModules: [{ name: 'vmi', te: 'mkt(vmi)\n' }] });
      const text = expanded(r);
      assert.match(text, /^#line 1 "\.\.\/\.\.\/\.\.\/\.\.\/elsewhere\/flask\/security_classes"$/m);
      assert.match(text, /^#line 1 "modules\/vmi\.te"\ntype vmi_t;$/m);
      assert.ok(text === plain.replace('#line 1 "policy/users"', '#line 1 "modules/vmi.te"\ntype vmi_t;\n#line 1 "policy/users"'));
    });
  });
});

// ---------------------------------------------------------------- an untrusted tree

/**
 * A synthetic tree whose modules/b.te is `te` (as a pull request would write it), beside a
 * secret file outside the tree (at dir/secret.txt, which "../../../../secret.txt" reaches
 * from tools/flask/policy) and the path of a marker file nothing may create.
 */
interface Hostile {
  readonly dir: string;
  readonly tree: string;
  readonly secretPath: string;
  readonly secret: string;
  readonly marker: string;
}

function withHostileTree(te: (h: Omit<Hostile, 'tree'>) => string, fn: (h: Hostile, r: XenPolicyExpansion) => void, options: { timeoutMs?: number } = {}): void {
  withTempDir((dir) => {
    const secret = `TOP-SECRET-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`;
    const secretPath = join(dir, 'secret.txt');
    writeFileSync(secretPath, `${secret}\n`);
    const marker = join(dir, 'marker');
    const tree = syntheticTree(join(dir, 'xen'));
    writeFileSync(join(tree, 'tools/flask/policy/modules/b.te'), `mkt(b)\n${te({ dir, secretPath, secret, marker })}\n`);
    const before = snapshot(dir);
    let r: XenPolicyExpansion | undefined;
    const left = leftInTmp(() => void (r = expandXenPolicyTree({ tree, ...options })));
    assert.ok(r);
    assert.ok(!existsSync(marker), 'the marker file was not created');
    assert.deepEqual(snapshot(dir), before, 'nothing in or beside the tree changed');
    assert.deepEqual(left, [], 'the sandbox copy is removed');
    const everything = JSON.stringify(r);
    assert.ok(!everything.includes(secret), 'the secret appears nowhere in the result');
    fn({ dir, tree, secretPath, secret, marker }, r);
  });
}

/** The result is exactly one VP3021 for `name`, spanning line 2 of modules/b.te (the hostile line). */
function assertDisabled(r: XenPolicyExpansion, name: string, tree: string): void {
  assert.equal(r.text, undefined);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.message.split(':')[0]]), [['VP3021', `the m4 builtin "${name}" is disabled`]]);
  const span = r.diagnostics[0]?.span;
  assert.equal(span?.file, 'modules/b.te');
  const te = readFileSync(join(tree, 'tools/flask/policy/modules/b.te'), 'utf8');
  assert.equal(te.slice(span?.start, span?.end), te.split('\n')[1]);
}

const q = (s: string): string => `\`${s}'`;

describe('an untrusted tree cannot run commands, or read or write files outside it (one route each)', () => {
  const routes: readonly { what: string; te: (h: Omit<Hostile, 'tree'>) => string; disabled: string }[] = [
    { what: 'syscmd', te: (h) => `syscmd(${q(`touch ${h.marker}`)})`, disabled: 'syscmd' },
    { what: 'esyscmd', te: (h) => `esyscmd(${q(`touch ${h.marker}; cat ${h.secretPath}`)})`, disabled: 'esyscmd' },
    { what: 'sysval after a command', te: () => 'sysval', disabled: 'sysval' },
    { what: 'builtin, which reaches builtins by name even after -U', te: (h) => `builtin(${q('syscmd')}, ${q(`touch ${h.marker}`)})`, disabled: 'builtin' },
    { what: 'indir', te: (h) => `indir(${q('esyscmd')}, ${q(`touch ${h.marker}`)})`, disabled: 'esyscmd' },
    { what: 'indir with the name assembled from pieces', te: (h) => `define(${q('s')}, ${q('sys')})define(${q('c')}, ${q('cmd')})indir(s${q('')}c, ${q(`touch ${h.marker}`)})`, disabled: 'syscmd' },
    { what: 'defn copied under another name', te: (h) => `define(${q('run')}, defn(${q('esyscmd')}))run(${q(`touch ${h.marker}`)})`, disabled: 'esyscmd' },
    { what: 'changequote then esyscmd', te: (h) => `changequote([,])esyscmd([touch ${h.marker}])`, disabled: 'esyscmd' },
    { what: 'changequote to empty quotes, then syscmd', te: (h) => `changequote()syscmd(touch ${h.marker})`, disabled: 'syscmd' },
    { what: 'include of an absolute path', te: (h) => `include(${q(h.secretPath)})`, disabled: 'include' },
    { what: 'include of a ../ path', te: () => `include(${q('../../../../secret.txt')})`, disabled: 'include' },
    { what: 'sinclude', te: (h) => `sinclude(${q(h.secretPath)})`, disabled: 'sinclude' },
    { what: 'undivert of a file name', te: (h) => `undivert(${q(h.secretPath)})`, disabled: 'undivert' },
    { what: 'debugfile', te: (h) => `debugfile(${q(h.marker)})`, disabled: 'debugfile' },
    { what: 'maketemp', te: (h) => `maketemp(${q(`${h.marker}XXXXXX`)})`, disabled: 'maketemp' },
    { what: 'mkstemp', te: (h) => `mkstemp(${q(`${h.marker}XXXXXX`)})`, disabled: 'mkstemp' },
    { what: 'm4exit (would end the output early with status 0)', te: () => `m4exit(${q('0')})`, disabled: 'm4exit' },
    { what: 'traceon', te: () => 'traceon', disabled: 'traceon' },
    { what: 'debugmode', te: () => `debugmode(${q('V')})`, disabled: 'debugmode' },
    { what: 'dumpdef', te: () => 'dumpdef', disabled: 'dumpdef' },
    { what: '__program__', te: () => '__program__', disabled: '__program__' },
  ];
  for (const route of routes) {
    it(route.what, (t) => {
      if (!requires(t, { commands: ['m4'] })) return;
      withHostileTree(route.te, (h, r) => assertDisabled(r, route.disabled, h.tree));
    });
  }

  it('__file__ and __line__ (used by Xen\'s refpolicywarn) name the relative file the tree gave, not a host path', (t) => {
    if (!requires(t, { commands: ['m4'] })) return;
    withHostileTree(() => 'where __file__ __line__', (h, r) => {
      const text = expanded(r);
      assert.match(text, /^where modules\/b\.te 2$/m);
      assert.ok(!text.includes(h.dir), 'no host path in the output');
    });
  });

  it('errprint reaches only the notes, with control characters escaped', (t) => {
    if (!requires(t, { commands: ['m4'] })) return;
    withHostileTree(() => `errprint(${q('\u001b[2J owned\u0007')})`, (_h, r) => {
      expanded(r);
      assert.deepEqual(r.notes, ['m4: \\u001b[2J owned\\u0007']);
    });
  });

  it('M4PATH and the rest of the environment do not reach m4', (t) => {
    if (!requires(t, { commands: ['m4'] })) return;
    const saved = process.env.M4PATH;
    try {
      withHostileTree(
        (h) => {
          process.env.M4PATH = h.dir;
          return `ifdef(${q('__unix__')}, ${q('unix')}) __gnu__`;
        },
        (_h, r) => assert.match(expanded(r), /^unix $/m),
      );
    } finally {
      if (saved === undefined) delete process.env.M4PATH;
      else process.env.M4PATH = saved;
    }
  });

  it('a module file that is a symbolic link out of the tree is VP3020, and is not read', (t) => {
    // The refusal needs no m4; the link that stays inside is expanded by it.
    withTempDir((dir) => {
      const tree = syntheticTree(join(dir, 'xen'));
      writeFileSync(join(dir, 'secret.txt'), 'TOP-SECRET\n');
      const te = join(tree, 'tools/flask/policy/modules/b.te');
      rmSync(te);
      symlinkSync(join(dir, 'secret.txt'), te);
      const r = expandXenPolicyTree({ tree });
      assert.equal(r.text, undefined);
      assert.deepEqual(r.diagnostics.map((d) => [d.code, d.message]), [
        ['VP3020', `${te} leads outside the policy tree (to ${join(dir, 'secret.txt')}): m4 is given only the tree's own regular files`],
      ]);
      // A link that stays inside the tree is the tree's own file.
      if (!requires(t, { commands: ['m4'] })) return;
      rmSync(te);
      symlinkSync('a.te', te);
      expanded(expandXenPolicyTree({ tree }));
    });
  });

  it('a directory linked out of the tree (policy/support, tools/flask/policy, xen/xsm/flask/policy) is VP3020', () => {
    withTempDir((dir) => {
      const tree = syntheticTree(join(dir, 'xen'));
      const outside = join(dir, 'outside');
      cpSync(join(tree, 'tools/flask/policy'), outside, { recursive: true });
      const support = join(tree, 'tools/flask/policy/policy/support');
      rmSync(support, { recursive: true });
      symlinkSync(join(outside, 'policy/support'), support);
      assert.deepEqual(expandXenPolicyTree({ tree }).diagnostics.map((d) => d.code), ['VP3020']);

      const policy = join(tree, 'tools/flask/policy');
      rmSync(policy, { recursive: true });
      symlinkSync(outside, policy);
      assert.deepEqual(expandXenPolicyTree({ tree }).diagnostics.map((d) => [d.code, d.message.split(' leads')[0]]), [['VP3020', policy]]);

      rmSync(policy);
      cpSync(outside, policy, { recursive: true });
      cpSync(join(tree, 'xen/xsm/flask/policy'), join(dir, 'flask'), { recursive: true });
      rmSync(join(tree, 'xen/xsm/flask/policy'), { recursive: true });
      symlinkSync(join(dir, 'flask'), join(tree, 'xen/xsm/flask/policy'));
      assert.deepEqual(expandXenPolicyTree({ tree }).diagnostics.map((d) => d.code), ['VP3020']);
    });
  });

  it('an endless expansion is stopped by the time cap (VP3006)', (t) => {
    if (!requires(t, { commands: ['m4'] })) return;
    const started = Date.now();
    withHostileTree(
      () => `define(${q('loop')}, ${q('loop')})loop`,
      (_h, r) => {
        assert.deepEqual(r.diagnostics.map((d) => d.code), ['VP3006']);
        assert.match(r.diagnostics[0]?.message ?? '', /did not finish within 1500 ms|CPU time/);
      },
      { timeoutMs: 1500 },
    );
    assert.ok(Date.now() - started < 10_000);
  });

  it('a macro bomb is stopped by the memory cap (VP3006), not by the machine', (t) => {
    if (!requires(t, { commands: ['m4', 'prlimit'] })) return;
    const started = Date.now();
    withHostileTree(
      // Each call doubles s: 2^40 bytes if nothing stops it.
      () => `define(${q('s')}, ${q('xxxxxxxxxxxxxxxx')})define(${q('d')}, ${q(`define(${q('s')}, defn(${q('s')})defn(${q('s')}))ifelse(len(defn(${q('s')})), 0, , ${q('d')})`)})d`,
      (_h, r) => {
        assert.deepEqual(r.diagnostics.map((d) => d.code), ['VP3006']);
        assert.match(r.diagnostics[0]?.message ?? '', /ran out of memory \(capped at 512 MiB/);
      },
    );
    console.log(`macro bomb stopped after ${Date.now() - started} ms`);
  });
});

describe('the sandbox changes nothing for Xen\'s own trees', () => {
  for (const release of CORPUS_RELEASES) {
    it(`Xen ${release}: the sandboxed expansion is byte-identical to plain GNU m4's (with and without MLS)`, (t) => {
      if (!requires(t, { shared: true, commands: ['m4'] })) return;
      for (const mls of [false, true]) {
        const r = expandXenPolicyTree({ tree: corpusTree(release), mls });
        const text = expanded(r);
        assert.ok((r.sandboxArgs ?? []).some((a) => a.startsWith('--define=esyscmd=')), 'the unsafe builtins were disabled');
        const plain = spawnSync('m4', [...(r.m4Args ?? [])], { cwd: join(corpusTree(release), 'tools/flask/policy'), encoding: 'utf8', maxBuffer: 1 << 28 });
        assert.equal(plain.status, 0, plain.stderr);
        assert.ok(text === plain.stdout, `Xen ${release}${mls ? ' MLS' : ''}: sandboxed m4 differs from plain m4`);
        assert.deepEqual(r.notes, []);
      }
    });
  }
});

describe('the CLI expands trees only through the sandbox', () => {
  const BIN = repoPath('dist', 'cli', 'bin.js');
  const git = (cwd: string, ...args: string[]): void => {
    const r = spawnSync('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };

  it('a pull request whose .te calls esyscmd: `diff git:BASE:… git:HEAD:…`, `policy stats` and `check --policy` exit 2 with VP3021 and run nothing', (t) => {
    if (!requires(t, { shared: true, commands: ['m4', 'git'] })) return;
    withTempDir((dir) => {
      // The base must expand and parse, so that the diff reaches the pull request's side.
      const repo = join(dir, 'repo');
      for (const sub of ['tools/flask/policy', 'xen/xsm/flask/policy']) cpSync(join(corpusTree('4.17'), sub), join(repo, sub), { recursive: true });
      git(repo, 'init', '-q');
      git(repo, 'add', '.');
      git(repo, 'commit', '-q', '-m', 'base');
      const marker = join(dir, 'marker');
      writeFileSync(join(repo, 'tools/flask/policy/modules/domU.te'), `${readFileSync(join(repo, 'tools/flask/policy/modules/domU.te'), 'utf8')}esyscmd(${q(`touch ${marker}`)})\n`);
      git(repo, 'commit', '-q', '-am', 'pull request');
      const runs = [
        ['diff', 'git:HEAD~1:tools/flask/policy', 'git:HEAD:tools/flask/policy', '--fail-on', 'new-access'],
        ['policy', 'stats', 'tools/flask/policy'],
        ['check', repoPath('examples/tinyvmi/vmi.yaml'), '--policy', '.'],
      ];
      for (const args of runs) {
        const r = spawnSync('node', [BIN, ...args], { cwd: repo, encoding: 'utf8' });
        assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(`${r.stdout}${r.stderr}`, /VP3021/, args.join(' '));
        assert.ok(!existsSync(marker), `${args.join(' ')} ran the command`);
      }
    });
  });
});
