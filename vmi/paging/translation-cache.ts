// A translation cache like the processor's TLB: virtual page number → physical page and the
// combined flags, direct-mapped over typed arrays so a hit costs one index and one compare.
// Only successful translations are cached (hardware never caches a not-present entry), and
// like a TLB it goes stale when page tables change: whoever changes them calls flush().

import { PAGE_SIZE } from '../memory/physical-memory.js';

const DEFAULT_ENTRIES = 1024;

export class TranslationCache {
  private readonly mask: number;
  /** The virtual page number held by each entry, -1 when empty. */
  private readonly pages: Float64Array;
  /**
   * Frame number of the 4 KiB page (within a large page: the 4 KiB piece the VA is in).
   * Numbers rather than addresses because the read path looks frames up by number.
   */
  private readonly pfns: Float64Array;
  private readonly flags: Uint16Array;
  /** The size of the page the translation came from (4 KiB, 2 MiB, 4 MiB or 1 GiB). */
  private readonly sizes: Float64Array;
  private readonly levels: Uint8Array;

  constructor(entries = DEFAULT_ENTRIES) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(1, entries)));
    this.mask = size - 1;
    this.pages = new Float64Array(size).fill(-1);
    this.pfns = new Float64Array(size);
    this.flags = new Uint16Array(size);
    this.sizes = new Float64Array(size);
    this.levels = new Uint8Array(size);
  }

  /** The entry index holding `page`, or -1. */
  find(page: number): number {
    const slot = page & this.mask;
    return this.pages[slot] === page ? slot : -1;
  }

  /** The physical address of the entry's 4 KiB page. */
  frameAt(slot: number): number {
    return (this.pfns[slot] as number) * PAGE_SIZE;
  }

  pfnAt(slot: number): number {
    return this.pfns[slot] as number;
  }

  flagsAt(slot: number): number {
    return this.flags[slot] as number;
  }

  pageSizeAt(slot: number): number {
    return this.sizes[slot] as number;
  }

  levelAt(slot: number): number {
    return this.levels[slot] as number;
  }

  /** `frame` is the physical address of the 4 KiB page. */
  insert(page: number, frame: number, flags: number, pageSize: number, level: number): void {
    this.insertPfn(page, Math.floor(frame / PAGE_SIZE), flags, pageSize, level);
  }

  insertPfn(page: number, pfn: number, flags: number, pageSize: number, level: number): void {
    const slot = page & this.mask;
    this.pages[slot] = page;
    this.pfns[slot] = pfn;
    this.flags[slot] = flags;
    this.sizes[slot] = pageSize;
    this.levels[slot] = level;
  }

  flush(): void {
    this.pages.fill(-1);
  }
}
