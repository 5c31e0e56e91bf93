// Progress inside long runs: the library reports where it is as data (check phases, the
// self-test's boot, introspectors and target sessions) and the CLI draws it as one line on a
// terminal's stderr, redrawn in place at most a few times a second and wiped before anything
// else is written — never in a pipe, never with --quiet, never on stdout.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkSpec, type CheckPhase } from '../api/check.js';
import { selftest, verify } from '../api/selftest.js';
import type { SelftestProgress } from '../vmi/selftest/selftest.js';
import { selftestJson } from '../report/selftest.js';
import { REDRAW_MS, statusLine } from '../cli/progress.js';
import type { Io } from '../cli/io.js';
import { repoPath, requires } from './support/env.js';
import { withTempDir } from './support/oracles.js';
import { fleetSpec } from './support/fleet.js';


const FLEET = { file: 'fleet.yaml', content: fleetSpec(2, 3) };

function terminalIo(extra: Partial<Io> = {}): { io: Io; err: string[] } {
  const err: string[] = [];
  return { io: { stdout: () => undefined, stderr: (s) => { err.push(s); }, terminal: true, ...extra }, err };
}

describe('progress: the library reports data', () => {
  it('selftest tells the boot, then each introspector and each of its sessions, in order', () => {
    const seen: SelftestProgress[] = [];
    const outcome = selftest(FLEET, { onProgress: (p) => { seen.push(p); } });
    assert.equal(outcome.exit, 0);
    assert.deepEqual(seen[0], { phase: 'boot' });
    const runs = seen.slice(1).map((p) => (p.phase === 'run' ? `${p.introspector} ${p.index + 1}/${p.introspectors} ${p.targetsDone}/${p.targets}` : p.phase));
    assert.deepEqual(runs, ['m0 1/2 0/3', 'm0 1/2 1/3', 'm0 1/2 2/3', 'm0 1/2 3/3', 'm1 2/2 0/3', 'm1 2/2 1/3', 'm1 2/2 2/3', 'm1 2/2 3/3']);
  });

  it('the report is the same with and without a progress callback', () => {
    const plain = selftest(FLEET);
    const watched = selftest(FLEET, { onProgress: () => undefined });
    assert.ok(plain.report && watched.report);
    assert.equal(selftestJson(watched.report), selftestJson(plain.report));
  });

  it('check tells its phases in order; verify tells the check phases, then the self-test', () => {
    const phases: CheckPhase[] = [];
    assert.equal(checkSpec(FLEET, { onPhase: (p) => { phases.push(p); } }).exit, 0);
    assert.deepEqual(phases, ['compile', 'policy', 'prove']);
    const all: string[] = [];
    const outcome = verify(FLEET, { onPhase: (p) => { all.push(p); }, onProgress: (p) => { all.push(p.phase); } });
    assert.equal(outcome.ok, true);
    assert.deepEqual(all.slice(0, 5), ['compile', 'policy', 'prove', 'boot', 'run']);
  });
});

describe('progress: the status line', () => {
  it('draws nothing unless a person is watching: not in a pipe, not with --quiet', () => {
    for (const extra of [{ terminal: false }, { quiet: true }]) {
      const { io, err } = terminalIo(extra);
      const status = statusLine(io);
      assert.equal(status.active, false);
      status.show('x', true);
      status.clear();
      assert.deepEqual(err, []);
    }
  });

  it('redraws in place at most every REDRAW_MS, pads over a longer line, and is wiped before other stderr', () => {
    let now = 0;
    const { io, err } = terminalIo();
    const status = statusLine(io, () => now);
    status.show('a longer line');
    now += REDRAW_MS - 1;
    status.show('dropped');
    now += 1;
    status.show('short');
    assert.deepEqual(err, ['\rvmipolicy: a longer line', '\rvmipolicy: short        ']);
    status.io.stderr('vmipolicy: error\n');
    assert.deepEqual(err.slice(2), [`\r${' '.repeat('vmipolicy: a longer line'.length)}\r`, 'vmipolicy: error\n']);
    status.clear();
    assert.equal(err.length, 4, 'nothing left to wipe');
    status.show('forced', true);
    assert.equal(err[4], '\rvmipolicy: forced');
  });

  it('never wraps: a line wider than the terminal is cut with an ellipsis', () => {
    const { io, err } = terminalIo({ columns: 30 });
    statusLine(io, () => 0).show('self-test: introspector 1/100 (a-rather-long-name)…');
    assert.equal([...(err[0] as string)].length, 1 + 29);
    assert.match(err[0] as string, /…$/);
  });
});

describe('progress: the executable on a terminal', () => {
  /** stderr of the command on a pseudo-terminal (util-linux `script`), stdout to `out`. */
  function onTerminal(args: readonly string[], out: string): string {
    const line = [process.execPath, repoPath('dist', 'cli', 'bin.js'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return spawnSync('script', ['-qec', `${line} >'${out}'`, '/dev/null'], { encoding: 'utf8', cwd: repoPath(), env: { ...process.env, NO_COLOR: '1' } }).stdout;
  }

  it('verify and selftest draw the self-test line and wipe it; stdout is the same bytes as in a pipe; compile and check draw their phases', (t) => {
    if (!requires(t, { commands: ['script'] })) return;
    withTempDir((dir) => {
      const spec = join(dir, 'fleet.yaml');
      writeFileSync(spec, FLEET.content);
      for (const command of ['verify', 'selftest']) {
        const out = join(dir, `${command}.json`);
        const shown = onTerminal([command, spec, '--format', 'json'], out);
        assert.match(shown, /\rvmipolicy: self-test: booting the simulated host…/, JSON.stringify(shown));
        assert.match(shown, /\rvmipolicy: self-test: introspector 1\/2 \(m0\), target 0\/3…/);
        // The last thing drawn is the wipe: the shell prompt starts on a clean line.
        assert.match(shown, /\r +\r$/);
        const piped = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), command, spec, '--format', 'json'], { encoding: 'utf8' });
        assert.equal(piped.status, 0, piped.stderr);
        assert.equal(piped.stderr, '', 'no progress in a pipe');
        assert.equal(readFileSync(out, 'utf8'), piped.stdout);
        assert.doesNotMatch(onTerminal([command, spec, '--quiet'], join(dir, 'quiet.txt')), /vmipolicy: self-test/);
      }
      const compiled = onTerminal(['compile', spec, '-o', join(dir, 'out')], join(dir, 'compile.txt'));
      assert.match(compiled, /\rvmipolicy: compiling the spec…/);
      assert.match(compiled, /\rvmipolicy: writing \S+out: file 1\/12…/);
      assert.match(compiled, /\r +\r$/);
      assert.match(readFileSync(join(dir, 'compile.txt'), 'utf8'), /^wrote 12 files to /);
      const checked = onTerminal(['check', spec], join(dir, 'check.txt'));
      assert.match(checked, /\rvmipolicy: compiling the spec…\rvmipolicy: reading the policy…/);
      assert.match(checked, /\rvmipolicy: proving least privilege…/);
    });
  });
});
