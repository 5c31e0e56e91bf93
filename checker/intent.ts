// The intent the proofs compare the policy with: which domains exist, which introspector
// may watch which target, and every permission each introspector needs, with the spec
// position and catalog rows behind it. Derived from the compiler's IR, so "needed" means
// exactly what the compiler would grant — in the policy's own type names (a deployed
// policy may call the introspector dom0_t, whose _self type is dom0_t itself).

import type { SourceSpan } from '../core/diagnostics.js';
import type { DomainIR, Grant, IR, MacroUse } from '../compiler/ir.js';
import type { GuestKind } from '../catalog/capabilities.js';
import type { Named } from '../compiler/spec.js';
import type { PolicyModel } from '../policy/model/model.js';
import { computeTransition } from '../policy/model/query.js';

export interface DomainIntent {
  readonly name: string;
  readonly role: 'introspector' | 'target';
  readonly guest: GuestKind;
  /** The domain's label type, as the spec names it. */
  readonly type: string;
  /** Its `_self` type in the policy (Xen's type_transition T T:domain). */
  readonly self: string;
  /** The type of event channels it creates. */
  readonly channel: string;
  readonly span: SourceSpan;
  readonly nameSpan: SourceSpan;
  readonly typeSpan: SourceSpan;
}

export interface IntrospectorIntent extends DomainIntent {
  readonly targets: readonly DomainIntent[];
  readonly capabilities: readonly Named[];
  readonly lookup: 'domid' | 'name';
  readonly lookupSpan: SourceSpan;
}

export interface Intent {
  readonly ir: IR;
  readonly domains: readonly DomainIntent[];
  readonly introspectors: readonly IntrospectorIntent[];
  readonly targets: readonly DomainIntent[];
  /** subject type → `object class perm` → the grants (with origins) that need it, made when asked. */
  readonly needed: { get(subject: string): ReadonlyMap<string, readonly Grant[]> | undefined };
  /** Types whose rights over others are the host's business (dom0, xenstore, Xen itself). */
  readonly trusted: ReadonlySet<string>;
}

export const DEFAULT_TRUSTED = ['dom0_t', 'xenstore_t', 'xen_t', 'xenboot_t', 'domxen_t', 'domio_t', 'security_t'] as const;

export const accessKey = (object: string, cls: string, perm: string): string => `${object} ${cls} ${perm}`;

/**
 * The rules a domain needs to exist and to introspect: its declare_domain self rights, its
 * event channels with dom0, the plain rules that come with it, and its capabilities.
 * create_domain/manage_domain are dom0's rights over it, not its own.
 */
const OWN_MACROS = new Set(['declare_domain', 'domain_comms', 'domain_event_comms']);

export function buildIntent(ir: IR, model: PolicyModel, trusted: readonly string[] = DEFAULT_TRUSTED): Intent {
  const rename = renamer(ir.domains, model);
  const specByName = new Map([...ir.spec.introspectors, ...ir.spec.targets].map((s) => [s.name, s]));
  const domainOf = (d: DomainIR): DomainIntent => {
    const spec = specByName.get(d.name);
    return {
      name: d.name, role: d.role, guest: d.guest, type: d.type, self: rename(d.self), channel: rename(d.channel),
      span: d.span, nameSpan: spec?.nameSpan ?? d.span, typeSpan: spec?.typeSpan ?? d.span,
    };
  };
  const domains = ir.domains.map(domainOf);
  const byName = new Map(domains.map((d) => [d.name, d]));
  const introspectors = ir.spec.introspectors.map((s): IntrospectorIntent => ({
    ...(byName.get(s.name) as DomainIntent),
    targets: s.targets.map((t) => byName.get(t.name)).filter((t): t is DomainIntent => t !== undefined),
    capabilities: s.capabilities,
    lookup: s.lookup,
    lookupSpan: s.lookupSpan,
  }));
  const needed = new NeededAccess(ir, rename);
  return {
    ir,
    domains,
    introspectors,
    targets: domains.filter((d) => d.role === 'target'),
    needed,
    trusted: new Set(trusted.filter((t) => model.typeIndex.has(t) || model.aliases.has(t))),
  };
}

/**
 * IR names → the policy's names. Our own module declares `T_self` and `T_channel`; a
 * deployed policy computes them with its type_transition rules, which is what Xen does.
 */
function renamer(domains: readonly DomainIR[], model: PolicyModel): (name: string) => string {
  const map = new Map<string, string>();
  for (const d of domains) {
    if (!model.typeIndex.has(d.type) && !model.aliases.has(d.type)) continue;
    if (!model.typeIndex.has(d.self)) map.set(d.self, computeTransition(model, d.type, d.type, 'domain') ?? d.self);
    if (!model.typeIndex.has(d.channel)) map.set(d.channel, computeTransition(model, d.type, d.type, 'event') ?? d.channel);
  }
  return (name) => map.get(name) ?? name;
}

/** Where a subject's needed permissions come from, in the order the IR lists them. */
type NeedSource = { readonly grants: readonly Grant[] } | { readonly macro: MacroUse };

/**
 * What each subject needs: `object class perm` → the grants (with origins) that need it,
 * made when asked and not kept. On a host of 10 000 domains this is half a million
 * permissions, nearly all of them the targets' own xen.if rights, which one proof rule reads
 * once per domain: held all at once they were a sixth of a check's memory.
 */
class NeededAccess {
  /** subject (in the policy's names) → its sources; a macro use is listed under each subject it grants to. */
  private readonly sources = new Map<string, NeedSource[]>();
  /** The needs of subjects with rules of their own beyond xen.if's (introspectors), once made. */
  private readonly introspectors = new Map<string, ReadonlyMap<string, readonly Grant[]>>();

  constructor(ir: IR, private readonly rename: (name: string) => string) {
    const add = (subject: string, source: NeedSource): void => {
      const list = this.sources.get(subject);
      if (!list) this.sources.set(subject, [source]);
      else if (list[list.length - 1] !== source) list.push(source);
    };
    const bySubject = new Map<string, Grant[]>();
    for (const g of [...ir.vmiGrants, ...ir.domainRules]) {
      const subject = rename(g.subject);
      const list = bySubject.get(subject);
      if (list) list.push(g);
      else {
        const fresh = [g];
        bySubject.set(subject, fresh);
        add(subject, { grants: fresh });
      }
    }
    for (const m of ir.macroUses) {
      if (!OWN_MACROS.has(m.macro)) continue;
      const source = { macro: m };
      for (const g of m.grants) add(rename(g.subject), source);
    }
  }

  get(subject: string): ReadonlyMap<string, readonly Grant[]> | undefined {
    const known = this.introspectors.get(subject);
    if (known) return known;
    const sources = this.sources.get(subject);
    if (!sources) return undefined;
    const out = new Map<string, Grant[]>();
    for (const source of sources) {
      for (const g of 'grants' in source ? source.grants : source.macro.grants) {
        if ('macro' in source && this.rename(g.subject) !== subject) continue;
        const key = accessKey(this.rename(g.object), g.cls, g.perm);
        const list = out.get(key);
        if (list) list.push(g);
        else out.set(key, [g]);
      }
    }
    // An introspector's needs (its capabilities: thousands of permissions on a large host)
    // are asked by three proof rules: kept. A target's (its own xen.if rights) are not.
    if (sources.some((source) => 'grants' in source)) this.introspectors.set(subject, out);
    return out;
  }
}

/** Every type that stands for the domain itself: its label and its _self type. */
export function ownTypes(d: DomainIntent): readonly string[] {
  return d.self === d.type ? [d.type] : [d.type, d.self];
}
