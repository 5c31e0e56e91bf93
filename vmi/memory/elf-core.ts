// An ELF64 core file as QEMU's `dump-guest-memory` (and `virsh dump --memory-only`) writes
// it: guest RAM in PT_LOAD segments whose p_paddr is the guest-physical address and
// p_offset where the bytes are in the file. Anything between segments (the PCI hole, the
// legacy VGA window, RAM that was not dumped) reads as out of the snapshot.

import { closeSync } from 'node:fs';
import { diagnostic } from '../../core/diagnostics.js';
import { CachedFileMemory, DEFAULT_CACHE_FRAMES, type FileLayout } from './frame-cache.js';
import { readAt } from './file-reader.js';
import { MAX_PHYSICAL_ADDRESS, PAGE_SIZE } from './physical-memory.js';
import { openReadOnly, type FileSourceOptions, type OpenResult } from './raw-snapshot.js';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ET_CORE = 4;
const PT_LOAD = 1;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
/** e_phnum value meaning "the real count is in section header 0's sh_info" (QEMU uses it past 65534 segments). */
const PN_XNUM = 0xffff;
const SHDR_SIZE = 64;
/**
 * The most program headers we read. QEMU's dump-guest-memory writes one PT_LOAD per guest RAM
 * mapping (a handful; PN_XNUM exists for the rare core past 65 534); 2^20 bounds what a
 * hostile count costs (segment records, not bytes of the file) while leaving 16× headroom.
 */
const MAX_PROGRAM_HEADERS = 1 << 20;
/** Program headers read per piece, so the table is never in memory whole. */
const HEADERS_PER_READ = 4096;

interface LoadSegment {
  readonly physical: number;
  readonly fileOffset: number;
  /** Bytes present in the file; p_memsz beyond p_filesz was not dumped and reads as out of snapshot. */
  readonly size: number;
}

type ElfParse = { readonly ok: true; readonly segments: readonly LoadSegment[] } | { readonly ok: false; readonly problem: string };

/** Reads `length` bytes at file offset `offset`, or fewer at end of file. */
type ByteReader = (offset: number, length: number) => Uint8Array;

export function isElfFile(head: Uint8Array): boolean {
  return ELF_MAGIC.every((b, i) => head[i] === b);
}

/** The PT_LOAD segments of an ELF64 little-endian core, sorted by physical address, or what is wrong with it. */
export function parseElfCore(read: ByteReader, fileSize: number): ElfParse {
  const header = read(0, EHDR_SIZE);
  if (header.length < EHDR_SIZE || !isElfFile(header)) return { ok: false, problem: 'no ELF header' };
  if (header[4] !== ELFCLASS64) return { ok: false, problem: 'not a 64-bit ELF file (QEMU writes ELF64 cores for x86-64 guests)' };
  if (header[5] !== ELFDATA2LSB) return { ok: false, problem: 'not little-endian (an x86 guest core is)' };
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (view.getUint16(16, true) !== ET_CORE) return { ok: false, problem: `ELF type ${view.getUint16(16, true)} is not a core file (ET_CORE)` };
  const phoff = u64(view, 32);
  const phentsize = view.getUint16(54, true);
  let phnum = view.getUint16(56, true);
  if (phoff === undefined) return { ok: false, problem: 'program header offset is beyond 2^53' };
  if (phentsize !== PHDR_SIZE) return { ok: false, problem: `program header entries are ${phentsize} bytes, not ${PHDR_SIZE}` };
  if (phnum === PN_XNUM) {
    const real = extendedSegmentCount(read, view, fileSize);
    if (typeof real === 'string') return { ok: false, problem: real };
    phnum = real;
  }
  // Every count and offset is checked against the file before anything is sized by it.
  if (phnum > MAX_PROGRAM_HEADERS) return { ok: false, problem: `${phnum} program headers; vmipolicy reads cores of at most ${MAX_PROGRAM_HEADERS}` };
  if (phoff > fileSize || phnum * PHDR_SIZE > fileSize - phoff) return { ok: false, problem: `the file ends inside the program headers (${phnum} at offset ${phoff}, file of ${fileSize} bytes)` };
  return collectSegments(read, phoff, phnum, fileSize);
}

/** ELF's extended numbering (gABI "Extended Program Header Numbering"): the count is section header 0's sh_info. */
function extendedSegmentCount(read: ByteReader, header: DataView, fileSize: number): number | string {
  const shoff = u64(header, 40);
  if (shoff === undefined || shoff === 0 || shoff > fileSize - SHDR_SIZE) return 'e_phnum is PN_XNUM but there is no section header 0 holding the real count';
  const section0 = read(shoff, SHDR_SIZE);
  if (section0.length < SHDR_SIZE) return 'e_phnum is PN_XNUM but there is no section header 0 holding the real count';
  return new DataView(section0.buffer, section0.byteOffset, SHDR_SIZE).getUint32(44, true);
}

function collectSegments(read: ByteReader, phoff: number, count: number, fileSize: number): ElfParse {
  const segments: LoadSegment[] = [];
  for (let first = 0; first < count; first += HEADERS_PER_READ) {
    const n = Math.min(HEADERS_PER_READ, count - first);
    const bytes = read(phoff + first * PHDR_SIZE, n * PHDR_SIZE);
    if (bytes.length < n * PHDR_SIZE) return { ok: false, problem: `the file ends inside the program headers (${count} at offset ${phoff})` };
    const table = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let k = 0; k < n; k++) {
      const i = first + k;
      const at = k * PHDR_SIZE;
      if (table.getUint32(at, true) !== PT_LOAD) continue;
      const fileOffset = u64(table, at + 8);
      const physical = u64(table, at + 24);
      const size = u64(table, at + 32);
      if (fileOffset === undefined || physical === undefined || size === undefined) return { ok: false, problem: `segment ${i} has a field beyond 2^53` };
      if (size === 0) continue;
      if (fileOffset + size > fileSize) return { ok: false, problem: `segment ${i} (physical 0x${physical.toString(16)}) ends at file offset ${fileOffset + size}, beyond the file's ${fileSize} bytes: the core is truncated` };
      if (physical + size > MAX_PHYSICAL_ADDRESS) return { ok: false, problem: `segment ${i} (physical 0x${physical.toString(16)}, ${size} bytes) ends beyond the 52-bit physical address space` };
      segments.push({ physical, fileOffset, size });
    }
  }
  segments.sort((a, b) => a.physical - b.physical);
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1] as LoadSegment;
    const cur = segments[i] as LoadSegment;
    if (prev.physical + prev.size > cur.physical) return { ok: false, problem: `segments at physical 0x${prev.physical.toString(16)} and 0x${cur.physical.toString(16)} overlap` };
  }
  if (segments.length === 0) return { ok: false, problem: 'no PT_LOAD segment: the core holds no memory' };
  return { ok: true, segments };
}

/** A little-endian u64 as a number, or undefined when it does not fit exactly. */
function u64(view: DataView, at: number): number | undefined {
  const hi = view.getUint32(at + 4, true);
  return hi >= 2 ** 21 ? undefined : hi * 2 ** 32 + view.getUint32(at, true);
}

export function openElfCore(path: string, options: FileSourceOptions = {}): OpenResult {
  const opened = openReadOnly(path);
  if (!opened.ok) return opened;
  const { fd, size } = opened;
  const read: ByteReader = (offset, length) => {
    const bytes = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
    return bytes.subarray(0, readAt(fd, bytes, 0, bytes.length, offset));
  };
  const parsed = parseElfCore(read, size);
  if (!parsed.ok) {
    closeSync(fd);
    return { ok: false, diagnostic: diagnostic('SnapshotMalformed', [path, parsed.problem]) };
  }
  const last = parsed.segments[parsed.segments.length - 1] as LoadSegment;
  return { ok: true, memory: new CachedFileMemory(path, fd, last.physical + last.size, new ElfLayout(parsed.segments), options.cacheFrames ?? DEFAULT_CACHE_FRAMES) };
}

/** The index of the segment holding `address`, or -1 (binary search: cores can have thousands of segments). */
function segmentIndexAt(segments: readonly LoadSegment[], address: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segments[mid] as LoadSegment;
    if (address < s.physical) hi = mid - 1;
    else if (address >= s.physical + s.size) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** An ELF core's layout: each PT_LOAD segment's bytes at its file offset; nothing between segments. */
class ElfLayout implements FileLayout {
  constructor(private readonly segments: readonly LoadSegment[]) {}

  /** A frame comes from the cache only when one segment holds all of it; frames on a segment edge take the byte path. */
  loadFrame(fd: number, pfn: number, target: Uint8Array): boolean {
    const at = pfn * PAGE_SIZE;
    const index = segmentIndexAt(this.segments, at);
    if (index < 0) return false;
    const s = this.segments[index] as LoadSegment;
    if (at + PAGE_SIZE > s.physical + s.size) return false;
    return readAt(fd, target, 0, PAGE_SIZE, s.fileOffset + (at - s.physical)) === PAGE_SIZE;
  }

  /** Copies across adjacent segments until a hole or `length`; returns the bytes copied. */
  readPartial(fd: number, address: number, target: Uint8Array, offset: number, length: number): number {
    let done = 0;
    while (done < length) {
      const index = segmentIndexAt(this.segments, address + done);
      if (index < 0) break;
      const s = this.segments[index] as LoadSegment;
      const inSegment = address + done - s.physical;
      const chunk = Math.min(length - done, s.size - inSegment);
      const got = readAt(fd, target, offset + done, chunk, s.fileOffset + inSegment);
      done += got;
      if (got < chunk) break;
    }
    return done;
  }
}
