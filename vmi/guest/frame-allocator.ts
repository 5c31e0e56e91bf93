// Hands out guest-physical frames in a seeded random order, so that consecutive virtual pages
// land on scattered frames as they do in a guest that has been running for a while, which is
// what makes a page walk cost what it costs in practice (no locality to lean on).

import { PAGE_SIZE } from '../memory/physical-memory.js';
import type { RamRange } from '../memory/memory-image.js';
import { randomInt, type Random } from './prng.js';

export class FrameAllocator {
  /** The allocatable pfns of the layout, ascending, shared by every guest of that layout: never written. */
  private readonly frames: Int32Array;
  /**
   * The random order, drawn lazily (Fisher–Yates from the front): position i < decided holds
   * the pfn drawn for it; positions at or past `decided` hold what has not been drawn yet.
   * Only displaced positions are stored — a guest takes hundreds of its tens of thousands of
   * frames, and a self-test of thousands of targets boots a guest per session.
   */
  private readonly displaced = new Map<number, number>();
  private decided = 0;
  /** Per pfn: 1 when the layout lets it be allocated (shared by the layout's guests, never written). */
  private readonly allocatable: Uint8Array;
  /** The pfns handed out: hundreds, against a layout's tens of thousands of frames. */
  private readonly taken = new Set<number>();
  private next = 0;

  /** Frames wholly inside `ranges`, minus `reserved` physical ranges (the kernel image). */
  constructor(private readonly random: Random, ranges: readonly RamRange[], reserved: readonly RamRange[]) {
    ({ frames: this.frames, allocatable: this.allocatable } = layoutFrames(ranges, reserved));
  }

  /** The physical address of a fresh frame, or throws: a synthetic guest too small for its layout is a bug in the caller. */
  frame(): number {
    while (this.next < this.frames.length) {
      const pfn = this.orderAt(this.next++);
      if (this.isFree(pfn)) {
        this.taken.add(pfn);
        return pfn * PAGE_SIZE;
      }
    }
    throw new Error('synthetic guest: out of frames; give it more memory');
  }

  /** `count` physically contiguous fresh frames (a slab object larger than a page). */
  contiguous(count: number): number {
    for (let i = this.next; i < this.frames.length; i++) {
      const first = this.orderAt(i);
      let free = true;
      for (let k = 0; k < count && free; k++) free = this.isFree(first + k);
      if (free) {
        for (let k = 0; k < count; k++) this.taken.add(first + k);
        return first * PAGE_SIZE;
      }
    }
    throw new Error(`synthetic guest: no ${count} contiguous free frames`);
  }

  private isFree(pfn: number): boolean {
    return this.allocatable[pfn] === 1 && !this.taken.has(pfn);
  }

  /** The pfn at position i of the random order, drawing positions up to i first. */
  private orderAt(i: number): number {
    while (this.decided <= i) {
      const j = this.decided + randomInt(this.random, this.frames.length - this.decided);
      const drawn = this.valueAt(j);
      this.displaced.set(j, this.valueAt(this.decided));
      this.displaced.set(this.decided, drawn);
      this.decided++;
    }
    return this.valueAt(i);
  }

  private valueAt(i: number): number {
    return this.displaced.get(i) ?? (this.frames[i] as number);
  }
}

/**
 * The allocatable pfns of a layout, ascending, and the same as a flag per pfn, computed once
 * per layout: a self-test boots a guest per session, all of the same layout, and the scan
 * costs more than the draws.
 */
const layouts = new Map<string, { readonly frames: Int32Array; readonly allocatable: Uint8Array }>();

function layoutFrames(ranges: readonly RamRange[], reserved: readonly RamRange[]): { readonly frames: Int32Array; readonly allocatable: Uint8Array } {
  const key = JSON.stringify([ranges, reserved]);
  const known = layouts.get(key);
  if (known) return known;
  const list: number[] = [];
  for (const r of ranges) {
    for (let pfn = Math.ceil(r.start / PAGE_SIZE); (pfn + 1) * PAGE_SIZE <= r.end; pfn++) {
      const at = pfn * PAGE_SIZE;
      // Frame 0 stays free: a zero pointer must never look like a valid table.
      if (pfn !== 0 && !reserved.some((x) => at < x.end && at + PAGE_SIZE > x.start)) list.push(pfn);
    }
  }
  const frames = Int32Array.from(list);
  const allocatable = new Uint8Array(Math.ceil(Math.max(0, ...ranges.map((r) => r.end)) / PAGE_SIZE));
  for (const pfn of frames) allocatable[pfn] = 1;
  const made = { frames, allocatable };
  if (layouts.size >= 16) layouts.clear();
  layouts.set(key, made);
  return made;
}
