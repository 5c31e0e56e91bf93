// A small set-associative cache of 4 KiB frames read from a file, so that page walks over a
// snapshot of many GiB touch the disk once per frame, not once per table entry, and never
// hold the whole file in memory.
//
// Why set-associative rather than a Map: a lookup is a masked index and four number
// comparisons, with no allocation and no hashing; a page walk makes five lookups per page.
// Why four ways: the frames a walk touches are scattered, and with one way two hot frames
// that share a set would evict each other on every page (a direct-mapped cache of 4096
// frames loses ~10% of 500 scattered frames to such conflicts; four ways lose none).

import { FRAME_WORDS, PAGE_SIZE } from './physical-memory.js';

const WAYS = 4;
/** 4096 frames = 16 MiB: enough for the tables and data of thousands of pages. */
export const DEFAULT_CACHE_FRAMES = 4096;

/** Fills `target` (PAGE_SIZE bytes) with frame `pfn`; false when the frame is not wholly available. */
export type FrameLoader = (pfn: number, target: Uint8Array) => boolean;

export class FrameCache {
  private readonly setMask: number;
  /** The pfn held by each slot, -1 when empty. Doubles: pfns reach 2^40. */
  private readonly tags: Float64Array;
  /** One byte view per slot over one backing buffer, created once: a hit allocates nothing. */
  private readonly views: Uint8Array[];
  /**
   * The same slots as 32-bit words, also created once. Why: the page walker reads entries as
   * two aligned u32 loads from these (see PhysicalMemory.frameWords) instead of eight byte loads.
   */
  private readonly wordViews: Uint32Array[];
  /** Per set, the way to evict next (round robin: cheap, and fair for scattered access). */
  private readonly victim: Uint8Array;

  constructor(private readonly load: FrameLoader, frames = DEFAULT_CACHE_FRAMES) {
    const sets = Math.max(1, 2 ** Math.floor(Math.log2(Math.max(WAYS, frames) / WAYS)));
    const slots = sets * WAYS;
    this.setMask = sets - 1;
    this.tags = new Float64Array(slots).fill(-1);
    this.victim = new Uint8Array(sets);
    // One ArrayBuffer for every slot, so byte and word views of a slot alias the same memory
    // (and are 4-byte aligned, which a Uint32Array needs).
    const backing = new ArrayBuffer(slots * PAGE_SIZE);
    this.views = Array.from({ length: slots }, (_, slot) => new Uint8Array(backing, slot * PAGE_SIZE, PAGE_SIZE));
    this.wordViews = Array.from({ length: slots }, (_, slot) => new Uint32Array(backing, slot * PAGE_SIZE, FRAME_WORDS));
  }

  /** The frame's bytes (a view valid until this slot is reused), or undefined when it cannot be loaded. */
  get(pfn: number): Uint8Array | undefined {
    const slot = this.slotOf(pfn);
    return slot < 0 ? undefined : this.views[slot];
  }

  /** The frame's 32-bit words in host byte order (same lifetime as get's view), or undefined when it cannot be loaded. */
  words(pfn: number): Uint32Array | undefined {
    const slot = this.slotOf(pfn);
    return slot < 0 ? undefined : this.wordViews[slot];
  }

  /** The slot holding `pfn`, loading it on a miss; -1 when it cannot be loaded. */
  private slotOf(pfn: number): number {
    // pfn can exceed 2^31: `&` still works, as ToInt32 keeps the low 32 bits of any integer.
    const base = (pfn & this.setMask) * WAYS;
    const tags = this.tags;
    if (tags[base] === pfn) return base;
    if (tags[base + 1] === pfn) return base + 1;
    if (tags[base + 2] === pfn) return base + 2;
    if (tags[base + 3] === pfn) return base + 3;
    return this.fill(pfn, base);
  }

  private fill(pfn: number, base: number): number {
    const set = base / WAYS;
    const way = this.victim[set] as number;
    const slot = base + way;
    this.tags[slot] = -1;
    if (!this.load(pfn, this.views[slot] as Uint8Array)) return -1;
    this.tags[slot] = pfn;
    this.victim[set] = (way + 1) % WAYS;
    return slot;
  }

  /** Forget every frame (used after close, so stale views are never served). */
  clear(): void {
    this.tags.fill(-1);
  }
}
