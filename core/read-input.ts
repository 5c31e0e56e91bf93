// The one way vmipolicy reads an input file: regular files only, and never more than the
// cap of the file's kind. Why both, before anything is parsed: `/dev/zero` or a 2 GiB file
// named as a spec would otherwise be read whole (the size check after the read comes too
// late), and opening a FIFO blocks until a writer appears, so the command would hang.
//
// How: stat the path first, so a device or FIFO is refused without being opened (opening
// some devices has effects); then open it with O_NONBLOCK (if the path was swapped for a
// FIFO in between, the open still returns at once) and fstat the descriptor, which is what
// is really read; then read at most cap + 1 bytes, because the file can grow after fstat.

import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { diagnostic, type Diagnostic, type MessageName } from './diagnostics.js';

const MiB = 1024 * 1024;

export interface InputKind {
  /** What the file is to the user, in messages: "spec", "policy", "xl config"… */
  readonly noun: string;
  /** The largest file of this kind vmipolicy reads, in bytes. */
  readonly maxBytes: number;
  /** The diagnostic for a file that cannot be opened; its template takes (path, reason). */
  readonly unreadable: Extract<MessageName, 'FileUnreadable' | 'ProfileUnreadable' | 'SnapshotUnreadable'>;
}

/**
 * Every kind of input file and its cap. The README's "Limits" section states them; change
 * both together. Caps are generous multiples of the largest real input we know of.
 */
export const INPUT_KINDS = {
  /** A spec describes a host in a few kilobytes. */
  spec: { noun: 'spec', maxBytes: 1 * MiB, unreadable: 'FileUnreadable' },
  /** A policy.conf or a .te module: a 10 000-domain host's policy.conf is 12.6 MB. */
  policy: { noun: 'policy', maxBytes: 64 * MiB, unreadable: 'FileUnreadable' },
  /** An xl domain config is a few dozen lines. */
  xl: { noun: 'xl config', maxBytes: 1 * MiB, unreadable: 'FileUnreadable' },
  /** `xenstore-ls -p` of a whole host, or a xenstore-acl.sh. */
  xenstore: { noun: 'xenstore dump', maxBytes: 64 * MiB, unreadable: 'FileUnreadable' },
  /** A hypervisor console log (`xl dmesg`, a serial capture): Xen's ring is at most a few MiB. */
  log: { noun: 'log', maxBytes: 64 * MiB, unreadable: 'FileUnreadable' },
  /** A kernel's System.map or a kallsyms dump: ~200 000 lines, some 10 MiB. */
  symbols: { noun: 'symbol file', maxBytes: 64 * MiB, unreadable: 'ProfileUnreadable' },
  /** A guest profile is a JSON object of a few offsets. */
  profile: { noun: 'guest profile', maxBytes: 1 * MiB, unreadable: 'ProfileUnreadable' },
} as const satisfies Record<string, InputKind>;

/** Snapshots are opened and read by frame, never whole: only the regular-file rule applies. */
export const SNAPSHOT_KIND: InputKind = { noun: 'snapshot', maxBytes: Number.MAX_SAFE_INTEGER, unreadable: 'SnapshotUnreadable' };

type InputRead = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly diagnostic: Diagnostic };
type InputOpen = { readonly ok: true; readonly fd: number; readonly size: number } | { readonly ok: false; readonly diagnostic: Diagnostic };

/** What a non-regular file is, in words for the message. */
function fileTypeName(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function reasonOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

function notRegular(path: string, kind: InputKind, st: Stats): Diagnostic {
  return diagnostic('NotRegularFile', [kind.noun, path, fileTypeName(st)], undefined, `give the path of a regular file (vmipolicy does not read ${kind.noun}s from pipes or devices)`);
}

function tooLarge(path: string, kind: InputKind, size: number | string): Diagnostic {
  return diagnostic('FileTooLarge', [`${kind.noun} ${path}`, size, `${kind.noun}s`, kind.maxBytes], undefined, 'check that this is the right file');
}

/** Opens a regular file for reading (O_NONBLOCK, so a FIFO swapped in cannot block), or says why not. */
export function openRegularFile(path: string, kind: InputKind): InputOpen {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    return { ok: false, diagnostic: diagnostic(kind.unreadable, [path, reasonOf(e)]) };
  }
  if (!st.isFile()) return { ok: false, diagnostic: notRegular(path, kind, st) };
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    return { ok: false, diagnostic: diagnostic(kind.unreadable, [path, reasonOf(e)]) };
  }
  const opened = fstatSync(fd);
  if (!opened.isFile()) {
    closeSync(fd);
    return { ok: false, diagnostic: notRegular(path, kind, opened) };
  }
  if (opened.size > kind.maxBytes) {
    closeSync(fd);
    return { ok: false, diagnostic: tooLarge(path, kind, opened.size) };
  }
  return { ok: true, fd, size: opened.size };
}

/** Reads up to `limit` bytes from the start of an open file, in pieces, stopping at end of file. */
function readUpTo(fd: number, expected: number, limit: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  // The first piece is the size fstat saw (plus one, to notice growth); later pieces only if it grew.
  let piece = Math.min(limit, expected + 1);
  while (total < limit) {
    const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(piece, limit - total)));
    const got = readSync(fd, chunk, 0, chunk.length, total);
    if (got === 0) break;
    chunks.push(got === chunk.length ? chunk : chunk.subarray(0, got));
    total += got;
    piece = Math.min(64 * MiB, Math.max(64 * 1024, total));
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
}

/**
 * The whole content of a regular file of this kind, or a diagnostic naming the file: why it
 * cannot be opened, what it is when it is not a regular file, or its size when over the cap.
 */
export function readInputFile(path: string, kind: InputKind): InputRead {
  const opened = openRegularFile(path, kind);
  if (!opened.ok) return opened;
  try {
    const bytes = readUpTo(opened.fd, opened.size, kind.maxBytes + 1);
    if (bytes.length > kind.maxBytes) return { ok: false, diagnostic: tooLarge(path, kind, `more than ${kind.maxBytes}`) };
    return { ok: true, bytes };
  } catch (e) {
    return { ok: false, diagnostic: diagnostic(kind.unreadable, [path, reasonOf(e)]) };
  } finally {
    closeSync(opened.fd);
  }
}

/** The first `length` bytes of a regular file (fewer when it is shorter), or why it cannot be read. */
export function readInputHead(path: string, kind: InputKind, length: number): InputRead {
  const opened = openRegularFile(path, { ...kind, maxBytes: Number.MAX_SAFE_INTEGER });
  if (!opened.ok) return opened;
  try {
    return { ok: true, bytes: readUpTo(opened.fd, Math.min(opened.size, length), length) };
  } catch (e) {
    return { ok: false, diagnostic: diagnostic(kind.unreadable, [path, reasonOf(e)]) };
  } finally {
    closeSync(opened.fd);
  }
}

/** readInputFile decoded as UTF-8 (invalid bytes become U+FFFD, as readFileSync(…, 'utf8') did). */
export function readInputText(path: string, kind: InputKind): { readonly ok: true; readonly text: string } | { readonly ok: false; readonly diagnostic: Diagnostic } {
  const read = readInputFile(path, kind);
  return read.ok ? { ok: true, text: read.bytes.toString('utf8') } : read;
}

/**
 * Standard input (`-` on the command line), read to its end with the kind's cap: a pipe
 * (`xl dmesg | vmipolicy explain -`) has no size to check first, so the cap is counted as
 * it is read and the read stops one byte past it. A non-blocking descriptor that has
 * nothing yet (EAGAIN) is waited on briefly, never spun on.
 */
export function readStdinText(kind: InputKind, fd = 0): { readonly ok: true; readonly text: string } | { readonly ok: false; readonly diagnostic: Diagnostic } {
  const chunks: Buffer[] = [];
  let total = 0;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  try {
    while (total <= kind.maxBytes) {
      const chunk = Buffer.allocUnsafe(Math.min(1 * MiB, kind.maxBytes + 1 - total));
      let got: number;
      try {
        got = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(pause, 0, 0, 10);
        continue;
      }
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      total += got;
    }
  } catch (e) {
    return { ok: false, diagnostic: diagnostic(kind.unreadable, ['standard input', reasonOf(e)]) };
  }
  if (total > kind.maxBytes) return { ok: false, diagnostic: tooLarge('on standard input', kind, `more than ${kind.maxBytes}`) };
  return { ok: true, text: Buffer.concat(chunks, total).toString('utf8') };
}
