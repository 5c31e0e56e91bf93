// Hands out guest-physical frames in a seeded random order, so that consecutive virtual pages
// land on scattered frames as they do in a guest that has been running for a while, which is
// what makes a page walk cost what it costs in practice (no locality to lean on).

import { PAGE_SIZE } from '../memory/physical-memory.js';
import type { RamRange } from '../memory/memory-image.js';
import { shuffle, type Random } from './prng.js';

export class FrameAllocator {
  private readonly order: number[];
  private readonly used = new Set<number>();
  private readonly allocatable: Set<number>;
  private next = 0;

  /** Frames wholly inside `ranges`, minus `reserved` physical ranges (the kernel image). */
  constructor(random: Random, ranges: readonly RamRange[], reserved: readonly RamRange[]) {
    const frames: number[] = [];
    for (const r of ranges) {
      for (let pfn = Math.ceil(r.start / PAGE_SIZE); (pfn + 1) * PAGE_SIZE <= r.end; pfn++) {
        const at = pfn * PAGE_SIZE;
        // Frame 0 stays free: a zero pointer must never look like a valid table.
        if (pfn !== 0 && !reserved.some((x) => at < x.end && at + PAGE_SIZE > x.start)) frames.push(pfn);
      }
    }
    this.allocatable = new Set(frames);
    this.order = shuffle(random, frames);
  }

  /** The physical address of a fresh frame, or throws: a synthetic guest too small for its layout is a bug in the caller. */
  frame(): number {
    while (this.next < this.order.length) {
      const pfn = this.order[this.next++] as number;
      if (!this.used.has(pfn)) {
        this.used.add(pfn);
        return pfn * PAGE_SIZE;
      }
    }
    throw new Error('synthetic guest: out of frames; give it more memory');
  }

  /** `count` physically contiguous fresh frames (a slab object larger than a page). */
  contiguous(count: number): number {
    for (let i = this.next; i < this.order.length; i++) {
      const first = this.order[i] as number;
      const run = Array.from({ length: count }, (_, k) => first + k);
      if (run.every((pfn) => !this.used.has(pfn) && this.allocatable.has(pfn))) {
        for (const pfn of run) this.used.add(pfn);
        return first * PAGE_SIZE;
      }
    }
    throw new Error(`synthetic guest: no ${count} contiguous free frames`);
  }
}
