// The xenstore-acl.sh interpreter: on every example's compiled scripts it must leave the
// simulated store exactly as sh + the real xenstore-chmod leave the real C xenstored; the
// revoke script must restore the libxl ACLs; and any script that is not what we emit is
// refused, with its line and column, before anything changes.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { artifactsOf, compileFile, EXAMPLES, requires } from './support/env.js';
import { layOutLikeLibxl, runScript, snapshot, startXenstored, stopXenstored, writeFakeXl, XENSTORED_COMMANDS, type Guest, type Xenstored } from './support/xenstored.js';
import { fromXenstoreLs, toXenstoreLs, Xenstore } from '../vmi/host/xenstore.js';
import { parseAclScript, runAclScript, type DomidResolver } from '../vmi/host/acl-script.js';
import { formatXsPerms } from '../grammar/xenstore-ls.js';

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

/** Every kind of injection, where it is refused (line, column) and with which code. */
const HOSTILE: readonly { what: string; script: string; line: number; column: number; code: string }[] = [
  { what: 'a pipe', script: withLine(`"$XENSTORE_CHMOD" '/local/domain' 'n0' | sh`), line: lineCount + 1, column: 40, code: 'VP4101' },
  { what: 'a ";" after a command', script: withLine(`"$XENSTORE_CHMOD" '/local/domain' 'n0'; reboot`), line: lineCount + 1, column: 39, code: 'VP4101' },
  { what: 'an "&&" list', script: withLine(`"$XENSTORE_CHMOD" '/a' 'n0' && reboot`), line: lineCount + 1, column: 29, code: 'VP4101' },
  { what: 'backticks in a word', script: withLine('"$XENSTORE_CHMOD" "/a`reboot`" \'n0\''), line: lineCount + 1, column: 22, code: 'VP4101' },
  { what: 'a command substitution in a word', script: withLine(`"$XENSTORE_CHMOD" "$(reboot)" 'n0'`), line: lineCount + 1, column: 20, code: 'VP4101' },
  { what: 'a command substitution other than domid', script: withLine(`d9=$(reboot)`), line: lineCount + 1, column: 4, code: 'VP4101' },
  { what: 'a pipe inside the domid call', script: withLine(`d9=$(domid 'x' | sh)`), line: lineCount + 1, column: 16, code: 'VP4101' },
  { what: 'a redirect', script: withLine(`"$XENSTORE_CHMOD" '/a' 'n0' > /etc/passwd`), line: lineCount + 1, column: 29, code: 'VP4101' },
  { what: 'a parameter expansion', script: withLine(`"$XENSTORE_CHMOD" "\${d1:-x}" 'n0'`), line: lineCount + 1, column: 20, code: 'VP4101' },
  { what: 'an unknown command', script: withLine(`rm -rf /`), line: lineCount + 1, column: 1, code: 'VP4102' },
  { what: 'eval', script: withLine(`eval "$d1"`), line: lineCount + 1, column: 1, code: 'VP4102' },
  { what: 'a recursive chmod', script: withLine(`"$XENSTORE_CHMOD" '-r' '/local/domain' 'n0'`), line: lineCount + 1, column: 19, code: 'VP4106' },
  { what: 'an unquoted word', script: withLine(`"$XENSTORE_CHMOD" /local/domain 'n0'`), line: lineCount + 1, column: 19, code: 'VP4103' },
  { what: 'another default command', script: TINY.replace('XL=${XL:-xl}', 'XL=${XL:-/tmp/evil}'), line: 8, column: 10, code: 'VP4103' },
  { what: 'a variable never set', script: withLine(`"$XENSTORE_CHMOD" '/a' "r$HOME"`), line: lineCount + 1, column: 24, code: 'VP4104' },
  { what: 'an unterminated quote', script: withLine(`"$XENSTORE_CHMOD" '/a`), line: lineCount + 1, column: 19, code: 'VP4105' },
  { what: 'a changed domid function', script: TINY.replace('\tesac', '\tesac; reboot'), line: 15, column: 6, code: 'VP4103' },
  { what: 'no set -eu', script: TINY.replace('set -eu\n', ''), line: 7, column: 1, code: 'VP4107' },
  { what: 'a hostile line before the first chmod', script: TINY.replace("d1=$(domid 'tinyvmi')", "d1=$(domid 'tinyvmi'); reboot"), line: 19, column: 22, code: 'VP4101' },
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
  test('xl domid printing something other than a domid', () => {
    const result = runAclScript(TINY, (name) => (name === 'ubuntu' ? '5; reboot' : TABLE[name]), libxlStore());
    assert.ok(!result.ok && result.error.diagnostic.code === 'VP4111');
  });
  test('a chmod the daemon refuses: what ran before it stays', () => {
    const store = new Xenstore({ domains: [0, 3, 5] });
    assert.ok(store.write(0, '/local/domain', '').ok);
    const result = runAclScript(TINY, resolveTiny, store);
    assert.ok(!result.ok && result.error.kind === 'failed' && result.error.diagnostic.code === 'VP4112');
    assert.equal(result.error.line, 25);
    assert.deepEqual(result.error.applied.map((a) => a.path), ['/local/domain']);
    assert.deepEqual(store.getPerms(0, '/local/domain'), { ok: true, value: ['n0', 'r3'] });
  });
});
