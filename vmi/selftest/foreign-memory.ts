// Guest physical memory as an introspector sees it: each frame is foreign-mapped on first
// use (xen_read_page → xen_get_memory → xenforeignmemory_map of one gfn, as LibVMI's memory
// cache does) and kept; a frame whose mapping is refused reads as absent, so the page walker
// reports it as out of the memory source. Every mapping goes through the checked hypercall
// and is recorded, which is how a denied map_read shows up in the page walk that needed it.

import { PAGE_SIZE, readThroughFrames, type PhysicalMemory, type ReadStatus } from '../memory/physical-memory.js';
import { mapForeignFrame, type SimulatedHost } from '../host/host.js';
import type { Recorder } from './recorder.js';

export class ForeignMemory implements PhysicalMemory {
  readonly name: string;
  private readonly frames = new Map<number, Uint8Array>();
  private readonly partial = (): number => 0;

  constructor(
    private readonly sim: SimulatedHost,
    private readonly caller: number,
    private readonly domid: number,
    private readonly recorder: Recorder,
    /** One past the last guest-physical address (from XENMEM_maximum_gpfn). */
    readonly end: number,
  ) {
    this.name = `domain ${domid} mapped by domain ${caller}`;
  }

  /** The gfns mapped so far, in mapping order (for the unmaps an HVM/PVH caller issues). */
  mapped(): number[] {
    return [...this.frames.keys()];
  }

  frame(pfn: number): Uint8Array | undefined {
    const cached = this.frames.get(pfn);
    if (cached) return cached;
    if (this.recorder.failed || pfn * PAGE_SIZE >= this.end) return undefined;
    const r = mapForeignFrame(this.sim, this.caller, this.domid, pfn, 'read');
    if (!this.recorder.call(r)) return undefined;
    const bytes = new Uint8Array(PAGE_SIZE);
    if (!r.value?.readInto(bytes)) return undefined;
    this.frames.set(pfn, bytes);
    return bytes;
  }

  readInto(address: number, target: Uint8Array, targetOffset: number, length: number): ReadStatus {
    return readThroughFrames(this, this.partial, address, target, targetOffset, length);
  }

  close(): void {
    this.frames.clear();
  }
}
