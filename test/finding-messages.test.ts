// The finding catalog (checker/messages.ts `FindingMessages`) and the diff's
// (diff/messages.ts `DiffMessages`) against the code and the tests, as
// test/diagnostic-codes.test.ts holds core/diagnostics.ts to account: every sentence is said
// by product code, every sentence is asserted by a test that produces it, and every finding
// sentence belongs to the rule that says it.
//
// - Used: the id is a string literal in a value position of a product file
//   (`findingText('Excess', …)`, `cond ? 'FlowDeclaredPv' : 'FlowDeclaredHvm'`).
// - Asserted: the id is a string literal in a value position of a test file (test/*.ts, not
//   test/support/ and not this file) that is neither a test's title, an assertion's message
//   nor one side of an `||` of comparisons (test/support/catalog-literals.ts). The tests that
//   count produce findings and compare what they say (`sentences(findings)` in
//   test/checker-rules.test.ts).
// - Belongs: each finding a rule reports says only sentences of its own rule (checked on the
//   findings the checker-rules cases produce, here through a small set of inputs).

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { FindingMessages, renderFindingText, fileOnly, type FindingMessageId } from '../checker/messages.js';
import { DiffMessages, type DiffMessageId } from '../diff/messages.js';
import { repoPath } from './support/env.js';
import { inDisjunction, inLabel, isInType, parse, productFiles, walk } from './support/catalog-literals.js';
import { checkPolicyText, compileStandalone, inject, sentences } from './support/checker.js';

const THIS_FILE = 'test/finding-messages.test.ts';
const IDS = Object.keys(FindingMessages) as FindingMessageId[];
const DIFF_IDS = Object.keys(DiffMessages) as DiffMessageId[];

/** Where each of `ids` is a string literal in a value position of `source`, by the rules in the header. */
function literalIds<Id extends string>(ids: readonly Id[], source: ts.SourceFile, counts: (n: ts.Node) => boolean): { id: Id; line: number }[] {
  const known = new Set<string>(ids);
  const found: { id: Id; line: number }[] = [];
  walk(source, (n) => {
    if (!(ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) || !known.has(n.text) || isInType(n) || !counts(n)) return;
    found.push({ id: n.text as Id, line: source.getLineAndCharacterOfPosition(n.getStart(source)).line + 1 });
  });
  return found;
}

function byId<Id extends string>(ids: readonly Id[], files: readonly string[], counts: (n: ts.Node) => boolean): Map<Id, string[]> {
  const out = new Map<Id, string[]>();
  for (const file of files) {
    for (const { id, line } of literalIds(ids, parse(file), counts)) out.set(id, [...(out.get(id) ?? []), `${relative(repoPath(), file)}:${line}`]);
  }
  return out;
}

/** A catalog file names every id as a key (an identifier, not a literal), so it never counts. */
const uses = <Id extends string>(ids: readonly Id[]): Map<Id, string[]> => byId(ids, productFiles(), () => true);

function testFiles(): string[] {
  return readdirSync(repoPath('test'))
    .filter((f) => f.endsWith('.test.ts') && `test/${f}` !== THIS_FILE)
    .map((f) => repoPath('test', f));
}

const assertions = <Id extends string>(ids: readonly Id[]): Map<Id, string[]> => byId(ids, testFiles(), (n) => !inLabel(n) && !inDisjunction(n));

/** Its placeholders are 0…n-1, each used. */
function assertFillable(id: string, text: string): void {
  const used = [...text.matchAll(/\{(\d+)\}/g)].map((m) => Number(m[1]));
  const n = used.length ? Math.max(...used) + 1 : 0;
  for (let i = 0; i < n; i++) assert.ok(used.includes(i), `${id}: {${i}} is skipped`);
}

describe('the finding catalog', () => {
  it('the rules for "asserted" count values, not titles, messages or allowed sets', () => {
    const probe = ts.createSourceFile('probe.test.ts', [
      "it('Excess in a title', () => {",
      "  assert.deepEqual(sentences(f), ['Flow', 'FlowRemove']);",
      "  assert.ok(ok, 'Neverallow in a message');",
      "  assert.ok(ids.every((i) => i === 'SharedType' || i === 'SharedTypeOwn'));",
      "  const t: FindingMessageId = 'LabelAdd';",
      "});",
    ].join('\n'), ts.ScriptTarget.Latest, true);
    assert.deepEqual(literalIds(IDS, probe, (n) => !inLabel(n) && !inDisjunction(n)).map((x) => `${x.id}:${x.line}`), ['Flow:2', 'FlowRemove:2', 'LabelAdd:5']);
  });

  it('every sentence is said by product code', () => {
    const used = uses(IDS);
    const unused = IDS.filter((id) => !used.has(id));
    assert.deepEqual(unused, [], 'FindingMessages entries no proof rule says: say them, or remove them from checker/messages.ts');
  });

  it('every sentence is asserted by a test that produces it', () => {
    const asserted = assertions(IDS);
    const unasserted = IDS.filter((id) => !asserted.has(id));
    assert.deepEqual(unasserted, [], `finding sentences no test asserts: write a test that produces each and compares sentences(findings) (see the header of ${THIS_FILE})`);
  });

  it('the text of every sentence is there to fill: its placeholders are 0…n-1 and each is used', () => {
    for (const id of IDS) assertFillable(id, FindingMessages[id].text);
  });

  it('each finding says only sentences of its own rule, and its places are Location data, rendered by the reader', () => {
    const base = compileStandalone(`vmipolicy: 1
xen: "4.19"
policy: { module: vmi, mode: standalone }
introspectors:
  - { name: mon, type: mon_t, guest: pv, targets: [a, b], capabilities: [domain-info, read-memory], lookup: domid }
targets:
  - { name: a, type: a_t, guest: hvm }
  - { name: b, type: b_t, guest: hvm }
  - { name: c, type: c_t, guest: hvm }
`);
    const injected = inject(base.policyText, [
      'allow mon_t domain_type:mmu { map_read map_write };',
      'neverallow c_t a_t:domain setvcpucontext;',
      'allow c_t a_t:domain setvcpucontext;',
      'permissive b_t;',
    ]);
    const findings = checkPolicyText(base, injected.text).findings;
    assert.ok(findings.length > 3, 'the input produces findings of several rules');
    for (const f of findings) {
      for (const id of sentences([f])) assert.equal(FindingMessages[id].rule, f.ruleId, `${f.ruleId} says ${id}`);
      // Written without positions, a message names no line of the policy it cites.
      const lines = f.provenance.filter((l) => l.kind === 'policy').map((l) => `:${l.line}`);
      const bare = renderFindingText(f.message, fileOnly);
      for (const l of lines) assert.ok(!bare.includes(`policy.conf${l}`), `${bare} still names ${l}`);
    }
  });
});

describe('the diff catalog', () => {
  it('every sentence is said by product code', () => {
    const used = uses(DIFF_IDS);
    assert.deepEqual(DIFF_IDS.filter((id) => !used.has(id)), [], 'DiffMessages entries the diff never says: say them, or remove them from diff/messages.ts');
  });

  it('every sentence is asserted by a test that produces it', () => {
    const asserted = assertions(DIFF_IDS);
    assert.deepEqual(DIFF_IDS.filter((id) => !asserted.has(id)), [], `diff sentences no test asserts: write a test that produces each and compares its id (see the header of ${THIS_FILE})`);
  });

  it('the text of every sentence is there to fill', () => {
    for (const id of DIFF_IDS) assertFillable(id, DiffMessages[id]);
  });
});
