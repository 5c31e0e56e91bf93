// A reduced ordered binary decision diagram (Bryant, 1986) over named boolean variables:
// the exact answer to "is this guard always / never true, and in which state?" for any
// number of booleans, where trying every assignment doubles with each one. Variables are
// ordered by name (code-point order), so the diagram of a formula — and every path read off
// it — is the same whatever order the formulas were built in. Nodes are kept unique (one
// node per (variable, low, high)), so two formulas are equivalent iff they are the same node.

import type { BoolExpr } from './grammar/ast.js';
import { compareCodePoints } from '../core/compare.js';

/** A node of a diagram: FALSE, TRUE, or an index into the manager's tables. */
export type BddNode = number;

export const FALSE: BddNode = 0;
export const TRUE: BddNode = 1;

type BinaryOp = 'and' | 'or' | 'xor';

/** The nodes of every diagram built with it, shared: build all formulas of one question with one manager. */
export class Bdd {
  /** node → its variable's name ('' for the two terminals). */
  private readonly vars: string[] = ['', ''];
  /** node → the node when its variable is false. */
  private readonly lows: BddNode[] = [FALSE, TRUE];
  /** node → the node when its variable is true. */
  private readonly highs: BddNode[] = [FALSE, TRUE];
  private readonly unique = new Map<string, BddNode>();
  private readonly computed = new Map<string, BddNode>();
  private readonly negated = new Map<BddNode, BddNode>();

  /** How many nodes exist, terminals included. */
  get size(): number {
    return this.vars.length;
  }

  variable(name: string): BddNode {
    return this.node(name, FALSE, TRUE);
  }

  not(a: BddNode): BddNode {
    if (a === FALSE) return TRUE;
    if (a === TRUE) return FALSE;
    let out = this.negated.get(a);
    if (out === undefined) {
      out = this.node(this.vars[a] as string, this.not(this.lows[a] as BddNode), this.not(this.highs[a] as BddNode));
      this.negated.set(a, out);
    }
    return out;
  }

  and(a: BddNode, b: BddNode): BddNode {
    return this.apply('and', a, b);
  }

  or(a: BddNode, b: BddNode): BddNode {
    return this.apply('or', a, b);
  }

  xor(a: BddNode, b: BddNode): BddNode {
    return this.apply('xor', a, b);
  }

  /** The diagram of a conditional expression of the policy language (checkpolicy's cond_expr). */
  fromExpr(expr: BoolExpr): BddNode {
    switch (expr.op) {
      case 'var': return this.variable(expr.name.name);
      case 'not': return this.not(this.fromExpr(expr.operand));
      case '&&': return this.and(this.fromExpr(expr.left), this.fromExpr(expr.right));
      case '||': return this.or(this.fromExpr(expr.left), this.fromExpr(expr.right));
      case '^':
      case '!=': return this.xor(this.fromExpr(expr.left), this.fromExpr(expr.right));
      case '==': return this.not(this.xor(this.fromExpr(expr.left), this.fromExpr(expr.right)));
    }
  }

  /**
   * An assignment under which `a` is true, naming only the variables on one path to TRUE
   * (the others do not matter); undefined when `a` is FALSE. The path takes the false
   * branch whenever it can still reach TRUE, so the answer is deterministic.
   */
  satisfying(a: BddNode): Record<string, boolean> | undefined {
    if (a === FALSE) return undefined;
    const out: Record<string, boolean> = {};
    let n = a;
    while (n !== TRUE) {
      const low = this.lows[n] as BddNode;
      const goLow = low !== FALSE;
      out[this.vars[n] as string] = !goLow;
      n = goLow ? low : (this.highs[n] as BddNode);
    }
    return out;
  }

  /** The value of `a` under an assignment (unnamed variables are false). */
  evaluate(a: BddNode, value: (name: string) => boolean): boolean {
    let n = a;
    while (n !== TRUE && n !== FALSE) n = value(this.vars[n] as string) ? (this.highs[n] as BddNode) : (this.lows[n] as BddNode);
    return n === TRUE;
  }

  /** The unique node for (variable, low, high); a test on which nothing depends is no node. */
  private node(name: string, low: BddNode, high: BddNode): BddNode {
    if (low === high) return low;
    const key = `${name}\u0000${low}\u0000${high}`;
    let n = this.unique.get(key);
    if (n === undefined) {
      n = this.vars.length;
      this.vars.push(name);
      this.lows.push(low);
      this.highs.push(high);
      this.unique.set(key, n);
    }
    return n;
  }

  private terminalCase(op: BinaryOp, a: BddNode, b: BddNode): BddNode | undefined {
    switch (op) {
      case 'and':
        if (a === FALSE || b === FALSE) return FALSE;
        if (a === TRUE || a === b) return b;
        if (b === TRUE) return a;
        return undefined;
      case 'or':
        if (a === TRUE || b === TRUE) return TRUE;
        if (a === FALSE || a === b) return b;
        if (b === FALSE) return a;
        return undefined;
      case 'xor':
        if (a === b) return FALSE;
        if (a === FALSE) return b;
        if (b === FALSE) return a;
        if (a === TRUE) return this.not(b);
        if (b === TRUE) return this.not(a);
        return undefined;
    }
  }

  /** Shannon expansion on the first variable of either operand, memoised per (op, a, b). */
  private apply(op: BinaryOp, a: BddNode, b: BddNode): BddNode {
    const done = this.terminalCase(op, a, b);
    if (done !== undefined) return done;
    // All three operators commute: one memo entry per unordered pair.
    const [x, y] = a < b ? [a, b] : [b, a];
    const key = `${op}\u0000${x}\u0000${y}`;
    const known = this.computed.get(key);
    if (known !== undefined) return known;
    const vx = this.vars[x] as string;
    const vy = this.vars[y] as string;
    const order = compareCodePoints(vx, vy);
    const top = order <= 0 ? vx : vy;
    const xLow = order <= 0 ? (this.lows[x] as BddNode) : x;
    const xHigh = order <= 0 ? (this.highs[x] as BddNode) : x;
    const yLow = order >= 0 ? (this.lows[y] as BddNode) : y;
    const yHigh = order >= 0 ? (this.highs[y] as BddNode) : y;
    const out = this.node(top, this.apply(op, xLow, yLow), this.apply(op, xHigh, yHigh));
    this.computed.set(key, out);
    return out;
  }
}
