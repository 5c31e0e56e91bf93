// The self-test end to end: on every example (module mode without a tree — the standalone
// host base fallback — and inside Xen 4.17's own policy tree) every operation comes out as
// expected; mutating the compiled policy makes it fail exactly at the operations that need
// the removed permission, or at the probe the added permission opens; JSON is deterministic
// apart from its timings field (present only with --timings); the CLI commands keep their exit codes (README.md "Exit codes").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSpec, type CheckOptions, type CheckOutcome as CheckStage } from '../api/check.js';
import { runSelftest, runVerify } from '../cli/selftest.js';
import type { Io } from '../cli/io.js';
import { policyFromText } from '../policy/load.js';
import { runSelftestOn, type OperationReport, type SelftestReport } from '../vmi/selftest/selftest.js';
import { EXAMPLES, repoPath, requires, sharedPath } from './support/env.js';

function captured(): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: (s) => void (out += s), stderr: (s) => void (err += s), out: () => out, err: () => err };
}

function stageOf(example: string, options: CheckOptions = {}): CheckStage {
  const stage = checkSpec(repoPath(`examples/${example}/vmi.yaml`), options);
  assert.ok(stage.compiled?.artifacts && stage.policy, `check stage of ${example} produced no policy`);
  return stage;
}

/** The self-test on the stage's artifacts, with the policy text optionally rewritten first. */
function selftest(stage: CheckStage, mutate?: (text: string) => string): SelftestReport {
  let policy = stage.policy!;
  if (mutate) {
    const text = mutate(policy.text);
    assert.notEqual(text, policy.text, 'the mutation changed nothing');
    const load = policyFromText(policy.file, text);
    assert.ok(load.policy, load.diagnostics.map((d) => d.message).join('; '));
    policy = load.policy;
  }
  const result = runSelftestOn({ artifacts: stage.compiled!.artifacts!, policy, spec: 'spec.yaml' });
  assert.ok('report' in result, 'diagnostics' in result ? result.diagnostics.map((d) => d.message).join('; ') : '');
  return result.report;
}

function mismatches(r: SelftestReport): OperationReport[] {
  return r.operations.filter((o) => !o.asExpected);
}

function describe(ops: readonly OperationReport[]): string {
  return ops.map((o) => `#${o.index + 1} ${o.kind}/${o.capability ?? ''} ${o.subject}→${o.object} [${o.rows.join(' ')}] ${o.expected}→${o.actual}: ${o.detail}`).join('\n');
}

/** Replaces one whole line of the policy (it must be there exactly once). */
function replaceLine(from: string, to: string): (text: string) => string {
  return (text) => {
    const lines = text.split('\n');
    assert.equal(lines.filter((l) => l === from).length, 1, `policy line not found once: ${from}`);
    return lines.map((l) => (l === from ? to : l)).join('\n');
  };
}

/** Adds a rule after an existing one (a policy.conf has a fixed statement order: rules before the SID contexts). */
const addRuleAfter = (anchor: string, rule: string) => replaceLine(anchor, `${anchor}\n${rule}`);
const TINYVMI_MMU = 'allow tinyvmi_t ubuntu_t:mmu { map_read map_write pageinfo adjust stat };';
const ACME_MMU = 'allow acme_monitor_t acme_web_t:mmu { map_read stat };';

for (const example of EXAMPLES) {
  test(`selftest passes on ${example} (module mode falls back to the standalone host base)`, () => {
    const report = selftest(stageOf(example));
    assert.deepEqual(describe(mismatches(report)), '');
    assert.equal(report.verdict, 'pass');
    // Both halves are there: declared capabilities allowed, probes denied.
    assert.ok(report.totals.allowed >= 8, `only ${report.totals.allowed} operations allowed`);
    assert.ok(report.totals.denied >= 30, `only ${report.totals.denied} operations denied`);
    for (const kind of ['capability', 'ungranted', 'xenstore', 'non-target', 'reverse'] as const) {
      assert.ok(report.operations.some((o) => o.kind === kind), `no ${kind} operation`);
    }
    // Every denial the AVC made is printed in Xen's format.
    for (const o of report.operations.filter((x) => x.actual === 'denied' && x.checks.some((c) => !c.allowed))) {
      assert.ok(o.denials.some((l) => /^avc: {2}denied {2}\{ .+ \} for .*tclass=\w+$/.test(l)), `no avc line for #${o.index + 1}`);
    }
  });

  test(`selftest passes on ${example} inside Xen 4.17's policy tree`, (t) => {
    if (!requires(t, { shared: true, commands: ['m4'] })) return;
    const tree = sharedPath('corpus', 'xen-4.17', 'src');
    const report = selftest(stageOf(example, { xenTree: tree }));
    assert.deepEqual(describe(mismatches(report)), '');
  });
}

test('tinyvmi: the content checks see the guest — CR3, 500 pages, the task list, a mem_access event', () => {
  const report = selftest(stageOf('tinyvmi'));
  const op = (capability: string, name: RegExp): OperationReport => {
    const found = report.operations.find((o) => o.capability === capability && name.test(o.name));
    assert.ok(found, `no ${capability} operation ${name}`);
    return found;
  };
  assert.match(op('read-registers', /CR3/).detail, /^CR3 = 0x[0-9a-f]+$/);
  assert.match(op('read-memory', /page walk/).detail, /^500\/500 pages read and matching, \d+ frames mapped/);
  assert.match(op('read-memory', /process list/).detail, /^8 processes: 0:swapper\/0 1:systemd/);
  const event = op('memory-events', /mem_access/);
  assert.match(event.detail, /mem_access event: gfn 0x[0-9a-f]+ offset 0x10 access w, vCPU 0; write completed/);
  assert.deepEqual(event.checks.filter((c) => c.row === 'D4').map((c) => c.cls + ':' + c.perms.join()), ['event:send']);
});

test('mutation: dropping map_read from the introspector\'s mmu rule fails exactly the operations that map memory', () => {
  const report = selftest(stageOf('tinyvmi'), replaceLine(TINYVMI_MMU, 'allow tinyvmi_t ubuntu_t:mmu { map_write pageinfo adjust stat };'));
  const failed = mismatches(report);
  // Refused by the AVC: the ring set-up (D1e: a read-write map; first, as LibVMI sets the ring
  // up inside vmi_init), then the page walk and the process list (B1 read maps).
  const denied = failed.filter((o) => o.actual === 'denied');
  assert.deepEqual(denied.map((o) => o.name), [
    'set up the vm_event monitor ring and its event channel',
    'page walk and read of the data region, page by page, with content checks',
    'process list (init_task.tasks walk)',
  ]);
  for (const o of denied) {
    assert.ok(o.checks.some((c) => !c.allowed && c.cls === 'mmu' && c.denied.includes('map_read')), `#${o.index + 1} was not refused for map_read`);
    assert.ok(o.denials.some((l) => l.includes('{ map_read') && l.includes('tclass=mmu')));
  }
  assert.deepEqual(denied.find((o) => o.capability === 'events')?.checks.find((c) => !c.allowed)?.step, 'D1e');
  // What needed the ring cannot run; nothing else changes.
  assert.deepEqual(failed.filter((o) => o.actual !== 'denied').map((o) => `${o.capability} ${o.actual}`), ['memory-events blocked', 'events blocked']);
  assert.equal(failed[0]?.capability, 'events');
});

test('mutation: dropping pause is refused at exactly pause (C3.pause) and at the ring set-up step D1a', () => {
  const report = selftest(stageOf('tinyvmi'), replaceLine(
    'allow tinyvmi_t ubuntu_t:domain { pause unpause getdomaininfo };',
    'allow tinyvmi_t ubuntu_t:domain { unpause getdomaininfo };',
  ));
  const denied = mismatches(report).filter((o) => o.actual === 'denied');
  assert.deepEqual(denied.map((o) => `${o.capability}:${o.checks.find((c) => !c.allowed)?.step ?? o.checks.find((c) => !c.allowed)?.row}`), ['events:D1a', 'pause:C3.pause']);
});

test('mutation: a target granted pause over its introspector fails the reverse probe for C3.pause only', () => {
  const report = selftest(stageOf('tinyvmi'), addRuleAfter(TINYVMI_MMU, 'allow ubuntu_t tinyvmi_t:domain pause;'));
  const failed = mismatches(report);
  assert.equal(failed.length, 1, describe(failed));
  assert.equal(failed[0]?.kind, 'reverse');
  assert.deepEqual(failed[0]?.rows, ['C3.pause']);
  assert.equal(failed[0]?.subject, 'ubuntu');
  assert.equal(failed[0]?.actual, 'allowed');
});

test('mutation: map_write for the read-only PV introspector fails the read-write map probe (B3)', () => {
  const report = selftest(stageOf('multi-tenant'), addRuleAfter(ACME_MMU, 'allow acme_monitor_t acme_web_t:mmu map_write;'));
  const failed = mismatches(report);
  assert.equal(failed.length, 1, describe(failed));
  assert.equal(failed[0]?.kind, 'ungranted');
  assert.deepEqual(failed[0]?.rows, ['B3']);
  assert.equal(failed[0]?.object, 'acme-web');
});

test('mutation: one tenant\'s monitor granted map_read on the other tenant\'s guest fails that non-target probe', () => {
  const report = selftest(stageOf('multi-tenant'), addRuleAfter(ACME_MMU, 'allow acme_monitor_t globex_app_t:mmu map_read;'));
  const failed = mismatches(report);
  assert.equal(failed.length, 1, describe(failed));
  assert.equal(failed[0]?.kind, 'non-target');
  assert.deepEqual([failed[0]?.subject, failed[0]?.object, failed[0]?.rows.join()], ['acme-monitor', 'globex-app', 'B1']);
});

test('with --timings, the JSON report is deterministic apart from its timings', () => {
  const run = (): { report: Record<string, unknown>; exit: number } => {
    const io = captured();
    const exit = runSelftest([repoPath('examples/multi-tenant/vmi.yaml'), '--format', 'json', '--timings'], io);
    return { report: JSON.parse(io.out()) as Record<string, unknown>, exit };
  };
  const a = run();
  const b = run();
  assert.equal(a.exit, 0);
  assert.ok(a.report.timings && typeof (a.report.timings as { totalMicros: unknown }).totalMicros === 'number');
  assert.equal(((a.report.timings as { operations: unknown[] }).operations).length, (a.report.operations as unknown[]).length);
  const { timings: _a, ...restA } = a.report;
  const { timings: _b, ...restB } = b.report;
  assert.deepEqual(restA, restB);
});

test('selftest and verify: exit codes and output (README.md "Exit codes")', () => {
  const spec = repoPath('examples/tinyvmi/vmi.yaml');
  const ok = captured();
  assert.equal(runSelftest([spec], ok), 0);
  assert.match(ok.out(), /selftest \d+\/\d+ as expected .* — PASS\n$/);

  const verify = captured();
  assert.equal(runVerify([spec], verify), 0);
  const lines = verify.out().trimEnd().split('\n');
  assert.equal(lines.length, 3, verify.out());
  assert.match(lines[0]!, /^compile {2}ok \(7 files\)$/);
  assert.match(lines[1]!, /^check {4}PROVEN: /);
  assert.match(lines[2]!, /^selftest \d+\/\d+ as expected/);

  const json = captured();
  assert.equal(runVerify([spec, '--format', 'json'], json), 0);
  const parsed = JSON.parse(json.out()) as { ok: boolean; stages: { stage: string; ok: boolean }[] };
  assert.deepEqual(parsed.stages.map((s) => `${s.stage}:${s.ok}`), ['compile:true', 'check:true', 'selftest:true']);

  const missing = captured();
  assert.equal(runSelftest([repoPath('examples/none.yaml')], missing), 2);
  assert.equal(runVerify([repoPath('examples/none.yaml')], captured()), 2);
  assert.equal(runSelftest([spec, '--format', 'sarif'], captured()), 2);
  assert.equal(runSelftest([], captured()), 2);
});
