// Minimality: for random specs the compiled policy is proven, and taking away any one
// permission a capability needs makes `insufficient` fire for that capability (and the
// object and permission) — the compiler grants nothing that is not needed, and the checker
// notices when anything needed is missing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { specArbitrary, toYaml } from './support/arbitrary.js';
import { says, checkPolicyText, compileStandalone } from './support/checker.js';
import { policyFromText } from '../policy/load.js';
import { grantingRules } from '../checker/effective.js';

/** Removes `perm` from every rule line `allow S O:cls …` (dropping a rule left empty). */
function withoutPermission(text: string, s: string, o: string, cls: string, perm: string): string {
  const head = `allow ${s} ${o}:${cls} `;
  return text
    .split('\n')
    .flatMap((line) => {
      if (!line.startsWith(head)) return [line];
      const body = line.slice(head.length).replace(/;\s*$/, '').replace(/[{}]/g, ' ').trim().split(/\s+/);
      const kept = body.filter((p) => p !== perm);
      if (kept.length === body.length) return [line];
      return kept.length ? [`${head}{ ${kept.join(' ')} };`] : [];
    })
    .join('\n');
}

test('minimality: random specs are proven, and each needed permission removed makes insufficient fire', () => {
  let removals = 0;
  let stillGranted = 0;
  fc.assert(
    fc.property(specArbitrary({ modes: ['standalone'] }), fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), (spec, picks) => {
      const compiled = compileStandalone(toYaml(spec));
      const baseline = checkPolicyText(compiled, compiled.policyText);
      assert.equal(baseline.proven, true, baseline.findings.filter((f) => f.severity === 'error').map((f) => says(f)).join('\n'));
      const needed = compiled.ir!.vmiGrants.filter((g) => g.origin.kind === 'capability');
      for (const i of picks) {
        const g = needed[i % needed.length];
        if (!g || g.origin.kind !== 'capability') continue;
        const text = withoutPermission(compiled.policyText, g.subject, g.object, g.cls, g.perm);
        const model = policyFromText('policy.conf', text).policy?.model;
        assert.ok(model);
        const [s, o, c] = [model.typeIndex.get(g.subject), model.typeIndex.get(g.object), model.classIndex.get(g.cls)];
        const p = c === undefined ? undefined : model.classes[c]?.permIndex.get(g.perm);
        if (grantingRules(model, s!, o!, c!, p!).length > 0) {
          stillGranted++;
          continue;
        }
        removals++;
        const report = checkPolicyText(compiled, text);
        const capability = g.origin.capability;
        const hit = report.findings.some((f) => f.ruleId === 'insufficient' && f.subject === g.subject && f.object === g.object && f.class === g.cls && f.perms.includes(g.perm) && says(f).includes(`capability ${capability}`));
        assert.ok(hit, `removing ${g.cls}:${g.perm} of ${g.subject} on ${g.object} (${capability}) must be insufficient; got:\n${report.findings.map((f) => `${f.ruleId} ${says(f)}`).join('\n')}`);
        assert.equal(report.proven, false);
      }
    }),
    { numRuns: 60, seed: 7 },
  );
  console.log(`minimality: ${removals} needed permissions removed, each caught by insufficient; ${stillGranted} were also granted by another rule and were not removed`);
  assert.ok(removals >= 150);
});
