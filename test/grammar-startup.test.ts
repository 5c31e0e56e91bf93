// The policy grammar's fast start-up (issue 12) changes how it is built, never what it does:
// - chevrotain comes from its single-file bundle (policy/grammar/chevrotain.ts), which must
//   be the release package.json pins, with the entry's exports;
// - the lexer and parser the product uses skip chevrotain's definition validations
//   (tokens.ts, parser.ts). Here a lexer and a parser built WITH them must report no
//   definition error, record the same grammar, and lex and parse every text — Xen's stock
//   policies, the test policies covering every statement, random token soup — exactly as
//   the fast ones do.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CstElement, CstNode, IToken } from 'chevrotain';
import { CHEVROTAIN_BUNDLE } from '../policy/grammar/chevrotain.js';
import { PolicyParser } from '../policy/grammar/parser.js';
import { allTokens, buildPolicyLexer } from '../policy/grammar/tokens.js';
import { CORPUS_RELEASES, repoPath, requires, sharedPath } from './support/env.js';
import { EXTENDED_MLS_SLOTS, EXTENDED_SLOTS, minimalMlsPolicy, minimalPolicy } from './support/policies.js';

const RANDOM_RUNS = Number(process.env.VMIPOLICY_RANDOM_RUNS ?? 200);

const validating = { lexer: buildPolicyLexer({ validate: true }), parser: new PolicyParser({ validate: true }) };
const fast = { lexer: buildPolicyLexer({ validate: false }), parser: new PolicyParser({ validate: false }) };

const tokenText = (t: IToken): string => `${t.tokenType.name}@${t.startOffset}:${t.image}`;

function cstText(e: CstElement): unknown {
  if (!('children' in e)) return tokenText(e);
  const node = e as CstNode;
  return { name: node.name, recovered: node.recoveredNode === true, children: Object.entries(node.children).map(([k, v]) => [k, v.map(cstText)]) };
}

/** Everything a lexer and a parser make of a text, as plain data to compare. */
function run(tools: typeof fast, text: string): unknown {
  const lexed = tools.lexer.tokenize(text);
  tools.parser.input = lexed.tokens;
  const cst = tools.parser.policy();
  return {
    tokens: lexed.tokens.map(tokenText),
    groups: Object.entries(lexed.groups).map(([k, v]) => [k, v.map(tokenText)]),
    lexErrors: lexed.errors.map((e) => [e.offset, e.length, e.message]),
    cst: cstText(cst),
    parseErrors: tools.parser.errors.map((e) => [e.name, e.message, tokenText(e.token), e.context.ruleStack.join('/')]),
  };
}

function assertSame(text: string, what: string): void {
  assert.deepEqual(run(fast, text), run(validating, text), what);
}

describe('chevrotain is loaded from its bundle', () => {
  it('the bundle is the pinned release and exports what the entry exports', async () => {
    const pinned = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['chevrotain'];
    const bundle = (await import(CHEVROTAIN_BUNDLE.href)) as Record<string, unknown>;
    const entry = (await import('chevrotain')) as Record<string, unknown>;
    assert.equal(bundle['VERSION'], pinned);
    assert.equal(entry['VERSION'], pinned);
    assert.deepEqual(Object.keys(bundle).sort(), Object.keys(entry).sort());
  });
});

describe('the fast lexer and parser equal the fully validated ones', () => {
  it('chevrotain finds no definition error in the tokens or the grammar', () => {
    // Both constructors throw on a definition error (building `validating` above would have
    // failed this file); the lists are checked too in case chevrotain is told to defer them.
    // The parser's list is not in chevrotain's declarations, hence the cast.
    assert.deepEqual(validating.lexer.lexerDefinitionErrors, []);
    assert.deepEqual((validating.parser as unknown as { definitionErrors: unknown[] }).definitionErrors, []);
  });

  it('both record the same grammar', () => {
    assert.deepEqual(fast.parser.getSerializedGastProductions(), validating.parser.getSerializedGastProductions());
  });

  it('the test policies (every statement kind, valid and not) lex and parse alike', () => {
    for (const text of [minimalPolicy(), minimalMlsPolicy(), minimalPolicy(EXTENDED_SLOTS), minimalMlsPolicy(EXTENDED_MLS_SLOTS)]) {
      assertSame(text, text);
      // Every prefix cut at a statement end, and one cut mid-statement: recovery paths too.
      for (let i = text.indexOf(';'); i >= 0; i = text.indexOf(';', i + 1)) assertSame(text.slice(0, i - 1), `prefix ${i - 1}`);
    }
  });

  for (const release of CORPUS_RELEASES) {
    it(`xen-${release}/policy.conf lexes and parses alike`, (t) => {
      if (!requires(t, { shared: true })) return;
      const text = readFileSync(sharedPath('corpus', `xen-${release}`, 'policy.conf'), 'utf8');
      assertSame(text, `xen-${release}`);
    });
  }

  it('random token soup lexes and parses alike', () => {
    const words = allTokens.flatMap((t) => (typeof t.LABEL === 'string' && /^"[^"]+"$/.test(t.LABEL) ? [t.LABEL.slice(1, -1)] : []));
    assert.ok(words.length > 80, 'the keywords are read from the token labels');
    const piece = fc.oneof(
      fc.constantFrom(...words),
      fc.constantFrom(...words).map((w) => w.toUpperCase()),
      fc.constantFrom(...words).map((w) => w.charAt(0).toUpperCase() + w.slice(1)),
      fc.constantFrom('a', 'dom0_t', 'c0.c255', 'x-y', '0x1F', '42', '4ab', '"s"', '"open', '/dev/x', '# note\n', '&&', '||', '==', '!=', '^', '!', '.', '[', ']', '@', '\r'),
      fc.string({ maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(piece, fc.constantFrom(' ', '', '\n', '\t')), { maxLength: 40 }), (parts) => {
        assertSame(parts.map(([p, s]) => p + s).join(''), 'soup');
      }),
      { numRuns: RANDOM_RUNS },
    );
  });
});
