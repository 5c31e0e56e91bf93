// The diagnostic catalog (core/diagnostics.ts `Messages`) against the code and the tests:
// every entry is emitted somewhere in the product, every code is asserted by some test, and
// the codes are unique and each in the range of the catalog section it is listed under.
//
// Read with the TypeScript parser (no type checking), so comments never count:
//
// - Used: the entry's name is a string literal in a product .ts file (the tsconfig's
//   `include` roots but test/ and bench/), in a value position — `diagnostic('Name', …)`,
//   `new Refusal(…, 'Name', …)`, `unreadable: 'Name'`, `cond ? 'NameA' : 'NameB'`. A literal
//   in a type (`Extract<MessageName, 'Name'>`) is no use.
// - Asserted: the code (`VP1016`) is written in a string, template or regex literal of a
//   test file (test/*.ts; not test/support/, which holds helpers and generators), or the
//   entry is named as `Messages.Name` there; but not:
//   · in a test's title (describe/it/test/suite) or an assertion's message argument;
//   · as one alternative of a regex with `|` (/VP32\d\d|VP3403/ accepts either);
//   · compared in a disjunction (`c === 'VP1209' || c === 'VP1215'` allows, not asserts);
//   · in this file, or in any test that only lists the catalog (test/readme-codes.test.ts
//     reads `Messages`, never a code literal, so it counts for nothing by the rule above).
//   The tests that do count produce the diagnostic and compare its code (in errors.test.ts
//   tables, `assert.match(stderr, /…VP1204…/)`, `d.code === 'VP1216'` …).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { Messages, type MessageName } from '../core/diagnostics.js';
import { repoPath } from './support/env.js';
import { inDisjunction, inLabel, isInType, parse, productFiles, walk } from './support/catalog-literals.js';

const THIS_FILE = 'test/diagnostic-codes.test.ts';

/**
 * Entries no test can assert because no input reaches them, each with the reason and the test
 * that keeps the reason true. The "asserted" check skips them; the check after it fails when
 * one leaves the catalog or becomes asserted, so that this list never outlives its reason.
 */
const UNREACHABLE: Partial<Record<MessageName, string>> = {
};

const NAMES = Object.keys(Messages) as MessageName[];
const CODE_IN_TEXT = /\bVP\d{4}\b/g;

/** Where each entry's name is a string literal in a value position of product code. */
function usesByName(): Map<MessageName, string[]> {
  const names = new Set<string>(NAMES);
  const uses = new Map<MessageName, string[]>();
  for (const file of productFiles()) {
    const source = parse(file);
    walk(source, (n) => {
      if (!(ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) || !names.has(n.text) || isInType(n)) return;
      const { line } = source.getLineAndCharacterOfPosition(n.getStart(source));
      const list = uses.get(n.text as MessageName) ?? [];
      list.push(`${relative(repoPath(), file)}:${line + 1}`);
      uses.set(n.text as MessageName, list);
    });
  }
  return uses;
}

/** The text of a literal that may assert codes, or undefined when the literal does not count. */
function assertingText(n: ts.Node): string | undefined {
  if (ts.isRegularExpressionLiteral(n)) {
    const body = n.text.slice(1, n.text.lastIndexOf('/'));
    return /(?<!\\)\|/.test(body) ? undefined : body;
  }
  if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text;
  if (ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) return n.text;
  return undefined;
}

let assertions: Map<string, string[]> | undefined;

/** The test files (and lines) that assert each code, by the rules in the header (read once). */
function assertionsByCode(): Map<string, string[]> {
  assertions ??= readAssertions();
  return assertions;
}

function readAssertions(): Map<string, string[]> {
  const byCode = new Map<string, string[]>();
  const files = readdirSync(repoPath('test'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/${f}`)
    .filter((f) => f !== THIS_FILE);
  for (const rel of files) {
    for (const { code, line } of codesAssertedIn(rel, readFileSync(repoPath(rel), 'utf8'))) {
      byCode.set(code, [...(byCode.get(code) ?? []), `${rel}:${line}`]);
    }
  }
  return byCode;
}

/** The codes a test file's text asserts, with their lines, by the rules in the header. */
function codesAssertedIn(file: string, text: string): { code: string; line: number }[] {
  const codeOf = new Map<string, string>(NAMES.map((name) => [name, Messages[name].code]));
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { code: string; line: number }[] = [];
  walk(source, (n) => {
    const line = source.getLineAndCharacterOfPosition(n.getStart(source)).line + 1;
    // Messages.Name (…code): the entry named in test code.
    if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'Messages' && codeOf.has(n.name.text)) {
      let whole: ts.Node = n;
      while (ts.isPropertyAccessExpression(whole.parent) && whole.parent.expression === whole) whole = whole.parent;
      if (!inLabel(whole) && !inDisjunction(whole)) found.push({ code: codeOf.get(n.name.text) as string, line });
      return;
    }
    const literal = assertingText(n);
    if (literal === undefined || isInType(n) || inLabel(n)) return;
    const holder = ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n) ? n.parent : n;
    if (inDisjunction(holder)) return;
    for (const m of literal.matchAll(CODE_IN_TEXT)) found.push({ code: m[0], line });
  });
  return found;
}

/** Each entry of the Messages literal, in source order, with the section header it is listed under. */
function catalogSections(): { name: string; section?: { text: string; low: number; high: number } }[] {
  const file = repoPath('core', 'diagnostics.ts');
  const source = parse(file);
  let literal: ts.ObjectLiteralExpression | undefined;
  walk(source, (n) => {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === 'Messages') {
      let init: ts.Expression | undefined = n.initializer;
      while (init && (ts.isSatisfiesExpression(init) || ts.isAsExpression(init))) init = init.expression;
      if (init && ts.isObjectLiteralExpression(init)) literal = init;
    }
  });
  assert.ok(literal, 'core/diagnostics.ts declares const Messages = { … }');
  const text = source.getFullText();
  let section: { text: string; low: number; high: number } | undefined;
  const out: { name: string; section?: { text: string; low: number; high: number } }[] = [];
  for (const p of literal.properties) {
    for (const c of ts.getLeadingCommentRanges(text, p.getFullStart()) ?? []) {
      const comment = text.slice(c.pos, c.end);
      // `// VP10xx — …`, `// VP2xxx — …`, `// VP3020–VP3029 — …`
      const m = /^\/\/\s*VP(\d{2}xx|\dxxx|\d{4})(?:\s*[–-]\s*VP(\d{4}))?\b/.exec(comment);
      if (!m) continue;
      const start = m[1] as string;
      const low = Number(start.replace(/x/g, '0'));
      const high = m[2] !== undefined ? Number(m[2]) : Number(start.replace(/x/g, '9'));
      section = { text: comment, low, high };
    }
    const name = p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : p.getText(source);
    out.push({ name, ...(section ? { section } : {}) });
  }
  return out;
}

function listed(names: readonly MessageName[], detail: (name: MessageName) => string = () => ''): string {
  return names.map((n) => `  ${Messages[n].code} ${n}${detail(n)}`).join('\n');
}

describe('the diagnostic catalog', () => {
  it('the rules for "asserted" count assertions, not titles, messages, comments, alternatives or allowed sets', () => {
    const text = [
      "// VP1001 in a comment",
      "it('VP1002 in a title', () => {",
      "  assert.equal(d.code, 'VP1003');",
      "  assert.match(err, /error VP1004: /);",
      "  assert.ok(ok, 'VP1005 in a message');",
      "  assert.match(err, /VP1010|VP1011/);",
      "  assert.ok(codes.every((c) => c === 'VP1012' || c === 'VP1013'));",
      "  expect(text, [['VP1014', 3, 1]]);",
      "  assert.equal(d.code, Messages.EmptySpec.code);",
      "  assert.match(err, new RegExp(`${file}:1:1: error VP1101`));",
      "  describe.skip('VP1102 in a title', () => {});",
      "});",
    ].join('\n');
    assert.deepEqual(codesAssertedIn('probe.test.ts', text).map((f) => `${f.code}:${f.line}`), ['VP1003:3', 'VP1004:4', 'VP1014:8', 'VP1014:9', 'VP1101:10']);
  });

  it('every entry is emitted by product code (its name is a string literal outside test/ and bench/)', () => {
    const uses = usesByName();
    const unused = NAMES.filter((n) => !uses.has(n));
    assert.deepEqual(unused, [], `Messages entries that no product code uses — emit them, or remove them from core/diagnostics.ts (and README.md):\n${listed(unused)}`);
  });

  it('every code is asserted by a test that produces it', () => {
    const byCode = assertionsByCode();
    const unasserted = NAMES.filter((n) => !byCode.has(Messages[n].code) && UNREACHABLE[n] === undefined);
    assert.deepEqual(unasserted, [], `diagnostic codes that no test asserts — write a test that produces each one and asserts its code (see the header of ${THIS_FILE}):\n${listed(unasserted)}`);
  });

  it('the entries said to be unreachable are in the catalog, and no test asserts them', () => {
    const byCode = assertionsByCode();
    for (const [name, why] of Object.entries(UNREACHABLE)) {
      assert.ok(name in Messages, `${name} is listed as unreachable in ${THIS_FILE} but is no longer in Messages: remove it from UNREACHABLE`);
      const code = Messages[name as MessageName].code;
      assert.equal(byCode.get(code), undefined, `${code} ${name} is listed as unreachable (${why}) yet asserted at ${byCode.get(code)?.join(', ')}: remove it from UNREACHABLE`);
    }
  });

  it('codes are unique, well formed, and each lies in the range of its catalog section', () => {
    const byCode = new Map<string, MessageName[]>();
    for (const n of NAMES) byCode.set(Messages[n].code, [...(byCode.get(Messages[n].code) ?? []), n]);
    const dups = [...byCode].filter(([, names]) => names.length > 1).map(([code, names]) => `  ${code}: ${names.join(', ')}`);
    assert.deepEqual(dups, [], `codes used by more than one entry:\n${dups.join('\n')}`);
    const malformed = NAMES.filter((n) => !/^VP\d{4}$/.test(Messages[n].code));
    assert.deepEqual(malformed, [], `codes not of the form VPnnnn:\n${listed(malformed)}`);

    const entries = catalogSections();
    assert.deepEqual(entries.map((e) => e.name), NAMES, 'the entries read from core/diagnostics.ts are those of Messages');
    const misplaced = entries
      .filter(({ name, section }) => {
        const code = Number(Messages[name as MessageName].code.slice(2));
        return !section || code < section.low || code > section.high;
      })
      .map(({ name, section }) => `  ${Messages[name as MessageName].code} ${name}: under ${section ? `"${section.text}" (VP${section.low}–VP${section.high})` : 'no section header'}`);
    assert.deepEqual(misplaced, [], `codes outside the range of the section they are listed under:\n${misplaced.join('\n')}`);
  });
});
