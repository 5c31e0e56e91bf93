// Writing a MemoryImage out as the snapshot formats the VMI core reads: a raw file
// (physical address = file offset; RAM holes become zeros, since a raw file cannot express
// them), an ELF64 core laid out as QEMU's dump-guest-memory does (a PT_NOTE, then one
// PT_LOAD per RAM range, page-aligned in the file), and a kdump-compressed file as
// `dump-guest-memory -z` writes it (vmi/memory/kdump.ts describes the layout), flattened or
// not. Raw and ELF are written sparse: only frames that hold data are written, the rest is
// left to ftruncate's zeros. Given a vCPU's control registers, the ELF and kdump files carry
// QEMU's CPU state note with them (vmi/memory/dump-notes.ts).

import { closeSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import type { MemoryImage } from '../memory/memory-image.js';
import { PAGE_SIZE } from '../memory/physical-memory.js';
import { QEMU_CPU_CR_OFFSET, QEMU_CPU_STATE_BYTES, type CpuState } from '../memory/dump-notes.js';

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
export function elfLayout(image: MemoryImage, cpus = 0): ElfLayout {
  const headers = 64 + 56 * (image.ranges.length + 1) + cpus * (20 + QEMU_CPU_STATE_BYTES);
  let offset = Math.ceil(headers / PAGE_SIZE) * PAGE_SIZE;
  const segments = image.ranges.map((r) => {
    const segment = { physical: r.start, size: r.end - r.start, fileOffset: offset };
    offset += Math.ceil(segment.size / PAGE_SIZE) * PAGE_SIZE;
    return segment;
  });
  return { segments, fileSize: offset };
}

/** What QEMU's CPU state note records of a vCPU, as far as a dump reader uses it. */
type DumpCpu = Pick<CpuState, 'cr0' | 'cr3' | 'cr4'>;

/** One "QEMU" note of type 0 per vCPU: namesz, descsz, type, "QEMU\0" padded to 8, the state. */
function qemuCpuNotes(cpus: readonly DumpCpu[]): Uint8Array {
  const one = 12 + 8 + QEMU_CPU_STATE_BYTES;
  const bytes = new Uint8Array(one * cpus.length);
  const v = new DataView(bytes.buffer);
  cpus.forEach((cpu, i) => {
    const at = i * one;
    v.setUint32(at, 5, true);
    v.setUint32(at + 4, QEMU_CPU_STATE_BYTES, true);
    v.setUint32(at + 8, 0, true);
    bytes.set([0x51, 0x45, 0x4d, 0x55, 0], at + 12);
    const state = at + 20;
    v.setUint32(state, 1, true);
    v.setUint32(state + 4, QEMU_CPU_STATE_BYTES, true);
    v.setBigUint64(state + QEMU_CPU_CR_OFFSET, cpu.cr0, true);
    v.setBigUint64(state + QEMU_CPU_CR_OFFSET + 24, cpu.cr3, true);
    v.setBigUint64(state + QEMU_CPU_CR_OFFSET + 32, cpu.cr4, true);
  });
  return bytes;
}

export function writeElfCore(image: MemoryImage, path: string, cpus: readonly DumpCpu[] = []): void {
  const layout = elfLayout(image, cpus.length);
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, layout.fileSize);
    const header = elfHeaders(layout, cpus.length * (20 + QEMU_CPU_STATE_BYTES));
    writeSync(fd, header, 0, header.length, 0);
    const notes = qemuCpuNotes(cpus);
    writeSync(fd, notes, 0, notes.length, header.length);
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

function elfHeaders(layout: ElfLayout, notesSize = 0): Uint8Array {
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
  v.setBigUint64(64 + 32, BigInt(notesSize), true);
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

const KDUMP_BLOCK = PAGE_SIZE;
const KDUMP_HEADER64_BYTES = 464;
const KDUMP_SUBHEADER64_BYTES = 104;
const KDUMP_DESCRIPTOR_BYTES = 24;

/**
 * A kdump-compressed file of the image, as `dump-guest-memory -z` lays it out (header
 * version 6, DiskDumpHeader64, every RAM page in the bitmaps, all-zero pages sharing one
 * stored zero page, other pages zlib-compressed unless that does not make them smaller).
 * `flattened`: wrapped in makedumpfile's flattened stream, its records in `order` (default:
 * file order) and split every `recordBytes`.
 */
export function kdumpBytes(image: MemoryImage, options: { readonly cpus?: readonly DumpCpu[]; readonly flattened?: boolean; readonly recordBytes?: number; readonly order?: (records: number) => readonly number[]; readonly status?: number } = {}): Uint8Array {
  const maxMapnr = Math.ceil(image.end / PAGE_SIZE);
  const notes = qemuCpuNotes(options.cpus ?? []);
  const subBlocks = Math.ceil((KDUMP_SUBHEADER64_BYTES + notes.length) / KDUMP_BLOCK);
  const bitmapBytes = Math.ceil(maxMapnr / 8 / KDUMP_BLOCK) * KDUMP_BLOCK;
  const bitmapBlocks = (bitmapBytes / KDUMP_BLOCK) * 2;
  const bitmap = new Uint8Array(bitmapBytes);
  const pfns: number[] = [];
  for (let pfn = 0; pfn < maxMapnr; pfn++) {
    if (!image.isRam(pfn * PAGE_SIZE, PAGE_SIZE)) continue;
    bitmap[pfn >> 3] = (bitmap[pfn >> 3] as number) | (1 << (pfn & 7));
    pfns.push(pfn);
  }
  const descriptorsAt = (1 + subBlocks + bitmapBlocks) * KDUMP_BLOCK;
  const descriptors = new Uint8Array(pfns.length * KDUMP_DESCRIPTOR_BYTES);
  const dv = new DataView(descriptors.buffer);
  const data: Uint8Array[] = [new Uint8Array(PAGE_SIZE)];
  const zeroAt = descriptorsAt + descriptors.length;
  let dataAt = zeroAt + PAGE_SIZE;
  pfns.forEach((pfn, i) => {
    const page = image.frame(pfn) as Uint8Array;
    const at = i * KDUMP_DESCRIPTOR_BYTES;
    if (page.every((b) => b === 0)) {
      dv.setBigUint64(at, BigInt(zeroAt), true);
      dv.setUint32(at + 8, PAGE_SIZE, true);
      return;
    }
    const packed = deflateSync(page, { level: 1 });
    const stored = packed.length < PAGE_SIZE ? packed : page.slice();
    dv.setBigUint64(at, BigInt(dataAt), true);
    dv.setUint32(at + 8, stored.length, true);
    dv.setUint32(at + 12, stored === packed ? 1 : 0, true);
    data.push(stored);
    dataAt += stored.length;
  });
  const file = new Uint8Array(dataAt);
  const hv = new DataView(file.buffer);
  file.set([...'KDUMP   '].map((c) => c.charCodeAt(0)), 0);
  hv.setUint32(8, 6, true);
  file.set([...'x86_64'].map((c) => c.charCodeAt(0)), 12 + 65 * 4);
  hv.setUint32(424, options.status ?? 1, true);
  hv.setUint32(428, KDUMP_BLOCK, true);
  hv.setUint32(432, subBlocks, true);
  hv.setUint32(436, bitmapBlocks, true);
  hv.setUint32(440, maxMapnr, true);
  hv.setUint32(460, Math.max(1, options.cpus?.length ?? 1), true);
  const sub = KDUMP_BLOCK;
  hv.setUint32(sub + 8, 1, true); // dump_level
  hv.setBigUint64(sub + 48, BigInt(sub + KDUMP_SUBHEADER64_BYTES), true); // offset_note
  hv.setBigUint64(sub + 56, BigInt(notes.length), true); // note_size
  hv.setBigUint64(sub + 96, BigInt(maxMapnr), true); // max_mapnr_64
  file.set(notes, sub + KDUMP_SUBHEADER64_BYTES);
  const bitmapAt = (1 + subBlocks) * KDUMP_BLOCK;
  file.set(bitmap, bitmapAt);
  file.set(bitmap, bitmapAt + bitmapBytes);
  file.set(descriptors, descriptorsAt);
  let at = zeroAt;
  for (const d of data) {
    file.set(d, at);
    at += d.length;
  }
  return options.flattened ? flattened(file, options.recordBytes ?? 4 * PAGE_SIZE, options.order) : file;
}

/** makedumpfile's flattened stream of a file: a 4 KiB header, records (big-endian offset, size, bytes), the end marker. Runs of zeros are not written. */
function flattened(file: Uint8Array, recordBytes: number, order?: (records: number) => readonly number[]): Uint8Array {
  const pieces: { offset: number; bytes: Uint8Array }[] = [];
  for (let at = 0; at < file.length; at += recordBytes) {
    const bytes = file.subarray(at, Math.min(file.length, at + recordBytes));
    if (bytes.some((b) => b !== 0)) pieces.push({ offset: at, bytes });
  }
  const picked = order ? order(pieces.length).map((i) => pieces[i] as { offset: number; bytes: Uint8Array }) : pieces;
  const total = 4096 + picked.reduce((n, p) => n + 16 + p.bytes.length, 0) + 16;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([...'makedumpfile'].map((c) => c.charCodeAt(0)), 0);
  v.setBigInt64(16, 1n, false);
  v.setBigInt64(24, 1n, false);
  let at = 4096;
  for (const p of picked) {
    v.setBigInt64(at, BigInt(p.offset), false);
    v.setBigInt64(at + 8, BigInt(p.bytes.length), false);
    out.set(p.bytes, at + 16);
    at += 16 + p.bytes.length;
  }
  v.setBigInt64(at, -1n, false);
  v.setBigInt64(at + 8, -1n, false);
  return out;
}

export function writeKdump(image: MemoryImage, path: string, options: Parameters<typeof kdumpBytes>[1] = {}): void {
  writeFileSync(path, kdumpBytes(image, options));
}
