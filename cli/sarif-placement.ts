// Where SARIF locations point on this machine (report/sarif.ts SarifPlacement): files under
// --sarif-root DIR, else under the git work tree the command runs in (as code scanning reads
// them: relative to the checkout), else under the working directory. Only a file the command
// really read from disk is a location — never compiled output that was never written, never a
// file outside the root — and each is checked to exist, so that an upload names no phantom.

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

/** `files`: each file name the report uses → the path that opens it (absent: not on disk). */
export function sarifPlacement(rootArgument: string | undefined, files: ReadonlyMap<string, string>, cwd: string = process.cwd()): SarifPlacement {
  const root = resolve(cwd, rootArgument ?? gitWorkTree(cwd) ?? cwd);
  const rootReal = realOrUndefined(root) ?? root;
  return {
    root,
    open: (file) => {
      const path = files.get(file);
      if (path === undefined) return undefined;
      const real = realOrUndefined(resolve(cwd, path));
      if (real === undefined || !statSync(real).isFile()) return undefined;
      const rel = relative(rootReal, real);
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
