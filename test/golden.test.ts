// Golden artifacts: every file each example compiles to, byte for byte. A change to any
// emitted artifact shows up here as a reviewable diff; refresh deliberately with
// `npm run golden:update` and read the diff before committing it.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { artifactsOf, compileFile, EXAMPLES, repoPath } from './support/env.js';

const UPDATE = process.env.VMIPOLICY_UPDATE_GOLDEN === '1';

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('golden artifacts', () => {
  for (const example of EXAMPLES) {
    it(`${example}`, () => {
      const artifacts = artifactsOf(compileFile(`examples/${example}/vmi.yaml`));
      const goldenDir = repoPath('test', 'golden', example);
      if (UPDATE) {
        rmSync(goldenDir, { recursive: true, force: true });
        for (const [name, content] of artifacts) {
          mkdirSync(dirname(join(goldenDir, name)), { recursive: true });
          writeFileSync(join(goldenDir, name), content);
        }
      }
      assert.deepEqual([...artifacts.keys()], listFiles(goldenDir), 'the set of emitted files changed');
      for (const [name, content] of artifacts) {
        assert.equal(content, readFileSync(join(goldenDir, name), 'utf8'), `${example}/${name} differs from test/golden (npm run golden:update to accept)`);
      }
    });
  }
});
