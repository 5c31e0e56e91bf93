// The kdump-compressed format (makedumpfile's "diskdump"), as QEMU's `dump-guest-memory -z`
// (and -l, -s) writes it (dump/dump.c create_kdump_vmcore):
//
//   block 0        disk_dump_header: "KDUMP   ", header_version, utsname, timestamp, status
//                  (the compression: zlib 0x1, lzo 0x2, snappy 0x4), block_size, sub_hdr_size,
//                  bitmap_blocks, max_mapnr …   (DiskDumpHeader64, or DiskDumpHeader32 for a
//                  32-bit guest: a shorter timestamp moves every later field back 12 bytes)
//   block 1        kdump_sub_header (max_mapnr_64 from header version 6, the notes' place),
//                  then the ELF notes (the vCPUs' state: dump-notes.ts)
//   block 1+S      two bitmaps of bitmap_blocks/2 blocks each; bit pfn of the second says the
//                  page is in the dump
//   block 1+S+B    one page_desc per dumped page, in pfn order: offset u64, size u32, flags u32
//                  (the page's compression; 0 = stored as is), page_flags u64
//   …              the pages' data (every all-zero page shares one stored zero page)
//
// QEMU writes it as a stream in makedumpfile's *flattened* form (write_buffer): a 4 KiB header
// "makedumpfile" (type and version big-endian), then records — big-endian u64 offset and size,
// then that many bytes that belong at that offset of the file above — ending with offset and
// size both -1. Since QEMU 8.2 `kdump-raw-*` writes the file above directly. Both are read
// here; the flattened records are indexed once, never rearranged on disk.
//
// Pages are inflated one at a time when the frame cache asks for them, each bounded to one
// page. lzo and snappy pages are refused when the file is opened, naming the compression:
// node has no decompressor for them and no well-kept package was chosen.

import { closeSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { diagnostic } from '../../core/diagnostics.js';
import { cpuStates, parseNotes, type CpuState } from './dump-notes.js';
import { CachedFileMemory, DEFAULT_CACHE_FRAMES, type FileLayout } from './frame-cache.js';
import { readAt } from './file-reader.js';
import { MAX_PHYSICAL_ADDRESS, PAGE_SIZE } from './physical-memory.js';
import { openReadOnly, type FileSourceOptions, type OpenResult } from './raw-snapshot.js';

const FLAT_SIGNATURE = 'makedumpfile';
const FLAT_HEADER_SIZE = 4096;
const KDUMP_SIGNATURE = 'KDUMP   ';
const DESCRIPTOR_SIZE = 24;
const COMPRESSED_ZLIB = 0x1;
const COMPRESSION_NAMES: readonly (readonly [number, string])[] = [[0x1, 'zlib'], [0x2, 'lzo'], [0x4, 'snappy'], [0x20, 'zstd']];
/** Bits per bitmap chunk whose set bits before it are counted once (64 bytes). */
const RANK_CHUNK_BITS = 512;

type KdumpForm = 'flattened' | 'kdump';

/** Which kdump form a file's first bytes announce, if any. */
export function kdumpForm(head: Uint8Array): KdumpForm | undefined {
  const text = String.fromCharCode(...head.subarray(0, 16));
  if (text.startsWith(FLAT_SIGNATURE)) return 'flattened';
  if (text.startsWith(KDUMP_SIGNATURE)) return 'kdump';
  return undefined;
}

/** The kdump file's bytes by offset, whichever form holds them. Reads return fewer bytes at a hole or the end. */
interface DumpBytes {
  read(offset: number, length: number): Uint8Array;
}

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** The flattened stream's records, indexed by their offset in the file they describe. */
function indexFlattened(fd: number, fileSize: number): Parsed<DumpBytes> {
  const head = new Uint8Array(FLAT_HEADER_SIZE);
  if (readAt(fd, head, 0, FLAT_HEADER_SIZE, 0) !== FLAT_HEADER_SIZE) return { ok: false, problem: 'the file ends inside the 4 KiB makedumpfile header' };
  const hv = new DataView(head.buffer);
  const type = hv.getBigInt64(16, false);
  if (type !== 1n) return { ok: false, problem: `makedumpfile stream type ${type}; vmipolicy reads the flattened format (type 1)` };
  const logical: number[] = [];
  const sizes: number[] = [];
  const positions: number[] = [];
  const record = new Uint8Array(16);
  const rv = new DataView(record.buffer);
  let at = FLAT_HEADER_SIZE;
  for (;;) {
    if (readAt(fd, record, 0, 16, at) !== 16) return { ok: false, problem: `the stream ends at byte ${at} without its end marker: the dump is truncated` };
    const offset = rv.getBigInt64(0, false);
    const size = rv.getBigInt64(8, false);
    if (offset === -1n && size === -1n) break;
    if (offset < 0n || size <= 0n || offset >= BigInt(MAX_PHYSICAL_ADDRESS) || size > BigInt(fileSize - at - 16)) {
      return { ok: false, problem: `record at byte ${at} (offset ${offset}, ${size} bytes) does not fit in the ${fileSize}-byte file` };
    }
    logical.push(Number(offset));
    sizes.push(Number(size));
    positions.push(at + 16);
    at += 16 + Number(size);
  }
  const order = logical.map((_, i) => i).sort((a, b) => (logical[a] as number) - (logical[b] as number));
  const starts = Float64Array.from(order, (i) => logical[i] as number);
  const lengths = Float64Array.from(order, (i) => sizes[i] as number);
  const files = Float64Array.from(order, (i) => positions[i] as number);
  for (let i = 1; i < starts.length; i++) {
    if ((starts[i - 1] as number) + (lengths[i - 1] as number) > (starts[i] as number)) return { ok: false, problem: `two records write offset ${starts[i]} of the dump` };
  }
  return { ok: true, value: { read: (offset, length) => readFlattened(fd, starts, lengths, files, offset, length) } };
}

/**
 * Bytes of the file the records describe. Where no record wrote (makedumpfile's writer skips
 * nothing, but a rearranged file is written with seeks), the file holds zeros, up to the end
 * of the last record.
 */
function readFlattened(fd: number, starts: Float64Array, lengths: Float64Array, files: Float64Array, offset: number, length: number): Uint8Array {
  const last = starts.length - 1;
  const end = last < 0 ? 0 : (starts[last] as number) + (lengths[last] as number);
  const out = new Uint8Array(Math.max(0, Math.min(length, end - offset)));
  let done = 0;
  while (done < out.length) {
    const at = offset + done;
    // The first record ending after `at`.
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((starts[mid] as number) + (lengths[mid] as number) <= at) lo = mid + 1;
      else hi = mid;
    }
    const start = starts[lo] as number;
    if (start > at) {
      done += Math.min(out.length - done, start - at); // a hole: zeros
      continue;
    }
    const inRecord = at - start;
    const chunk = Math.min(out.length - done, (lengths[lo] as number) - inRecord);
    const got = readAt(fd, out, done, chunk, (files[lo] as number) + inRecord);
    done += got;
    if (got < chunk) return out.subarray(0, done);
  }
  return out;
}

function directBytes(fd: number): DumpBytes {
  return {
    read: (offset, length) => {
      const out = new Uint8Array(length);
      return out.subarray(0, readAt(fd, out, 0, length, offset));
    },
  };
}

interface KdumpLayoutFields {
  readonly blockSize: number;
  readonly subHeaderBlocks: number;
  readonly bitmapBlocks: number;
  readonly maxMapnr: number;
  readonly status: number;
  readonly noteOffset: number;
  readonly noteSize: number;
  /** QEMU's d_class for the dump: 64 (DiskDumpHeader64), which a 32-bit PC guest gets too. */
  readonly elfClass: 32 | 64;
}

/**
 * The header fields, from whichever of the two header layouts holds a sane block size:
 * DiskDumpHeader64 (status at byte 424) or DiskDumpHeader32 (at 412); the sub-header
 * KdumpSubHeader64/32 accordingly.
 */
function readHeaders(bytes: DumpBytes): Parsed<KdumpLayoutFields> {
  const head = bytes.read(0, 464);
  if (head.length < 440 || String.fromCharCode(...head.subarray(0, 8)) !== KDUMP_SIGNATURE) return { ok: false, problem: 'no "KDUMP   " header at the start of the dump' };
  const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const version = hv.getUint32(8, true);
  const layouts = [
    { status: 424, sub: { mapnr64: 96, noteOffset: 48, noteSize: 56, noteSize64: true } },
    { status: 412, sub: { mapnr64: 72, noteOffset: 32, noteSize: 40, noteSize64: false } },
  ] as const;
  for (const l of layouts) {
    if (head.length < l.status + 20) continue;
    const blockSize = hv.getUint32(l.status + 4, true);
    if (blockSize !== PAGE_SIZE) continue;
    const subHeaderBlocks = hv.getUint32(l.status + 8, true);
    const bitmapBlocks = hv.getUint32(l.status + 12, true);
    let maxMapnr = hv.getUint32(l.status + 16, true);
    const sub = bytes.read(blockSize, 104);
    if (sub.length < l.sub.mapnr64 + 8) return { ok: false, problem: 'the dump ends inside its sub-header' };
    const sv = new DataView(sub.buffer, sub.byteOffset, sub.byteLength);
    if (version >= 6) maxMapnr = Number(sv.getBigUint64(l.sub.mapnr64, true));
    const noteOffset = Number(sv.getBigUint64(l.sub.noteOffset, true));
    const noteSize = l.sub.noteSize64 ? Number(sv.getBigUint64(l.sub.noteSize, true)) : sv.getUint32(l.sub.noteSize, true);
    if (subHeaderBlocks === 0 || bitmapBlocks === 0 || bitmapBlocks % 2 !== 0) return { ok: false, problem: `sub-header of ${subHeaderBlocks} blocks and bitmaps of ${bitmapBlocks}: not a layout makedumpfile or QEMU writes` };
    if (maxMapnr > MAX_PHYSICAL_ADDRESS / PAGE_SIZE || maxMapnr > (bitmapBlocks / 2) * blockSize * 8) return { ok: false, problem: `max_mapnr ${maxMapnr} does not fit its bitmaps of ${bitmapBlocks} blocks` };
    return { ok: true, value: { blockSize, subHeaderBlocks, bitmapBlocks, maxMapnr, status: hv.getUint32(l.status, true), noteOffset, noteSize, elfClass: l.status === 424 ? 64 : 32 } };
  }
  return { ok: false, problem: 'the header gives no block size of 4096 bytes: vmipolicy reads dumps of 4 KiB pages' };
}

/** Pages by pfn: bit pfn of the dumpable bitmap, and its rank among the set bits (the descriptor's index). */
class DumpablePages {
  private readonly before: Float64Array;

  constructor(private readonly bitmap: Uint8Array, readonly count: number) {
    const chunks = Math.ceil((bitmap.length * 8) / RANK_CHUNK_BITS);
    this.before = new Float64Array(chunks + 1);
    let total = 0;
    for (let c = 0; c < chunks; c++) {
      this.before[c] = total;
      const end = Math.min(bitmap.length, (c + 1) * (RANK_CHUNK_BITS / 8));
      for (let b = c * (RANK_CHUNK_BITS / 8); b < end; b++) total += POPCOUNT[bitmap[b] as number] as number;
    }
    this.before[chunks] = total;
  }

  has(pfn: number): boolean {
    return pfn < this.count && (((this.bitmap[pfn >>> 3] as number) >> (pfn & 7)) & 1) === 1;
  }

  /** Set bits below pfn. */
  rank(pfn: number): number {
    const chunk = Math.floor(pfn / RANK_CHUNK_BITS);
    let n = this.before[chunk] as number;
    const byte = Math.floor(pfn / 8);
    for (let b = chunk * (RANK_CHUNK_BITS / 8); b < byte; b++) n += POPCOUNT[this.bitmap[b] as number] as number;
    const partial = (this.bitmap[byte] as number) & ((1 << (pfn & 7)) - 1);
    return n + (POPCOUNT[partial] as number);
  }
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let v = i; v; v &= v - 1) n++;
  return n;
});

class KdumpLayout implements FileLayout {
  private readonly descriptor = new Uint8Array(DESCRIPTOR_SIZE);
  private readonly dv = new DataView(this.descriptor.buffer);

  constructor(private readonly bytes: DumpBytes, private readonly pages: DumpablePages, private readonly descriptorsAt: number) {}

  loadFrame(_fd: number, pfn: number, target: Uint8Array): boolean {
    if (!this.pages.has(pfn)) return false;
    const d = this.bytes.read(this.descriptorsAt + this.pages.rank(pfn) * DESCRIPTOR_SIZE, DESCRIPTOR_SIZE);
    if (d.length < DESCRIPTOR_SIZE) return false;
    this.descriptor.set(d);
    const offset = Number(this.dv.getBigUint64(0, true));
    const size = this.dv.getUint32(8, true);
    const flags = this.dv.getUint32(12, true);
    if (flags === 0) {
      if (size !== PAGE_SIZE) return false;
      const raw = this.bytes.read(offset, PAGE_SIZE);
      if (raw.length < PAGE_SIZE) return false;
      target.set(raw);
      return true;
    }
    if (flags !== COMPRESSED_ZLIB || size === 0 || size > 2 * PAGE_SIZE) return false;
    const packed = this.bytes.read(offset, size);
    if (packed.length < size) return false;
    try {
      const page = inflateSync(packed, { maxOutputLength: PAGE_SIZE });
      if (page.length !== PAGE_SIZE) return false;
      target.set(page);
      return true;
    } catch {
      return false;
    }
  }

  /** Every dumped page is whole: a frame the cache could not load holds nothing. */
  readPartial(): number {
    return 0;
  }
}

/** Opens a kdump-compressed dump (flattened or not): its pages, and the vCPUs' state from its notes. */
export function openKdump(path: string, form: KdumpForm, options: FileSourceOptions = {}): OpenResult & { readonly cpus?: readonly CpuState[]; readonly elfClass?: 32 | 64 } {
  const opened = openReadOnly(path);
  if (!opened.ok) return opened;
  const { fd, size } = opened;
  const fail = (problem: string): OpenResult => {
    closeSync(fd);
    return { ok: false, diagnostic: diagnostic('SnapshotMalformed', [path, problem]) };
  };
  const indexed = form === 'flattened' ? indexFlattened(fd, size) : { ok: true as const, value: directBytes(fd) };
  if (!indexed.ok) return fail(indexed.problem);
  const bytes = indexed.value;
  const headers = readHeaders(bytes);
  if (!headers.ok) return fail(headers.problem);
  const h = headers.value;
  const unreadable = COMPRESSION_NAMES.filter(([bit, name]) => (h.status & bit) !== 0 && name !== 'zlib').map(([, name]) => name);
  if (unreadable.length > 0) return fail(`its pages are compressed with ${unreadable.join(' and ')}; vmipolicy reads kdump dumps compressed with zlib (dump-guest-memory -z), ELF and raw dumps`);
  const bitmapBytes = (h.bitmapBlocks / 2) * h.blockSize;
  // The bitmap is read whole: bounded by the file itself, since every byte must be in it.
  if (bitmapBytes > size) return fail(`its bitmaps (${bitmapBytes} bytes each) are larger than the file`);
  const bitmapAt = (1 + h.subHeaderBlocks) * h.blockSize;
  const dumpable = bytes.read(bitmapAt + bitmapBytes, bitmapBytes);
  if (dumpable.length < bitmapBytes) return fail('the file ends inside its page bitmap');
  const pages = new DumpablePages(dumpable, h.maxMapnr);
  const notes = h.noteSize > 0 && h.noteSize <= 1 << 24 ? bytes.read(h.noteOffset, h.noteSize) : new Uint8Array(0);
  const descriptorsAt = (1 + h.subHeaderBlocks + h.bitmapBlocks) * h.blockSize;
  const memory = new CachedFileMemory(path, fd, h.maxMapnr * PAGE_SIZE, new KdumpLayout(bytes, pages, descriptorsAt), options.cacheFrames ?? DEFAULT_CACHE_FRAMES);
  return { ok: true, memory, cpus: cpuStates(parseNotes(notes)), elfClass: h.elfClass };
}
