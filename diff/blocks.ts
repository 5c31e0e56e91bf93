// Interchangeable types. Two types that belong to exactly the same source sets of every
// rule of a class on both sides (and agree on whatever else the decision reads of a type:
// constraint operands, permissive) get the same permissions as subjects; the same for
// target sets and objects. So for a source block A and a target block B, every pair
// (s, t) in A × B with s ≠ t is granted alike, and every (x, x) with x in both is granted
// alike — there `self` rules and `t1 == t2` apply. The diff decides one representative
// per block pair and diagonal, and the answer holds for all of them: 600 types in three
// attributes are a few blocks, not 360 000 pairs, and a host's per-type target rules
// split the targets only.

import type { URule, USet } from './align.js';

/** A source block and a target block: `diagonal` is their pairs (x, x), otherwise s ≠ t. */
export interface BlockPair {
  readonly source: number;
  readonly target: number;
  readonly diagonal: boolean;
}

/** Types grouped by their membership in some sets (and a feature). */
class Partition {
  /** type (universe index) → its block */
  readonly blockOf: Int32Array;
  /** block → its types, ascending */
  readonly members: number[][] = [];
  private readonly inSet = new Map<number, number[]>();

  constructor(n: number, sets: Iterable<USet>, feature: (type: number) => string) {
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

  /** The blocks a set is made of (a set the partition was made from is a union of whole blocks). */
  blocksIn(u: USet): readonly number[] {
    let list = this.inSet.get(u.id);
    if (!list) {
      const found = new Set<number>();
      for (const t of u.set) if (t < this.blockOf.length) found.add(this.blockOf[t] as number);
      this.inSet.set(u.id, (list = [...found].sort((a, b) => a - b)));
    }
    return list;
  }
}

export class TypeBlocks {
  readonly source: Partition;
  readonly target: Partition;

  /** `rules`: one class's rules of both sides; `feature`: what else tells types apart. */
  constructor(n: number, rules: readonly URule[], feature: (type: number) => string = () => '') {
    this.source = new Partition(n, rules.map((r) => r.sources), feature);
    this.target = new Partition(n, rules.map((r) => r.targets), feature);
  }

  /** The types in both blocks of the pair (the diagonal's). */
  overlap(p: BlockPair): number[] {
    const a = this.source.members[p.source] as number[];
    const b = this.target.members[p.target] as number[];
    return a.length <= b.length ? a.filter((x) => this.target.blockOf[x] === p.target) : b.filter((x) => this.source.blockOf[x] === p.source);
  }

  /** The target blocks the members of a source block fall in: where its diagonal pairs are. */
  diagonalTargets(source: number): number[] {
    return [...new Set((this.source.members[source] as number[]).map((x) => this.target.blockOf[x] as number))].sort((a, b) => a - b);
  }

  /** A representative (subject, object) of the pair, or undefined when it holds no pair. */
  representative(p: BlockPair): [number, number] | undefined {
    if (p.diagonal) {
      const x = this.overlap(p)[0];
      return x === undefined ? undefined : [x, x];
    }
    const a = this.source.members[p.source] as number[];
    const b = this.target.members[p.target] as number[];
    for (const s of a.slice(0, 2)) for (const t of b.slice(0, 2)) if (s !== t) return [s, t];
    return undefined;
  }

  /** How many (subject, object) pairs the block pair stands for. */
  count(p: BlockPair): number {
    const shared = this.overlap(p).length;
    if (p.diagonal) return shared;
    return (this.source.members[p.source] as number[]).length * (this.target.members[p.target] as number[]).length - shared;
  }

  /** Every (subject, object) of the pair, in universe order. */
  *pairs(p: BlockPair): Iterable<[number, number]> {
    if (p.diagonal) {
      for (const x of this.overlap(p)) yield [x, x];
      return;
    }
    for (const s of this.source.members[p.source] as number[]) for (const t of this.target.members[p.target] as number[]) if (s !== t) yield [s, t];
  }
}
