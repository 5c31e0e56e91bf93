// Effective access, asked the way the proofs ask it: from one subject (or onto one object),
// rule by rule, keeping the rule. Nothing here expands an attribute×attribute rule into type
// pairs; a rule's target set stays a set, and callers test membership.

import { printStatement } from '../policy/grammar/printer.js';
import { BitSet } from '../policy/model/bitset.js';
import type { ModelAvRule, PolicyModel } from '../policy/model/model.js';
import type { Location } from './findings.js';

interface ModelIndex {
  readonly allow: readonly ModelAvRule[];
  readonly neverallow: readonly ModelAvRule[];
  /** subject type → allow rules whose source set holds it; built in one pass on first use. */
  from?: readonly (readonly ModelAvRule[])[];
  /** object type → allow rules that grant something on it (targets, or `self`). */
  onto?: readonly (readonly ModelAvRule[])[];
  /** subject type → its rules by object (subjectRulesByObject), for subjects with many rules. */
  readonly byObject: Map<number, SubjectRulesByObject>;
  domainTypes?: BitSet;
  subjectTypes?: BitSet;
  owners?: ReadonlyMap<number, number>;
  pseudo?: ReadonlyMap<number, PseudoDomain>;
  readonly printed: Map<ModelAvRule, string>;
}

const indexes = new WeakMap<PolicyModel, ModelIndex>();

function indexOf(model: PolicyModel): ModelIndex {
  let ix = indexes.get(model);
  if (!ix) {
    ix = {
      allow: model.avRules.filter((r) => r.kind === 'allow'),
      neverallow: model.avRules.filter((r) => r.kind === 'neverallow'),
      printed: new Map(),
      byObject: new Map(),
    };
    indexes.set(model, ix);
  }
  return ix;
}

export function allowRules(model: PolicyModel): readonly ModelAvRule[] {
  return indexOf(model).allow;
}

export function neverallowRules(model: PolicyModel): readonly ModelAvRule[] {
  return indexOf(model).neverallow;
}

/**
 * One pass over the allow rules, listing each rule under every type of a set. The cost is
 * the sum of the rules' set sizes — an attribute rule over 10 000 domains adds 10 000
 * entries once — instead of testing every rule for every type a proof asks about.
 */
function invert(model: PolicyModel, setOf: (r: ModelAvRule) => Iterable<number>): ModelAvRule[][] {
  const out: ModelAvRule[][] = Array.from({ length: model.types.length }, () => []);
  for (const r of indexOf(model).allow) for (const t of setOf(r)) out[t]?.push(r);
  return out;
}

/** The allow rules whose source set contains `subject`, in policy order. */
export function rulesFrom(model: PolicyModel, subject: number): readonly ModelAvRule[] {
  const ix = indexOf(model);
  ix.from ??= invert(model, (r) => r.sources);
  return ix.from[subject] ?? [];
}

/** The allow rules that grant something on `object` (as a target, or through `self`), in policy order. */
export function rulesOnto(model: PolicyModel, object: number): readonly ModelAvRule[] {
  const ix = indexOf(model);
  ix.onto ??= invert(model, (r) => (r.self ? new Set([...r.targets, ...r.sources]) : r.targets));
  return ix.onto[object] ?? [];
}

/** The objects a rule gives `subject` rights on: its targets, plus the subject itself for `self`. */
export function objectsOf(rule: ModelAvRule, subject: number): number[] {
  const out = [...rule.targets];
  if (rule.self && !rule.targets.has(subject)) out.push(subject);
  return out;
}

/** Permission names of a rule in one class. */
export function permNames(model: PolicyModel, rule: ModelAvRule, cls: number): string[] {
  const bits = rule.perms.get(cls);
  const info = model.classes[cls];
  return bits && info ? [...bits].map((p) => info.perms[p] as string) : [];
}

/** The rules granting `subject` `cls:perm` on `object`, in policy order. */
export function grantingRules(model: PolicyModel, subject: number, object: number, cls: number, perm: number): ModelAvRule[] {
  return rulesFromOnto(model, subject, object).filter((r) => r.perms.get(cls)?.has(perm) ?? false);
}

/**
 * A subject's rules, by object: those naming a few target types listed under each of them,
 * the others (attribute-wide target sets, `self`) kept to be tested. An introspector of a
 * spec with thousands of targets has a rule per target, and a proof asks about each target:
 * testing every rule for every question is quadratic in the targets.
 */
interface SubjectRulesByObject {
  readonly listed: Map<number, number[]>;
  readonly tested: readonly number[];
}

/** Rules from a subject with at most this many target types are listed per target type. */
const LISTED_TARGETS = 64;
/** Subjects with fewer rules are answered by testing each rule: an index would cost more. */
const INDEXED_FROM = 32;

/** The allow rules from `subject` covering `object` (a target, or itself through `self`), in policy order. */
function rulesFromOnto(model: PolicyModel, subject: number, object: number): ModelAvRule[] {
  const rules = rulesFrom(model, subject);
  const covers = (r: ModelAvRule): boolean => r.targets.has(object) || (r.self && subject === object);
  if (rules.length < INDEXED_FROM) return rules.filter(covers);
  const ix = indexOf(model);
  let byObject = ix.byObject.get(subject);
  if (!byObject) {
    byObject = subjectRulesByObject(rules);
    ix.byObject.set(subject, byObject);
  }
  const listed = byObject.listed.get(object) ?? [];
  const tested = byObject.tested.filter((i) => covers(rules[i] as ModelAvRule));
  // Both lists hold ordinals in policy order: merged, they are the rules in policy order.
  const out: ModelAvRule[] = [];
  let a = 0;
  let b = 0;
  while (a < listed.length || b < tested.length) {
    const next = b >= tested.length || (a < listed.length && (listed[a] as number) < (tested[b] as number)) ? (listed[a++] as number) : (tested[b++] as number);
    out.push(rules[next] as ModelAvRule);
  }
  return out;
}

function subjectRulesByObject(rules: readonly ModelAvRule[]): SubjectRulesByObject {
  const listed = new Map<number, number[]>();
  const tested: number[] = [];
  rules.forEach((r, i) => {
    if (r.self || r.targets.count() > LISTED_TARGETS) return void tested.push(i);
    for (const t of r.targets) {
      const at = listed.get(t);
      if (at) at.push(i);
      else listed.set(t, [i]);
    }
  });
  return { listed, tested };
}

/**
 * Domain types: those a role other than object_r may take. Channels, resources and the
 * security server's object are not domains and hold no rights of their own in Xen.
 */
export function domainTypes(model: PolicyModel): BitSet {
  const ix = indexOf(model);
  if (!ix.domainTypes) {
    const set = new BitSet(model.types.length);
    for (const [role, types] of model.roles) if (role !== 'object_r') for (const t of types) set.add(t);
    ix.domainTypes = set;
  }
  return ix.domainTypes;
}

/**
 * Derived domain types → the domain they stand for: `type_transition T T:domain T_self` and
 * `type_transition T DM:domain T_target` both name T as the only source.
 */
export function derivedDomainOwners(model: PolicyModel): ReadonlyMap<number, number> {
  const ix = indexOf(model);
  if (!ix.owners) {
    const domainClass = model.classIndex.get('domain');
    const out = new Map<number, number>();
    for (const r of model.typeRules) {
      if (domainClass === undefined || r.kind !== 'type_transition' || !r.classes.includes(domainClass)) continue;
      const sources = [...r.sources];
      if (sources.length === 1 && r.result !== sources[0]) out.set(r.result, sources[0] as number);
    }
    ix.owners = out;
  }
  return ix.owners;
}

/**
 * Types a running domain can have as its SID: domain types that are not derived ones nor
 * pseudo-domains. A T_self or T_target type is only ever the object of a check, never its
 * subject; DOMID_IO and DOMID_XEN run no vCPU, so their labels never are either.
 */
export function subjectTypes(model: PolicyModel): BitSet {
  const ix = indexOf(model);
  if (!ix.subjectTypes) {
    const set = new BitSet(model.types.length);
    const owners = derivedDomainOwners(model);
    const pseudo = pseudoDomains(model);
    for (const t of domainTypes(model)) if (!owners.has(t) && !pseudo.has(t)) set.add(t);
    ix.subjectTypes = set;
  }
  return ix.subjectTypes;
}

interface PseudoDomain {
  /** The domain id Xen gives it (xen/include/public/xen.h). */
  readonly domid: 'DOMID_IO' | 'DOMID_XEN';
  /** What its pages are, for messages. */
  readonly owns: string;
}

/**
 * Pseudo-domains: the types of the initial SIDs `domio` and `domxen`, which hooks.c
 * flask_domain_alloc_security gives DOMID_IO and DOMID_XEN (self_sid = sid: no _self type).
 * They own pages — DOMID_IO a device's MMIO, DOMID_XEN the Xen heap pages Xen shares with
 * guests — but run no vCPU, so they are never the subject of a check: they hold no rights,
 * and mapping their pages is device or hypervisor memory access, not introspection of a guest.
 */
export function pseudoDomains(model: PolicyModel): ReadonlyMap<number, PseudoDomain> {
  const ix = indexOf(model);
  if (!ix.pseudo) {
    const out = new Map<number, PseudoDomain>();
    const add = (sid: string, p: PseudoDomain): void => {
      const name = model.sidTypes.get(sid);
      const t = name === undefined ? undefined : (model.typeIndex.get(name) ?? model.aliases.get(name));
      if (t !== undefined) out.set(t, p);
    };
    add('domio', { domid: 'DOMID_IO', owns: 'device memory (the MMIO pages DOMID_IO owns)' });
    add('domxen', { domid: 'DOMID_XEN', owns: "Xen's own heap pages (those DOMID_XEN shares with guests)" });
    ix.pseudo = out;
  }
  return ix.pseudo;
}

export function ruleLocation(model: PolicyModel, rule: ModelAvRule): Location {
  const ix = indexOf(model);
  let text = ix.printed.get(rule);
  if (text === undefined) ix.printed.set(rule, (text = printStatement(rule.statement).join(' ').replace(/\s+/g, ' ').trim()));
  return { file: rule.at.file, line: rule.at.line, column: rule.at.column, kind: 'policy', text };
}

/** The `permissive T;` statements that make a type permissive, as findings cite them. */
export function permissiveLocations(model: PolicyModel, type: number): Location[] {
  return (model.permissiveAt.get(type) ?? []).map((at) => ({ file: at.file, line: at.line, column: at.column, kind: 'policy', text: `permissive ${model.types[type]};` }));
}

/** The names a rule's target set was written with (an attribute, a list), for messages. */
export function writtenTargets(rule: ModelAvRule): string {
  const names = rule.statement.targets.names.map((n) => (n.excluded ? `-${n.name}` : n.name));
  return names.length === 1 ? (names[0] as string) : `{ ${names.join(' ')} }`;
}

export function writtenSources(rule: ModelAvRule): string {
  const names = rule.statement.sources.names.map((n) => (n.excluded ? `-${n.name}` : n.name));
  return names.length === 1 ? (names[0] as string) : `{ ${names.join(' ')} }`;
}
