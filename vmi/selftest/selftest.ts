// The self-test (README.md "selftest — run it before deploying it"): boot a simulated host
// from the compiled artifacts and the policy the check stage loaded, then run the plan — for
// every introspector and target, the declared capabilities as LibVMI performs them (each
// must be allowed and return the guest's ground truth), and the probes (each must be refused
// by the AVC or xenstored). The plan is built first, as data, then run operation by
// operation; the report lists each with what was expected, what happened, the checks made
// and the denial lines Xen would print.

import { bootFailure, hostPolicyOf, readManifest, type DomainSpec, type HostPolicy, type Manifest, type ParsedPolicy, type SimDomain } from '../host/domains.js';
import type { Diagnostic } from '../../core/diagnostics.js';
import { bootSimulatedHost, type SimulatedGuest, type SimulatedHost } from '../host/host.js';
import type { CheckRecord } from '../host/hypercalls.js';
import { OPERATIONS } from '../host/hypercalls-table.js';
import { introspectorsOf, pairIntent, type IntrospectorIntent } from './intent.js';
import {
  grantedRows, refusedBeforeFlask, reverseXenstoreProbes, runProbeCall, runXenstoreProbe, ungrantedRows, xenstoreProbes,
  probeListing, probeLookupByName, type XenstoreProbe,
} from './probes.js';
import { Recorder, type Actual, type XenstoreRecord } from './recorder.js';
import { lookupByDomid, pairSteps, type PairSession, type Proof } from './steps.js';

export type Expected = 'allow' | 'deny';
export type OperationKind = 'capability' | 'ungranted' | 'non-target' | 'xenstore' | 'reverse';

/**
 * One distinct FLASK check an operation made, with how many times it made it: the fields of
 * the host's CheckRecord that the report shows (not the hook, nor the provenance).
 */
export interface CheckSummary extends Pick<CheckRecord, 'row' | 'step' | 'cls' | 'perms' | 'scontext' | 'tcontext' | 'allowed' | 'denied'> {
  readonly count: number;
}

export interface OperationReport {
  readonly index: number;
  readonly introspector: string;
  /** The domain making the calls, and the domain they act on. */
  readonly subject: string;
  readonly object: string;
  readonly kind: OperationKind;
  /** The capability exercised (capability operations) or the one a probe replays. */
  readonly capability?: string;
  readonly name: string;
  /**
   * Ids of the VMI operations behind it, as capability grants name them (catalog/capabilities.ts
   * `catalog`; the checks of each in vmi/host/hypercalls-table.ts); '§3' marks a xenstore probe.
   */
  readonly rows: readonly string[];
  readonly expected: Expected;
  readonly actual: Actual;
  readonly asExpected: boolean;
  readonly detail: string;
  readonly checks: readonly CheckSummary[];
  /** The avc lines Xen prints for the denials. */
  readonly denials: readonly string[];
  readonly xenstore: readonly XenstoreRecord[];
  /** What the lists above leave out, counted (present only when they leave something out). */
  readonly unlisted?: { readonly checks: number; readonly denials: number; readonly xenstore: number };
  /**
   * How many operations the entry stands for, when more than one. Probes that went as
   * expected and differ only in the domain probed (or probing) are reported once per
   * introspector, with the first of them; a host of thousands of targets makes millions.
   */
  readonly alike?: number;
}

export interface NotApplicable {
  readonly introspector: string;
  readonly subject: string;
  readonly object: string;
  readonly kind: OperationKind;
  readonly rows: readonly string[];
  readonly reason: string;
  /** As OperationReport.alike: how many probes met the same refusal, when more than one. */
  readonly alike?: number;
}

export interface SelftestReport {
  readonly spec: string;
  readonly xen: string;
  readonly policy: string;
  readonly domains: readonly { readonly name: string; readonly domid: number; readonly role: string; readonly kind: string; readonly label: string }[];
  readonly verdict: 'pass' | 'fail';
  readonly totals: {
    readonly operations: number;
    readonly asExpected: number;
    readonly mismatches: number;
    readonly allowed: number;
    readonly denied: number;
    readonly notApplicable: number;
  };
  readonly operations: readonly OperationReport[];
  readonly notApplicable: readonly NotApplicable[];
  /** Wall-clock figures, kept apart so that everything else compares equal between runs. */
  readonly timings: { readonly bootMicros: number; readonly totalMicros: number; readonly operations: readonly number[] } | null;
}

export interface SelftestOptions {
  /** Guest RAM per guest (default 64 MiB). */
  readonly memoryBytes?: number;
  /** Pages in each guest's data region, read page by page (default 500). */
  readonly dataPages?: number;
  /** Add an undeclared guest labelled with the policy's initial domU context (default true). */
  readonly bystander?: boolean;
  /** A clock in milliseconds (performance.now); without one the report has no timings. */
  readonly now?: () => number;
  /**
   * Every operation its own entry with every check, avc line and xenstore request: no folding
   * of alike probes, no caps on the lists (for tools that compare operation by operation; on
   * a host of thousands of targets the report then runs to gigabytes).
   */
  readonly everyOperation?: boolean;
  /** Receives the simulated host once the plan has run (its AVC log, its guest pool). */
  readonly onHost?: (sim: SimulatedHost) => void;
  /**
   * Told where the run is: before the host boots, as each introspector starts and after each
   * of its target sessions. Data, not text — how often to show it, and how, is the caller's
   * business (the CLI draws one line on a terminal, at most a few times a second).
   */
  readonly onProgress?: (progress: SelftestProgress) => void;
}

/**
 * Where a running self-test is. `boot`: the simulated host is being built from the policy,
 * the xl labels and the ACL script. `run`: introspector `index` (0-based) of `introspectors`
 * is under test and `targetsDone` of its `targets` sessions have run; its probes follow them.
 */
export type SelftestProgress =
  | { readonly phase: 'boot' }
  | { readonly phase: 'run'; readonly introspector: string; readonly index: number; readonly introspectors: number; readonly targetsDone: number; readonly targets: number };

interface SelftestInput {
  readonly artifacts: ReadonlyMap<string, string>;
  /**
   * The manifest, when the caller read it already: the artifacts may then leave out
   * manifest.json, on a host of 10 000 targets a string of hundreds of megabytes.
   */
  readonly manifest?: Manifest;
  /** The policy checked, or its host form (hostPolicyOf: what a long self-test should hold). */
  readonly policy: ParsedPolicy | HostPolicy;
  /** How the spec is named in the report. */
  readonly spec: string;
  /** How the policy is named in the report (default its file name). */
  readonly policyName?: string;
}

type SelftestResult = { readonly report: SelftestReport } | { readonly diagnostics: readonly Diagnostic[] };

interface Planned {
  readonly meta: Omit<OperationReport, 'index' | 'actual' | 'asExpected' | 'detail' | 'checks' | 'denials' | 'xenstore'>;
  /** The probe with its domain left out, when its name names the domain (a xenstore path). */
  readonly alikeAs?: string;
  readonly run: (rec: Recorder) => void;
  /** Set once it has run: how it went, and the report entry that stands for it. */
  outcome?: { readonly actual: Actual; readonly asExpected: boolean; readonly entry: number };
}

/**
 * `times` more operations that are `of` made against other domains that policy and host
 * decide exactly as the one `of` ran against (see alikeDomains): counted with it, not run.
 */
interface Counted {
  readonly of: Planned;
  readonly times: number;
}

/** An undeclared guest for non-target probes: the policy's initial domU label (domU_t in Xen's policy). */
function bystanderSpec(policy: HostPolicy, manifest: Manifest): DomainSpec | undefined {
  const ctx = policy.initialContexts.get('domU');
  if (!ctx) return undefined;
  const taken = new Set(manifest.domains.map((d) => d.name));
  let name = 'bystander';
  for (let n = 2; taken.has(name); n++) name = `bystander-${n}`;
  // altp2m on, so that altp2m probes reach the FLASK check instead of being refused before it.
  return { name, kind: 'hvm', role: 'guest', seclabel: `${ctx.user}:${ctx.role}:${ctx.type}`, altp2m: 'external' };
}

export function runSelftestOn(input: SelftestInput, options: SelftestOptions = {}): SelftestResult {
  const manifest = input.manifest ?? readManifest(input.artifacts);
  if (!manifest) return { diagnostics: [bootFailure('the artifacts have no manifest.json')] };
  const now = options.now;
  options.onProgress?.({ phase: 'boot' });
  const bootStart = now?.() ?? 0;
  const policy = hostPolicyOf(input.policy);
  const extra = options.bystander === false ? undefined : bystanderSpec(policy, manifest);
  const booted = bootSimulatedHost(
    { artifacts: input.artifacts, policy, manifest },
    { ...(options.memoryBytes ? { memoryBytes: options.memoryBytes } : {}), ...(options.dataPages ? { dataPages: options.dataPages } : {}), extraDomains: extra ? [extra] : [] },
  );
  if ('diagnostics' in booted) return { diagnostics: booted.diagnostics };
  const sim = booted.sim;
  const bootMicros = now ? Math.round((now() - bootStart) * 1000) : 0;

  const notApplicable = new NotApplicableList();
  const operations: OperationReport[] = [];
  const micros: number[] = [];
  const tally = { operations: 0, asExpected: 0, allowed: 0, denied: 0 };
  const folds = new Folds();
  const totalStart = now?.() ?? 0;
  for (const p of plan(sim, manifest, extra?.name, notApplicable, options.everyOperation === true, options.onProgress)) {
    if ('times' in p) {
      const { actual, asExpected, entry } = p.of.outcome as NonNullable<Planned['outcome']>;
      tally.operations += p.times;
      if (asExpected) tally.asExpected += p.times;
      if (actual === 'allowed') tally.allowed += p.times;
      if (actual === 'denied') tally.denied += p.times;
      folds.add(entry, p.times);
      continue;
    }
    const rec = new Recorder();
    const start = now?.() ?? 0;
    p.run(rec);
    const spent = now ? Math.round((now() - start) * 1000) : 0;
    const { actual } = rec.outcome();
    const asExpected = expectedOutcome(p.meta.expected, actual);
    tally.operations++;
    if (asExpected) tally.asExpected++;
    if (actual === 'allowed') tally.allowed++;
    if (actual === 'denied') tally.denied++;
    // A probe folded into an earlier entry needs no report of its own: most of a large
    // host's operations end here.
    const into = options.everyOperation ? undefined : folds.into(p, actual, asExpected, operations.length);
    p.outcome = { actual, asExpected, entry: into ?? operations.length };
    if (into !== undefined) {
      if (now) micros[into] = (micros[into] as number) + spent;
      continue;
    }
    operations.push(finish(operations.length, p, rec, options.everyOperation ? Infinity : LISTED_PER_OPERATION));
    if (now) micros.push(spent);
  }
  const totalMicros = now ? Math.round((now() - totalStart) * 1000) : 0;

  const report: SelftestReport = {
    spec: input.spec,
    xen: sim.hv.xen,
    policy: input.policyName ?? input.policy.file,
    domains: sim.host.domains.list().map((d) => ({ name: d.name, domid: d.domid, role: d.role, kind: d.kind, label: sim.host.server.contextString(d.sid) ?? '' })),
    verdict: tally.asExpected === tally.operations ? 'pass' : 'fail',
    totals: {
      operations: tally.operations,
      asExpected: tally.asExpected,
      mismatches: tally.operations - tally.asExpected,
      allowed: tally.allowed,
      denied: tally.denied,
      notApplicable: notApplicable.count,
    },
    operations: folds.counted(operations),
    notApplicable: notApplicable.entries,
    timings: now ? { bootMicros, totalMicros, operations: micros } : null,
  };
  options.onHost?.(sim);
  return { report };
}

/** An allow expected and allowed, or a deny expected and denied. */
function expectedOutcome(expected: Expected, actual: Actual): boolean {
  return expected === 'allow' ? actual === 'allowed' : actual === 'denied';
}

/**
 * At most this many distinct checks, avc lines and xenstore requests are listed per
 * operation; the rest are counted in `unlisted`. A domain listing (XEN_SYSCTL_getdomaininfolist
 * runs xsm_getdomaininfo on every domain from the first asked for until one may be listed)
 * makes a check per domain: on a host of thousands of domains, thousands per operation.
 */
export const LISTED_PER_OPERATION = 16;

function finish(index: number, p: Planned, rec: Recorder, listed: number): OperationReport {
  const { actual, detail } = rec.outcome();
  const made = rec.calls.flatMap((c) => c.checks);
  const allChecks = summarise(made);
  const allDenials = [...new Set(made.filter((c) => !c.allowed && c.line).map((c) => c.line as string))];
  const asExpected = expectedOutcome(p.meta.expected, actual);
  const [checks, denials, xenstore] = [allChecks, allDenials, rec.xenstore].map((l) => l.slice(0, listed)) as [CheckSummary[], string[], XenstoreRecord[]];
  const unlisted = { checks: allChecks.length - checks.length, denials: allDenials.length - denials.length, xenstore: rec.xenstore.length - xenstore.length };
  const anyUnlisted = unlisted.checks + unlisted.denials + unlisted.xenstore > 0;
  return { index, ...p.meta, actual, asExpected, detail, checks, denials, xenstore, ...(anyUnlisted ? { unlisted } : {}) };
}

/**
 * Probes are one per introspector, probe and domain: on a host of thousands of targets,
 * millions (every domain an introspector does not target is probed). Those that went as
 * expected are reported once per introspector, kind and probe, counted; capability
 * operations and anything not as expected keep an entry of their own.
 */
class Folds {
  private readonly at = new Map<string, number>();
  private readonly alike = new Map<number, number>();

  /** The index of the entry `op` is folded into, or undefined when it is reported on its own (and may take later ones). */
  into(p: Planned, actual: Actual, asExpected: boolean, index: number): number | undefined {
    const { meta } = p;
    if (meta.kind === 'capability' || !asExpected) return undefined;
    const key = JSON.stringify([meta.introspector, meta.kind, p.alikeAs ?? meta.name, meta.rows, actual]);
    const at = this.at.get(key);
    if (at === undefined) {
      this.at.set(key, index);
      return undefined;
    }
    this.alike.set(at, (this.alike.get(at) ?? 1) + 1);
    return at;
  }

  /** `times` more operations alike to those of entry `at`. */
  add(at: number, times: number): void {
    this.alike.set(at, (this.alike.get(at) ?? 1) + times);
  }

  /** The operations, each folded entry with its count. */
  counted(operations: readonly OperationReport[]): OperationReport[] {
    return operations.map((o) => (this.alike.has(o.index) ? { ...o, alike: this.alike.get(o.index) as number } : o));
  }
}

/**
 * Probes Xen refuses before FLASK decides, as the plan meets them: kept once per
 * introspector, kind, rows and reason, counted, as Folds counts probes.
 */
class NotApplicableList {
  private readonly list: NotApplicable[] = [];
  private readonly at = new Map<string, number>();
  count = 0;

  /** A probe Xen refuses first; `times` of them, when its domain stands for others alike. */
  push(n: NotApplicable, times = 1): void {
    this.count += times;
    const key = JSON.stringify([n.introspector, n.kind, n.rows, n.reason]);
    const i = this.at.get(key);
    if (i === undefined) {
      this.at.set(key, this.list.length);
      this.list.push(times > 1 ? { ...n, alike: times } : n);
      return;
    }
    const first = this.list[i] as NotApplicable;
    this.list[i] = { ...first, alike: (first.alike ?? 1) + times };
  }

  get entries(): readonly NotApplicable[] {
    return this.list;
  }
}

/** Distinct checks in first-seen order, counted: 500 page maps make one line, not 500. */
function summarise(records: readonly CheckRecord[]): CheckSummary[] {
  const byKey = new Map<string, { summary: Omit<CheckSummary, 'count'>; count: number }>();
  for (const c of records) {
    const k = [c.row, c.step ?? '', c.cls, c.perms.join(' '), c.scontext, c.tcontext, c.allowed].join('|');
    const seen = byKey.get(k);
    if (seen) seen.count++;
    else byKey.set(k, { summary: { row: c.row, ...(c.step ? { step: c.step } : {}), cls: c.cls, perms: c.perms, scontext: c.scontext, tcontext: c.tcontext, allowed: c.allowed, denied: c.denied }, count: 1 });
  }
  return [...byKey.values()].map(({ summary, count }) => ({ ...summary, count }));
}

// ------------------------------------------------------------------ the plan

/**
 * The plan, made as it is run: one operation at a time, so a host with thousands of targets
 * never holds its hundreds of thousands of operations at once. Probes Xen refuses before
 * FLASK decides go to `notApplicable` as the plan reaches them.
 */
function* plan(sim: SimulatedHost, manifest: Manifest, bystander: string | undefined, notApplicable: NotApplicableList, runEvery: boolean, onProgress?: (progress: SelftestProgress) => void): Generator<Planned | Counted> {
  const xen = sim.hv.xen;
  const domain = (name: string): SimDomain | undefined => sim.host.domains.byName(name);
  const declaredTargets = manifest.domains.filter((d) => d.role === 'target').map((d) => d.name);

  const introspectors = introspectorsOf(manifest);
  // Positive: each target, each declared capability, as LibVMI does it. The first target of
  // each guest kind gets the full data region, once per introspector profile (its tool, its
  // lookup, its capabilities, its own guest kind: the same steps, the same calls); on every other pair
  // the same steps make the same calls and checks — every one decided against that pair's
  // own labels — over a one-page region. Reading 500 pages proves the VMI core's walk, which
  // is the same code whoever runs it; each further page would repeat a check already made.
  const provenOn = new Map<string, Proof>();
  for (const [index, intro] of introspectors.entries()) {
    const me = domain(intro.name);
    if (!me) continue;
    const targets = intro.targets.map(domain).filter((d): d is SimDomain => d !== undefined);
    // Called between operations, never inside one: a progress callback sees the host at rest.
    const progress = onProgress && ((targetsDone: number): void => onProgress({ phase: 'run', introspector: intro.name, index, introspectors: introspectors.length, targetsDone, targets: targets.length }));
    progress?.(0);

    for (const [t, target] of targets.entries()) {
      if (!sim.guests.has(target.domid)) continue;
      const profile = JSON.stringify([intro.tool, intro.lookup, [...intro.capabilities].sort(), me.kind, target.kind]);
      const proof = provenOn.get(profile);
      if (proof === undefined) provenOn.set(profile, { introspector: intro.name, target: target.name });
      const session = pairSession(sim, intro, me, target, proof);
      for (const step of pairSteps(intro)) {
        yield {
          meta: { introspector: intro.name, subject: me.name, object: target.name, kind: 'capability', capability: step.capability, name: step.name, rows: step.rows(session), expected: 'allow' },
          run: (rec) => step.run(session, rec),
        };
      }
      yield {
        meta: { introspector: intro.name, subject: me.name, object: target.name, kind: 'capability', capability: 'session', name: 'end of session: no vCPU left paused', rows: [], expected: 'allow' },
        run: (rec) => {
          const { machine } = session.guest;
          const paused = machine.vcpus.filter((v) => v.paused).map((v) => v.id);
          machine.ring = undefined;
          // The session is over: its guest's memory goes, so a host of thousands of targets
          // holds one guest at a time. Another introspector's session boots it afresh.
          sim.guests.shutDown(target.domid);
          if (paused.length) rec.fail(`vCPU ${paused.join(', ')} still paused`);
        },
      };
      // The generator resumes here once the session's last step has run.
      progress?.(t + 1);
    }

    // Negative: what the spec did not grant, on its own targets.
    for (const target of targets) {
      const intent = pairIntent(xen, intro, target.kind);
      for (const { row, missing } of ungrantedRows(xen, me, target, intent)) {
        const refused = refusedBeforeFlask(row, xen, me, target);
        if (refused) {
          notApplicable.push({ introspector: intro.name, subject: me.name, object: target.name, kind: 'ungranted', rows: [row], reason: refused });
          continue;
        }
        yield {
          meta: { introspector: intro.name, subject: me.name, object: target.name, kind: 'ungranted', name: `not granted: ${missing.join(', ')}`, rows: [row], expected: 'deny' },
          run: (rec) => runProbeCall(sim, row, me.domid, target.domid, rec),
        };
      }
      for (const probe of xenstoreProbes(me, target, intro.lookup)) yield xenstorePlanned(sim, intro, me, target, probe, 'xenstore');
    }

    // Negative: domains it does not target.
    const replay = replayRows(xen, intro, me, targets);
    const own = new Set(intro.targets);
    const others = [...declaredTargets.filter((n) => !own.has(n)), ...(bystander ? [bystander] : [])].map(domain).filter((d): d is SimDomain => d !== undefined);
    // By domid, one listing of every domain covers them all: XEN_SYSCTL_getdomaininfolist
    // checks getdomaininfo on each domain from the first asked for until one may be listed,
    // so a lookup per domain would make checks quadratic in the host's size.
    const first = others[0];
    if (intro.lookup === 'domid' && first) {
      yield {
        meta: { introspector: intro.name, subject: me.name, object: first.name, kind: 'non-target', capability: 'lookup', name: `list every domain by domid: none of the ${others.length} it does not target is listed`, rows: ['A4'], expected: 'deny' },
        run: (rec) => probeListing(sim, me.domid, others, rec),
      };
    }
    const alike = runEvery ? undefined : alikeDomains(sim, me, others, replay.map((r) => r.row));
    const settled = new Set<number>();
    // Only rows whose every check is a domain check are counted for alike domains; the others
    // (an event channel's label is made by transition from the domain's type) run on each.
    const counts = (other: SimDomain, row: string): boolean => domainChecksOnly(sim, me, other, row);
    for (const other of others) {
      if (intro.lookup === 'name') {
        yield {
          meta: { introspector: intro.name, subject: me.name, object: other.name, kind: 'non-target', capability: 'lookup', name: 'look up a domain it does not target (by name)', rows: ['A3'], expected: 'deny' },
          run: (rec) => probeLookupByName(sim, me.domid, other, rec),
        };
      }
      const first = alike?.firstOf.get(other.domid);
      const counted = first !== undefined && settled.has(first);
      const probes = replayPlanned(sim, intro, me, other, counted ? replay.filter((r) => !counts(other, r.row)) : replay, 'non-target', notApplicable);
      yield* probes;
      if (counted) continue;
      // The rest of its kind are counted with it — unless something went unexpectedly, when
      // each runs at its own turn and keeps its own entry.
      const rest = alike?.rest.get(other.domid) ?? 0;
      const countedProbes = probes.filter((p) => counts(other, p.meta.rows[0] as string));
      if (rest === 0 || !countedProbes.every((p) => p.outcome?.asExpected)) continue;
      settled.add(other.domid);
      for (const p of countedProbes) yield { of: p, times: rest };
      replayRefusals(sim, intro, me, other, replay.filter((r) => counts(other, r.row)), 'non-target', notApplicable, rest);
    }

    // Negative: each target against its introspector.
    for (const target of targets) {
      const intent = pairIntent(xen, intro, target.kind);
      yield {
        meta: { introspector: intro.name, subject: target.name, object: me.name, kind: 'reverse', capability: 'lookup', name: 'the target lists its introspector (getdomaininfo)', rows: ['A4'], expected: 'deny' },
        run: (rec) => lookupByDomid(sim, target.domid, me.domid, rec),
      };
      yield* replayPlanned(sim, intro, target, me, grantedRows(xen, me, target, intent).map((row) => ({ row, capability: undefined })), 'reverse', notApplicable);
      for (const probe of reverseXenstoreProbes(me)) yield xenstorePlanned(sim, intro, target, me, probe, 'reverse');
    }
  }
}

/**
 * One introspector's session with one target. The target's guest boots when a step first
 * touches it, not when the plan is made; until then the RAM end is the configured size, as
 * XENMEM_maximum_gpfn will report it.
 */
function pairSession(sim: SimulatedHost, introspector: IntrospectorIntent, caller: SimDomain, target: SimDomain, provenOn: Proof | undefined): PairSession {
  let memoryEnd: number | undefined;
  // Made as the plan reaches the pair, when the target is not running (each session shuts it down).
  sim.guests.bootWith(target.domid, provenOn === undefined ? undefined : 1);
  return {
    sim, introspector, caller, target,
    ...(provenOn !== undefined ? { provenOn } : {}),
    get guest() {
      return sim.guests.get(target.domid) as SimulatedGuest;
    },
    get memoryEnd() {
      return memoryEnd ?? this.guest.guest.image.end;
    },
    set memoryEnd(end: number) {
      memoryEnd = end;
    },
  };
}

/** The rows the introspector is granted on any of its targets: what it replays elsewhere. */
function replayRows(xen: string, intro: IntrospectorIntent, me: SimDomain, targets: readonly SimDomain[]): { row: string; capability: string | undefined }[] {
  const rows: string[] = [];
  for (const t of targets) for (const row of grantedRows(xen, me, t, pairIntent(xen, intro, t.kind))) if (!rows.includes(row)) rows.push(row);
  return rows.map((row) => ({ row, capability: undefined }));
}

/** The replayed row as not applicable, when Xen refuses it before FLASK decides. */
function replayRefusal(sim: SimulatedHost, intro: IntrospectorIntent, subject: SimDomain, object: SimDomain, row: string, kind: 'non-target' | 'reverse'): NotApplicable | undefined {
  const refused = refusedBeforeFlask(row, sim.hv.xen, subject, object);
  return refused ? { introspector: intro.name, subject: subject.name, object: object.name, kind, rows: [row], reason: refused } : undefined;
}

/** The replayed rows Xen refuses before FLASK decides, as not applicable (`times` of each). */
function replayRefusals(sim: SimulatedHost, intro: IntrospectorIntent, subject: SimDomain, object: SimDomain, rows: readonly { row: string }[], kind: 'non-target' | 'reverse', notApplicable: NotApplicableList, times: number): void {
  for (const { row } of rows) {
    const refusal = replayRefusal(sim, intro, subject, object, row, kind);
    if (refusal) notApplicable.push(refusal, times);
  }
}

function replayPlanned(sim: SimulatedHost, intro: IntrospectorIntent, subject: SimDomain, object: SimDomain, rows: readonly { row: string; capability: string | undefined }[], kind: 'non-target' | 'reverse', notApplicable: NotApplicableList): Planned[] {
  const out: Planned[] = [];
  for (const { row } of rows) {
    const refusal = replayRefusal(sim, intro, subject, object, row, kind);
    if (refusal) {
      notApplicable.push(refusal);
      continue;
    }
    out.push({
      meta: { introspector: intro.name, subject: subject.name, object: object.name, kind, name: `${kind === 'reverse' ? 'the target replays' : 'replays'} ${row} against a domain it may not touch`, rows: [row], expected: 'deny' },
      run: (rec) => runProbeCall(sim, row, subject.domid, object.domid, rec),
    });
  }
  return out;
}

/**
 * The domains of `others` whose replayed probes `me` can count instead of run: those the host
 * decides exactly alike. Xen's answer to a row's call from `me` depends on the domain only
 * through its kind, altp2m mode, nested HVM and vmtrace buffer (the checks Xen makes before
 * and after FLASK) and, for rows whose every check is a domain check on it, its label — and
 * two labels decide alike when the policy reads the same of them (targetAccessKey: the same
 * rules of `me`'s type cover them, the same constraint sets hold them, the same user and
 * role). Rows with an event channel check a label made by transition from the domain's
 * type, so those rows run on every domain (domainChecksOnly), and the key is made of the
 * others; `me`'s device-model target and any domain with no key run on their own. On a host of 10 000 targets, an introspector's 9 900
 * other domains are usually one kind: 10^6 probes become a few per introspector.
 * `firstOf`: a domain → the first domain of its kind (in the order of `others`), which runs;
 * `rest`: that first domain → how many others it stands for.
 */
function alikeDomains(sim: SimulatedHost, me: SimDomain, others: readonly SimDomain[], rows: readonly string[]): { firstOf: Map<number, number>; rest: Map<number, number> } {
  const firstOf = new Map<number, number>();
  const rest = new Map<number, number>();
  const byKey = new Map<string, number>();
  for (const other of others) {
    const key = alikeKey(sim, me, other, rows);
    if (key === undefined) continue;
    const first = byKey.get(key);
    if (first === undefined) {
      byKey.set(key, other.domid);
      continue;
    }
    firstOf.set(other.domid, first);
    rest.set(first, (rest.get(first) ?? 0) + 1);
  }
  return { firstOf, rest };
}

/** Every check the row makes from `me` on `other` is a domain check (none on an event channel's label). */
function domainChecksOnly(sim: SimulatedHost, me: SimDomain, other: SimDomain, row: string): boolean {
  const ctx = { xen: sim.hv.xen, caller: me.kind, target: other.kind };
  return (OPERATIONS.get(row)?.checks(ctx) ?? []).every((c) => c.via === 'domain');
}

function alikeKey(sim: SimulatedHost, me: SimDomain, other: SimDomain, rows: readonly string[]): string | undefined {
  if (me.target === other.domid || other.domid === me.domid) return undefined;
  if (!rows.some((row) => domainChecksOnly(sim, me, other, row))) return undefined;
  const label = sim.host.server.targetKey(me.sid, other.sid);
  if (label === undefined) return undefined;
  return [other.kind, other.role, other.altp2m, other.nestedHvm, other.vmtraceKb, other.target ?? '', label].join('\u0000');
}

function xenstorePlanned(sim: SimulatedHost, intro: IntrospectorIntent, subject: SimDomain, object: SimDomain, probe: XenstoreProbe, kind: 'xenstore' | 'reverse'): Planned {
  const path = probe.path;
  const home = `/local/domain/${object.domid}`;
  const generic = path === home || path.startsWith(`${home}/`) ? `/local/domain/<object>${path.slice(home.length)}` : path;
  return {
    meta: { introspector: intro.name, subject: subject.name, object: object.name, kind, name: `xenstore ${probe.op} ${path}`, rows: ['§3'], expected: 'deny' },
    alikeAs: `xenstore ${probe.op} ${generic}`,
    run: (rec) => runXenstoreProbe(sim, subject.domid, probe, rec),
  };
}
