// Guest RAM held in this process: a sparse map of 4 KiB frames inside declared RAM ranges.
// Frames never written read as zero (fresh RAM); addresses outside every range (the holes a
// PC has below 1 MiB and under 4 GiB) read as out of the source, as they would in an ELF core.

import { PAGE_SIZE, readThroughFrames, type PhysicalMemory, type ReadStatus } from './physical-memory.js';

export interface RamRange {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

const ZERO_FRAME = new Uint8Array(PAGE_SIZE);
const ZERO_WORDS = new Uint32Array(ZERO_FRAME.buffer);

interface Frame {
  readonly bytes: Uint8Array;
  /** A word view of the same bytes, made with them, so frameWords never allocates. */
  readonly words: Uint32Array;
}

/**
 * Frames given back by discarded images, handed out again (zeroed) before new ones are made.
 * A self-test boots and discards a guest of a hundred frames per target: on a host of 10 000
 * targets, without reuse, a million short-lived buffers for the collector to trace. Bounded,
 * so one large discarded image does not keep its memory for the life of the process.
 */
const spareFrames: Frame[] = [];
const SPARE_FRAMES_KEPT = 4096;

function freshFrame(): Frame {
  const spare = spareFrames.pop();
  if (spare) {
    spare.words.fill(0);
    return spare;
  }
  const bytes = new Uint8Array(PAGE_SIZE);
  return { bytes, words: new Uint32Array(bytes.buffer) };
}

export class MemoryImage implements PhysicalMemory {
  readonly name = 'in-memory image';
  readonly end: number;
  readonly ranges: readonly RamRange[];
  private readonly frames = new Map<number, Frame>();
  private readonly partial = (address: number, target: Uint8Array, offset: number, length: number): number => this.readPartial(address, target, offset, length);

  /** RAM from 0 to `size`, or the given ranges (sorted, non-overlapping; need not be frame-aligned). */
  constructor(size: number, ranges?: readonly RamRange[]) {
    this.ranges = [...(ranges ?? [{ start: 0, end: size }])].sort((a, b) => a.start - b.start);
    this.end = Math.max(size, ...this.ranges.map((r) => r.end));
  }

  /** The index of the RAM range holding [address, address + length), or -1. */
  private rangeHolding(address: number, length: number): number {
    return this.ranges.findIndex((r) => address >= r.start && address + length <= r.end);
  }

  isRam(address: number, length = 1): boolean {
    return this.rangeHolding(address, length) >= 0;
  }

  frame(pfn: number): Uint8Array | undefined {
    const bytes = this.frames.get(pfn)?.bytes;
    if (bytes) return bytes;
    return this.rangeHolding(pfn * PAGE_SIZE, PAGE_SIZE) >= 0 ? ZERO_FRAME : undefined;
  }

  frameWords(pfn: number): Uint32Array | undefined {
    const words = this.frames.get(pfn)?.words;
    if (words) return words;
    return this.rangeHolding(pfn * PAGE_SIZE, PAGE_SIZE) >= 0 ? ZERO_WORDS : undefined;
  }

  /** Frames that have been written, in pfn order (what a snapshot writer must store). */
  writtenFrames(): number[] {
    return [...this.frames.keys()].sort((a, b) => a - b);
  }

  private readPartial(address: number, target: Uint8Array, offset: number, length: number): number {
    let done = 0;
    while (done < length && this.isRam(address + done)) {
      const at = address + done;
      const bytes = this.frames.get(Math.floor(at / PAGE_SIZE))?.bytes;
      target[offset + done] = bytes ? (bytes[at % PAGE_SIZE] as number) : 0;
      done++;
    }
    return done;
  }

  readInto(address: number, target: Uint8Array, targetOffset: number, length: number): ReadStatus {
    return readThroughFrames(this, this.partial, address, target, targetOffset, length);
  }

  /** Writes bytes into RAM; false (and nothing written) when any byte falls outside the RAM ranges. */
  write(address: number, bytes: Uint8Array): boolean {
    for (let i = 0; i < bytes.length; ) {
      const at = address + i;
      const chunk = Math.min(PAGE_SIZE - (at % PAGE_SIZE), bytes.length - i);
      if (!this.isRam(at, chunk)) return false;
      i += chunk;
    }
    for (let i = 0; i < bytes.length; ) {
      const at = address + i;
      const pfn = Math.floor(at / PAGE_SIZE);
      const chunk = Math.min(PAGE_SIZE - (at % PAGE_SIZE), bytes.length - i);
      this.writableFrame(pfn).bytes.set(bytes.subarray(i, i + chunk), at % PAGE_SIZE);
      i += chunk;
    }
    return true;
  }

  /** The frame's bytes, made (zero) on first write. */
  private writableFrame(pfn: number): Frame {
    let frame = this.frames.get(pfn);
    if (!frame) this.frames.set(pfn, (frame = freshFrame()));
    return frame;
  }

  /** Writes a little-endian 64-bit value (a page-table entry, a pointer). */
  writeU64(address: number, value: bigint): boolean {
    // Aligned (every page-table entry and pointer the synthetic guest writes): two words
    // straight into the frame, without the byte buffer the general path needs.
    if (address % 8 === 0 && this.isRam(address, 8)) {
      const pfn = Math.floor(address / PAGE_SIZE);
      const { words } = this.writableFrame(pfn);
      const v = BigInt.asUintN(64, value);
      const at = (address % PAGE_SIZE) / 4;
      words[at] = Number(v & 0xffffffffn);
      words[at + 1] = Number(v >> 32n);
      return true;
    }
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    return this.write(address, bytes);
  }

  writeU32(address: number, value: number): boolean {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
    return this.write(address, bytes);
  }

  close(): void {
    // Nothing to release: the frames are ordinary garbage-collected memory.
  }

  /**
   * Gives the written frames back for other images to reuse and empties this one: it then
   * reads as fresh RAM. Only for an owner that holds no view of a frame past this call (the
   * self-test's guest pool, when a guest shuts down) — a kept view would see another image.
   */
  discard(): void {
    for (const frame of this.frames.values()) {
      if (spareFrames.length >= SPARE_FRAMES_KEPT) break;
      spareFrames.push(frame);
    }
    this.frames.clear();
  }
}
