// The fuzz harness at CI size: every input format through the real CLI entry (a child
// process per case) under a time and a memory bound, judged by one oracle — exit 0, 1 or 2,
// never 70 nor a signal; no JavaScript stack trace; JSON/SARIF output parses even on exit 2;
// text output holds no C0 control but \n and \t. A fixed seed makes this run deterministic;
// `npm run fuzz` runs the same targets longer (FUZZ_RUNS, FUZZ_SECONDS, FUZZ_SEED). Every
// failure is printed with its seed and a reproducer kept under os.tmpdir().

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { caseOf, DEFAULT_SEED, describeFailure, envNumber, runAll, type CaseResult } from './support/fuzz-engine.js';
import { regressionCases } from './support/fuzz-regressions.js';
import { XEN_TREE, TARGETS } from './support/fuzz-targets.js';
import { CI_BOUNDS, HAS_GNU_TIME } from './support/fuzz-run.js';
import { repoPath } from './support/env.js';

/** Cases per target in `npm test`: what fits the suite's budget of about a minute on two cores. */
const CI_RUNS = envNumber('FUZZ_RUNS', 2);
const SEED = envNumber('FUZZ_SEED', DEFAULT_SEED);

function assertNoFailures(results: readonly CaseResult[]): void {
  const failed = results.filter((r) => r.violations.length);
  for (const r of failed) console.log(describeFailure(r));
  assert.equal(failed.length, 0, `${failed.length} of ${results.length} cases failed:\n${failed.map(describeFailure).join('\n')}`);
}

describe('fuzz: every input format through the CLI, bounded', { concurrency: true }, () => {
  it('runs the built CLI and measures peak memory', () => {
    assert.ok(existsSync(repoPath('dist', 'cli', 'bin.js')), 'dist/cli/bin.js (npm run build)');
    if (!HAS_GNU_TIME) console.log('# fuzz: /usr/bin/time (Debian package "time") is absent: peak RSS is sampled from /proc/<pid>/status VmHWM');
    console.log(`# fuzz: seed ${SEED}, ${CI_RUNS} cases per target, bounds ${CI_BOUNDS.seconds} s and ${CI_BOUNDS.rssMiB} MiB per case`);
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
