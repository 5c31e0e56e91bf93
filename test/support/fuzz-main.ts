// `npm run fuzz`: the fuzz harness run long, outside the test runner. Environment:
//   FUZZ_SEED     first seed (default the CI run's); case i of a target uses seed FUZZ_SEED+i
//   FUZZ_RUNS     cases per target (default 40; with FUZZ_SECONDS, a cap: 0 = no cap)
//   FUZZ_SECONDS  keep generating, round-robin over the targets, until this much time has passed
//   FUZZ_TARGET   comma-separated target names (and/or "regression"); default all
//   FUZZ_SHAPE    only the regression cases whose shape contains this text
//   FUZZ_JOBS     CLI processes at once (default min(2, cores))
//   FUZZ_CASE_SECONDS, FUZZ_CASE_MIB  the per-case bounds (default 10 s, 768 MiB)
// Prints each failure as it happens (seed, command, observation, reproducer), then the
// distinct failures; exits 1 if any case failed.
//
// node --test runs every .js under dist/test/, this file included: it only fuzzes when it is
// the program itself, not a test file.

import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { caseOf, effectiveBounds, DEFAULT_SEED, describeFailure, distinctFailures, envNumber, runCase, type CaseResult } from './fuzz-engine.js';
import { regressionCases } from './fuzz-regressions.js';
import { TARGETS, XEN_TREE } from './fuzz-targets.js';
import { describeObservation, firstLine, HAS_GNU_TIME } from './fuzz-run.js';

async function main(): Promise<number> {
  const seed = envNumber('FUZZ_SEED', DEFAULT_SEED);
  const seconds = envNumber('FUZZ_SECONDS', 0);
  const runs = envNumber('FUZZ_RUNS', seconds ? 0 : 40);
  const wanted = process.env.FUZZ_TARGET?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted?.filter((w) => w !== 'regression' && !TARGETS.some((t) => t.name === w));
  if (unknown?.length) {
    console.error(`fuzz: unknown target ${unknown.join(', ')} (targets: ${TARGETS.map((t) => t.name).join(', ')}, regression)`);
    return 2;
  }
  const targets = TARGETS.filter((t) => (!wanted || wanted.includes(t.name)) && !t.unavailable?.());
  for (const t of TARGETS) if (t.unavailable?.()) console.log(`fuzz: ${t.name} skipped: ${t.unavailable()}`);
  const bounds = await effectiveBounds();
  console.log(`fuzz: seed ${seed}, ${runs ? `${runs} cases per target` : 'no case cap'}${seconds ? `, ${seconds} s` : ''}, bounds ${bounds.seconds} s / ${bounds.rssMiB} MiB per case, peak RSS ${HAS_GNU_TIME ? 'from GNU time' : 'sampled (VmHWM)'}`);

  const results: CaseResult[] = [];
  const record = (r: CaseResult): void => {
    results.push(r);
    if (r.violations.length) console.log(describeFailure(r));
    else if (process.env.FUZZ_VERBOSE) console.log(`ok ${r.case.target} ${r.seed ?? r.case.shape.replace(/[\x00-\x1f]/g, '?')}: ${describeObservation(r.observation)} ${firstLine(r.observation.stderr)}`);
  };

  if (!wanted || wanted.includes('regression')) {
    const shape = process.env.FUZZ_SHAPE;
    const cases = regressionCases().filter((c) => (existsSync(XEN_TREE) || !c.argv.includes(XEN_TREE)) && (!shape || c.shape.includes(shape)));
    await Promise.all(cases.map((c) => runCase(c, undefined).then(record)));
  }
  const deadline = seconds ? Date.now() + seconds * 1000 : Infinity;
  // Round-robin, two cases in flight per target at most, until the cap or the deadline.
  const pending = new Set<Promise<void>>();
  for (let i = 0; (runs === 0 || i < runs) && Date.now() < deadline && targets.length; i++) {
    for (const t of targets) {
      if (Date.now() >= deadline) break;
      const p = runCase(caseOf(t, seed + i), seed + i).then(record);
      pending.add(p);
      p.finally(() => pending.delete(p));
      if (pending.size >= 4) await Promise.race(pending);
    }
  }
  await Promise.all(pending);

  const failed = results.filter((r) => r.violations.length);
  console.log(`\nfuzz: ${results.length} cases, ${failed.length} failed`);
  if (failed.length) {
    console.log('distinct failures (command · violation · detail), with one reproducer each:');
    for (const [key, group] of distinctFailures(failed)) {
      const r = group[0] as CaseResult;
      console.log(`  ${group.length}× ${key.replace(/[\x00-\x1f]/g, '?')}\n      e.g. ${r.case.shape.replace(/[\x00-\x1f]/g, '?').slice(0, 120)} — ${describeObservation(r.observation)} — ${r.reproducer}/repro.sh`);
    }
  }
  return failed.length ? 1 : 0;
}

if (process.env.NODE_TEST_CONTEXT === undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
