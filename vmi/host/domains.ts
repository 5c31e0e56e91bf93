// The simulated host's domains and the policy they run under. The policy is the one the
// user would load: the compiled policy.conf (standalone), or Xen's stock policy with the
// compiled module added (module mode), expanded from the nearest corpus release's tree the
// way Xen's Makefile does. Domains get their SIDs as Xen gives them (hooks.c):
// flask_domain_alloc_security labels DOMID_XEN domxen and dom0 dom0; flask_domain_create
// labels a new domain with its xl `seclabel=` and computes self_sid = transition(sid, sid,
// domain); flask_set_target computes the device model's target_sid = transition(target,
// dm, domain); domain_target_sid picks self / target / the domain's own SID per check.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyAst } from '../../policy/grammar/ast.js';
import { diagnostic, hasErrors, type Diagnostic } from '../../core/diagnostics.js';
import { parsePolicy } from '../../policy/grammar/parse.js';
import { effectiveAltp2m, parseXlConfig, type Altp2mMode } from '../../formats/xl-config.js';
import { expandXenPolicyTree } from '../../formats/xen-tree.js';
import { compareReleases, nearestRelease } from '../../catalog/vocabulary.js';
import type { ManifestOutline } from '../../compiler/emit/manifest.js';
import type { GuestKind } from '../../catalog/capabilities.js';
import { buildModel } from '../../policy/model/build.js';
import { decisionModel, type DecisionModel, type PolicyModel } from '../../policy/model/model.js';
import type { SecurityContext } from '../../policy/model/access.js';
import { DOMID_IO, DOMID_XEN } from '../../formats/avc-line.js';
import { initialContextsOf, roleAllowsOf, SecurityServer } from './security-server.js';

type DomainRole = 'dom0' | 'xen' | 'introspector' | 'target' | 'guest';

export interface SimDomain {
  readonly domid: number;
  readonly name: string;
  readonly kind: GuestKind;
  readonly role: DomainRole;
  /** dsec->sid */
  readonly sid: number;
  /** dsec->self_sid: what the domain's checks on itself are made against. */
  readonly selfSid: number;
  /** d->target and dsec->target_sid, once set_target ran (it cannot be undone). */
  target?: number;
  targetSid?: number;
  /** The introspector's own altp2m mode and nested HVM: Xen refuses foreign maps if on (arch_acquire_resource_check, xen/arch/x86/mm/p2m-basic.c). */
  readonly altp2m: Altp2mMode;
  readonly nestedHvm: boolean;
  /** Each vCPU's vmtrace buffer in KiB (xl vmtrace_buf_kb; 0: none, and vmtrace ops fail with EINVAL). */
  readonly vmtraceKb: number;
}

export interface DomainSpec {
  readonly name: string;
  readonly kind: GuestKind;
  readonly role?: DomainRole;
  /** "user:role:type" */
  readonly seclabel: string;
  readonly domid?: number;
  readonly altp2m?: Altp2mMode;
  readonly nestedHvm?: boolean;
  readonly vmtraceKb?: number;
}

type Created = { readonly domain: SimDomain } | { readonly error: string };

class DomainTable {
  private readonly byId = new Map<number, SimDomain>();
  /** Lookups by name and the domid-ordered listing are asked per probe: kept, not rebuilt. */
  private readonly named = new Map<string, SimDomain>();
  private listed: readonly SimDomain[] | undefined;
  private nextDomid = 1;

  constructor(readonly server: SecurityServer) {
    // The system domains exist before any policy check (flask_domain_alloc_security).
    const domxen = server.initialSid('domxen');
    if (domxen !== undefined) this.add({ domid: DOMID_XEN, name: 'Domain-XEN', kind: 'pv', role: 'xen', sid: domxen, selfSid: domxen, altp2m: 'disabled', nestedHvm: false, vmtraceKb: 0 });
    const domio = server.initialSid('domio');
    if (domio !== undefined) this.add({ domid: DOMID_IO, name: 'Domain-IO', kind: 'pv', role: 'xen', sid: domio, selfSid: domio, altp2m: 'disabled', nestedHvm: false, vmtraceKb: 0 });
    const dom0 = server.initialSid('dom0');
    if (dom0 !== undefined) {
      // dom0 is created with SECINITSID_DOM0 and, like any domain, a self SID by transition
      // (dom0_t is a singleton: no rule, so self = dom0_t).
      const self = server.transitionSid(dom0, dom0, 'domain');
      this.add({ domid: 0, name: 'Domain-0', kind: 'pv', role: 'dom0', sid: dom0, selfSid: 'sid' in self ? self.sid : dom0, altp2m: 'disabled', nestedHvm: false, vmtraceKb: 0 });
    }
  }

  /** SECINITSID_XEN: the hypervisor's own label (xen_t), the object of domain_has_xen checks. */
  get xenSid(): number | undefined {
    return this.server.initialSid('xen');
  }

  private add(d: SimDomain): SimDomain {
    this.byId.set(d.domid, d);
    if (!this.named.has(d.name)) this.named.set(d.name, d);
    this.listed = undefined;
    return d;
  }

  /** flask_domain_create: the label must be a valid context; self_sid by transition. */
  create(spec: DomainSpec): Created {
    const sid = this.server.contextToSid(spec.seclabel);
    if ('error' in sid) return { error: `domain ${spec.name}: ${sid.error}` };
    const self = this.server.transitionSid(sid.sid, sid.sid, 'domain');
    if ('error' in self) return { error: `domain ${spec.name}: its self SID: ${self.error}` };
    const domid = spec.domid ?? this.nextDomid;
    if (this.byId.has(domid)) return { error: `domain ${spec.name}: domid ${domid} is taken` };
    if (this.byName(spec.name)) return { error: `domain ${spec.name} exists` };
    this.nextDomid = Math.max(this.nextDomid, domid + 1);
    return {
      domain: this.add({
        domid, name: spec.name, kind: spec.kind, role: spec.role ?? 'guest', sid: sid.sid, selfSid: self.sid,
        altp2m: spec.altp2m ?? 'disabled', nestedHvm: spec.nestedHvm ?? false, vmtraceKb: spec.vmtraceKb ?? 0,
      }),
    };
  }

  /**
   * The state change of XEN_DOMCTL_set_target once its checks passed (the hypercall layer
   * makes them): d->target = t and target_sid = transition(t's SID, dm's SID, domain).
   */
  linkTarget(dmDomid: number, targetDomid: number): string | undefined {
    const dm = this.byId.get(dmDomid);
    const t = this.byId.get(targetDomid);
    if (!dm || !t) return `no domain ${dm ? targetDomid : dmDomid}`;
    if (dm.target !== undefined) return `domain ${dm.name} already has a target`;
    const sid = this.server.transitionSid(t.sid, dm.sid, 'domain');
    if ('error' in sid) return sid.error;
    dm.target = targetDomid;
    dm.targetSid = sid.sid;
    return undefined;
  }

  /** domain_target_sid: self → self SID; the device model's target → target SID; else the domain's SID. */
  targetSid(src: SimDomain, dst: SimDomain): number {
    if (src.domid === dst.domid) return src.selfSid;
    if (src.target === dst.domid && src.targetSid !== undefined) return src.targetSid;
    return dst.sid;
  }

  get(domid: number): SimDomain | undefined {
    return this.byId.get(domid);
  }

  byName(name: string): SimDomain | undefined {
    return this.named.get(name);
  }

  /** Ordinary domains by domid (what XEN_SYSCTL_getdomaininfolist walks): no DOMID_XEN/IO. */
  list(): readonly SimDomain[] {
    this.listed ??= [...this.byId.values()].filter((d) => d.domid < DOMID_IO).sort((a, b) => a.domid - b.domid);
    return this.listed;
  }
}

// ------------------------------------------------------------------------------ the host policy

/**
 * What the host enforces: the policy's decision model and what Xen's security server reads
 * beside it — the initial SIDs' contexts and the role allows. Not the text or parse tree: a
 * self-test of a large host runs for minutes, and they would be as large as the model.
 */
export interface HostPolicy {
  readonly file: string;
  readonly model: DecisionModel;
  readonly initialContexts: ReadonlyMap<string, SecurityContext>;
  readonly roleAllows: ReadonlySet<string>;
  /** Standalone, or the corpus release whose stock policy the module was built into. */
  readonly base: 'standalone' | string;
}

/** A parsed and modelled policy, as a check loads it (policy/load.ts LoadedPolicy has these). */
export interface ParsedPolicy {
  readonly file: string;
  readonly ast: PolicyAst;
  readonly model: PolicyModel;
}

/** The host's form of a policy; one already in that form is returned as it is. */
export function hostPolicyOf(policy: ParsedPolicy | HostPolicy, base: HostPolicy['base'] = 'standalone'): HostPolicy {
  if ('initialContexts' in policy) return policy;
  return { file: policy.file, model: decisionModel(policy.model), initialContexts: initialContextsOf(policy.ast), roleAllows: roleAllowsOf(policy.ast), base };
}

/** What the host reads of the manifest (the compiler's outline of it: domains, release, policy). */
export type Manifest = ManifestOutline;

export function readManifest(artifacts: ReadonlyMap<string, string>): Manifest | undefined {
  const text = artifacts.get('manifest.json');
  if (text === undefined) return undefined;
  // Only the fields the host reads: the grants, most of a large host's manifest, are garbage
  // once this returns instead of being held through a whole self-test.
  const m = JSON.parse(text) as Manifest;
  return { xen: m.xen, mode: m.mode, module: m.module, policy: m.policy, domains: m.domains, introspectors: m.introspectors };
}

function corpusReleases(corpusRoot: string): string[] {
  if (!existsSync(corpusRoot)) return [];
  return readdirSync(corpusRoot)
    .map((n) => /^xen-(\d+\.\d+)$/.exec(n)?.[1])
    .filter((r): r is string => r !== undefined && existsSync(join(corpusRoot, `xen-${r}`, 'src')))
    .sort(compareReleases);
}

type PolicyResult = { readonly policy: HostPolicy } | { readonly error: string };

/** Parses and models a complete policy.conf. */
export function modelPolicy(file: string, text: string, base: HostPolicy['base']): PolicyResult {
  const parsed = parsePolicy(file, text);
  if (hasErrors(parsed.diagnostics)) return { error: `${file}: ${parsed.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`).slice(0, 3).join('; ')}` };
  const built = buildModel(parsed.ast, (offset) => parsed.lines.locate(offset));
  if (hasErrors(built.diagnostics)) return { error: `${file}: ${built.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`).slice(0, 3).join('; ')}` };
  return { policy: hostPolicyOf({ file, ast: parsed.ast, model: built.model }, base) };
}

/**
 * The policy the host runs: the compiled policy.conf, or (module mode) Xen's stock policy of
 * the nearest corpus release with the compiled module enabled, expanded with m4.
 */
export function hostPolicyFromArtifacts(artifacts: ReadonlyMap<string, string>, corpusRoot: string): PolicyResult {
  const manifest = readManifest(artifacts);
  if (!manifest) return { error: 'the artifacts have no manifest.json' };
  const own = artifacts.get(manifest.policy);
  if (own === undefined) return { error: `the artifacts have no ${manifest.policy}` };
  if (manifest.mode === 'standalone') return modelPolicy(manifest.policy, own, 'standalone');
  const release = nearestRelease(manifest.xen, corpusReleases(corpusRoot));
  if (!release) return { error: `no Xen policy tree under ${corpusRoot} to build module ${manifest.module} into` };
  const expanded = expandXenPolicyTree({ tree: join(corpusRoot, `xen-${release}`, 'src'), extraModules: [{ name: manifest.module, te: own }] });
  if (expanded.text === undefined) return { error: `building ${manifest.module} into Xen ${release}'s policy: ${expanded.diagnostics.map((d) => d.message).join('; ')}` };
  return modelPolicy(expanded.file, expanded.text, release);
}

export interface Host {
  readonly policy: HostPolicy;
  readonly manifest: Manifest;
  readonly server: SecurityServer;
  readonly domains: DomainTable;
}

/** Why the simulated host cannot boot from the compiled output (VP9011). */
export function bootFailure(reason: string): Diagnostic {
  return diagnostic('SelftestBoot', [reason]);
}

/**
 * A booted host: dom0 and DOMID_XEN, then each declared domain (targets, then introspectors,
 * in the manifest's order, domids from 1) labelled with the seclabel of its xl snippet.
 * `extra` adds domains the spec does not declare (a bystander guest for negative probes).
 *
 * Targets come first because monitors attach to guests that are already running, and
 * because XEN_SYSCTL_getdomaininfolist checks every domain from the one asked for until one
 * may be listed: a target probing its introspector's domid then walks the introspectors
 * only, not every later target — which on a host of 10 000 targets is 10^8 checks.
 */
export function hostFromArtifacts(artifacts: ReadonlyMap<string, string>, policy: HostPolicy, extra: readonly DomainSpec[] = [], manifest: Manifest | undefined = readManifest(artifacts)): { readonly host?: Host; readonly diagnostics: Diagnostic[] } {
  if (!manifest) return { diagnostics: [bootFailure('the artifacts have no manifest.json')] };
  const server = new SecurityServer(policy.model, { initialContexts: policy.initialContexts, roleAllows: policy.roleAllows });
  const domains = new DomainTable(server);
  const diagnostics: Diagnostic[] = [];
  const ordered = [...manifest.domains.filter((d) => d.role === 'target'), ...manifest.domains.filter((d) => d.role === 'introspector')];
  for (const d of ordered) {
    const file = `xl/${d.name}.cfg`;
    const text = artifacts.get(file);
    if (text === undefined) {
      diagnostics.push(bootFailure(`${file} is missing`));
      continue;
    }
    const xl = parseXlConfig(file, text);
    if (hasErrors(xl.diagnostics) || !xl.result.seclabel) {
      diagnostics.push(...(hasErrors(xl.diagnostics) ? xl.diagnostics.filter((x) => x.severity === 'error') : [bootFailure(`${file}: no valid seclabel`)]));
      continue;
    }
    const nested = xl.result.settings.get('nestedhvm');
    const vmtrace = xl.result.settings.get('vmtrace_buf_kb');
    const created = domains.create({
      name: d.name, kind: d.guest, role: d.role, seclabel: xl.result.seclabel, altp2m: effectiveAltp2m(xl.result),
      nestedHvm: nested !== undefined && nested.value.kind === 'number' && (nested.value.value ?? 0) !== 0,
      vmtraceKb: vmtrace !== undefined && vmtrace.value.kind === 'number' ? vmtrace.value.value ?? 0 : 0,
    });
    if ('error' in created) diagnostics.push(bootFailure(created.error));
  }
  for (const spec of extra) {
    const created = domains.create(spec);
    if ('error' in created) diagnostics.push(bootFailure(created.error));
  }
  return diagnostics.length > 0 ? { diagnostics } : { host: { policy, manifest, server, domains }, diagnostics };
}
