// `compile -o DIR` killed at every step of replacing DIR: the process is stopped at each
// step (VMIPOLICY_TEST_PAUSE_AT, see cli/output.ts) and killed with SIGKILL. Whatever the
// step, the complete old or new tree is at DIR (or, between the two renames, the complete
// old tree is beside it), and the next run puts DIR right and removes every leftover.
// Also: symbolic links refused, modes 0755/0644 whatever the umask.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PAUSE_ENV, writeArtifacts, type FileText, type PausePoint } from '../cli/output.js';
import { WORKER_FROM } from '../cli/small-files.js';
import { repoPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const BIN = repoPath('dist', 'cli', 'bin.js');
const OLD_SPEC = repoPath('examples', 'tinyvmi', 'vmi.yaml');
const NEW_SPEC = repoPath('examples', 'drakvuf', 'vmi.yaml');

function cli(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file and directory under `dir`: path → content (files) and mode. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of readdirSync(dir, { recursive: true }).map(String).sort()) {
    const st = lstatSync(join(dir, rel));
    const mode = (st.mode & 0o7777).toString(8);
    out.set(rel, st.isDirectory() ? `dir ${mode}` : `${mode} ${readFileSync(join(dir, rel), 'utf8')}`);
  }
  return out;
}

/** Names an interrupted write may leave beside DIR. */
function leftovers(parent: string, name: string): string[] {
  return readdirSync(parent).filter((n) => n.startsWith(`.${name}.vmipolicy-`)).sort();
}

/** Runs compile with a pause at `point`, waits until it is there, and kills it with SIGKILL. */
async function killAt(point: PausePoint, args: readonly string[]): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, [PAUSE_ENV]: point }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`never paused at ${point}: ${stderr}`)), 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes(`paused at ${point}`)) {
        clearTimeout(timer);
        done();
      }
    });
    child.on('exit', () => fail(new Error(`exited before pausing at ${point}: ${stderr}`)));
  });
  const exited = new Promise((done) => child.on('exit', done));
  child.kill('SIGKILL');
  await exited;
}

/** withTempDir for an async body: the directory lives until the body's promise settles. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-test-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('compile -o DIR killed at every step of the replacement', () => {
  for (const point of ['staged', 'moved-old', 'replaced'] as const) {
    it(`killed at "${point}": DIR (or its moved-aside old tree) is complete, and the next run recovers`, async () => {
      await inTempDir(async (root) => {
        const expectOld = join(root, 'expect-old');
        const expectNew = join(root, 'expect-new');
        assert.equal(cli(['compile', OLD_SPEC, '-o', expectOld]).status, 0);
        assert.equal(cli(['compile', NEW_SPEC, '-o', expectNew]).status, 0);
        const oldTree = tree(expectOld);
        const newTree = tree(expectNew);
        const out = join(root, 'out');
        assert.equal(cli(['compile', OLD_SPEC, '-o', out]).status, 0);

        await killAt(point, ['compile', NEW_SPEC, '-o', out]);

        const left = leftovers(root, 'out');
        if (point === 'moved-old') {
          // The one instant DIR is absent: its complete old tree is the single .old beside it.
          assert.equal(existsSync(out), false);
          const olds = left.filter((n) => n.endsWith('.old'));
          assert.equal(olds.length, 1, left.join(', '));
          assert.deepEqual(tree(join(root, olds[0] as string)), oldTree);
        } else {
          assert.deepEqual(tree(out), point === 'staged' ? oldTree : newTree);
        }
        assert.ok(left.length > 0, 'the kill left something to recover');

        // The next run, even one that fails to compile, recovers first.
        const bad = join(root, 'bad.yaml');
        writeFileSync(bad, 'vmipolicy: 1\n');
        const next = cli(['compile', bad, '-o', out]);
        assert.equal(next.status, 2);
        assert.match(next.stderr, /warning VP9004: an earlier run writing .*out was interrupted/);
        assert.deepEqual(tree(out), point === 'replaced' ? newTree : oldTree);
        assert.deepEqual(leftovers(root, 'out'), []);

        const again = cli(['compile', NEW_SPEC, '-o', out]);
        assert.equal(again.status, 0, again.stderr);
        assert.doesNotMatch(again.stderr, /VP9004/);
        assert.deepEqual(tree(out), newTree);
        assert.deepEqual(leftovers(root, 'out'), []);
      });
    });
  }

  it('killed while staging the first output: no DIR, and the next run removes the staging directory', async () => {
    await inTempDir(async (dir) => {
      const out = join(dir, 'out');
      await killAt('staged', ['compile', OLD_SPEC, '-o', out]);
      assert.equal(existsSync(out), false);
      assert.equal(leftovers(dir, 'out').length, 1);
      const r = cli(['compile', OLD_SPEC, '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /VP9004/);
      assert.deepEqual(leftovers(dir, 'out'), []);
    });
  });
});

describe('compile -o DIR: links and modes', () => {
  it('refuses DIR when it is a symbolic link, even to a directory vmipolicy wrote', () => {
    withTempDir((dir) => {
      const real = join(dir, 'real');
      assert.equal(cli(['compile', OLD_SPEC, '-o', real]).status, 0);
      const before = tree(real);
      const link = join(dir, 'link');
      symlinkSync(real, link);
      const r = cli(['compile', NEW_SPEC, '-o', link]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /error VP9003: refusing to write .*link: it is a symbolic link/);
      assert.equal(readlinkSync(link), real);
      assert.deepEqual(tree(real), before);
    });
  });

  it('refuses DIR when a leftover beside it is a symbolic link, and changes nothing', () => {
    withTempDir((dir) => {
      const out = join(dir, 'out');
      assert.equal(cli(['compile', OLD_SPEC, '-o', out]).status, 0);
      const elsewhere = join(dir, 'elsewhere');
      mkdirSync(elsewhere);
      writeFileSync(join(elsewhere, 'keep'), 'keep me');
      symlinkSync(elsewhere, join(dir, '.out.vmipolicy-AbC123.old'));
      const r = cli(['compile', NEW_SPEC, '-o', out]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /error VP9003: .*\.out\.vmipolicy-AbC123\.old is a symbolic link/);
      assert.equal(readFileSync(join(elsewhere, 'keep'), 'utf8'), 'keep me');
      assert.ok(existsSync(join(out, 'vmi.te')), 'the old output is untouched');
    });
  });

  it('directories are 0755, files 0644 and scripts 0755 under a umask of 077', () => {
    withTempDir((dir) => {
      const out = join(dir, 'out');
      const r = spawnSync('sh', ['-c', 'umask 077 && exec "$0" "$@"', process.execPath, BIN, 'compile', OLD_SPEC, '-o', out], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const modeOf = (p: string): number => statSync(p).mode & 0o7777;
      assert.equal(modeOf(out), 0o755);
      assert.equal(modeOf(join(out, 'xl')), 0o755);
      assert.equal(modeOf(join(out, 'vmi.te')), 0o644);
      assert.equal(modeOf(join(out, 'xl', 'tinyvmi.cfg')), 0o644);
      assert.equal(modeOf(join(out, 'xenstore-acl.sh')), 0o755);
    });
  });

  // Many small files are made by the file-writing worker (cli/small-files.ts) while the large
  // ones are written here: the same tree, modes and failures as one thread makes.
  const many = (n: number): [string, string][] => Array.from({ length: n }, (_, i) => [`xl/d${String(i).padStart(4, '0')}.cfg`, `name = "d${i}"\n`]);

  it(`${WORKER_FROM} small files and more: all made by the worker, with their modes, beside the large ones, whatever the umask`, () => {
    withTempDir((dir) => {
      const previous = process.umask(0o077);
      try {
        const small = many(WORKER_FROM + 44);
        const large = 'x'.repeat(1 << 17);
        const out = join(dir, 'out');
        const artifacts = new Map<string, FileText>([...small, ['big.conf', large], ['run.sh', '#!/bin/sh\n'], ['deferred.json', (sink) => ['{', '}\n'].forEach(sink)]]);
        const progress: number[] = [];
        const written = writeArtifacts(out, artifacts, (done, of) => {
          assert.equal(of, artifacts.size);
          progress.push(done);
        });
        assert.ok(written.ok, JSON.stringify(written));
        assert.equal(process.umask(), 0o077);
        const got = tree(out);
        assert.equal(got.size, artifacts.size + 1, 'every file and xl/');
        assert.equal(got.get('xl'), 'dir 755');
        for (const [rel, text] of small) assert.equal(got.get(rel), `644 ${text}`, rel);
        assert.equal(got.get('big.conf'), `644 ${large}`);
        assert.equal(got.get('run.sh'), '755 #!/bin/sh\n');
        assert.equal(got.get('deferred.json'), '644 {}\n');
        assert.ok(progress.length > 0 && progress.every((d) => d >= 0 && d < artifacts.size), `progress ${progress.join(',')}`);
        assert.deepEqual(leftovers(dir, 'out'), []);
      } finally {
        process.umask(previous);
      }
    });
  });

  it('a small file the worker cannot make (a directory has its name) fails the write: nothing at DIR, nothing left beside it, the umask put back', () => {
    withTempDir((dir) => {
      const previous = process.umask(0o027);
      try {
        const out = join(dir, 'out');
        // A file is to go under a small file's name, so that name is made a directory first
        // and the worker cannot create the small file there.
        const small = many(WORKER_FROM + 1);
        const failed = writeArtifacts(out, new Map<string, FileText>([...small, ['xl/d0000.cfg/under-a-file', 'y\n'], ['big.conf', 'x'.repeat(1 << 17)]]));
        assert.equal(failed.ok, false);
        assert.match(failed.ok ? '' : failed.diagnostic.message, /EEXIST.*d0000\.cfg/);
        assert.equal(existsSync(out), false);
        assert.deepEqual(leftovers(dir, 'out'), []);
        assert.equal(process.umask(), 0o027);
      } finally {
        process.umask(previous);
      }
    });
  });

  it('a large file that fails while the worker makes the small ones: nothing at DIR, nothing left beside it', () => {
    withTempDir((dir) => {
      const out = join(dir, 'out');
      const failed = writeArtifacts(out, new Map<string, FileText>([...many(WORKER_FROM * 4), ['manifest.json', () => { throw new Error('made to fail'); }]]));
      assert.equal(failed.ok, false);
      assert.match(failed.ok ? '' : failed.diagnostic.message, /made to fail/);
      assert.equal(existsSync(out), false);
      assert.deepEqual(leftovers(dir, 'out'), []);
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  it('the library call leaves the process umask as it found it, and its files as asked whatever it is', () => {
    withTempDir((dir) => {
      const previous = process.umask(0o027);
      try {
        const out = join(dir, 'lib-out');
        const written = writeArtifacts(out, new Map([['a.sh', '#!/bin/sh\n'], ['xl/b.cfg', 'x = 1\n']]));
        assert.ok(written.ok);
        assert.equal(process.umask(), 0o027, 'the umask is put back');
        const modeOf = (p: string): number => statSync(p).mode & 0o7777;
        assert.deepEqual([modeOf(out), modeOf(join(out, 'xl')), modeOf(join(out, 'a.sh')), modeOf(join(out, 'xl', 'b.cfg'))], [0o755, 0o755, 0o755, 0o644]);
        // A write that fails part way (a file name that cannot be made) puts it back too.
        const failed = writeArtifacts(join(dir, 'lib-bad'), new Map([['ok.cfg', 'x\n'], ['ok.cfg/under-a-file', 'y\n']]));
        assert.equal(failed.ok, false);
        assert.equal(process.umask(), 0o027, 'the umask is put back after a failure');
      } finally {
        process.umask(previous);
      }
    });
  });
});
