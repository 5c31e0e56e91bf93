// Which of a report's files are real on this machine, and where SARIF locations point
// (report/sarif.ts SarifPlacement). Only a file the command really read from disk is a place a
// reader can open — never compiled output that was never written — and each is checked to
// exist: the text report shows a place in any other file at its finding's spec line
// (report/check/text.ts), and SARIF points only at such files under --sarif-root DIR, else
// under the git work tree the command runs in (as code scanning reads them: relative to the
// checkout), else under the working directory, so that an upload names no phantom.

import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { SarifPlacement } from '../report/sarif.js';

/** The nearest directory from `cwd` up that holds `.git` (a directory, or a worktree's file). */
function gitWorkTree(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * `files`: each file name the report uses → the path that opens it (absent: not on disk).
 * Gives a name's real path when it is a regular file that exists, else undefined.
 */
export function onDisk(files: ReadonlyMap<string, string>, cwd: string = process.cwd()): (file: string) => string | undefined {
  return (file) => {
    const path = files.get(file);
    if (path === undefined) return undefined;
    const real = realOrUndefined(resolve(cwd, path));
    return real !== undefined && statSync(real).isFile() ? real : undefined;
  };
}

/** `files`: as for onDisk; a location is such a file under the root. */
export function sarifPlacement(rootArgument: string | undefined, files: ReadonlyMap<string, string>, cwd: string = process.cwd()): SarifPlacement {
  const root = resolve(cwd, rootArgument ?? gitWorkTree(cwd) ?? cwd);
  const rootReal = realOrUndefined(root) ?? root;
  const real = onDisk(files, cwd);
  return {
    root,
    open: (file) => {
      const path = real(file);
      if (path === undefined) return undefined;
      const rel = relative(rootReal, path);
      if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return undefined;
      return rel.split(sep).join('/');
    },
  };
}

/** Why --sarif-root cannot be used, if it cannot: it must name a directory. */
export function sarifRootProblem(root: string | undefined): string | undefined {
  if (root === undefined) return undefined;
  const real = realOrUndefined(root);
  return real !== undefined && statSync(real).isDirectory() ? undefined : `--sarif-root ${root} is not a directory`;
}
