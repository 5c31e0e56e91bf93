// Comments and strings in the source stand on their own: a fact is stated where it is used and
// cites its real authority — Xen's source file and function (xen/xsm/flask/hooks.c
// flask_domctl, tools/xenstore/xenstored_core.c perm_for_conn, …) or a file of this repository
// (checker/permissions.ts, README.md "Exit codes") — never a section of a document that lives
// outside the repository (the design notes or the capability catalog next to it), which a
// reader of the package does not have. Tests are exempt: they really read the corpus and the
// oracle tools from ../shared at run time (test/support/env.ts).
//
// Every .ts file outside test/, node_modules and dist is searched line by line. The patterns
// cannot occur in TypeScript code proper (`§` is no identifier character, a path is no token),
// so a match is always in a comment, a string or a template.

import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { repoPath } from './support/env.js';

/** References to a section of, or a path into, a document outside the repository. */
const OUTSIDE_REFERENCE = /\bDESIGN(?:\.md)? *\u00a7|\bcatalog *\u00a7|\.\.\/shared\/|capability-catalog\.md/i;

/** Directories never searched: dependencies and build output anywhere, tests at the top. */
const SKIPPED_ANYWHERE = new Set(['node_modules', '.git']);
const SKIPPED_AT_TOP = new Set(['dist', 'test']);

function sourceFiles(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (SKIPPED_ANYWHERE.has(name) || (dir === root && SKIPPED_AT_TOP.has(name))) continue;
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) out.push(...sourceFiles(root, path));
    else if (stat.isFile() && /\.[mc]?ts$/.test(name)) out.push(path);
  }
  return out;
}

test('no comment or string outside test/ sends the reader to a document outside the repository', () => {
  const root = repoPath();
  const files = sourceFiles(root).map((f) => relative(root, f).split(sep).join('/'));
  // The search really ran over the sources (a wrong root would find nothing and pass).
  for (const expected of ['catalog/capabilities.ts', 'checker/permissions.ts', 'compiler/lower.ts']) {
    assert.ok(files.includes(expected), `${expected} was not searched (root ${root})`);
  }
  const offenders: string[] = [];
  for (const file of files) {
    readFileSync(join(root, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (OUTSIDE_REFERENCE.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(
    offenders,
    [],
    'state the fact and cite Xen\'s file and function, or a file of this repository, instead of:\n' + offenders.join('\n'),
  );
});
