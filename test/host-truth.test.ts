// What Xen does before (or instead of) FLASK, and what a capability really grants: the
// verdicts `verify` gives must hold on a real host, not only in our model of it.
//  - p2m_add_foreign (xen/arch/x86/mm/p2m.c) refuses foreign maps by a translated caller that
//    is not the hardware domain up to Xen 4.18, before xsm_map_gmfn_foreign is asked;
//  - every event capability maps the vm_event ring page read-write, so it grants mmu:map_write
//    on the whole target (FLASK checks per owner, not per page).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CAPABILITIES, foreignMapRefusal, grantsTargetWrite } from '../catalog/capabilities.js';
import { compareReleases, DOMXEN_INFOLIST_CHECK, hasChange, XEN_RELEASES } from '../catalog/vocabulary.js';
import { execFileSync } from 'node:child_process';
import { hostFromArtifacts, hostPolicyFromArtifacts, type Host } from '../vmi/host/domains.js';
import { Hypervisor } from '../vmi/host/hypercalls.js';
import { artifactsOf, compileFile, compileText, sharedPath } from './support/env.js';

const spec = (xen: string, guest: string, caps: string): string => `vmipolicy: 1
xen: "${xen}"
policy:
  module: vmi
  mode: standalone
introspectors:
  - name: mon
    guest: ${guest}
    targets: [win]
    capabilities: [${caps}]
targets:
  - name: win
    guest: hvm
`;

const codes = (text: string): string[] => compileText(text).diagnostics.map((d) => d.code);

describe('foreign maps from HVM/PVH introspectors (p2m_add_foreign)', () => {
  it('are refused up to Xen 4.18 and allowed from 4.19, PV callers never', () => {
    const refused = XEN_RELEASES.filter((x) => foreignMapRefusal(x, 'hvm'));
    assert.ok(refused.includes('4.8') && refused.includes('4.18'), refused.join(' '));
    assert.ok(!refused.includes('4.19') && !refused.includes('4.22'));
    for (const x of XEN_RELEASES) {
      assert.equal(foreignMapRefusal(x, 'pv'), undefined);
      assert.equal(foreignMapRefusal(x, 'pvh'), foreignMapRefusal(x, 'hvm'));
    }
  });

  it('a spec that needs them before 4.19 is a compile error naming the capability, with the fix', () => {
    for (const guest of ['hvm', 'pvh']) {
      for (const cap of ['read-memory', 'write-memory', 'memory-events', 'register-events', 'breakpoint-events', 'singlestep']) {
        const r = compileText(spec('4.17', guest, `domain-info, ${cap}`));
        const d = r.diagnostics.find((x) => x.code === 'VP1215');
        assert.ok(d, `${guest} ${cap}`);
        assert.match(d.message, new RegExp(`^${cap} cannot work`));
        assert.match(d.help ?? '', /guest: pv.*4\.19/);
        assert.equal(r.artifacts, undefined);
      }
    }
    // No foreign map, no refusal; PV introspectors and 4.19 are fine.
    assert.ok(!codes(spec('4.17', 'hvm', 'domain-info, read-registers, pause')).includes('VP1215'));
    assert.ok(!codes(spec('4.17', 'pv', 'domain-info, read-memory, memory-events')).includes('VP1215'));
    assert.ok(!codes(spec('4.19', 'hvm', 'domain-info, read-memory, memory-events')).includes('VP1215'));
  });

  it('the simulated host refuses them before the FLASK check, as Xen does (no AVC line)', () => {
    const artifacts = artifactsOf(compileFile('examples/drakvuf/vmi.yaml'));
    const policy = hostPolicyFromArtifacts(artifacts, sharedPath('corpus'));
    assert.ok('policy' in policy);
    const booted = hostFromArtifacts(artifacts, policy.policy, []);
    const host = booted.host as Host;
    const monitor = host.domains.byName('drakvuf')!;
    const target = host.domains.byName('win10')!;
    assert.equal(monitor.kind, 'pvh');
    const at418 = new Hypervisor(host, { xen: '4.18' }).xenforeignmemory_map(monitor.domid, target.domid, 'read');
    assert.equal(at418.ok, false);
    assert.equal(at418.ok ? '' : at418.errno, 'EPERM');
    assert.deepEqual(at418.checks, [], 'refused before any FLASK check');
    const at422 = new Hypervisor(host, { xen: '4.22' }).xenforeignmemory_map(monitor.domid, target.domid, 'read');
    assert.equal(at422.ok, true);
    assert.ok(at422.checks.length > 0);
  });
});

describe('capabilities that write the whole target', () => {
  it('every event capability grants map_write on the target, to PV introspectors too', () => {
    for (const cap of CAPABILITIES) {
      const ctx = { xen: '4.22', introspector: 'pv' as const, target: 'hvm' as const };
      assert.equal(grantsTargetWrite(cap, ctx), cap.eventChannel || cap.name === 'write-memory', cap.name);
    }
  });

  it('VP2004 names the capabilities when write-memory is not declared, and is silent otherwise', () => {
    const r = compileText(spec('4.22', 'pv', 'domain-info, read-memory, memory-events, singlestep'));
    const w = r.diagnostics.filter((d) => d.code === 'VP2004');
    assert.equal(w.length, 1);
    assert.match(w[0]!.message, /^memory-events, singlestep give "mon" mmu:map_write on all of "win"/);
    assert.ok(!codes(spec('4.22', 'pv', 'domain-info, read-memory, write-memory, memory-events')).includes('VP2004'));
    assert.ok(!codes(spec('4.22', 'pv', 'domain-info, read-memory, pause')).includes('VP2004'));
  });
});

describe('point releases', () => {
  it('a bare branch is its first release; a backport counts from its point release', () => {
    assert.equal(hasChange('4.17', DOMXEN_INFOLIST_CHECK), false);
    assert.equal(hasChange('4.17.6', DOMXEN_INFOLIST_CHECK), false);
    assert.equal(hasChange('4.17.7', DOMXEN_INFOLIST_CHECK), true);
    assert.equal(hasChange('4.16.9', DOMXEN_INFOLIST_CHECK), false);
    assert.equal(hasChange('4.22', DOMXEN_INFOLIST_CHECK), true);
    assert.equal(compareReleases('4.17', '4.17.0'), 0);
    assert.ok(compareReleases('4.17.10', '4.17.9') > 0);
  });

  it('the grant follows the host release, and VP2005 names the point release a bare branch misses', () => {
    const grants = (xen: string): boolean => {
      const r = compileText(spec(xen, 'pv', 'domain-info'));
      return [...(r.artifacts ?? new Map<string, string>()).values()].some((a) => /domxen_t:domain getdomaininfo/.test(a));
    };
    assert.equal(grants('4.19'), false);
    assert.equal(grants('4.19.5'), false);
    assert.equal(grants('4.19.6'), true);
    const note = compileText(spec('4.19', 'pv', 'domain-info')).diagnostics.find((d) => d.code === 'VP2005');
    assert.ok(note);
    assert.match(note.message, /from 4\.19\.6/);
    assert.ok(!codes(spec('4.19.6', 'pv', 'domain-info')).includes('VP2005'));
    assert.ok(!codes(spec('4.16', 'pv', 'domain-info')).includes('VP2005'));
    assert.deepEqual(compileText(spec('4.19.1000', 'pv', 'domain-info')).diagnostics.map((d) => d.code), ['VP1201']);
    assert.deepEqual(compileText(spec('4.23.1', 'pv', 'domain-info')).diagnostics.map((d) => d.code), ['VP1201']);
  });

  // Each backport boundary against Xen's own tags: the check is in hooks.c at the point
  // release and not in the one before. Needs a clone of Xen's repository (VMIPOLICY_XEN_GIT).
  it('each boundary matches the tags in Xen\'s history', (t) => {
    const git = process.env.VMIPOLICY_XEN_GIT;
    if (!git) {
      console.log('# skipped: set VMIPOLICY_XEN_GIT to a clone of xen.git to check the point-release boundaries');
      t.skip('no Xen git repository');
      return;
    }
    const hasCheck = (tag: string): boolean => execFileSync('git', ['-C', git, 'show', `${tag}:xen/xsm/flask/hooks.c`], { encoding: 'utf8', maxBuffer: 1 << 26 }).includes('flask_getdomaininfo(dom_xen)');
    for (const point of [...Object.values(DOMXEN_INFOLIST_CHECK.backports), DOMXEN_INFOLIST_CHECK.since]) {
      const [ma, mi, p] = point.split('.').map(Number) as [number, number, number];
      assert.equal(hasCheck(`RELEASE-${point}`), true, point);
      if (p > 0) assert.equal(hasCheck(`RELEASE-${ma}.${mi}.${p - 1}`), false, `${ma}.${mi}.${p - 1}`);
    }
  });
});

describe('refusals on the caller itself, in Xen\'s order', () => {
  const boot = (enforcing = true): { hv: Hypervisor; self: number } => {
    const artifacts = artifactsOf(compileFile('examples/drakvuf/vmi.yaml'));
    const policy = hostPolicyFromArtifacts(artifacts, sharedPath('corpus'));
    assert.ok('policy' in policy);
    const host = hostFromArtifacts(artifacts, policy.policy, []).host as Host;
    return { hv: new Hypervisor(host, { enforcing }), self: host.domains.byName('drakvuf')!.domid };
  };

  it('a monitor op on oneself: do_domctl\'s FLASK check first, then -EPERM (monitor_domctl)', () => {
    const enforcing = boot();
    const denied = enforcing.hv.xc_monitor_software_breakpoint(enforcing.self, enforcing.self);
    assert.equal(denied.ok ? '' : denied.errno, 'EACCES', 'the policy is asked first');
    const permissive = boot(false);
    const r = permissive.hv.xc_monitor_software_breakpoint(permissive.self, permissive.self);
    assert.equal(r.ok ? '' : r.errno, 'EPERM');
    assert.equal(r.checks.length, 1, 'the domctl check is made');
  });

  it('xc_set_mem_access on oneself: -EPERM before any check (rcu_lock_live_remote_domain_by_id)', () => {
    const { hv, self } = boot();
    const r = hv.xc_set_mem_access(self, self);
    assert.equal(r.ok ? '' : r.errno, 'EPERM');
    assert.deepEqual(r.checks, []);
  });

  it('pausing oneself: the domctl check, then -EINVAL (XEN_DOMCTL_pausedomain)', () => {
    const { hv, self } = boot(false);
    const r = hv.xc_domain_pause(self, self);
    assert.equal(r.ok ? '' : r.errno, 'EINVAL');
    assert.equal(r.checks.length, 1);
  });
});
