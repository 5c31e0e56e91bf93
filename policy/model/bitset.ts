// Fixed-size bitsets over interned indices (types, permissions). A rule's source and target
// sets stay bitsets — never expanded into pairs — so an attribute×attribute rule over
// 10 000 domain types costs two 1.25 KB sets, not 10⁸ entries.

export class BitSet {
  readonly words: Uint32Array;

  constructor(readonly size: number, words?: Uint32Array) {
    this.words = words ?? new Uint32Array(Math.ceil(size / 32));
  }

  static of(size: number, indices: Iterable<number>): BitSet {
    const b = new BitSet(size);
    for (const i of indices) b.add(i);
    return b;
  }

  add(i: number): void {
    (this.words as Uint32Array)[i >>> 5] = ((this.words[i >>> 5] ?? 0) | (1 << (i & 31))) >>> 0;
  }

  delete(i: number): void {
    this.words[i >>> 5] = ((this.words[i >>> 5] ?? 0) & ~(1 << (i & 31))) >>> 0;
  }

  has(i: number): boolean {
    return (((this.words[i >>> 5] ?? 0) >>> (i & 31)) & 1) === 1;
  }

  addAll(other: BitSet): void {
    for (let w = 0; w < this.words.length; w++) this.words[w] = ((this.words[w] ?? 0) | (other.words[w] ?? 0)) >>> 0;
  }

  removeAll(other: BitSet): void {
    for (let w = 0; w < this.words.length; w++) this.words[w] = ((this.words[w] ?? 0) & ~(other.words[w] ?? 0)) >>> 0;
  }

  /** Complement within [0, size). */
  complement(): BitSet {
    const out = new BitSet(this.size);
    for (let w = 0; w < this.words.length; w++) out.words[w] = ~(this.words[w] ?? 0) >>> 0;
    const extra = this.words.length * 32 - this.size;
    if (extra > 0 && out.words.length > 0) out.words[out.words.length - 1] = ((out.words[out.words.length - 1] ?? 0) & (0xffffffff >>> extra)) >>> 0;
    return out;
  }

  count(): number {
    let n = 0;
    const words = this.words;
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as number;
      if (w === 0) continue;
      let v = w - ((w >>> 1) & 0x55555555);
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      n += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    return n;
  }

  isEmpty(): boolean {
    return this.words.every((w) => w === 0);
  }

  /** Whether the two sets share an index. */
  intersects(other: BitSet): boolean {
    const n = Math.min(this.words.length, other.words.length);
    for (let w = 0; w < n; w++) if (((this.words[w] as number) & (other.words[w] as number)) !== 0) return true;
    return false;
  }

  /** The indices in the set, ascending. */
  indices(): number[] {
    const out: number[] = [];
    for (let w = 0; w < this.words.length; w++) {
      let v = this.words[w] ?? 0;
      while (v !== 0) {
        out.push(w * 32 + (31 - Math.clz32(v & -v)));
        v = (v & (v - 1)) >>> 0;
      }
    }
    return out;
  }

  // Over an array of the indices: the checker walks millions of small permission sets, and a
  // generator made an object per set and per index it yielded.
  [Symbol.iterator](): IterableIterator<number> {
    return this.indices()[Symbol.iterator]();
  }
}

/** Membership, size and iteration: what the model needs of a set of indices. */
export interface IndexSet extends Iterable<number> {
  has(i: number): boolean;
  count(): number;
}

/**
 * A few indices, sorted: most rules of a real host name one type, not thousands. Kept in a
 * plain array of small integers: a host has a million of these, and a typed array costs a
 * buffer object and an off-heap allocation each.
 */
export class SmallSet implements IndexSet {
  private readonly sorted: readonly number[];

  constructor(sorted: ArrayLike<number>) {
    this.sorted = Array.from(sorted);
  }

  static of(indices: Iterable<number>): SmallSet {
    return new SmallSet([...new Set(indices)].sort((a, b) => a - b));
  }

  has(i: number): boolean {
    let lo = 0;
    let hi = this.sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.sorted[mid] as number;
      if (v === i) return true;
      if (v < i) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  count(): number {
    return this.sorted.length;
  }

  [Symbol.iterator](): IterableIterator<number> {
    return this.sorted[Symbol.iterator]();
  }
}

const SMALL = 64;

/** The cheaper representation of the same set. */
export function compact(bits: BitSet): IndexSet {
  return bits.count() <= SMALL ? SmallSet.of(bits) : bits;
}

/** The cheaper representation of the set of `indices` (repeats allowed), each below `size`. */
export function indexSetOf(size: number, indices: readonly number[]): IndexSet {
  return indices.length <= SMALL ? SmallSet.of(indices) : compact(BitSet.of(size, indices));
}
