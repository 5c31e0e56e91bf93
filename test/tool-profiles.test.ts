// Tool profiles (`introspectors[].tool`, catalog/tools.ts): a profile adds what its
// tool cannot run without (said at `tool:` with VP2006), the grants its own calls need, and
// the self-test makes those calls; `custom` changes nothing; a profile change shows in diff.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileText } from './support/env.js';
import { positionAt } from '../core/source.js';
import { policyFromText } from '../policy/load.js';
import { runSelftestOn, type SelftestReport } from '../vmi/selftest/selftest.js';
import { capabilityGrants, grantsUnderAnyTool, TOOL_NAMES, toolProfile } from '../catalog/tools.js';
import { CAPABILITIES, GUEST_KINDS } from '../catalog/capabilities.js';
import { XEN_RELEASES } from '../catalog/vocabulary.js';
import { diffSpecs, compiledSpec } from '../diff/spec.js';

function spec(opts: { tool?: string; caps: string; guest?: string; target?: string; xen?: string }): string {
  return [
    'vmipolicy: 1',
    `xen: "${opts.xen ?? '4.22'}"`,
    'policy:',
    '  module: lab',
    '  mode: standalone',
    'introspectors:',
    '  - name: mon',
    `    guest: ${opts.guest ?? 'pv'}`,
    ...(opts.tool ? [`    tool: ${opts.tool}`] : []),
    '    targets: [vm]',
    `    capabilities: [${opts.caps}]`,
    'targets:',
    '  - name: vm',
    `    guest: ${opts.target ?? 'hvm'}`,
    '',
  ].join('\n');
}

function allowLines(policyConf: string, subject = 'mon_t', object = 'vm_t'): string[] {
  return policyConf.split('\n').filter((l) => l.startsWith(`allow ${subject} ${object}:`));
}

function selftestOf(text: string): SelftestReport {
  const r = compileText(text);
  assert.ok(r.artifacts, r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  const conf = r.artifacts.get('policy.conf')!;
  const loaded = policyFromText('policy.conf', conf);
  assert.ok(loaded.policy);
  const s = runSelftestOn({ artifacts: r.artifacts, policy: loaded.policy, spec: 'spec.yaml' }, { dataPages: 20 });
  assert.ok('report' in s);
  return s.report;
}

test('tool: libvmi adds domain-info and libvmi-init, and says so at tool: with VP2006', () => {
  const text = spec({ tool: 'libvmi', caps: 'read-memory' });
  const r = compileText(text);
  assert.ok(r.artifacts, r.diagnostics.map((d) => d.message).join('\n'));
  // read-memory requires domain-info (VP1210) — unless the profile adds it.
  const notes = r.diagnostics.filter((d) => d.code === 'VP2006');
  assert.deepEqual(notes.map((d) => d.message.split(':')[0]), ['tool libvmi adds domain-info to introspector "mon"', 'tool libvmi adds libvmi-init to introspector "mon"']);
  for (const n of notes) {
    assert.equal(n.severity, 'info');
    const at = positionAt(r.source!, n.span!.start);
    assert.deepEqual([at.line, at.column], [9, 11], 'the note points at the tool: value');
  }
  const manifest = JSON.parse(r.artifacts.get('manifest.json')!) as { introspectors: { capabilities: string[]; tool?: string }[] };
  assert.deepEqual(manifest.introspectors[0]!.capabilities, ['domain-info', 'libvmi-init', 'read-memory']);
  assert.equal(manifest.introspectors[0]!.tool, 'libvmi');
  assert.ok(allowLines(r.artifacts.get('policy.conf')!).some((l) => /:domain \{[^}]*\bsetdomainmaxmem\b/.test(l)));
  // The self-test then raises the memory limit, as LibVMI's vmi_init does.
  const report = selftestOf(text);
  assert.equal(report.verdict, 'pass');
  assert.ok(report.operations.some((o) => o.capability === 'libvmi-init' && o.rows.includes('A10') && o.actual === 'allowed'));
});

test('tool: custom (and no tool) take the capabilities as declared, and write no tool to the manifest', () => {
  for (const tool of [undefined, 'custom']) {
    const r = compileText(spec({ ...(tool ? { tool } : {}), caps: 'read-memory' }));
    assert.ok(!r.artifacts);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['VP1210']);
    const ok = compileText(spec({ ...(tool ? { tool } : {}), caps: 'domain-info, read-memory' }));
    const manifest = JSON.parse(ok.artifacts!.get('manifest.json')!) as { introspectors: Record<string, unknown>[] };
    assert.equal('tool' in manifest.introspectors[0]!, false);
    assert.ok(!allowLines(ok.artifacts!.get('policy.conf')!).some((l) => l.includes('setdomainmaxmem')));
  }
});

test('tool: xen-access without an event capability is an error (VP1216) at tool:, exit-2 material', () => {
  const r = compileText(spec({ tool: 'xen-access', caps: 'domain-info, read-memory' }));
  assert.equal(r.artifacts, undefined);
  const e = r.diagnostics.find((d) => d.code === 'VP1216');
  assert.ok(e);
  assert.match(e.message, /^tool xen-access cannot work for introspector "mon" without one of memory-events, register-events, breakpoint-events, own-breakpoint-events, singlestep: xenaccess_init/);
  assert.deepEqual([positionAt(r.source!, e.span!.start).line], [9]);
  assert.ok(compileText(spec({ tool: 'xen-access', caps: 'domain-info, memory-events' })).artifacts);
});

test('tool: drakvuf sets registers through the vCPU context and copies altp2m shadow pages read-write; the self-test makes those calls', () => {
  const caps = 'domain-info, libvmi-init, read-registers, write-registers, altp2m';
  const custom = compileText(spec({ caps }));
  const drakvuf = compileText(spec({ tool: 'drakvuf', caps }));
  assert.ok(custom.artifacts && drakvuf.artifacts);
  const before = allowLines(custom.artifacts.get('policy.conf')!).join('\n');
  const after = allowLines(drakvuf.artifacts.get('policy.conf')!).join('\n');
  for (const perm of ['getvcpucontext', 'setvcpucontext', 'getparam', 'map_write']) {
    assert.ok(!new RegExp(`\\b${perm}\\b`).test(before), `custom already grants ${perm}`);
    assert.ok(new RegExp(`\\b${perm}\\b`).test(after), `drakvuf does not grant ${perm}`);
  }
  // The read-write shadow copies make the whole target writable: VP2004 names altp2m.
  assert.ok(drakvuf.diagnostics.some((d) => d.code === 'VP2004' && d.message.startsWith('altp2m gives')));
  const report = selftestOf(spec({ tool: 'drakvuf', caps }));
  assert.equal(report.verdict, 'pass', report.operations.filter((o) => !o.asExpected).map((o) => `${o.name}: ${o.detail}`).join('\n'));
  const names = report.operations.filter((o) => o.kind === 'capability').map((o) => o.name);
  assert.ok(names.some((n) => n.includes('drakvuf_set_vcpu_gprs')));
  assert.ok(names.some((n) => n.includes('inject_trap_pa')));
  // Remove what the profile added and the self-test fails at the profile's own step.
  const conf = drakvuf.artifacts.get('policy.conf')!;
  const broken = conf.replace(/(allow mon_t vm_t:domain \{[^}]*?) getvcpucontext/, '$1');
  assert.notEqual(broken, conf);
  const loaded = policyFromText('policy.conf', broken);
  const s = runSelftestOn({ artifacts: drakvuf.artifacts, policy: loaded.policy!, spec: 'spec.yaml' }, { dataPages: 20 });
  assert.ok('report' in s);
  const failed = s.report.operations.filter((o) => !o.asExpected);
  assert.deepEqual(failed.map((o) => o.name), ['set general-purpose registers through the vCPU context (DRAKVUF drakvuf_set_vcpu_gprs)']);
});

test('altp2m works on PVH targets (do_altp2m_op tests is_hvm_domain), and the self-test drives it', () => {
  const text = spec({ caps: 'domain-info, altp2m', target: 'pvh' });
  const r = compileText(text);
  assert.ok(r.artifacts, r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  assert.match(r.artifacts.get('xl/vm.cfg')!, /^altp2m = "external" /m);
  const report = selftestOf(text);
  assert.equal(report.verdict, 'pass');
  assert.ok(report.operations.some((o) => o.capability === 'altp2m' && o.actual === 'allowed'));
});

test('a tool change is a spec-level change in diff, with what it adds under the capabilities', () => {
  const caps = 'domain-info, libvmi-init, write-registers';
  const a = compiledSpec(compileText(spec({ caps }), { manifest: 'entries' }, 'old.yaml'));
  const b = compiledSpec(compileText(spec({ tool: 'drakvuf', caps }), { manifest: 'entries' }, 'new.yaml'));
  assert.ok(a && b);
  const delta = diffSpecs(a, b);
  assert.deepEqual(delta.domainChanges.map((c) => `${c.name} ${c.field} ${c.old}→${c.new} line ${c.spec.line}`), ['mon tool custom→drakvuf line 9']);
  const wr = delta.capabilities.find((c) => c.capability === 'write-registers');
  assert.ok(wr, JSON.stringify(delta.capabilities));
});

test('every profile fact cites the tool\'s file and function; extra grants name catalog rows and only real permissions', () => {
  for (const name of TOOL_NAMES) {
    const p = toolProfile(name);
    for (const m of p.mandatory) assert.match(m.why, /\(([\w/.-]+\.[ch])\)/, `${name} ${m.capability}: no source file`);
    for (const cap of CAPABILITIES) {
      for (const xen of XEN_RELEASES) {
        for (const introspector of GUEST_KINDS) {
          for (const target of cap.targetKinds) {
            for (const g of p.extraGrants(cap.name, { xen, introspector, target })) {
              assert.ok(g.catalog.length > 0, `${name}/${cap.name}: no catalog row`);
              assert.match(g.why, /\.[ch]\)/, `${name}/${cap.name}: the why names no tool source file`);
              // The grant is among what capabilityGrants returns (one home for the computation).
              assert.ok(capabilityGrants(cap, { xen, introspector, target }, name).includes(g) || capabilityGrants(cap, { xen, introspector, target }, name).some((x) => x.why === g.why));
            }
          }
        }
      }
    }
  }
});

test('grantsUnderAnyTool is the union over every tool profile of capabilityGrants, in every context', () => {
  const key = (g: { object: string; cls: string; perms: readonly string[]; why: string }): string[] => g.perms.map((p) => `${g.object} ${g.cls}:${p} (${g.why})`);
  for (const cap of CAPABILITIES) {
    for (const xen of XEN_RELEASES) {
      for (const introspector of GUEST_KINDS) {
        for (const target of cap.targetKinds) {
          const ctx = { xen, introspector, target };
          const union = new Set(TOOL_NAMES.flatMap((tool) => capabilityGrants(cap, ctx, tool).flatMap(key)));
          assert.deepEqual(new Set(grantsUnderAnyTool(cap, ctx).flatMap(key)), union, `${cap.name} ${xen} ${introspector}→${target}`);
        }
      }
    }
  }
});

test('tool: libvmi watches pages without XEN_DOMCTL_set_access_required (LibVMI asks for it only through vmi_event_listener_required); custom and xen-access do', () => {
  const caps = 'domain-info, libvmi-init, memory-events';
  const rowsOf = (tool?: string) => {
    const report = selftestOf(spec({ ...(tool ? { tool } : {}), caps, target: 'hvm' }));
    assert.equal(report.verdict, 'pass');
    return report.operations.find((o) => o.kind === 'capability' && o.capability === 'memory-events')!.rows;
  };
  assert.deepEqual(rowsOf('libvmi'), ['D5', 'D4']);
  assert.deepEqual(rowsOf(), ['D5b', 'D5', 'D4']);
  assert.deepEqual(rowsOf('xen-access'), ['D5b', 'D5', 'D4']);
});
