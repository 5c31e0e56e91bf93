// Reading the project's TypeScript for the catalog tests (test/diagnostic-codes.test.ts for
// core/diagnostics.ts, test/finding-messages.test.ts for checker/messages.ts): where a catalog
// name is a string literal in product code, and whether a literal in a test asserts or only
// labels (a test's title, an assertion's message, one alternative of an allowed set). Parsed
// with the TypeScript parser, without type checking, so comments never count.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { repoPath } from './env.js';

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

export function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

export function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

export function isInType(node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isTypeNode(n)) return true;
    if (ts.isStatement(n) || ts.isExpression(n) && !ts.isLiteralExpression(n)) return false;
  }
  return false;
}

/** The product's source roots: the tsconfig `include` roots but test/ and bench/. */
export function productFiles(): string[] {
  const config = ts.readConfigFile(repoPath('tsconfig.json'), ts.sys.readFile);
  const include = (config.config as { include: string[] }).include;
  const roots = [...new Set(include.map((p) => p.split('/')[0] as string))].filter((r) => r !== 'test' && r !== 'bench' && existsSync(repoPath(r)));
  assert.ok(roots.includes('core') && roots.includes('cli'), `tsconfig include roots: ${roots.join(', ')}`);
  return roots.flatMap((r) => tsFilesUnder(repoPath(r)));
}

const TEST_FUNCTIONS = new Set(['describe', 'it', 'test', 'suite']);
/** The index of the message argument of each assert function (assert(x, msg) is `ok`). */
const MESSAGE_ARGUMENT: Record<string, number> = {
  ok: 1, equal: 2, notEqual: 2, strictEqual: 2, notStrictEqual: 2, deepEqual: 2, notDeepEqual: 2,
  deepStrictEqual: 2, notDeepStrictEqual: 2, match: 2, doesNotMatch: 2, throws: 2, doesNotThrow: 2,
  rejects: 2, doesNotReject: 2, fail: 0,
};

function calleeName(call: ts.CallExpression): { object?: string; name: string } | undefined {
  const e = call.expression;
  if (ts.isIdentifier(e)) return { name: e.text };
  if (ts.isPropertyAccessExpression(e)) {
    const object = ts.isIdentifier(e.expression) ? e.expression.text : ts.isPropertyAccessExpression(e.expression) ? e.expression.name.text : undefined;
    return { ...(object ? { object } : {}), name: e.name.text };
  }
  return undefined;
}

/** Whether `node` is (inside) an argument of a call that only labels: a test title, an assertion message. */
export function inLabel(node: ts.Node): boolean {
  let child = node;
  for (let n: ts.Node | undefined = node.parent; n; child = n, n = n.parent) {
    if (!ts.isCallExpression(n)) continue;
    const index = n.arguments.indexOf(child as ts.Expression);
    if (index < 0) continue;
    const callee = calleeName(n);
    if (!callee) continue;
    const base = callee.object && TEST_FUNCTIONS.has(callee.object) ? callee.object : callee.name;
    if (TEST_FUNCTIONS.has(base) && index === 0) return true;
    if (callee.object === 'assert' || callee.name === 'assert') {
      const at = callee.name === 'assert' ? 1 : MESSAGE_ARGUMENT[callee.name];
      if (at !== undefined && index >= at) return true;
    }
  }
  return false;
}

function skipParens(n: ts.Node): ts.Node {
  let p = n.parent;
  while (p && ts.isParenthesizedExpression(p)) p = p.parent;
  return p;
}

/** `x === 'VP…'` as one operand of `||`: a set of codes allowed, not one asserted. */
export function inDisjunction(node: ts.Node): boolean {
  const comparison = skipParens(node);
  if (!comparison || !ts.isBinaryExpression(comparison)) return false;
  const op = comparison.operatorToken.kind;
  if (op !== ts.SyntaxKind.EqualsEqualsEqualsToken && op !== ts.SyntaxKind.EqualsEqualsToken) return false;
  const outer = skipParens(comparison);
  return !!outer && ts.isBinaryExpression(outer) && outer.operatorToken.kind === ts.SyntaxKind.BarBarToken;
}

