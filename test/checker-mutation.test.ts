// Mutation: take a proven compiled policy, add one widening (an extra permission, an
// attribute carrying one, a relabel chain, a boolean-guarded grant) and the checker must
// flag it, citing an added line — every time. The detection rate is printed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { specArbitrary, toYaml } from './support/arbitrary.js';
import { checkPolicyText, citing, compileStandalone, inject } from './support/checker.js';
import { concreteMutation, mutationChoice, MUTATION_KINDS, type MutationKind } from './support/mutations.js';
import { policyFromText } from '../policy/load.js';

const RUNS = 1200;
const SPECS = 24;

test(`mutation: every widening of a proven policy is flagged at the added line (${RUNS} runs)`, () => {
  const specs = fc.sample(specArbitrary({ modes: ['standalone'], releases: ['4.11', '4.13', '4.17', '4.19', '4.22'] }), { numRuns: SPECS, seed: 20261125 });
  const pool = specs.map((s) => {
    const compiled = compileStandalone(toYaml(s));
    const model = policyFromText('policy.conf', compiled.policyText).policy?.model;
    assert.ok(model);
    const baseline = checkPolicyText(compiled, compiled.policyText);
    assert.equal(baseline.proven, true, `the unmutated policy must be proven:\n${baseline.findings.filter((f) => f.severity === 'error').map((f) => f.message).join('\n')}`);
    return { compiled, model };
  });
  const tried = new Map<MutationKind, number>(MUTATION_KINDS.map((k) => [k, 0]));
  const caught = new Map<MutationKind, number>(MUTATION_KINDS.map((k) => [k, 0]));
  let skipped = 0;
  const misses: string[] = [];
  fc.assert(
    fc.property(fc.nat(SPECS - 1), mutationChoice, (i, choice) => {
      const { compiled, model } = pool[i] as (typeof pool)[number];
      const m = concreteMutation(compiled.ir!, model, choice);
      if (!m) {
        skipped++;
        return;
      }
      tried.set(m.kind, (tried.get(m.kind) ?? 0) + 1);
      const injected = inject(compiled.policyText, m.statements);
      const report = checkPolicyText(compiled, injected.text);
      if (citing(report.findings, injected.lines, { notes: true }).length > 0) caught.set(m.kind, (caught.get(m.kind) ?? 0) + 1);
      else misses.push(`${m.kind}: ${m.statements.join(' ')}`);
    }),
    { numRuns: RUNS, seed: 424242 },
  );
  const total = [...tried.values()].reduce((a, b) => a + b, 0);
  const found = [...caught.values()].reduce((a, b) => a + b, 0);
  console.log(`mutation detection: ${found}/${total} = ${((100 * found) / Math.max(1, total)).toFixed(1)} % (${skipped} choices granted nothing new and were skipped)`);
  for (const k of MUTATION_KINDS) console.log(`  ${k.padEnd(20)} ${caught.get(k)}/${tried.get(k)}`);
  assert.ok(total >= 1000, `at least 1 000 mutations must be tried, got ${total}`);
  assert.deepEqual(misses.slice(0, 10), [], `undetected mutations (${misses.length})`);
});
