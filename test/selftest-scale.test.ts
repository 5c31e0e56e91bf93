// The self-test on hosts of many targets: guests boot when a session first touches them and
// shut down when it ends (one running at a time); probes that went as expected are one entry
// per introspector and probe, counted, while every mismatch keeps its own; an operation's
// lists of checks, avc lines and xenstore requests are capped and the rest counted; the AVC
// keeps the latest audit lines, as Xen's console ring does, and counts every one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileText } from './support/env.js';
import { policyFromText, type LoadedPolicy } from '../policy/load.js';
import { LISTED_PER_OPERATION, runSelftestOn, type OperationReport, type SelftestReport } from '../vmi/selftest/selftest.js';
import { selftestJson, selftestText } from '../report/selftest.js';
import { bootSimulatedHost, type SimulatedHost } from '../vmi/host/host.js';
import { AVC_CACHE_THRESHOLD, AVC_LOG_KEPT } from '../vmi/host/avc.js';
import { EVERY_HVM_CAPABILITY, fleetSpec } from './support/fleet.js';

const PER_MONITOR = 20;

/** Two PV monitors (one looks targets up by name, one by domid), each with its own HVM targets. */
function manyTargets(): string {
  const targets = (m: number): string[] => Array.from({ length: PER_MONITOR }, (_, i) => `vm${m}x${i}`);
  return [
    'vmipolicy: 1',
    'xen: "4.17.7"',
    'policy: {module: fleet, mode: standalone}',
    'introspectors:',
    `  - {name: byname, guest: pv, lookup: name, targets: [${targets(0).join(', ')}], capabilities: [domain-info, read-memory, read-registers]}`,
    `  - {name: bydomid, guest: pv, lookup: domid, targets: [${targets(1).join(', ')}], capabilities: [domain-info, read-memory, pause]}`,
    'targets:',
    ...[...targets(0), ...targets(1)].map((t) => `  - {name: ${t}, guest: hvm}`),
    '',
  ].join('\n');
}

function compiled(): { artifacts: ReadonlyMap<string, string>; policy: LoadedPolicy } {
  const r = compileText(manyTargets());
  assert.ok(r.artifacts, r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  const loaded = policyFromText('policy.conf', r.artifacts.get('policy.conf')!);
  assert.ok(loaded.policy);
  return { artifacts: r.artifacts, policy: loaded.policy };
}

function run(input: { artifacts: ReadonlyMap<string, string>; policy: LoadedPolicy }, onHost?: (sim: SimulatedHost) => void): SelftestReport {
  const r = runSelftestOn({ ...input, spec: 'spec.yaml' }, { dataPages: 8, ...(onHost ? { onHost } : {}) });
  assert.ok('report' in r, 'diagnostics' in r ? r.diagnostics.map((d) => d.message).join('; ') : '');
  return r.report;
}

/** The compiled host with `extra` rules for bydomid added to its policy. */
function bydomidMayAlso(extra: string): { artifacts: ReadonlyMap<string, string>; policy: LoadedPolicy } {
  const input = compiled();
  const text = input.policy.text.replace(/^(allow bydomid_t vm1x0_t:.*)$/m, `$1\n${extra}`);
  assert.notEqual(text, input.policy.text);
  const loaded = policyFromText('policy.conf', text);
  assert.ok(loaded.policy);
  return { artifacts: input.artifacts, policy: loaded.policy };
}

const entries = (r: SelftestReport, pred: (o: OperationReport) => boolean): OperationReport[] => r.operations.filter(pred);
const stood = (o: OperationReport): number => o.alike ?? 1;

test('guests boot on first use and the self-test runs one at a time, shutting each down when its session ends', () => {
  const input = compiled();
  const booted = bootSimulatedHost(input);
  assert.ok('sim' in booted);
  const { guests } = booted.sim;
  assert.equal(guests.runningCount, 0, 'no guest boots with the host');
  const vm = booted.sim.host.domains.byName('vm0x3')!.domid;
  const first = guests.get(vm)!;
  assert.equal(guests.runningCount, 1);
  assert.equal(guests.get(vm), first, 'a running guest is kept, with its state');
  first.machine.setCr3(0, 0x5000);
  const written = first.guest.image.writtenFrames();
  const bytes = new Map(written.slice(0, 64).map((pfn) => [pfn, Uint8Array.from(first.guest.image.frame(pfn)!)]));
  guests.shutDown(vm);
  assert.equal(guests.runningCount, 0);
  assert.deepEqual(first.guest.image.writtenFrames(), [], 'shut down, its frames are given back: the old image reads as fresh RAM');
  const again = guests.get(vm)!;
  assert.notEqual(again, first);
  assert.equal(again.machine.vcpus[0]!.cr3, again.guest.dtb, 'booted again, the vCPU starts afresh');
  assert.deepEqual(again.guest.image.writtenFrames(), written, 'and the memory is the same bytes');
  for (const [pfn, content] of bytes) assert.deepEqual(again.guest.image.frame(pfn), content);
  assert.equal(guests.get(booted.sim.host.domains.byName('byname')!.domid), undefined, 'introspectors have no guest');

  let sim: SimulatedHost | undefined;
  const report = run(input, (s) => void (sim = s));
  assert.equal(report.verdict, 'pass', selftestText(report));
  assert.equal(sim!.guests.peakRunning, 1, 'one guest at a time');
  assert.equal(sim!.guests.runningCount, 0, 'every session shut its guest down');
});

test('probes that went as expected are one entry per introspector and probe, counted; the totals count every operation', () => {
  const report = run(compiled());
  assert.equal(report.verdict, 'pass');
  assert.equal(report.operations.reduce((n, o) => n + stood(o), 0), report.totals.operations, 'every operation is counted once');
  assert.equal(report.notApplicable.reduce((n, o) => n + (o.alike ?? 1), 0), report.totals.notApplicable);
  // Capability operations are never folded: one per target and step.
  const sessions = entries(report, (o) => o.kind === 'capability' && o.capability === 'session');
  assert.equal(sessions.length, 2 * PER_MONITOR);
  assert.ok(report.operations.every((o) => o.kind !== 'capability' || o.alike === undefined));
  // Each ungranted row of a monitor is probed on each of its targets: one entry, PER_MONITOR alike.
  const ungranted = entries(report, (o) => o.kind === 'ungranted' && o.introspector === 'bydomid');
  assert.ok(ungranted.length > 0);
  for (const o of ungranted) assert.equal(o.alike, PER_MONITOR, `${o.name} ${o.rows.join(' ')}`);
  // The other monitor's targets and the bystander, PER_MONITOR + 1 domains: by name, a lookup
  // of each; by domid, one listing of every domain.
  const lookups = entries(report, (o) => o.kind === 'non-target' && o.capability === 'lookup');
  assert.deepEqual(lookups.map((o) => [o.introspector, o.alike, o.rows.join()]).sort(), [['bydomid', undefined, 'A4'], ['byname', PER_MONITOR + 1, 'A3']]);
  // xenstore probes name a path under the target's home: folded across targets all the same.
  const writes = entries(report, (o) => o.kind === 'xenstore' && o.introspector === 'byname' && /^xenstore write \/local\/domain\/\d+\/name$/.test(o.name));
  assert.equal(writes.length, 1);
  assert.equal(writes[0]!.alike, PER_MONITOR);
  assert.match(selftestText(report), new RegExp(`byname → vm0x0 \\(and ${PER_MONITOR - 1} like it\\)`));
});

test('a listing by domid that shows a domain the introspector does not target is not as expected, and names it', () => {
  const report = run(bydomidMayAlso('allow bydomid_t vm0x4_t:domain getdomaininfo;'));
  const listing = report.operations.find((o) => o.kind === 'non-target' && o.introspector === 'bydomid' && o.capability === 'lookup')!;
  assert.equal(listing.asExpected, false);
  assert.equal(listing.actual, 'allowed');
  assert.match(listing.detail, /listed d\d+ vm0x4$/);
});

test('a probe that is not as expected keeps an entry of its own; its alike fold without it', () => {
  const input = compiled();
  // byname does not declare pause: let it pause vm0x5 and vm0x7, and only those.
  const overGranted = ['vm0x5', 'vm0x7'];
  let text = input.policy.text;
  for (const vm of overGranted) text = text.replace(new RegExp(`^(allow byname_t ${vm}_t:.*)$`, 'm'), `$1\nallow byname_t ${vm}_t:domain { pause unpause };`);
  assert.equal(text.split('\n').length, input.policy.text.split('\n').length + overGranted.length);
  const loaded = policyFromText('policy.conf', text);
  assert.ok(loaded.policy);
  const report = run({ artifacts: input.artifacts, policy: loaded.policy });
  assert.equal(report.verdict, 'fail');
  const bad = report.operations.filter((o) => !o.asExpected);
  assert.ok(bad.length > 0);
  for (const o of bad) {
    assert.ok(overGranted.includes(o.object), `${o.name}: ${o.detail}`);
    assert.equal(o.alike, undefined);
  }
  for (const vm of overGranted) assert.ok(bad.some((o) => o.object === vm), `${vm} has its own entry`);
  const rows = new Set(bad.map((o) => o.rows.join(' ')));
  const siblings = report.operations.filter((o) => o.kind === 'ungranted' && o.introspector === 'byname' && rows.has(o.rows.join(' ')) && o.asExpected);
  assert.ok(siblings.length > 0);
  for (const o of siblings) assert.equal(o.alike, PER_MONITOR - overGranted.length, `${o.name}: the other targets fold without the over-granted ones`);
  assert.match(selftestText(report), /FAIL/);
});

test('an operation lists at most LISTED_PER_OPERATION distinct checks and avc lines; JSON and text count the rest', () => {
  const report = run(compiled());
  // bydomid listing every domain makes a check on each of them (getdomaininfolist).
  const walk = report.operations.find((o) => o.kind === 'non-target' && o.introspector === 'bydomid' && o.capability === 'lookup');
  assert.ok(walk?.unlisted, 'the walk left checks out');
  assert.equal(walk.checks.length, LISTED_PER_OPERATION);
  assert.ok(walk.unlisted.checks > 0);
  assert.ok(walk.denials.length <= LISTED_PER_OPERATION);
  const json = JSON.parse(selftestJson(report)) as SelftestReport;
  assert.deepEqual(json.operations.find((o) => o.index === walk.index)?.unlisted, walk.unlisted);
  assert.match(selftestText(report), new RegExp(`… and ${walk.unlisted.checks} more checks`));
  for (const o of report.operations) assert.ok(o.checks.length <= LISTED_PER_OPERATION && o.denials.length <= LISTED_PER_OPERATION && o.xenstore.length <= LISTED_PER_OPERATION);
});

test('everyOperation: each operation its own entry with every check, the same verdicts and totals', () => {
  const input = compiled();
  const folded = run(input);
  const r = runSelftestOn({ ...input, spec: 'spec.yaml' }, { dataPages: 8, everyOperation: true });
  assert.ok('report' in r);
  const every = r.report;
  assert.deepEqual(every.totals, folded.totals);
  assert.equal(every.operations.length, every.totals.operations);
  assert.ok(every.operations.every((o) => o.alike === undefined && o.unlisted === undefined));
  assert.ok(every.operations.some((o) => o.checks.length > LISTED_PER_OPERATION), 'the walk lists all its checks');
});

test('the AVC keeps the latest audit lines, as a console ring does, and counts every one', () => {
  const booted = bootSimulatedHost(compiled());
  assert.ok('sim' in booted);
  const { host, hv } = booted.sim;
  const mon = host.domains.byName('byname')!;
  const other = host.domains.byName('vm1x0')!;
  const n = 2 * AVC_LOG_KEPT + 123;
  for (let i = 0; i < n; i++) {
    const r = hv.xc_domain_pause(mon.domid, other.domid);
    assert.equal(r.ok, false);
  }
  assert.equal(hv.avc.logged, n);
  assert.ok(hv.avc.log.length >= AVC_LOG_KEPT && hv.avc.log.length < 2 * AVC_LOG_KEPT, `${hv.avc.log.length} lines kept`);
  assert.match(hv.avc.log.at(-1)!, /avc:  denied  \{ pause \}/);
});

test('the AVC holds at most avc_cache_threshold decisions, and a reclaimed one is computed again the same', () => {
  const booted = bootSimulatedHost(compiled());
  assert.ok('sim' in booted);
  const { host, hv } = booted.sim;
  const sids = host.domains.list().map((d) => d.sid);
  const asked: [number, number, string, string][] = [];
  for (const s of sids) for (const t of sids) for (const [cls, perm] of [['domain', 'pause'], ['domain', 'getdomaininfo'], ['mmu', 'map_read'], ['hvm', 'gethvmc']] as const) asked.push([s, t, cls, perm]);
  assert.ok(asked.length > 4 * AVC_CACHE_THRESHOLD, `${asked.length} distinct questions`);
  const first = asked.map(([s, t, cls, perm]) => hv.avc.hasPermNoAudit(s, t, cls, [perm]).allowed);
  assert.ok(hv.avc.cached <= AVC_CACHE_THRESHOLD, `${hv.avc.cached} decisions cached`);
  const misses = hv.avc.misses;
  const again = asked.map(([s, t, cls, perm]) => hv.avc.hasPermNoAudit(s, t, cls, [perm]).allowed);
  assert.ok(hv.avc.misses > misses, 'reclaimed decisions were computed again');
  assert.deepEqual(again, first);
  assert.ok(first.includes(true) && first.includes(false));
});

test('the full data region is read once per introspector and guest kind; every other target still makes every check, on its own label', () => {
  const input = compiled();
  const report = run(input);
  const reads = entries(report, (o) => o.introspector === 'byname' && o.capability === 'read-memory' && /page walk/.test(o.name));
  assert.equal(reads.length, PER_MONITOR);
  assert.match(reads[0]!.detail, /^8\/8 pages read and matching/);
  for (const o of reads.slice(1)) assert.match(o.detail, /^1\/1 pages read and matching, \d+ frames mapped \(tables \+ data\); the full region was read on vm0x0$/, o.object);
  // Take map_read on vm0x7 away: its light session must still be refused, at its own check.
  const text = input.policy.text.replace(/^allow byname_t vm0x7_t:mmu \{ map_read stat \};$/m, 'allow byname_t vm0x7_t:mmu stat;');
  assert.notEqual(text, input.policy.text);
  const loaded = policyFromText('policy.conf', text);
  assert.ok(loaded.policy);
  const broken = run({ artifacts: input.artifacts, policy: loaded.policy });
  const failed = broken.operations.filter((o) => !o.asExpected);
  assert.ok(failed.length > 0 && failed.every((o) => o.object === 'vm0x7' && o.capability === 'read-memory'), failed.map((o) => `${o.object} ${o.name}`).join('\n'));
  assert.ok(failed.some((o) => o.checks.some((c) => !c.allowed && c.denied.includes('map_read') && c.tcontext.includes('vm0x7_t'))));
});

test('targets take the low domids: a target listing its introspector walks the introspectors, not every later target', () => {
  let sim: SimulatedHost | undefined;
  const report = runSelftestOn({ ...compiled(), spec: 'spec.yaml' }, { dataPages: 8, everyOperation: true, onHost: (s) => void (sim = s) });
  assert.ok('report' in report);
  const domains = sim!.host.domains.list().filter((d) => d.role !== 'dom0');
  const lastTarget = Math.max(...domains.filter((d) => d.role === 'target').map((d) => d.domid));
  for (const d of domains.filter((x) => x.role === 'introspector')) assert.ok(d.domid > lastTarget, `${d.name} (d${d.domid}) after every target`);
  const reverse = report.report.operations.filter((o) => o.kind === 'reverse' && o.rows.includes('A4'));
  assert.equal(reverse.length, 2 * PER_MONITOR);
  // From its introspector's domid on: the introspectors, the bystander and domxen's check at most.
  for (const o of reverse) assert.ok(o.checks.reduce((n, c) => n + c.count, 0) <= 4, `${o.subject}: ${o.checks.length} checks`);
});

/** Entries by what folds them, each with the number of operations it stands for. */
function foldCounts(r: SelftestReport): Map<string, number> {
  const counts = new Map<string, number>();
  for (const o of r.operations) {
    const key = [o.introspector, o.kind, o.name.replace(/\/local\/domain\/\d+/g, '<d>'), o.rows.join(' '), o.actual].join('|');
    counts.set(key, (counts.get(key) ?? 0) + (o.alike ?? 1));
  }
  return counts;
}

test('non-target probes of domains the policy decides alike are run once and counted: the same counts as running each', () => {
  const input = compiled();
  const counted = run(input);
  const r = runSelftestOn({ ...input, spec: 'spec.yaml' }, { dataPages: 8, everyOperation: true });
  assert.ok('report' in r);
  assert.deepEqual(counted.totals, r.report.totals);
  assert.deepEqual(foldCounts(counted), foldCounts(r.report));
  const replays = counted.operations.filter((o) => o.kind === 'non-target' && o.capability === undefined);
  assert.ok(replays.length > 0 && replays.every((o) => (o.alike ?? 1) >= PER_MONITOR), 'each replay stands for every domain the introspector does not target');
});

test('a non-target the policy treats differently is decided on its own: an over-grant on one of a thousand alike is found', () => {
  // bydomid may pause and read vm0x13 (byname's): the one domain its rules now reach.
  const host = bydomidMayAlso('allow bydomid_t vm0x13_t:domain { pause unpause };\nallow bydomid_t vm0x13_t:mmu { map_read };');
  const report = run(host);
  assert.equal(report.verdict, 'fail');
  const bad = report.operations.filter((o) => !o.asExpected);
  assert.ok(bad.length > 0);
  for (const o of bad) assert.deepEqual([o.introspector, o.kind, o.object, o.actual], ['bydomid', 'non-target', 'vm0x13', 'allowed'], `${o.name}: ${o.detail}`);
  assert.ok(bad.some((o) => o.rows.includes('C3.pause')));
  assert.ok(bad.some((o) => o.rows.includes('B1')));
  const every = runSelftestOn({ ...host, spec: 'spec.yaml' }, { dataPages: 8, everyOperation: true });
  assert.ok('report' in every);
  assert.deepEqual(report.totals, every.report.totals);
  assert.deepEqual(foldCounts(report), foldCounts(every.report));
});

test('when the first of an alike kind is not as expected, each of the others runs at its own turn and keeps its own entry', () => {
  // Every domain_type: byname's targets, the bystander and more, all alike to bydomid's rules.
  const report = run(bydomidMayAlso('allow bydomid_t domain_type:domain { pause unpause };'));
  const paused = report.operations.filter((o) => !o.asExpected && o.introspector === 'bydomid' && o.kind === 'non-target' && o.rows.includes('C3.pause'));
  for (let i = 0; i < PER_MONITOR; i++) assert.ok(paused.some((o) => o.object === `vm0x${i}`), `vm0x${i} has its own entry`);
  assert.ok(paused.every((o) => o.alike === undefined));
});

test('introspectors of one profile share the full-region proof; each pair still makes its own checks, and a profile that differs proves its own', () => {
  const targets = (m: number): string[] => Array.from({ length: 3 }, (_, i) => `g${m}x${i}`);
  const caps = 'capabilities: [domain-info, read-memory, read-registers]';
  const spec = [
    'vmipolicy: 1', 'xen: "4.17.7"', 'policy: {module: fleet, mode: standalone}', 'introspectors:',
    `  - {name: first, guest: pv, targets: [${targets(0).join(', ')}], ${caps}}`,
    `  - {name: twin, guest: pv, targets: [${targets(1).join(', ')}], ${caps}}`,
    `  - {name: other, guest: pv, targets: [${targets(2).join(', ')}], capabilities: [domain-info, read-memory, read-registers, pause]}`,
    'targets:', ...[0, 1, 2].flatMap(targets).map((t) => `  - {name: ${t}, guest: hvm}`), '',
  ].join('\n');
  const r = compileText(spec);
  assert.ok(r.artifacts, r.diagnostics.map((d) => d.message).join('\n'));
  const loaded = policyFromText('policy.conf', r.artifacts.get('policy.conf')!);
  assert.ok(loaded.policy);
  const report = run({ artifacts: r.artifacts, policy: loaded.policy });
  const details = (who: string): string[] => entries(report, (o) => o.introspector === who && /page walk/.test(o.name)).map((o) => o.detail);
  assert.match(details('first')[0]!, /^8\/8 pages read and matching/);
  assert.match(details('first')[1]!, /the full region was read on g0x0$/);
  for (const d of details('twin')) assert.match(d, /^1\/1 pages read and matching, \d+ frames mapped \(tables \+ data\); the full region was read by first on g0x0$/);
  assert.match(details('other')[0]!, /^8\/8 pages read and matching/);
  // The twin's pairs are still decided on their own labels: every read checked twin_t on its target.
  for (const o of entries(report, (o) => o.introspector === 'twin' && /page walk/.test(o.name))) {
    assert.ok(o.checks.some((c) => c.cls === 'mmu' && c.scontext.endsWith(':twin_t') && c.tcontext.endsWith(`:${o.object}_t`)), o.object);
  }
  assert.equal(report.verdict, 'pass');
});

test('with event-channel rows among the replays (every capability), the rows of domain checks are still counted for alike domains and the event-channel rows run on each: the same counts as running each', () => {
  const spec = fleetSpec(3, 4, { tool: 'drakvuf', capabilities: EVERY_HVM_CAPABILITY });
  const r = compileText(spec);
  assert.ok(r.artifacts, r.diagnostics.map((d) => d.message).join('\n'));
  const loaded = policyFromText('policy.conf', r.artifacts.get('policy.conf')!);
  assert.ok(loaded.policy);
  const input = { artifacts: r.artifacts, policy: loaded.policy };
  let countedDenials = 0;
  let everyDenials = 0;
  const counted = run(input, (sim) => (countedDenials = sim.hv.avc.logged));
  const every = runSelftestOn({ ...input, spec: 'spec.yaml' }, { dataPages: 8, everyOperation: true, onHost: (sim) => (everyDenials = sim.hv.avc.logged) });
  assert.ok('report' in every);
  assert.deepEqual(counted.totals, every.report.totals);
  assert.deepEqual(foldCounts(counted), foldCounts(every.report));
  assert.equal(counted.verdict, 'pass');
  // D1f (the vm_event enable, with its event channel) is among the replays: before, it kept
  // every other domain from being counted, and each ran every row.
  assert.ok(counted.operations.some((o) => o.rows[0] === 'D1f') || counted.notApplicable.some((n) => n.rows[0] === 'D1f'));
  assert.ok(countedDenials * 2 < everyDenials, `${countedDenials} denials made counting alike domains, ${everyDenials} running each`);
});
