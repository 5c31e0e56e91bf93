// git:REV:path inputs under load: a tree of 2 000 files is read with one batch (not a
// process per file), and a blob over the size cap is refused before it is read — a blob of
// zeros that git stores in a few KB must not be inflated into memory.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync, ftruncateSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_GIT_BLOB, readGitObject } from '../diff/git.js';
import { runDiff } from '../cli/diff.js';
import { requires } from './support/env.js';
import { withTempDir } from './support/oracles.js';

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

describe('diff: git inputs', () => {
  it('a tree of 2 000 files is read whole, byte for byte, in seconds', (t) => {
    if (!requires(t, { commands: ['git'] })) return;
    withTempDir((dir) => {
      git(dir, 'init', '-q');
      for (let i = 0; i < 2000; i++) {
        const sub = join(dir, 'pol', `d${i % 20}`);
        mkdirSync(sub, { recursive: true });
        writeFileSync(join(sub, `f${i}.te`), `# file ${i}\n${'x'.repeat(i % 97)}\n`);
      }
      writeFileSync(join(dir, 'pol', 'bin'), Buffer.from([0, 10, 255, 10, 10]));
      git(dir, 'add', '.');
      git(dir, 'commit', '-q', '-m', 'many');
      const started = Date.now();
      const obj = readGitObject({ rev: 'HEAD', path: 'pol' }, dir, 'git:HEAD:pol');
      const elapsed = Date.now() - started;
      assert.ok(!('code' in obj) && obj.kind === 'tree');
      try {
        assert.equal(readFileSync(join(obj.dir, 'd7', 'f1907.te'), 'utf8'), `# file 1907\n${'x'.repeat(1907 % 97)}\n`);
        assert.deepEqual([...readFileSync(join(obj.dir, 'bin'))], [0, 10, 255, 10, 10]);
      } finally {
        spawnSync('rm', ['-rf', obj.root]);
      }
      // One process per file took 47 s for 2 000 files.
      assert.ok(elapsed < 15_000, `${elapsed} ms`);
    });
  });

  it('a blob over the cap, stored compressed in a few KB, is refused before it is read: exit 2, VP5004', (t) => {
    if (!requires(t, { commands: ['git'] })) return;
    withTempDir((dir) => {
      git(dir, 'init', '-q');
      const big = join(dir, 'policy.conf');
      const fd = openSync(big, 'w');
      ftruncateSync(fd, MAX_GIT_BLOB + 1);
      closeSync(fd);
      mkdirSync(join(dir, 'tree'));
      writeFileSync(join(dir, 'tree', 'small.te'), 'type a_t;\n');
      git(dir, 'add', 'policy.conf', 'tree');
      git(dir, 'mv', 'policy.conf', 'tree/policy.conf');
      git(dir, 'commit', '-q', '-m', 'big');
      writeFileSync(big, 'x');
      for (const path of ['tree/policy.conf', 'tree']) {
        const obj = readGitObject({ rev: 'HEAD', path }, dir, `git:HEAD:${path}`);
        assert.ok('code' in obj, path);
        assert.equal(obj.code, 'VP5004');
        assert.match(obj.message, new RegExp(`policy\\.conf is ${MAX_GIT_BLOB + 1} bytes`));
      }
      const err: string[] = [];
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        assert.equal(runDiff(['git:HEAD:tree/policy.conf', 'policy.conf'], { stdout: () => {}, stderr: (s) => err.push(s) }), 2);
      } finally {
        process.chdir(cwd);
      }
      assert.match(err.join(''), /VP5004/);
    });
  });
});
