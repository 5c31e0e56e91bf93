// A raw physical memory snapshot: physical address = file offset, as `xl dump-core` without
// headers, LibVMI's file mode, or `dd` of /dev/mem write it. Read lazily through a frame
// cache: a snapshot of many GiB costs only the frames that are touched.

import { closeSync, fstatSync, openSync } from 'node:fs';
import { diagnostic, type Diagnostic } from '../../grammar/diagnostics.js';
import { FrameCache, DEFAULT_CACHE_FRAMES } from './frame-cache.js';
import { readAt } from './file-reader.js';
import { PAGE_SIZE, readThroughFrames, type PhysicalMemory, type ReadStatus } from './physical-memory.js';

export type OpenResult = { readonly ok: true; readonly memory: PhysicalMemory } | { readonly ok: false; readonly diagnostic: Diagnostic };

export interface FileSourceOptions {
  /** How many 4 KiB frames the cache holds (default 4096 = 16 MiB). */
  readonly cacheFrames?: number;
}

export function openRawSnapshot(path: string, options: FileSourceOptions = {}): OpenResult {
  const opened = openReadOnly(path);
  if (!opened.ok) return opened;
  const { fd, size } = opened;
  if (size === 0) {
    closeSync(fd);
    return { ok: false, diagnostic: diagnostic('SnapshotMalformed', [path, 'the file is empty']) };
  }
  return { ok: true, memory: new RawSnapshot(path, fd, size, options.cacheFrames ?? DEFAULT_CACHE_FRAMES) };
}

/** Opens a file for reading and learns its size, with a diagnostic naming the file on failure. */
export function openReadOnly(path: string): { ok: true; fd: number; size: number } | { ok: false; diagnostic: Diagnostic } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return { ok: false, diagnostic: diagnostic('SnapshotUnreadable', [path, (e as NodeJS.ErrnoException).code ?? (e as Error).message]) };
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    return { ok: false, diagnostic: diagnostic('SnapshotUnreadable', [path, 'not a regular file']) };
  }
  return { ok: true, fd, size: stat.size };
}

class RawSnapshot implements PhysicalMemory {
  readonly end: number;
  private fd: number | undefined;
  private readonly cache: FrameCache;
  private readonly partial = (address: number, target: Uint8Array, offset: number, length: number): number =>
    this.fd === undefined ? 0 : readAt(this.fd, target, offset, Math.max(0, Math.min(length, this.end - address)), address);

  constructor(readonly name: string, fd: number, size: number, cacheFrames: number) {
    this.fd = fd;
    this.end = size;
    this.cache = new FrameCache((pfn, target) => this.loadFrame(pfn, target), cacheFrames);
  }

  private loadFrame(pfn: number, target: Uint8Array): boolean {
    const at = pfn * PAGE_SIZE;
    if (this.fd === undefined || at + PAGE_SIZE > this.end) return false;
    return readAt(this.fd, target, 0, PAGE_SIZE, at) === PAGE_SIZE;
  }

  frame(pfn: number): Uint8Array | undefined {
    return this.cache.get(pfn);
  }

  frameWords(pfn: number): Uint32Array | undefined {
    return this.cache.words(pfn);
  }

  readInto(address: number, target: Uint8Array, targetOffset: number, length: number): ReadStatus {
    return readThroughFrames(this, this.partial, address, target, targetOffset, length);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.cache.clear();
  }
}
