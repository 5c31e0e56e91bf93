// The negative half of the self-test, as data. Every probe is one call that must be refused:
// * ungranted — each operation of the hypercall table whose FLASK permissions the declared
//   capabilities do not include (write-memory when only read-memory was declared: a
//   read-write foreign map; TSC, injection, altp2m, vm_event… when not declared), run from
//   the introspector against its own target;
// * non-target — the lookup and every operation the introspector *was* granted, against a
//   domain it does not target (another declared target, or an undeclared guest);
// * xenstore — the introspector writing the target's nodes, changing their ACL, reading
//   nodes no lookup needs;
// * reverse — the target looking up, and running the introspector's operations against,
//   its introspector; and writing and reading the introspector's xenstore nodes.
// Probes Xen would refuse before any FLASK check (a PV target for an HVM-only call, a target
// whose altp2m is disabled) prove nothing about the policy and are listed as not applicable.

import type { SimDomain } from '../host/domains.js';
import type { SimulatedHost } from '../host/host.js';
import { callerStateRefusesForeignMap, type CallResult } from '../host/hypercalls.js';
import { OPERATIONS, type CallContext } from '../host/hypercalls-table.js';
import { actsOnTarget, missingFor, type PairIntent } from './intent.js';
import type { Recorder } from './recorder.js';
import { DOMID_FIRST_RESERVED } from '../../xenstore/script-contract.js';

type ProbeCall = (sim: SimulatedHost, caller: number, domid: number) => CallResult<unknown>;

/**
 * The library call behind each probe-able row. Left out: B2 (an auto-translated caller's
 * B1, the same call), D1b (F1's call), B2u (acts only on the caller), D2 and D4 (need a
 * port from a ring the probe does not have), and A4 (probed as a lookup).
 */
const PROBE_CALLS: ReadonlyMap<string, ProbeCall> = new Map<string, ProbeCall>([
  ['A8', (sim, s, t) => sim.hv.xc_domain_get_address_size(s, t)],
  ['A9', (sim, s, t) => sim.hv.xc_domain_maximum_gpfn(s, t)],
  ['A10', (sim, s, t) => sim.hv.xc_domain_setmaxmem(s, t)],
  ['B1', (sim, s, t) => sim.hv.xenforeignmemory_map(s, t, 'read')],
  ['B3', (sim, s, t) => sim.hv.xenforeignmemory_map(s, t, 'read-write')],
  ['B6', (sim, s, t) => sim.hv.xc_domain_populate_physmap_exact(s, t)],
  ['C1', (sim, s, t) => sim.hv.xc_domain_hvm_getcontext_partial(s, t)],
  ['C1p', (sim, s, t) => sim.hv.xc_vcpu_getcontext(s, t)],
  ['C2', (sim, s, t) => sim.hv.xc_domain_hvm_setcontext(s, t)],
  ['C2p', (sim, s, t) => sim.hv.xc_vcpu_setcontext(s, t)],
  ['C3.pause', (sim, s, t) => sim.hv.xc_domain_pause(s, t)],
  ['C3.unpause', (sim, s, t) => sim.hv.xc_domain_unpause(s, t)],
  ['C4', (sim, s, t) => sim.hv.xc_domain_get_tsc_info(s, t)],
  ['C5', (sim, s, t) => sim.hv.xc_hvm_inject_trap(s, t)],
  ['D1c', (sim, s, t) => sim.hv.perform('D1c', s, t)],
  ['D1f', (sim, s, t) => sim.hv.perform('D1f', s, t)],
  ['D3', (sim, s, t) => sim.hv.xc_monitor_get_capabilities(s, t)],
  ['D5', (sim, s, t) => sim.hv.xc_set_mem_access(s, t)],
  ['D5a', (sim, s, t) => sim.hv.xc_altp2m_op(s, t, 'set_mem_access')],
  ['D5b', (sim, s, t) => sim.hv.xc_domain_set_access_required(s, t)],
  ['D6', (sim, s, t) => sim.hv.xc_monitor_write_ctrlreg(s, t)],
  ['D7', (sim, s, t) => sim.hv.xc_monitor_software_breakpoint(s, t)],
  ['D8', (sim, s, t) => sim.hv.xc_monitor_singlestep(s, t)],
  ['D9', (sim, s, t) => sim.hv.xc_monitor_debug_exceptions(s, t)],
  ['E1', (sim, s, t) => sim.hv.xc_altp2m_op(s, t, 'create_p2m')],
  ['E2', (sim, s, t) => sim.hv.xc_hvm_param_set(s, t, 'altp2m')],
  ['F1', (sim, s, t) => sim.hv.xc_hvm_param_get(s, t)],
  ['F2', (sim, s, t) => sim.hv.xc_hvm_param_set(s, t, 'other')],
  ['F3', (sim, s, t) => sim.hv.xc_domain_debug_control(s, t)],
  ['F4', (sim, s, t) => sim.hv.xenforeignmemory_map_resource(s, t)],
  ['F4.vmtrace', (sim, s, t) => sim.hv.xenforeignmemory_map_vmtrace_buf(s, t)],
  ['F3.vmtrace', (sim, s, t) => sim.hv.xc_vmtrace_op(s, t)],
]);

/** Why Xen would refuse the row before FLASK decides, for this caller and domain. */
export function refusedBeforeFlask(rowId: string, xen: string, caller: SimDomain, target: SimDomain): string | undefined {
  const row = OPERATIONS.get(rowId);
  const ctx = { xen, caller: caller.kind, target: target.kind, self: caller.domid === target.domid };
  const before = row?.before?.(ctx);
  if (before) return `Xen refuses it first: ${before.why} (-${before.errno})`;
  const stateRefusal = rowId === 'B1' || rowId === 'B2' || rowId === 'B3' ? callerStateRefusesForeignMap(xen, caller) : undefined;
  if (stateRefusal) return `Xen refuses it first: ${stateRefusal} (-EPERM)`;
  if ((rowId === 'E1' || rowId === 'D5a') && (target.kind === 'pv' || target.altp2m === 'disabled')) {
    return `Xen refuses it first: the domain's altp2m mode is ${target.kind === 'pv' ? 'unavailable (PV)' : 'disabled'}`;
  }
  return undefined;
}

function contextOf(xen: string, caller: SimDomain, target: SimDomain): CallContext {
  return { xen, caller: caller.kind, target: target.kind };
}

/** Rows the intent does not grant, with the permissions each lacks. */
export function ungrantedRows(xen: string, caller: SimDomain, target: SimDomain, intent: PairIntent): { row: string; missing: string[] }[] {
  const ctx = contextOf(xen, caller, target);
  return [...PROBE_CALLS.keys()]
    .map((row) => ({ row, missing: missingFor(row, ctx, intent) }))
    .filter((r) => r.missing.length > 0 && actsOnTarget(r.row, ctx));
}

/** Rows the intent grants over a target of this kind: what a non-target or reverse probe replays. */
export function grantedRows(xen: string, caller: SimDomain, target: SimDomain, intent: PairIntent): string[] {
  const ctx = contextOf(xen, caller, target);
  return [...PROBE_CALLS.keys()].filter((row) => actsOnTarget(row, ctx) && missingFor(row, ctx, intent).length === 0);
}

/** Runs one probe call; a call that went through (or failed for another reason) is recorded as such. */
export function runProbeCall(sim: SimulatedHost, row: string, caller: number, domid: number, rec: Recorder): void {
  const call = PROBE_CALLS.get(row);
  if (!call) return rec.fail(`no probe call for row ${row}`);
  const r = call(sim, caller, domid);
  if (!rec.call(r)) return;
  // A call can succeed while a listing or a later step silently skips: that is still allowed.
}

/**
 * Every domain listed by domid (xc_domain_getinfolist from domain 0, as many as there can
 * be): none of `hidden` may be among them. Denied when the AVC skipped each of them (or
 * refused the listing); allowed, naming them, when any was listed.
 */
export function probeListing(sim: SimulatedHost, caller: number, hidden: readonly SimDomain[], rec: Recorder): void {
  const r = sim.hv.xc_domain_getinfolist(caller, 0, DOMID_FIRST_RESERVED);
  if (!rec.call(r)) return;
  const listed = new Set((r.value ?? []).map((d) => d.domid));
  const seen = hidden.filter((d) => listed.has(d.domid));
  if (seen.length === 0) return rec.deny(`none of the ${hidden.length} domains is listed (getdomaininfo denied on each)`);
  rec.note(`listed ${seen.map((d) => `d${d.domid} ${d.name}`).join(', ')}`);
}

/** A lookup by name that must not find the domain: the listing, or the name, must be unreadable. */
export function probeLookupByName(sim: SimulatedHost, caller: number, target: SimDomain, rec: Recorder): void {
  const listing = sim.xenstore.directory(caller, '/local/domain');
  if (!rec.xs(caller, 'directory', '/local/domain', listing)) return;
  const path = `/local/domain/${target.domid}/name`;
  const name = sim.xenstore.read(caller, path);
  if (!rec.xs(caller, 'read', path, name)) return;
  if (name.value === target.name) rec.note(`read the name of domain ${target.domid}`);
}

export type XenstoreProbe = { readonly op: 'write' | 'set-perms' | 'read' | 'directory'; readonly path: string; readonly value?: string; readonly perms?: readonly string[] };

/** The xenstore requests an introspector must not be able to make on a target's nodes. */
export function xenstoreProbes(caller: SimDomain, target: SimDomain, lookup: 'name' | 'domid'): XenstoreProbe[] {
  const dir = `/local/domain/${target.domid}`;
  return [
    { op: 'write', path: `${dir}/name`, value: 'renamed-by-introspector' },
    { op: 'write', path: `${dir}/vmipolicy-probe`, value: 'x' },
    { op: 'set-perms', path: `${dir}/name`, perms: [`n${caller.domid}`] },
    { op: 'read', path: `${dir}/vm` },
    { op: 'read', path: dir },
    ...(lookup === 'domid' ? [{ op: 'directory', path: '/local/domain' } as const] : []),
  ];
}

/** The xenstore requests a target must not be able to make on its introspector's nodes. */
export function reverseXenstoreProbes(introspector: SimDomain): XenstoreProbe[] {
  const dir = `/local/domain/${introspector.domid}`;
  return [
    { op: 'read', path: `${dir}/name` },
    { op: 'write', path: `${dir}/name`, value: 'renamed-by-target' },
    { op: 'directory', path: '/local/domain' },
  ];
}

export function runXenstoreProbe(sim: SimulatedHost, caller: number, probe: XenstoreProbe, rec: Recorder): void {
  const xs = sim.xenstore;
  switch (probe.op) {
    case 'write': rec.xs(caller, 'write', probe.path, xs.write(caller, probe.path, probe.value ?? '')); return;
    case 'set-perms': rec.xs(caller, 'set-perms', probe.path, xs.setPerms(caller, probe.path, probe.perms ?? [])); return;
    case 'read': rec.xs(caller, 'read', probe.path, xs.read(caller, probe.path)); return;
    case 'directory': rec.xs(caller, 'directory', probe.path, xs.directory(caller, probe.path)); return;
  }
}
