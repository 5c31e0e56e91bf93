// The xenstore-acl.sh interpreter: on every example's compiled scripts it must leave the
// simulated store exactly as sh + the real xenstore-chmod leave the real C xenstored; the
// revoke script must restore the libxl ACLs; and any script that is not what we emit is
// refused, with its line and column, before anything changes.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { artifactsOf, compileFile, EXAMPLES, hasCommand, requires } from './support/env.js';
import { withTempDir } from './support/oracles.js';
import { dom0Chmod, dom0Write, introduce, layOutLikeLibxl, runScript, snapshot, startXenstored, stopXenstored, withToolsFirst, writeFakeXl, XENSTORED_COMMANDS, type Guest, type Xenstored } from './support/xenstored.js';
import { layOutXenstore, libxlNodes } from '../xenstore/libxl-layout.js';
import { fromXenstoreLs, toXenstoreLs, Xenstore } from '../xenstore/store.js';
import { parseAclScript, runAclScript, type DomidResolver } from '../xenstore/acl-script.js';
import { DOMID_FUNCTION, isDomidText, SCRIPT_PATH } from '../xenstore/script-contract.js';
import { formatXsPerms } from '../xenstore/access.js';

const stopping: Promise<unknown>[] = [];
after(async () => {
  const errors = (await Promise.all(stopping)).filter((e) => e !== undefined);
  assert.deepEqual(errors, [], 'every xenstored stopped');
});

function scriptsOf(example: string): { acl: string; revoke: string } {
  const artifacts = artifactsOf(compileFile(`examples/${example}/vmi.yaml`));
  const acl = artifacts.get('xenstore-acl.sh');
  const revoke = artifacts.get('xenstore-acl-revoke.sh');
  assert.ok(acl && revoke, 'compile emits both scripts');
  return { acl, revoke };
}

/** The domain names a script resolves, given domids from 1 up, in order of appearance. */
function namesOf(script: string): string[] {
  const parsed = parseAclScript(script);
  assert.ok(parsed.ok, 'the emitted script parses');
  return parsed.statements.flatMap((s) => (s.kind === 'resolve' ? [s.name] : []));
}

function simulatorSnapshot(store: Xenstore): Map<string, { value: string; perms: string }> {
  const out = new Map<string, { value: string; perms: string }>();
  for (const n of store.nodeStates()) if (n.path !== '/') out.set(n.path, { value: n.value, perms: formatXsPerms(n.perms) });
  return out;
}

const guestOf = (domid: number, name: string): Guest => ({ domid, name, uuid: `00000000-0000-4000-8000-${String(domid).padStart(12, '0')}` });

describe('the interpreter leaves the store as sh and the real daemon do, on every example', () => {
  for (const example of EXAMPLES) {
    test(example, (t) => {
      if (!requires(t, { shared: true, commands: [...XENSTORED_COMMANDS] })) return;
      const { acl, revoke } = scriptsOf(example);
      const names = [...new Set([...namesOf(acl), ...namesOf(revoke), 'bystander'])];
      const guests = names.map((name, i) => guestOf(i + 1, name));
      const table = Object.fromEntries(guests.filter((g) => g.name !== 'bystander').map((g) => [g.name, g.domid]));
      const resolve: DomidResolver = (name) => table[name];
      const xsd: Xenstored = startXenstored();
      try {
        layOutLikeLibxl(xsd, guests);
        // The simulator starts from what the daemon holds, read back through xenstore-ls -f -p.
        const dump = execFileSync('xenstore-ls', ['-f', '-p', '/'], { env: xsd.env, encoding: 'utf8' });
        const { store, diagnostics } = fromXenstoreLs('dump', dump, { domains: [0, ...guests.map((g) => g.domid)] });
        assert.deepEqual(diagnostics, []);
        const original = snapshot(xsd);
        assert.deepEqual(simulatorSnapshot(store), original, 'same start');
        assert.equal(toXenstoreLs(store), dump, 'toXenstoreLs prints what xenstore-ls -f -p prints');

        const xl = writeFakeXl(xsd, table);
        for (const [label, script] of [['xenstore-acl.sh', acl], ['xenstore-acl-revoke.sh', revoke]] as const) {
          const real = runScript(xsd, script, xl);
          assert.equal(real.status, 0, `sh ${label}: ${real.stderr}`);
          const ours = runAclScript(script, resolve, store, label);
          assert.ok(ours.ok, `${label}: ${JSON.stringify(!ours.ok && ours.error)}`);
          assert.deepEqual(simulatorSnapshot(store), snapshot(xsd), `after ${label}`);
        }
        assert.deepEqual(simulatorSnapshot(store), original, 'the revoke script restores the original ACLs');
      } finally {
        stopping.push(stopXenstored(xsd).then(() => undefined, (e: unknown) => e));
      }
    });
  }
});

describe("libxl's layout as check and the self-test lay it out (layOutXenstore) against the real daemon", () => {
  for (const example of EXAMPLES) {
    test(`${example}: the same nodes, values and ACLs after libxl's writes and chmods, and after xenstore-acl.sh`, (t) => {
      if (!requires(t, { shared: true, commands: [...XENSTORED_COMMANDS] })) return;
      const { acl } = scriptsOf(example);
      const names = [...new Set([...namesOf(acl), 'bystander'])];
      const guests = names.map((name, i) => guestOf(i + 1, name));
      const table = Object.fromEntries(guests.filter((g) => g.name !== 'bystander').map((g) => [g.name, g.domid]));
      const uuids = new Map(guests.map((g) => [g.domid, g.uuid]));
      const xsd: Xenstored = startXenstored();
      try {
        // The real daemon gets libxl's nodes through the wire, dom0's writes then its chmods.
        introduce(xsd, guests.map((g) => g.domid));
        const nodes = libxlNodes(guests, uuids);
        dom0Write(xsd, nodes.map((n) => [n.path, n.value] as const));
        for (const n of nodes) dom0Chmod(xsd, n.path, n.perms);
        const store = layOutXenstore(guests, uuids);
        assert.deepEqual(simulatorSnapshot(store), snapshot(xsd), 'the same layout');
        const real = runScript(xsd, acl, writeFakeXl(xsd, table));
        assert.equal(real.status, 0, real.stderr);
        const ours = runAclScript(acl, (name) => table[name], store, 'xenstore-acl.sh');
        assert.ok(ours.ok);
        assert.deepEqual(simulatorSnapshot(store), snapshot(xsd), 'the same ACLs after the script');
      } finally {
        stopping.push(stopXenstored(xsd).then(() => undefined, (e: unknown) => e));
      }
    });
  }
});

// ---------------------------------------------------------------- without the daemon

/** The tinyvmi script with the lines after `after` replaced by `lines`. */
const TINY = scriptsOf('tinyvmi').acl;
const TABLE: Record<string, number> = { tinyvmi: 3, ubuntu: 5 };
const resolveTiny: DomidResolver = (name) => TABLE[name];

function libxlStore(): Xenstore {
  const store = new Xenstore({ domains: [0, 3, 5, 7] });
  for (const [path, perms] of [
    ['/local/domain', ['n0']],
    ['/local/domain/3/name', ['n0', 'r3']],
    ['/local/domain/5/name', ['n0', 'r5']],
  ] as const) {
    assert.ok(store.write(0, path, 'x').ok);
    assert.ok(store.setPerms(0, path, [...perms]).ok);
  }
  return store;
}

/** Appends a line to the emitted script (before nothing else changes). */
const withLine = (line: string): string => `${TINY}${line}\n`;
const lineCount = TINY.split('\n').length - 1;

test('the emitted tinyvmi script grants what its comments say', () => {
  const store = libxlStore();
  const result = runAclScript(TINY, resolveTiny, store);
  assert.ok(result.ok);
  assert.deepEqual(
    result.run.applied.map((a) => [a.path, a.perms]),
    [
      ['/local/domain', ['n0', 'r3']],
      ['/local/domain/5/name', ['n0', 'r5', 'r3']],
    ],
  );
  assert.deepEqual([...result.run.domids], [['tinyvmi', 3], ['ubuntu', 5]]);
  assert.ok(store.canRead(3, '/local/domain/5/name'));
  assert.ok(!store.canRead(7, '/local/domain/5/name'));
});

/** The 1-based number of the line of `script` that starts with `start` (exactly one). */
function lineOf(script: string, start: string): number {
  const numbers = script.split('\n').flatMap((l, i) => (l.startsWith(start) ? [i + 1] : []));
  assert.equal(numbers.length, 1, `one line starts with ${start}`);
  return numbers[0]!;
}

const PATH_LINE = `PATH=${SCRIPT_PATH}`;

/** Every kind of injection, where it is refused (line, column) and with which code. */
const HOSTILE: readonly { what: string; script: string; line: number; column: number; code: string }[] = [
  { what: 'a pipe', script: withLine(`xenstore-chmod '/local/domain' 'n0' | sh`), line: lineCount + 1, column: 37, code: 'VP4101' },
  { what: 'a ";" after a command', script: withLine(`xenstore-chmod '/local/domain' 'n0'; reboot`), line: lineCount + 1, column: 36, code: 'VP4101' },
  { what: 'an "&&" list', script: withLine(`xenstore-chmod '/a' 'n0' && reboot`), line: lineCount + 1, column: 26, code: 'VP4101' },
  { what: 'backticks in a word', script: withLine('xenstore-chmod "/a`reboot`" \'n0\''), line: lineCount + 1, column: 19, code: 'VP4101' },
  { what: 'a command substitution in a word', script: withLine(`xenstore-chmod "$(reboot)" 'n0'`), line: lineCount + 1, column: 17, code: 'VP4101' },
  { what: 'a command substitution other than domid', script: withLine(`d9=$(reboot)`), line: lineCount + 1, column: 4, code: 'VP4101' },
  { what: 'a pipe inside the domid call', script: withLine(`d9=$(domid 'x' | sh)`), line: lineCount + 1, column: 16, code: 'VP4101' },
  { what: 'a redirect', script: withLine(`xenstore-chmod '/a' 'n0' > /etc/passwd`), line: lineCount + 1, column: 26, code: 'VP4101' },
  { what: 'a parameter expansion', script: withLine(`xenstore-chmod "\${d1:-x}" 'n0'`), line: lineCount + 1, column: 17, code: 'VP4101' },
  { what: 'an unknown command', script: withLine(`rm -rf /`), line: lineCount + 1, column: 1, code: 'VP4102' },
  { what: 'eval', script: withLine(`eval "$d1"`), line: lineCount + 1, column: 1, code: 'VP4102' },
  { what: 'a recursive chmod', script: withLine(`xenstore-chmod '-r' '/local/domain' 'n0'`), line: lineCount + 1, column: 16, code: 'VP4106' },
  { what: 'an unquoted word', script: withLine(`xenstore-chmod /local/domain 'n0'`), line: lineCount + 1, column: 16, code: 'VP4103' },
  { what: 'a PATH that starts elsewhere', script: TINY.replace(PATH_LINE, `PATH=/tmp/evil:${SCRIPT_PATH}`), line: lineOf(TINY, 'PATH='), column: 7, code: 'VP4103' },
  { what: 'a PATH set again later', script: withLine(`PATH=/tmp/evil`), line: lineCount + 1, column: 1, code: 'VP4103' },
  { what: 'xl named by the environment, as scripts of vmipolicy 0.1 did', script: TINY.replace(PATH_LINE, 'XL=${XL:-xl}'), line: lineOf(TINY, 'PATH='), column: 1, code: 'VP4103' },
  { what: 'a default taken from the environment', script: withLine('XL=${XL:-xl}'), line: lineCount + 1, column: 4, code: 'VP4101' },
  { what: 'xenstore-chmod through a variable', script: withLine(`"$XENSTORE_CHMOD" '/a' 'n0'`), line: lineCount + 1, column: 1, code: 'VP4103' },
  { what: 'the environment without LC_ALL', script: TINY.replace('LC_ALL=C\n', ''), line: lineOf(TINY, 'LC_ALL='), column: 1, code: 'VP4103' },
  { what: 'imported functions kept', script: TINY.replace('unset -f echo xl xenstore-chmod\n', ''), line: lineOf(TINY, 'PATH=') - 1, column: 1, code: 'VP4103' },
  { what: 'a variable never set', script: withLine(`xenstore-chmod '/a' "r$HOME"`), line: lineCount + 1, column: 21, code: 'VP4104' },
  { what: 'an unterminated quote', script: withLine(`xenstore-chmod '/a`), line: lineCount + 1, column: 16, code: 'VP4105' },
  { what: 'a changed domid function', script: TINY.replace('\tesac', '\tesac; reboot'), line: lineOf(TINY, '\tesac'), column: 6, code: 'VP4103' },
  { what: 'a wider domid check', script: TINY.replace(' | 3275[01]) ;;', ' | 3275[0-9]) ;;'), line: lineOf(TINY, '\t\t0 | '), column: TINY.split('\n')[lineOf(TINY, '\t\t0 | ') - 1]!.indexOf('3275[01]') + 7, code: 'VP4103' },
  { what: 'no set -eu', script: TINY.replace('set -eu\n', ''), line: lineOf(TINY, 'set -eu'), column: 1, code: 'VP4107' },
  { what: 'a hostile line before the first chmod', script: TINY.replace("d1=$(domid 'tinyvmi')", "d1=$(domid 'tinyvmi'); reboot"), line: lineOf(TINY, 'd1='), column: 22, code: 'VP4101' },
];

describe('hostile scripts are refused with a position and change nothing', () => {
  for (const h of HOSTILE) {
    test(h.what, () => {
      const store = libxlStore();
      const before = toXenstoreLs(store);
      const result = runAclScript(h.script, resolveTiny, store);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.error.kind, 'refused');
      assert.deepEqual([result.error.diagnostic.code, result.error.line, result.error.column], [h.code, h.line, h.column], result.error.diagnostic.message);
      assert.deepEqual(result.error.applied, []);
      assert.equal(toXenstoreLs(store), before, 'nothing changed');
      const span = result.error.diagnostic.span!;
      const lineStart = h.script.split('\n').slice(0, h.line - 1).join('\n').length + (h.line > 1 ? 1 : 0);
      assert.equal(span.start, lineStart + h.column - 1, 'the span points where line:column does');
    });
  }
});

describe('runtime failures stop the script as set -e does', () => {
  test('a domain that is not running', () => {
    const store = libxlStore();
    const result = runAclScript(TINY, (name) => (name === 'ubuntu' ? undefined : TABLE[name]), store);
    assert.ok(!result.ok && result.error.kind === 'failed' && result.error.diagnostic.code === 'VP4110');
    assert.deepEqual(result.error.applied, []);
  });
  test('xl domid printing something other than a domid of a domain (0 to 32751, as xl prints it)', () => {
    for (const printed of ['5; reboot', '32752', '4294967306', '65535', '007', '00', '-1', '+5', ' 5', '5 ', '\t5', '5\n6', '\n5', '0x10', '', '1e3', '٥']) {
      const store = libxlStore();
      const result = runAclScript(TINY, (name) => (name === 'ubuntu' ? printed : TABLE[name]), store);
      assert.ok(!result.ok && result.error.diagnostic.code === 'VP4111', JSON.stringify(printed));
      assert.deepEqual(result.error.applied, [], 'nothing was applied');
    }
    // Domids the function takes (the store has no node for them: the chmod fails, not the check).
    for (const [printed, domid] of [['0', 0], ['32751', 32751], ['5\n', 5], ['10\n\n', 10]] as const) {
      const result = runAclScript(TINY, (name) => (name === 'ubuntu' ? printed : TABLE[name]), libxlStore());
      assert.ok(result.ok || result.error.diagnostic.code === 'VP4112', `${JSON.stringify(printed)}: ${!result.ok && result.error.diagnostic.message}`);
      if (result.ok) assert.equal(result.run.domids.get('ubuntu'), domid);
    }
  });
  test('a chmod the daemon refuses: what ran before it stays', () => {
    const store = new Xenstore({ domains: [0, 3, 5] });
    assert.ok(store.write(0, '/local/domain', '').ok);
    const result = runAclScript(TINY, resolveTiny, store);
    assert.ok(!result.ok && result.error.kind === 'failed' && result.error.diagnostic.code === 'VP4112');
    assert.equal(result.error.line, lineOf(TINY, 'xenstore-chmod "/local/domain/$d2/name"'));
    assert.deepEqual(result.error.applied.map((a) => a.path), ['/local/domain']);
    assert.deepEqual(store.getPerms(0, '/local/domain'), { ok: true, value: ['n0', 'r3'] });
  });
});

// ---------------------------------------------------------------- the emitted scripts under real sh

/** A directory of fake tools: xl prints the bytes of ./answer for any name; xenstore-chmod logs its argv to ./chmod.log. */
function fakeTools(dir: string, answer: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'answer'), answer);
  writeFileSync(join(dir, 'xl'), '#!/bin/sh\n[ "$1" = domid ] || exit 2\ncat "$(dirname "$0")/answer"\n', { mode: 0o755 });
  writeFileSync(join(dir, 'xenstore-chmod'), '#!/bin/sh\nprintf \'%s\\n\' "$*" >> "$(dirname "$0")/chmod.log"\n', { mode: 0o755 });
  return dir;
}

/** Tools an attacker controlling the environment would like root to run: each leaves a mark. */
function attackerTools(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const name of ['xl', 'xenstore-chmod', 'evil']) {
    writeFileSync(join(dir, name), `#!/bin/sh\ntouch "${dir}/ran-$(basename "$0")"\necho 5\n`, { mode: 0o755 });
  }
  return dir;
}

const ATTACKER_ENV = (dir: string): NodeJS.ProcessEnv => ({
  PATH: `${dir}:${process.env.PATH ?? ''}`,
  XL: join(dir, 'evil'),
  XENSTORE_CHMOD: join(dir, 'evil'),
  // bash imports these as functions, even run as sh.
  'BASH_FUNC_xl%%': `() { touch "${dir}/ran-function-xl"; echo 5; }`,
  'BASH_FUNC_echo%%': `() { touch "${dir}/ran-function-echo"; }`,
  LC_ALL: 'tr_TR.UTF-8',
  IFS: '0123456789',
});

/** The shells to run the scripts with: sh, and bash in POSIX mode (what /bin/sh is elsewhere) when installed; --norc because bash reads ~/.bashrc when its stdin is a socket. */
const SHELLS: readonly (readonly string[])[] = [['sh'], ...(hasCommand('bash') ? [['bash', '--posix', '--norc', '--noprofile']] : [])];

function runWith(shell: readonly string[], file: string, env: NodeJS.ProcessEnv): { status: number | null; stderr: string } {
  const r = spawnSync(shell[0]!, [...shell.slice(1), file], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stderr: r.stderr ?? '' };
}

test('the domid check in sh accepts exactly what isDomidText accepts', () => {
  const candidates = new Set<string>(['', '-0', '+1', '-1', ' 1', '1 ', '\t7', '0x1f', '1e3', '٣', '00', '01', '007', '032751', '4294967306', '18446744073709551617', '99999']);
  for (const [from, to] of [[0, 130], [990, 1010], [9990, 10010], [19995, 20005], [29990, 30010], [31990, 32010], [32690, 32770], [99990, 100010]] as const) {
    for (let n = from; n <= to; n++) candidates.add(String(n));
  }
  fc.assert(fc.property(fc.stringMatching(/^[-+ 0-9]{0,7}$/), (s) => void candidates.add(s)), { numRuns: 300, seed: 7 });
  const inputs = [...candidates].filter((c) => !c.includes('\n'));
  // The emitted function itself, with xl a function answering the line read.
  const harness = [...DOMID_FUNCTION, 'xl() { printf \'%s\\n\' "$answer"; }', 'while IFS= read -r answer; do', '\tif out=$(domid x 2>/dev/null); then echo "yes $out"; else echo no; fi', 'done', ''].join('\n');
  for (const shell of SHELLS) {
    const r = spawnSync(shell[0]!, [...shell.slice(1), '-c', harness], { input: inputs.map((i) => `${i}\n`).join(''), encoding: 'utf8', env: { LC_ALL: 'C' } });
    assert.equal(r.status, 0, r.stderr);
    const answers = r.stdout.trimEnd().split('\n');
    assert.equal(answers.length, inputs.length);
    inputs.forEach((input, i) => assert.equal(answers[i], isDomidText(input) ? `yes ${input}` : 'no', `${shell.join(' ')}: ${JSON.stringify(input)}`));
  }
  assert.ok(isDomidText('32751') && !isDomidText('32752') && !isDomidText('007'));
});

describe('under real sh, a hostile xl domid answer stops the script before any xenstore-chmod', () => {
  const hostile = ['4294967306\n', '32752\n', '65535\n', '007\n', '00\n', '-1\n', '+5\n', ' 5\n', '5 \n', '\t5\n', '5\n6\n', '\n5\n', '5;touch x\n', '$(touch x)\n', '\n'];
  for (const example of EXAMPLES) {
    test(example, () => {
      const { acl, revoke } = scriptsOf(example);
      withTempDir((dir) => {
        for (const [label, script] of [['xenstore-acl.sh', acl], ['xenstore-acl-revoke.sh', revoke]] as const) {
          if (!script.includes('=$(domid ')) continue;
          for (const answer of hostile) {
            for (const shell of SHELLS) {
              const tools = fakeTools(mkdtempSync(join(dir, 'tools-')), answer);
              const file = join(tools, label);
              writeFileSync(file, withToolsFirst(script, tools));
              const r = runWith(shell, file, { PATH: process.env.PATH ?? '' });
              const what = `${shell.join(' ')} ${label}, xl domid -> ${JSON.stringify(answer)}`;
              assert.equal(r.status, 1, `${what}: ${r.stderr}`);
              assert.match(r.stderr, /^vmipolicy: 'xl domid .*' printed '[^]*', not a domid \(0 to 32751\)$/m, what);
              assert.ok(!existsSync(join(tools, 'chmod.log')), `${what}: xenstore-chmod ran`);
              assert.ok(!existsSync(join(tools, 'x')), `${what}: xl's output was executed`);
            }
          }
          // The same scripts with a good answer do run xenstore-chmod: the fakes are used.
          const tools = fakeTools(mkdtempSync(join(dir, 'tools-')), '5\n');
          writeFileSync(join(tools, label), withToolsFirst(script, tools));
          assert.equal(runWith(['sh'], join(tools, label), { PATH: process.env.PATH ?? '' }).status, 0);
          assert.match(readFileSync(join(tools, 'chmod.log'), 'utf8'), /^\/local\/domain n0/m);
        }
      });
    });
  }
});

describe('the environment does not choose what the scripts run', () => {
  for (const example of EXAMPLES) {
    test(`${example}: PATH, XL, XENSTORE_CHMOD, imported functions, LC_ALL and IFS set by an attacker`, () => {
      const { acl, revoke } = scriptsOf(example);
      withTempDir((dir) => {
        const attacker = attackerTools(join(dir, 'attacker'));
        for (const [label, script] of [['xenstore-acl.sh', acl], ['xenstore-acl-revoke.sh', revoke]] as const) {
          for (const shell of SHELLS) {
            // The script's own PATH (with the fakes first): the fakes run, and only they.
            const tools = fakeTools(mkdtempSync(join(dir, 'tools-')), '5\n');
            writeFileSync(join(tools, label), withToolsFirst(script, tools));
            const r = runWith(shell, join(tools, label), ATTACKER_ENV(attacker));
            assert.equal(r.status, 0, `${shell.join(' ')} ${label}: ${r.stderr}`);
            if (script.includes('xenstore-chmod \'')) assert.ok(existsSync(join(tools, 'chmod.log')), 'the script\'s xenstore-chmod ran');
            // The script exactly as emitted: whatever xl the host has, never the attacker's.
            const exact = join(dir, label);
            writeFileSync(exact, script);
            runWith(shell, exact, ATTACKER_ENV(attacker));
            assert.deepEqual(readdirSync(attacker).filter((n) => n.startsWith('ran-')), [], `${shell.join(' ')} ${label}: the attacker's programs ran`);
          }
        }
      });
    });
  }
});

describe('shellcheck finds nothing in the emitted scripts', () => {
  for (const example of EXAMPLES) {
    test(example, (t) => {
      if (!requires(t, { commands: ['shellcheck'] })) return;
      const { acl, revoke } = scriptsOf(example);
      for (const [label, script] of [['xenstore-acl.sh', acl], ['xenstore-acl-revoke.sh', revoke]] as const) {
        // Every severity, as a POSIX sh script (the #!/bin/sh line says so too).
        const r = spawnSync('shellcheck', ['--shell=sh', '--severity=style', '--format=gcc', '-'], { input: script, encoding: 'utf8' });
        assert.equal(r.error, undefined);
        assert.equal(`${r.stdout}${r.stderr}`, '', `${example}/${label}`);
        assert.equal(r.status, 0, `${example}/${label}`);
      }
    });
  }
});
