// Differential test of the emitted xenstore-acl.sh / xenstore-acl-revoke.sh against the real
// C xenstored (../shared/tools/xenstored-noxen): the scripts run with sh against a store laid
// out the way libxl lays it out, and what each domain can do afterwards is asked of the
// daemon's own permission code, as that domain, through its ring.

import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifactsOf, compileText, repoPath, requires } from './support/env.js';
import { parseAclScript } from '../xenstore/acl-script.js';
import {
  accessMatrix,
  layOutLikeLibxl,
  pair,
  runScript,
  snapshot,
  startXenstored,
  stopXenstored,
  writeFakeXl,
  xs,
  XENSTORED_COMMANDS,
  type Access,
  type Guest,
  type NodeState,
  type Xenstored,
  type XlTable,
} from './support/xenstored.js';

// ---------------------------------------------------------------- fixtures

/** One name-lookup introspector with two targets. */
const ONE_MONITOR = `
vmipolicy: 1
xen: "4.17"
policy:
  module: vmi
  mode: module
introspectors:
  - name: mon
    guest: pv
    targets: [web, db]
    capabilities: [domain-info, read-memory]
    lookup: name
targets:
  - name: web
    guest: hvm
  - name: db
    guest: pvh
`;

const guest = (domid: number, name: string): Guest => ({
  domid,
  name,
  uuid: `00000000-0000-4000-8000-${String(domid).padStart(12, '0')}`,
});

const MON = guest(3, 'mon');
const WEB = guest(5, 'web');
const DB = guest(6, 'db');
/** In the store but in no spec: a target of nobody, so it must gain nothing. */
const BYSTANDER = guest(7, 'other');
const ONE_MONITOR_GUESTS = [MON, WEB, DB, BYSTANDER];
/** What the running host's `xl domid` answers; the bystander is not the scripts' business. */
const ONE_MONITOR_XL: XlTable = { mon: MON.domid, web: WEB.domid, db: DB.domid };

/** The only (domain, node) reads a name lookup needs: list /local/domain, read each target's name. */
function nameLookupReads(introspector: Guest, targets: readonly Guest[]): string[] {
  return [pair(introspector.domid, '/local/domain'), ...targets.map((t) => pair(introspector.domid, `/local/domain/${t.domid}/name`))].sort();
}

function scriptsOf(specText: string): { acl: string; revoke: string } {
  const artifacts = artifactsOf(compileText(specText));
  const acl = artifacts.get('xenstore-acl.sh');
  const revoke = artifacts.get('xenstore-acl-revoke.sh');
  assert.ok(acl && revoke, 'compile emits xenstore-acl.sh and xenstore-acl-revoke.sh');
  return { acl, revoke };
}

// ---------------------------------------------------------------- daemon lifetime

/**
 * Stops started in `finally` and awaited here: stopping waits 1–2 s for PID 1 to reap the
 * daemon, which need not hold up the next test. Errors are kept, not left unhandled.
 */
const stopping: Promise<unknown>[] = [];
after(async () => {
  const errors = (await Promise.all(stopping)).filter((e) => e !== undefined);
  assert.deepEqual(errors, [], 'every xenstored stopped');
});

/** A fresh daemon with `guests` laid out like libxl, for the length of `body`. */
function withStore(t: TestContext, guests: readonly Guest[], body: (xsd: Xenstored) => void): void {
  if (!requires(t, { shared: true, commands: XENSTORED_COMMANDS })) return;
  const xsd = startXenstored();
  try {
    layOutLikeLibxl(xsd, guests);
    body(xsd);
  } finally {
    stopping.push(stopXenstored(xsd).then(() => undefined, (e: unknown) => e));
  }
}

/** Runs a script that must succeed. */
function run(xsd: Xenstored, script: string, table: XlTable): void {
  const r = runScript(xsd, script, writeFakeXl(xsd, table));
  assert.equal(r.status, 0, `script failed: ${r.stderr}`);
}

// ---------------------------------------------------------------- helpers on results

const minus = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x)).sort();

/** Owner first, then the other entries as a set: xenstored keeps their order, callers shouldn't care. */
function acl(perms: string): { owner: string; entries: string[] } {
  const [owner = '', ...entries] = perms.split(',');
  return { owner, entries: entries.sort() };
}

function changedNodes(before: Map<string, NodeState>, after: Map<string, NodeState>): string[] {
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), 'no node added or removed');
  return [...before].filter(([p, s]) => after.get(p)?.perms !== s.perms).map(([p]) => p).sort();
}

/** The matrix shows real checks: each guest reads its own name and no one else's. */
function assertProbesDiscriminate(access: Access, guests: readonly Guest[]): void {
  for (const g of guests) {
    assert.ok(access.read.has(pair(g.domid, `/local/domain/${g.domid}/name`)), `dom${g.domid} reads its own name`);
    assert.ok(access.write.has(pair(g.domid, `/local/domain/${g.domid}/data`)), `dom${g.domid} writes its own data`);
    assert.ok(!access.read.has(pair(g.domid, '/local/domain/0/name')), `dom${g.domid} cannot read dom0's name`);
  }
}

/** Reads and writes as every guest on every node, before and after `change`. */
function accessDiff(xsd: Xenstored, guests: readonly Guest[], change: () => void) {
  const domids = guests.map((g) => g.domid);
  const paths = [...snapshot(xsd).keys()];
  const before = accessMatrix(xsd, domids, paths);
  assertProbesDiscriminate(before, guests);
  change();
  const afterwards = accessMatrix(xsd, domids, paths);
  return {
    gainedReads: minus(afterwards.read, before.read),
    lostReads: minus(before.read, afterwards.read),
    gainedWrites: minus(afterwards.write, before.write),
    lostWrites: minus(before.write, afterwards.write),
  };
}

// ---------------------------------------------------------------- tests

describe('emitted xenstore scripts against the real C xenstored', () => {
  test("name lookup: the introspector lists /local/domain and reads its targets' names, nothing else", (t) =>
    withStore(t, ONE_MONITOR_GUESTS, (xsd) => {
      const { acl: script } = scriptsOf(ONE_MONITOR);
      // Before: libxl's layout gives it nothing of the others (else the test proves nothing).
      assert.deepEqual(xs(xsd, MON.domid, 'ls', '/local/domain'), { ok: false, error: 'EACCES' });
      assert.deepEqual(xs(xsd, MON.domid, 'read', `/local/domain/${WEB.domid}/name`), { ok: false, error: 'EACCES' });
      const writableBefore = accessMatrix(xsd, [MON.domid], [...snapshot(xsd).keys()]);
      assert.ok(writableBefore.write.has(pair(MON.domid, `/local/domain/${MON.domid}/data`)), 'the write probe sees its own node');

      run(xsd, script, ONE_MONITOR_XL);

      const listing = xs(xsd, MON.domid, 'ls', '/local/domain');
      assert.ok(listing.ok, 'lists /local/domain');
      assert.deepEqual(listing.out.split('\n').sort(), ['0', '3', '5', '6', '7']);
      for (const target of [WEB, DB]) {
        const dir = `/local/domain/${target.domid}`;
        assert.deepEqual(xs(xsd, MON.domid, 'read', `${dir}/name`), { ok: true, out: target.name });
        const perms = xs(xsd, MON.domid, 'getperms', `${dir}/name`);
        assert.ok(perms.ok);
        assert.deepEqual(acl(perms.out.split('\n').join(',')), { owner: 'n0', entries: [`r${MON.domid}`, `r${target.domid}`].sort() });
        for (const other of [dir, `${dir}/vm`, `${dir}/domid`, `${dir}/device`, `${dir}/device/vbd`, `${dir}/device/vbd/51712`, `${dir}/memory/target`, `${dir}/data`, `/vm/${target.uuid}`, `/vm/${target.uuid}/name`]) {
          assert.deepEqual(xs(xsd, MON.domid, 'read', other), { ok: false, error: 'EACCES' }, `reads ${other}`);
        }
        assert.deepEqual(xs(xsd, MON.domid, 'ls', dir), { ok: false, error: 'EACCES' }, `lists ${dir}`);
      }
      const byName = `/local/domain/${BYSTANDER.domid}/name`;
      assert.deepEqual(xs(xsd, MON.domid, 'read', byName), { ok: false, error: 'EACCES' }, 'reads the bystander name');
      assert.deepEqual(xs(xsd, MON.domid, 'read', '/vm'), { ok: false, error: 'EACCES' });

      // Read is all it got: it writes exactly what it wrote before (its own nodes) and can
      // neither create nodes nor take a granted node over.
      const writableAfter = accessMatrix(xsd, [MON.domid], [...snapshot(xsd).keys()]);
      assert.deepEqual([...writableAfter.write].sort(), [...writableBefore.write].sort());
      assert.ok([...writableAfter.write].every((p) => p.startsWith(`${MON.domid} /local/domain/${MON.domid}/`)));
      for (const [op, ...args] of [
        ['write', `/local/domain/${WEB.domid}/name`, 'evil'],
        ['write', '/local/domain/9', 'x'],
        ['write', `/local/domain/${WEB.domid}/name/x`, 'x'],
        ['mkdir', '/local/domain/9'],
        ['rm', `/local/domain/${WEB.domid}/name`],
        ['setperms', `/local/domain/${WEB.domid}/name`, `n${MON.domid}`],
        ['setperms', '/local/domain', 'n0', `r${MON.domid}`, `r${BYSTANDER.domid}`],
      ] as const) {
        assert.deepEqual(xs(xsd, MON.domid, op, ...args), { ok: false, error: 'EACCES' }, `${op} ${args.join(' ')}`);
      }
    }));

  test('no other domain gains read or write access anywhere', (t) =>
    withStore(t, ONE_MONITOR_GUESTS, (xsd) => {
      const { acl: script } = scriptsOf(ONE_MONITOR);
      const diff = accessDiff(xsd, ONE_MONITOR_GUESTS, () => run(xsd, script, ONE_MONITOR_XL));
      assert.deepEqual(diff, {
        gainedReads: nameLookupReads(MON, [WEB, DB]),
        lostReads: [],
        gainedWrites: [],
        lostWrites: [],
      });
    }));

  test('owners stay dom0 and nothing beyond the named nodes changes (no -r, no -u)', (t) =>
    withStore(t, ONE_MONITOR_GUESTS, (xsd) => {
      const before = snapshot(xsd);
      run(xsd, scriptsOf(ONE_MONITOR).acl, ONE_MONITOR_XL);
      const afterwards = snapshot(xsd);
      // Every other node (the targets' dirs, vm, device/…, /local, /vm/…) keeps its exact ACL.
      assert.deepEqual(changedNodes(before, afterwards), ['/local/domain', '/local/domain/5/name', '/local/domain/6/name']);
      assert.deepEqual(acl(afterwards.get('/local/domain')!.perms), { owner: 'n0', entries: ['r3'] });
      assert.deepEqual(acl(afterwards.get('/local/domain/5/name')!.perms), { owner: 'n0', entries: ['r3', 'r5'] });
      assert.deepEqual(acl(afterwards.get('/local/domain/6/name')!.perms), { owner: 'n0', entries: ['r3', 'r6'] });
      for (const [p, s] of afterwards) assert.equal(s.value, before.get(p)?.value, `value of ${p}`);
    }));

  test('running xenstore-acl.sh twice leaves the same ACLs', (t) =>
    withStore(t, ONE_MONITOR_GUESTS, (xsd) => {
      const { acl: script } = scriptsOf(ONE_MONITOR);
      run(xsd, script, ONE_MONITOR_XL);
      const once = snapshot(xsd);
      run(xsd, script, ONE_MONITOR_XL);
      assert.deepEqual(snapshot(xsd), once);
    }));

  test('xenstore-acl-revoke.sh restores every node exactly', (t) =>
    withStore(t, ONE_MONITOR_GUESTS, (xsd) => {
      const { acl: script, revoke } = scriptsOf(ONE_MONITOR);
      const before = snapshot(xsd);
      run(xsd, script, ONE_MONITOR_XL);
      assert.notDeepEqual(snapshot(xsd), before, 'the grant changed something to revoke');
      run(xsd, revoke, ONE_MONITOR_XL);
      assert.deepEqual(snapshot(xsd), before);
      // and the daemon agrees: the introspector lost its listing again
      assert.deepEqual(xs(xsd, MON.domid, 'ls', '/local/domain'), { ok: false, error: 'EACCES' });
    }));

  test("multi-tenant: acme-monitor reads only its targets' names; globex-monitor (domid lookup) gains nothing", (t) => {
    const acme = guest(3, 'acme-monitor');
    const globex = guest(4, 'globex-monitor');
    const acmeWeb = guest(5, 'acme-web');
    const acmeDb = guest(6, 'acme-db');
    const globexApp = guest(7, 'globex-app');
    const guests = [acme, globex, acmeWeb, acmeDb, globexApp];
    const table: XlTable = Object.fromEntries(guests.map((g) => [g.name, g.domid]));
    withStore(t, guests, (xsd) => {
      const { acl: script, revoke } = scriptsOf(readFileSync(repoPath('examples/multi-tenant/vmi.yaml'), 'utf8'));
      const before = snapshot(xsd);
      const diff = accessDiff(xsd, guests, () => run(xsd, script, table));
      assert.deepEqual(diff.gainedReads, nameLookupReads(acme, [acmeWeb, acmeDb]));
      assert.deepEqual(diff.gainedReads.filter((p) => p.startsWith(`${globex.domid} `)), [], 'globex-monitor gains nothing');
      assert.deepEqual([diff.lostReads, diff.gainedWrites, diff.lostWrites], [[], [], []]);
      assert.deepEqual(xs(xsd, acme.domid, 'read', `/local/domain/${globexApp.domid}/name`), { ok: false, error: 'EACCES' }, "acme reads globex's name");
      run(xsd, revoke, table);
      assert.deepEqual(snapshot(xsd), before, 'revoke restores every node');
    });
  });

  /** The host's xl, except that for `victim` it prints `answer`, or fails when that is undefined. */
  function xlWith(victim: string, answer: string | undefined): XlTable {
    const table: Record<string, string | number> = { ...ONE_MONITOR_XL };
    if (answer === undefined) delete table[victim];
    else table[victim] = answer;
    return table;
  }

  /**
   * Each script, with `xl domid` misbehaving for one name at a time (each name in turn, so a
   * failure after some chmods had already run would show), must exit non-zero with a message
   * of its own naming the domain, and leave every ACL as it was: the layout for the grant,
   * the granted store for the revoke (so that a revoke which ran anyway would show).
   */
  function assertRefusesBadXl(t: TestContext, answers: ReadonlyArray<(canary: string) => string | undefined>, message: RegExp): void {
    withStore(t, ONE_MONITOR_GUESTS, (xsd) => {
      const scripts = scriptsOf(ONE_MONITOR);
      // Where a shell that executed xl's output would leave a trace.
      const canary = join(xsd.rundir, 'canary');
      const check = (which: string, script: string, expected: Map<string, NodeState>) => {
        // Every domain the script resolves (the revoke needs only the targets' domids).
        const resolved = parseAclScript(script);
        assert.ok(resolved.ok);
        const victims = resolved.statements.flatMap((st) => (st.kind === 'resolve' ? [st.name] : []));
        assert.ok(victims.length > 0);
        for (const victim of victims) {
          for (const answerFor of answers) {
            const answer = answerFor(canary);
            const what = `${which} with xl domid ${victim} -> ${answer ?? 'exit 1'}`;
            const r = runScript(xsd, script, writeFakeXl(xsd, xlWith(victim, answer)));
            assert.notEqual(r.status, 0, `${what}: exits non-zero`);
            const own = r.stderr.split('\n').filter((l) => l.startsWith('vmipolicy:'));
            assert.equal(own.length, 1, `${what}: one message of its own, got: ${r.stderr}`);
            assert.ok(own[0]!.includes(victim), `${what}: the message names the domain: ${own[0]}`);
            assert.match(own[0]!, message, what);
            assert.deepEqual(snapshot(xsd), expected, `${what}: no ACL changed`);
            assert.equal(existsSync(canary), false, `${what}: xl's output was executed`);
          }
        }
      };
      const laidOut = snapshot(xsd);
      check('xenstore-acl.sh', scripts.acl, laidOut);
      run(xsd, scripts.acl, ONE_MONITOR_XL);
      const granted = snapshot(xsd);
      assert.notDeepEqual(granted, laidOut, 'the grant changed something to revoke');
      check('xenstore-acl-revoke.sh', scripts.revoke, granted);
    });
  }

  test('fails without changing any ACL when xl domid fails for a domain', (t) =>
    assertRefusesBadXl(t, [() => undefined], /not running/));

  test('fails without changing any ACL when xl domid prints something other than a domid', (t) =>
    assertRefusesBadXl(t, [(c) => `5; touch ${c}`, (c) => `$(touch ${c})`, () => '', () => '5 6', () => '-1'], /not a domid/));

  // xenstore-chmod reads "r4294967306" with atoi: r10, another domain. Domids are 0..32751.
  test('fails without changing any ACL when xl domid prints a number that is no domid', (t) =>
    assertRefusesBadXl(t, [() => '4294967306', () => '32752', () => '007', () => ' 5'], /not a domid \(0 to 32751\)/));
});
