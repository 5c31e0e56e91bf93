// A small set-associative cache of 4 KiB frames read from a file, so that page walks over a
// snapshot of many GiB touch the disk once per frame, not once per table entry, and never
// hold the whole file in memory.
//
// Why set-associative rather than a Map: a lookup is a masked index and four number
// comparisons, with no allocation and no hashing; a page walk makes five lookups per page.
// Why four ways: the frames a walk touches are scattered, and with one way two hot frames
// that share a set would evict each other on every page (a direct-mapped cache of 4096
// frames loses ~10% of 500 scattered frames to such conflicts; four ways lose none).

import { PAGE_SIZE } from './physical-memory.js';

const WAYS = 4;
/** 4096 frames = 16 MiB: enough for the tables and data of thousands of pages. */
export const DEFAULT_CACHE_FRAMES = 4096;

/** Fills `target` (PAGE_SIZE bytes) with frame `pfn`; false when the frame is not wholly available. */
export type FrameLoader = (pfn: number, target: Uint8Array) => boolean;

export class FrameCache {
  private readonly setMask: number;
  /** The pfn held by each slot, -1 when empty. Doubles: pfns reach 2^40. */
  private readonly tags: Float64Array;
  /** One view per slot over one backing buffer, created once. */
  private readonly views: Uint8Array[];
  /** Per set, the way to evict next (round robin: cheap, and fair for scattered access). */
  private readonly victim: Uint8Array;

  constructor(private readonly load: FrameLoader, frames = DEFAULT_CACHE_FRAMES) {
    const sets = Math.max(1, 2 ** Math.floor(Math.log2(Math.max(WAYS, frames) / WAYS)));
    this.setMask = sets - 1;
    this.tags = new Float64Array(sets * WAYS).fill(-1);
    this.victim = new Uint8Array(sets);
    const backing = new Uint8Array(sets * WAYS * PAGE_SIZE);
    this.views = Array.from({ length: sets * WAYS }, (_, slot) => backing.subarray(slot * PAGE_SIZE, (slot + 1) * PAGE_SIZE));
  }

  /** The frame's bytes (a view valid until this slot is reused), or undefined when it cannot be loaded. */
  get(pfn: number): Uint8Array | undefined {
    // pfn can exceed 2^31: `&` still works, as ToInt32 keeps the low 32 bits of any integer.
    const base = (pfn & this.setMask) * WAYS;
    const tags = this.tags;
    if (tags[base] === pfn) return this.views[base];
    if (tags[base + 1] === pfn) return this.views[base + 1];
    if (tags[base + 2] === pfn) return this.views[base + 2];
    if (tags[base + 3] === pfn) return this.views[base + 3];
    return this.fill(pfn, base);
  }

  private fill(pfn: number, base: number): Uint8Array | undefined {
    const set = base / WAYS;
    const way = this.victim[set] as number;
    const slot = base + way;
    const view = this.views[slot] as Uint8Array;
    this.tags[slot] = -1;
    if (!this.load(pfn, view)) return undefined;
    this.tags[slot] = pfn;
    this.victim[set] = (way + 1) % WAYS;
    return view;
  }

  /** Forget every frame (used after close, so stale views are never served). */
  clear(): void {
    this.tags.fill(-1);
  }
}
