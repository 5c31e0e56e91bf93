// Phase 4: spec → IR. Each introspector/target pair's capabilities are looked up in the
// catalog for the spec's Xen release and guest kinds; each domain gets the declarations
// and dom0 relationships Xen's own example policy gives a guest; xenstore and xl needs are
// derived from the declared lookups and capabilities. Everything is sorted by name so
// that reordering the spec's lists changes nothing in the output.

import { compareCodePoints } from '../core/compare.js';
import { capability, type CapabilityContext, type PermissionGrant } from '../catalog/capabilities.js';
import { capabilityGrants } from '../catalog/tools.js';
import { branchOf, vocabulary, xenMacros, type Vocabulary } from '../catalog/vocabulary.js';
import type { MacroRule, XenMacros } from '../catalog/xen-macros.generated.js';
import type { SourceSpan } from '../core/diagnostics.js';
import type { DomainIR, Grant, IR, MacroTemplate, MacroUse, Origin, TypeDecl, TypeTransition, XenMacroName, XenstoreNodeIR, XlFileIR, XlSettingIR } from './ir.js';
import type { Spec, SpecIntrospector } from './spec.js';
import { ByOrigin } from './origin-map.js';

export const DOM0_TYPE = 'dom0_t';
export const DOM0_CHANNEL = 'dom0_t_channel';
export const DOMXEN_TYPE = 'domxen_t';

const byString = compareCodePoints;

export function lower(spec: Spec): IR {
  const vocab = vocabulary(spec.xen);
  const domains: DomainIR[] = [
    ...spec.introspectors.map((d) => domainIR('introspector', d)),
    ...spec.targets.map((d) => domainIR('target', d)),
  ].sort((a, b) => byString(a.type, b.type));
  const byName = new Map(domains.map((d) => [d.name, d]));

  const ids = originIds();
  const macroUses = domains.flatMap((d) => domainMacros(spec, d, ids));
  const plainRules = sortGrants(domains.flatMap((d) => domainRules(spec, d, ids)), vocab);
  const vmiGrants = sortGrants(
    [...spec.introspectors].flatMap((s) => introspectionGrants(spec, s, byName, ids)),
    vocab,
  );
  checkVocabulary([...oneUseOfEachMacro(macroUses).flatMap((m) => m.grants), ...plainRules, ...vmiGrants], vocab);
  return {
    spec,
    vocabulary: vocab,
    domains,
    macroUses,
    domainRules: plainRules,
    vmiGrants,
    xl: xlFiles(spec, domains, byName),
    xenstore: xenstorePlan(spec),
  };
}

/** Gives each origin of one IR its id (Origin.id): 0, 1, 2… */
type OriginIds = () => number;

function originIds(): OriginIds {
  let next = 0;
  return () => next++;
}

function domainIR(role: DomainIR['role'], d: { name: string; type: string; guest: DomainIR['guest']; span: SourceSpan }): DomainIR {
  return { role, name: d.name, type: d.type, self: `${d.type}_self`, channel: `${d.type}_channel`, guest: d.guest, span: d.span };
}

/** Expands a xen.if rule template: $1, $2, $3 are the macro's arguments. */
function expand(rules: readonly MacroRule[], args: readonly string[], origin: Origin): Grant[] {
  // The argument itself, never a copy: a host's IR holds millions of these names.
  const arg = (s: string | number): string => (typeof s === 'number' ? args[s] ?? `$${s + 1}` : s);
  const out: Grant[] = [];
  for (const [s, o, cls, perms] of compiledTemplate(rules)) {
    const subject = arg(s);
    const object = arg(o);
    for (const perm of perms) out.push({ subject, object, cls, perm, origin });
  }
  return out;
}

/** A template's rules with `$n` read once: the argument's index, or the name itself. */
type CompiledRule = readonly [string | number, string | number, string, readonly string[]];

const compiledTemplates = new WeakMap<readonly MacroRule[], readonly CompiledRule[]>();

function compiledTemplate(rules: readonly MacroRule[]): readonly CompiledRule[] {
  let compiled = compiledTemplates.get(rules);
  if (!compiled) {
    const slot = (s: string): string | number => {
      const placeholder = /^\$(\d)$/.exec(s);
      return placeholder ? Number(placeholder[1]) - 1 : s;
    };
    compiledTemplates.set(rules, (compiled = rules.map(([s, o, cls, perms]) => [slot(s), slot(o), cls, perms] as const)));
  }
  return compiled;
}

/** The slots of a domain's macro uses (MacroUse.slots): its type, _self type and _channel type. */
const TYPE = 0;
const SELF = 1;
const CHANNEL = 2;

function slotsOf(d: DomainIR): readonly string[] {
  return [d.type, d.self, d.channel];
}

type TemplateRule = MacroTemplate['rules'][number];

/** A xen.if template's rules with its arguments put in: each a name or a slot. */
function instantiate(rules: readonly MacroRule[], args: readonly (string | number)[]): TemplateRule[] {
  return compiledTemplate(rules).map(([s, o, cls, perms]) => [typeof s === 'number' ? args[s] ?? `$${s + 1}` : s, typeof o === 'number' ? args[o] ?? `$${o + 1}` : o, cls, perms] as const);
}

/** xen.if create_channel(source, dest, channel): the source makes and uses the channel, which binds to dest. */
function createChannel(source: string | number, dest: string | number, channel: string | number): TemplateRule[] {
  return [
    [source, channel, 'event', ['create', 'send', 'status']],
    [channel, dest, 'event', ['bind']],
  ];
}

/** xen.if domain_event_comms(dom0_t, d): an event channel each way. */
function channelsWithDom0(): TemplateRule[] {
  return [...createChannel(DOM0_TYPE, TYPE, DOM0_CHANNEL), ...createChannel(TYPE, DOM0_TYPE, CHANNEL)];
}

/** The rules of each macro a domain is given (domainMacros), once per release's macros. */
const templatesOf = new WeakMap<XenMacros, ReadonlyMap<XenMacroName, MacroTemplate>>();

function macroTemplates(m: XenMacros): ReadonlyMap<XenMacroName, MacroTemplate> {
  let templates = templatesOf.get(m);
  if (!templates) {
    const of = (rules: TemplateRule[]): MacroTemplate => ({ rules });
    templates = new Map<XenMacroName, MacroTemplate>([
      ['declare_domain', of(instantiate(m.declareDomainCommon, [TYPE, SELF]))],
      ['create_domain', of([...instantiate(m.createDomainCommon, [DOM0_TYPE, TYPE]), [DOM0_TYPE, CHANNEL, 'event', ['create']]])],
      ['manage_domain', of(instantiate(m.manageDomain, [DOM0_TYPE, TYPE]))],
      ['domain_event_comms', of(channelsWithDom0())],
      ['domain_comms', of([...channelsWithDom0(), ...instantiate(m.domainComms, [DOM0_TYPE, TYPE])])],
    ]);
    templatesOf.set(m, templates);
  }
  return templates;
}

/** A template's grants for one domain's slots. */
function fillTemplate(template: MacroTemplate, slots: readonly string[], origin: Origin): Grant[] {
  const out: Grant[] = [];
  for (const [s, o, cls, perms] of template.rules) {
    // The slot's string itself, never a copy: a host's IR holds millions of these names.
    const subject = typeof s === 'number' ? (slots[s] as string) : s;
    const object = typeof o === 'number' ? (slots[o] as string) : o;
    for (const perm of perms) out.push({ subject, object, cls, perm, origin });
  }
  return out;
}

/**
 * What every declared domain gets, exactly as a stock domU_t does in Xen's example policy
 * (domU.te): its own types and basic self rights (declare_domain), and dom0 building,
 * managing and serving it (create_domain, manage_domain, domain_comms).
 */
function domainMacros(spec: Spec, d: DomainIR, ids: OriginIds): MacroUse[] {
  const templates = macroTemplates(xenMacros(spec.xen));
  const slots = slotsOf(d);
  const use = (macro: XenMacroName, args: string[], types: TypeDecl[] = [], transitions: TypeTransition[] = []): MacroUse => {
    const origin: Origin = { kind: 'xen-macro', macro, args, domain: d.name, span: d.span, id: ids() };
    const template = templates.get(macro) as MacroTemplate;
    // Expanded each time they are read, never kept: a host of 10 000 domains has a million
    // of these permissions, all alike but for the names, and each reader (the emitter, the
    // manifest, the checker's intent) walks them once.
    return { macro, args, domain: d.name, types, transitions, template, slots, origin, get grants() { return fillTemplate(template, slots, origin); } };
  };
  return [
    use('declare_domain', [d.type],
      [
        { name: d.type, attributes: ['domain_type'] },
        { name: d.self, attributes: ['domain_type', 'domain_self_type'] },
        { name: d.channel, attributes: ['event_type'] },
      ],
      [
        { source: d.type, target: d.type, cls: 'domain', result: d.self },
        { source: d.type, target: 'domain_type', cls: 'event', result: d.channel },
      ]),
    use('create_domain', [DOM0_TYPE, d.type]),
    use('manage_domain', [DOM0_TYPE, d.type]),
    // An introspector gets no rule on dom0_t: LibVMI's driver auto-detection (xen_test in
    // libvmi/driver/xen/xen.c) ends in xen_destroy, which calls xc_domain_setmaxmem on domid 0
    // with 0 KiB, and that must stay denied (XEN_DOMCTL_max_mem → flask_domctl checks
    // domain:setdomainmaxmem). Its event channels with dom0 as usual, but dom0's grant rights
    // over it come without the reverse direction.
    d.role === 'introspector' ? use('domain_event_comms', [DOM0_TYPE, d.type]) : use('domain_comms', [DOM0_TYPE, d.type]),
  ];
}

/**
 * dom0's half of domain_comms for an introspector: dom0 (console, xenstore, backends) may
 * map and copy what the introspector grants it; the introspector gets nothing on dom0_t.
 */
function domainRules(spec: Spec, d: DomainIR, ids: OriginIds): Grant[] {
  if (d.role !== 'introspector') return [];
  const origin: Origin = { kind: 'domain-rule', domain: d.name, why: `dom0 serves introspector "${d.name}" (the dom0 half of domain_comms: nothing for it on dom0_t)`, span: d.span, id: ids() };
  const dom0Side = xenMacros(spec.xen).domainComms.filter(([s]) => s === '$1');
  return expand(dom0Side, [DOM0_TYPE, d.type], origin);
}

function objectType(g: PermissionGrant, s: DomainIR, t: DomainIR): string {
  switch (g.object) {
    case 'target': return t.type;
    case 'self': return s.self;
    case 'domxen': return DOMXEN_TYPE;
  }
}

function introspectionGrants(spec: Spec, s: SpecIntrospector, byName: Map<string, DomainIR>, ids: OriginIds): Grant[] {
  const sd = byName.get(s.name);
  if (!sd) return [];
  const out: Grant[] = [];
  for (const ref of s.targets) {
    const td = byName.get(ref.name);
    if (!td) continue;
    const ctx: CapabilityContext = { xen: spec.xen, introspector: s.guest, target: td.guest };
    const eventCaps: string[] = [];
    for (const cap of s.capabilities) {
      const def = capability(cap.name);
      if (!def) continue;
      if (def.eventChannel) eventCaps.push(def.name);
      // One origin per reason: grants of the catalog that cite the same rows for the same
      // reason (in several classes, say) share it, so no two origins of an IR say the same.
      const origins = new Map<string, Origin>();
      for (const g of capabilityGrants(def, ctx, s.tool)) {
        const reason = `${g.catalog.join(',')} ${g.why}`;
        let origin = origins.get(reason);
        if (!origin) origins.set(reason, (origin = { kind: 'capability', capability: def.name, introspector: s.name, target: td.name, catalog: g.catalog, why: g.why, span: cap.span, id: ids() }));
        for (const perm of g.perms) out.push({ subject: sd.type, object: objectType(g, sd, td), cls: g.cls, perm, origin });
      }
    }
    if (eventCaps.length > 0) out.push(...eventChannelGrants(sd, td, eventCaps.sort(byString), s.capabilities.find((c) => c.name === eventCaps[0])?.span ?? s.span, ids));
  }
  return out;
}

/**
 * The four rules a working vm_event channel needs: Xen allocates the target-side port while
 * running the introspector's domctl (D1f′: vm_event_enable in xen/common/vm_event.c →
 * alloc_unbound_xen_event_channel, checked by flask_evtchn_unbound), the introspector binds
 * its end (D2: flask_evtchn_interdomain) and notifies Xen (D4: flask_evtchn_send); the hooks
 * are in xen/xsm/flask/hooks.c and label each channel by `type_transition <domain> <peer>:event`.
 * Narrower than xen.if's create_channel: no `status`.
 */
export function eventChannelGrants(s: DomainIR, t: DomainIR, capabilities: string[], span: SourceSpan, ids?: OriginIds): Grant[] {
  const o = (catalog: string[], why: string): Origin => ({ kind: 'event-channel', introspector: s.name, target: t.name, capabilities, catalog, why, span, ...(ids ? { id: ids() } : {}) });
  const port = o(['D1f′'], 'XEN_VM_EVENT_ENABLE allocates the target-side port: alloc_unbound_xen_event_channel → flask_evtchn_unbound');
  const bind = o(['D2'], 'xc_evtchn_bind_interdomain → EVTCHNOP_bind_interdomain → flask_evtchn_interdomain');
  const send = o(['D4'], 'xc_evtchn_notify → EVTCHNOP_send → flask_evtchn_send');
  return [
    { subject: s.type, object: t.channel, cls: 'event', perm: 'create', origin: port },
    { subject: t.channel, object: s.type, cls: 'event', perm: 'bind', origin: port },
    { subject: s.type, object: s.channel, cls: 'event', perm: 'create', origin: bind },
    { subject: s.type, object: s.channel, cls: 'event', perm: 'send', origin: send },
    { subject: s.channel, object: t.type, cls: 'event', perm: 'bind', origin: bind },
  ];
}

/**
 * Sorts grants by subject, object, class (security_classes order), permission (bit order)
 * and origin. Keys are computed once per grant, not per comparison: hosts have millions.
 */
export function sortGrants(grants: Grant[], vocab: Vocabulary): Grant[] {
  const classRank = new Map(vocab.classes.map((c, i) => [c, i]));
  const permRanks = new Map(vocab.accessVectors.map(([cls, perms]) => [cls, new Map(perms.map((p, i) => [p, i]))]));
  const originKeys = new ByOrigin<string>();
  // Each subject and object name ranked once, so that most comparisons are of numbers.
  const names = new Map<string, number>();
  for (const g of grants) {
    names.set(g.subject, 0);
    names.set(g.object, 0);
  }
  [...names.keys()].sort(byString).forEach((n, i) => names.set(n, i));
  const keyed = grants.map((g) => {
    let ok = originKeys.get(g.origin);
    if (ok === undefined) originKeys.set(g.origin, (ok = originKey(g.origin)));
    const rank = (classRank.get(g.cls) ?? 99) * 1000 + (permRanks.get(g.cls)?.get(g.perm) ?? 999);
    return { g, subject: names.get(g.subject) as number, object: names.get(g.object) as number, rank, ok };
  });
  keyed.sort((a, b) => a.subject - b.subject || a.object - b.object || a.rank - b.rank || byString(a.ok, b.ok));
  return keyed.map((k) => k.g);
}

export function originKey(o: Origin): string {
  switch (o.kind) {
    case 'capability': return `1 ${o.introspector} ${o.target} ${o.capability} ${o.catalog.join(',')}`;
    case 'event-channel': return `2 ${o.introspector} ${o.target} ${o.catalog.join(',')}`;
    case 'xen-macro': return `0 ${o.macro}(${o.args.join(',')})`;
    case 'domain-rule': return `0 ${o.domain} ${o.why}`;
    case 'host-base': return `3 ${o.why}`;
  }
}

/**
 * The permissions a macro use grants depend on the macro alone (its xen.if template at the
 * release, and the channel rules domainMacros adds to it), never on the domain it is used
 * for: checking one use of each macro checks them all, without expanding a million grants.
 */
function oneUseOfEachMacro(uses: readonly MacroUse[]): MacroUse[] {
  const first = new Map<XenMacroName, MacroUse>();
  for (const m of uses) if (!first.has(m.macro)) first.set(m.macro, m);
  return [...first.values()];
}

/** A permission the release does not know is a catalog bug, never the user's: fail loudly. */
function checkVocabulary(grants: readonly Grant[], vocab: Vocabulary): void {
  for (const g of grants) {
    if (!vocab.has(g.cls, g.perm)) {
      throw new Error(`internal: ${g.cls}:${g.perm} (${originKey(g.origin)}) is not a permission of Xen ${vocab.release}`);
    }
  }
}

function xlFiles(spec: Spec, domains: readonly DomainIR[], byName: Map<string, DomainIR>): XlFileIR[] {
  const extra = new Map<string, XlSettingIR[]>();
  const add = (domain: string, s: XlSettingIR): void => {
    const list = extra.get(domain) ?? [];
    if (!list.some((x) => x.key === s.key)) list.push(s);
    extra.set(domain, list);
  };
  for (const s of spec.introspectors) {
    const caps = s.capabilities.map((c) => capability(c.name)).filter((c) => c !== undefined);
    for (const ref of s.targets) {
      const t = byName.get(ref.name);
      if (!t) continue;
      for (const c of caps) for (const x of c.targetXl?.({ xen: spec.xen, introspector: s.guest, target: t.guest }) ?? []) add(t.name, x);
    }
    // An auto-translated introspector's foreign maps fail with -EPERM if it has altp2m or
    // nested HVM itself (p2m_add_foreign → arch_acquire_resource_check,
    // xen/arch/x86/mm/p2m-basic.c).
    if (s.guest !== 'pv') {
      add(s.name, branchOf(spec.xen) === '4.8'
        ? { key: 'altp2mhvm', value: '0', why: 'foreign mappings fail while the introspector itself has altp2m (Xen arch_acquire_resource_check)' }
        : { key: 'altp2m', value: '"disabled"', why: 'foreign mappings fail while the introspector itself has altp2m (Xen arch_acquire_resource_check)' });
      if (s.guest === 'hvm') add(s.name, { key: 'nestedhvm', value: '0', why: 'foreign mappings fail while the introspector itself has nested HVM (Xen arch_acquire_resource_check)' });
    }
  }
  return domains.map((d) => ({
    domain: d,
    settings: [
      { key: 'seclabel', value: `"system_u:system_r:${d.type}"`, why: `the FLASK label of ${d.role} "${d.name}"` },
      ...(extra.get(d.name) ?? []).sort((a, b) => byString(a.key, b.key)),
    ],
  }));
}

/**
 * Least xenstore access for the declared lookups, under C xenstored's rules
 * (xenstore/access.ts; tools/xenstore/xenstored_core.c perm_for_conn and get_node: a read
 * checks the node's own ACL only). By domid LibVMI needs nothing from xenstore. By name
 * (xen_get_domainid_from_name) it lists /local/domain and reads each entry's name node,
 * so it gets read on /local/domain and on its targets' name nodes — and nothing else:
 * owner stays dom0, the default stays `n`, no recursion (-r), no ancestors (-u).
 */
function xenstorePlan(spec: Spec): XenstoreNodeIR[] {
  const nameLookups = spec.introspectors.filter((s) => s.lookup === 'name' && s.targets.length > 0);
  if (nameLookups.length === 0) return [];
  const listing: XenstoreNodeIR = {
    node: { kind: 'local-domain' },
    baseReaders: [],
    addedReaders: nameLookups
      .map((s) => ({ domain: s.name, why: 'lists /local/domain to find its targets by name (xen_get_domainid_from_name, catalog A3)', span: s.lookupSpan }))
      .sort((a, b) => byString(a.domain, b.domain)),
  };
  const readersByTarget = new Map<string, XenstoreNodeIR['addedReaders'][number][]>();
  for (const s of nameLookups) {
    for (const t of s.targets) {
      const list = readersByTarget.get(t.name) ?? [];
      list.push({ domain: s.name, why: `reads the name of "${t.name}" to match it (catalog A3)`, span: s.lookupSpan });
      readersByTarget.set(t.name, list);
    }
  }
  const names: XenstoreNodeIR[] = [...readersByTarget.entries()]
    .sort(([a], [b]) => byString(a, b))
    .map(([target, readers]) => ({
      node: { kind: 'name', domain: target },
      baseReaders: [target],
      addedReaders: readers.sort((a, b) => byString(a.domain, b.domain)),
    }));
  return [listing, ...names];
}
