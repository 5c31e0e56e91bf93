// The simulated xenstore against the real C xenstored (Debian's 4.17, run without a
// hypervisor by ../shared/tools/xenstored-noxen): fast-check generates sequences of writes,
// mkdirs, rms, SET_PERMS, reads, GET_PERMS and directory listings by dom0 and three guests,
// on existing, missing, relative and invalid paths; every step must get the same answer
// (value or error name) from both, and the whole tree must match after every sequence.
//
// One daemon serves the whole run: each sequence starts with a reset batch (as dom0) that
// puts the store back to its initial state, so sequences are independent and shrinkable.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { requires } from './support/env.js';
import {
  introduce,
  snapshot,
  startXenstored,
  stopXenstored,
  xsBatchAny,
  XENSTORED_COMMANDS,
  type XsAnswer,
  type XsAnyRequest,
  type Xenstored,
} from './support/xenstored.js';
import { Xenstore, type XsResult } from '../xenstore/store.js';
import { formatXsPerms } from '../xenstore/access.js';

/** Domains that exist on the daemon's fake host; the guests among them that can talk to it. */
const EXISTING = '0-9';
const EXISTING_DOMIDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const GUESTS = [1, 2, 3];

const stopping: Promise<unknown>[] = [];
after(async () => {
  const errors = (await Promise.all(stopping)).filter((e) => e !== undefined);
  assert.deepEqual(errors, [], 'every xenstored stopped');
});

function stopLater(xsd: Xenstored): void {
  stopping.push(stopXenstored(xsd).then(() => undefined, (e: unknown) => e));
}

// ---------------------------------------------------------------- steps

type Op = 'read' | 'ls' | 'getperms' | 'write' | 'mkdir' | 'rm' | 'setperms';

interface Step {
  /** undefined: dom0 through its privileged socket. */
  readonly domid: number | undefined;
  readonly op: Op;
  readonly args: readonly string[];
}

const TOP = ['a', 'b', 'c'];
/** Few paths, so that steps meet on the same nodes: a chain, a sibling, and deeper ones. */
const HOT_PATHS = ['/a', '/a/b', '/a/b/c', '/b', '/b/a'];
const TREE_PATHS = [...TOP.flatMap((t) => TOP.map((u) => `/${t}/${u}`)), '/c', '/a/a/a', '/b/a/b'];
const ODD_PATHS = ['/', '/tool', '/tool/xenstored', '/local/domain/1/x', '/local/domain/2', 'a', 'a/b', '/a/', '//a', '/a b', '', '/a/@x', '@introduceDomain', '@other'];

const pathArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...HOT_PATHS) },
  { weight: 2, arbitrary: fc.constantFrom(...TREE_PATHS) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_PATHS) },
);

/** Domids for ACL entries: dom0, the guests, one that exists but never talks, one that does not exist. */
const domidArb = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('0', '1', '2', '3') }, { weight: 1, arbitrary: fc.constantFrom('4', '42') });
const entryArb = fc.tuple(fc.constantFrom('r', 'w', 'b', 'n'), domidArb).map(([l, d]) => l + d);
/** What xs_strings_to_perms must refuse or read oddly: bad letters, empty, hex, octal, space, sign, overflow. */
const oddPermArb = fc.constantFrom('x1', '', 'R1', 'r', 'r0x2', 'r01', 'r 3', 'b+1', 'r-1', 'r1a', 'r99999', 'r4294967297', 'n0x', 'r08');
const permsArb = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(entryArb, fc.array(entryArb, { maxLength: 4 })).map(([owner, rest]) => [owner, ...rest]) },
  { weight: 1, arbitrary: fc.array(entryArb, { minLength: 6, maxLength: 7 }) },
  { weight: 1, arbitrary: fc.tuple(fc.array(entryArb, { maxLength: 2 }), oddPermArb, fc.array(entryArb, { maxLength: 2 })).map(([a, odd, b]) => [...a, odd, ...b]) },
);

const valueArb = fc.constantFrom('', 'v', 'hello');
/** dom0 mostly changes ACLs; guests try everything. */
const dom0OpArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Op>('setperms') },
  { weight: 2, arbitrary: fc.constant<Op>('write') },
  { weight: 1, arbitrary: fc.constantFrom<Op>('read', 'ls', 'getperms', 'mkdir', 'rm') },
);
const guestOpArb = fc.constantFrom<Op>('read', 'ls', 'getperms', 'write', 'mkdir', 'rm', 'setperms');

function makeStep(domid: number | undefined, op: Op, path: string, value: string, perms: readonly string[]): Step {
  if (op === 'write') return { domid, op, args: [path, value] };
  if (op === 'setperms') {
    // SET_PERMS on "@…" answers failures with a stale errno (do_set_perms returns errno,
    // which set_perms_special never sets): only dom0 on a real special node is
    // deterministic, so only that is compared.
    if (path.startsWith('@')) return { domid: undefined, op, args: ['@introduceDomain', ...perms] };
    return { domid, op, args: [path, ...perms] };
  }
  return { domid, op, args: [path] };
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(fc.constant(undefined), dom0OpArb, pathArb, valueArb, permsArb) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...GUESTS), guestOpArb, pathArb, valueArb, permsArb) },
).map(([domid, op, path, value, perms]) => makeStep(domid, op, path, value, perms));

/** dom0 creates the hot paths and gives each an ACL: guests need nodes they may touch. */
const preludeArb: fc.Arbitrary<Step[]> = fc
  .array(fc.tuple(entryArb, fc.array(entryArb, { maxLength: 3 })), { minLength: HOT_PATHS.length, maxLength: HOT_PATHS.length })
  .map((acls) => [
    ...HOT_PATHS.map((p): Step => ({ domid: undefined, op: 'write', args: [p, `at ${p}`] })),
    ...HOT_PATHS.map((p, i): Step => ({ domid: undefined, op: 'setperms', args: [p, acls[i]![0], ...acls[i]![1]] })),
  ]);

// ---------------------------------------------------------------- the simulator's answers in xsclient's words

function answerOf(result: XsResult<unknown>, render: (v: never) => string): XsAnswer {
  return result.ok ? { ok: true, out: render(result.value as never) } : { ok: false, error: result.error };
}

function simulate(store: Xenstore, step: Step): XsAnswer {
  const caller = step.domid ?? 0;
  const [path = '', ...rest] = step.args;
  const lines = (v: readonly string[]): string => v.join('\n');
  const acked = (): string => 'OK';
  switch (step.op) {
    case 'read':
      return answerOf(store.read(caller, path), (v: string) => v);
    case 'ls':
      return answerOf(store.directory(caller, path), lines);
    case 'getperms':
      return answerOf(store.getPerms(caller, path), lines);
    case 'write':
      return answerOf(store.write(caller, path, rest[0] ?? ''), acked);
    case 'mkdir':
      return answerOf(store.mkdir(caller, path), acked);
    case 'rm':
      return answerOf(store.rm(caller, path), acked);
    case 'setperms':
      return answerOf(store.setPerms(caller, path, rest), acked);
  }
}

/** dom0 puts the daemon back as it started: "/" (n0) with /tool/xenstored, specials (n0). */
const RESET: readonly XsAnyRequest[] = [
  { domid: undefined, op: 'setperms', args: ['/', 'n0'] },
  ...[...TOP, 'local', 'tool'].map((t) => ({ domid: undefined, op: 'rm', args: [`/${t}`] })),
  { domid: undefined, op: 'mkdir', args: ['/tool/xenstored'] },
  { domid: undefined, op: 'setperms', args: ['/tool', 'n0'] },
  { domid: undefined, op: 'setperms', args: ['/tool/xenstored', 'n0'] },
  { domid: undefined, op: 'setperms', args: ['@introduceDomain', 'n0'] },
  { domid: undefined, op: 'setperms', args: ['@releaseDomain', 'n0'] },
];

function describe(step: Step): string {
  return `${step.domid === undefined ? 'dom0' : `dom${step.domid}`} ${step.op} ${step.args.map((a) => JSON.stringify(a)).join(' ')}`;
}

/** dom0's view of the simulator, in the harness's snapshot form. */
function simulatorSnapshot(store: Xenstore): Map<string, { value: string; perms: string }> {
  const out = new Map<string, { value: string; perms: string }>();
  for (const n of store.nodeStates()) if (n.path !== '/') out.set(n.path, { value: n.value, perms: formatXsPerms(n.perms) });
  return out;
}

test('the simulated xenstore answers every step as the real C xenstored does', (t) => {
  if (!requires(t, { shared: true, commands: [...XENSTORED_COMMANDS] })) return;
  const xsd = startXenstored(EXISTING);
  let compared = 0;
  let sequences = 0;
  /** Guest steps the daemon allowed: without them the comparison would only see refusals. */
  let guestSuccesses = 0;
  const started = Date.now();
  try {
    introduce(xsd, GUESTS);
    fc.assert(
      fc.property(preludeArb, fc.array(stepArb, { minLength: 5, maxLength: 15, size: 'max' }), (prelude, random) => {
        const steps = [...prelude, ...random];
        const answers = xsBatchAny(xsd, [...RESET, ...steps]);
        answers.slice(0, RESET.length).forEach((a, i) => assert.ok(a.ok, `reset step ${i} failed: ${JSON.stringify(a)}`));
        const store = new Xenstore({ domains: EXISTING_DOMIDS });
        steps.forEach((step, i) => {
          assert.deepEqual(simulate(store, step), answers[RESET.length + i], `step ${i + 1}: ${describe(step)}\nall steps:\n${steps.map(describe).join('\n')}`);
          compared++;
          if (step.domid !== undefined && answers[RESET.length + i]!.ok) guestSuccesses++;
        });
        assert.deepEqual(simulatorSnapshot(store), snapshot(xsd), `tree after:\n${steps.map(describe).join('\n')}`);
        sequences++;
      }),
      { numRuns: 100 },
    );
  } finally {
    stopLater(xsd);
  }
  const summary = `${compared} steps in ${sequences} sequences compared with the real xenstored (${guestSuccesses} guest steps allowed) in ${Date.now() - started} ms`;
  console.log(`# ${summary}`);
  t.diagnostic(summary);
  assert.ok(compared >= 1000, 'enough steps were compared');
  assert.ok(guestSuccesses >= 100, 'guests were allowed often enough for the rules to matter');
});

/** Runs fixed steps on a fresh daemon and the simulator side by side. */
function sideBySide(existing: string, domids: readonly number[], guests: readonly number[], body: (run: (steps: readonly Step[]) => void, xsd: Xenstored, store: Xenstore) => void): void {
  const xsd = startXenstored(existing);
  try {
    introduce(xsd, guests);
    const store = new Xenstore({ domains: domids });
    body(
      (steps) => {
        const answers = xsBatchAny(xsd, steps);
        steps.forEach((step, i) => assert.deepEqual(simulate(store, step), answers[i], `${describe(step)}`));
      },
      xsd,
      store,
    );
  } finally {
    stopLater(xsd);
  }
}

test('an ACL entry for a domain that does not exist yet is ignored for good, on both', (t) => {
  if (!requires(t, { shared: true, commands: [...XENSTORED_COMMANDS] })) return;
  sideBySide('0-9', EXISTING_DOMIDS, [1], (run, xsd, store) => {
    run([
      { domid: undefined, op: 'write', args: ['/early', 'e'] },
      { domid: undefined, op: 'setperms', args: ['/early', 'n0', 'r42', 'r1'] },
      { domid: undefined, op: 'getperms', args: ['/early'] },
      { domid: 1, op: 'read', args: ['/early'] },
    ]);
    // Domain 42 comes into being (the shim re-reads its list) and connects.
    writeFileSync(join(xsd.rundir, 'domains'), '0-9,42\n');
    introduce(xsd, [42]);
    store.addDomain(42);
    run([
      { domid: 42, op: 'read', args: ['/early'] },
      { domid: undefined, op: 'write', args: ['/late', 'l'] },
      { domid: undefined, op: 'setperms', args: ['/late', 'n0', 'r42'] },
      { domid: 42, op: 'read', args: ['/late'] },
      // A child of /early copies its ignored entry, still ignored.
      { domid: undefined, op: 'write', args: ['/early/child', 'c'] },
      { domid: 42, op: 'read', args: ['/early/child'] },
      { domid: undefined, op: 'getperms', args: ['/early/child'] },
    ]);
    assert.equal(store.read(42, '/early').ok, false, 'the early entry stays ignored');
    assert.equal(store.read(42, '/late').ok, true, 'the late entry counts');
  });
});

test('SET_TARGET gives a domain its target\'s ownership and entries, on both', (t) => {
  if (!requires(t, { shared: true, commands: [...XENSTORED_COMMANDS] })) return;
  sideBySide('0-9', EXISTING_DOMIDS, [1, 2, 3], (run, xsd, store) => {
    run([
      { domid: undefined, op: 'write', args: ['/owned', 'o'] },
      { domid: undefined, op: 'setperms', args: ['/owned', 'n1'] },
      { domid: undefined, op: 'write', args: ['/granted', 'g'] },
      { domid: undefined, op: 'setperms', args: ['/granted', 'n0', 'r1'] },
      { domid: 2, op: 'read', args: ['/owned'] },
      { domid: 2, op: 'read', args: ['/granted'] },
    ]);
    const set = xsBatchAny(xsd, [{ domid: undefined, op: 'set-target', args: ['2', '1'] }]);
    assert.deepEqual(set, [{ ok: true, out: 'OK' }]);
    assert.deepEqual(store.setTarget(0, 2, 1), { ok: true, value: null });
    run([
      { domid: 2, op: 'read', args: ['/owned'] },
      { domid: 2, op: 'write', args: ['/owned', 'by-2'] },
      { domid: 2, op: 'setperms', args: ['/owned', 'n1', 'r3'] },
      { domid: 2, op: 'read', args: ['/granted'] },
      { domid: 2, op: 'write', args: ['/granted', 'x'] },
      { domid: 3, op: 'read', args: ['/owned'] },
      { domid: 1, op: 'getperms', args: ['/owned'] },
    ]);
  });
});
