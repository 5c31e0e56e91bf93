// The simulated Xen host on the examples' compiled policies: every operation a declared
// capability needs is allowed from the introspector to its target, with exactly the checks
// its row of vmi/host/hypercalls-table.ts lists; the same operations against a domain that is not a target, and
// from the target against the introspector, are denied by the AVC; denials are logged in
// Xen's own avc_audit format.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Avc } from '../vmi/host/avc.js';
import { DOMID_XEN, formatAvcLine, formatDomid } from '../formats/avc-line.js';
import { hostFromArtifacts, hostPolicyFromArtifacts, modelPolicy, type Host, type SimDomain } from '../vmi/host/domains.js';
import { Hypervisor, type CallResult } from '../vmi/host/hypercalls.js';
import { OPERATIONS } from '../vmi/host/hypercalls-table.js';
import { SecurityServer } from '../vmi/host/security-server.js';
import { computeAccessVector, parseContext } from '../policy/model/access.js';
import { artifactsOf, compileFile, compileText, EXAMPLES, requires, sharedPath } from './support/env.js';
import { monWebSpec } from './support/specs.js';
import { inject } from './support/checker.js';

// A guest no spec names, labelled as Xen's stock domU_t; altp2m on, so altp2m probes reach the XSM check.
const BYSTANDER = { name: 'bystander', kind: 'hvm' as const, role: 'guest' as const, seclabel: 'system_u:system_r:domU_t', altp2m: 'external' as const };

function boot(example: string): { host: Host; hv: Hypervisor } {
  const artifacts = artifactsOf(compileFile(`examples/${example}/vmi.yaml`));
  const policy = hostPolicyFromArtifacts(artifacts, sharedPath('corpus'));
  assert.ok('policy' in policy, 'error' in policy ? policy.error : '');
  const booted = hostFromArtifacts(artifacts, policy.policy, [BYSTANDER]);
  assert.deepEqual(booted.diagnostics, []);
  const host = booted.host as Host;
  return { host, hv: new Hypervisor(host) };
}

type Op = (hv: Hypervisor, s: number, t: number) => CallResult<unknown>;

/** What LibVMI calls for each capability (catalog rows in comments). */
function operationsFor(capability: string, target: SimDomain): [string, Op][] {
  const hvm = target.kind !== 'pv';
  switch (capability) {
    case 'domain-info':
      return [
        ['A9 xc_domain_maximum_gpfn', (hv, s, t) => hv.xc_domain_maximum_gpfn(s, t)],
        ...(hvm ? [] : [['A8 get_address_size', (hv: Hypervisor, s: number, t: number) => hv.xc_domain_get_address_size(s, t)] as [string, Op]]),
      ];
    case 'libvmi-init':
      return [['A10 xc_domain_setmaxmem', (hv, s, t) => hv.xc_domain_setmaxmem(s, t)]];
    case 'read-memory':
      return [['B1/B2 map read', (hv, s, t) => hv.xenforeignmemory_map(s, t, 'read')]];
    case 'write-memory':
      return [['B3 map read-write', (hv, s, t) => hv.xenforeignmemory_map(s, t, 'read-write')]];
    case 'read-registers':
      return [hvm ? ['C1 hvm_getcontext_partial', (hv, s, t) => hv.xc_domain_hvm_getcontext_partial(s, t)] : ['C1p vcpu_getcontext', (hv, s, t) => hv.xc_vcpu_getcontext(s, t)]];
    case 'write-registers':
      return [hvm ? ['C2 hvm_setcontext', (hv, s, t) => hv.xc_domain_hvm_setcontext(s, t)] : ['C2p vcpu_setcontext', (hv, s, t) => hv.xc_vcpu_setcontext(s, t)]];
    case 'pause':
      return [
        ['C3 pause', (hv, s, t) => hv.xc_domain_pause(s, t)],
        ['C3 unpause', (hv, s, t) => hv.xc_domain_unpause(s, t)],
      ];
    case 'tsc-info':
      return [['C4 tsc', (hv, s, t) => hv.xc_domain_get_tsc_info(s, t)]];
    case 'memory-events':
      return [['D3 capabilities', (hv, s, t) => hv.xc_monitor_get_capabilities(s, t)], ['D5b access_required', (hv, s, t) => hv.xc_domain_set_access_required(s, t)]];
    case 'register-events':
      return [['D6 write_ctrlreg', (hv, s, t) => hv.xc_monitor_write_ctrlreg(s, t)]];
    case 'breakpoint-events':
      return [['D7 software_breakpoint', (hv, s, t) => hv.xc_monitor_software_breakpoint(s, t)], ['D7r inject', (hv, s, t) => hv.xc_hvm_inject_trap(s, t)]];
    case 'singlestep':
      return [['D8 singlestep', (hv, s, t) => hv.xc_monitor_singlestep(s, t)], ['D8/F3 debug_control', (hv, s, t) => hv.xc_domain_debug_control(s, t)]];
    case 'altp2m':
      return [['E1 altp2m', (hv, s, t) => hv.xc_altp2m_op(s, t, 'create_p2m')], ['B6 populate', (hv, s, t) => hv.xc_domain_populate_physmap_exact(s, t)]];
    case 'inject-events':
      return [['C5 inject', (hv, s, t) => hv.xc_hvm_inject_trap(s, t)]];
    default:
      return [];
  }
}

/** The vm_event ring and its channel, end to end: D1a–h, D2, D4, D5. */
function eventSession(hv: Hypervisor, s: number, t: number): CallResult<unknown>[] {
  const enabled = hv.xc_monitor_enable(s, t);
  if (!enabled.ok || enabled.value === undefined) return [enabled];
  const bound = hv.xc_evtchn_bind_interdomain(s, t, enabled.value);
  const notify = bound.ok && bound.value !== undefined ? hv.xc_evtchn_notify(s, bound.value) : bound;
  const access = hv.xc_set_mem_access(s, t);
  return [enabled, bound, notify, access];
}

const deniedByAvc = (r: CallResult<unknown>): boolean => !r.ok && r.errno === 'EACCES' && r.checks.some((c) => !c.allowed && c.line !== undefined);

for (const example of EXAMPLES) {
  test(`host: the ${example} example's operations are allowed on targets and denied elsewhere`, (t) => {
    if (!requires(t, { shared: true, commands: ['m4'] })) return;
    const started = performance.now();
    const { host, hv } = boot(example);
    const bystander = host.domains.byName('bystander') as SimDomain;
    let allowed = 0;
    let denied = 0;
    for (const intro of host.manifest.introspectors) {
      const s = host.domains.byName(intro.name) as SimDomain;
      for (const targetName of intro.targets) {
        const target = host.domains.byName(targetName) as SimDomain;
        // A4: the target is listed; a domain that is not a target is not.
        const listed = hv.xc_domain_getinfolist(s.domid, 0, 100);
        assert.ok(listed.ok, `${intro.name}: getinfolist ${listed.why}`);
        const ids = (listed.value ?? []).map((d) => d.domid);
        assert.ok(ids.includes(target.domid), `${intro.name} sees ${targetName}`);
        assert.ok(!ids.includes(bystander.domid), `${intro.name} must not see the bystander`);
        const ops = intro.capabilities.flatMap((c) => operationsFor(c, target));
        for (const [name, op] of ops) {
          const r = op(hv, s.domid, target.domid);
          assert.ok(r.ok, `${intro.name} → ${targetName}: ${name} must be allowed: ${r.errno} ${r.why} ${r.checks.map((c) => c.line ?? '').join(' ')}`);
          assert.ok(r.checks.length > 0 && r.checks.every((c) => c.allowed), `${name}: every check passed`);
          allowed++;
          const other = op(hv, s.domid, bystander.domid);
          assert.ok(deniedByAvc(other), `${intro.name} → bystander: ${name} must be denied (${other.errno})`);
          const reverse = op(hv, target.domid, s.domid);
          assert.ok(!reverse.ok, `${targetName} → ${intro.name}: ${name} must be denied`);
          denied += 2;
        }
        const usesEvents = intro.capabilities.some((c) => ['memory-events', 'register-events', 'breakpoint-events', 'singlestep'].includes(c));
        if (usesEvents) {
          for (const r of eventSession(hv, s.domid, target.domid)) assert.ok(r.ok, `${intro.name} → ${targetName}: ${r.call}: ${r.errno} ${r.why} ${r.checks.filter((c) => !c.allowed).map((c) => c.line).join(' ')}`);
          const other = hv.xc_monitor_enable(s.domid, bystander.domid);
          assert.ok(!other.ok && other.errno === 'EACCES', 'no ring on a domain that is not a target');
          const reverse = hv.xc_monitor_enable(target.domid, s.domid);
          assert.ok(!reverse.ok, 'no ring from the target on the introspector');
          allowed++;
          denied += 2;
        }
      }
    }
    const line = `${example}: ${allowed} operations allowed, ${denied} denied, ${hv.avc.logged} denial lines, AVC ${hv.avc.hits} hits / ${hv.avc.misses} misses, ${(performance.now() - started).toFixed(0)} ms`;
    console.log(`# ${line}`);
    t.diagnostic(line);
    assert.ok(hv.avc.log.length > 0 && hv.avc.log.every((l) => l.startsWith('avc:  denied  { ')));
  });
}

test('host: each operation makes exactly the catalog checks on the right objects (tinyvmi: PV → HVM; drakvuf: PVH → HVM)', (t) => {
  if (!requires(t, { shared: true, commands: ['m4'] })) return;
  {
    const { host, hv } = boot('tinyvmi');
    const s = host.domains.byName('tinyvmi') as SimDomain;
    const u = host.domains.byName('ubuntu') as SimDomain;
    const shape = (r: CallResult<unknown>) => r.checks.map((c) => `${c.step ?? c.row} ${c.scontext.split(':')[2]} ${c.tcontext.split(':')[2]}:${c.cls} ${c.perms.join(',')} ${c.allowed ? 'ok' : 'DENIED'}`);
    // B1: a PV introspector's read-only foreign map is one mmu_update check: map_read on T.
    assert.deepEqual(shape(hv.xenforeignmemory_map(s.domid, u.domid, 'read')), ['B1 tinyvmi_t ubuntu_t:mmu map_read ok']);
    // A4 (4.19 → policy built into 4.17's tree, manifest says 4.19): DOMID_XEN first, then each domain.
    const list = shape(hv.xc_domain_getinfolist(s.domid, 0, 100));
    assert.equal(list[0], 'A4 tinyvmi_t domxen_t:domain getdomaininfo ok');
    assert.ok(list.includes('A4 tinyvmi_t ubuntu_t:domain getdomaininfo ok'));
    assert.ok(list.includes('A4 tinyvmi_t domU_t:domain getdomaininfo DENIED'));
    // D1a–h with D1f′, then D2 and D4.
    const enable = hv.xc_monitor_enable(s.domid, u.domid);
    assert.deepEqual(shape(enable), [
      'D1a tinyvmi_t ubuntu_t:domain pause ok',
      'D1b tinyvmi_t ubuntu_t:hvm getparam ok',
      'D1c tinyvmi_t ubuntu_t:mmu pageinfo ok',
      'D1e tinyvmi_t ubuntu_t:mmu map_read,map_write ok',
      'D1f tinyvmi_t ubuntu_t:domain2 vm_event ok',
      'D1f tinyvmi_t ubuntu_t_channel:event create ok',
      'D1f ubuntu_t_channel tinyvmi_t:event bind ok',
      'D1g tinyvmi_t ubuntu_t:mmu adjust ok',
      'D1h tinyvmi_t ubuntu_t:domain unpause ok',
    ]);
    const bind = hv.xc_evtchn_bind_interdomain(s.domid, u.domid, enable.value as number);
    assert.deepEqual(shape(bind), ['D2 tinyvmi_t tinyvmi_t_channel:event create ok', 'D2 tinyvmi_t_channel ubuntu_t:event bind ok', 'D2 ubuntu_t_channel tinyvmi_t:event bind ok']);
    assert.deepEqual(shape(hv.xc_evtchn_notify(s.domid, bind.value as number)), ['D4 tinyvmi_t tinyvmi_t_channel:event send ok']);
    // Channel and self labels come from the policy's transitions, as Xen computes them
    // (xen/xsm/flask/hooks.c: flask_domain_create for _self, flask_evtchn_unbound and
    // flask_evtchn_interdomain for _channel).
    assert.equal(host.server.contextString(s.selfSid), 'system_u:system_r:tinyvmi_t_self');
    // Every check keeps its provenance: the allow rule behind it.
    assert.ok(enable.checks.every((c) => c.grantedAt.length > 0 && c.grantedAt.every((p) => p.line > 0)));
    // A second enable after D1g: the ring frame is gone, so D1d populates it (and the ring is busy).
    const again = hv.xc_monitor_enable(s.domid, u.domid);
    assert.equal(again.errno, 'EBUSY');
    assert.ok(shape(again).includes('D1d tinyvmi_t ubuntu_t:mmu adjust ok'));
  }
  {
    const { host, hv } = boot('drakvuf');
    const s = host.domains.byName('drakvuf') as SimDomain;
    const w = host.domains.byName('win10') as SimDomain;
    const shape = (r: CallResult<unknown>) => r.checks.map((c) => `${c.row} ${c.scontext.split(':')[2]} ${c.tcontext.split(':')[2]}:${c.cls} ${c.perms.join(',')} ${c.allowed ? 'ok' : 'DENIED'}`);
    // B2: physmap on the caller's own _self, then map_read and map_write on T even for reads.
    assert.deepEqual(shape(hv.xenforeignmemory_map(s.domid, w.domid, 'read')), ['B2 drakvuf_t drakvuf_t_self:mmu physmap ok', 'B2 drakvuf_t win10_t:mmu map_read,map_write ok']);
    assert.deepEqual(shape(hv.xenforeignmemory_unmap(s.domid)), ['B2u drakvuf_t drakvuf_t_self:mmu physmap ok']);
    // E2 on 4.22: setparam is checked, then HVM_PARAM_ALTP2M is read-only (-EEXIST).
    const e2 = hv.xc_hvm_param_set(s.domid, w.domid, 'altp2m');
    assert.equal(e2.errno, 'EACCES', 'the spec grants no hvm:setparam');
    // The target may not drive its own altp2m views in external mode (refused before XSM).
    assert.equal(hv.xc_altp2m_op(w.domid, w.domid, 'create_p2m').errno, 'EPERM');
  }
  // The table names catalog rows only.
  for (const id of OPERATIONS.keys()) assert.match(id, /^[A-F]\d+[a-z′]*(\.[a-z]+)?$/);
});

test('host: set_target gives the device model its _target SID (flask_set_target)', (t) => {
  if (!requires(t, { shared: true, commands: ['m4'] })) return;
  const { host, hv } = boot('tinyvmi');
  const s = host.domains.byName('tinyvmi') as SimDomain;
  const u = host.domains.byName('ubuntu') as SimDomain;
  // dom0's stock policy does not make tinyvmi a device model: all three checks are needed.
  const r = hv.xc_domain_set_target(0, s.domid, u.domid);
  assert.ok(!r.ok && r.errno === 'EACCES');
  assert.equal(r.checks[0]?.cls, 'domain2');
  assert.equal(r.checks[0]?.perms[0], 'make_priv_for');
  // Linking directly: no type_transition ubuntu_t tinyvmi_t:domain, so the target SID is ubuntu_t's.
  assert.equal(host.domains.linkTarget(s.domid, u.domid), undefined);
  assert.equal(host.domains.targetSid(s, u), u.sid);
  assert.equal(host.domains.targetSid(s, s), s.selfSid);
});

test('avc: the denial line is byte-for-byte avc_audit\'s', (t) => {
  if (!requires(t, { shared: true, commands: ['m4'] })) return;
  const { host, hv } = boot('tinyvmi');
  const s = host.domains.byName('tinyvmi') as SimDomain;
  const b = host.domains.byName('bystander') as SimDomain;
  const r = hv.xenforeignmemory_map(s.domid, b.domid, 'read-write');
  assert.equal(r.errno, 'EACCES');
  assert.equal(r.checks[0]?.line, `avc:  denied  { map_read map_write } for source=d${s.domid} target=d${b.domid} scontext=system_u:system_r:tinyvmi_t tcontext=system_u:system_r:domU_t tclass=mmu`);
  assert.deepEqual(r.checks[0]?.deniedBy, { map_read: 'te', map_write: 'te' });
  // Hooks without audit data print the current domain instead (flask_evtchn_unbound).
  assert.equal(
    formatAvcLine({ word: 'denied', perms: ['create'], audit: { current: 1 }, scontext: 'system_u:system_r:a_t', tcontext: 'system_u:object_r:b_t', cls: 'event' }),
    'avc:  denied  { create } for current=d1 scontext=system_u:system_r:a_t tcontext=system_u:object_r:b_t tclass=event',
  );
  assert.equal(
    formatAvcLine({ word: 'granted', perms: [], audit: { current: 0, sdom: 0, tdom: 0 }, scontext: 'x', tcontext: 'y', cls: 'xen' }),
    'avc:  granted  null for source=d0 scontext=x tcontext=y tclass=xen',
  );
  assert.equal(formatDomid(DOMID_XEN), 'd[XEN]');
  const domxen = hv.xc_domain_getinfolist(b.domid, 0, 10);
  assert.match(domxen.checks[0]?.line ?? '', /^avc: {2}denied {2}\{ getdomaininfo \} for source=d\d+ target=d\[XEN\] scontext=system_u:system_r:domU_t tcontext=system_u:system_r:domxen_t tclass=domain$/);
});

test('avc: permissive mode logs a denial once and lets it through; dontaudit silences it', (t) => {
  if (!requires(t, { shared: true, commands: ['m4'] })) return;
  const policy = modelPolicy(
    'mini.conf',
    `class domain
class event
sid xen
sid dom0
class domain { pause unpause }
class event { bind send }
type a_t;
type b_t;
type c_t;
bool flag false;
allow a_t b_t:domain pause;
allow a_t b_t:event bind;
dontaudit a_t c_t:domain pause;
if (flag) { allow a_t b_t:domain unpause; }
role system_r;
role system_r types { a_t b_t c_t };
user system_u roles system_r;
user other_u roles system_r;
constrain event bind (u1 == u2);
sid xen system_u:system_r:a_t
sid dom0 system_u:system_r:b_t
`,
    'standalone',
  );
  assert.ok('policy' in policy, 'error' in policy ? policy.error : '');
  const server = new SecurityServer(policy.policy.model, { initialContexts: policy.policy.initialContexts });
  const sid = (c: string): number => {
    const r = server.contextToSid(c);
    assert.ok('sid' in r, 'error' in r ? r.error : '');
    return r.sid;
  };
  const [a, b, c] = [sid('system_u:system_r:a_t'), sid('system_u:system_r:b_t'), sid('system_u:system_r:c_t')];
  const avc = new Avc(server);
  assert.ok(avc.hasPerm(a, b, 'domain', 'pause', { current: 1 }).allowed);
  assert.ok(!avc.hasPerm(a, b, 'domain', 'unpause', { current: 1 }).allowed);
  // dontaudit: denied, and not logged.
  const quiet = avc.hasPerm(a, c, 'domain', 'pause', { current: 1 });
  assert.ok(!quiet.allowed && quiet.line === undefined);
  // A boolean flips a conditional rule: the AVC drops its cache.
  server.setBoolean('flag', true);
  assert.ok(avc.hasPerm(a, b, 'domain', 'unpause', { current: 1 }).allowed);
  // Constraints on users: same types, different users.
  const other = sid('other_u:system_r:b_t');
  const bind = server.computeAv(a, other, 'event');
  assert.ok('classPerms' in bind && bind.deniedBy.get('bind') === 'constraint' && bind.constraintDenials.length === 1);
  const same = server.computeAv(a, b, 'event');
  assert.ok('classPerms' in same && same.allowed.includes('bind'));
  // Permissive: logged once, allowed, then cached as allowed.
  avc.setEnforcing(false);
  const first = avc.hasPerm(b, a, 'domain', 'pause', { current: 2 });
  const second = avc.hasPerm(b, a, 'domain', 'pause', { current: 2 });
  assert.ok(first.allowed && first.permissive && first.line !== undefined);
  assert.ok(second.allowed && second.line === undefined);
  assert.equal(avc.log.filter((l) => l.includes('scontext=system_u:system_r:b_t')).length, 1);
  // An invalid context gets no SID: user not authorised for the role.
  assert.ok('error' in server.contextToSid('system_u:nobody_r:a_t'));
});

test('a permissive domain type: every denial is let through in enforcing mode, and still logged as a denial (Xen: AVD_FLAGS_PERMISSIVE)', () => {
  const compiled = compileText(monWebSpec('4.17'), { mode: 'standalone' });
  const artifacts = artifactsOf(compiled);
  const bootWith = (extra: string): Hypervisor => {
    const text = inject(artifacts.get('policy.conf') as string, extra ? [extra] : []).text;
    const policy = modelPolicy('policy.conf', text, 'standalone');
    assert.ok('policy' in policy, 'error' in policy ? policy.error : '');
    const booted = hostFromArtifacts(artifacts, policy.policy);
    assert.deepEqual(booted.diagnostics, []);
    return new Hypervisor(booted.host as Host);
  };
  const pause = (hv: Hypervisor): CallResult => {
    const mon = hv.host.domains.byName('mon') as SimDomain;
    const web = hv.host.domains.byName('web') as SimDomain;
    return hv.xc_domain_pause(web.domid, mon.domid);
  };
  // The watched guest pausing its watcher: no rule allows it.
  const confined = pause(bootWith(''));
  assert.equal(confined.ok, false);
  assert.equal(confined.errno, 'EACCES');
  const permissiveHv = bootWith('permissive web_t;');
  const unconfined = pause(permissiveHv);
  assert.equal(unconfined.ok, true, unconfined.why);
  assert.match(unconfined.checks[0]?.line ?? '', /^avc: {2}denied {2}\{ pause \} for .*scontext=system_u:system_r:web_t tcontext=system_u:system_r:mon_t tclass=domain$/);
  // Only the source's type counts: the introspector (not permissive) is still refused a denial.
  const mon = permissiveHv.host.domains.byName('mon') as SimDomain;
  const web = permissiveHv.host.domains.byName('web') as SimDomain;
  assert.equal(permissiveHv.xc_domain_pause(mon.domid, web.domid).ok, false);
});

test('the security server decides targets of one kind once, and each answer is what computeAccessVector gives that target', () => {
  const policy = modelPolicy(
    'kinds.conf',
    `class domain
class event
sid xen
class domain { pause unpause getdomaininfo }
class event { bind }
attribute guests;
type m_t;
type g1_t, guests;
type g2_t, guests;
type g3_t, guests;
type g4_t, guests;
bool flag false;
allow m_t guests:domain { getdomaininfo pause };
allow m_t g3_t:domain pause;
dontaudit m_t g4_t:domain pause;
if (flag) { allow m_t guests:domain unpause; }
role system_r;
role system_r types { m_t g1_t g2_t g3_t g4_t };
user system_u roles system_r;
user other_u roles system_r;
constrain domain pause (t2 != g2_t);
sid xen system_u:system_r:m_t
`,
    'standalone',
  );
  assert.ok('policy' in policy, 'error' in policy ? policy.error : '');
  const { model } = policy.policy;
  const server = new SecurityServer(model, { initialContexts: policy.policy.initialContexts });
  const sid = (c: string): number => {
    const r = server.contextToSid(c);
    assert.ok('sid' in r, 'error' in r ? r.error : '');
    return r.sid;
  };
  const m = sid('system_u:system_r:m_t');
  const targets = ['system_u:system_r:g1_t', 'system_u:system_r:g2_t', 'system_u:system_r:g3_t', 'system_u:system_r:g4_t', 'other_u:system_r:g1_t', 'system_u:system_r:g1_t'];
  const fresh = (t: string, cls: string) => computeAccessVector(model, parseContext('system_u:system_r:m_t')!, parseContext(t)!, cls, { booleans: server.booleans() });
  for (const round of [1, 2]) {
    for (const t of targets) {
      for (const cls of ['domain', 'event']) {
        const got = server.computeAv(m, sid(t), cls);
        assert.ok('classPerms' in got);
        const want = fresh(t, cls);
        assert.deepEqual({ ...got, scontext: null }, { ...want, scontext: null }, `round ${round}: ${t} ${cls}`);
      }
    }
    // A boolean changes decisions: none made before it may answer after it.
    server.setBoolean('flag', true);
  }
  const kinds = new Set(targets.map((t) => server.targetKey(m, sid(t))));
  assert.equal(kinds.size, 5, 'g1 under system_u (twice) is one kind; g2 (a constraint names it), g3 (a rule names it), g4 (dontaudit) and other_u are their own');
  assert.equal(server.targetKey(m, m), undefined, 'its own type is decided on its own');
});
