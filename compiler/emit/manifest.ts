// manifest.json: every grant the policy makes — subject, object, class, permissions — with
// the policy line that makes it and the reason it exists (capability and spec position, or
// the xen.if relationship / host base it comes from). The input for check and diff.
//
// Format 2 keeps the provenance in two shared tables, `reasons` (what a catalog entry or
// xen.if macro grants and why: the same for every target it applies to) and `origins` (one
// reason applied at one place of the spec, to named domains), and each grant's justification
// refers to an origin by index. Format 1 repeated the whole provenance in every
// justification: at 10 000 targets that was 199 MB and most of the compile's time. The
// grants are written as they are made, in policy order, one (subject, object) per line; the
// tables come after them, numbered in order of first use, so nothing is held back.

import type { SourceSpan } from '../../core/diagnostics.js';
import type { DomainIR, Grant, IR, Origin } from '../ir.js';
import { positionAt, type SourceText } from '../../core/source.js';
import { VERSION } from '../version.js';
import { macroMark } from './module.js';
import { formatJson, LazyText, writeJson, type TextSink } from './json.js';
import { macroUseRules, printedRuleOf } from './te-rules.js';
import type { PrintedPolicy } from './writer.js';
import type { OriginRun, PrintedRule } from './te-rules.js';
import { originKey } from '../lower.js';
import { ByOrigin } from '../origin-map.js';
import { compareCodePoints } from '../../core/compare.js';

const MANIFEST_FORMAT = 2;
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

/** What an origin shares with every other use of the same catalog entry or macro: `reasons`. */
function reasonOf(o: Origin): Record<string, string | readonly string[]> {
  switch (o.kind) {
    case 'capability':
      return { kind: o.kind, capability: o.capability, catalog: o.catalog, why: o.why };
    case 'event-channel':
      return { kind: o.kind, capabilities: o.capabilities, catalog: o.catalog, why: o.why };
    case 'xen-macro':
      return { kind: o.kind, macro: o.macro };
    case 'domain-rule':
    case 'host-base':
      return { kind: o.kind, why: o.why };
  }
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether reasonOf gives the same for both. */
function sameReason(a: Origin, b: Origin): boolean {
  switch (a.kind) {
    case 'capability':
      return b.kind === a.kind && b.capability === a.capability && sameList(b.catalog, a.catalog) && b.why === a.why;
    case 'event-channel':
      return b.kind === a.kind && sameList(b.capabilities, a.capabilities) && sameList(b.catalog, a.catalog) && b.why === a.why;
    case 'xen-macro':
      return b.kind === a.kind && b.macro === a.macro;
    case 'domain-rule':
    case 'host-base':
      return b.kind === a.kind && b.why === a.why;
  }
}

/** The domains (or, for a macro, the domain and the macro's arguments) an origin names. */
function namesOf(o: Origin): readonly string[] {
  switch (o.kind) {
    case 'capability':
    case 'event-channel':
      return [o.introspector, o.target];
    case 'xen-macro':
      return [o.domain, ...o.args];
    case 'domain-rule':
      return [o.domain];
    case 'host-base':
      return [];
  }
}

/** The compiled policy as the manifest reads it: its file name, rules and marked lines. */
type PolicyFile = Pick<PrintedPolicy, 'rules' | 'lineOf'> & { readonly file: string };

interface Reason { perms: string[]; rule: number; origin: Origin }
interface Entry { subject: string; object: string; class: string; perms: string[]; reasons: Reason[] }

/**
 * A map by string of the few values an entry has (one or two reasons, mostly), as a list;
 * a Map once it grows (dom0's channel has a reason per domain). A Map per entry was most of
 * the garbage of a large manifest.
 */
class SmallMap<T> {
  private list: [string, T][] = [];
  private map: Map<string, T> | undefined;

  get(key: string): T | undefined {
    if (this.map) return this.map.get(key);
    for (const [k, v] of this.list) if (k === key) return v;
    return undefined;
  }

  set(key: string, value: T): void {
    if (this.map) this.map.set(key, value);
    else if (this.list.push([key, value]) > 8) {
      this.map = new Map(this.list);
      this.list = [];
    }
  }
}

/**
 * Grants made by one line of the policy: an allow rule as printed, or, in a module, the
 * rules of one xen.if macro call (the call is the line that makes them).
 */
type Piece = PrintedRule;

/** One reason of an entry gathered by bits: its key, the first origin with its lowest bit, that origin's line, all its bits. */
interface GatheredBits {
  readonly key: string;
  origin: Origin;
  rule: number;
  rank: number;
  bits: number;
}

/**
 * The reasons of one entry (its rules, in the order printed), each origin key's permissions
 * as bits, in the order of their lowest bit, then of their key; with every permission's bits.
 * Undefined when a permission is not the class's.
 */
function reasonsByBits(pieces: readonly Piece[], cls: string, vocab: IR['vocabulary'], keyOf: (o: Origin) => string): { reasons: GatheredBits[]; bits: number } | undefined {
  const gathered = new SmallMap<GatheredBits>();
  const reasons: GatheredBits[] = [];
  let all = 0;
  const consider = (origin: Origin, bits: number, line: number): void => {
    all |= bits;
    const rank = 31 - Math.clz32(bits & -bits);
    const key = keyOf(origin);
    const known = gathered.get(key);
    if (!known) {
      const r: GatheredBits = { key, origin, rule: line, rank, bits };
      gathered.set(key, r);
      reasons.push(r);
    } else {
      if (rank < known.rank) Object.assign(known, { origin, rule: line, rank });
      known.bits |= bits;
    }
  };
  for (const piece of pieces) {
    if (piece.origin !== undefined) consider(piece.origin, piece.bits, piece.line);
    else {
      for (const run of piece.runs as readonly OriginRun[]) {
        const bits = vocab.permBits(cls, run.perms);
        if (bits === undefined) return undefined;
        consider(run.origin, bits, piece.line);
      }
    }
  }
  if (reasons.length > 1) reasons.sort((a, b) => a.rank - b.rank || compareCodePoints(a.key, b.key));
  return { reasons, bits: all >>> 0 };
}

/**
 * The grants merged per (subject, object, class), in policy order (lower.ts sortGrants:
 * subject, object, class, permission bit, then origin), made one entry at a time, from the
 * rules as the emitter printed them, each with its line: no rule is looked up by name, and
 * no grant is made again. An entry's permissions are in bit order; its reasons (one per
 * origin key) in the order of their lowest bit, then of their key, which is the order in
 * which sortGrants's order first meets them; each keeps the first origin printed with its
 * lowest bit.
 */
function* grantEntries(ir: IR, policy: PolicyFile): Generator<Entry> {
  const { spec, vocabulary: vocab } = ir;
  // Grouped by subject, each subject's rules then sorted by object and class (a stable sort:
  // one entry's rules stay in the order printed). A map per object and per class was
  // 300 000 maps at 10 000 domains, most of a key or two.
  const bySubject = new Map<string, Piece[]>();
  const add = (p: Piece): void => {
    const list = bySubject.get(p.subject);
    if (list) list.push(p);
    else bySubject.set(p.subject, [p]);
  };
  for (const r of policy.rules) add(r);
  if (spec.mode === 'module') {
    for (const m of ir.macroUses) {
      const line = policy.lineOf(macroMark(m));
      if (line === undefined) throw new Error(`internal: no policy line for ${macroMark(m)}`);
      for (const r of macroUseRules(m, vocab)) add(printedRuleOf(r, m.origin, line));
    }
  }

  const classRank = new Map(vocab.classes.map((c, i) => [c, i]));
  // A few hundred distinct lists make up the permissions of 200 000 entries: each is made
  // once and shared (no reader changes one), and grantsText prints each once.
  const listsByClass = new Map<string, Map<number, string[]>>();
  const permsOf = (cls: string, bits: number): string[] => {
    let lists = listsByClass.get(cls);
    if (!lists) listsByClass.set(cls, (lists = new Map()));
    let list = lists.get(bits);
    if (!list) lists.set(bits, (list = vocab.permsOfBits(cls, bits)));
    return list;
  };
  const byClass = (a: string, b: string): number => (classRank.get(a) ?? 99) - (classRank.get(b) ?? 99) || compareCodePoints(a, b);
  // Keys are cached per origin: a host has hundreds of thousands of rules but only
  // thousands of distinct reasons.
  const originKeys = new ByOrigin<string>();
  const keyOf = (o: Origin): string => {
    let ok = originKeys.get(o);
    if (ok === undefined) originKeys.set(o, (ok = originKey(o)));
    return ok;
  };
  const byObjectAndClass = (a: Piece, b: Piece): number => compareCodePoints(a.object, b.object) || byClass(a.cls, b.cls);
  for (const subject of [...bySubject.keys()].sort(compareCodePoints)) {
    const rules = bySubject.get(subject) as Piece[];
    bySubject.delete(subject);
    if (rules.length > 1) rules.sort(byObjectAndClass);
    for (let at = 0; at < rules.length; ) {
      const first = rules[at] as Piece;
      const { object, cls } = first;
      let end = at + 1;
      while (end < rules.length && (rules[end] as Piece).object === object && (rules[end] as Piece).cls === cls) end++;
      const count = end - at;
      at = end;
      // Most entries are one rule of one origin (a macro's template line): nothing to gather.
      if (count === 1 && first.origin !== undefined) {
        const perms = permsOf(cls, first.bits);
        yield { subject, object, class: cls, perms, reasons: [{ perms, rule: first.line, origin: first.origin }] };
        continue;
      }
      const gathered = reasonsByBits(rules.slice(end - count, end), cls, vocab, keyOf);
      // lower.ts refuses a permission the release lacks (checkVocabulary): none comes here.
      if (!gathered) throw new Error(`internal: ${subject} ${object}:${cls} grants a permission its class does not have`);
      yield {
        subject,
        object,
        class: cls,
        perms: permsOf(cls, gathered.bits),
        reasons: gathered.reasons.map((r) => ({ perms: permsOf(cls, r.bits >>> 0), rule: r.rule, origin: r.origin })),
      };
    }
  }
}

/**
 * The manifest's grants as data, for a caller that compares them rather than writing them
 * (the spec diff): the same entries, permissions and policy lines as manifest.json's
 * `grants`, one reason per justification in the same order, each keeping the IR's origin
 * that the justification's row of `origins` spells out.
 */
export interface ManifestEntry {
  readonly subject: string;
  readonly object: string;
  readonly class: string;
  readonly permissions: readonly string[];
  readonly reasons: readonly { readonly permissions: readonly string[]; readonly rule: number; readonly origin: Origin }[];
}

export function manifestEntries(ir: IR, policy: PolicyFile): ManifestEntry[] {
  return [...grantEntries(ir, policy)].map((e) => ({
    subject: e.subject,
    object: e.object,
    class: e.class,
    permissions: e.perms,
    reasons: e.reasons.map((r) => ({ permissions: r.perms, rule: r.rule, origin: r.origin })),
  }));
}

export function emitManifest(ir: IR, source: SourceText, policy: PolicyFile, files: readonly string[]): string {
  return formatJson(manifestValue(ir, source, policy, files), '\n');
}

/**
 * The same text as emitManifest, handed to `sink` in chunks as it is made. Its grants are
 * built as they are written, so each call builds them afresh.
 */
export function manifestWriter(ir: IR, source: SourceText, policy: PolicyFile, files: readonly string[]): (sink: TextSink) => void {
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

/** One line of JSON, as json.ts lays out a short flat value. */
function inline(v: string | number | readonly (string | number)[] | Record<string, string | readonly string[]>): string {
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
  return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`).join(', ')} }`;
}

/**
 * The shared tables, filled while the grants are written: each distinct reason and origin
 * gets the next index the first time a justification uses it, so equal input numbers them
 * equally.
 */
class Provenance {
  readonly reasons: string[] = [];
  readonly origins: string[] = [];
  private readonly reasonsByText = new Map<string, { origin: Origin; index: number }[]>();
  private readonly originIndex = new Map<string, number>();
  /** Per origin object of the IR: most grants share theirs with thousands of others. */
  private readonly byObject = new ByOrigin<number>();
  grantsWritten = false;

  constructor(private readonly source: SourceText) {}

  /**
   * The origins last looked up, most recent first: an entry's neighbours mostly share its
   * origins (a macro use's rules on one object come one after another), and a look-up in a
   * map of 200 000 objects costs more than a few comparisons.
   */
  private readonly recent: { origin: Origin | undefined; index: number }[] = Array.from({ length: 4 }, () => ({ origin: undefined, index: -1 }));

  indexOf(o: Origin): number {
    const recent = this.recent;
    for (let i = 0; i < recent.length; i++) {
      const hit = recent[i] as { origin: Origin | undefined; index: number };
      if (hit.origin === o) return hit.index;
    }
    const index = this.lookUp(o);
    const slot = recent.pop() as { origin: Origin | undefined; index: number };
    slot.origin = o;
    slot.index = index;
    recent.unshift(slot);
    return index;
  }

  private lookUp(o: Origin): number {
    const known = this.byObject.get(o);
    if (known !== undefined) return known;
    const r = this.reasonOf(o);
    let row = `[${r}`;
    if (o.kind !== 'host-base') {
      const p = at(this.source, o.span);
      row += `, ${p.line}, ${p.column}`;
    }
    for (const name of namesOf(o)) row += `, ${JSON.stringify(name)}`;
    row += ']';
    // An origin lower() numbered says what no other does (Origin.id): its row is new. Others
    // (the host base's, one per rule) are found by their text.
    let i = o.id === undefined ? this.originIndex.get(row) : undefined;
    if (i === undefined) {
      i = this.origins.length;
      if (o.id === undefined) this.originIndex.set(row, i);
      this.origins.push(row);
    }
    this.byObject.set(o, i);
    return i;
  }

  /**
   * Found by the reason's sentence (or macro), whose strings the IR shares between all its
   * uses, then by its other fields: cheaper than printing each origin's reason to look it up.
   */
  private reasonOf(o: Origin): number {
    const text = o.kind === 'xen-macro' ? o.macro : o.why;
    let list = this.reasonsByText.get(text);
    if (!list) this.reasonsByText.set(text, (list = []));
    for (const known of list) if (sameReason(known.origin, o)) return known.index;
    const index = this.reasons.length;
    this.reasons.push(inline(reasonOf(o)));
    list.push({ origin: o, index });
    return index;
  }

  /** A table as a list of one-line items; only once the grants, which fill it, are written. */
  table(rows: () => readonly string[]): LazyText {
    return new LazyText((push, indent) => {
      if (!this.grantsWritten) throw new Error('internal: a manifest table was written before the grants that fill it');
      const list = rows();
      if (list.length === 0) return push('[]');
      push('[\n');
      list.forEach((row, i) => push(`${indent}  ${row}${i < list.length - 1 ? ',' : ''}\n`));
      push(`${indent}]`);
    });
  }
}

/**
 * `grants`: subject → object → class → { permissions, justification }, one (subject, object)
 * per line. A justification is [origin, policy line, ...positions in `permissions` of the
 * ones it accounts for], the positions left out when it accounts for all of them.
 */
/** How many permission lists' JSON grantsText remembers by identity. */
const MAX_PRINTED_LISTS = 4096;

function grantsText(ir: IR, policy: PolicyFile, tables: Provenance): LazyText {
  return new LazyText((push, indent) => {
    const pairIndent = `${indent}    `;
    let subject: string | undefined;
    let object: string | undefined;
    let classes: string[] = [];
    const printed = new Map<readonly string[], string>();
    const classJson = new Map<string, string>();
    const endPair = (last: boolean): void => {
      if (object !== undefined) push(`${pairIndent}${JSON.stringify(object)}: { ${classes.join(', ')} }${last ? '' : ','}\n`);
      classes = [];
    };
    for (const e of grantEntries(ir, policy)) {
      if (e.subject !== subject) {
        if (subject === undefined) push('{\n');
        else {
          endPair(true);
          push(`${indent}  },\n`);
        }
        push(`${indent}  ${JSON.stringify(e.subject)}: {\n`);
        subject = e.subject;
        object = undefined;
      } else if (e.object !== object) endPair(false);
      object = e.object;
      const perms = e.perms;
      let permsText = printed.get(perms);
      if (permsText === undefined) {
        permsText = inline(perms);
        // Only the shared lists (grantEntries permsOf) come again: remember those.
        if (printed.size < MAX_PRINTED_LISTS) printed.set(perms, permsText);
      }
      let classText = classJson.get(e.class);
      if (classText === undefined) classJson.set(e.class, (classText = JSON.stringify(e.class)));
      const only = e.reasons.length === 1 ? (e.reasons[0] as Reason) : undefined;
      // One reason for all the permissions, most entries: no list to make and join.
      const justification =
        only && only.perms.length === perms.length
          ? `[${tables.indexOf(only.origin)}, ${only.rule}]`
          : e.reasons
              .map((r) => {
                const head = `${tables.indexOf(r.origin)}, ${r.rule}`;
                if (r.perms.length === perms.length) return `[${head}]`;
                // Both lists are in bit order, so the positions come out ascending.
                return `[${head}, ${r.perms.map((p) => perms.indexOf(p)).join(', ')}]`;
              })
              .join(', ');
      classes.push(`${classText}: { "permissions": ${permsText}, "justification": [${justification}] }`);
    }
    if (subject === undefined) push('{}');
    else {
      endPair(true);
      push(`${indent}  }\n${indent}}`);
    }
    tables.grantsWritten = true;
  });
}

function manifestValue(ir: IR, source: SourceText, policy: PolicyFile, files: readonly string[]): Record<string, unknown> {
  const { spec } = ir;
  const outline = manifestOutline(ir);
  // The grants are written as they are made, one entry at a time: all of them as objects at
  // once took gigabytes at 10 000 targets. The tables they fill follow them.
  const tables = new Provenance(source);
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
    grants: grantsText(ir, policy, tables),
    reasons: tables.table(() => tables.reasons),
    origins: tables.table(() => tables.origins),
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
