// `git:REV:path` inputs, read with the real git: a file, or a Xen policy tree into a
// temporary directory — its listing with `git ls-tree`, the sizes of all its blobs with ONE
// `git cat-file --batch-check`, their contents with ONE `git cat-file --batch` (a process
// per file took 47 s for 2 000 files). Sizes are checked before anything is read: git
// stores a 700 MB blob of zeros in a few MB, and reading it whole is how a hostile
// revision exhausts memory. git is always run with an argument array (never a shell
// string), the revision is resolved to a commit id first, and the path is checked to be a
// plain relative path before git sees it.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { diagnostic, type Diagnostic } from '../core/diagnostics.js';

interface GitRef {
  readonly rev: string;
  readonly path: string;
}

export const GIT_PREFIX = 'git:';

/** Revision names git accepts that cannot be mistaken for options or ranges. */
const REV = /^[A-Za-z0-9_][A-Za-z0-9_.\/~^@{}+-]*$/;

export function isGitRef(arg: string): boolean {
  return arg.startsWith(GIT_PREFIX);
}

/** Splits `git:REV:path`; the path is everything after the second colon. */
export function parseGitRef(arg: string): GitRef | Diagnostic {
  const rest = arg.slice(GIT_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon <= 0) return diagnostic('DiffBadGitRef', [arg, 'expected git:REV:path'], undefined, 'e.g. git:HEAD~1:examples/tinyvmi/vmi.yaml or git:origin/main:tools/flask/policy');
  const rev = rest.slice(0, colon);
  const path = rest.slice(colon + 1);
  if (!REV.test(rev) || rev.includes('..') || rev.includes('@{-')) return diagnostic('DiffBadGitRef', [arg, `"${rev}" is not a revision name`]);
  const bad = pathProblem(path);
  if (bad) return diagnostic('DiffBadGitRef', [arg, bad]);
  return { rev, path: posix.normalize(path).replace(/\/$/, '') };
}

/** Why a repository path is unsafe or unusable, or undefined when it is a plain relative path. */
function pathProblem(path: string): string | undefined {
  if (path === '') return 'the path is empty';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'the path contains control characters';
  if (path.startsWith('/')) return 'the path must be relative to the repository root';
  if (path.startsWith('-')) return 'the path must not start with "-"';
  if (path.split('/').some((seg) => seg === '..')) return 'the path must not contain ".."';
  return undefined;
}

/** One file read from git may be this large (the largest Xen policy.conf is under 1 MiB). */
export const MAX_GIT_BLOB = 64 << 20;
/** A whole tree read from git may be this large. */
const MAX_GIT_TREE = 256 << 20;

/** Listings and other small answers. */
const SMALL_OUTPUT = 64 << 20;

function git(cwd: string, args: readonly string[], binary = false, input?: string, maxBuffer = SMALL_OUTPUT): string | Buffer {
  return execFileSync('git', [...args], {
    cwd, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], maxBuffer,
    ...(input !== undefined ? { input } : {}), ...(binary ? {} : { encoding: 'utf8' }),
  });
}

/** A blob over a limit: said before it is read. */
class TooLarge extends Error {
  constructor(readonly path: string, readonly size: number, readonly limit: number) {
    super(`${path} is ${size} bytes`);
  }
}

/** `git cat-file --batch-check` over object names: type and size of each, in order. */
function sizesOf(top: string, objects: readonly string[]): { type: string; size: number }[] {
  if (objects.length === 0) return [];
  const out = git(top, ['cat-file', '--batch-check'], false, objects.map((o) => `${o}\n`).join('')) as string;
  return out.split('\n').filter(Boolean).map((line) => {
    const [, type, size] = line.split(' ');
    if (type === undefined || size === undefined) throw new Error(`git cat-file --batch-check: ${line}`);
    return { type, size: Number(size) };
  });
}

/** `git cat-file --batch` over blob ids whose sizes are known: their contents, in order. */
function contentsOf(top: string, oids: readonly string[], total: number): Buffer[] {
  if (oids.length === 0) return [];
  const out = git(top, ['cat-file', '--batch'], true, oids.map((o) => `${o}\n`).join(''), total + oids.length * 128 + 1024) as Buffer;
  const blobs: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < oids.length; i++) {
    const eol = out.indexOf(0x0a, at);
    const header = out.subarray(at, eol).toString('utf8').split(' ');
    const size = Number(header[2]);
    if (header[1] !== 'blob' || !Number.isSafeInteger(size)) throw new Error(`git cat-file --batch: ${header.join(' ')}`);
    blobs.push(out.subarray(eol + 1, eol + 1 + size));
    at = eol + 1 + size + 1;
  }
  return blobs;
}

function gitError(e: unknown): string {
  const err = e as { stderr?: Buffer | string; code?: string; message?: string };
  if (err.code === 'ENOENT') return 'git is not installed';
  const text = String(err.stderr ?? err.message ?? e).trim().split('\n').pop() ?? '';
  return text || 'git failed';
}

type GitObject =
  | { readonly kind: 'blob'; readonly content: Buffer; readonly commit: string }
  | { readonly kind: 'tree'; readonly dir: string; readonly root: string; readonly commit: string };

/** Reads a file or a directory of a revision; a tree lands in a temp dir (caller removes `root`). */
export function readGitObject(ref: GitRef, cwd: string, label: string): GitObject | Diagnostic {
  let top: string;
  let commit: string;
  try {
    top = (git(cwd, ['rev-parse', '--show-toplevel']) as string).trim();
    commit = (git(top, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref.rev}^{commit}`]) as string).trim();
  } catch (e) {
    return diagnostic('DiffGitFailed', [label, gitError(e) === 'git failed' ? `no commit "${ref.rev}"` : gitError(e)]);
  }
  try {
    const type = (git(top, ['cat-file', '-t', `${commit}:${ref.path}`]) as string).trim();
    if (type === 'blob') {
      const [info] = sizesOf(top, [`${commit}:${ref.path}`]);
      if (!info || info.size > MAX_GIT_BLOB) return tooLarge(label, new TooLarge(ref.path, info?.size ?? NaN, MAX_GIT_BLOB));
      return { kind: 'blob', content: git(top, ['cat-file', 'blob', `${commit}:${ref.path}`], true, undefined, info.size + 1024) as Buffer, commit };
    }
    if (type !== 'tree') return diagnostic('DiffGitFailed', [label, `${ref.path} is a ${type}, not a file or directory`]);
  } catch (e) {
    return diagnostic('DiffGitFailed', [label, `${ref.path} does not exist at ${ref.rev} (${gitError(e)})`]);
  }
  const root = mkdtempSync(join(tmpdir(), 'vmipolicy-diff-'));
  try {
    // A Xen tree's tools/flask/policy needs xen/xsm/flask/policy beside it (m4 reads both).
    const paths = [ref.path];
    const m = /^(.*?)(?:^|\/)tools\/flask\/policy$/.exec(ref.path);
    if (m) paths.push(posix.join(m[1] ?? '', 'xen/xsm/flask/policy'));
    for (const p of paths) extractTree(top, commit, p, root);
    return { kind: 'tree', dir: join(root, ref.path), root, commit };
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    if (e instanceof TooLarge) return tooLarge(label, e);
    return diagnostic('DiffGitFailed', [label, gitError(e)]);
  }
}

function tooLarge(label: string, e: TooLarge): Diagnostic {
  return diagnostic('DiffGitTooLarge', [label, e.path, String(e.size), `${e.limit} bytes`], undefined, 'a policy file is at most a few MiB; check the revision and path');
}

/** `git ls-tree -r -z`, then every regular file's size and content in one batch each; symlinks are skipped. */
function extractTree(top: string, commit: string, path: string, root: string): void {
  const listing = git(top, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', path]) as string;
  const files: { oid: string; file: string }[] = [];
  for (const entry of listing.split('\0')) {
    if (!entry) continue;
    const tab = entry.indexOf('\t');
    const [mode, type, oid] = entry.slice(0, tab).split(' ');
    const file = entry.slice(tab + 1);
    if (type !== 'blob' || mode === '120000' || !oid || pathProblem(file)) continue;
    files.push({ oid, file });
  }
  const sizes = sizesOf(top, files.map((f) => f.oid));
  let total = 0;
  files.forEach((f, i) => {
    const size = sizes[i]?.size ?? NaN;
    if (!(size <= MAX_GIT_BLOB)) throw new TooLarge(f.file, size, MAX_GIT_BLOB);
    total += size;
    if (total > MAX_GIT_TREE) throw new TooLarge(path, total, MAX_GIT_TREE);
  });
  const contents = contentsOf(top, files.map((f) => f.oid), total);
  files.forEach((f, i) => {
    const out = join(root, f.file);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, contents[i] as Buffer);
  });
}
