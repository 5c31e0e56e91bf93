// Creating one artifact file: what the writer on the main thread and the file-writing worker
// (cli/write-files-worker.ts) both do for each file, so the two cannot drift apart.

import { closeSync, constants, fchmodSync, openSync, writeSync } from 'node:fs';
import type { DeferredText } from '../compiler/compile.js';

/**
 * A file's content: text whole, or handed over in chunks as it is made (see DeferredText), or
 * bytes (a binary policy, `compile --binary`).
 */
export type FileText = string | DeferredText | Uint8Array;

/** UTF-16 units encoded at a time: a large artifact is never also one whole UTF-8 buffer. */
const ENCODE_UNITS = 1 << 20;

function writeAll(fd: number, text: string): void {
  let at = 0;
  while (at < text.length) {
    let end = Math.min(at + ENCODE_UNITS, text.length);
    // Never split a surrogate pair: each half alone would encode as U+FFFD.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end++;
    const bytes = Buffer.from(text.slice(at, end), 'utf8');
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    at = end;
  }
}

function writeBytes(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * Creates `file` (which must not exist: O_EXCL, and never through a symbolic link) with
 * exactly `mode`; the caller makes it durable. `umaskCleared`: the process's umask is 0
 * (output.ts withoutUmask), so open's mode is the file's mode and no fchmod is needed.
 */
export function writeFresh(file: string, content: FileText, mode: number, umaskCleared = false): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    if (typeof content === 'string') writeAll(fd, content);
    else if (content instanceof Uint8Array) writeBytes(fd, content);
    else content((chunk) => writeAll(fd, chunk));
    if (!umaskCleared) fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}
