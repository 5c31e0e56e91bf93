// Boolean conditions of grants. A permission is granted under the disjunction of the guards
// of the rules that grant it ("always" when one of them is unconditional). NEW adds access
// exactly when its condition does not imply OLD's: some boolean state grants in NEW and not
// in OLD. Implication is decided by enumerating the states of the booleans involved —
// real policies guard a rule with one to three booleans, so this stays tiny.

import type { BoolExpr } from '../policy/grammar/ast.js';
import { printBoolExpr } from '../policy/grammar/printer.js';
import { evalBool } from '../policy/model/query.js';

export interface CondGuard {
  readonly expr: BoolExpr;
  readonly branch: boolean;
}

/** undefined = always; [] = never; otherwise any of the guards. */
export type Condition = readonly CondGuard[] | undefined;

/** Past this many booleans in one comparison, implication is decided conservatively. */
const MAX_ENUMERATED = 16;

function variables(expr: BoolExpr, out: Set<string>): void {
  switch (expr.op) {
    case 'var': out.add(expr.name.name); break;
    case 'not': variables(expr.operand, out); break;
    default: variables(expr.left, out); variables(expr.right, out);
  }
}

function holds(c: Condition, state: ReadonlyMap<string, boolean>): boolean {
  return c === undefined || c.some((g) => evalBool(g.expr, state) === g.branch);
}

/** Does every boolean state that satisfies `a` satisfy `b`? */
export function implies(a: Condition, b: Condition): boolean {
  if (b === undefined) return true;
  if (a !== undefined && a.length === 0) return true;
  const vars = new Set<string>();
  for (const g of [...(a ?? []), ...b]) variables(g.expr, vars);
  const names = [...vars].sort();
  // Conservative beyond the limit: only a syntactic subset counts as implied.
  if (names.length > MAX_ENUMERATED) return a !== undefined && a.every((g) => b.some((h) => guardText(h) === guardText(g)));
  for (let m = 0; m < 1 << names.length; m++) {
    const state = new Map(names.map((n, i) => [n, ((m >> i) & 1) === 1]));
    if (holds(a, state) && !holds(b, state)) return false;
  }
  return true;
}

export function guardText(g: CondGuard): string {
  const e = printBoolExpr(g.expr);
  return g.branch ? e : `!(${e})`;
}

export function conditionText(c: Condition): string {
  if (c === undefined) return 'always';
  if (c.length === 0) return 'never';
  return [...new Set(c.map(guardText))].sort().join(' || ');
}
