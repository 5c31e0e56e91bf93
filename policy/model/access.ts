// The access decision as Xen's security server makes it (xen/xsm/flask/ss/services.c,
// context_struct_compute_av): the union of the TE allow rules for (source type, target type)
// — attributes included, conditional rules under a boolean state — then every constraint of
// the class evaluated on the full contexts (user, role, type), then the role check Xen makes
// for domain:transition, then typebounds. A pure function of (model, contexts, class,
// booleans): the checker honours constraints with it and the simulated host's security
// server answers every AVC miss with it. Every answer keeps its provenance: the rules behind
// each allowed permission, the constraints that removed one.

import { typeIndexOf } from './query.js';
import type { ConstraintExpr, NameSet } from '../grammar/ast.js';
import { BitSet } from './bitset.js';
import type { ClassInfo, DecisionAvRule, DecisionModel, ModelConstraint } from './model.js';
import { guardHolds, type BooleanState } from './query.js';

/** A FLASK context without MLS range: Xen's policies are built with CONFIG_MLS=n by default. */
export interface SecurityContext {
  readonly user: string;
  readonly role: string;
  readonly type: string;
}

/**
 * Why a permission is missing: no allow rule ('te'), a constraint ('constraint'), the role
 * check on domain:transition ('rbac'), or the type's bounds ('bounds') — libsepol's reasons.
 */
type DenialReason = 'te' | 'constraint' | 'rbac' | 'bounds';

interface ConstraintDenial {
  readonly constraint: ModelConstraint;
  /** The permissions it removed (those still allowed when it was evaluated). */
  readonly perms: readonly string[];
}

export interface AccessDecision {
  readonly scontext: SecurityContext;
  readonly tcontext: SecurityContext;
  readonly cls: string;
  /** Set when the class or a type is unknown to the policy; everything is then denied ('te'). */
  readonly error?: string;
  /** The class's permissions in bit order (common first), as the AVC numbers them. */
  readonly classPerms: readonly string[];
  /** Allowed permissions as a bitset over classPerms. */
  readonly allowedBits: BitSet;
  readonly allowed: readonly string[];
  /** Every permission of the class that is not allowed, with the first stage that removed it. */
  readonly deniedBy: ReadonlyMap<string, DenialReason>;
  /** The active allow rules behind each allowed permission (TE stage). */
  readonly grantedBy: ReadonlyMap<string, readonly DecisionAvRule[]>;
  readonly constraintDenials: readonly ConstraintDenial[];
  /** auditallow: granted permissions Xen logs as "avc:  granted". */
  readonly auditAllowBits: BitSet;
  /** Denied permissions Xen logs (dontaudit clears bits here). */
  readonly auditDenyBits: BitSet;
  /** The source type is `permissive`: denials are logged but not enforced (AVD_FLAGS_PERMISSIVE). */
  readonly permissive: boolean;
}

export interface AccessOptions {
  /** Boolean values; unset ones take their declared defaults. */
  readonly booleans?: BooleanState;
  /**
   * `allow r1 r2;` role pairs as "r1 r2": Xen (and libsepol, for a Xen policy) removes
   * domain:transition between contexts of different roles without one. The PolicyModel does
   * not carry role allows, so the check is made only when the caller supplies them
   * (vmi/host/security-server.ts roleAllowsOf(ast) does); without them domain:transition
   * across roles is over-approximated.
   */
  readonly roleAllows?: ReadonlySet<string>;
}

// ------------------------------------------------------------------------------ the index

/** What the decision needs of a model, computed once per model and per type on demand. */
interface AccessIndex {
  /** type index → indices of the AV rules whose source set holds it (filled at the first question). */
  readonly rulesBySource: (Int32Array | undefined)[];
  /** class index → its constraints (constrain/mlsconstrain), in policy order. */
  readonly constraintsByClass: readonly (readonly ModelConstraint[])[];
  readonly defaultBooleans: BooleanState;
  /** NameSet → resolved names, per operand kind (u/r/t). */
  readonly nameSets: WeakMap<NameSet, ReadonlySet<string>>;
  /** The type sets constraints test the target's type (t2) against, once asked for. */
  targetTypeSets?: readonly NameSet[];
  /** For the latest sources asked about often: target type → the source's rules covering it, as a key part (coverageOf). */
  readonly coverage: Map<number, Map<number, string>>;
  /** How often each source has been asked about (targetAccessKey), until its coverage is made. */
  readonly asked: Map<number, number>;
}

/** Sources whose coverage is kept: a self-test asks about one introspector (and its targets) at a time. */
const COVERAGE_KEPT = 16;
/**
 * Questions about one source before its coverage is made. Making it walks every target set
 * of the source's rules — 10 000 types for a rule on an attribute — which pays only for a
 * source asked about many targets (an introspector, about every domain on the host), not
 * for the thousands of targets each asked about a handful of times as a source.
 */
const COVERAGE_AFTER = 256;

const indexes = new WeakMap<DecisionModel, AccessIndex>();

function indexOf(model: DecisionModel): AccessIndex {
  let idx = indexes.get(model);
  if (!idx) {
    const byClass: ModelConstraint[][] = model.classes.map(() => []);
    for (const c of model.constraints) {
      if (c.kind !== 'constrain' && c.kind !== 'mlsconstrain') continue;
      for (const ci of c.classes) byClass[ci]?.push(c);
    }
    idx = { rulesBySource: new Array(model.types.length), constraintsByClass: byClass, defaultBooleans: model.booleans, nameSets: new WeakMap(), coverage: new Map(), asked: new Map() };
    indexes.set(model, idx);
  }
  return idx;
}

function rulesFrom(model: DecisionModel, idx: AccessIndex, source: number): Int32Array {
  const list = idx.rulesBySource[source];
  if (list) return list;
  fillRulesBySource(model, idx);
  return idx.rulesBySource[source] as Int32Array;
}

/**
 * Every type's rules in one pass over the rules, in policy order. A host asks for nearly
 * every type as a source (the self-test probes every target against its introspector), and
 * scanning all rules once per type is quadratic in a host of thousands of domains.
 */
function fillRulesBySource(model: DecisionModel, idx: AccessIndex): void {
  const found: number[][] = Array.from({ length: model.types.length }, () => []);
  model.avRules.forEach((r, i) => {
    if (r.kind === 'neverallow') return;
    for (const t of r.sources) found[t]?.push(i);
  });
  found.forEach((list, t) => {
    idx.rulesBySource[t] = Int32Array.from(list);
  });
}

// ------------------------------------------------------------------------------ TE stage

interface TeResult {
  readonly allowed: BitSet;
  readonly auditAllow: BitSet;
  readonly auditDeny: BitSet;
  readonly grantedBy: Map<number, DecisionAvRule[]>;
}

/** The avtab lookup: every allow/auditallow/dontaudit rule whose (source, target) covers the pair. */
function teStage(model: DecisionModel, idx: AccessIndex, s: number, t: number, cls: ClassInfo, state: BooleanState, provenance: boolean): TeResult {
  const size = cls.perms.length;
  const allowed = new BitSet(size);
  const auditAllow = new BitSet(size);
  const auditDeny = new BitSet(size).complement();
  const grantedBy = new Map<number, DecisionAvRule[]>();
  for (const i of rulesFrom(model, idx, s)) {
    const rule = model.avRules[i] as DecisionAvRule;
    const bits = rule.perms.get(cls.index);
    if (!bits || !(rule.targets.has(t) || (rule.self && s === t))) continue;
    if (!guardHolds(rule.guard, state)) continue;
    if (rule.kind === 'allow') {
      allowed.addAll(bits);
      if (provenance) {
        for (const p of bits) {
          const list = grantedBy.get(p);
          if (list) list.push(rule);
          else grantedBy.set(p, [rule]);
        }
      }
    } else if (rule.kind === 'auditallow') auditAllow.addAll(bits);
    else if (rule.kind === 'dontaudit') auditDeny.removeAll(bits);
  }
  return { allowed, auditAllow, auditDeny, grantedBy };
}

// ------------------------------------------------------------------------------ constraints

type Operand = 'u' | 'r' | 't' | 'l' | 'h';

/** The names a constraint's name set stands for: users, roles (attributes expanded) or types. */
function resolveNames(model: DecisionModel, idx: AccessIndex, kind: Operand, set: NameSet): ReadonlySet<string> {
  const cached = idx.nameSets.get(set);
  if (cached) return cached;
  const universe: readonly string[] = kind === 'u' ? [...model.users.keys()] : kind === 'r' ? [...model.roles.keys()] : model.types;
  const expand = (name: string): string[] => {
    if (kind === 't') {
      const t = typeIndexOf(model, name);
      if (t !== undefined) return [model.types[t] as string];
      const a = model.attributeIndex.get(name);
      return a === undefined ? [] : [...(model.attributeMembers[a] as BitSet)].map((i) => model.types[i] as string);
    }
    if (kind === 'r') {
      const members = model.roleAttributes.get(name);
      return members ? [...members] : [name];
    }
    return [name];
  };
  const chosen = new Set<string>(set.star ? universe : []);
  for (const n of set.names) if (!n.excluded) for (const x of expand(n.name)) chosen.add(x);
  for (const n of set.names) if (n.excluded) for (const x of expand(n.name)) chosen.delete(x);
  const out: ReadonlySet<string> = set.complement ? new Set(universe.filter((x) => !chosen.has(x))) : chosen;
  idx.nameSets.set(set, out);
  return out;
}

function operandValue(ctx: { s: SecurityContext; t: SecurityContext }, key: string): string | undefined {
  const which = key[1] === '1' ? ctx.s : key[1] === '2' ? ctx.t : undefined;
  if (!which) return undefined;
  return key[0] === 'u' ? which.user : key[0] === 'r' ? which.role : key[0] === 't' ? which.type : undefined;
}

/**
 * constraint_expr_eval. Roles: without `dominance` statements every role dominates only
 * itself, so dom/domby hold iff the roles are equal and incomp iff they differ. MLS operands
 * (l1 h2 …) compare levels; a non-MLS policy gives every context the same level, so they
 * hold for ==/dom/domby and fail for !=/incomp. u3/r3/t3 belong to validatetrans only.
 */
export function evalConstraint(model: DecisionModel, expr: ConstraintExpr, scontext: SecurityContext, tcontext: SecurityContext): boolean {
  return evalExpr(model, indexOf(model), expr, { s: scontext, t: tcontext });
}

function evalExpr(model: DecisionModel, idx: AccessIndex, e: ConstraintExpr, ctx: { s: SecurityContext; t: SecurityContext }): boolean {
  switch (e.op) {
    case 'not':
      return !evalExpr(model, idx, e.operand, ctx);
    case 'and':
      return evalExpr(model, idx, e.left, ctx) && evalExpr(model, idx, e.right, ctx);
    case 'or':
      return evalExpr(model, idx, e.left, ctx) || evalExpr(model, idx, e.right, ctx);
    default: {
      const kind = e.left[0] as Operand;
      if (kind === 'l' || kind === 'h') return e.op === '==' || e.op === 'eq' || e.op === 'dom' || e.op === 'domby';
      const left = operandValue(ctx, e.left);
      if (left === undefined) return false;
      if (typeof e.right === 'string') {
        const right = operandValue(ctx, e.right);
        if (right === undefined) return false;
        return e.op === '!=' || e.op === 'incomp' ? left !== right : left === right;
      }
      const member = resolveNames(model, idx, kind, e.right).has(left);
      return e.op === '!=' ? !member : member;
    }
  }
}

// ------------------------------------------------------------------------------ the decision

interface Stages {
  allowed: BitSet;
  te: TeResult;
  constraintDenials: { constraint: ModelConstraint; bits: BitSet }[];
  rbac: BitSet;
}

/** TE, constraints and the role check: everything before typebounds. */
function computeStages(model: DecisionModel, idx: AccessIndex, s: SecurityContext, t: SecurityContext, sType: number, tType: number, cls: ClassInfo, state: BooleanState, options: AccessOptions, provenance: boolean): Stages {
  const te = teStage(model, idx, sType, tType, cls, state, provenance);
  const allowed = new BitSet(cls.perms.length, te.allowed.words.slice());
  const constraintDenials: Stages['constraintDenials'] = [];
  for (const c of idx.constraintsByClass[cls.index] ?? []) {
    const perms = c.perms.get(cls.index);
    if (!perms || !intersects(perms, allowed)) continue;
    if (evalExpr(model, idx, c.expr, { s, t })) continue;
    const removed = intersection(perms, allowed);
    allowed.removeAll(perms);
    constraintDenials.push({ constraint: c, bits: removed });
  }
  const rbac = new BitSet(cls.perms.length);
  const transition = cls.name === 'domain' ? cls.permIndex.get('transition') : undefined;
  if (options.roleAllows && transition !== undefined && allowed.has(transition) && s.role !== t.role && !options.roleAllows.has(`${s.role} ${t.role}`)) {
    allowed.delete(transition);
    rbac.add(transition);
  }
  return { allowed, te, constraintDenials, rbac };
}

/** type_attribute_bounds_av: the permissions a bounded type holds beyond its parent are masked. */
function boundsMask(model: DecisionModel, idx: AccessIndex, s: SecurityContext, t: SecurityContext, sType: number, tType: number, cls: ClassInfo, state: BooleanState, options: AccessOptions, allowed: BitSet): BitSet {
  const sParent = model.typebounds.get(sType);
  const tParent = model.typebounds.get(tType);
  let masked = new BitSet(cls.perms.length);
  const tryWith = (ps: number, pt: number): boolean => {
    const lo = allowedWithBounds(model, idx, { ...s, type: model.types[ps] as string }, { ...t, type: model.types[pt] as string }, ps, pt, cls, state, options);
    masked = new BitSet(cls.perms.length, allowed.words.slice());
    masked.removeAll(lo);
    return masked.isEmpty();
  };
  // Xen stops at the first parent combination that covers everything; otherwise the mask of
  // the last combination tried is applied (the same order as services.c).
  if (sParent !== undefined && tryWith(sParent, tType)) return masked;
  if (tParent !== undefined && tryWith(sType, tParent)) return masked;
  if (sParent !== undefined && tParent !== undefined && tryWith(sParent, tParent)) return masked;
  return masked;
}

function allowedWithBounds(model: DecisionModel, idx: AccessIndex, s: SecurityContext, t: SecurityContext, sType: number, tType: number, cls: ClassInfo, state: BooleanState, options: AccessOptions): BitSet {
  const { allowed } = computeStages(model, idx, s, t, sType, tType, cls, state, options, false);
  if (model.typebounds.has(sType) || model.typebounds.has(tType)) allowed.removeAll(boundsMask(model, idx, s, t, sType, tType, cls, state, options, allowed));
  return allowed;
}

function intersects(a: BitSet, b: BitSet): boolean {
  for (let w = 0; w < a.words.length; w++) if (((a.words[w] ?? 0) & (b.words[w] ?? 0)) !== 0) return true;
  return false;
}

function intersection(a: BitSet, b: BitSet): BitSet {
  const out = new BitSet(b.size);
  for (let w = 0; w < out.words.length; w++) out.words[w] = ((a.words[w] ?? 0) & (b.words[w] ?? 0)) >>> 0;
  return out;
}

function namesOf(cls: ClassInfo, bits: BitSet): string[] {
  return [...bits].map((p) => cls.perms[p] as string);
}

function failed(scontext: SecurityContext, tcontext: SecurityContext, clsName: string, cls: ClassInfo | undefined, error: string): AccessDecision {
  const perms = cls?.perms ?? [];
  const none = new BitSet(perms.length);
  return {
    scontext, tcontext, cls: clsName, error, classPerms: perms, allowedBits: none, allowed: [],
    deniedBy: new Map(perms.map((p) => [p, 'te'] as const)), grantedBy: new Map(), constraintDenials: [],
    auditAllowBits: none, auditDenyBits: none.complement(), permissive: false,
  };
}

/**
 * The access vector from scontext to tcontext for one class: what Xen's
 * security_compute_av returns (allowed, auditallow, auditdeny, permissive flag), with the
 * reason for every missing permission and the rules behind every granted one.
 */
export function computeAccessVector(model: DecisionModel, scontext: SecurityContext, tcontext: SecurityContext, clsName: string, options: AccessOptions = {}): AccessDecision {
  const ci = model.classIndex.get(clsName);
  const cls = ci === undefined ? undefined : model.classes[ci];
  if (!cls) return failed(scontext, tcontext, clsName, undefined, `unknown class ${clsName}`);
  const sType = typeIndexOf(model, scontext.type);
  const tType = typeIndexOf(model, tcontext.type);
  if (sType === undefined) return failed(scontext, tcontext, clsName, cls, `unknown type ${scontext.type}`);
  if (tType === undefined) return failed(scontext, tcontext, clsName, cls, `unknown type ${tcontext.type}`);
  const idx = indexOf(model);
  const state = options.booleans ? new Map([...idx.defaultBooleans, ...options.booleans]) : idx.defaultBooleans;
  const stages = computeStages(model, idx, scontext, tcontext, sType, tType, cls, state, options, true);
  const allowed = stages.allowed;
  const bounded = model.typebounds.has(sType) || model.typebounds.has(tType) ? boundsMask(model, idx, scontext, tcontext, sType, tType, cls, state, options, allowed) : new BitSet(cls.perms.length);
  allowed.removeAll(bounded);

  const deniedBy = new Map<string, DenialReason>();
  const byConstraint = new BitSet(cls.perms.length);
  for (const d of stages.constraintDenials) byConstraint.addAll(d.bits);
  cls.perms.forEach((name, p) => {
    if (allowed.has(p)) return;
    deniedBy.set(name, !stages.te.allowed.has(p) ? 'te' : byConstraint.has(p) ? 'constraint' : stages.rbac.has(p) ? 'rbac' : 'bounds');
  });
  const grantedBy = new Map<string, readonly DecisionAvRule[]>();
  for (const p of allowed) grantedBy.set(cls.perms[p] as string, stages.te.grantedBy.get(p) ?? []);
  return {
    scontext, tcontext, cls: clsName, classPerms: cls.perms, allowedBits: allowed, allowed: namesOf(cls, allowed), deniedBy, grantedBy,
    constraintDenials: stages.constraintDenials.map((d) => ({ constraint: d.constraint, perms: namesOf(cls, d.bits) })),
    auditAllowBits: stages.te.auditAllow, auditDenyBits: stages.te.auditDeny, permissive: isPermissive(model, sType),
  };
}

/**
 * Everything computeAccessVector reads of the target when the source is `source`, as a key:
 * the source's allow/auditallow/dontaudit rules whose target set holds the target's type,
 * the type's membership of every type set a constraint tests t2 against, and the target's
 * user and role. Two targets with the same key under one source get the same decision for
 * every class and boolean state (only the target's name in the decision differs), so a
 * question asked of thousands of domains is answered once per key — the self-test's probes
 * of the domains an introspector may not touch. Undefined, so that the target is decided on
 * its own, when either type is unknown or bounded (typebounds consults the parents), or the
 * target has the source's own type (`self` rules, t1 == t2).
 */
export function targetAccessKey(model: DecisionModel, source: SecurityContext, target: SecurityContext): string | undefined {
  const s = typeIndexOf(model, source.type);
  const t = typeIndexOf(model, target.type);
  if (s === undefined || t === undefined || s === t || model.typebounds.has(s) || model.typebounds.has(t)) return undefined;
  const idx = indexOf(model);
  const parts: (string | number)[] = [target.user, target.role, '|', rulesCovering(model, idx, s, t), '|'];
  for (const set of targetTypeSets(model, idx)) parts.push(resolveNames(model, idx, 't', set).has(target.type) ? 1 : 0);
  return parts.join(' ');
}

/** The indices of the source's rules whose target set holds `t`, in policy order, joined. */
function rulesCovering(model: DecisionModel, idx: AccessIndex, s: number, t: number): string {
  const known = idx.coverage.get(s);
  if (known) return known.get(t) ?? '';
  const asked = (idx.asked.get(s) ?? 0) + 1;
  if (asked > COVERAGE_AFTER) {
    idx.asked.delete(s);
    return coverageOf(model, idx, s).get(t) ?? '';
  }
  idx.asked.set(s, asked);
  const covering: number[] = [];
  for (const i of rulesFrom(model, idx, s)) if ((model.avRules[i] as DecisionAvRule).targets.has(t)) covering.push(i);
  return covering.join(' ');
}

/**
 * Target type → the indices of the source's rules whose target set holds it, in policy
 * order, joined: made in one pass over the source's rules and their target sets, where
 * asking each target in turn scans every rule of the source (an introspector of 100
 * targets has thousands; a host of 10 000 domains asks about every one of them).
 */
function coverageOf(model: DecisionModel, idx: AccessIndex, s: number): Map<number, string> {
  const lists = new Map<number, number[]>();
  for (const i of rulesFrom(model, idx, s)) {
    for (const t of (model.avRules[i] as DecisionAvRule).targets) {
      const list = lists.get(t);
      if (list) list.push(i);
      else lists.set(t, [i]);
    }
  }
  const coverage = new Map([...lists].map(([t, list]) => [t, list.join(' ')]));
  if (idx.coverage.size >= COVERAGE_KEPT) idx.coverage.delete(idx.coverage.keys().next().value as number);
  idx.coverage.set(s, coverage);
  return coverage;
}

/** The name sets that constraints (constrain/mlsconstrain, every class) compare t2 with. */
function targetTypeSets(model: DecisionModel, idx: AccessIndex): readonly NameSet[] {
  if (idx.targetTypeSets) return idx.targetTypeSets;
  const sets: NameSet[] = [];
  const visit = (e: ConstraintExpr): void => {
    switch (e.op) {
      case 'not':
        return visit(e.operand);
      case 'and':
      case 'or':
        visit(e.left);
        return visit(e.right);
      default:
        if (e.left === 't2' && typeof e.right !== 'string') sets.push(e.right);
    }
  };
  for (const c of model.constraints) if (c.kind === 'constrain' || c.kind === 'mlsconstrain') visit(c.expr);
  idx.targetTypeSets = sets;
  return sets;
}

/**
 * Whether a request goes through, given the permissions of it the decision does not allow:
 * avc_has_perm_noaudit (xen/xsm/flask/avc.c) refuses with -EACCES only when something is
 * denied, FLASK is enforcing and the decision lacks AVD_FLAGS_PERMISSIVE — which
 * security_compute_av (xen/xsm/flask/ss/services.c) sets whenever the source type is in the
 * policy's permissive map. A permissive domain is thus allowed every permission on every
 * object, though each denial is still computed (and audited) as one.
 */
export function requestAllowed(decision: Pick<AccessDecision, 'permissive'>, denied: readonly string[], enforcing = true): boolean {
  return denied.length === 0 || !enforcing || decision.permissive;
}

/** Whether Xen enforces nothing on this source type (`permissive t;`): see requestAllowed. */
export function isPermissive(model: DecisionModel, type: number): boolean {
  return model.permissive.has(type);
}

/**
 * Whether the constraints of `cls` let scontext have `perms` on tcontext, ignoring TE: the
 * cheap question the checker asks of a permission the rules already grant. Returns the
 * denying constraints (empty: allowed).
 */
export function constraintsAllow(model: DecisionModel, scontext: SecurityContext, tcontext: SecurityContext, clsName: string, perms: readonly string[]): readonly ModelConstraint[] {
  const ci = model.classIndex.get(clsName);
  const cls = ci === undefined ? undefined : model.classes[ci];
  if (!cls) return [];
  const idx = indexOf(model);
  const wanted = BitSet.of(cls.perms.length, perms.map((p) => cls.permIndex.get(p)).filter((p): p is number => p !== undefined));
  const denying: ModelConstraint[] = [];
  for (const c of idx.constraintsByClass[cls.index] ?? []) {
    const restricted = c.perms.get(cls.index);
    if (restricted && intersects(restricted, wanted) && !evalExpr(model, idx, c.expr, { s: scontext, t: tcontext })) denying.push(c);
  }
  return denying;
}

/** Parses "user:role:type" (an MLS level after a fourth colon is ignored). */
export function parseContext(text: string): SecurityContext | undefined {
  const parts = text.split(':');
  if (parts.length < 3 || parts.slice(0, 3).some((p) => p === '')) return undefined;
  return { user: parts[0] as string, role: parts[1] as string, type: parts[2] as string };
}

export function contextText(ctx: SecurityContext): string {
  return `${ctx.user}:${ctx.role}:${ctx.type}`;
}
