// Hands out guest-physical frames in a seeded random order, so that consecutive virtual pages
// land on scattered frames as they do in a guest that has been running for a while, which is
// what makes a page walk cost what it costs in practice (no locality to lean on).

import { PAGE_SIZE } from '../memory/physical-memory.js';
import type { RamRange } from '../memory/memory-image.js';
import { shuffle, type Random } from './prng.js';

export class FrameAllocator {
  private readonly order: Int32Array;
  /** Per pfn: 1 allocatable and free, 2 taken; 0 not allocatable (a flag array: a guest has tens of thousands of frames). */
  private readonly state: Uint8Array;
  private next = 0;

  /** Frames wholly inside `ranges`, minus `reserved` physical ranges (the kernel image). */
  constructor(random: Random, ranges: readonly RamRange[], reserved: readonly RamRange[]) {
    const frames = allocatableFrames(ranges, reserved);
    const end = Math.max(0, ...ranges.map((r) => r.end));
    this.state = new Uint8Array(Math.ceil(end / PAGE_SIZE));
    for (const pfn of frames) this.state[pfn] = FREE;
    this.order = shuffle(random, frames.slice());
  }

  /** The physical address of a fresh frame, or throws: a synthetic guest too small for its layout is a bug in the caller. */
  frame(): number {
    while (this.next < this.order.length) {
      const pfn = this.order[this.next++] as number;
      if (this.state[pfn] === FREE) {
        this.state[pfn] = TAKEN;
        return pfn * PAGE_SIZE;
      }
    }
    throw new Error('synthetic guest: out of frames; give it more memory');
  }

  /** `count` physically contiguous fresh frames (a slab object larger than a page). */
  contiguous(count: number): number {
    for (let i = this.next; i < this.order.length; i++) {
      const first = this.order[i] as number;
      let free = true;
      for (let k = 0; k < count && free; k++) free = this.state[first + k] === FREE;
      if (free) {
        for (let k = 0; k < count; k++) this.state[first + k] = TAKEN;
        return first * PAGE_SIZE;
      }
    }
    throw new Error(`synthetic guest: no ${count} contiguous free frames`);
  }
}

const FREE = 1;
const TAKEN = 2;

/**
 * The allocatable pfns of a layout, ascending, computed once per layout: a self-test boots a
 * guest per target, all of the same layout, and the scan costs more than the shuffle.
 */
const layouts = new Map<string, Int32Array>();

function allocatableFrames(ranges: readonly RamRange[], reserved: readonly RamRange[]): Int32Array {
  const key = JSON.stringify([ranges, reserved]);
  const known = layouts.get(key);
  if (known) return known;
  const frames: number[] = [];
  for (const r of ranges) {
    for (let pfn = Math.ceil(r.start / PAGE_SIZE); (pfn + 1) * PAGE_SIZE <= r.end; pfn++) {
      const at = pfn * PAGE_SIZE;
      // Frame 0 stays free: a zero pointer must never look like a valid table.
      if (pfn !== 0 && !reserved.some((x) => at < x.end && at + PAGE_SIZE > x.start)) frames.push(pfn);
    }
  }
  const made = Int32Array.from(frames);
  if (layouts.size >= 16) layouts.clear();
  layouts.set(key, made);
  return made;
}
