// Unit tables for the simulated xenstore's ACL rules (C xenstored 4.17:
// tools/xenstore/xenstored_core.c perm_for_conn, get_node, errno_from_parents).
// The differential test (vmi-xenstore-differential) checks the same rules against the real
// daemon on random sequences; these tables name each rule so a regression says which.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { layOutXenstore, libxlNodes } from '../xenstore/libxl-layout.js';
import { isValidNodename, parseWirePerm, sanitiseValue, Xenstore } from '../xenstore/store.js';

/** dom0 writes `path` and gives it `perms`; domains 0–5 exist, 9 is privileged. */
function storeWith(nodes: Record<string, readonly string[]>, privDomid?: number): Xenstore {
  const store = new Xenstore({ domains: [1, 2, 3, 4, 5, 9], ...(privDomid === undefined ? {} : { privDomid }) });
  for (const [path, perms] of Object.entries(nodes)) {
    assert.ok(store.write(0, path, `value of ${path}`).ok, `write ${path}`);
    assert.deepEqual(store.setPerms(0, path, perms), { ok: true, value: null }, `setperms ${path}`);
  }
  return store;
}

const readable = (s: Xenstore, domid: number, path: string): string => {
  const r = s.read(domid, path);
  return r.ok ? 'ok' : r.error;
};
const writable = (s: Xenstore, domid: number, path: string): string => {
  const r = s.mkdir(domid, path);
  return r.ok ? 'ok' : r.error;
};

describe('who may read and write a node', () => {
  const rows: readonly { rule: string; perms: readonly string[]; domid: number; read: string; write: string }[] = [
    { rule: 'the owner has full access whatever the first letter', perms: ['n1'], domid: 1, read: 'ok', write: 'ok' },
    { rule: 'the first letter is the default for unlisted domains (n)', perms: ['n1'], domid: 2, read: 'EACCES', write: 'EACCES' },
    { rule: 'the first letter is the default for unlisted domains (r)', perms: ['r1'], domid: 2, read: 'ok', write: 'EACCES' },
    { rule: 'the first letter is the default for unlisted domains (w)', perms: ['w1'], domid: 2, read: 'EACCES', write: 'ok' },
    { rule: 'the first letter is the default for unlisted domains (b)', perms: ['b1'], domid: 2, read: 'ok', write: 'ok' },
    { rule: 'a listed entry overrides the default', perms: ['b1', 'n2'], domid: 2, read: 'EACCES', write: 'EACCES' },
    { rule: 'the first matching entry wins', perms: ['n1', 'r2', 'b2'], domid: 2, read: 'ok', write: 'EACCES' },
    { rule: 'an entry for the owner does not limit the owner', perms: ['n1', 'n1'], domid: 1, read: 'ok', write: 'ok' },
    { rule: 'dom0 is privileged whatever the ACL', perms: ['n1', 'n0'], domid: 0, read: 'ok', write: 'ok' },
    { rule: 'an entry for a domain that does not exist is ignored', perms: ['n1', 'r7'], domid: 2, read: 'EACCES', write: 'EACCES' },
  ];
  for (const row of rows) {
    test(row.rule, () => {
      const store = storeWith({ '/n': row.perms });
      assert.deepEqual([readable(store, row.domid, '/n'), writable(store, row.domid, '/n')], [row.read, row.write]);
    });
  }

  test('--priv-domid makes that domain privileged too (and dom0 stays so in 4.17)', () => {
    const store = storeWith({ '/n': ['n1'] }, 9);
    assert.equal(readable(store, 9, '/n'), 'ok');
    assert.equal(readable(store, 0, '/n'), 'ok');
    assert.equal(readable(storeWith({ '/n': ['n1'] }), 9, '/n'), 'EACCES');
  });

  test('GET_PERMS needs read and lists ignored entries as set', () => {
    const store = storeWith({ '/n': ['n1', 'r2', 'r7'] });
    assert.deepEqual(store.getPerms(2, '/n'), { ok: true, value: ['n1', 'r2', 'r7'] });
    assert.deepEqual(store.getPerms(3, '/n'), { ok: false, error: 'EACCES' });
  });
});

describe('parents', () => {
  test('reads check only the node itself: a readable node under an unreadable parent', () => {
    const store = storeWith({ '/p': ['n0'], '/p/c': ['n0', 'r2'] });
    assert.equal(readable(store, 2, '/p'), 'EACCES');
    assert.equal(readable(store, 2, '/p/c'), 'ok');
  });
  test('a listing needs read on the directory only and names every child', () => {
    const store = storeWith({ '/p': ['n0', 'r2'], '/p/secret': ['n0'], '/p/open': ['r0'] });
    assert.deepEqual(store.directory(2, '/p'), { ok: true, value: ['secret', 'open'] });
    assert.deepEqual(store.directory(3, '/p'), { ok: false, error: 'EACCES' });
  });
  test('a missing node: ENOENT when the nearest existing ancestor grants the access, else EACCES', () => {
    const store = storeWith({ '/open': ['n0', 'r2'], '/closed': ['n0'] });
    assert.equal(readable(store, 2, '/open/missing/deeper'), 'ENOENT');
    assert.equal(readable(store, 2, '/closed/missing'), 'EACCES');
    assert.equal(writable(store, 2, '/open/missing'), 'EACCES', 'creating needs write on the nearest ancestor');
  });
});

describe('creating nodes', () => {
  test('a new node copies its parent ACL; an unprivileged creator becomes the owner', () => {
    const store = storeWith({ '/w': ['n0', 'w2', 'r3'] });
    assert.ok(store.write(2, '/w/a/b', 'v').ok);
    assert.deepEqual(store.getPerms(0, '/w/a'), { ok: true, value: ['n2', 'w2', 'r3'] });
    assert.deepEqual(store.getPerms(0, '/w/a/b'), { ok: true, value: ['n2', 'w2', 'r3'] });
    assert.equal(readable(store, 3, '/w/a/b'), 'ok');
  });
  test('dom0 creating a node keeps the parent owner', () => {
    const store = storeWith({ '/d': ['n5', 'r1'] });
    assert.ok(store.write(0, '/d/x', '').ok);
    assert.deepEqual(store.getPerms(0, '/d/x'), { ok: true, value: ['n5', 'r1'] });
  });
  test('a relative path is below the caller\'s /local/domain/<id>', () => {
    const store = storeWith({ '/local/domain/2': ['n2'] });
    assert.ok(store.write(2, 'data/x', 'v').ok);
    assert.deepEqual(store.read(0, '/local/domain/2/data/x'), { ok: true, value: 'v' });
  });
  test('rm takes the whole subtree, whatever the children\'s ACLs; rm of a missing child is fine', () => {
    const store = storeWith({ '/r': ['n0', 'b2'], '/r/kept': ['n0'] });
    assert.deepEqual(store.rm(2, '/r/missing'), { ok: true, value: null });
    assert.deepEqual(store.rm(2, '/r/missing/deeper'), { ok: false, error: 'ENOENT' });
    assert.deepEqual(store.rm(2, '/r'), { ok: true, value: null });
    assert.equal(store.nodeState('/r/kept'), undefined);
    assert.deepEqual(store.rm(0, '/'), { ok: false, error: 'EINVAL' });
  });
});

describe('SET_PERMS', () => {
  test('only the owner or a privileged domain; an unprivileged owner may not give the node away', () => {
    const store = storeWith({ '/s': ['n2', 'b3'] });
    assert.deepEqual(store.setPerms(3, '/s', ['n3']), { ok: false, error: 'EACCES' });
    assert.deepEqual(store.setPerms(2, '/s', ['n3']), { ok: false, error: 'EPERM' });
    assert.deepEqual(store.setPerms(2, '/s', ['r2', 'n3']), { ok: true, value: null });
    assert.deepEqual(store.setPerms(0, '/s', ['n4']), { ok: true, value: null });
  });
  test('the owner must exist; bad entries are EINVAL; unprivileged callers set at most 5', () => {
    const store = storeWith({ '/s': ['n2'] });
    assert.deepEqual(store.setPerms(0, '/s', ['n7']), { ok: false, error: 'ENOENT' });
    assert.deepEqual(store.setPerms(0, '/s', ['x1']), { ok: false, error: 'EINVAL' });
    assert.deepEqual(store.setPerms(0, '/s', []), { ok: false, error: 'EINVAL' });
    assert.deepEqual(store.setPerms(2, '/s', ['n2', 'r1', 'r3', 'r4', 'r5', 'r0']), { ok: false, error: 'ENOSPC' });
    assert.deepEqual(store.setPerms(0, '/s', ['n2', 'r1', 'r3', 'r4', 'r5', 'r0']), { ok: true, value: null });
  });
  test('an entry set before its domain existed stays ignored once it does', () => {
    const store = storeWith({ '/early': ['n0', 'r7'] });
    store.addDomain(7);
    assert.ok(store.setPerms(0, '/late', ['n0']).ok === false, 'missing node');
    assert.ok(store.write(0, '/late', '').ok && store.setPerms(0, '/late', ['n0', 'r7']).ok);
    assert.equal(readable(store, 7, '/early'), 'EACCES');
    assert.equal(readable(store, 7, '/late'), 'ok');
  });
  test('SET_TARGET: the holder acts as its target, and only dom0 may set it', () => {
    const store = storeWith({ '/t': ['n1'] });
    assert.deepEqual(store.setTarget(2, 3, 1), { ok: false, error: 'EACCES' });
    assert.ok(store.setTarget(0, 3, 1).ok);
    assert.equal(readable(store, 3, '/t'), 'ok');
  });
});

describe('the wire formats', () => {
  const perms: readonly [string, ReturnType<typeof parseWirePerm>][] = [
    ['r5', { letter: 'r', id: 5 }],
    ['b0x10', { letter: 'b', id: 16 }],
    ['n010', { letter: 'n', id: 8 }],
    ['w 3', { letter: 'w', id: 3 }],
    ['r-1', { letter: 'r', id: 0xffffffff }],
    ['r', undefined],
    ['r1a', undefined],
    ['r08', undefined],
    ['x1', undefined],
    ['', undefined],
  ];
  for (const [text, expected] of perms) test(`permission ${JSON.stringify(text)}`, () => assert.deepEqual(parseWirePerm(text), expected));

  test('node names', () => {
    for (const ok of ['/', '/a', '/a-b/c_d/@e', `/local/domain/5/${'x'.repeat(2048)}`]) assert.ok(isValidNodename(ok), ok);
    for (const bad of ['', 'a', '/a/', '//a', '/a b', '/a.b', `/${'x'.repeat(2048)}`]) assert.ok(!isValidNodename(bad), bad);
  });

  test('values print as xenstore-ls sanitises them', () => {
    assert.equal(sanitiseValue('a "b" \\ \t\n\r\x01\x7f é'), 'a "b" \\\\ \\t\\n\\r\\001\\x7f \\xc3\\xa9');
  });
});

describe('createAsDom0: the layout fast path leaves the store as write + setPerms by dom0 do', () => {
  /** Everything the store holds, private fields included: nodes (value, ACL, children, generation), domains, the count. */
  const state = (s: Xenstore): string => {
    const inner = s as unknown as { nodes: Map<string, unknown>; domains: Map<number, unknown>; generation: number };
    return JSON.stringify({ nodes: [...inner.nodes], domains: [...inner.domains], generation: inner.generation });
  };
  const segment = fc.constantFrom('local', 'domain', '0', '1', '7', 'vm', 'name', 'a-b', 'x_y', 'bad name', '');
  const path = fc.array(segment, { minLength: 0, maxLength: 5 }).map((parts) => '/' + parts.join('/'));
  const perm = fc.tuple(fc.constantFrom('r', 'w', 'b', 'n', 'x'), fc.constantFrom('0', '1', '3', '7', '-1', '40000', 'z')).map(([l, d]) => l + d);
  const node = fc.record({ path, value: fc.constantFrom('', 'v', 'Domain-0'), perms: fc.array(perm, { minLength: 0, maxLength: 4 }) });
  // A domain introduced between two nodes: an entry for it set afterwards is no longer ignored.
  const op = fc.oneof({ arbitrary: node, weight: 5 }, { arbitrary: fc.record({ introduce: fc.constantFrom(1, 3, 7) }), weight: 1 });

  test('for any sequence of nodes, valid or not, new or existing, domains coming in between: the same answers and the same store', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), fc.subarray([1, 2, 3, 5, 7]), (ops, domains) => {
      const slow = new Xenstore({ domains });
      const fast = new Xenstore({ domains });
      for (const o of ops) {
        if ('introduce' in o) {
          slow.addDomain(o.introduce);
          fast.addDomain(o.introduce);
          continue;
        }
        const w = slow.write(0, o.path, o.value);
        const expected = w.ok ? slow.setPerms(0, o.path, o.perms) : w;
        assert.deepEqual(fast.createAsDom0(o.path, o.value, o.perms), expected, `${o.path} ${o.perms.join(' ')}`);
      }
      assert.equal(state(fast), state(slow));
    }), { numRuns: 400 });
  });

  test('an ACL naming a domain not yet there, set again once it is: the entry counts the second time', () => {
    const slow = new Xenstore({ domains: [] });
    const fast = new Xenstore({ domains: [] });
    for (const s of [slow, fast]) {
      assert.ok(s.mkdir(0, '/a').ok);
    }
    assert.ok(slow.write(0, '/a/one', 'v').ok && slow.setPerms(0, '/a/one', ['n0', 'r4']).ok);
    assert.ok(fast.createAsDom0('/a/one', 'v', ['n0', 'r4']).ok);
    for (const s of [slow, fast]) s.addDomain(4);
    assert.ok(slow.write(0, '/a/two', 'v').ok && slow.setPerms(0, '/a/two', ['n0', 'r4']).ok);
    assert.ok(fast.createAsDom0('/a/two', 'v', ['n0', 'r4']).ok);
    assert.equal(state(fast), state(slow));
    assert.deepEqual([fast.read(4, '/a/one').ok, fast.read(4, '/a/two').ok], [false, true]);
  });

  test("libxl's layout for a host, then a domain introduced later: the same store, the same access", () => {
    const domains = [1, 2, 3].map((domid) => ({ domid, name: `vm${domid}` }));
    const uuids = new Map(domains.map((d) => [d.domid, `uuid-${d.domid}`]));
    const slow = new Xenstore({ domains: domains.map((d) => d.domid) });
    for (const n of libxlNodes(domains, uuids)) {
      assert.ok(slow.write(0, n.path, n.value).ok);
      assert.ok(slow.setPerms(0, n.path, n.perms).ok);
    }
    const fast = layOutXenstore(domains, uuids);
    assert.equal(state(fast), state(slow));
    // A domain introduced after the layout inherits nothing of an entry set before it existed.
    for (const s of [slow, fast]) s.addDomain(4);
    assert.deepEqual(fast.read(4, '/local/domain/1/name'), slow.read(4, '/local/domain/1/name'));
  });
});
