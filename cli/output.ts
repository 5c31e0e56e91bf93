// Writing artifacts so that a crash at any instant loses nothing: DIR is never half old and
// half new. An existing DIR is replaced only if vmipolicy wrote it (its manifest.json says
// so, or it is empty), so a typo in -o cannot wipe a directory; a symbolic link is refused.
//
// Linux can swap two directories in one step (renameat2 with RENAME_EXCHANGE), but node has
// no binding for it, so the replacement is two renames, in the parent P of DIR:
//
//   1. the new tree is written in S = P/.DIR.vmipolicy-XXXXXX (mkdtemp), then synced (syncTree);
//   2. DIR is renamed to O = S.old            (only when DIR exists);
//   3. S is renamed to DIR;
//   4. O is removed.
//
// Invariant, at every instant: the complete old tree or the complete new tree is at DIR,
// except between 2 and 3, when DIR is absent and the complete old tree is at O. S and O are
// the only other names this writes, and both match P/.DIR.vmipolicy-XXXXXX[.old]. So the
// next run, before anything else, recovers (recoverOutput): when DIR is absent and there is
// exactly one O, O is renamed back to DIR (the old tree, complete); every other leftover is
// removed (an S may be incomplete; an O beside an existing DIR is stale). One writer per DIR
// at a time: a second run would take the first one's S for a leftover.

import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, fsyncSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { diagnostic, type Diagnostic } from '../core/diagnostics.js';
import { readInputHead } from '../core/read-input.js';
import { writeFresh, type FileText } from './create-file.js';
import { startSmallFiles, WORKER_FROM } from './small-files.js';

export type { FileText } from './create-file.js';

export type WriteOutcome = { readonly ok: true; readonly warnings: Diagnostic[] } | { readonly ok: false; readonly diagnostic: Diagnostic; readonly warnings: Diagnostic[] };

/** Modes set explicitly (fchmod ignores the umask): what `install -m` would give. */
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;
const SCRIPT_MODE = 0o755;

/** The manifest's first key, as compiler/emit/manifest.ts writes it: enough to recognise our own directory. */
const OUR_MANIFEST = /^\{\s*"generator":\s*"vmipolicy /;
const MANIFEST_HEAD = 4096;

/** The test-only pause: the crash tests stop the process here and kill it (see test/output-atomic.test.ts). */
export const PAUSE_ENV = 'VMIPOLICY_TEST_PAUSE_AT';
export type PausePoint = 'staged' | 'moved-old' | 'replaced';

function pauseForTest(point: PausePoint): void {
  if (process.env[PAUSE_ENV] !== point) return;
  writeSync(2, `vmipolicy: paused at ${point}\n`);
  // Blocks this thread for good: the test kills the process with SIGKILL.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Empty, or holding a manifest.json whose generator is vmipolicy. */
function writtenByUs(dir: string): boolean {
  if (readdirSync(dir).length === 0) return true;
  const head = readInputHead(join(dir, 'manifest.json'), { noun: 'manifest', maxBytes: MANIFEST_HEAD, unreadable: 'FileUnreadable' }, MANIFEST_HEAD);
  return head.ok && OUR_MANIFEST.test(head.bytes.toString('utf8'));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The names this writer may leave beside DIR: S (staging) and O (the old tree being replaced). */
function leftoverPattern(name: string): RegExp {
  return new RegExp(`^\\.${escapeRegExp(name)}\\.vmipolicy-[A-Za-z0-9]{6}(\\.old)?$`);
}

function stagingPrefix(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.vmipolicy-`);
}

function refuseSymlink(outDir: string, what: string): Diagnostic {
  return diagnostic('OutputSymlink', [outDir, what], undefined, 'name the real directory: vmipolicy does not write through symbolic links');
}

/**
 * Puts right what an interrupted run left beside DIR (see the invariant above); the
 * warnings say what was done. Refuses, and changes nothing, when a leftover is a symbolic
 * link or not a directory, or when more than one old tree could be DIR's.
 */
export function recoverOutput(outDir: string): { ok: true; warnings: Diagnostic[] } | { ok: false; diagnostic: Diagnostic; warnings: Diagnostic[] } {
  const dest = resolve(outDir);
  const parent = dirname(dest);
  const pattern = leftoverPattern(basename(dest));
  let names: string[];
  try {
    names = readdirSync(parent).filter((n) => pattern.test(n)).sort();
  } catch {
    return { ok: true, warnings: [] }; // no parent yet: nothing was ever written here
  }
  const warnings: Diagnostic[] = [];
  for (const n of names) {
    const st = lstatOrUndefined(join(parent, n));
    if (st?.isSymbolicLink()) return { ok: false, diagnostic: refuseSymlink(outDir, join(parent, n)), warnings };
    if (st && !st.isDirectory()) return { ok: false, diagnostic: diagnostic('OutputLeftover', [outDir, `${join(parent, n)} is not a directory`], undefined, 'remove it by hand'), warnings };
  }
  const olds = names.filter((n) => n.endsWith('.old'));
  let remaining = names;
  if (lstatOrUndefined(dest) === undefined && olds.length > 0) {
    if (olds.length > 1) return { ok: false, diagnostic: diagnostic('OutputLeftover', [outDir, `several earlier trees could be it: ${olds.join(', ')}`], undefined, 'rename the right one to the output directory and remove the others'), warnings };
    const old = join(parent, olds[0] as string);
    if (writtenByUs(old)) {
      renameSync(old, dest);
      warnings.push(diagnostic('OutputRecovered', [outDir, `${old} was put back as ${outDir}`]));
      remaining = names.filter((n) => n !== olds[0]);
    }
  }
  for (const n of remaining) {
    rmSync(join(parent, n), { recursive: true, force: true });
    warnings.push(diagnostic('OutputRecovered', [outDir, `${join(parent, n)} was removed`]));
  }
  return { ok: true, warnings };
}

/**
 * Writes one file so that a crash leaves the old file or the new one at `path`, never a part:
 * the bytes go to a fresh name beside it (O_EXCL), are fsynced, then renamed over it.
 * A symbolic link or a directory at `path` is refused, not followed or replaced.
 */
export function writeFileAtomically(path: string, bytes: Uint8Array): WriteOutcome {
  const dest = resolve(path);
  const existing = lstatOrUndefined(dest);
  if (existing?.isSymbolicLink()) return { ok: false, diagnostic: refuseSymlink(path, 'it'), warnings: [] };
  if (existing && !existing.isFile()) return { ok: false, diagnostic: diagnostic('OutputFailed', [path, 'it exists and is not a regular file'], undefined, 'name a new file or a regular file to replace'), warnings: [] };
  const temp = join(dirname(dest), `.${basename(dest)}.vmipolicy-${process.pid}-${Date.now()}`);
  try {
    writeFresh(temp, bytes, FILE_MODE);
    syncPath(temp);
    renameSync(temp, dest);
    syncPath(dirname(dest));
    return { ok: true, warnings: [] };
  } catch (e) {
    rmSync(temp, { force: true });
    return { ok: false, diagnostic: diagnostic('OutputFailed', [path, (e as NodeJS.ErrnoException).code ?? (e as Error).message]), warnings: [] };
  }
}

/**
 * Runs `f` with the process's umask at 0, then puts it back. Files and directories are then
 * made with exactly the mode asked for: an fchmod per file, to undo the umask, was most of
 * the time of writing 10 000 xl snippets (a journalled metadata update each on ext4).
 */
function withoutUmask<T>(f: () => T): T {
  const previous = process.umask(0);
  try {
    return f();
  } finally {
    process.umask(previous);
  }
}

/** fsync on an open of `path` (a file or a directory): its data and metadata, or the names in it, durable. */
function syncPath(path: string): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** coreutils' sync, by absolute path (nothing is looked up in PATH): `sync -f` is syncfs(2). */
const SYNC_BINARIES = ['/usr/bin/sync', '/bin/sync'];

/**
 * Every file and directory under `staging` on disk. syncfs(2) flushes the whole filesystem
 * in one call; an fsync per file costs a disk flush each (on this project's CI machine
 * 10 000 files took 18.6 s one by one, 0.5 s with one syncfs). Node has no binding for
 * syncfs, so coreutils' `sync -f` makes the call; where it is missing or fails (its exit
 * status carries syncfs's writeback errors on Linux 5.8 and later), each file and directory
 * is fsynced instead, and an error there is thrown as before.
 */
function syncTree(staging: string, files: readonly string[], dirs: Iterable<string>): void {
  for (const sync of SYNC_BINARIES) {
    if (lstatOrUndefined(sync) === undefined) continue;
    const r = spawnSync(sync, ['-f', '--', staging], { stdio: 'ignore', timeout: 600_000 });
    if (r.status === 0) return;
    break;
  }
  for (const file of files) syncPath(file);
  for (const d of dirs) syncPath(d);
  syncPath(staging);
}

/** Text under this many UTF-16 units is a small file (an xl snippet, a script). */
const SMALL_FILE = 1 << 16;

/**
 * The artifacts split into the small files (text) and the others, each in its order. The
 * small ones are made apart from the large, on the file-writing worker when there are many
 * (cli/small-files.ts); the tree is renamed into place only when whole, so the order files
 * are made in is nobody else's business.
 */
function bySize(artifacts: ReadonlyMap<string, FileText>): { small: [string, string][]; large: [string, FileText][] } {
  const small: [string, string][] = [];
  const large: [string, FileText][] = [];
  for (const [rel, content] of artifacts) {
    if (typeof content === 'string' && content.length < SMALL_FILE) small.push([rel, content]);
    else large.push([rel, content]);
  }
  return { small, large };
}

const modeOf = (rel: string): number => (rel.endsWith('.sh') ? SCRIPT_MODE : FILE_MODE);

/**
 * Writes the whole tree into a fresh staging directory beside `dest`, on disk; returns its
 * path, or removes it and throws. Many small files are made by the worker while this thread writes the large ones;
 * it is waited for (even when a large one fails) before this returns or throws, so no file
 * appears in the staging directory after.
 */
function stage(dest: string, artifacts: ReadonlyMap<string, FileText>, onFile?: (written: number, of: number) => void): string {
  const staging = mkdtempSync(stagingPrefix(dest));
  try {
    fillStaging(staging, artifacts, onFile);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  return staging;
}

/** stage's work in the staging directory it made: every file, on disk. */
function fillStaging(staging: string, artifacts: ReadonlyMap<string, FileText>, onFile?: (written: number, of: number) => void): void {
  const dirs = new Set<string>();
  const files: string[] = [];
  withoutUmask(() => {
    for (const rel of artifacts.keys()) {
      const file = join(staging, rel);
      for (let d = dirname(file); d !== staging && !dirs.has(d); d = dirname(d)) {
        mkdirSync(d, { recursive: true, mode: DIR_MODE });
        chmodSync(d, DIR_MODE);
        dirs.add(d);
      }
      files.push(file);
    }
    const { small, large } = bySize(artifacts);
    const inFlight = small.length >= WORKER_FROM ? startSmallFiles(small.map(([rel, text]) => [join(staging, rel), text, modeOf(rel)])) : undefined;
    let written = 0;
    // At 10 000 domains, writing 10 000 files is a good part of compile's time: say how far it is.
    const make = (rel: string, content: FileText): void => {
      onFile?.(written++, artifacts.size);
      writeFresh(join(staging, rel), content, modeOf(rel), true);
    };
    let waited = false;
    try {
      if (!inFlight) for (const [rel, content] of small) make(rel, content);
      for (const [rel, content] of large) make(rel, content);
      waited = true;
      inFlight?.wait((done) => onFile?.(Math.min(written + done, artifacts.size - 1), artifacts.size));
    } finally {
      if (!waited) {
        try {
          inFlight?.wait();
        } catch { /* the large file's error is the one reported */ }
      }
    }
  });
  // mkdtemp makes 0700; the tree is meant to be read by others (xl, the dom0 scripts).
  chmodSync(staging, DIR_MODE);
  syncTree(staging, files, dirs);
}

/**
 * Writes the tree: `artifacts` in their order (a deferred file is made while it is written).
 * `onFile` is told before each file how many are written, of how many (for progress).
 */
export function writeArtifacts(outDir: string, artifacts: ReadonlyMap<string, FileText>, onFile?: (written: number, of: number) => void): WriteOutcome {
  const dest = resolve(outDir);
  const warnings: Diagnostic[] = [];
  let staging: string | undefined;
  let old: string | undefined;
  try {
    if (lstatOrUndefined(dest)?.isSymbolicLink()) return { ok: false, diagnostic: refuseSymlink(outDir, 'it'), warnings };
    mkdirSync(dirname(dest), { recursive: true });
    const recovered = recoverOutput(outDir);
    warnings.push(...recovered.warnings);
    if (!recovered.ok) return { ok: false, diagnostic: recovered.diagnostic, warnings };
    const existing = lstatOrUndefined(dest);
    if (existing && (!existing.isDirectory() || !writtenByUs(dest))) {
      return { ok: false, diagnostic: diagnostic('OutputNotOurs', [outDir], undefined, 'name a new or empty directory, or one vmipolicy wrote before'), warnings };
    }
    staging = stage(dest, artifacts, onFile);
    pauseForTest('staged');
    if (existing) {
      old = `${staging}.old`;
      renameSync(dest, old);
      pauseForTest('moved-old');
    }
    renameSync(staging, dest);
    staging = undefined;
    syncPath(dirname(dest));
    pauseForTest('replaced');
    if (old) rmSync(old, { recursive: true, force: true });
    return { ok: true, warnings };
  } catch (e) {
    // Put the old tree back if it was moved aside and the new one did not take its place.
    try {
      if (old && staging && lstatOrUndefined(dest) === undefined) renameSync(old, dest);
      if (staging) rmSync(staging, { recursive: true, force: true });
    } catch { /* the next run's recoverOutput puts it right */ }
    return { ok: false, diagnostic: diagnostic('OutputFailed', [outDir, (e as Error).message]), warnings };
  }
}
