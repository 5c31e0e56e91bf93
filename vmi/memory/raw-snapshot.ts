// A raw physical memory snapshot: physical address = file offset, as `xl dump-core` without
// headers, LibVMI's file mode, or `dd` of /dev/mem write it. Read lazily through a frame
// cache: a snapshot of many GiB costs only the frames that are touched.

import { closeSync } from 'node:fs';
import { diagnostic, type Diagnostic } from '../../core/diagnostics.js';
import { openRegularFile, SNAPSHOT_KIND } from '../../core/read-input.js';
import { CachedFileMemory, DEFAULT_CACHE_FRAMES, type FileLayout } from './frame-cache.js';
import { readAt } from './file-reader.js';
import { PAGE_SIZE, type PhysicalMemory } from './physical-memory.js';

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
  return { ok: true, memory: new CachedFileMemory(path, fd, size, rawLayout(size), options.cacheFrames ?? DEFAULT_CACHE_FRAMES) };
}

/**
 * Opens a snapshot for reading by frame and learns its size, with a diagnostic naming the file
 * on failure. Regular files only: a FIFO would hang the open and a device (/dev/mem, /dev/zero)
 * has no size to bound the reads by.
 */
export function openReadOnly(path: string): { ok: true; fd: number; size: number } | { ok: false; diagnostic: Diagnostic } {
  const opened = openRegularFile(path, SNAPSHOT_KIND);
  return opened.ok ? { ok: true, fd: opened.fd, size: opened.size } : opened;
}

/** A raw file's layout: physical address = file offset, up to the file's size. */
function rawLayout(size: number): FileLayout {
  return {
    loadFrame: (fd, pfn, target) => {
      const at = pfn * PAGE_SIZE;
      return at + PAGE_SIZE <= size && readAt(fd, target, 0, PAGE_SIZE, at) === PAGE_SIZE;
    },
    readPartial: (fd, address, target, offset, length) => readAt(fd, target, offset, Math.max(0, Math.min(length, size - address)), address),
  };
}
