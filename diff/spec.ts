// Spec × spec → SpecDelta and the raw access diff of the two compiled policies. Changes are
// stated in the spec's terms first — which introspector gains or loses which capability on
// which target, and the permissions that carries (from the capability catalog, per Xen
// release and guest kinds) — then targets, guest kinds, labels and xenstore readers.

import type { CompileResult } from '../compiler/compile.js';
import { vocabulary } from '../catalog/vocabulary.js';
import type { Grant, IR, Origin } from '../compiler/ir.js';
import { policyFileOf, type ManifestEntry } from '../compiler/emit/manifest.js';
import { positionAt, type SourceText } from '../core/source.js';
import type { SourceSpan } from '../core/diagnostics.js';
import { byEntry, cmp } from './access.js';
import type {
  AccessChange, CapabilityChange, DomainFieldChange, DomainSummary, Justification, LabelChange, Location, PermOn, SpecDelta, TargetChange, VocabularyChange, XenstoreChange,
} from './types.js';

/**
 * A spec that compiled (with `manifest: 'entries'`): what the spec diff reads. Its grants come
 * as data, not as manifest.json to parse: at thousands of targets the manifest's text and
 * its parse were most of a diff's memory.
 */
export interface CompiledSpec {
  readonly ir: IR;
  readonly source: SourceText;
  readonly artifacts: ReadonlyMap<string, string>;
  readonly entries: () => readonly ManifestEntry[];
}

export function compiledSpec(r: CompileResult): CompiledSpec | undefined {
  return r.ir && r.source && r.artifacts && r.manifestEntries ? { ir: r.ir, source: r.source, artifacts: r.artifacts, entries: r.manifestEntries } : undefined;
}

function loc(source: SourceText, span: SourceSpan): Location {
  const p = positionAt(source, span.start);
  return { file: source.file, line: p.line, column: p.column };
}

export function diffSpecs(o: CompiledSpec, w: CompiledSpec): SpecDelta {
  const os = o.ir.spec;
  const ws = w.ir.spec;
  return {
    ...(os.xen !== ws.xen ? { xen: { old: os.xen, new: ws.xen, vocabulary: vocabularyChanges(os.xen, ws.xen) } } : {}),
    ...(os.mode !== ws.mode ? { mode: { old: os.mode, new: ws.mode } } : {}),
    ...domainChanges(o, w),
    targets: targetChanges(o, w),
    capabilities: capabilityChanges(o, w),
    labels: labelChanges(o.ir, w.ir),
    xenstore: xenstoreChanges(o, w),
  };
}

function vocabularyChanges(a: string, b: string): VocabularyChange[] {
  const va = new Map(vocabulary(a).accessVectors.map(([c, ps]) => [c, ps]));
  const vb = new Map(vocabulary(b).accessVectors.map(([c, ps]) => [c, ps]));
  const out: VocabularyChange[] = [];
  for (const cls of [...new Set([...va.keys(), ...vb.keys()])].sort(cmp)) {
    const pa = new Set(va.get(cls) ?? []);
    const pb = new Set(vb.get(cls) ?? []);
    const added = [...pb].filter((p) => !pa.has(p)).sort(cmp);
    const removed = [...pa].filter((p) => !pb.has(p)).sort(cmp);
    if (added.length || removed.length) out.push({ cls, added, removed });
  }
  return out;
}

function domainChanges(o: CompiledSpec, w: CompiledSpec): Pick<SpecDelta, 'domains' | 'domainChanges'> {
  const summary = (c: CompiledSpec) => new Map(c.ir.domains.map((d) => [d.name, { name: d.name, role: d.role, type: d.type, guest: d.guest, spec: loc(c.source, d.span) } satisfies DomainSummary]));
  const lookups = (c: CompiledSpec) => new Map(c.ir.spec.introspectors.map((i) => [i.name, { lookup: i.lookup, at: loc(c.source, i.lookupSpan), tool: i.tool, toolAt: loc(c.source, i.toolSpan) }]));
  const a = summary(o);
  const b = summary(w);
  const la = lookups(o);
  const lb = lookups(w);
  const changes: DomainFieldChange[] = [];
  for (const [name, nd] of [...b].sort(([x], [y]) => cmp(x, y))) {
    const od = a.get(name);
    if (!od) continue;
    for (const field of ['role', 'type', 'guest'] as const) {
      if (od[field] !== nd[field]) changes.push({ name, field, old: od[field], new: nd[field], spec: nd.spec });
    }
    const ol = la.get(name);
    const nl = lb.get(name);
    if (ol && nl && ol.lookup !== nl.lookup) changes.push({ name, field: 'lookup', old: ol.lookup, new: nl.lookup, spec: nl.at });
    // A tool profile is a capability-level change: what it adds shows under the capabilities.
    if (ol && nl && ol.tool !== nl.tool) changes.push({ name, field: 'tool', old: ol.tool, new: nl.tool, spec: nl.toolAt });
  }
  const byName = (x: DomainSummary, y: DomainSummary): number => cmp(x.name, y.name);
  return {
    domains: { added: [...b.values()].filter((d) => !a.has(d.name)).sort(byName), removed: [...a.values()].filter((d) => !b.has(d.name)).sort(byName) },
    domainChanges: changes,
  };
}

function targetChanges(o: CompiledSpec, w: CompiledSpec): TargetChange[] {
  const oi = new Map(o.ir.spec.introspectors.map((i) => [i.name, i]));
  const out: TargetChange[] = [];
  for (const ni of [...w.ir.spec.introspectors].sort((x, y) => cmp(x.name, y.name))) {
    const old = oi.get(ni.name);
    if (!old) continue;
    const a = new Set(old.targets.map((t) => t.name));
    const b = new Set(ni.targets.map((t) => t.name));
    const added = [...b].filter((t) => !a.has(t)).sort(cmp);
    const removed = [...a].filter((t) => !b.has(t)).sort(cmp);
    if (added.length || removed.length) out.push({ introspector: ni.name, added, removed, spec: loc(w.source, ni.span) });
  }
  return out;
}

/** The pseudo-capability name for the vm_event channel rules several capabilities share. */
const EVENT_CHANNEL = 'vm_event channel';

interface CapGrants {
  perms: Map<string, PermOn>;
  spec?: Location;
}

/** introspector → target → capability → its grants, from the IR's origins. */
function capabilityGrants(c: CompiledSpec): Map<string, CapGrants> {
  const out = new Map<string, CapGrants>();
  const add = (g: Grant, cap: string, introspector: string, target: string, span: SourceSpan): void => {
    const key = `${introspector}\u0000${target}\u0000${cap}`;
    let e = out.get(key);
    if (!e) out.set(key, (e = { perms: new Map(), spec: loc(c.source, span) }));
    e.perms.set(`${g.subject} ${g.object} ${g.cls} ${g.perm}`, { subject: g.subject, object: g.object, cls: g.cls, perm: g.perm });
  };
  for (const g of c.ir.vmiGrants) {
    const o = g.origin;
    if (o.kind === 'capability') add(g, o.capability, o.introspector, o.target, o.span);
    else if (o.kind === 'event-channel') add(g, EVENT_CHANNEL, o.introspector, o.target, o.span);
  }
  // Declared capabilities that grant nothing on this release still count as held.
  for (const i of c.ir.spec.introspectors) {
    for (const t of i.targets) {
      for (const cap of i.capabilities) {
        const key = `${i.name}\u0000${t.name}\u0000${cap.name}`;
        if (!out.has(key)) out.set(key, { perms: new Map(), spec: loc(c.source, cap.span) });
      }
    }
  }
  return out;
}

function capabilityChanges(o: CompiledSpec, w: CompiledSpec): CapabilityChange[] {
  const a = capabilityGrants(o);
  const b = capabilityGrants(w);
  const typeOf = new Map([...o.ir.domains, ...w.ir.domains].map((d) => [d.name, d.type]));
  const out: CapabilityChange[] = [];
  // Every permission OLD grants, with the capabilities behind it.
  const heldBy = new Map<string, Set<string>>();
  for (const [key, grants] of a) {
    const capability = key.split('\u0000')[2] as string;
    for (const k of grants.perms.keys()) {
      let set = heldBy.get(k);
      if (!set) heldBy.set(k, (set = new Set()));
      set.add(capability);
    }
  }
  const byPerm = (x: PermOn, y: PermOn): number => cmp(x.subject, y.subject) || cmp(x.object, y.object) || cmp(x.cls, y.cls) || cmp(x.perm, y.perm);
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort(cmp)) {
    const [introspector, target, capability] = key.split('\u0000') as [string, string, string];
    const oa = a.get(key);
    const nb = b.get(key);
    const added = [...(nb?.perms ?? new Map<string, PermOn>()).entries()].filter(([k]) => !oa?.perms.has(k)).map(([, p]) => p).sort(byPerm);
    const removed = [...(oa?.perms ?? new Map<string, PermOn>()).entries()].filter(([k]) => !nb?.perms.has(k)).map(([, p]) => p).sort(byPerm);
    const change = !oa ? 'gained' : !nb ? 'lost' : added.length || removed.length ? 'changed' : undefined;
    if (!change) continue;
    const spec = (change === 'lost' ? oa : nb)?.spec;
    const permKey = (p: PermOn): string => `${p.subject} ${p.object} ${p.cls} ${p.perm}`;
    const held = added.filter((p) => heldBy.has(permKey(p)));
    const by = [...new Set(held.flatMap((p) => [...(heldBy.get(permKey(p)) ?? [])]))].filter((c) => c !== capability).sort(cmp);
    const alreadyHeld = held.length && by.length ? { alreadyHeld: { perms: held, by } } : {};
    out.push({ introspector, target, targetType: typeOf.get(target) ?? target, introspectorType: typeOf.get(introspector) ?? introspector, capability, change, added, removed, ...(spec ? { spec } : {}), ...alreadyHeld });
  }
  return out;
}

function labelChanges(o: IR, w: IR): LabelChange[] {
  const settings = (ir: IR) => new Map(ir.xl.map((f) => [f.domain.name, new Map(f.settings.map((s) => [s.key, s.value]))]));
  const a = settings(o);
  const b = settings(w);
  const out: LabelChange[] = [];
  for (const domain of [...new Set([...a.keys(), ...b.keys()])].sort(cmp)) {
    const sa = a.get(domain) ?? new Map<string, string>();
    const sb = b.get(domain) ?? new Map<string, string>();
    for (const key of [...new Set([...sa.keys(), ...sb.keys()])].sort(cmp)) {
      const x = sa.get(key);
      const y = sb.get(key);
      if (x !== y) out.push({ domain, key, ...(x !== undefined ? { old: x } : {}), ...(y !== undefined ? { new: y } : {}) });
    }
  }
  return out;
}

function xenstoreChanges(o: CompiledSpec, w: CompiledSpec): XenstoreChange[] {
  const readers = (c: CompiledSpec) => {
    const m = new Map<string, { node: string; reader: string; why?: string; spec?: Location }>();
    for (const n of c.ir.xenstore) {
      const node = n.node.kind === 'local-domain' ? '/local/domain' : `/local/domain/<domid of ${n.node.domain}>/name`;
      for (const r of n.baseReaders) m.set(`${node} ${r}`, { node, reader: r });
      for (const r of n.addedReaders) m.set(`${node} ${r.domain}`, { node, reader: r.domain, why: r.why, spec: loc(c.source, r.span) });
    }
    return m;
  };
  const a = readers(o);
  const b = readers(w);
  const out: XenstoreChange[] = [];
  for (const [k, v] of b) if (!a.has(k)) out.push({ ...v, change: 'added' });
  for (const [k, v] of a) if (!b.has(k)) out.push({ ...v, change: 'removed' });
  return out.sort((x, y) => cmp(x.node, y.node) || cmp(x.reader, y.reader) || cmp(x.change, y.change));
}

/**
 * The raw permission diff of two compiled specs, from their manifests' grants: every grant
 * with the policy line that makes it and the spec line that asks for it. Exact for
 * vmipolicy's own output (no attributes or booleans to expand: the IR holds atomic grants).
 */
export function diffSpecAccess(o: CompiledSpec, w: CompiledSpec): AccessChange[] {
  const key = (g: ManifestEntry): string => `${g.subject} ${g.object} ${g.class}`;
  const a = new Map(o.entries().map((g) => [key(g), g]));
  const b = new Map(w.entries().map((g) => [key(g), g]));
  const out: AccessChange[] = [];
  for (const k of [...new Set([...a.keys(), ...b.keys()])]) {
    const x = a.get(k);
    const y = b.get(k);
    const xp = new Set(x?.permissions ?? []);
    const yp = new Set(y?.permissions ?? []);
    const added = [...yp].filter((p) => !xp.has(p)).sort(cmp);
    const removed = [...xp].filter((p) => !yp.has(p)).sort(cmp);
    if (!added.length && !removed.length) continue;
    const g = (y ?? x) as ManifestEntry;
    out.push({
      subject: g.subject, object: g.object, cls: g.class, added, removed, conditions: [],
      rules: [...justifications(y, added, 'new', w), ...justifications(x, removed, 'old', o)],
    });
  }
  return out.sort(byEntry);
}

/** What a reason is, as a review names it: the capability, the vm_event channel, the xen.if macro, or why. */
function reasonOf(origin: Origin): string {
  switch (origin.kind) {
    case 'capability': return `capability ${origin.capability}`;
    case 'event-channel': return `vm_event channel (${origin.capabilities.join(', ')})`;
    case 'xen-macro': return `${origin.macro}(${origin.args.join(', ')})`;
    case 'domain-rule':
    case 'host-base': return origin.why;
  }
}

function justifications(g: ManifestEntry | undefined, perms: readonly string[], side: 'old' | 'new', c: CompiledSpec): Justification[] {
  if (!g || perms.length === 0) return [];
  const want = new Set(perms);
  const policy = policyFileOf(c.ir.spec);
  // The manifest keeps one justification per catalog reason; a review needs one per rule,
  // spec line and capability, with the permissions merged.
  const merged = new Map<string, { perms: Set<string>; j: Justification }>();
  for (const r of g.reasons) {
    const ps = r.permissions.filter((p) => want.has(p));
    if (!ps.length) continue;
    const why = reasonOf(r.origin);
    const spec = r.origin.kind === 'host-base' ? undefined : loc(c.source, r.origin.span);
    const key = `${r.rule}|${spec?.line}|${spec?.column}|${why}`;
    const e = merged.get(key);
    if (e) for (const p of ps) e.perms.add(p);
    else merged.set(key, { perms: new Set(ps), j: { side, perms: [], rule: { file: policy, line: r.rule }, ...(spec ? { spec } : {}), why } });
  }
  return [...merged.values()].map(({ perms: ps, j }) => ({ ...j, perms: [...ps].sort(cmp) }));
}
