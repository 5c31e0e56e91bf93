// The policy parser's fast path (policy/grammar/fast.ts) against the full parser alone
// (parsePolicy's `fast: false`): on any text — well formed, broken a character at a time,
// cut into pieces of any size — both give the same AST and the same diagnostics. And the
// fast path does take the statements it is for, so a change that silently sends everything
// to the full parser fails here too.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scanStatements } from '../policy/grammar/fast.js';
import { parsePolicy } from '../policy/grammar/parse.js';
import { CORPUS_RELEASES, requires, sharedPath } from './support/env.js';

/** Parses both ways and asserts the same result; answers the AST's statement count. */
function same(text: string, chunkChars?: number): number {
  const options = chunkChars === undefined ? {} : { chunkChars };
  const fast = parsePolicy('p.conf', text, options);
  const full = parsePolicy('p.conf', text, { ...options, fast: false });
  assert.deepEqual(JSON.parse(JSON.stringify(fast.ast)), JSON.parse(JSON.stringify(full.ast)), text);
  assert.deepEqual(fast.diagnostics, full.diagnostics, text);
  return fast.ast.statements.length;
}

/** What the fast path takes and leaves, statement by statement. */
function scan(text: string): { taken: string[]; empty: number; left: string[] } {
  const taken: string[] = [];
  const left: string[] = [];
  let empty = 0;
  scanStatements(text, 'p.conf', 0, text.length, new Map(), {
    statement: (s) => void taken.push(s.kind),
    empty: () => void empty++,
    slow: (start, end) => (left.push(text.slice(start, end)), true),
  });
  return { taken, empty, left };
}

// Statements of every shape the fast path takes, the shapes next to them it leaves, and
// the other statement kinds; their pieces are the alphabet of the mutations below.
const STATEMENTS = [
  'allow a_t b_t:c0 p0;',
  'allow a_t b_t : c0 { p0 p1 };',
  'ALLOW a_t { b_t -c_t }:{ c0 c1 } { p0 -p1 };',
  'allow r1 r2;',
  'auditallow a_t self:c0 p0;',
  'dontaudit a_t b_t:c0 { p0 };',
  'neverallow a_t ~b_t:c0 *;',
  'neverallow * b_t:c0 p0;',
  'auditdeny a_t b_t:c0 p0;',
  'allow a_t b_t - c_t:c0 p0;',
  'allow a_t { b_t { c_t } }:c0 p0;',
  'allow a-b_t c.d:c0 p0;',
  'allow allow_t types_t:c0 p0;',
  'allow a_t type:c0 p0;',
  'type a_t;',
  'type b_t, attr0, attr1;',
  'TYPE c_t alias { d_t };',
  'type e_t alias f_t, attr0;',
  'typeattribute a_t attr0, attr1;',
  'typeattribute a_t attr0;',
  'attribute attr0;',
  'attribute_role ra;',
  'role system_r;',
  'role system_r types { a_t b_t };',
  'role r2 types a_t;',
  'role r3, ra;',
  'role r4 types *;',
  'type_transition a_t b_t:c0 c_t;',
  'type_transition a_t b_t:c0 c_t "name";',
  'type_change a_t b_t:c0 c_t;',
  'bool b0 true;',
  'BOOL b1 FALSE;',
  'bool b2 maybe;',
  'bool b3 TRUE;',
  'if (!(b0 || b1)) { dontaudit a_t b_t:c0 p0; }',
  'constrain c0 p0 u2 == u2;',
  'if (b0) { allow a_t b_t:c0 p0; } else { allow b_t a_t:c0 p1; }',
  'if (!b0 && (b1 || b2) ^ b0 == !b1 != b2) { auditallow a_t b_t:c0 p0; type_transition a_t b_t:c0 c_t; }',
  'if not b0 eq b1 { }',
  'if (b0) { neverallow a_t b_t:c0 p0; }',
  'if (b0) { type d_t; }',
  'if (b0) { ; }',
  'if (b0) { if (b1) { allow a_t b_t:c0 p0; } }',
  'if (b0) { allow a_t b_t:c0 p0; } ELSE { }',
  'class c0',
  'class c1 { p0 p1 }',
  'class c2 inherits k0',
  'class c3 inherits k0 { p2 }',
  'class c4 { }',
  'common k0 { p0 }',
  'sid kernel',
  'sid kernel system_u:system_r:a_t',
  'sid kernel system_u:system_r:a_t:s0',
  'sid kernel system_u:system_r',
  'constrain c0 p0 (u1 == u2 and t1 == a_t);',
  'constrain { c0 c1 } { p0 p1 } (u1 == system_u or u2 == system_u or u1 == u2);',
  'CONSTRAIN c0 * not (t1 == { a_t b_t } or r1 != r2) and (u3 eq u_x);',
  'mlsconstrain c0 ~p0 (t2 != t1 or r1 dom r2 or l1 eq h2);',
  'constrain c0 p0 (u2 == u1);',
  'constrain c0 p0 t1 == { a_t -b_t };',
  'constrain * p0 (u1 == u2);',
  'validatetrans c0 (u1 == u2);',
  'user system_u roles { system_r };',
  'user u2 roles system_r level s0 range s0;',
  'pirqcon 1 system_u:object_r:a_t',
  'devicetreecon /a/b;c system_u:object_r:a_t',
  'genfscon proc / system_u:object_r:a_t',
  ';',
  '# a comment; with a semicolon',
  '#line 7 "modules/x.te"',
];
const PIECES = [' ', '\n', '\t', '\r', ';', ':', ',', '-', '{', '}', '(', ')', '~', '*', '.', '"', '#', '/', '!', '0', '0x1f', 'é', 'a', 'allow', 'type', 'types', 'role', 'self', '\u00a0'];

const text = fc.array(fc.constantFrom(...STATEMENTS), { minLength: 1, maxLength: 12 }).chain((statements) => fc.array(fc.constantFrom('\n', ' ', '\n\n', ''), { minLength: statements.length, maxLength: statements.length }).map((gaps) => statements.map((s, i) => s + gaps[i]).join('')));

/** One edit: a piece inserted, a character removed, or a character replaced by a piece. */
const edit = fc.tuple(fc.constantFrom('insert', 'delete', 'replace'), fc.nat(), fc.constantFrom(...PIECES));
function mutate(s: string, edits: readonly (readonly [string, number, string])[]): string {
  let out = s;
  for (const [kind, at, piece] of edits) {
    const i = out.length === 0 ? 0 : at % out.length;
    out = kind === 'insert' ? out.slice(0, i) + piece + out.slice(i) : kind === 'delete' ? out.slice(0, i) + out.slice(i + 1) : out.slice(0, i) + piece + out.slice(i + 1);
  }
  return out;
}

describe('the fast path reads exactly what the full parser reads', () => {
  it('random sequences of statements give the same AST and diagnostics', () => {
    fc.assert(fc.property(text, (t) => void same(t)), { numRuns: 500 });
  });

  it('random sequences broken by up to four edits give the same AST and diagnostics', () => {
    fc.assert(fc.property(text, fc.array(edit, { minLength: 1, maxLength: 4 }), (t, edits) => void same(mutate(t, edits))), { numRuns: 3000 });
  });

  it('in statement-aligned pieces of any size, too', () => {
    fc.assert(fc.property(text, fc.array(edit, { maxLength: 2 }), fc.integer({ min: 1, max: 200 }), (t, edits, size) => void same(mutate(t, edits), size)), { numRuns: 1000 });
  });

  it('expressions nested or long up to and past the parser\'s limits (VP3001) give the same AST and diagnostics', () => {
    for (const n of [1, 39, 40, 41, 98, 99, 100, 101, 5000]) {
      same(`if ${'('.repeat(n)}b${')'.repeat(n)} { allow a b:c p; }`);
      same(`if ${'! '.repeat(n)}b { }`);
      same(`constrain c p ${'('.repeat(n)}u1 == u2${')'.repeat(n)};`);
      same(`constrain c p ${'not '.repeat(n)}u1 == u2;`);
      same(`constrain c p ${Array.from({ length: n }, () => 'u1 == u2').join(' or ')};`);
      same(`if ${Array.from({ length: n }, (_, i) => `b${i}`).join(' && ')} { }`);
    }
  });

  it('the corpus policies give the same AST and diagnostics', (t) => {
    if (!requires(t, { shared: true })) return;
    for (const release of CORPUS_RELEASES) assert.ok(same(readFileSync(sharedPath('corpus', `xen-${release}`, 'policy.conf'), 'utf8')) > 300);
  });
});

describe('what the fast path takes', () => {
  it('every statement of the Xen releases\' policy.conf: the full parser is not even built for them', (t) => {
    if (!requires(t, { shared: true })) return;
    for (const release of CORPUS_RELEASES) assert.deepEqual(scan(readFileSync(sharedPath('corpus', `xen-${release}`, 'policy.conf'), 'utf8')).left, [], release);
  });

  it('the shapes of a large policy, and the lone ";"', () => {
    const s = scan('allow a_t b_t:c0 { p0 -p1 };\nallow ra rb;\nneverallow a_t b_t:c0 p0;\ntype t, a;\ntypeattribute t a, b;\nattribute a;\nrole r types { t };\nrole q, ra;\ntype_transition a b:c d;\n;\n');
    assert.deepEqual(s, { taken: ['allow', 'role-allow', 'neverallow', 'type', 'typeattribute', 'attribute', 'role', 'role', 'type_transition'], empty: 1, left: [] });
  });

  it('leaves every other shape to the full parser, in ranges of whole statements', () => {
    const s = scan('common k { p }\nclass c1 { p0 }\nallow a b:c p;\nallow x y:c p;\nallow * b:c p;\ntype v;\nif (b) { neverallow a b:c p; }\ntype u;\ntype w;\ntype_transition a b:c d "n";\n');
    assert.deepEqual(s.taken, ['allow', 'type', 'type']);
    // A range ends at the first ";" outside brackets: a common has none, an if block none of its own.
    assert.deepEqual(s.left, ['common k { p }\nclass c1 { p0 }\nallow a b:c p;', 'allow * b:c p;', 'if (b) { neverallow a b:c p; }\ntype u;', 'type_transition a b:c d "n";']);
  });
});
