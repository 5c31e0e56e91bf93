// A cache entry of built test equipment (QEMU dumps, a booted guest's files): a directory named
// by what built it, holding the files and result.json, what the build found. An entry is built
// in a fresh directory beside it and renamed into place whole, so a reader never sees half of
// one; when two test processes build the same entry at once, the first rename wins and the
// other adopts that entry and drops its own.

import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RESULT = 'result.json';

/** The entry's result, or undefined when it has not been built. */
export function readEntry<T>(entry: string): T | undefined {
  const path = join(entry, RESULT);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

/** The entry's files by name, as paths. */
export function absolute(entry: string, files: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([name, file]) => [name, join(entry, file)]));
}

/**
 * Writes `outcome` as the result of the build in `work` and renames `work` to `entry`; when
 * another process published `entry` first, `work` is removed and that entry's result returned.
 */
export function publishEntry<T>(work: string, entry: string, outcome: T): T {
  writeFileSync(join(work, RESULT), JSON.stringify(outcome, null, 2) + '\n');
  try {
    renameSync(work, entry);
  } catch (e) {
    const theirs = readEntry<T>(entry);
    if (!theirs) throw e;
    rmSync(work, { recursive: true, force: true });
    return theirs;
  }
  return outcome;
}
