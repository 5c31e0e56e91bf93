// The printer: the corpus printed and compiled again is the same policy to sediff; random
// well-formed policies reach a fixed point after one print → parse → print.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parsePolicy } from '../policy/grammar/parse.js';
import { printPolicy } from '../policy/grammar/printer.js';
import { CORPUS_RELEASES, requires, sharedPath } from './support/env.js';
import { checkpolicy, withTempDir } from './support/oracles.js';
import { EXTENDED_MLS_SLOTS, EXTENDED_SLOTS, minimalMlsPolicy, minimalPolicy } from './support/policies.js';

function parseClean(text: string): ReturnType<typeof parsePolicy> {
  const p = parsePolicy('p.conf', text);
  assert.deepEqual(p.diagnostics.map((d) => `${d.code} ${d.message} @${d.span?.start}`), [], text);
  return p;
}

/** Every "(N Added, N Removed, N Modified)" count sediff prints, which must all be zero. */
function sediffCounts(a: string, b: string): string[] {
  const r = spawnSync('bash', [sharedPath('tools', 'sediff-xen.sh'), '--stats', a, b], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const sections = [...r.stdout.matchAll(/^(.+) \((\d+) Added, (\d+) Removed(?:, (\d+) Modified)?\)$/gm)];
  assert.ok(sections.length > 20, r.stdout);
  return sections.filter((m) => m.slice(2).some((n) => n !== undefined && n !== '0')).map((m) => m[0]);
}

/** Both texts compile with checkpolicy, and sediff finds no difference between the binaries. */
function assertSamePolicy(text: string, printed: string): void {
  withTempDir((dir) => {
    const original = checkpolicy(dir, text);
    assert.ok(original.ok, original.output);
    mkdirSync(join(dir, 'printed'));
    const again = checkpolicy(join(dir, 'printed'), printed);
    assert.ok(again.ok, again.output);
    assert.deepEqual(sediffCounts(original.binary, again.binary), []);
  });
}

describe('printer round trip through the real tools', () => {
  for (const release of CORPUS_RELEASES) {
    it(`Xen ${release}: corpus → print → checkpolicy → sediff finds no difference`, (t) => {
      if (!requires(t, { shared: true, commands: ['checkpolicy', 'sediff'] })) return;
      const text = readFileSync(sharedPath('corpus', `xen-${release}`, 'policy.conf'), 'utf8');
      const printed = printPolicy(parseClean(text).ast);
      assertSamePolicy(text, printed);
      assert.equal(printPolicy(parseClean(printed).ast), printed, 'printing is a fixed point');
    });
  }
});

describe('printer round trip of every statement beyond the basic set', () => {
  it('role attributes, typebounds, permissive, expandattribute, auditdeny, role_transition:class, default_* → print → checkpolicy → sediff finds no difference', (t) => {
    if (!requires(t, { shared: true, commands: ['checkpolicy', 'sediff'] })) return;
    const text = minimalPolicy(EXTENDED_SLOTS);
    const printed = printPolicy(parseClean(text).ast);
    for (const word of ['attribute_role', 'roleattribute', 'typebounds', 'permissive', 'expandattribute', 'auditdeny', 'role_transition', 'default_user', 'default_role', 'default_type', 'default_range']) {
      assert.ok(printed.includes(`${word} `), `${word} is printed`);
    }
    assertSamePolicy(text, printed);
    assert.equal(printPolicy(parseClean(printed).ast), printed, 'printing is a fixed point');
  });

  it('MLS: range_transition and default_range → print → checkpolicy -M gives the same binary', (t) => {
    if (!requires(t, { commands: ['checkpolicy'] })) return;
    const text = minimalMlsPolicy(EXTENDED_MLS_SLOTS);
    const printed = printPolicy(parseClean(text).ast);
    assert.match(printed, /^range_transition xen_t \{ b_t xen_t \}:xen s0 - s0:c0;$/m);
    withTempDir((dir) => {
      const original = checkpolicy(dir, text, { mls: true });
      assert.ok(original.ok, original.output);
      mkdirSync(join(dir, 'printed'));
      const again = checkpolicy(join(dir, 'printed'), printed, { mls: true });
      assert.ok(again.ok, again.output);
      // setools 4.4 cannot read MLS Xen binaries ("Invalid policy"), so no sediff here:
      // the statements are in the same order, so checkpolicy writes the same bytes.
      assert.deepEqual(readFileSync(again.binary), readFileSync(original.binary));
    });
    assert.equal(printPolicy(parseClean(printed).ast), printed, 'printing is a fixed point');
  });
});

// ---------------------------------------------------------------- random well-formed policies

const TYPES = ['t0_t', 't1_t', 't2_t', 't3_t'];
const ATTRS = ['a0', 'a1'];
const PERMS = ['p0', 'p1', 'p2', 'p3'];
const name = (xs: readonly string[]) => fc.constantFrom(...xs);
/**
 * A name set; `exclusions` off for constraints, where checkpolicy refuses `-name`; `*` and `~`
 * only where checkpolicy accepts them (type sets of neverallow, permission sets).
 */
const set = (xs: readonly string[], extra: readonly string[] = [], exclusions = true, wildcards = false) =>
  fc.oneof(
    name([...xs, ...extra]),
    ...(wildcards ? [fc.constant('*')] : []),
    fc.uniqueArray(fc.tuple(name(xs), fc.boolean()), { minLength: 1, maxLength: 3, selector: ([n]) => n })
      .chain((items) => fc.boolean().map((neg) => `${neg && wildcards ? '~' : ''}{ ${items.map(([n, ex], i) => (ex && i > 0 && exclusions ? `-${n}` : n)).join(' ')} }`)),
  );
const avRuleOf = (kinds: readonly string[]) => fc.constantFrom(...kinds).chain((k) => {
  const typeWildcards = k === 'neverallow';
  return fc
    .tuple(set([...TYPES, ...ATTRS], [], true, typeWildcards), set([...TYPES, ...ATTRS], ['self'], true, typeWildcards), set(['c0', 'c1']), set(PERMS, [], true, true))
    .map(([s, t, c, p]) => `${k} ${s} ${t}:${c} ${p};`);
});
const avRule = avRuleOf(['allow', 'auditallow', 'dontaudit', 'neverallow']);
/** An if block holds allow, auditallow and dontaudit rules, never neverallow. */
const condRule = avRuleOf(['allow', 'auditallow', 'dontaudit']);
const typeRule = fc.tuple(fc.constantFrom('type_transition', 'type_change', 'type_member'), set(TYPES), set(TYPES), name(['c0', 'c1']), name(TYPES)).map(([k, s, t, c, r]) => `${k} ${s} ${t}:${c} ${r};`);
const boolExpr: fc.Arbitrary<string> = fc.letrec((tie) => ({
  e: fc.oneof({ depthSize: 'small' }, name(['b0', 'b1']), tie('e').map((x) => `!${x}`), fc.tuple(tie('e'), fc.constantFrom('&&', '||', '^', '==', '!='), tie('e')).map(([a, op, b]) => `(${a} ${op} ${b})`)),
})).e as fc.Arbitrary<string>;
const cexpr: fc.Arbitrary<string> = fc.letrec((tie) => ({
  e: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('u1 == u2', 'r1 != r2', 't1 == t2', 'u1 == system_u'),
    set(TYPES, [], false).map((s) => `t1 == ${s}`),
    tie('e').map((x) => `not (${x})`),
    fc.tuple(tie('e'), fc.constantFrom('and', 'or'), tie('e')).map(([a, op, b]) => `(${a} ${op} ${b})`),
  ),
})).e as fc.Arbitrary<string>;
const middle = fc.array(
  fc.oneof(
    avRule,
    typeRule,
    fc.tuple(boolExpr, fc.array(condRule, { minLength: 1, maxLength: 2 }), fc.array(condRule, { maxLength: 2 })).map(([e, a, b]) => `if (${e}) {\n${a.join('\n')}\n}${b.length ? ` else {\n${b.join('\n')}\n}` : ''}`),
    fc.tuple(name(['ra', 'rb']), set([...TYPES, ...ATTRS])).map(([r, s]) => `role ${r} types ${s};`),
    fc.tuple(name(TYPES), name(ATTRS)).map(([t, a]) => `typeattribute ${t} ${a};`),
  ),
  { maxLength: 12 },
);
const policy = fc.tuple(middle, fc.array(fc.tuple(set(['c0', 'c1']), set(PERMS), cexpr), { maxLength: 3 }), fc.array(fc.tuple(fc.constantFrom('pirqcon', 'iomemcon', 'ioportcon'), fc.nat(0xffff), fc.option(fc.nat(0xff))), { maxLength: 3 }))
  .map(([mid, cons, ocons]) => [
    'class c0', 'class c1', 'sid s0', 'class c0 { p0 p1 p2 p3 }', 'class c1 { p0 p1 p2 p3 }',
    ...ATTRS.map((a) => `attribute ${a};`), ...TYPES.map((t, i) => `type ${t}${i % 2 ? ', a0' : ''};`), 'bool b0 true;', 'bool b1 false;',
    'role ra;', 'role rb;', ...mid,
    'user system_u roles { ra rb };',
    ...cons.map(([c, p, e]) => `constrain ${c} ${p} (${e});`),
    'sid s0 system_u:ra:t0_t',
    // pirqcon takes one number; iomemcon and ioportcon a number or a low-high range.
    ...ocons.map(([k, lo, hi]) => `${k} 0x${lo.toString(16)}${hi !== null && k !== 'pirqcon' ? `-0x${(lo + hi).toString(16)}` : ''} system_u:object_r:t1_t`),
    '',
  ].join('\n'));

describe('printer fixed point', () => {
  it('random well-formed policies: print → parse → print is a fixed point', () => {
    fc.assert(
      fc.property(policy, (text) => {
        const once = printPolicy(parseClean(text).ast);
        assert.equal(printPolicy(parseClean(once).ast), once);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parsing in statement-aligned pieces', () => {
  // Large policies are tokenized and parsed a piece at a time (policy/grammar/parse.ts
  // statementChunks); the pieces must never change what is parsed.
  const whole = (text: string) => parsePolicy('p.conf', text, { chunkChars: Number.MAX_SAFE_INTEGER });
  const pieces = (text: string, chunkChars: number) => parsePolicy('p.conf', text, { chunkChars });
  const same = (text: string, chunkChars: number): void => {
    const a = whole(text);
    const b = pieces(text, chunkChars);
    assert.deepEqual(JSON.parse(JSON.stringify(b.ast)), JSON.parse(JSON.stringify(a.ast)));
    assert.deepEqual(b.diagnostics, a.diagnostics);
  };

  it('random well-formed policies give the same AST and diagnostics in pieces of any size', () => {
    fc.assert(fc.property(policy, fc.integer({ min: 1, max: 400 }), (text, chunkChars) => same(text, chunkChars)), { numRuns: 300 });
  });

  it('the corpus policies give the same AST in pieces of 256 characters', (t) => {
    if (!requires(t, { shared: true })) return;
    for (const release of CORPUS_RELEASES) same(readFileSync(sharedPath('corpus', `xen-${release}`, 'policy.conf'), 'utf8'), 256);
  });

  it('statement pieces end after a `;` outside brackets, strings and comments', async () => {
    const { statementChunks } = await import('../policy/grammar/parse.js');
    const text = 'allow a b:c { d; };\n# x; y\nif (b) {\nallow a b:c d;\n}\ntype t "s;\n;\ntype u;\n';
    const ends = statementChunks(text, 1).map(([, end]) => text.slice(0, end).split('\n').length - 1);
    // Not inside { d; }, not after the if block's "}" (an else may follow), not after the
    // unterminated string's ";" (it is part of the string up to the line's end).
    assert.deepEqual(ends, [1, 2, 7, 8]);
  });
});
