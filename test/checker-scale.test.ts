// The checker on pathological hosts: N domain types in one attribute with attribute-wide
// relabel, set_target, control, read, write and reverse rules (test/support/pathological.ts).
// Findings must stay aggregated — one per granting rule (or rule combination), with a count
// and a few examples — while covering exactly what the per-pair analysis covered; and the
// labels of DOMID_IO/DOMID_XEN are treated as what they are: no guests, no rights of their own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { says, sentences, checkPolicyText, compileStandalone, inject } from './support/checker.js';
import { genType, pathologicalPolicy, SCALE_HOST, SCALE_SPEC, type PathologicalRule } from './support/pathological.js';
import { repoPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';
import { RULE_IDS } from '../checker/findings.js';
import { reportSarif } from '../report/check/sarif.js';
import { accessKey, ownTypes } from '../checker/intent.js';
import { typeIndexOf } from '../policy/model/query.js';

const compiled = compileStandalone(SCALE_SPEC);
const ALL: readonly PathologicalRule[] = ['relabel', 'set-target', 'control', 'read', 'write', 'reverse'];

test('scale: a 400-type attribute host through `check` gives one finding per granting rule, not per type pair', () => {
  const types = 400;
  const host = pathologicalPolicy(compiled.policyText, types, ALL, SCALE_HOST);
  withTempDir((dir) => {
    writeFileSync(join(dir, 'spec.yaml'), SCALE_SPEC);
    writeFileSync(join(dir, 'host.conf'), host.text);
    // Generous: the bound only catches a search that went quadratic in memory or time again.
    const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), 'check', join(dir, 'spec.yaml'), '--policy', join(dir, 'host.conf'), '--format', 'json'], { encoding: 'utf8', timeout: 240_000, maxBuffer: 256 << 20 });
    assert.equal(r.status, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const report = JSON.parse(r.stdout) as { verdict: string; findings: { ruleId: string; severity: string; subject: string; count?: number; examples?: string[]; objects?: string[]; provenance: { kind: string }[] }[] };
    assert.equal(report.verdict, 'not-proven');
    assert.ok(report.findings.length <= host.rules * RULE_IDS.length, `${report.findings.length} findings for ${host.rules} rules`);
    assert.ok(r.stdout.length < 4 << 20, `the report stays small: ${r.stdout.length} bytes`);
    for (const f of report.findings) {
      assert.ok(f.provenance.some((l) => l.kind === 'policy' || l.kind === 'spec'), 'every finding keeps its provenance');
      assert.ok((f.examples?.length ?? 0) <= 3);
      if (f.count !== undefined) assert.ok(f.count > 1 && (f.examples?.length ?? 0) >= 1);
    }
    const flows = report.findings.filter((f) => f.ruleId === 'cross-target-flow' && f.severity === 'error');
    const pairs = flows.reduce((n, f) => n + (f.count ?? 1), 0);
    assert.ok(pairs >= types * (types - 1), `every ordered pair of generated domains is covered: ${pairs}`);
    const escalation = report.findings.filter((f) => f.ruleId === 'escalation' && f.subject === 'tgt_a_t');
    const reached = new Set(escalation.flatMap((f) => f.objects ?? []));
    for (let i = 1; i <= types; i++) assert.ok(reached.has(genType(i)), `tgt_a_t reaches ${genType(i)}`);
  });
});

test('scale: aggregated cross-target flows cover exactly the pairs of the per-pair analysis', () => {
  const host = pathologicalPolicy(compiled.policyText, 30, ['read', 'write', 'control'], SCALE_HOST);
  const report = checkPolicyText(compiled, host.text, { rules: ['cross-target-flow'] });
  const ctx = report.context;
  const s = ctx.intent.introspectors[0]!;
  // The reference: every (from, to) with a read of `from` and a write of `to`, one side undeclared.
  const own = new Set(ownTypes(s));
  const edges = report.graph.flowEdges(typeIndexOf(ctx.model, s.type)!).filter((e) => !own.has(e.to) && !ctx.intent.trusted.has(e.to));
  const needed = ctx.intent.needed.get(s.type);
  const declared = (e: (typeof edges)[number]): boolean => s.targets.some((t) => t.type === e.to) && e.perms.every((p) => needed?.has(accessKey(e.to, e.cls, p)));
  const reads = new Map<string, boolean>();
  const writes = new Map<string, boolean>();
  for (const e of edges) {
    const side = e.direction === 'read' ? reads : writes;
    side.set(e.to, (side.get(e.to) ?? false) || !declared(e));
  }
  const expected = new Set<string>();
  for (const [from, undeclaredFrom] of reads) for (const [to, undeclaredTo] of writes) if (from !== to && (undeclaredFrom || undeclaredTo)) expected.add(`${from} → ${to}`);
  const errors = report.findings.filter((f) => f.severity === 'error');
  assert.equal(errors.reduce((n, f) => n + (f.count ?? 1), 0), expected.size, 'the counts add up to the pairs');
  assert.ok(errors.length < expected.size / 100, `${errors.length} findings for ${expected.size} pairs`);
  for (const f of errors) {
    for (const ex of f.examples ?? [f.object]) assert.ok(expected.has(ex), `${ex} is a real pair`);
    for (const [read, write] of f.witness!.paths) assert.ok(expected.has(`${read!.to} → ${write!.to}`));
  }
  // SARIF stays one result per finding, with the count and examples beside the verdict.
  const sarif = JSON.parse(reportSarif(report, '0.0.0')) as { runs: { results: { properties: { count?: number } }[] }[] };
  assert.equal(sarif.runs[0]!.results.length, report.findings.length);
  assert.ok(sarif.runs[0]!.results.some((x) => (x.properties.count ?? 0) > 1), 'SARIF carries the count');
});

test('pseudo-domains: mapping domio_t is device-memory access, not introspection, and domio_t holds no rights', () => {
  const injected = inject(compiled.policyText, [
    'allow tgt_a_t domio_t:mmu { map_read map_write };',
    // Never a subject: Xen runs no vCPU as DOMID_IO, so these rules can never apply.
    'allow domio_t dom0_t:domain setvcpucontext;',
    'allow domio_t mon_a_t:domain pause;',
  ]);
  // Only dom0 trusted, so nothing hides domio_t: what is reported about it is the treatment itself.
  const report = checkPolicyText(compiled, injected.text, { trusted: ['dom0_t'] });
  const about = report.findings.filter((f) => f.object === 'domio_t' || f.subject === 'domio_t' || (f.subjects ?? []).includes('domio_t'));
  const escalation = about.find((f) => f.ruleId === 'escalation' && f.subject === 'tgt_a_t');
  assert.match(says(escalation), /device memory .*DOMID_IO/, JSON.stringify(about.map((f) => says(f))));
  assert.doesNotMatch(says(escalation), /rights of domio_t/);
  const undeclared = about.find((f) => f.ruleId === 'undeclared-target' && f.subject === 'tgt_a_t');
  assert.match(says(undeclared), /device memory .*DOMID_IO \(not a guest\)/);
  assert.doesNotMatch(says(undeclared), /introspect/);
  assert.deepEqual(sentences(undeclared ? [undeclared] : []), ['UndeclaredPseudo', 'UndeclaredPseudoRemove']);
  // domio_t is reached but never expanded: dom0 is not reached through it, and it holds nothing over the introspector.
  assert.ok(!report.findings.some((f) => f.ruleId === 'escalation' && f.subject === 'tgt_a_t' && (f.objects ?? [f.object]).includes('dom0_t')), 'no step out of domio_t');
  assert.equal(report.findings.filter((f) => f.ruleId === 'reverse-access' && (f.subjects ?? []).includes('domio_t')).length, 0);
});
