// A small set-associative cache of 4 KiB frames read from a file, so that page walks over a
// snapshot of many GiB touch the disk once per frame, not once per table entry, and never
// hold the whole file in memory; and CachedFileMemory, the snapshot file read through it.
//
// Why set-associative rather than a Map: a lookup is a masked index and four number
// comparisons, with no allocation and no hashing; a page walk makes five lookups per page.
// Why four ways: the frames a walk touches are scattered, and with one way two hot frames
// that share a set would evict each other on every page (a direct-mapped cache of 4096
// frames loses ~10% of 500 scattered frames to such conflicts; four ways lose none).

import { closeSync } from 'node:fs';
import { FRAME_WORDS, PAGE_SIZE, readThroughFrames, type PartialRead, type PhysicalMemory, type ReadStatus } from './physical-memory.js';

const WAYS = 4;
/** 4096 frames = 16 MiB: enough for the tables and data of thousands of pages. */
export const DEFAULT_CACHE_FRAMES = 4096;

/** Fills `target` (PAGE_SIZE bytes) with frame `pfn`; false when the frame is not wholly available. */
type FrameLoader = (pfn: number, target: Uint8Array) => boolean;

class FrameCache {
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

/** Where a snapshot format keeps the guest-physical bytes in its file. */
export interface FileLayout {
  /** Fills `target` (PAGE_SIZE bytes) with frame `pfn` from the open file `fd`; false when the file does not hold all of it. */
  loadFrame(fd: number, pfn: number, target: Uint8Array): boolean;
  /** Copies what the file holds of `length` bytes at `address`; returns how many bytes that was. */
  readPartial(fd: number, address: number, target: Uint8Array, offset: number, length: number): number;
}

/**
 * A snapshot file read through a FrameCache: the descriptor, the cache and the PhysicalMemory
 * methods that raw snapshots and ELF cores share; the format is only its FileLayout. Why one
 * class for every format rather than a subclass each: the page walker's frameWords call site
 * then sees one object shape and one method, as it did with a class per format.
 */
export class CachedFileMemory implements PhysicalMemory {
  /** undefined once closed: loads and partial reads then find nothing. */
  private fd: number | undefined;
  private readonly cache: FrameCache;
  /** Made once, so readInto allocates no closure per call. */
  private readonly partial: PartialRead = (address, target, offset, length) =>
    this.fd === undefined ? 0 : this.layout.readPartial(this.fd, address, target, offset, length);

  constructor(readonly name: string, fd: number, readonly end: number, private readonly layout: FileLayout, cacheFrames: number) {
    this.fd = fd;
    this.cache = new FrameCache((pfn, target) => this.fd !== undefined && this.layout.loadFrame(this.fd, pfn, target), cacheFrames);
  }

  frame(pfn: number): Uint8Array | undefined {
    return this.cache.get(pfn);
  }

  frameWords(pfn: number): Uint32Array | undefined {
    return this.cache.words(pfn);
  }

  readInto(address: number, target: Uint8Array, targetOffset: number, length: number): ReadStatus {
    return readThroughFrames(this, this.partial, address, target, targetOffset, length);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.cache.clear();
  }
}
