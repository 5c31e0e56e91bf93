// An ELF core file as QEMU's `dump-guest-memory` (and `virsh dump --memory-only`) writes
// it: guest RAM in PT_LOAD segments whose p_paddr is the guest-physical address and
// p_offset where the bytes are in the file. Anything between segments (the PCI hole, the
// legacy VGA window, RAM that was not dumped) reads as out of the snapshot.
// QEMU writes ELF64 for a guest in long mode, and for any PC guest whose memory map reaches
// 4 GiB (target/i386/arch_dump.c cpu_get_dump_info: the BIOS ROM block ends there), so 32-bit
// guests come as ELF64 too; ELF32 otherwise. The class says nothing of the CPU's mode: the
// vCPU notes do (dump-notes.ts).
// With `-p` (paging) QEMU writes one PT_LOAD per virtual mapping (p_vaddr), so one
// physical range appears in several segments, each pointing at the same bytes of the file:
// the physical view keeps each address once, from the first segment that holds it.
// PT_NOTE holds each vCPU's state (dump-notes.ts).

import { closeSync } from 'node:fs';
import { diagnostic } from '../../core/diagnostics.js';
import { CachedFileMemory, DEFAULT_CACHE_FRAMES, type FileLayout } from './frame-cache.js';
import { readAt } from './file-reader.js';
import { MAX_PHYSICAL_ADDRESS, PAGE_SIZE } from './physical-memory.js';
import { openReadOnly, type FileSourceOptions, type OpenResult } from './raw-snapshot.js';
import { cpuStates, parseNotes, type CpuState } from './dump-notes.js';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ET_CORE = 4;
const PT_LOAD = 1;
const PT_NOTE = 4;
const EHDR_SIZE = 64;
/** Where each class keeps the fields read here (System V gABI, Elf32_* and Elf64_*). */
const CLASS_LAYOUT = {
  [ELFCLASS64]: { phoff: 32, shoff: 40, phentsize: 54, phnum: 56, phdr: 56, pOffset: 8, pPaddr: 24, pFilesz: 32, shInfo: 44, shdr: 64, word: 8 },
  [ELFCLASS32]: { phoff: 28, shoff: 32, phentsize: 42, phnum: 44, phdr: 32, pOffset: 4, pPaddr: 12, pFilesz: 16, shInfo: 28, shdr: 40, word: 4 },
} as const;
type ClassLayout = (typeof CLASS_LAYOUT)[keyof typeof CLASS_LAYOUT];
/** e_phnum value meaning "the real count is in section header 0's sh_info" (QEMU uses it past 65534 segments). */
const PN_XNUM = 0xffff;
/**
 * The most program headers we read. QEMU's dump-guest-memory writes one PT_LOAD per guest RAM
 * mapping (a handful; PN_XNUM exists for the rare core past 65 534); 2^20 bounds what a
 * hostile count costs (segment records, not bytes of the file) while leaving 16× headroom.
 */
const MAX_PROGRAM_HEADERS = 1 << 20;
/** Note bytes read per PT_NOTE: QEMU's are about 1 KiB per vCPU. */
const MAX_NOTE_BYTES = 1 << 24;
/** Program headers read per piece, so the table is never in memory whole. */
const HEADERS_PER_READ = 4096;

interface LoadSegment {
  readonly physical: number;
  readonly fileOffset: number;
  /** Bytes present in the file; p_memsz beyond p_filesz was not dumped and reads as out of snapshot. */
  readonly size: number;
}

/** Where the notes are in the file. */
interface NoteSegment {
  readonly fileOffset: number;
  readonly size: number;
}

type ElfParse =
  | { readonly ok: true; readonly segments: readonly LoadSegment[]; readonly notes: readonly NoteSegment[]; readonly elfClass: 32 | 64 }
  | { readonly ok: false; readonly problem: string };

/** Reads `length` bytes at file offset `offset`, or fewer at end of file. */
type ByteReader = (offset: number, length: number) => Uint8Array;

export function isElfFile(head: Uint8Array): boolean {
  return ELF_MAGIC.every((b, i) => head[i] === b);
}

/** The PT_LOAD segments of a little-endian ELF core (64- or 32-bit), sorted by physical address and made disjoint, and where its notes are; or what is wrong with it. */
export function parseElfCore(read: ByteReader, fileSize: number): ElfParse {
  const header = read(0, EHDR_SIZE);
  if (header.length < 52 || !isElfFile(header)) return { ok: false, problem: 'no ELF header' };
  const elfClass = header[4];
  if (elfClass !== ELFCLASS64 && elfClass !== ELFCLASS32) return { ok: false, problem: `ELF class ${elfClass} is neither 32- nor 64-bit` };
  const c = CLASS_LAYOUT[elfClass];
  if (header[5] !== ELFDATA2LSB) return { ok: false, problem: 'not little-endian (an x86 guest core is)' };
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (view.getUint16(16, true) !== ET_CORE) return { ok: false, problem: `ELF type ${view.getUint16(16, true)} is not a core file (ET_CORE)` };
  const phoff = word(view, c.phoff, c);
  const phentsize = view.getUint16(c.phentsize, true);
  let phnum = view.getUint16(c.phnum, true);
  if (phoff === undefined) return { ok: false, problem: 'program header offset is beyond 2^53' };
  if (phentsize !== c.phdr) return { ok: false, problem: `program header entries are ${phentsize} bytes, not ${c.phdr}` };
  if (phnum === PN_XNUM) {
    const real = extendedSegmentCount(read, view, fileSize, c);
    if (typeof real === 'string') return { ok: false, problem: real };
    phnum = real;
  }
  // Every count and offset is checked against the file before anything is sized by it.
  if (phnum > MAX_PROGRAM_HEADERS) return { ok: false, problem: `${phnum} program headers; vmipolicy reads cores of at most ${MAX_PROGRAM_HEADERS}` };
  if (phoff > fileSize || phnum * c.phdr > fileSize - phoff) return { ok: false, problem: `the file ends inside the program headers (${phnum} at offset ${phoff}, file of ${fileSize} bytes)` };
  const collected = collectSegments(read, phoff, phnum, fileSize, c);
  return collected.ok ? { ...collected, elfClass: elfClass === ELFCLASS64 ? 64 : 32 } : collected;
}

/** ELF's extended numbering (gABI "Extended Program Header Numbering"): the count is section header 0's sh_info. */
function extendedSegmentCount(read: ByteReader, header: DataView, fileSize: number, c: ClassLayout): number | string {
  const shoff = word(header, c.shoff, c);
  if (shoff === undefined || shoff === 0 || shoff > fileSize - c.shdr) return 'e_phnum is PN_XNUM but there is no section header 0 holding the real count';
  const section0 = read(shoff, c.shdr);
  if (section0.length < c.shdr) return 'e_phnum is PN_XNUM but there is no section header 0 holding the real count';
  return new DataView(section0.buffer, section0.byteOffset, c.shdr).getUint32(c.shInfo, true);
}

function collectSegments(read: ByteReader, phoff: number, count: number, fileSize: number, c: ClassLayout): { ok: true; segments: LoadSegment[]; notes: NoteSegment[] } | { ok: false; problem: string } {
  const segments: LoadSegment[] = [];
  const notes: NoteSegment[] = [];
  for (let first = 0; first < count; first += HEADERS_PER_READ) {
    const n = Math.min(HEADERS_PER_READ, count - first);
    const bytes = read(phoff + first * c.phdr, n * c.phdr);
    if (bytes.length < n * c.phdr) return { ok: false, problem: `the file ends inside the program headers (${count} at offset ${phoff})` };
    const table = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let k = 0; k < n; k++) {
      const i = first + k;
      const at = k * c.phdr;
      const type = table.getUint32(at, true);
      if (type !== PT_LOAD && type !== PT_NOTE) continue;
      const fileOffset = word(table, at + c.pOffset, c);
      const physical = word(table, at + c.pPaddr, c);
      const size = word(table, at + c.pFilesz, c);
      if (fileOffset === undefined || physical === undefined || size === undefined) return { ok: false, problem: `segment ${i} has a field beyond 2^53` };
      if (size === 0) continue;
      if (fileOffset + size > fileSize) return { ok: false, problem: `segment ${i} (physical 0x${physical.toString(16)}) ends at file offset ${fileOffset + size}, beyond the file's ${fileSize} bytes: the core is truncated` };
      if (type === PT_NOTE) {
        notes.push({ fileOffset, size });
        continue;
      }
      if (physical + size > MAX_PHYSICAL_ADDRESS) return { ok: false, problem: `segment ${i} (physical 0x${physical.toString(16)}, ${size} bytes) ends beyond the 52-bit physical address space` };
      segments.push({ physical, fileOffset, size });
    }
  }
  if (segments.length === 0) return { ok: false, problem: 'no PT_LOAD segment: the core holds no memory' };
  return { ok: true, segments: disjoint(segments), notes };
}

/**
 * The segments sorted by physical address with every address kept once: where segments
 * overlap (`-p` dumps map one physical range from several virtual ones), the part already
 * covered is cut from the later segment, by physical address then file offset.
 */
export function disjoint(segments: readonly LoadSegment[]): LoadSegment[] {
  const sorted = [...segments].sort((a, b) => a.physical - b.physical || a.fileOffset - b.fileOffset);
  const out: LoadSegment[] = [];
  let covered = 0;
  for (const s of sorted) {
    const end = s.physical + s.size;
    if (end <= covered) continue;
    const cut = Math.max(0, covered - s.physical);
    out.push(cut === 0 ? s : { physical: s.physical + cut, fileOffset: s.fileOffset + cut, size: s.size - cut });
    covered = end;
  }
  return out;
}

/** A little-endian address-sized field (u32 in ELF32, u64 in ELF64) as a number, or undefined when it does not fit exactly. */
function word(view: DataView, at: number, c: ClassLayout): number | undefined {
  if (c.word === 4) return view.getUint32(at, true);
  const hi = view.getUint32(at + 4, true);
  return hi >= 2 ** 21 ? undefined : hi * 2 ** 32 + view.getUint32(at, true);
}

export function openElfCore(path: string, options: FileSourceOptions = {}): OpenResult & { readonly cpus?: readonly CpuState[]; readonly elfClass?: 32 | 64 } {
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
  const notes = parsed.notes.flatMap((n) => parseNotes(read(n.fileOffset, Math.min(n.size, MAX_NOTE_BYTES))));
  return { ok: true, memory: new CachedFileMemory(path, fd, last.physical + last.size, new ElfLayout(parsed.segments), options.cacheFrames ?? DEFAULT_CACHE_FRAMES), cpus: cpuStates(notes), elfClass: parsed.elfClass };
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
