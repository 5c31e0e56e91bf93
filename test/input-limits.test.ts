// Every input file the command line reads, given as something that is not a small regular
// file: a FIFO (which must not hang the command), /dev/zero (endless), a directory, and a
// sparse file just over the kind's cap (refused by its size, before any byte is read). Each
// must exit 2 promptly with a diagnostic naming the file and what is wrong with it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { INPUT_KINDS, openRegularFile, readInputFile, readInputHead, SNAPSHOT_KIND } from '../core/read-input.js';
import { hasCommand, repoPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const SPEC = repoPath('examples', 'tinyvmi', 'vmi.yaml');
/** Far longer than any of these commands takes; a hang on a FIFO would hit it. */
const TIMEOUT_MS = 30_000;

interface Run { readonly status: number | null; readonly stdout: string; readonly stderr: string; readonly timedOut: boolean }

function cli(args: readonly string[]): Run {
  const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', timeout: TIMEOUT_MS });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.error !== undefined || r.signal !== null };
}

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  assert.equal(r.status, 0, 'mkfifo');
}

/** A sparse file of `size` bytes: costs no disk, but reading it would cost `size` of memory. */
function sparse(path: string, size: number): void {
  closeSync(openSync(path, 'w'));
  truncateSync(path, size);
}

/** The command line of each input kind, with the file under test in place of `X`. */
function commands(dir: string): { kind: string; noun: string; cap?: number; args: (x: string) => string[] }[] {
  const policy = join(dir, 'policy.conf');
  return [
    { kind: 'spec (compile)', noun: 'spec', cap: INPUT_KINDS.spec.maxBytes, args: (x) => ['compile', x, '-o', join(dir, 'out')] },
    { kind: 'spec (check)', noun: 'spec', cap: INPUT_KINDS.spec.maxBytes, args: (x) => ['check', x] },
    { kind: 'policy (check --policy)', noun: 'policy', cap: INPUT_KINDS.policy.maxBytes, args: (x) => ['check', SPEC, '--policy', x] },
    { kind: 'policy (policy stats)', noun: 'policy', cap: INPUT_KINDS.policy.maxBytes, args: (x) => ['policy', 'stats', x] },
    { kind: 'policy (diff)', noun: 'policy', cap: INPUT_KINDS.policy.maxBytes, args: (x) => ['diff', x, policy] },
    { kind: 'xl config', noun: 'xl config', cap: INPUT_KINDS.xl.maxBytes, args: (x) => ['check', SPEC, '--policy', policy, '--xl', x] },
    { kind: 'xenstore dump (check)', noun: 'xenstore dump', cap: INPUT_KINDS.xenstore.maxBytes, args: (x) => ['check', SPEC, '--xenstore', x] },
    { kind: 'xenstore dump (diff)', noun: 'xenstore dump', cap: INPUT_KINDS.xenstore.maxBytes, args: (x) => ['diff', SPEC, SPEC, '--xenstore-old', x, '--xenstore-new', x] },
    { kind: 'guest profile', noun: 'guest profile', cap: INPUT_KINDS.profile.maxBytes, args: (x) => ['vmi', 'ps', '--snapshot', join(dir, 'small.raw'), '--dtb', '0x1000', '--profile', x] },
    { kind: 'snapshot', noun: 'snapshot', args: (x) => ['vmi', 'translate', '--snapshot', x, '--dtb', '0x1000', '--address', '0'] },
  ];
}

/** The fixtures the commands need besides the file under test. */
function fixtures(dir: string): void {
  const r = cli(['compile', SPEC, '--mode', 'standalone', '-o', join(dir, 'compiled')]);
  assert.equal(r.status, 0, r.stderr);
  writeFileSync(join(dir, 'policy.conf'), readFileSync(join(dir, 'compiled', 'policy.conf')));
  writeFileSync(join(dir, 'small.raw'), new Uint8Array(0x4000));
}

function assertRefused(r: Run, what: RegExp, context: string): void {
  assert.equal(r.timedOut, false, `${context}: the command hung`);
  assert.equal(r.status, 2, `${context}: ${r.stderr}`);
  assert.match(r.stdout + r.stderr, what, context);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at .+:\d+:\d+\)?\n/, `${context}: no internal error`);
}

describe('input files that are not small regular files → exit 2, promptly', () => {
  it('a FIFO as each input kind is refused without waiting for a writer', () => {
    withTempDir((dir) => {
      fixtures(dir);
      const fifo = join(dir, 'pipe.yaml');
      mkfifo(fifo);
      for (const c of commands(dir)) assertRefused(cli(c.args(fifo)), /VP1004.* it is a FIFO \(named pipe\), not a regular file/, c.kind);
    });
  });

  it('/dev/zero as each input kind is refused as a character device', () => {
    withTempDir((dir) => {
      fixtures(dir);
      // Through a symlink with a .yaml name, so the diff takes it for a spec as well.
      const zero = join(dir, 'zero.yaml');
      symlinkSync('/dev/zero', zero);
      for (const c of commands(dir)) assertRefused(cli(c.args(zero)), /VP1004.* it is a character device, not a regular file/, c.kind);
    });
  });

  it('a directory where a file is expected is named as one', () => {
    withTempDir((dir) => {
      fixtures(dir);
      const sub = join(dir, 'adir.yaml');
      mkdirSync(sub);
      for (const c of commands(dir).filter((k) => k.noun !== 'policy')) assertRefused(cli(c.args(sub)), /VP1004.* it is a directory, not a regular file/, c.kind);
    });
  });

  it('a sparse file one byte over the cap of each kind is refused by its size', () => {
    withTempDir((dir) => {
      fixtures(dir);
      for (const c of commands(dir)) {
        if (c.cap === undefined) continue;
        const big = join(dir, `big-${c.noun.replace(/ /g, '-')}.${c.noun === 'spec' ? 'yaml' : 'conf'}`);
        sparse(big, c.cap + 1);
        assertRefused(cli(c.args(big)), new RegExp(`VP1003.*${c.noun} .*big-.* is ${c.cap + 1} bytes; vmipolicy reads ${c.noun}s of at most ${c.cap} bytes`), c.kind);
      }
    });
  });

  it('a 2 GiB sparse spec, policy or ELF core costs neither its size in memory nor its reading time', (t) => {
    if (!hasCommand('/usr/bin/time')) return t.skip('GNU time (/usr/bin/time) is not installed');
    withTempDir((dir) => {
      const big = join(dir, 'huge.yaml');
      sparse(big, 2 ** 31);
      // An ELF core claiming 2^32 - 1 program headers (PN_XNUM, the count in section header 0).
      const core = join(dir, 'huge.elf');
      const header = new Uint8Array(0x80);
      const v = new DataView(header.buffer);
      header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
      v.setUint16(16, 4, true);
      v.setBigUint64(32, 0x80n, true);
      v.setBigUint64(40, 0x40n, true);
      v.setUint16(54, 56, true);
      v.setUint16(56, 0xffff, true);
      v.setUint32(0x40 + 44, 0xffffffff, true);
      writeFileSync(core, header);
      truncateSync(core, 2 ** 31);
      for (const [args, code] of [
        [['compile', big, '-o', join(dir, 'out')], 'VP1003'],
        [['policy', 'stats', big], 'VP1003'],
        [['vmi', 'translate', '--snapshot', core, '--dtb', '0x1000', '--address', '0'], 'VP4002'],
      ] as const) {
        const r = spawnSync('/usr/bin/time', ['-f', 'maxrss=%M', process.execPath, repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', timeout: TIMEOUT_MS });
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, new RegExp(code));
        const kib = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]);
        // Node and the loaded modules take ~100 MiB; reading the file would take 2 GiB.
        assert.ok(kib > 0 && kib < 400 * 1024, `peak RSS ${kib} KiB for ${args[0]}`);
      }
    });
  });

  it('a manifest.json that is a FIFO or /dev/zero does not make -o DIR ours, and does not hang', () => {
    withTempDir((dir) => {
      for (const [name, make] of [['fifo', (p: string) => mkfifo(p)], ['zero', (p: string) => symlinkSync('/dev/zero', p)]] as const) {
        const out = join(dir, name);
        mkdirSync(out);
        make(join(out, 'manifest.json'));
        assertRefused(cli(['compile', SPEC, '-o', out]), /VP9001/, name);
      }
    });
  });
});

describe('the reader', () => {
  it('the caps are the ones the README\'s Limits section states', () => {
    const readme = readFileSync(repoPath('README.md'), 'utf8');
    const limits = readme.slice(readme.indexOf('### Limits'), readme.indexOf('## As a library'));
    const rows: [string, number][] = [
      ['spec', INPUT_KINDS.spec.maxBytes], ['policy', INPUT_KINDS.policy.maxBytes], ['`--xl CFG`', INPUT_KINDS.xl.maxBytes],
      ['`--xenstore DUMP`', INPUT_KINDS.xenstore.maxBytes], ['`--profile JSON`', INPUT_KINDS.profile.maxBytes],
      ['`explain LOG`', INPUT_KINDS.log.maxBytes],
    ];
    for (const [row, bytes] of rows) {
      const line = limits.split('\n').find((l) => l.startsWith(`| ${row}`));
      assert.ok(line, `a Limits row for ${row}`);
      assert.match(line, new RegExp(`\\| ${bytes / 2 ** 20} MiB \\|$`), row);
    }
  });

  it('reads a regular file whole, and never more than cap + 1 bytes of one whose size lied', () => {
    withTempDir((dir) => {
      const file = join(dir, 'f');
      writeFileSync(file, 'x'.repeat(100));
      const kind = { noun: 'thing', maxBytes: 100, unreadable: 'FileUnreadable' } as const;
      const read = readInputFile(file, kind);
      assert.ok(read.ok && read.bytes.length === 100);
      const over = readInputFile(file, { ...kind, maxBytes: 99 });
      assert.ok(!over.ok && over.diagnostic.code === 'VP1003' && /is 100 bytes/.test(over.diagnostic.message));
    });
    // /proc files are regular files whose fstat size is 0 although they have content, as a
    // file that grows between fstat and read: the read is still capped, and still whole.
    const status = '/proc/self/status';
    const whole = readInputFile(status, { noun: 'thing', maxBytes: 1 << 20, unreadable: 'FileUnreadable' });
    assert.ok(whole.ok && whole.bytes.length > 100, 'read past the fstat size');
    const capped = readInputFile(status, { noun: 'thing', maxBytes: 16, unreadable: 'FileUnreadable' });
    assert.ok(!capped.ok && capped.diagnostic.code === 'VP1003' && /more than 16 bytes/.test(capped.diagnostic.message));
  });

  it('reads the head of a large file without reading the rest', () => {
    withTempDir((dir) => {
      const file = join(dir, 'big');
      sparse(file, 2 ** 31);
      const head = readInputHead(file, INPUT_KINDS.spec, 16);
      assert.ok(head.ok && head.bytes.length === 16);
    });
  });

  it('a missing file is the kind\'s own "cannot read" diagnostic', () => {
    const spec = readInputFile('/nonexistent/x.yaml', INPUT_KINDS.spec);
    assert.ok(!spec.ok && spec.diagnostic.code === 'VP1001' && /ENOENT/.test(spec.diagnostic.message));
    const profile = readInputFile('/nonexistent/p.json', INPUT_KINDS.profile);
    assert.ok(!profile.ok && profile.diagnostic.code === 'VP4010');
    const snapshot = openRegularFile('/nonexistent/s.raw', SNAPSHOT_KIND);
    assert.ok(!snapshot.ok && snapshot.diagnostic.code === 'VP4001');
  });
});
