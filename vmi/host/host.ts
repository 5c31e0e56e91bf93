// A simulated Xen host booted from what the check stage produced: the policy it checked
// (security server + enforcing AVC, with the policy's own initial-SID contexts and role
// allows), the declared domains labelled from the compiled xl snippets, a xenstore laid out
// as libxl lays it out with the compiled xenstore-acl.sh applied, and one deterministic
// guest (real x86-64 page tables, a task list, a data region) per guest domain. On top of
// the checked hypercalls it gives the data a VMI library gets back — the vCPU context with
// CR3, the bytes of a foreign-mapped frame — only when the call was allowed.

import { createHash } from 'node:crypto';
import { PAGE_SIZE } from '../memory/physical-memory.js';
import { buildSyntheticGuest, type SyntheticGuest } from '../guest/synthetic-guest.js';
import { runAclScript, type ScriptRun } from '../../xenstore/acl-script.js';
import { bootFailure, hostFromArtifacts, hostPolicyOf, type DomainSpec, type Host, type HostPolicy, type Manifest, type ParsedPolicy } from './domains.js';
import type { Diagnostic } from '../../core/diagnostics.js';
import { layOutXenstore, uuidOf } from '../../xenstore/libxl-layout.js';
import { Hypervisor, type CallResult, type Prot } from './hypercalls.js';
import { MonitoredGuest } from './vm-event.js';
import { Xenstore } from '../../xenstore/store.js';

export interface SimulatedGuest {
  readonly domid: number;
  readonly guest: SyntheticGuest;
  /** The guest's vCPUs and memory as vm_event sees them (the hook a monitor ring attaches to). */
  readonly machine: MonitoredGuest;
}

export interface SimulatedHost {
  readonly host: Host;
  readonly hv: Hypervisor;
  readonly xenstore: Xenstore;
  /** Guest memory and vCPUs, for every target and extra guest (introspectors have none here). */
  readonly guests: GuestPool;
  readonly uuids: ReadonlyMap<number, string>;
  /** What xenstore-acl.sh did. */
  readonly acl: ScriptRun;
}

interface BootOptions {
  /** Guest RAM per guest (default 64 MiB). */
  readonly memoryBytes?: number;
  /** Pages in each guest's data region (default 500). */
  readonly dataPages?: number;
  /** Domains the spec does not declare (a bystander guest for negative probes). */
  readonly extraDomains?: readonly DomainSpec[];
}

interface BootInput {
  readonly artifacts: ReadonlyMap<string, string>;
  /** The policy checked, or its host form (hostPolicyOf). */
  readonly policy: ParsedPolicy | HostPolicy;
  /** The manifest, when the caller read it already (the artifacts may then leave it out). */
  readonly manifest?: Manifest;
}

type Booted = { readonly sim: SimulatedHost } | { readonly diagnostics: readonly Diagnostic[] };

/**
 * The guests of a host, each booted when something first asks for it and kept, with every
 * change made to its memory and vCPUs, until it is shut down; booted again it starts from
 * the same bytes. Introspectors and dom0 have no guest here.
 */
class GuestPool {
  private readonly running = new Map<number, SimulatedGuest>();
  private readonly pages = new Map<number, number>();
  private peak = 0;

  constructor(
    private readonly domids: ReadonlySet<number>,
    private readonly boot: (domid: number, dataPages: number | undefined) => SimulatedGuest,
  ) {}

  has(domid: number): boolean {
    return this.domids.has(domid);
  }

  /**
   * From its next boot on, `domid`'s data region has `dataPages` pages (undefined: the host's
   * setting) — whoever touches it first, the caller or a hypercall returning its data.
   */
  bootWith(domid: number, dataPages: number | undefined): void {
    if (dataPages === undefined) this.pages.delete(domid);
    else this.pages.set(domid, dataPages);
  }

  /** The guest of `domid`, booted now if it is not running; undefined for a domain with none. */
  get(domid: number): SimulatedGuest | undefined {
    if (!this.domids.has(domid)) return undefined;
    let g = this.running.get(domid);
    if (!g) {
      this.running.set(domid, (g = this.boot(domid, this.pages.get(domid))));
      this.peak = Math.max(this.peak, this.running.size);
    }
    return g;
  }

  /** Drops the guest's memory and vCPU state: the next get boots it afresh. */
  shutDown(domid: number): void {
    // Its frames go to the next guest booted; nothing holds a view of them past its session.
    this.running.get(domid)?.guest.image.discard();
    this.running.delete(domid);
  }

  /** How many guests are running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** The most guests that have run at once. */
  get peakRunning(): number {
    return this.peak;
  }
}

/** A stable 32-bit seed and a v4-shaped UUID from a domain name: same name, same guest. */
function seedOf(name: string): number {
  return createHash('sha256').update(`vmipolicy guest ${name}`).digest().readUInt32LE(0);
}

/**
 * The compiled files a host boots from: the xl snippets (labels), the xenstore ACL script and
 * the manifest. Not policy.conf or the module: the host gets the policy already modelled,
 * and on a host of 10 000 domains the policy text is tens of megabytes held for nothing.
 */
export function hostArtifacts(artifacts: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...artifacts].filter(([file]) => file.startsWith('xl/') || file === 'xenstore-acl.sh' || file === 'manifest.json'));
}

/** Boots the host: domains, policy, xenstore (+ the compiled ACL script), guest memory. */
export function bootSimulatedHost(input: BootInput, options: BootOptions = {}): Booted {
  const { artifacts, policy } = input;
  const booted = hostFromArtifacts(artifacts, hostPolicyOf(policy), options.extraDomains ?? [], input.manifest);
  if (!booted.host) return { diagnostics: booted.diagnostics };
  const host = booted.host;
  const hv = new Hypervisor(host, { enforcing: true });
  const guestDomains = host.domains.list().filter((d) => d.role !== 'dom0');
  const uuids = new Map(guestDomains.map((d) => [d.domid, uuidOf(d.name)]));
  const xenstore = layOutXenstore(guestDomains, uuids);
  const script = artifacts.get('xenstore-acl.sh');
  if (script === undefined) return { diagnostics: [bootFailure('the artifacts have no xenstore-acl.sh')] };
  const ran = runAclScript(script, (name) => host.domains.byName(name)?.domid, xenstore);
  if (!ran.ok) return { diagnostics: [ran.error.diagnostic] };

  const memoryBytes = options.memoryBytes ?? 64 << 20;
  const guestIds = new Set(guestDomains.filter((d) => d.role !== 'introspector').map((d) => d.domid));
  const guests = new GuestPool(guestIds, (domid, dataPages) => {
    const pages = dataPages ?? options.dataPages;
    const guest = buildSyntheticGuest({ seed: seedOf(host.domains.get(domid)?.name ?? ''), memoryBytes, ...(pages ? { dataPages: pages } : {}) });
    // One vCPU, running the kernel (CR3 = init_mm.pgd) at its text.
    const machine = new MonitoredGuest(guest.image, [{ cr3: guest.dtb, rip: guest.layout.kernelText }]);
    return { domid, guest, machine };
  });
  return { sim: { host, hv, xenstore, guests, uuids, acl: ran.run } };
}

// ------------------------------------------------------------------ calls that return data

/** A result carried over to a call that returns data: the same outcome and checks, no value. */
function noValue<T>(r: CallResult<unknown>, failure?: { errno: 'EINVAL'; why: string }): CallResult<T> {
  const { value: _dropped, ...rest } = r;
  return failure ? { ...rest, ok: false, ...failure } : rest;
}

interface VcpuContext {
  readonly cr3: number;
  readonly rip: bigint;
}

/**
 * The vCPU registers as LibVMI reads them: xc_domain_hvm_getcontext_partial for an HVM/PVH
 * target (C1), xc_vcpu_getcontext for a PV one (C1p). The context only when allowed.
 */
export function getVcpuContext(sim: SimulatedHost, caller: number, domid: number, vcpu = 0): CallResult<VcpuContext> {
  const target = sim.host.domains.get(domid);
  const r = target?.kind === 'pv' ? sim.hv.xc_vcpu_getcontext(caller, domid) : sim.hv.xc_domain_hvm_getcontext_partial(caller, domid);
  if (!r.ok) return noValue(r);
  const v = sim.guests.get(domid)?.machine.vcpus[vcpu];
  if (!v) return noValue(r, { errno: 'EINVAL', why: `domain ${domid} has no vCPU ${vcpu} with state` });
  return { ...r, value: { cr3: v.cr3, rip: v.rip } };
}

/** XENMEM_maximum_gpfn (A9): the highest gfn, when allowed. */
export function maximumGpfn(sim: SimulatedHost, caller: number, domid: number): CallResult<number> {
  const r = sim.hv.xc_domain_maximum_gpfn(caller, domid);
  // Refused calls never boot the guest: a probe of thousands of domains would hold them all.
  if (!r.ok) return noValue(r);
  const g = sim.guests.get(domid);
  if (!g) return noValue(r);
  return { ...r, value: Math.ceil(g.guest.image.end / PAGE_SIZE) - 1 };
}

/** One foreign-mapped guest frame: reads copy out; writes land in the guest (read-write maps only). */
interface ForeignPage {
  readonly gfn: number;
  readonly prot: Prot;
  readInto(target: Uint8Array): boolean;
  write(offset: number, bytes: Uint8Array): boolean;
}

/**
 * xenforeignmemory_map of one gfn (B1/B2/B3): the checks, then the frame. Xen maps a gfn the
 * guest does not have as an error in the per-page err array; here EINVAL.
 */
export function mapForeignFrame(sim: SimulatedHost, caller: number, domid: number, gfn: number, prot: Prot): CallResult<ForeignPage> {
  const r = sim.hv.xenforeignmemory_map(caller, domid, prot);
  if (!r.ok) return noValue(r);
  const g = sim.guests.get(domid);
  const image = g?.guest.image;
  if (!image || !image.isRam(gfn * PAGE_SIZE, PAGE_SIZE)) return noValue(r, { errno: 'EINVAL', why: `gfn 0x${gfn.toString(16)} is not guest RAM` });
  const page: ForeignPage = {
    gfn,
    prot,
    readInto: (target) => image.readInto(gfn * PAGE_SIZE, target, 0, PAGE_SIZE).ok,
    write: (offset, bytes) => prot === 'read-write' && offset >= 0 && offset + bytes.length <= PAGE_SIZE && image.write(gfn * PAGE_SIZE + offset, bytes),
  };
  return { ...r, value: page };
}
