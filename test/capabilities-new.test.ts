// Two capabilities read from the tools' own calls: vmtrace (Intel PT through Xen's vmtrace,
// DRAKVUF's ipt plugin) — what it grants per caller kind and release, the target's xl setting,
// Xen's checks before and after FLASK (acquire_resource's caller rule, the target's buffer),
// the self-test's step — and own-breakpoint-events, breakpoint events without re-injection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileText } from './support/env.js';
import { manifestGrants } from './support/manifest.js';
import { policyFromText } from '../policy/load.js';
import { runSelftestOn, type SelftestReport } from '../vmi/selftest/selftest.js';

function spec(o: { xen?: string; guest?: string; target?: string; caps?: string }): string {
  return [
    'vmipolicy: 1',
    `xen: "${o.xen ?? '4.17'}"`,
    'policy:',
    '  module: pt',
    '  mode: standalone',
    'introspectors:',
    '  - name: tracer',
    `    guest: ${o.guest ?? 'pv'}`,
    '    targets: [vm]',
    `    capabilities: [${o.caps ?? 'domain-info, vmtrace'}]`,
    'targets:',
    '  - name: vm',
    `    guest: ${o.target ?? 'hvm'}`,
    '',
  ].join('\n');
}

function rules(conf: string): string {
  return conf.split('\n').filter((l) => l.startsWith('allow tracer_t ')).join('\n');
}

function errorsOf(text: string): string[] {
  return compileText(text).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`);
}

function selftest(artifacts: ReadonlyMap<string, string>, conf: string): SelftestReport {
  const loaded = policyFromText('policy.conf', conf);
  assert.ok(loaded.policy);
  const r = runSelftestOn({ artifacts, policy: loaded.policy, spec: 'spec.yaml' }, { dataPages: 10 });
  assert.ok('report' in r, 'diagnostics' in r ? r.diagnostics.map((d) => d.message).join('; ') : '');
  return r.report;
}

test('vmtrace exists from Xen 4.15, for HVM and PVH targets only', () => {
  assert.deepEqual(errorsOf(spec({ xen: '4.14' })), ['VP1208 vmtrace cannot be granted on HVM target "vm": XEN_DOMCTL_vmtrace_op and XENMEM_resource_vmtrace_buf first appear in Xen 4.15']);
  assert.match(errorsOf(spec({ target: 'pv' }))[0] ?? '', /^VP1208 vmtrace cannot be granted on PV target "vm": vmtrace buffers exist only for HVM-type domains/);
  assert.deepEqual(errorsOf(spec({ target: 'pvh' })), []);
  // An HVM/PVH tracer before 4.19 meets acquire_resource's caller rule, as foreign maps do.
  assert.match(errorsOf(spec({ guest: 'pvh' }))[0] ?? '', /^VP1215 vmtrace cannot work from PVH introspector "tracer"/);
  assert.deepEqual(errorsOf(spec({ guest: 'pvh', xen: '4.19' })), []);
});

test('vmtrace grants resource_map and setdebugging; a PV tracer maps the buffer read-only, an HVM/PVH one unmaps through its physmap', () => {
  const pv = compileText(spec({}));
  assert.ok(pv.artifacts);
  const pvRules = rules(pv.artifacts.get('policy.conf')!);
  assert.match(pvRules, /allow tracer_t vm_t:domain2 \{?[^;]*\bresource_map\b/);
  assert.match(pvRules, /allow tracer_t vm_t:domain \{?[^;]*\bsetdebugging\b/);
  assert.match(pvRules, /allow tracer_t vm_t:mmu \{?[^;]*\bmap_read\b/);
  assert.doesNotMatch(pvRules, /tracer_t vm_t:mmu[^;]*map_write/);
  assert.match(pv.artifacts.get('xl/vm.cfg')!, /^vmtrace_buf_kb = 64 /m);
  const hvm = compileText(spec({ guest: 'pvh', xen: '4.19' }));
  assert.ok(hvm.artifacts);
  const hvmRules = rules(hvm.artifacts.get('policy.conf')!);
  assert.doesNotMatch(hvmRules, /tracer_t vm_t:mmu[^;]*map_/);
  // declare_domain already gives tracer_t_self physmap; the manifest shows vmtrace needs it too.
  const manifest = { grants: manifestGrants(hvm.artifacts.get('manifest.json')!) };
  assert.ok(manifest.grants.some((g) => g.object === 'tracer_t_self' && g.class === 'mmu' && g.justification.some((j) => j.capability === 'vmtrace' && j.permissions.includes('physmap'))), 'no vmtrace justification for tracer_t_self:mmu physmap');
});

test('the self-test traces the target, and fails at the call whose permission is missing or whose buffer Xen lacks', () => {
  for (const s of [spec({}), spec({ guest: 'pvh', xen: '4.19' })]) {
    const r = compileText(s);
    assert.ok(r.artifacts);
    const conf = r.artifacts.get('policy.conf')!;
    const report = selftest(r.artifacts, conf);
    assert.equal(report.verdict, 'pass', report.operations.filter((o) => !o.asExpected).map((o) => `${o.name}: ${o.detail}`).join('\n'));
    const op = report.operations.find((o) => o.capability === 'vmtrace' && o.kind === 'capability');
    assert.ok(op && op.actual === 'allowed');
    assert.ok(op.checks.some((c) => c.row === 'F4.vmtrace' && c.cls === 'domain2'));
    assert.ok(op.checks.some((c) => c.row === 'F3.vmtrace' && c.perms.includes('setdebugging')));
  }
  // Without resource_map: refused at the buffer map, by the AVC.
  const r = compileText(spec({}));
  const conf = r.artifacts!.get('policy.conf')!;
  const noMap = conf.replace(/allow tracer_t vm_t:domain2 resource_map;/, '');
  assert.notEqual(noMap, conf);
  const denied = selftest(r.artifacts!, noMap).operations.filter((o) => !o.asExpected);
  assert.deepEqual(denied.map((o) => `${o.capability} ${o.actual}`), ['vmtrace denied']);
  assert.ok(denied[0]!.denials.some((l) => l.includes('{ resource_map }')));
  // A target created without vmtrace_buf_kb: FLASK allows, Xen then says EINVAL.
  const artifacts = new Map(r.artifacts!);
  artifacts.set('xl/vm.cfg', artifacts.get('xl/vm.cfg')!.replace(/^vmtrace_buf_kb = .*\n/m, ''));
  const failed = selftest(artifacts, conf).operations.filter((o) => !o.asExpected);
  assert.deepEqual(failed.map((o) => o.capability), ['vmtrace']);
  assert.match(failed[0]!.detail, /no vmtrace buffer/);
});

test('an introspector without vmtrace is refused the trace calls (probes), and one with only singlestep holds setdebugging anyway', () => {
  const r = compileText(spec({ caps: 'domain-info, read-memory' }));
  assert.ok(r.artifacts);
  const report = selftest(r.artifacts, r.artifacts.get('policy.conf')!);
  assert.equal(report.verdict, 'pass');
  const probes = report.operations.filter((o) => o.kind === 'ungranted' && (o.rows.includes('F4.vmtrace') || o.rows.includes('F3.vmtrace')));
  assert.equal(probes.length, 2);
  for (const p of probes) assert.equal(p.actual, 'denied');
});

test('own-breakpoint-events: INT3 events without re-injection grant no hvm:dm, and the self-test serves one without injecting', () => {
  const own = compileText(spec({ caps: 'domain-info, own-breakpoint-events' }));
  const reinject = compileText(spec({ caps: 'domain-info, breakpoint-events' }));
  assert.ok(own.artifacts && reinject.artifacts);
  assert.match(rules(reinject.artifacts.get('policy.conf')!), /tracer_t vm_t:hvm \{?[^;]*\bdm\b/);
  assert.doesNotMatch(rules(own.artifacts.get('policy.conf')!), /tracer_t vm_t:hvm \{?[^;]*\bdm\b/);
  assert.match(rules(own.artifacts.get('policy.conf')!), /tracer_t vm_t:domain2 \{?[^;]*\bvm_event\b/);
  const report = selftest(own.artifacts, own.artifacts.get('policy.conf')!);
  assert.equal(report.verdict, 'pass', report.operations.filter((o) => !o.asExpected).map((o) => `${o.name}: ${o.detail}`).join('\n'));
  const op = report.operations.find((o) => o.capability === 'own-breakpoint-events' && o.kind === 'capability');
  assert.ok(op && op.actual === 'allowed');
  assert.ok(!op.checks.some((c) => c.row === 'C5'), 'no injection was made');
  // And injection stays refused: the C5 probe is denied.
  const probe = report.operations.find((o) => o.kind === 'ungranted' && o.rows.includes('C5'));
  assert.equal(probe?.actual, 'denied');
});
