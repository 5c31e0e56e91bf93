// manifest.json: every grant the policy makes — subject, object, class, permissions — with
// the policy line that makes it and the reason it exists (capability and spec position, or
// the xen.if relationship / host base it comes from). The input for check and diff.

import type { SourceSpan } from '../../core/diagnostics.js';
import type { DomainIR, Grant, IR, Origin } from '../ir.js';
import { positionAt, type SourceText } from '../../core/source.js';
import { VERSION } from '../version.js';
import { DOMAIN_RULE_MARK, HOST_MARK, macroMark, VMI_MARK } from './module.js';
import { formatJson, LazyList, writeJson, type TextSink } from './json.js';
import { ruleKey } from './te-rules.js';
import { hostGrants } from './standalone.js';
import { originKey, sortGrants } from '../lower.js';

const MANIFEST_FORMAT = 1;
const GENERATOR = 'vmipolicy';

/** A position in the spec, whose path is the manifest's top-level `spec`. */
interface Located {
  readonly line: number;
  readonly column: number;
}

function at(source: SourceText, span: SourceSpan): Located {
  const p = positionAt(source, span.start);
  return { line: p.line, column: p.column };
}

interface PolicyText {
  readonly file: string;
  readonly lineOf: (key: string) => number | undefined;
}

function markFor(g: Grant, mode: IR['spec']['mode']): string {
  const key = ruleKey(g.subject, g.object, g.cls);
  switch (g.origin.kind) {
    case 'capability':
    case 'event-channel':
      return VMI_MARK + key;
    case 'xen-macro':
      return mode === 'module' ? macroMark(g.origin) : `${macroMark(g.origin)} ${key}`;
    case 'domain-rule':
      return DOMAIN_RULE_MARK + key;
    case 'host-base':
      return HOST_MARK + key;
  }
}

function justification(o: Origin, source: SourceText): Record<string, unknown> {
  switch (o.kind) {
    case 'capability':
      return { kind: o.kind, capability: o.capability, introspector: o.introspector, target: o.target, catalog: o.catalog, why: o.why, spec: at(source, o.span) };
    case 'event-channel':
      return { kind: o.kind, capabilities: o.capabilities, introspector: o.introspector, target: o.target, catalog: o.catalog, why: o.why, spec: at(source, o.span) };
    case 'xen-macro':
      return { kind: o.kind, macro: `${o.macro}(${o.args.join(', ')})`, domain: o.domain, spec: at(source, o.span) };
    case 'domain-rule':
      return { kind: o.kind, domain: o.domain, why: o.why, spec: at(source, o.span) };
    case 'host-base':
      return { kind: o.kind, why: o.why };
  }
}

interface Reason { perms: string[]; rule: number; origin: Origin }
interface Entry { subject: string; object: string; class: string; perms: string[]; reasons: Map<string, Reason> }

/**
 * The grants merged per (subject, object, class), in policy order. A function of its own so
 * that the sorted list of every single grant is garbage before the manifest is printed.
 */
function grantEntries(ir: IR, policy: PolicyText): Entry[] {
  const { spec } = ir;
  const all = sortGrants(
    [...ir.macroUses.flatMap((m) => m.grants), ...ir.domainRules, ...ir.vmiGrants, ...(spec.mode === 'standalone' ? hostGrants(ir) : [])],
    ir.vocabulary,
  );
  // One entry per (subject, object, class); within it, one justification per reason and
  // policy line, each listing the permissions it accounts for. Keys are cached per origin:
  // a host's manifest has millions of grants but only thousands of distinct reasons.
  const entries = new Map<string, Entry>();
  const originKeys = new Map<Origin, string>();
  for (const g of all) {
    const key = ruleKey(g.subject, g.object, g.cls);
    let e = entries.get(key);
    if (!e) entries.set(key, (e = { subject: g.subject, object: g.object, class: g.cls, perms: [], reasons: new Map<string, Reason>() }));
    if (!e.perms.includes(g.perm)) e.perms.push(g.perm);
    let ok = originKeys.get(g.origin);
    if (ok === undefined) originKeys.set(g.origin, (ok = originKey(g.origin)));
    let r = e.reasons.get(ok);
    if (!r) {
      const line = policy.lineOf(markFor(g, spec.mode));
      if (line === undefined) throw new Error(`internal: no policy line for ${key} (${g.origin.kind})`);
      e.reasons.set(ok, (r = { perms: [], rule: line, origin: g.origin }));
    }
    if (!r.perms.includes(g.perm)) r.perms.push(g.perm);
  }
  return [...entries.values()];
}

/**
 * The manifest's grants as data, for a caller that compares them rather than writing them
 * (the spec diff): the same entries, permissions and policy lines as manifest.json's
 * `grants`, each reason keeping its origin so that only the entries a caller reports need
 * their justification made (manifestJustification).
 */
export interface ManifestEntry {
  readonly subject: string;
  readonly object: string;
  readonly class: string;
  readonly permissions: readonly string[];
  readonly reasons: readonly { readonly permissions: readonly string[]; readonly rule: number; readonly origin: Origin }[];
}

export function manifestEntries(ir: IR, policy: PolicyText): ManifestEntry[] {
  return grantEntries(ir, policy).map((e) => ({
    subject: e.subject,
    object: e.object,
    class: e.class,
    permissions: ir.vocabulary.sortPerms(e.class, e.perms),
    reasons: [...e.reasons.values()].map((r) => ({ permissions: ir.vocabulary.sortPerms(e.class, r.perms), rule: r.rule, origin: r.origin })),
  }));
}

export function emitManifest(ir: IR, source: SourceText, policy: PolicyText, files: readonly string[]): string {
  return formatJson(manifestValue(ir, source, policy, files), '\n');
}

/**
 * The same text as emitManifest, handed to `sink` in chunks as it is made. Its grants are
 * built as they are written, so each call builds them afresh.
 */
export function manifestWriter(ir: IR, source: SourceText, policy: PolicyText, files: readonly string[]): (sink: TextSink) => void {
  return (sink) => writeJson(manifestValue(ir, source, policy, files), '\n', sink);
}

/**
 * What a host reads of the manifest: the release, the policy file and the domains, without
 * the grants' provenance. The self-test's host takes it from here when it runs on a spec
 * just compiled, where the whole manifest would be hundreds of megabytes made for nothing.
 */
export interface ManifestOutline {
  readonly xen: string;
  readonly mode: 'module' | 'standalone';
  readonly module: string;
  readonly policy: string;
  readonly domains: readonly { readonly name: string; readonly role: 'introspector' | 'target'; readonly guest: DomainIR['guest']; readonly type: string }[];
  readonly introspectors: readonly { readonly name: string; readonly targets: readonly string[]; readonly capabilities: readonly string[]; readonly lookup: string; readonly tool?: string }[];
}

/** The compiled policy's file name among the artifacts. */
export function policyFileOf(spec: IR['spec']): string {
  return spec.mode === 'module' ? `${spec.module}.te` : 'policy.conf';
}

export function manifestOutline(ir: IR): ManifestOutline {
  const { spec } = ir;
  return {
    xen: spec.xen,
    mode: spec.mode,
    module: spec.module,
    policy: policyFileOf(spec),
    domains: ir.domains.map((d) => ({ name: d.name, role: d.role, guest: d.guest, type: d.type })),
    introspectors: spec.introspectors
      .map((s) => ({
        name: s.name,
        targets: s.targets.map((t) => t.name).sort(),
        capabilities: s.capabilities.map((c) => c.name).sort(),
        lookup: s.lookup,
        // Only a named profile is written: a spec without one keeps its manifest unchanged.
        ...(s.tool !== 'custom' ? { tool: s.tool } : {}),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
  };
}

function manifestValue(ir: IR, source: SourceText, policy: PolicyText, files: readonly string[]): Record<string, unknown> {
  const { spec } = ir;
  const outline = manifestOutline(ir);
  // Built one grant at a time while printing: the grants are most of the manifest, and
  // all of them as objects at once took gigabytes at 10 000 targets.
  // Each entry is dropped once printed, so the text grows as the entries shrink.
  const entryList: (Entry | undefined)[] = grantEntries(ir, policy);
  const grant = (e: Entry): Record<string, unknown> => ({
    subject: e.subject,
    object: e.object,
    class: e.class,
    permissions: ir.vocabulary.sortPerms(e.class, e.perms),
    justification: [...e.reasons.values()].map((r) => ({
      permissions: ir.vocabulary.sortPerms(e.class, r.perms),
      rule: r.rule,
      ...justification(r.origin, source),
    })),
  });
  const grants = new LazyList(entryList.length, (i) => {
    const e = entryList[i] as Entry;
    entryList[i] = undefined;
    return grant(e);
  });
  const manifest = {
    generator: `${GENERATOR} ${VERSION}`,
    format: MANIFEST_FORMAT,
    spec: spec.file,
    policy: policy.file,
    xen: outline.xen,
    mode: outline.mode,
    module: outline.module,
    files,
    domains: ir.domains.map((d, i) => ({ ...outline.domains[i], self: d.self, channel: d.channel, spec: at(source, d.span) })),
    introspectors: outline.introspectors,
    grants,
    xl: Object.fromEntries(ir.xl.map((f) => [f.domain.name, Object.fromEntries(f.settings.map((s) => [s.key, s.value]))])),
    xenstore: ir.xenstore.map((n) => ({
      node: n.node.kind === 'local-domain' ? '/local/domain' : `/local/domain/<domid of ${n.node.domain}>/name`,
      owner: 'dom0',
      default: 'n',
      readers: [...n.baseReaders, ...n.addedReaders.map((r) => r.domain)],
      added: n.addedReaders.map((r) => ({ domain: r.domain, why: r.why, spec: at(source, r.span) })),
    })),
  };
  return manifest;
}
