// Phase 3: the checks a schema cannot express — references between entries, uniqueness,
// collisions with Xen's own policy, and whether each capability can work for the guest
// kinds and the Xen release declared. Runs even when the schema found errors (skipping
// entries too malformed to judge), so that one run reports everything.

import type { ScaleLimits } from './scale.js';
import { capability, foreignMapRefusal, grantsTargetWrite, GUEST_KIND_SINCE, unsupportedReason } from '../catalog/capabilities.js';
import { capabilityGrants, impliedCapabilities, isToolName, mapsTargetFrames, toolProfile, type ToolName } from '../catalog/tools.js';
import { atLeast, BACKPORTED_CHANGES, branchOf, isSupportedRelease, laterPointReleaseWith, nearestRelease, XEN_RELEASES } from '../catalog/vocabulary.js';
import { diagnostic, type Diagnostic, type SourceSpan } from '../core/diagnostics.js';
import type { JsonPath, LoadedSpec } from './load.js';
import { defaultTypeFor, nearest, reservedDomainName, XEN_BUILTIN_TYPES, XEN_STOCK_MODULES } from './names.js';
import { positionAt } from '../core/source.js';
import type { GuestKind } from '../catalog/capabilities.js';
import type { Lookup, Named, PolicyMode, Spec, SpecDomain, SpecIntrospector } from './spec.js';

export interface ValidateOptions {
  /** `--xen`: overrides the spec's release. */
  readonly xen?: string;
  /** `--mode`: overrides the spec's policy.mode. */
  readonly mode?: PolicyMode;
  /**
   * The spec describes an existing deployment checked against its own policy (`check
   * --policy`): it may name stock types such as dom0_t or domU_t, and even give two domains
   * one type. Those are findings for the checker (shared-label), not input errors.
   */
  readonly deployed?: boolean;
  /** Lifts (or lowers) the scale limits (compiler/scale.ts); the defaults otherwise. */
  readonly limits?: Partial<ScaleLimits>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const GUESTS = new Set(['pv', 'pvh', 'hvm']);

/**
 * YAML reads `xen: 4.10` as the number 4.1. Before validation, a numeric `xen` is replaced
 * by the scalar exactly as written, so users get what they typed.
 */
export function normaliseXenField(spec: LoadedSpec): void {
  const root = spec.value;
  if (isObj(root) && typeof root.xen === 'number') {
    root.xen = spec.rawScalar(['xen']) ?? String(root.xen);
  }
}

export function validateSemantics(spec: LoadedSpec, options: ValidateOptions = {}): { spec?: Spec; diagnostics: Diagnostic[] } {
  const d: Diagnostic[] = [];
  const root = isObj(spec.value) ? spec.value : {};
  const at = (path: JsonPath, part?: 'key' | 'value'): SourceSpan => spec.locate(path, part);
  const where = (s: SourceSpan): string => {
    const p = positionAt(spec.source, s.start);
    return `line ${p.line}, column ${p.column}`;
  };

  const xen = options.xen ?? str(root.xen);
  if (options.xen !== undefined && !isSupportedRelease(options.xen)) {
    const near = nearestRelease(options.xen) ?? nearest(options.xen, XEN_RELEASES);
    d.push(diagnostic('UnsupportedXen', [options.xen, XEN_RELEASES.join(', ')], undefined, near ? `did you mean --xen ${near}?` : undefined));
  }

  const policy = isObj(root.policy) ? root.policy : {};
  const moduleName = str(policy.module);
  if (moduleName && XEN_STOCK_MODULES.has(moduleName)) {
    d.push(diagnostic('ReservedName', ['module name', moduleName, `Xen's tree already has modules/${moduleName}.te, which this module would replace`], at(['policy', 'module']), 'choose another name, e.g. vmi'));
  }
  const mode: PolicyMode = options.mode ?? (policy.mode === 'standalone' ? 'standalone' : 'module');

  // Domains: names and types are unique across introspectors and targets.
  const rawIntrospectors = Array.isArray(root.introspectors) ? root.introspectors : [];
  const rawTargets = Array.isArray(root.targets) ? root.targets : [];
  const byName = new Map<string, { role: 'introspector' | 'target'; span: SourceSpan }>();
  const byType = new Map<string, string>();

  const readDomain = (raw: unknown, path: JsonPath, role: 'introspector' | 'target'): SpecDomain | undefined => {
    if (!isObj(raw)) return undefined;
    const name = str(raw.name);
    const guest = str(raw.guest);
    if (!name || !guest || !GUESTS.has(guest)) return undefined;
    const nameSpan = at([...path, 'name']);
    const reserved = reservedDomainName(name);
    if (reserved && !(options.deployed && name === 'Domain-0')) d.push(diagnostic('ReservedName', ['domain name', name, reserved], nameSpan));
    const prior = byName.get(name);
    if (prior) {
      d.push(prior.role !== role
        ? diagnostic('DomainIsBoth', [name], nameSpan, 'a domain is either an introspector or a target; give the other one its own name')
        : diagnostic('DuplicateName', [name, where(prior.span)], nameSpan, 'domain names are unique on a host; rename one of them'));
    } else {
      byName.set(name, { role, span: nameSpan });
    }
    const explicitType = str(raw.type);
    const type = explicitType ?? defaultTypeFor(name);
    const typeSpan = explicitType ? at([...path, 'type']) : nameSpan;
    if (XEN_BUILTIN_TYPES.has(type) && !options.deployed) {
      d.push(diagnostic('BuiltinType', [type], typeSpan, `give "${name}" a type of its own, e.g. type: ${defaultTypeFor(name) === type ? `${name.replace(/[.-]/g, '_')}_vmi_t` : defaultTypeFor(name)}`));
    } else {
      const owner = byType.get(type);
      if (owner !== undefined && owner !== name && !options.deployed) {
        d.push(diagnostic('DuplicateType', [type, owner, name], typeSpan, 'one type per domain: a shared type shares every permission'));
      } else {
        byType.set(type, name);
      }
    }
    const since = GUEST_KIND_SINCE[guest as GuestKind];
    if (xen !== undefined && isSupportedRelease(xen) && !atLeast(xen, since)) {
      d.push(diagnostic('GuestKindRelease', [guest.toUpperCase(), since, xen], at([...path, 'guest']), `run "${name}" as ${guest === 'pvh' ? 'pv or hvm' : 'another kind'}, or target Xen ${since}+`));
    }
    return { name, type, guest: guest as GuestKind, span: at(path), nameSpan, typeSpan };
  };

  // Read every domain in source order, so a duplicate is reported where it is repeated.
  const entries = [
    ...rawIntrospectors.map((raw, i) => ({ raw, path: ['introspectors', i] as JsonPath, role: 'introspector' as const })),
    ...rawTargets.map((raw, i) => ({ raw, path: ['targets', i] as JsonPath, role: 'target' as const })),
  ].sort((a, b) => at(a.path).start - at(b.path).start);
  const read = new Map(entries.map((e) => [e, readDomain(e.raw, e.path, e.role)]));
  const targets = entries.flatMap((e) => (e.role === 'target' ? read.get(e) ?? [] : []));
  const targetByName = new Map(targets.map((t) => [t.name, t]));
  const watched = new Set<string>();

  const introspectors: SpecIntrospector[] = [];
  entries.forEach((entry) => {
    const { raw, path } = entry;
    const base = entry.role === 'introspector' ? read.get(entry) : undefined;
    if (!base || !isObj(raw)) return;
    const refs: Named[] = [];
    const listedNames = new Set<string>();
    const listed = Array.isArray(raw.targets) ? raw.targets : [];
    listed.forEach((t, j) => {
      const name = str(t);
      if (!name) return;
      const span = at([...path, 'targets', j]);
      if (name === base.name) {
        d.push(diagnostic('TargetsItself', [base.name], span, 'remove it: a domain acts on itself through its _self type, which needs no grant here'));
        return;
      }
      if (!targetByName.has(name)) {
        // A target whose entry is wrong elsewhere (`guest: HVM`) is declared: its own error says what is wrong.
        if (rawTargets.some((r) => isObj(r) && r.name === name)) return;
        const near = nearest(name, targetByName.keys());
        const isIntrospector = rawIntrospectors.some((r) => isObj(r) && r.name === name);
        d.push(diagnostic('UnknownTarget', [base.name, name], span,
          isIntrospector ? `"${name}" is an introspector; introspectors may not watch each other`
            : near ? `did you mean "${near}"?` : `declare it under targets: (declared: ${[...targetByName.keys()].join(', ') || 'none'})`));
        return;
      }
      if (listedNames.has(name)) return; // reported by the schema (uniqueItems)
      listedNames.add(name);
      refs.push({ name, span });
      watched.add(name);
    });

    const caps: Named[] = [];
    const listedCaps = Array.isArray(raw.capabilities) ? raw.capabilities : [];
    listedCaps.forEach((c, j) => {
      const name = str(c);
      if (!name || !capability(name) || caps.some((x) => x.name === name)) return; // unknown and repeated: schema
      caps.push({ name, span: at([...path, 'capabilities', j]) });
    });
    // The tool profile: what the tool cannot run without is added (and said, at `tool:`).
    const tool: ToolName = isToolName(raw.tool) ? raw.tool : 'custom';
    const toolSpan = raw.tool !== undefined ? at([...path, 'tool']) : base.span;
    const implied = impliedCapabilities(tool, caps.map((c) => c.name));
    for (const m of implied) {
      caps.push({ name: m.capability, span: toolSpan });
      d.push(diagnostic('ToolImpliesCapability', [tool, m.capability, base.name, m.why], toolSpan, `list ${m.capability} under capabilities to say so in the spec`));
    }
    const needsOneOf = toolProfile(tool).needsOneOf;
    if (needsOneOf && !caps.some((c) => needsOneOf.capabilities.includes(c.name))) {
      d.push(diagnostic('ToolNeedsCapability', [tool, base.name, needsOneOf.capabilities.join(', '), needsOneOf.why], toolSpan, `declare one of ${needsOneOf.capabilities.join(', ')}, or say tool: custom`));
    }
    const xenOk = xen !== undefined && isSupportedRelease(xen);
    // One error per missing prerequisite, at the first capability that needs it, naming all of them.
    const needing = new Map<string, { names: string[]; span: SourceSpan }>();
    for (const cap of caps) {
      for (const req of capability(cap.name)?.requires ?? []) {
        if (caps.some((c) => c.name === req)) continue;
        const entry = needing.get(req);
        if (entry) entry.names.push(cap.name);
        else needing.set(req, { names: [cap.name], span: cap.span });
      }
    }
    for (const [req, { names, span }] of needing) {
      d.push(diagnostic('MissingPrerequisite', [inWords(names), names.length === 1 ? 'needs' : 'need', req, base.name], span, `add ${req} to the capabilities of "${base.name}"`));
    }
    for (const cap of caps) {
      const def = capability(cap.name);
      if (!def) continue;
      if (!xenOk) continue;
      const frames = mapsTargetFrames(def, { xen: xen as string, introspector: base.guest, target: 'hvm' }, tool);
      const refusal = frames ? foreignMapRefusal(xen as string, base.guest) : undefined;
      if (refusal) {
        d.push(diagnostic('ForeignMapRefused', [cap.name, base.guest.toUpperCase(), base.name, refusal], cap.span,
          `run "${base.name}" as a PV guest (guest: pv), or use Xen 4.19 or later`));
      }
      for (const ref of refs) {
        const target = targetByName.get(ref.name);
        if (!target) continue;
        const why = unsupportedReason(def, { xen: xen as string, introspector: base.guest, target: target.guest });
        if (why) {
          d.push(diagnostic('CapabilityGuestKind', [cap.name, target.guest.toUpperCase(), target.name, why], cap.span,
            `remove ${cap.name}, or watch "${target.name}" from an introspector without it`));
        }
      }
    }
    const lookup: Lookup = raw.lookup === 'name' ? 'name' : 'domid';
    const lookupSpan = raw.lookup !== undefined ? at([...path, 'lookup']) : base.span;
    introspectors.push({ ...base, targets: refs, capabilities: caps, lookup, lookupSpan, tool, toolSpan, implied: implied.map((m) => m.capability) });

    // Warnings: valid, but the user should know.
    const names = new Set(caps.map((c) => c.name));
    if (base.guest !== 'pv' && names.has('read-memory') && !names.has('write-memory')) {
      // One warning for the introspector, naming its targets: the fact is the introspector's kind.
      if (refs.length) {
        d.push(diagnostic('CannotBeReadOnly', [base.name, withArticle(base.guest.toUpperCase()), quotedNames(refs.map((r) => r.name))], caps.find((c) => c.name === 'read-memory')?.span ?? base.span,
          'run the introspector as a PV guest if it must be confined to reading: a PV guest maps with mmu_update, and flask_mmu_update asks map_write only for a writable mapping'));
      }
    }
    if (xenOk && !names.has('write-memory')) {
      // The targets made writable by the same capabilities share one warning.
      const writable = new Map<string, { writers: typeof caps; targets: string[] }>();
      for (const ref of refs) {
        const target = targetByName.get(ref.name);
        if (!target) continue;
        const ctx = { xen: xen as string, introspector: base.guest, target: target.guest };
        // read-memory from an HVM/PVH introspector is VP2001's case: same fact, said once.
        const writers = caps.filter((c) => c.name !== 'read-memory' && capability(c.name) && !unsupportedReason(capability(c.name)!, ctx) && grantsTargetWrite(capability(c.name)!, ctx, capabilityGrants(capability(c.name)!, ctx, tool)));
        if (writers.length === 0) continue;
        const key = writers.map((c) => c.name).join(', ');
        const group = writable.get(key);
        if (group) group.targets.push(ref.name);
        else writable.set(key, { writers, targets: [ref.name] });
      }
      for (const [key, { writers, targets: writableTargets }] of writable) {
        d.push(diagnostic('WholeTargetWritable', [key, writers.length === 1 ? 's' : '', base.name, quotedNames(writableTargets)], writers[0]!.span,
          'declare write-memory to say so in the spec, or drop the event capabilities if the introspector must only read'));
      }
    }
    if (xenOk && names.has('altp2m') && branchOf(xen as string) === '4.8') {
      for (const ref of refs) d.push(diagnostic('Altp2mMixedOnly', [xen, ref.name], caps.find((c) => c.name === 'altp2m')?.span ?? base.span, 'Xen 4.9 and later have altp2m="external"'));
    }
  });

  for (const t of targets) {
    if (!watched.has(t.name)) d.push(diagnostic('UnwatchedTarget', [t.name], t.nameSpan, 'list it under an introspector\'s targets, or remove it'));
  }

  if (xen !== undefined && isSupportedRelease(xen)) {
    for (const change of BACKPORTED_CHANGES) {
      const point = laterPointReleaseWith(xen, change);
      if (point) d.push(diagnostic('BranchMeansFirstRelease', [xen, point, change.what], options.xen === undefined ? at(['xen']) : undefined, `if the host runs Xen ${point} or later, say xen: "${point}" (or the host's exact release)`));
    }
  }
  if (d.some((x) => x.severity === 'error') || !xen || !isSupportedRelease(xen) || !moduleName) return { diagnostics: d };
  const spec2: Spec = {
    file: spec.source.file,
    xen,
    xenSpan: at(['xen']),
    module: moduleName,
    moduleSpan: at(['policy', 'module']),
    mode,
    introspectors,
    targets,
  };
  return { spec: spec2, diagnostics: d };
}

/** "a", "a and b", "a, b and c". */
function inWords(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** "a" or "b", "c" and "d" — at most eight named, then how many more. */
function quotedNames(names: readonly string[]): string {
  const named = names.slice(0, 8).map((n) => `"${n}"`);
  return names.length > 8 ? `${named.join(', ')} and ${names.length - 8} more` : inWords(named);
}

/** "an HVM", "a PVH". */
function withArticle(kind: string): string {
  return `${/^[AEFHILMNORSX]/.test(kind) ? 'an' : 'a'} ${kind}`;
}
