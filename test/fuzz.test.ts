// The fuzz harness at CI size: every input format through the real CLI entry (a child
// process per case) under a time and a memory bound, judged by one oracle — exit 0, 1 or 2,
// never 70 nor a signal; no JavaScript stack trace; JSON/SARIF output parses even on exit 2;
// text output holds no C0 control but \n and \t. A fixed seed makes this run deterministic;
// `npm run fuzz` runs the same targets longer (FUZZ_RUNS, FUZZ_SECONDS, FUZZ_SEED). Every
// failure is printed with its seed and a reproducer kept under os.tmpdir().

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { caseOf, effectiveBounds, DEFAULT_SEED, describeFailure, envNumber, runAll, type CaseResult } from './support/fuzz-engine.js';
import { regressionCases } from './support/fuzz-regressions.js';
import { XEN_TREE, TARGETS } from './support/fuzz-targets.js';
import { CI_BOUNDS, HAS_GNU_TIME, judge, materialise, observe, type FuzzCase, type Observation } from './support/fuzz-run.js';
import { applyTextEdits, MAX_INPUT_BYTES } from './support/fuzz-mutate.js';
import { repoPath } from './support/env.js';
import { EXAMPLE_SPEC, tinyGuest, XENSTORE_DUMP_SEEDS, XL_SEEDS } from './support/fuzz-seeds.js';

/** Cases per target in `npm test`: what fits the suite's budget of about a minute on two cores. */
const CI_RUNS = envNumber('FUZZ_RUNS', 2);
const SEED = envNumber('FUZZ_SEED', DEFAULT_SEED);

function assertNoFailures(results: readonly CaseResult[]): void {
  const failed = results.filter((r) => r.violations.length);
  for (const r of failed) console.log(describeFailure(r));
  assert.equal(failed.length, 0, `${failed.length} of ${results.length} cases failed:\n${failed.map(describeFailure).join('\n')}`);
}

describe('the fuzz oracle', () => {
  const bounds = { seconds: 10, rssMiB: 512 };
  const c = (format: string): FuzzCase => ({ target: 't', shape: 's', files: [], argv: ['check', 'x.yaml', '--format', format] });
  const o = (over: Partial<Observation>): Observation => ({
    exit: 2, signal: null, timedOut: false, seconds: 1, peakMiB: 100, peakSource: 'gnu-time',
    stdout: Buffer.from(''), stderr: Buffer.from('x.yaml:1:1: error VP1010: bad\n\tsee here\n'), outputCapped: false, executed: false, ...over,
  });
  const kinds = (format: string, over: Partial<Observation>): string[] => judge(c(format), o(over), bounds).map((v) => v.kind);

  it('passes a positioned error, and JSON output that parses', () => {
    assert.deepEqual(kinds('text', {}), []);
    assert.deepEqual(kinds('json', { stdout: Buffer.from('{"ok":false}') }), []);
    assert.deepEqual(kinds('sarif', { exit: 1, stdout: Buffer.from('{"version":"2.1.0"}') }), []);
  });

  it('flags every way a run can go wrong', () => {
    assert.deepEqual(kinds('text', { exit: 70 }), ['exit']);
    assert.deepEqual(kinds('text', { exit: 3 }), ['exit']);
    assert.deepEqual(kinds('text', { exit: null, signal: 'SIGABRT' }), ['signal']);
    assert.deepEqual(kinds('text', { exit: null, signal: 'SIGKILL', timedOut: true }), ['timeout']);
    assert.deepEqual(kinds('text', { seconds: 11 }), ['timeout']);
    assert.deepEqual(kinds('text', { peakMiB: 513 }), ['memory']);
    assert.deepEqual(kinds('text', { stderr: Buffer.from('Error\n    at parse (/x/dist/grammar/parser.js:1:2)\n') }), ['stack-trace']);
    assert.deepEqual(kinds('text', { stderr: Buffer.from("vmipolicy: internal error: Cannot read properties of undefined (TypeError)\n") }), ['stack-trace']);
    assert.deepEqual(kinds('json', { stdout: Buffer.from('') }), ['json']);
    assert.deepEqual(kinds('sarif', { stdout: Buffer.from('{"runs": [') }), ['json']);
    assert.deepEqual(kinds('text', { stdout: Buffer.from('[ 1] \x1b]0;pwn\x07\n') }), ['control-character']);
    assert.deepEqual(kinds('json', { stdout: Buffer.from('{}'), stderr: Buffer.from('name "a\rb"\n') }), ['control-character']);
    assert.deepEqual(kinds('text', { outputCapped: true }), ['output-size']);
    assert.deepEqual(kinds('text', { executed: true }), ['command-execution']);
  });

  it('a real run is observed with its exit, output and peak memory', async () => {
    const run: FuzzCase = { target: 't', shape: 'capabilities', files: [], argv: ['capabilities', '--format', 'json'] };
    const dir = materialise(run);
    const seen = await observe(run, dir, CI_BOUNDS);
    assert.equal(seen.exit, 0, seen.stderr.toString());
    assert.ok(seen.peakMiB !== undefined && seen.peakMiB > 20 && seen.peakMiB < CI_BOUNDS.rssMiB, `peak ${seen.peakMiB} MiB`);
    assert.deepEqual(judge(run, seen, CI_BOUNDS), []);
  });

  it('the seeds the mutators start from are valid inputs (so mutants are near-valid)', async () => {
    const g = tinyGuest();
    const runs: FuzzCase[] = [
      { target: 't', shape: 'raw seed', files: [{ name: 'g.raw', content: g.raw }, { name: 'p.json', content: g.profile }], argv: ['vmi', 'ps', '--snapshot', { file: 'g.raw' }, '--dtb', '0x1000', '--profile', { file: 'p.json' }] },
      { target: 't', shape: 'elf seed', files: [{ name: 'g.elf', content: g.elf }, { name: 'p.json', content: g.profile }], argv: ['vmi', 'ps', '--snapshot', { file: 'g.elf' }, '--dtb', '0x1000', '--profile', { file: 'p.json' }, '--format', 'json'] },
      { target: 't', shape: 'dump seed', files: [{ name: 'x.dump', content: XENSTORE_DUMP_SEEDS[1] as string }, { name: 'g.cfg', content: XL_SEEDS[XL_SEEDS.length - 1] as string }], argv: ['check', EXAMPLE_SPEC('tinyvmi'), '--xenstore', { file: 'x.dump' }, '--xl', { file: 'g.cfg' }, '--format', 'json'] },
    ];
    const [raw, elf, dump] = await runAll(runs.map((c) => ({ case: c })));
    assert.equal(raw?.observation.exit, 0, raw?.observation.stderr.toString());
    assert.deepEqual(raw?.observation.stdout.toString().match(/^\[ *\d+\] \S+/gm), ['[    0] swapper/0', '[    1] init', '[    2] sh']);
    assert.equal(elf?.observation.exit, 0, elf?.observation.stderr.toString());
    assert.deepEqual((JSON.parse(elf?.observation.stdout.toString() ?? '') as { processes: { comm: string }[] }).processes.map((p) => p.comm), ['swapper/0', 'init', 'sh']);
    // libxl's bare layout lacks the name lookup's read ACLs: findings (exit 1), not an input error.
    assert.equal(dump?.observation.exit, 1, dump?.observation.stderr.toString());
    assert.ok((JSON.parse(dump?.observation.stdout.toString() ?? '') as { findings: { ruleId: string }[] }).findings.some((f) => f.ruleId === 'xenstore-acl'));
  });

  it('mutations keep every input under the size limit', () => {
    const grown = applyTextEdits('a b c', [{ op: 'duplicate', at: 0, span: 3, times: 100_000_000 }, { op: 'long-name', at: 1, length: 400_000, unit: 'é' }, { op: 'nest', at: 2, depth: 100_000, pair: 1 }]);
    assert.ok(Buffer.byteLength(grown) <= MAX_INPUT_BYTES, `${Buffer.byteLength(grown)} bytes`);
    assert.ok(Buffer.byteLength(grown) > MAX_INPUT_BYTES / 2);
  });
});

describe('fuzz: every input format through the CLI, bounded', { concurrency: true }, () => {
  it('runs the built CLI and measures peak memory', async () => {
    assert.ok(existsSync(repoPath('dist', 'cli', 'bin.js')), 'dist/cli/bin.js (npm run build)');
    if (!HAS_GNU_TIME) console.log('# fuzz: /usr/bin/time (Debian package "time") is absent: peak RSS is sampled from /proc/<pid>/status VmHWM');
    const bounds = await effectiveBounds();
    console.log(`# fuzz: seed ${SEED}, ${CI_RUNS} cases per target, bounds ${bounds.seconds} s and ${bounds.rssMiB} MiB per case`);
  });

  for (const target of TARGETS) {
    it(`${target.name}: ${CI_RUNS} generated cases`, async (t) => {
      const missing = target.unavailable?.();
      if (missing) {
        console.log(`# skipped ${target.name}: ${missing}`);
        t.skip(missing);
        return;
      }
      const cases = Array.from({ length: CI_RUNS }, (_, i) => ({ case: caseOf(target, SEED + i), seed: SEED + i }));
      assertNoFailures(await runAll(cases));
    });
  }

  it('the regression corpus of attack shapes', async () => {
    const all = regressionCases();
    const runnable = existsSync(XEN_TREE) ? all : all.filter((c) => !c.argv.includes(XEN_TREE));
    if (runnable.length < all.length) console.log(`# fuzz: ${all.length - runnable.length} regression cases skipped: ${XEN_TREE} is absent`);
    assertNoFailures(await runAll(runnable.map((c) => ({ case: c }))));
  });
});
