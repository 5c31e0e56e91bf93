// Positioned reads from an open file that report how many bytes really came back, because a
// snapshot can be shorter than its headers claim and a short read is data, not an error.

import { readSync } from 'node:fs';

/** Reads up to `length` bytes at `position`; returns the count read (0 at end of file or on an I/O error). */
export function readAt(fd: number, target: Uint8Array, targetOffset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    let got: number;
    try {
      got = readSync(fd, target, targetOffset + done, length - done, position + done);
    } catch {
      return done;
    }
    if (got === 0) break;
    done += got;
  }
  return done;
}
