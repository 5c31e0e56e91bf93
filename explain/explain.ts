// Xen's avc denials explained in capability terms. A denial is a question about the spec:
// which declared introspector, on which declared target, lacks which capability — or which
// domain asked for something no capability needs. audit2allow answers with a raw allow rule,
// which is how hand-written policies come to over-grant; here the answer is the smallest
// change to the spec, or a finding.
//
// Denials are grouped by (subject type, object type, class, permission): a monitor retrying a
// call prints the same denial thousands of times, and domids change with every boot while the
// labels stay. Each group is decided in this order:
// 1. the spec already grants it (the compiled IR holds the rule) → the deployed policy or the
//    domains' labels are not what the spec compiles to;
// 2. the subject is not a domain of the spec (dom0, Xen's own types, an unknown label) → the
//    host's business, not the spec's;
// 3. the subject is a target → nothing in the catalog gives a target rights over another domain;
// 4. the subject is an introspector → the catalog's capabilities whose grants (as the
//    introspector's tool uses them, catalog/tools.ts capabilityGrants) hold the permission on
//    that object — its target, itself (S_self), DOMID_XEN, or a vm_event channel
//    (compiler/lower.ts eventChannelGrants) — least privilege first; none → a finding.

import { CAPABILITIES, GUEST_KINDS, unsupportedReason, type CapabilityDef, type GuestKind, type ObjectRole, type PermissionGrant } from '../catalog/capabilities.js';
import { capabilityGrants } from '../catalog/tools.js';
import { avcLineStyle } from '../catalog/vocabulary.js';
import { compareCodePoints } from '../core/compare.js';
import { diagnostic, type Diagnostic, type SourceSpan } from '../core/diagnostics.js';
import { DOM0_CHANNEL, DOM0_TYPE, DOMXEN_TYPE, eventChannelGrants } from '../compiler/lower.js';
import { DEFAULT_TRUSTED } from '../checker/intent.js';
import type { DomainIR, Grant, IR, Origin } from '../compiler/ir.js';
import type { SpecIntrospector } from '../compiler/spec.js';
import { computeAccessVector, parseContext } from '../policy/model/access.js';
import type { PolicyModel } from '../policy/model/model.js';
import { contextType, formatDomid, readAvcLine, type AuditedContext, type AvcLineStyle, type AvcRecord } from '../formats/avc-line.js';

/** Occurrences kept per denial: the count is exact, the list is a sample for the reader. */
export const OCCURRENCES_KEPT = 5;
/** Distinct domid pairs kept per denial. */
const DOMID_PAIRS_KEPT = 8;

/** One side of a denial: the context as printed, and the spec's domain behind it. */
export interface Party {
  /** The context (or `ssid=N` / `tsid=N` when the SID had none). */
  readonly context: string;
  /** The context's type, or undefined for a SID without a context. */
  readonly type?: string;
  /** The declared domain whose label, `_self` type or channel type this is. */
  readonly domain?: string;
  readonly as?: 'domain' | 'self' | 'channel';
}

export interface Candidate {
  readonly capability: string;
  readonly summary: string;
  /** The catalog rows and hooks behind the permission in this capability. */
  readonly needs: readonly { readonly catalog: readonly string[]; readonly why: string }[];
  /** Capabilities it requires that the introspector does not declare (add them too). */
  readonly alsoAdd: readonly string[];
}

export type Explanation =
  /** The spec grants it: the policy Xen enforces, or a domain's label, is not the spec's. */
  | { readonly kind: 'granted'; readonly origins: readonly Origin[] }
  /** A declared target (or the introspector itself, or DOMID_XEN) needs a capability it lacks. */
  | { readonly kind: 'missing-capability'; readonly introspector: string; readonly target?: string; readonly object: ObjectRole | 'event-channel'; readonly candidates: readonly Candidate[]; readonly spec: SourceSpan }
  /** The introspector acted on a domain that is not its target. */
  | { readonly kind: 'not-a-target'; readonly introspector: string; readonly target?: string; readonly declared: boolean; readonly candidates: readonly Candidate[]; readonly spec: SourceSpan }
  /** No capability needs it: the domain asked for something it should not. */
  | { readonly kind: 'no-capability'; readonly why: string }
  /** The subject is not a domain of the spec. */
  | { readonly kind: 'outside-spec'; readonly why: string };

export type ExplanationKind = Explanation['kind'];

/** The order denials are listed in: what needs acting on first. */
export const EXPLANATION_ORDER: readonly ExplanationKind[] = ['no-capability', 'missing-capability', 'not-a-target', 'granted', 'outside-spec'];

/** Whether a denial is the spec's business (a finding or a change to make): `explain` exits 1 for these. */
export function concernsSpec(d: Denial): boolean {
  return d.explanation.kind !== 'outside-spec';
}

export interface Occurrence {
  readonly span: SourceSpan;
  readonly source?: number;
  readonly target?: number;
}

/**
 * What the deployed policy (explain --policy) says of a denial now: it allows it (the log is
 * older than the policy loaded, or a boolean differed), or the stage of Xen's decision that
 * refuses it (no allow rule, a constraint, the role, typebounds), or it cannot say (a type or
 * class it does not have, a SID without a context).
 */
export type DeployedAnswer = 'allowed' | 'te' | 'constraint' | 'rbac' | 'bounds' | 'unknown';

export interface Denial {
  readonly subject: Party;
  readonly object: Party;
  readonly cls: string;
  readonly perm: string;
  /** Every line that printed it. */
  readonly count: number;
  /** The first OCCURRENCES_KEPT of them. */
  readonly occurrences: readonly Occurrence[];
  /** Distinct (source, target) domids, as "d2→d1", in order of appearance. */
  readonly domids: readonly string[];
  readonly explanation: Explanation;
  /** With a deployed policy given: what it decides for this denial. */
  readonly deployed?: DeployedAnswer;
}

export interface ExplainReport {
  readonly log: string;
  readonly spec: string;
  readonly xen: string;
  readonly totals: {
    readonly lines: number;
    /** avc lines of Xen's read (denied and granted). */
    readonly avcLines: number;
    readonly deniedLines: number;
    /** auditallow lines: allowed, printed because the policy asks to audit them. */
    readonly grantedLines: number;
    /** avc-looking lines a guest printed on its own console. */
    readonly guestLines: number;
    readonly malformedLines: number;
  };
  readonly denials: readonly Denial[];
}

export interface ExplainResult {
  readonly report: ExplainReport;
  readonly diagnostics: readonly Diagnostic[];
}

/** Reads a console log and explains every denial against the compiled spec. */
export function explainLog(ir: IR, log: { readonly file: string; readonly text: string }, deployed?: PolicyModel): ExplainResult {
  const diagnostics: Diagnostic[] = [];
  const groups = new Map<string, MutableGroup>();
  const totals = { lines: 0, avcLines: 0, deniedLines: 0, grantedLines: 0, guestLines: 0, malformedLines: 0 };
  const styles = new Map<AvcLineStyle, SourceSpan>();
  const classPerms = new Map(ir.vocabulary.accessVectors);
  let offset = 0;
  const lines = log.text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    const start = offset;
    offset += line.length + 1;
    totals.lines++;
    const read = readAvcLine(line);
    if (read.kind === 'other') continue;
    const span: SourceSpan = { file: log.file, start: start + read.column, end: start + line.replace(/\r$/, '').length };
    if (read.kind === 'guest') {
      totals.guestLines++;
      if (totals.guestLines === 1) diagnostics.push(diagnostic('AvcGuestLine', [read.domid], span));
      continue;
    }
    if (read.kind === 'malformed') {
      totals.malformedLines++;
      diagnostics.push(diagnostic('AvcMalformed', [read.reason], span));
      continue;
    }
    const r = read.record;
    totals.avcLines++;
    if (!styles.has(r.style)) styles.set(r.style, span);
    if (r.word === 'granted') {
      totals.grantedLines++;
      continue;
    }
    const known = classPerms.get(r.tclass);
    const unknown = known === undefined ? `Xen ${ir.spec.xen} has no class ${r.tclass}` : r.perms.filter((p) => !known.includes(p)).map((p) => `class ${r.tclass} has no permission ${p} in Xen ${ir.spec.xen}`)[0];
    if (unknown !== undefined) {
      totals.malformedLines++;
      diagnostics.push(diagnostic('AvcUnknownPermission', [unknown], span, 'is the spec\'s xen: the release this host runs?'));
      continue;
    }
    totals.deniedLines++;
    addDenials(groups, r, span);
  }
  const expected: AvcLineStyle = avcLineStyle(ir.spec.xen);
  const other = styles.get(expected === 'pd' ? 'domid' : 'pd');
  if (other) diagnostics.push(diagnostic('AvcReleaseFormat', [expected === 'pd' ? 'up to 4.16' : 'from 4.17', ir.spec.xen], other));
  const explainer = new Explainer(ir, new Set(groups.keys()), deployed);
  const denials = [...groups.values()].map((g) => explainer.denial(g));
  const rank = (d: Denial): number => EXPLANATION_ORDER.indexOf(d.explanation.kind);
  denials.sort((a, b) => rank(a) - rank(b) || (a.occurrences[0]?.span.start ?? 0) - (b.occurrences[0]?.span.start ?? 0) || compareCodePoints(a.perm, b.perm));
  return { report: { log: log.file, spec: ir.spec.file, xen: ir.spec.xen, totals, denials }, diagnostics };
}

interface MutableGroup {
  readonly key: string;
  readonly subject: AuditedContext;
  readonly object: AuditedContext;
  readonly cls: string;
  readonly perm: string;
  count: number;
  readonly occurrences: Occurrence[];
  readonly domids: string[];
}

const printed = (c: AuditedContext, side: 's' | 't'): string => ('context' in c ? c.context : `${side}sid=${c.sid}`);
const typeOf = (c: AuditedContext): string | undefined => ('context' in c ? contextType(c.context) : undefined);
const accessKey = (subject: string, object: string, cls: string, perm: string): string => `${subject} ${object} ${cls} ${perm}`;

function addDenials(groups: Map<string, MutableGroup>, r: AvcRecord, span: SourceSpan): void {
  const s = printed(r.scontext, 's');
  const t = printed(r.tcontext, 't');
  for (const perm of r.perms) {
    const key = accessKey(typeOf(r.scontext) ?? s, typeOf(r.tcontext) ?? t, r.tclass, perm);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, subject: r.scontext, object: r.tcontext, cls: r.tclass, perm, count: 0, occurrences: [], domids: [] }));
    g.count++;
    if (g.occurrences.length < OCCURRENCES_KEPT) g.occurrences.push({ span, ...(r.source !== undefined ? { source: r.source } : {}), ...(r.target !== undefined ? { target: r.target } : {}) });
    const pair = `${r.source !== undefined ? formatDomid(r.source) : '?'}→${r.target !== undefined ? formatDomid(r.target) : r.source !== undefined ? formatDomid(r.source) : '?'}`;
    if (g.domids.length < DOMID_PAIRS_KEPT && !g.domids.includes(pair)) g.domids.push(pair);
  }
}

interface Owner {
  readonly domain: DomainIR;
  readonly as: 'domain' | 'self' | 'channel';
}

/** Types that are the host's own (Xen's stock policy), never a spec domain's. */
const HOST_TYPES = new Set<string>([...DEFAULT_TRUSTED, `${DOM0_TYPE}_self`, DOM0_CHANNEL]);

class Explainer {
  private readonly owners = new Map<string, Owner>();
  private readonly introspectors: ReadonlyMap<string, SpecIntrospector>;
  /** The IR's grants for the keys the log denies, with their origins. */
  private readonly granted = new Map<string, Origin[]>();

  /** The deployed policy's decisions, per (scontext, tcontext, class). */
  private readonly decisions = new Map<string, ReturnType<typeof computeAccessVector> | undefined>();

  constructor(private readonly ir: IR, keys: ReadonlySet<string>, private readonly deployed?: PolicyModel) {
    for (const d of ir.domains) {
      this.owners.set(d.type, { domain: d, as: 'domain' });
      this.owners.set(d.self, { domain: d, as: 'self' });
      this.owners.set(d.channel, { domain: d, as: 'channel' });
    }
    this.introspectors = new Map(ir.spec.introspectors.map((i) => [i.name, i]));
    const note = (g: Grant): void => {
      const key = accessKey(g.subject, g.object, g.cls, g.perm);
      if (!keys.has(key)) return;
      const list = this.granted.get(key);
      if (list) {
        if (!list.includes(g.origin)) list.push(g.origin);
      } else this.granted.set(key, [g.origin]);
    };
    for (const use of ir.macroUses) use.grants.forEach(note);
    ir.domainRules.forEach(note);
    ir.vmiGrants.forEach(note);
  }

  denial(g: MutableGroup): Denial {
    const party = (c: AuditedContext, side: 's' | 't'): Party => {
      const type = typeOf(c);
      const owner = type === undefined ? undefined : this.owners.get(type);
      return { context: printed(c, side), ...(type !== undefined ? { type } : {}), ...(owner ? { domain: owner.domain.name, as: owner.as } : {}) };
    };
    const { key, cls, perm, count, occurrences, domids } = g;
    const deployed = this.deployedAnswer(g.subject, g.object, cls, perm);
    return { subject: party(g.subject, 's'), object: party(g.object, 't'), cls, perm, count, occurrences, domids, explanation: this.explain(key, typeOf(g.subject), typeOf(g.object), cls, perm), ...(deployed ? { deployed } : {}) };
  }

  /** Xen's decision under the deployed policy, for the contexts the line printed. */
  private deployedAnswer(s: AuditedContext, t: AuditedContext, cls: string, perm: string): DeployedAnswer | undefined {
    if (!this.deployed) return undefined;
    if (!('context' in s) || !('context' in t)) return 'unknown';
    const key = `${s.context} ${t.context} ${cls}`;
    if (!this.decisions.has(key)) {
      const sc = parseContext(s.context);
      const tc = parseContext(t.context);
      this.decisions.set(key, sc && tc ? computeAccessVector(this.deployed, sc, tc, cls) : undefined);
    }
    const d = this.decisions.get(key);
    if (!d || d.error !== undefined || !d.classPerms.includes(perm)) return 'unknown';
    return d.allowed.includes(perm) ? 'allowed' : d.deniedBy.get(perm) ?? 'te';
  }

  private explain(key: string, stype: string | undefined, ttype: string | undefined, cls: string, perm: string): Explanation {
    if (stype === undefined || ttype === undefined) {
      return { kind: 'outside-spec', why: 'Xen printed a SID without a context: the policy loaded when it was printed did not know it' };
    }
    const origins = this.granted.get(key);
    if (origins) return { kind: 'granted', origins };
    const subject = this.owners.get(stype);
    if (!subject) {
      return { kind: 'outside-spec', why: HOST_TYPES.has(stype) ? `${stype} is the host's own type (dom0, Xen, xenstore), not a domain of the spec` : `no domain of the spec is labelled ${stype}` };
    }
    const object = this.owners.get(ttype);
    if (subject.as === 'channel' || object?.as === 'channel' || cls === 'event') return this.eventChannel(subject, object, stype, ttype, cls, perm);
    const introspector = this.introspectors.get(subject.domain.name);
    if (subject.domain.role !== 'introspector' || !introspector) {
      return { kind: 'no-capability', why: `${subject.domain.name} is a target: vmipolicy grants a target nothing over other domains, and no capability needs ${cls}:${perm}` };
    }
    if (object && object.domain !== subject.domain && object.domain.role === 'introspector') {
      return { kind: 'no-capability', why: `${object.domain.name} is an introspector: a spec never lets one introspector act on another, and no capability needs ${cls}:${perm} on it` };
    }
    const role: ObjectRole | undefined = ttype === DOMXEN_TYPE ? 'domxen' : object?.domain === subject.domain ? 'self' : object?.as === 'domain' || (!object && !HOST_TYPES.has(ttype)) ? 'target' : undefined;
    if (role === undefined) {
      return { kind: 'no-capability', why: `no capability gives an introspector ${cls}:${perm} on ${ttype}` };
    }
    const targetDomain = role === 'target' ? object?.domain : undefined;
    const kinds = role === 'target' ? (targetDomain ? [targetDomain.guest] : GUEST_KINDS) : this.targetKindsOf(introspector);
    const candidates = this.candidates(introspector, kinds, needsOfGrants((g) => g.object === role && g.cls === cls && g.perms.includes(perm)));
    const none = (): Explanation => ({ kind: 'no-capability', why: `no capability gives an introspector ${cls}:${perm} on ${role === 'target' ? 'a target' : role === 'self' ? 'itself' : 'DOMID_XEN'}` });
    if (candidates.length === 0) return none();
    if (role === 'target' && !introspector.targets.some((t) => t.name === targetDomain?.name)) {
      return { kind: 'not-a-target', introspector: introspector.name, ...(targetDomain ? { target: targetDomain.name } : {}), declared: targetDomain !== undefined, candidates, spec: targetsSpan(introspector) };
    }
    return { kind: 'missing-capability', introspector: introspector.name, ...(targetDomain ? { target: targetDomain.name } : {}), object: role, candidates, spec: capabilitiesSpan(introspector) };
  }

  /** The vm_event channel rules: between an introspector and a domain, either way round. */
  private eventChannel(subject: Owner, object: Owner | undefined, stype: string, ttype: string, cls: string, perm: string): Explanation {
    const pairs = object ? [[subject.domain, object.domain], [object.domain, subject.domain]] : [];
    for (const [a, b] of pairs) {
      const introspector = a && this.introspectors.get(a.name);
      if (!introspector || !b || a === b) continue;
      const span = introspector.span;
      const rule = eventChannelGrants(a as DomainIR, b, [], span).find((g) => g.subject === stype && g.object === ttype && g.cls === cls && g.perm === perm);
      if (rule?.origin.kind !== 'event-channel') continue;
      const need: Need = { catalog: rule.origin.catalog, why: rule.origin.why };
      const candidates = this.candidates(introspector, [b.guest], (cap) => (cap.eventChannel ? [need] : []));
      if (candidates.length === 0) break;
      if (!introspector.targets.some((t) => t.name === b.name)) return { kind: 'not-a-target', introspector: introspector.name, target: b.name, declared: true, candidates, spec: targetsSpan(introspector) };
      return { kind: 'missing-capability', introspector: introspector.name, target: b.name, object: 'event-channel', candidates, spec: capabilitiesSpan(introspector) };
    }
    return { kind: 'no-capability', why: `no capability needs ${cls}:${perm} from ${stype} to ${ttype}: vm_event channels run between an introspector and its target only` };
  }

  private targetKindsOf(introspector: SpecIntrospector): readonly GuestKind[] {
    const byName = new Map(this.ir.domains.map((d) => [d.name, d.guest]));
    const kinds = new Set(introspector.targets.map((t) => byName.get(t.name)).filter((k): k is GuestKind => k !== undefined));
    return kinds.size > 0 ? GUEST_KINDS.filter((k) => kinds.has(k)) : GUEST_KINDS;
  }

  /**
   * The capabilities (as the introspector's tool uses them) that would grant the permission on
   * a target of one of `kinds`, least privilege first: fewest permissions, then catalog order.
   * `needs` says what in a capability's grants holds the permission (none: not this one).
   */
  private candidates(introspector: SpecIntrospector, kinds: readonly GuestKind[], needsOf: (cap: CapabilityDef, grants: readonly PermissionGrant[]) => readonly Need[]): Candidate[] {
    const declared = new Set([...introspector.capabilities.map((c) => c.name), ...introspector.implied]);
    const found: { candidate: Candidate; size: number; index: number }[] = [];
    CAPABILITIES.forEach((cap, index) => {
      let size = Infinity;
      const needs: Need[] = [];
      for (const target of kinds) {
        const ctx = { xen: this.ir.spec.xen, introspector: introspector.guest, target };
        if (unsupportedReason(cap, ctx) !== undefined) continue;
        const grants = capabilityGrants(cap, ctx, introspector.tool);
        const hits = needsOf(cap, grants);
        if (hits.length === 0) continue;
        size = Math.min(size, grants.reduce((n, g) => n + g.perms.length, 0));
        for (const h of hits) if (!needs.some((n) => n.why === h.why)) needs.push(h);
      }
      if (needs.length === 0) return;
      const alsoAdd = cap.requires.filter((r) => !declared.has(r));
      found.push({ candidate: { capability: cap.name, summary: cap.summary, needs, alsoAdd }, size, index });
    });
    return found.sort((a, b) => a.size - b.size || a.index - b.index).map((f) => f.candidate);
  }
}

type Need = Candidate['needs'][number];

/** Where a capability would be added: after the last one listed (else the introspector's entry). */
const capabilitiesSpan = (i: SpecIntrospector): SourceSpan => i.capabilities.filter((c) => !i.implied.includes(c.name)).pop()?.span ?? i.span;
/** Where a target would be added: after the last one listed. */
const targetsSpan = (i: SpecIntrospector): SourceSpan => i.targets[i.targets.length - 1]?.span ?? i.span;

const needsOfGrants = (holds: (g: PermissionGrant) => boolean) => (_: CapabilityDef, grants: readonly PermissionGrant[]): Need[] =>
  grants.filter(holds).map((g) => ({ catalog: g.catalog, why: g.why }));
