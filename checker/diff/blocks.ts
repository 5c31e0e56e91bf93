// Interchangeable types. Two types that belong to exactly the same source and target sets
// of every rule on both sides (and agree on whatever else the decision reads of a type:
// constraint operands, permissive) get the same permissions: for any other types a, b,
// grants(x, a) = grants(y, a) and grants(a, x) = grants(a, y), and grants(x, x) =
// grants(y, y). So the diff decides one representative pair per pair of blocks — and
// once more for the diagonal (x, x), where `self` rules and `t1 == t2` apply — and the
// answer holds for every pair the two blocks make. 600 types in three attributes are a few
// blocks, not 360 000 pairs.

import type { USet } from './align.js';

/** A pair of blocks: `diagonal` is the pairs (x, x) of one block, otherwise s ≠ t. */
export interface BlockPair {
  readonly source: number;
  readonly target: number;
  readonly diagonal: boolean;
}

export class TypeBlocks {
  /** type (universe index) → its block */
  readonly blockOf: Int32Array;
  /** block → its types, ascending */
  readonly members: number[][] = [];
  private readonly inSet = new Map<number, number[]>();

  /** `feature`: what else tells types apart; equal strings for interchangeable types. */
  constructor(n: number, sets: Iterable<USet>, feature: (type: number) => string = () => '') {
    const memberOf: number[][] = Array.from({ length: n }, () => []);
    const seen = new Set<number>();
    for (const s of sets) {
      if (seen.has(s.id)) continue;
      seen.add(s.id);
      for (const t of s.set) if (t < n) memberOf[t]?.push(s.id);
    }
    this.blockOf = new Int32Array(n);
    const byKey = new Map<string, number>();
    for (let t = 0; t < n; t++) {
      const key = `${(memberOf[t] as number[]).join(',')}|${feature(t)}`;
      let b = byKey.get(key);
      if (b === undefined) {
        byKey.set(key, (b = this.members.length));
        this.members.push([]);
      }
      this.blockOf[t] = b;
      (this.members[b] as number[]).push(t);
    }
  }

  /** The blocks a set is made of (a set of the partition is a union of whole blocks). */
  blocksIn(u: USet): readonly number[] {
    let list = this.inSet.get(u.id);
    if (!list) {
      const found = new Set<number>();
      for (const t of u.set) if (t < this.blockOf.length) found.add(this.blockOf[t] as number);
      this.inSet.set(u.id, (list = [...found].sort((a, b) => a - b)));
    }
    return list;
  }

  /** A representative (subject, object) of the pair, or undefined when it holds no pair (a one-type block off the diagonal). */
  representative(p: BlockPair): [number, number] | undefined {
    const s = this.members[p.source] as number[];
    const t = this.members[p.target] as number[];
    if (p.diagonal) return [s[0] as number, s[0] as number];
    if (p.source !== p.target) return [s[0] as number, t[0] as number];
    return s.length > 1 ? [s[0] as number, s[1] as number] : undefined;
  }

  /** How many (subject, object) pairs the block pair stands for. */
  count(p: BlockPair): number {
    const s = (this.members[p.source] as number[]).length;
    if (p.diagonal) return s;
    if (p.source !== p.target) return s * (this.members[p.target] as number[]).length;
    return s * (s - 1);
  }

  /** Every (subject, object) of the pair, in universe order. */
  *pairs(p: BlockPair): Iterable<[number, number]> {
    const s = this.members[p.source] as number[];
    if (p.diagonal) {
      for (const x of s) yield [x, x];
      return;
    }
    for (const x of s) for (const y of this.members[p.target] as number[]) if (x !== y) yield [x, y];
  }
}
