// `git:REV:path` inputs, read with the real git: `git show REV:path` for a file, and
// `git ls-tree` + `git cat-file` into a temporary directory for a Xen policy tree. git is
// always run with an argument array (never a shell string), the revision is resolved to a
// commit id first, and the path is checked to be a plain relative path before git sees it.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { diagnostic, type Diagnostic } from '../../grammar/diagnostics.js';

export interface GitRef {
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
export function pathProblem(path: string): string | undefined {
  if (path === '') return 'the path is empty';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'the path contains control characters';
  if (path.startsWith('/')) return 'the path must be relative to the repository root';
  if (path.startsWith('-')) return 'the path must not start with "-"';
  if (path.split('/').some((seg) => seg === '..')) return 'the path must not contain ".."';
  return undefined;
}

function git(cwd: string, args: readonly string[], binary = false): string | Buffer {
  return execFileSync('git', [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30, ...(binary ? {} : { encoding: 'utf8' }) });
}

function gitError(e: unknown): string {
  const err = e as { stderr?: Buffer | string; code?: string; message?: string };
  if (err.code === 'ENOENT') return 'git is not installed';
  const text = String(err.stderr ?? err.message ?? e).trim().split('\n').pop() ?? '';
  return text || 'git failed';
}

export type GitObject =
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
    if (type === 'blob') return { kind: 'blob', content: git(top, ['show', `${commit}:${ref.path}`], true) as Buffer, commit };
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
    return diagnostic('DiffGitFailed', [label, gitError(e)]);
  }
}

/** `git ls-tree -r -z` then one `git cat-file blob` per regular file; symlinks are skipped. */
function extractTree(top: string, commit: string, path: string, root: string): void {
  const listing = git(top, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', path]) as string;
  for (const entry of listing.split('\0')) {
    if (!entry) continue;
    const tab = entry.indexOf('\t');
    const [mode, type, oid] = entry.slice(0, tab).split(' ');
    const file = entry.slice(tab + 1);
    if (type !== 'blob' || mode === '120000' || !oid || pathProblem(file)) continue;
    const out = join(root, file);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, git(top, ['cat-file', 'blob', oid], true) as Buffer);
  }
}
