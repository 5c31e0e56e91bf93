// Printing TE statements from IR pieces, shared by the module and standalone emitters.

import type { Vocabulary } from '../../catalog/vocabulary.js';
import type { Grant, MacroTemplate, MacroUse, Origin, TypeDecl, TypeTransition } from '../ir.js';
import { originKey } from '../lower.js';
import type { TextWriter } from './writer.js';

/** The permissions one origin gives in a rule, in the order its grants came. */
export interface OriginRun {
  readonly origin: Origin;
  readonly perms: string[];
}

/**
 * Grants merged into one allow statement: one (subject, object, class), with the
 * permissions of each origin (in first-seen order) rather than the grants themselves: a
 * 10 000-domain host's policy merges a million grants, and the manifest keeps every rule
 * until it is written.
 */
interface AllowRule {
  readonly subject: string;
  readonly object: string;
  readonly cls: string;
  readonly perms: readonly string[];
  readonly runs: readonly OriginRun[];
  /** The permissions as Vocabulary.permBits gives them, when the rule has one origin. */
  readonly bits: number | undefined;
}

/**
 * An allow rule as the manifest keeps it until it is written (400 000 of them at 10 000
 * domains): its line and what each origin gives. A rule of one origin, most of them (a
 * macro's template line), keeps that origin and its permissions as bits (Vocabulary.permBits)
 * rather than four small objects; another keeps its runs.
 */
export interface PrintedRule {
  readonly subject: string;
  readonly object: string;
  readonly cls: string;
  readonly line: number;
  readonly origin: Origin | undefined;
  readonly bits: number;
  readonly runs: readonly OriginRun[] | undefined;
}

/** What the manifest keeps of `rule`, printed on `line`. */
function printedRule(rule: AllowRule, line: number): PrintedRule {
  if (rule.bits !== undefined) return printedRuleOf(rule, (rule.runs[0] as OriginRun).origin, line);
  const { subject, object, cls, runs } = rule;
  return { subject, object, cls, line, origin: undefined, bits: 0, runs };
}

function ruleKey(subject: string, object: string, cls: string): string {
  return `${subject} ${object}:${cls}`;
}

/** Adds `g` to the runs of its rule: to the last run when it has the same origin (a template line's run of permissions), else to that origin's run. */
function addToRuns(runs: OriginRun[], g: Grant): void {
  let run = runs[runs.length - 1];
  if (run?.origin !== g.origin) run = runs.find((r) => r.origin === g.origin);
  if (!run) runs.push({ origin: g.origin, perms: [g.perm] });
  else if (!run.perms.includes(g.perm)) run.perms.push(g.perm);
}

/** Merges grants (already sorted) into allow rules, keeping first-seen order. */
export function mergeGrants(grants: readonly Grant[], vocab: Vocabulary): AllowRule[] {
  const groups = new Map<string, { first: Grant; runs: OriginRun[] }>();
  // Grants of one rule mostly come one after another (a template line expands to a run of
  // permissions): a key is made only where the run changes, not once per permission.
  let group: { first: Grant; runs: OriginRun[] } | undefined;
  let last: Grant | undefined;
  for (const g of grants) {
    if (!group || !last || g.subject !== last.subject || g.object !== last.object || g.cls !== last.cls) {
      const key = ruleKey(g.subject, g.object, g.cls);
      group = groups.get(key);
      if (!group) groups.set(key, (group = { first: g, runs: [] }));
    }
    addToRuns(group.runs, g);
    last = g;
  }
  return [...groups.values()].map(({ first, runs }) => ({
    subject: first.subject,
    object: first.object,
    cls: first.cls,
    perms: vocab.sortPerms(first.cls, runs.length === 1 ? (runs[0] as OriginRun).perms : runs.flatMap((r) => r.perms)),
    runs,
    bits: runs.length === 1 ? vocab.permBits(first.cls, (runs[0] as OriginRun).perms) : undefined,
  }));
}

/** A rule of one origin: its permissions sorted, and as Vocabulary.permBits gives them. */
interface OneOriginRule {
  readonly subject: string;
  readonly object: string;
  readonly cls: string;
  readonly perms: readonly string[];
  readonly bits: number | undefined;
}

type SymbolicRule = Omit<OneOriginRule, 'subject' | 'object'> & { readonly s: string | number; readonly o: string | number; readonly set: string };

/** Each template's rules merged (mergeGrants's rules, with slots for names), once per template and release. */
const mergedTemplates = new WeakMap<MacroTemplate, { readonly vocab: Vocabulary; readonly rules: readonly SymbolicRule[]; readonly names: ReadonlySet<string> }>();

function mergedTemplate(template: MacroTemplate, vocab: Vocabulary): { readonly rules: readonly SymbolicRule[]; readonly names: ReadonlySet<string> } {
  const known = mergedTemplates.get(template);
  if (known?.vocab === vocab) return known;
  const groups = new Map<string, { s: string | number; o: string | number; cls: string; perms: string[] }>();
  const names = new Set<string>();
  for (const [s, o, cls, perms] of template.rules) {
    for (const n of [s, o]) if (typeof n === 'string') names.add(n);
    const key = `${typeof s === 'number' ? `$${s}` : s} ${typeof o === 'number' ? `$${o}` : o}:${cls}`;
    const group = groups.get(key);
    if (group) group.perms.push(...perms);
    else groups.set(key, { s, o, cls, perms: [...perms] });
  }
  const rules = [...groups.values()].map(({ s, o, cls, perms }) => {
    const sorted = vocab.sortPerms(cls, perms);
    return { s, o, cls, perms: sorted, bits: vocab.permBits(cls, perms), set: permSet(sorted) };
  });
  const made = { vocab, rules, names };
  mergedTemplates.set(template, made);
  return made;
}

/**
 * A macro use's allow rules: what mergeGrants makes of its grants, in the same order, made
 * from its template's rules merged once. Merging by slot is merging by name when the slots'
 * names are distinct from each other and from the names the template spells out; otherwise
 * (no spec can give a domain such a type) its grants are merged.
 */
export function macroUseRules(use: MacroUse, vocab: Vocabulary): readonly OneOriginRule[] {
  const merged = mergedBySlot(use, vocab);
  if (!merged) return mergeGrants(use.grants, vocab);
  const slots = use.slots;
  const name = (n: string | number): string => (typeof n === 'number' ? (slots[n] as string) : n);
  return merged.map((r) => ({ subject: name(r.s), object: name(r.o), cls: r.cls, perms: r.perms, bits: r.bits }));
}

/** The template's merged rules, when merging by slot is merging by name for this use (see macroUseRules). */
function mergedBySlot(use: MacroUse, vocab: Vocabulary): readonly SymbolicRule[] | undefined {
  const { rules, names } = mergedTemplate(use.template, vocab);
  const slots = use.slots;
  const distinct = new Set(slots).size === slots.length && slots.every((n) => !names.has(n));
  return distinct ? rules : undefined;
}

/** Prints a macro use's rules (standalone mode), each recorded with the use's origin. */
export function printMacroUse(w: TextWriter, use: MacroUse, vocab: Vocabulary): void {
  const merged = mergedBySlot(use, vocab);
  if (!merged) {
    for (const r of mergeGrants(use.grants, vocab)) printAllow(w, r);
    return;
  }
  // macroUseRules's rules, printed as they are named: 400 000 of them at 10 000 domains.
  const slots = use.slots;
  for (const r of merged) {
    const subject = typeof r.s === 'number' ? (slots[r.s] as string) : r.s;
    const object = typeof r.o === 'number' ? (slots[r.o] as string) : r.o;
    if (w.marking) w.record(printedRuleOf({ subject, object, cls: r.cls, perms: r.perms, bits: r.bits }, use.origin, w.nextLine));
    w.line(allowText(subject, object, r.cls, r.set));
  }
}

/** What the manifest keeps of a rule of one origin, printed on `line` (see printedRule). */
export function printedRuleOf(r: OneOriginRule, origin: Origin, line: number): PrintedRule {
  const { subject, object, cls } = r;
  if (r.bits !== undefined) return { subject, object, cls, line, origin, bits: r.bits, runs: undefined };
  return { subject, object, cls, line, origin: undefined, bits: 0, runs: [{ origin, perms: [...r.perms] }] };
}

/** A rule's permissions as the policy prints them: one alone, several in braces. */
function permSet(perms: readonly string[]): string {
  return perms.length === 1 ? (perms[0] as string) : `{ ${perms.join(' ')} }`;
}

function allowText(subject: string, object: string, cls: string, set: string): string {
  return `allow ${subject} ${object}:${cls} ${set};`;
}

/** Prints one allow, recorded with its grants so the manifest can point at this line. */
export function printAllow(w: TextWriter, rule: AllowRule): void {
  if (w.marking) w.record(printedRule(rule, w.nextLine));
  w.line(allowText(rule.subject, rule.object, rule.cls, permSet(rule.perms)));
}

export function printTypes(w: TextWriter, types: readonly TypeDecl[]): void {
  for (const t of types) w.line(`type ${t.name}${t.attributes.length ? ', ' + t.attributes.join(', ') : ''};`);
}

export function printTransitions(w: TextWriter, transitions: readonly TypeTransition[]): void {
  for (const t of transitions) w.line(`type_transition ${t.source} ${t.target}:${t.cls} ${t.result};`);
}

/**
 * One comment line per reason a rule exists, e.g.
 * `# read-memory on ubuntu → map_read map_write (catalog B2 B4 B5)`. Reasons are grouped by origin so a
 * reviewer sees which declared capability each permission answers to.
 */
export function reasonComments(rule: AllowRule): string[] {
  // Runs of one origin are one reason: no key to make (most rules have one).
  if (rule.runs.length === 1) return [reasonText((rule.runs[0] as OriginRun).origin, '')];
  const byOrigin = new Map<string, { origin: Origin; perms: string[] }>();
  for (const run of rule.runs) {
    const key = originKey(run.origin);
    const entry = byOrigin.get(key);
    if (!entry) byOrigin.set(key, { origin: run.origin, perms: [...run.perms] });
    else for (const p of run.perms) if (!entry.perms.includes(p)) entry.perms.push(p);
  }
  const reasons = [...byOrigin.values()];
  // A single reason for the whole rule needs no permission list: the rule below is it.
  return reasons.map(({ origin, perms }) => reasonText(origin, reasons.length === 1 ? '' : ' → ' + rule.perms.filter((p) => perms.includes(p)).join(' ')));
}

/** One reason's comment; `ordered` lists the permissions it accounts for, or is empty. */
function reasonText(origin: Origin, ordered: string): string {
  switch (origin.kind) {
    case 'capability': return `${origin.capability} on ${origin.target}${ordered} (catalog ${origin.catalog.join(' ')})`;
    case 'event-channel': return `vm_event channel with ${origin.target} for ${origin.capabilities.join(', ')}${ordered} (catalog ${origin.catalog.join(' ')})`;
    case 'xen-macro': return `${origin.macro}(${origin.args.join(', ')})${ordered}`;
    case 'domain-rule':
    case 'host-base': return `${origin.why}${ordered}`;
  }
}
