// Writing a MemoryImage out as the two snapshot formats the VMI core reads: a raw file
// (physical address = file offset; RAM holes become zeros, since a raw file cannot express
// them) and an ELF64 core laid out as QEMU's dump-guest-memory does (a PT_NOTE, then one
// PT_LOAD per RAM range, page-aligned in the file). Both are written sparse: only frames
// that hold data are written, the rest is left to ftruncate's zeros.

import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { MemoryImage } from '../memory/memory-image.js';
import { PAGE_SIZE } from '../memory/physical-memory.js';

const EM_X86_64 = 62;
const PT_LOAD = 1;
const PT_NOTE = 4;
const PF_RWX = 7;

export function writeRawSnapshot(image: MemoryImage, path: string): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, image.end);
    for (const pfn of image.writtenFrames()) {
      const frame = image.frame(pfn);
      if (frame) writeSync(fd, frame, 0, PAGE_SIZE, pfn * PAGE_SIZE);
    }
  } finally {
    closeSync(fd);
  }
}

interface ElfLayout {
  /** Per RAM range: its physical start, size and file offset. */
  readonly segments: readonly { readonly physical: number; readonly size: number; readonly fileOffset: number }[];
  readonly fileSize: number;
}

/** Where each range's bytes go in the core: after the headers, each segment starting on a page. */
export function elfLayout(image: MemoryImage): ElfLayout {
  const headers = 64 + 56 * (image.ranges.length + 1);
  let offset = Math.ceil(headers / PAGE_SIZE) * PAGE_SIZE;
  const segments = image.ranges.map((r) => {
    const segment = { physical: r.start, size: r.end - r.start, fileOffset: offset };
    offset += Math.ceil(segment.size / PAGE_SIZE) * PAGE_SIZE;
    return segment;
  });
  return { segments, fileSize: offset };
}

export function writeElfCore(image: MemoryImage, path: string): void {
  const layout = elfLayout(image);
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, layout.fileSize);
    const header = elfHeaders(layout);
    writeSync(fd, header, 0, header.length, 0);
    for (const s of layout.segments) {
      // Page by page (the first and last may be partial when a range is not page-aligned).
      for (let at = s.physical; at < s.physical + s.size; at = at - (at % PAGE_SIZE) + PAGE_SIZE) {
        const chunk = Math.min(PAGE_SIZE - (at % PAGE_SIZE), s.physical + s.size - at);
        const bytes = new Uint8Array(chunk);
        image.readInto(at, bytes, 0, chunk);
        if (bytes.some((b) => b !== 0)) writeSync(fd, bytes, 0, chunk, s.fileOffset + (at - s.physical));
      }
    }
  } finally {
    closeSync(fd);
  }
}

function elfHeaders(layout: ElfLayout): Uint8Array {
  const count = layout.segments.length + 1;
  const bytes = new Uint8Array(64 + 56 * count);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT
  v.setUint16(16, 4, true); // ET_CORE
  v.setUint16(18, EM_X86_64, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(54, 56, true); // e_phentsize
  v.setUint16(56, count, true);
  // QEMU puts the CPU-state notes first; an empty PT_NOTE keeps that shape (readers skip it).
  v.setUint32(64, PT_NOTE, true);
  v.setBigUint64(64 + 8, BigInt(64 + 56 * count), true);
  layout.segments.forEach((s, i) => {
    const at = 64 + 56 * (i + 1);
    v.setUint32(at, PT_LOAD, true);
    v.setUint32(at + 4, PF_RWX, true);
    v.setBigUint64(at + 8, BigInt(s.fileOffset), true);
    v.setBigUint64(at + 16, 0n, true); // p_vaddr: QEMU writes 0 when paging is not used for the dump
    v.setBigUint64(at + 24, BigInt(s.physical), true);
    v.setBigUint64(at + 32, BigInt(s.size), true);
    v.setBigUint64(at + 40, BigInt(s.size), true);
    v.setBigUint64(at + 48, 0n, true);
  });
  return bytes;
}
