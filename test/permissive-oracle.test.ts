// `permissive T;` as the real tools read it: checkpolicy builds the policy (Xen would load
// it) and setools' seinfo lists exactly the permissive types our model records — the types
// `check` then refuses to prove anything about. What a permissive type may do on the host
// is Xen's avc.c (AVD_FLAGS_PERMISSIVE lets every denial through), tested in vmi-host.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { policyFromText } from '../policy/load.js';
import { requires } from './support/env.js';
import { checkPolicyText, compileStandalone, inject } from './support/checker.js';
import { checkpolicy, withTempDir } from './support/oracles.js';
import { monWebSpec } from './support/specs.js';

test('permissive types: checkpolicy accepts them, seinfo lists the same ones as our model, and check is not PROVEN', (t) => {
  if (!requires(t, { commands: ['checkpolicy', 'seinfo'] })) return;
  const base = compileStandalone(monWebSpec('4.22'));
  const text = inject(base.policyText, ['permissive mon_t;', 'permissive web_t;']).text;
  withTempDir((dir) => {
    const built = checkpolicy(dir, text);
    assert.ok(built.ok, built.output);
    const out = execFileSync('seinfo', [built.binary, '--permissive'], { encoding: 'utf8' });
    const theirs = out.split('\n').map((l) => l.trim()).filter((l) => /^[a-z][a-z0-9_]*_t$/.test(l)).sort();
    const model = policyFromText('policy.conf', text).policy!.model;
    const ours = [...model.permissive].map((i) => model.types[i] as string).sort();
    assert.deepEqual(theirs, ['mon_t', 'web_t']);
    assert.deepEqual(ours, theirs);
  });
  const report = checkPolicyText(base, text);
  assert.equal(report.proven, false);
  assert.deepEqual(report.findings.filter((f) => f.ruleId === 'permissive' && f.severity === 'error').map((f) => f.subject).sort(), ['mon_t', 'web_t']);
  assert.equal(checkPolicyText(base, base.policyText).proven, true, 'without the statements it is proven');
});
