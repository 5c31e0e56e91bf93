// The `xenstore-ls -p` reader (xenstore/ls-format.ts): output captured from the real C
// xenstored (../shared/tools/xenstored-noxen) compared with what was written, static samples
// of every line shape do_ls prints, hostile lines (positioned VP320x), a printer that mimics
// xenstore_client.c do_ls for random trees (round trip), and a no-throw fuzz.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it, test, type TestContext } from 'node:test';
import fc from 'fast-check';
import type { Diagnostic } from '../core/diagnostics.js';
import { findXsNode, parseXenstoreLs, walkXsNodes, type XsNode } from '../xenstore/ls-format.js';
import { formatXsPerms, isValidNodename, XENSTORE_REL_PATH_MAX, type XsPermLetter } from '../xenstore/access.js';
import { Xenstore } from '../xenstore/store.js';
import { requires } from './support/env.js';
import { dom0Chmod, dom0Write, startXenstored, stopXenstored, XENSTORED_COMMANDS, xsBatchAny, type Xenstored } from './support/xenstored.js';

// ---------------------------------------------------------------- helpers

interface Flat {
  readonly value?: string;
  readonly perms?: string;
  readonly truncated?: boolean;
}

/** path → value and perms ("n0,r5") of every node below the root. */
function flatten(root: XsNode): Map<string, Flat> {
  const out = new Map<string, Flat>();
  for (const n of walkXsNodes(root)) {
    out.set(n.path, {
      ...(n.value !== undefined ? { value: n.value } : {}),
      ...(n.perms ? { perms: formatXsPerms(n.perms) } : {}),
      ...(n.truncated ? { truncated: true } : {}),
    });
  }
  return out;
}

function located(text: string, diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.code} ${text.slice(d.span?.start ?? 0, d.span?.end ?? 0)}`);
}

function assertPositioned(diagnostics: readonly Diagnostic[], text: string, file: string): void {
  for (const d of diagnostics) {
    assert.ok(d.span, `${d.code} ${d.message} has a span`);
    assert.equal(d.span.file, file);
    assert.ok(d.span.start >= 0 && d.span.start <= d.span.end && d.span.end <= text.length, `${d.code} span inside the text`);
  }
}

// ---------------------------------------------------------------- static samples

/**
 * Captured from the C xenstored 4.17 (xenstore-ls -p /t, stdout a pipe), after
 *   xenstore-write /t/a 'hello world' /t/b 'say "hi" (x) ...' /t/c '' /t/d/e 'v"  (n0)'
 *                  /t/long <100 x> /t/tab <a TAB b c \001 \377 é> /t/f '  (r1)'
 *   xenstore-chmod /t/a n0 r5 b3; xenstore-chmod /t/b w2; xenstore-chmod /t/d/e r5
 */
const PLAIN = `a = "hello world"  . . . . . . . . . . . . . . . . . . . . .  (n0,r5,b3)
b = "say "hi" (x) ..." . . . . . . . . . . . . . . . . . . .  (w2)
c = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
d = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
 e = "v"  (n0)"  . . . . . . . . . . . . . . . . . . . . . .  (r5)
long = "${'x'.repeat(68)}\\..."  (n0)
tab = "a\\tbc\\001\\xff\\xc3\\xa9"  . . . . . . . . . . . . . . .  (n0)
f = "  (r1)" . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
`;

/** The same store with -f -p. */
const FULL = `/t/a = "hello world"   (n0,r5,b3)
/t/b = "say "hi" (x) ..."   (w2)
/t/c = ""   (n0)
/t/d = ""   (n0)
/t/d/e = "v"  (n0)"   (r5)
/t/long = "${'x'.repeat(100)}"   (n0)
/t/tab = "a\\tbc\\001\\xff\\xc3\\xa9"   (n0)
/t/f = "  (r1)"   (n0)
`;

const EXPECTED_T: ReadonlyMap<string, Flat> = new Map<string, Flat>([
  ['/t/a', { value: 'hello world', perms: 'n0,r5,b3' }],
  ['/t/b', { value: 'say "hi" (x) ...', perms: 'w2' }],
  ['/t/c', { value: '', perms: 'n0' }],
  ['/t/d', { value: '', perms: 'n0' }],
  ['/t/d/e', { value: 'v"  (n0)', perms: 'r5' }],
  ['/t/long', { value: 'x'.repeat(100), perms: 'n0' }],
  ['/t/tab', { value: 'a\tbc\u0001\ufffdé', perms: 'n0' }],
  ['/t/f', { value: '  (r1)', perms: 'n0' }],
]);

describe('xenstore-ls: static samples', () => {
  it('plain -p output: names by indentation, values with quotes, parentheses and dots, a cut value', () => {
    const { result, diagnostics } = parseXenstoreLs('ls.txt', PLAIN, { base: '/t' });
    assert.deepEqual(diagnostics, []);
    const expected = new Map(EXPECTED_T);
    expected.set('/t/long', { value: 'x'.repeat(68), perms: 'n0', truncated: true });
    assert.deepEqual(flatten(result.root), expected);
    assert.equal(result.root.path, '/t');
    const e = findXsNode(result.root, '/t/d/e');
    assert.ok(e);
    assert.equal(e.name, 'e');
    assert.equal(e.rawValue, 'v"  (n0)');
    assert.deepEqual(e.perms, { owner: 5, default: 'r', entries: [] });
    assert.deepEqual(findXsNode(result.root, '/t/a')?.perms, { owner: 0, default: 'n', entries: [{ letter: 'r', domid: 5 }, { letter: 'b', domid: 3 }] });
    assert.equal(PLAIN.slice(e.span.start, e.span.end), ' e = "v"  (n0)"  . . . . . . . . . . . . . . . . . . . . . .  (r5)');
    assert.equal(findXsNode(result.root, '/t/tab')?.rawValue, 'a\\tbc\\001\\xff\\xc3\\xa9');
  });

  it('-f -p output: full paths, implied parents, nothing cut', () => {
    const { result, diagnostics } = parseXenstoreLs('ls.txt', FULL);
    assert.deepEqual(diagnostics, []);
    const flat = flatten(result.root);
    assert.deepEqual(flat.get('/t'), {}, '/t itself was not listed: implied, with no value or perms');
    flat.delete('/t');
    assert.deepEqual(flat, EXPECTED_T);
    assert.equal(result.root.path, '/');
    assert.deepEqual(result.root.children.map((c) => c.name), ['t']);
  });

  it('a whole store from the root, and signed domids', () => {
    const text = [
      'tool = ""  . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)',
      ' xenstored = ""  . . . . . . . . . . . . . . . . . . . . . .  (n0)',
      'local = "" . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)',
      ' domain = "" . . . . . . . . . . . . . . . . . . . . . . . .  (n0)',
      '  0 = "" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)',
      '   name = "Domain-0" . . . . . . . . . . . . . . . . . . . .  (n0)',
      '  5 = "" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r5)',
      '   name = "win10"  . . . . . . . . . . . . . . . . . . . . .  (n0,r5)',
      '   device = "" . . . . . . . . . . . . . . . . . . . . . . .  (n5,r0)',
      'x = "1"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r-1,w32753)',
      '',
    ].join('\n');
    const { result, diagnostics } = parseXenstoreLs('ls.txt', text);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual([...flatten(result.root).keys()], ['/tool', '/tool/xenstored', '/local', '/local/domain', '/local/domain/0', '/local/domain/0/name', '/local/domain/5', '/local/domain/5/name', '/local/domain/5/device', '/x']);
    assert.equal(findXsNode(result.root, '/local/domain/5/name')?.value, 'win10');
    assert.deepEqual(findXsNode(result.root, '/x')?.perms, { owner: 0, default: 'n', entries: [{ letter: 'r', domid: -1 }, { letter: 'w', domid: 32753 }] });
    const full = parseXenstoreLs('ls.txt', '/local/domain/0/name = "Domain-0"  (n0)\n');
    assert.deepEqual(full.diagnostics, []);
    assert.equal(findXsNode(full.result.root, '/local/domain/0/name')?.value, 'Domain-0');
    assert.equal(findXsNode(full.result.root, '/local/domain')?.value, undefined);
  });

  it('unreadable values (":"), perms on the next line, and the "could not access permissions" warning', () => {
    // do_ls prints ":\n" when xs_read fails, then the perms (if it can read them) and "\n";
    // when xs_get_permissions fails, warn() writes "xenstore-ls: \ncould not access
    // permissions for <name>: <error>" to stderr and an empty line follows on stdout.
    const text = [
      'local = "" . . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r3)',
      ' domain:',
      '  (n0)',
      '  7:',
      '',
      'xenstore-ls: ',
      'could not access permissions for 7: Permission denied',
      '  8 = "no perms" . . . . . . . . . . . . . . . . . . . . . . ',
      'vm = ""  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)',
      '',
    ].join('\n');
    const { result, diagnostics } = parseXenstoreLs('ls.txt', text);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      flatten(result.root),
      new Map<string, Flat>([
        ['/local', { value: '', perms: 'n0,r3' }],
        ['/local/domain', { perms: 'n0' }],
        ['/local/domain/7', {}],
        ['/local/domain/8', { value: 'no perms' }],
        ['/vm', { value: '', perms: 'n0' }],
      ]),
    );
    assert.deepEqual(result.permissionErrors.map((e) => [e.name, text.slice(e.span.start, e.span.end)]), [['7', 'could not access permissions for 7: Permission denied']]);
  });

  it('plain xenstore-ls output (no -p) reads too, without perms', () => {
    const text = 'a = "hello world"\nb = "say "hi" (x) ..."\n e = "v"  (n0)"\n';
    const { result, diagnostics } = parseXenstoreLs('ls.txt', text);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      flatten(result.root),
      new Map<string, Flat>([
        ['/a', { value: 'hello world' }],
        ['/b', { value: 'say "hi" (x) ...' }],
        ['/b/e', { value: 'v"  (n0)' }],
      ]),
    );
  });

  it('values cut inside an escape, and the "\\\\..." ambiguity at the 80-column cut', () => {
    // 72 - len("name") = 68 characters are printed before "\...".
    const head = 'y'.repeat(66);
    const text = [
      `name = "${head}\\x\\..."  (n0)`, // cut inside \xHH
      `name2 = "${'y'.repeat(65)}\\0\\..."  (n0)`, // cut inside \ooo
      `nam3 = "${'y'.repeat(67)}\\\\..."  (n0)`, // cut right after an escape's backslash
      `nam4 = "${'y'.repeat(10)}\\\\..."  . . . . . . . . . . . . . . .  (n0)`, // a value ending in "\..."
      '',
    ].join('\n');
    const { result, diagnostics } = parseXenstoreLs('ls.txt', text);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      flatten(result.root),
      new Map<string, Flat>([
        ['/name', { value: head, perms: 'n0', truncated: true }],
        ['/name2', { value: 'y'.repeat(65), perms: 'n0', truncated: true }],
        ['/nam3', { value: 'y'.repeat(67), perms: 'n0', truncated: true }],
        ['/nam4', { value: `${'y'.repeat(10)}\\...`, perms: 'n0' }],
      ]),
    );
  });
});

// ---------------------------------------------------------------- hostile lines

describe('xenstore-ls: hostile lines → positioned VP320x, never a throw', () => {
  it('bad perms → VP3202 at the entry; the node keeps no perms', () => {
    const text = ['a = "1"  (x5)', 'b = "2"  (r)', 'c = "3"  (n0,rabc,w1)', 'd = "4"  ()', 'e = "5"  (r99999999999)', 'f = "6"  (n0, r1)', 'g = "7"  (n0)', ''].join('\n');
    const { result, diagnostics } = parseXenstoreLs('ls.txt', text);
    assertPositioned(diagnostics, text, 'ls.txt');
    assert.deepEqual(located(text, diagnostics), ['VP3202 x5', 'VP3202 r', 'VP3202 rabc', 'VP3202 ', 'VP3202 r99999999999', 'VP3202  r1']);
    assert.equal(diagnostics[0]?.message, 'bad permission "x5": expected r, w, b or n followed by a domid');
    assert.deepEqual(
      [...flatten(result.root)].map(([path, f]) => [path, f.perms ?? null]),
      [['/a', null], ['/b', null], ['/c', null], ['/d', null], ['/e', null], ['/f', null], ['/g', 'n0']],
    );
  });

  it('indentation jumps → VP3203 at the indent; the node goes under the deepest open node', () => {
    const text = ['a = ""  (n0)', '   b = ""  (n0)', ' c = ""  (n0)', '  d = ""  (n0)', '     e = ""  (n0)', 'f = ""  (n0)', '  g = ""  (n0)', ''].join('\n');
    const { result, diagnostics } = parseXenstoreLs('ls.txt', text);
    assertPositioned(diagnostics, text, 'ls.txt');
    assert.deepEqual(
      diagnostics.map((d) => [d.code, text.slice(0, d.span?.start).split('\n').length, d.span?.end === undefined || d.span.start === undefined ? -1 : d.span.end - d.span.start]),
      [
        ['VP3203', 2, 3],
        ['VP3203', 5, 5],
        ['VP3203', 7, 2],
      ],
    );
    assert.deepEqual([...flatten(result.root).keys()], ['/a', '/a/b', '/a/c', '/a/c/d', '/a/c/d/e', '/f', '/f/g']);
  });

  it('garbage lines → VP3201 on their line; the good lines around them still count', () => {
    const text = [
      'ok = "1"  (n0)',
      'no equals sign here', //                 2
      'x = "unterminated  (n0)', //             3: no closing quote before the perms
      'y = "v" junk  (n0)', //                  4: text after the closing quote
      'z = "v"  (n0', //                        5: perms group not closed
      '  (n0)', //                              6: perms without a node
      'xenstore-ls: xs_directory (/x): Permission denied', // 7: a fatal error of the tool
      '/full/path = "v"  (n0)', //              8: mixes -f into plain output
      'ok = "dup"  (n0)', //                    9: listed twice
      'w = "bad \\q escape"  (n0)', //          10
      'ok2 = "2"  (b1)',
      '',
    ].join('\n');
    const { result, diagnostics } = parseXenstoreLs('ls.txt', text);
    assertPositioned(diagnostics, text, 'ls.txt');
    assert.deepEqual(
      diagnostics.map((d) => [d.code, text.slice(0, d.span?.start).split('\n').length]),
      [2, 3, 4, 5, 6, 7, 8, 9, 10].map((line) => ['VP3201', line]),
    );
    assert.deepEqual([...flatten(result.root).keys()], ['/ok', '/w', '/ok2']);
    assert.equal(findXsNode(result.root, '/w')?.value, 'bad \\q escape');
  });

  it('CRLF, tabs, NUL bytes, a 1 MB value and an empty input', () => {
    const crlf = parseXenstoreLs('ls.txt', 'a = "1"  (n0)\r\n b = "2"  (r1)\r\n');
    assert.deepEqual(crlf.diagnostics, []);
    assert.deepEqual([...flatten(crlf.result.root)], [['/a', { value: '1', perms: 'n0' }], ['/a/b', { value: '2', perms: 'r1' }]]);
    const tab = '\ta = "1"  (n0)\n\0 = "x"\n';
    // The tab makes line 1 unreadable; a NUL is no name xenstored creates (VP3204).
    assert.deepEqual(parseXenstoreLs('ls.txt', tab).diagnostics.map((d) => d.code), ['VP3201', 'VP3204']);
    const big = `/big = "${'v'.repeat(1 << 20)}"   (n0)\n`;
    const started = performance.now();
    assert.equal(findXsNode(parseXenstoreLs('ls.txt', big).result.root, '/big')?.value?.length, 1 << 20);
    assert.ok(performance.now() - started < 2000);
    const empty = parseXenstoreLs('ls.txt', '');
    assert.deepEqual(empty.diagnostics, []);
    assert.deepEqual(empty.result.root.children, []);
  });

  it('random text never throws, and every diagnostic is positioned', () => {
    const fragment = fc.constantFrom('a', ' ', '  ', ' = "', '"', ':', '  (', ')', 'n0', 'r5', ',', 'x5', '\\', '\\x4', '\\...', '.', '/', '/a/b', '\n', '\r\n', 'could not access permissions for a', 'xenstore-ls: ', '\0', '\ud800');
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(fragment, { maxLength: 50 }).map((xs) => xs.join(''))), (text) => {
        const { result, diagnostics } = parseXenstoreLs('fuzz.txt', text);
        assertPositioned(diagnostics, text, 'fuzz.txt');
        for (const n of walkXsNodes(result.root)) assert.ok(n.span.start >= 0 && n.span.end <= text.length);
      }),
      { numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------- names and paths xenstored refuses

/** "line:column" (1-based) of each diagnostic's start, with its code. */
function placed(text: string, diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => {
    const before = text.slice(0, d.span?.start ?? 0).split('\n');
    return `${d.code} ${before.length}:${(before.at(-1) as string).length + 1}`;
  });
}

/** Names that test every clause of is_valid_nodename, and the lengths around its limit. */
const PATH_CASES: readonly string[] = [
  '/a', '/a-b/c_d/@e', '/A/Z/0/9', '/a.b', '/a b', '/a\x1b[2Jb', '/a\u202eb', '/a\x9bb', '/é', '/a\u200bb', '/a\\b', '/a:b', '/a*',
  '/a/', '/a//b', `/local/domain/5/${'x'.repeat(XENSTORE_REL_PATH_MAX)}`, `/local/domain/5/${'x'.repeat(XENSTORE_REL_PATH_MAX + 1)}`,
  `/local/domain/-1/${'x'.repeat(XENSTORE_REL_PATH_MAX)}`, `/local/domain/123456/${'x'.repeat(XENSTORE_REL_PATH_MAX - 21)}`,
  `/local/domain/123456/${'x'.repeat(XENSTORE_REL_PATH_MAX)}`, `/${'x'.repeat(XENSTORE_REL_PATH_MAX - 1)}`, `/${'x'.repeat(XENSTORE_REL_PATH_MAX)}`,
  `/${Array.from({ length: XENSTORE_REL_PATH_MAX / 2 }, () => 'q').join('/')}`,
];

describe('xenstore-ls: names and paths xenstored never creates', () => {
  it('a name with a character outside valid_chars is VP3204 on that character; it and its children are dropped', () => {
    const text = ['a = "1"  (n0)', ' b\x1b[2Jc = "2"  (n0)', '  child = "3"  (n0)', '   grandchild = "3"  (n0)', ' ok = "4"  (n0)', 'd.e = ""  (n0)', 'f\u202eg = ""  (n0)', 'h = ""  (n0)', ''].join('\n');
    const { result, diagnostics } = parseXenstoreLs('ls.txt', text);
    assertPositioned(diagnostics, text, 'ls.txt');
    assert.deepEqual(placed(text, diagnostics), ['VP3204 2:3', 'VP3204 6:2', 'VP3204 7:2']);
    assert.deepEqual(located(text, diagnostics), ['VP3204 \x1b', 'VP3204 .', 'VP3204 \u202e']);
    assert.match(diagnostics[0]!.message, /node name "b\x1b\[2Jc": it holds the character U\+001B$/);
    assert.match(diagnostics[1]!.message, /"\." \(U\+002E\)$/);
    assert.deepEqual([...flatten(result.root).keys()], ['/a', '/a/ok', '/h']);
  });

  it('-f: the character is found in whichever component holds it', () => {
    const text = '/ok/x = "1"  (n0)\n/ok/y\x9b2J/z = "2"  (n0)\n/ok/w\u{e0041} = ""  (n0)\n';
    const { result, diagnostics } = parseXenstoreLs('ls.txt', text);
    assert.deepEqual(placed(text, diagnostics), ['VP3204 2:6', 'VP3204 3:6']);
    assert.deepEqual(located(text, diagnostics), ['VP3204 \x9b', 'VP3204 \u{e0041}']);
    assert.match(diagnostics[0]!.message, /"y\x9b2J"/);
    assert.deepEqual([...flatten(result.root).keys()], ['/ok', '/ok/x']);
  });

  it('a path longer than xenstored accepts is VP3205 over the name, in either listing', () => {
    const limit = `/local/domain/5/${'x'.repeat(XENSTORE_REL_PATH_MAX)}`;
    const full = `${limit} = "a"  (n0)\n${limit}y = "b"  (n0)\n`;
    const f = parseXenstoreLs('ls.txt', full);
    assert.deepEqual(placed(full, f.diagnostics), ['VP3205 2:1']);
    assert.equal(f.diagnostics[0]!.span!.end - f.diagnostics[0]!.span!.start, limit.length + 1);
    assert.match(f.diagnostics[0]!.message, new RegExp(`is ${limit.length + 1} characters long; xenstored accepts at most ${limit.length}$`));
    assert.ok(findXsNode(f.result.root, limit));
    // The same without -f: the path is the indentation's ancestors and the name.
    const plain = `local = ""  (n0)\n domain = ""  (n0)\n  5 = ""  (n0)\n   ${'x'.repeat(XENSTORE_REL_PATH_MAX)} = "a"  (n0)\n   ${'x'.repeat(XENSTORE_REL_PATH_MAX + 1)} = "b"  (n0)\n`;
    const p = parseXenstoreLs('ls.txt', plain);
    assert.deepEqual(placed(plain, p.diagnostics), ['VP3205 5:4']);
    assert.deepEqual([...flatten(p.result.root).keys()], ['/local', '/local/domain', '/local/domain/5', limit]);
  });

  it('one very deep path is refused in linear time; the deepest path accepted is built in full', () => {
    // ~90 KB in one line: building every ancestor's path took O(n²) memory (2.4 GB at 48 000).
    const deep = `/${Array.from({ length: 45_000 }, () => 'n').join('/')}`;
    const started = performance.now();
    const refused = parseXenstoreLs('deep.txt', `${deep} = "v"  (n0)\n`);
    assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
    assert.deepEqual(refused.diagnostics.map((d) => [d.code, d.span?.start, d.span?.end]), [['VP3205', 0, deep.length]]);
    assert.deepEqual(refused.result.root.children, []);
    // The longest path xenstored accepts outside /local/domain, with as many components as fit.
    const deepest = `/${Array.from({ length: XENSTORE_REL_PATH_MAX / 2 }, () => 'q').join('/')}`;
    const accepted = parseXenstoreLs('deep.txt', `${deepest} = "v"  (n0)\n`);
    assert.deepEqual(accepted.diagnostics, []);
    const nodes = [...walkXsNodes(accepted.result.root)];
    assert.equal(nodes.length, XENSTORE_REL_PATH_MAX / 2);
    nodes.forEach((n, i) => assert.equal(n.path, deepest.slice(0, 2 * (i + 1))));
    assert.equal(nodes.at(-1)?.value, 'v');
  });

  it('the reader and the simulated store refuse exactly the paths isValidNodename refuses', () => {
    for (const path of PATH_CASES) {
      const text = `${path} = "v"  (n0)\n`;
      assert.equal(parseXenstoreLs('ls.txt', text).diagnostics.length === 0, isValidNodename(path), JSON.stringify(path.slice(0, 40)));
      assert.equal(new Xenstore().write(0, path, 'v').ok, isValidNodename(path), JSON.stringify(path.slice(0, 40)));
    }
  });

  test('isValidNodename agrees with the real C xenstored (dom0 writes each path)', (t: TestContext) => {
    if (!requires(t, { shared: true, commands: [...XENSTORED_COMMANDS] })) return;
    const xsd = startXenstored();
    t.after(() => stopXenstored(xsd));
    // argv carries no NUL, and a name holding one would be cut short on the wire.
    const random = fc.sample(fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '@', '/', '.', ' ', '\x1b', '\x7f', '\u202e', 'é', ':', '~', '+'), minLength: 1, maxLength: 12 }).map((s) => `/${s}`), { numRuns: 150, seed: 7 });
    const paths = [...PATH_CASES, ...random];
    const answers = xsBatchAny(xsd, paths.map((path) => ({ domid: undefined, op: 'write', args: [path, 'v'] })));
    const disagreements = paths.flatMap((path, i) => (answers[i]!.ok === isValidNodename(path) ? [] : [`${JSON.stringify(path.slice(0, 40))}: ${JSON.stringify(answers[i])}`]));
    assert.deepEqual(disagreements, []);
    assert.ok(answers.some((a) => a.ok) && answers.some((a) => !a.ok && a.error === 'EINVAL'), 'both answers occur');
  });
});

// ---------------------------------------------------------------- round trip through a do_ls printer

interface GenNode {
  readonly name: string;
  /** undefined: printed as "name:" (unreadable). */
  readonly value?: string;
  /** undefined: the perms could not be read. */
  readonly perms?: readonly (readonly [XsPermLetter, number])[];
  readonly children: readonly GenNode[];
}

/** xenstore_client.c sanitise_value on the UTF-8 bytes of `value`. */
function sanitise(value: string): { text: string; bytes: number } {
  const bytes = new TextEncoder().encode(value);
  let text = '';
  for (const c of bytes) {
    if (c >= 0x20 && c <= 0x7e && c !== 0x5c) text += String.fromCharCode(c);
    else if (c === 9) text += '\\t';
    else if (c === 10) text += '\\n';
    else if (c === 13) text += '\\r';
    else if (c === 0x5c) text += '\\\\';
    else if (c < 8) text += `\\${c.toString(8).padStart(3, '0')}`;
    else text += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return { text, bytes: bytes.length };
}

/** xenstore_client.c do_ls with -p, stdout a pipe (max_width 80, desired_width 60), or -f. */
function printLs(nodes: readonly GenNode[], full: boolean, parent = '', depth = 0): string {
  const maxWidth = full ? Math.floor(2147483647 / 2) : 80;
  const desiredWidth = full ? 0 : 60;
  let out = '';
  for (const n of nodes) {
    const path = `${parent}/${n.name}`;
    let linewid = 0;
    if (full) out += path;
    else {
      out += ' '.repeat(depth);
      linewid = depth;
      const name = n.name.slice(0, Math.max(0, maxWidth - 8 - linewid));
      out += name;
      linewid += name.length;
    }
    if (n.value === undefined) out += ':\n';
    else {
      const s = sanitise(n.value);
      if (maxWidth < linewid + s.bytes + 8) out += ` = "${s.text.slice(0, maxWidth - 8 - linewid)}\\..."`;
      else {
        const shown = ` = "${s.text}"`;
        out += shown;
        linewid += shown.length;
        out += ' ';
        for (linewid++; linewid < Math.min(desiredWidth, maxWidth); linewid++) out += linewid & 1 ? '.' : ' ';
      }
    }
    if (n.perms) out += `  (${n.perms.map(([l, d]) => `${l}${d}`).join(',')})`;
    out += '\n';
    out += printLs(n.children, full, path, depth + 1);
  }
  return out;
}

const utf8Clean = (s: string): boolean => new TextDecoder().decode(new TextEncoder().encode(s)) === s;

const nodeArb: fc.Arbitrary<GenNode[]> = fc.letrec<{ nodes: GenNode[] }>((tie) => ({
  nodes: fc.uniqueArray(
    fc.record(
      {
        name: fc.stringMatching(/^[A-Za-z0-9_@-]{1,8}$/),
        value: fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.constantFrom('', 'v"  (n0)', '  (r1)', ' . . ', 'a\\b', '\\...', '\t\n\r\u0001\u007f', 'é☃'),
          fc.string({ unit: 'binary', maxLength: 90 }).filter(utf8Clean),
        ),
        perms: fc.array(fc.tuple(fc.constantFrom<XsPermLetter>('r', 'w', 'b', 'n'), fc.integer({ min: -1, max: 65535 })), { minLength: 1, maxLength: 4 }),
        children: fc.oneof({ depthSize: 'small', maxDepth: 4 }, fc.constant([]), tie('nodes')),
      },
      { requiredKeys: ['name', 'children'] },
    ),
    { selector: (n) => n.name, maxLength: 3 },
  ),
})).nodes;

/** What the reader must give back for a printed tree: cut values are prefixes. */
function expectedFlat(nodes: readonly GenNode[], full: boolean, parent = '', depth = 0, out = new Map<string, Flat>()): Map<string, Flat> {
  for (const n of nodes) {
    const path = `${parent}/${n.name}`;
    const f: { value?: string; perms?: string; truncated?: boolean } = {};
    if (n.value !== undefined) f.value = n.value;
    if (n.perms) f.perms = n.perms.map(([l, d]) => `${l}${d}`).join(',');
    if (!full && n.value !== undefined && 80 < depth + n.name.length + sanitise(n.value).bytes + 8) f.truncated = true;
    out.set(path, f);
    expectedFlat(n.children, full, path, depth + 1, out);
  }
  return out;
}

describe('xenstore-ls: round trip through a printer that follows do_ls', () => {
  it('random trees print and read back: paths, values (cut ones as printed), perms', () => {
    fc.assert(
      fc.property(nodeArb, fc.boolean(), (nodes, full) => {
        const text = printLs(nodes, full);
        const { result, diagnostics } = parseXenstoreLs('gen.txt', text);
        assert.deepEqual(diagnostics, [], text);
        const got = flatten(result.root);
        const want = expectedFlat(nodes, full);
        assert.deepEqual([...got.keys()], [...want.keys()]);
        for (const [path, w] of want) {
          const g = got.get(path) as Flat;
          const node = findXsNode(result.root, path) as XsNode;
          assert.equal(g.perms, w.perms, path);
          assert.equal(g.truncated, w.truncated, `${path} cut?\n${text}`);
          if (w.value === undefined) assert.equal(g.value, undefined);
          else if (w.truncated) assert.ok(sanitise(w.value).text.startsWith((node.rawValue ?? '').slice(0, -4)) && node.rawValue?.endsWith('\\...'), path);
          else assert.equal(g.value, w.value, path);
        }
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------- the real daemon

/** What the test writes: path, value as stored, the value argument xenstore-write gets, perms. */
const WRITTEN: readonly { path: string; value: string; arg?: string; perms: string[] }[] = [
  { path: '/vmitest', value: '', perms: ['n0'] },
  { path: '/vmitest/plain', value: 'hello world', perms: ['n0', 'r5', 'b3'] },
  { path: '/vmitest/quotes', value: 'say "hi" (x) ... "', perms: ['w2'] },
  { path: '/vmitest/empty', value: '', perms: ['n0'] },
  { path: '/vmitest/dir', value: '', perms: ['n0', 'r1'] },
  { path: '/vmitest/dir/fake', value: 'v"  (n0)', perms: ['r5', 'n1'] },
  { path: '/vmitest/dir/sub', value: '', perms: ['n0'] },
  { path: '/vmitest/dir/sub/deep', value: 'a . . . .  (r9) . ', perms: ['b7', 'r-1', 'w65535'] },
  { path: '/vmitest/paren', value: '  (r1)', perms: ['n0'] },
  { path: '/vmitest/dots', value: '...', perms: ['n0'] },
  { path: '/vmitest/long', value: 'z'.repeat(150), perms: ['n0', 'r4'] },
  // xenstore-write unsanitises its arguments: "\t" becomes a tab, "\\" a backslash.
  { path: '/vmitest/tab', value: 'tab\there', arg: 'tab\\there', perms: ['n0'] },
  { path: '/vmitest/backslash', value: 'back\\slash', arg: 'back\\\\slash', perms: ['n0'] },
  { path: '/vmitest/utf8', value: 'é☃', perms: ['n0'] },
];

describe('xenstore-ls: the real C xenstored', () => {
  let xsd: Xenstored | undefined;
  after(async () => {
    if (xsd) await stopXenstored(xsd);
  });

  const ls = (...args: string[]): string => execFileSync('xenstore-ls', args, { env: xsd?.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  test('xenstore-ls -p and -f -p give back what xenstore-write and xenstore-chmod set', (t: TestContext) => {
    if (!requires(t, { shared: true, commands: ['xenstore-ls', 'xenstore-write', 'xenstore-chmod', 'gcc', 'python3'] })) return;
    xsd = startXenstored();
    dom0Write(xsd, WRITTEN.map((w) => [w.path, w.arg ?? w.value] as const));
    for (const w of WRITTEN) dom0Chmod(xsd, w.path, w.perms);
    const expected = new Map(WRITTEN.map((w) => [w.path, { value: w.value, perms: w.perms.join(',') }]));

    // -f -p: full paths, nothing cut.
    const fullText = ls('-f', '-p', '/vmitest');
    const full = parseXenstoreLs('ls-f.txt', fullText);
    assert.deepEqual(full.diagnostics, [], fullText);
    const fullFlat = flatten(full.result.root);
    assert.deepEqual(fullFlat.get('/vmitest'), {}, 'the listed path itself is implied');
    fullFlat.delete('/vmitest');
    const below = new Map([...expected].filter(([p]) => p !== '/vmitest'));
    assert.deepEqual(fullFlat, below, fullText);

    // -p below a path: relative names, base given; the long value is cut at 80 columns.
    const plainText = ls('-p', '/vmitest');
    const plain = parseXenstoreLs('ls-p.txt', plainText, { base: '/vmitest' });
    assert.deepEqual(plain.diagnostics, [], plainText);
    const plainFlat = flatten(plain.result.root);
    const long = plainFlat.get('/vmitest/long');
    assert.ok(long?.truncated && long.value && 'z'.repeat(150).startsWith(long.value) && long.value.length === 72 - 'long'.length, plainText);
    plainFlat.delete('/vmitest/long');
    below.delete('/vmitest/long');
    assert.deepEqual(plainFlat, below, plainText);

    // The whole store from the root: the daemon's own /tool/xenstored, and /vmitest itself.
    const rootText = ls('-p');
    const root = parseXenstoreLs('ls-root.txt', rootText);
    assert.deepEqual(root.diagnostics, [], rootText);
    assert.ok(findXsNode(root.result.root, '/tool/xenstored'), rootText);
    const vmitest = findXsNode(root.result.root, '/vmitest');
    assert.ok(vmitest?.perms);
    assert.equal(formatXsPerms(vmitest.perms), 'n0');
    assert.equal(findXsNode(root.result.root, '/vmitest/dir/sub/deep')?.value, 'a . . . .  (r9) . ');
    assert.equal(formatXsPerms(findXsNode(root.result.root, '/vmitest/dir/sub/deep')?.perms ?? { owner: NaN, default: 'n', entries: [] }), 'b7,r-1,w65535');
  });
});

it('formatXsPerms spells perms the way xenstore-chmod takes them', () => {
  assert.equal(formatXsPerms({ owner: 0, default: 'n', entries: [{ letter: 'r', domid: 5 }] }), 'n0,r5');
});
