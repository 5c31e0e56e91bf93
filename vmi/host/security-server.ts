// The simulated host's security server: Xen's xen/xsm/flask/ss/services.c in miniature.
// It hands out SIDs for contexts (initial SIDs first, numbered as the policy declares them),
// answers access-vector requests from the DecisionModel (policy/model/access.ts), and computes
// the SIDs of new objects as security_transition_sid does — which is how Xen labels a
// domain's `_self`, a device model's `_target` and an event channel's `_channel`.

import { typeIndexOf } from '../../policy/model/query.js';
import type { PolicyAst } from '../../policy/grammar/ast.js';
import { computeAccessVector, contextText, parseContext, targetAccessKey, type AccessDecision, type SecurityContext } from '../../policy/model/access.js';
import type { DecisionModel, DecisionTypeRule } from '../../policy/model/model.js';
import { guardHolds, type BooleanState } from '../../policy/model/query.js';

/** The role Xen gives every object that is not a domain (OBJECT_R_VAL). */
const OBJECT_R = 'object_r';

interface SecurityServerOptions {
  /** Boolean values; unset ones take their declared defaults. */
  readonly booleans?: BooleanState;
  /** `sid NAME user:role:type` contexts. Without them, see initialContextsOf. */
  readonly initialContexts?: ReadonlyMap<string, SecurityContext>;
  /** `allow r1 r2;` pairs ("r1 r2") for the domain:transition role check; see AccessOptions. */
  readonly roleAllows?: ReadonlySet<string>;
}

type SidResult = { readonly sid: number } | { readonly error: string };

/** The `sid NAME context` statements of a parsed policy. */
export function initialContextsOf(ast: PolicyAst): Map<string, SecurityContext> {
  const out = new Map<string, SecurityContext>();
  for (const s of ast.statements) {
    if (s.kind === 'sid-context') out.set(s.name.name, { user: s.context.user.name, role: s.context.role.name, type: s.context.type.name });
  }
  return out;
}

/** The `allow r1 r2;` role pairs of a parsed policy, for the domain:transition role check. */
export function roleAllowsOf(ast: PolicyAst): Set<string> {
  const out = new Set<string>();
  for (const s of ast.statements) {
    if (s.kind !== 'role-allow') continue;
    for (const from of s.sources.names) for (const to of s.targets.names) out.add(`${from.name} ${to.name}`);
  }
  return out;
}

/** Decisions computeAv keeps before it starts afresh: enough for the kinds a host has, bounded for any. */
const DECISIONS_KEPT = 4096;

export class SecurityServer {
  readonly model: DecisionModel;
  private readonly contexts: SecurityContext[] = [];
  private readonly sids = new Map<string, number>();
  private readonly texts = new Map<number, string>();
  private readonly initial = new Map<string, number>();
  private state: Map<string, boolean>;
  private readonly roleAllows: ReadonlySet<string> | undefined;
  private transitionIndex: Map<number, DecisionTypeRule[]> | undefined;
  /** computeAv's decisions by source SID, class and kind of target (with the boolean state's seqno). */
  private readonly decisions = new Map<string, AccessDecision>();
  /** Bumped on every policy-state change (booleans): the AVC flushes when it differs. */
  seqno = 0;

  constructor(model: DecisionModel, options: SecurityServerOptions = {}) {
    this.model = model;
    this.state = new Map([...model.booleans, ...(options.booleans ?? [])]);
    this.roleAllows = options.roleAllows;
    // Initial SIDs are 1…N in declaration order (SECINITSID_XENBOOT = 1 …), as Xen numbers them.
    for (const name of model.initialSids) {
      const ctx = options.initialContexts?.get(name) ?? guessInitialContext(model, name);
      const sid = this.contexts.length + 1;
      this.initial.set(name, sid);
      if (ctx) {
        this.contexts.push(ctx);
        if (!this.sids.has(contextText(ctx))) this.sids.set(contextText(ctx), sid);
      } else {
        this.contexts.push({ user: 'system_u', role: OBJECT_R, type: 'unlabeled_t' });
      }
    }
  }

  /** SECINITSID_<NAME>: the SID of an initial SID by its policy name (xen, dom0, domxen, …). */
  initialSid(name: string): number | undefined {
    return this.initial.get(name);
  }

  /** policydb_context_isvalid: the user may take the role and the role may hold the type (object_r: any type). */
  validate(ctx: SecurityContext): string | undefined {
    const t = typeIndexOf(this.model, ctx.type);
    if (t === undefined) return `type ${ctx.type} is not declared`;
    const roles = this.model.users.get(ctx.user);
    if (!roles) return `user ${ctx.user} is not declared`;
    if (ctx.role === OBJECT_R) return undefined;
    const types = this.model.roles.get(ctx.role);
    if (!types) return `role ${ctx.role} is not declared`;
    if (!roles.has(ctx.role)) return `user ${ctx.user} is not authorised for role ${ctx.role}`;
    if (!types.has(t)) return `role ${ctx.role} is not authorised for type ${ctx.type}`;
    return undefined;
  }

  /** security_context_to_sid: a known or new SID for a valid context ("user:role:type"). */
  contextToSid(context: SecurityContext | string): SidResult {
    const ctx = typeof context === 'string' ? parseContext(context) : context;
    if (!ctx) return { error: `not a security context: ${String(context)}` };
    const key = contextText(ctx);
    const known = this.sids.get(key);
    if (known !== undefined) return { sid: known };
    const invalid = this.validate(ctx);
    if (invalid) return { error: `invalid context ${key}: ${invalid}` };
    this.contexts.push(ctx);
    const sid = this.contexts.length;
    this.sids.set(key, sid);
    return { sid };
  }

  sidToContext(sid: number): SecurityContext | undefined {
    return this.contexts[sid - 1];
  }

  /** The context as Xen prints it (context_struct_to_string, no MLS part). */
  contextString(sid: number): string | undefined {
    // A sid's context never changes: one string per sid, shared by every check record.
    let text = this.texts.get(sid);
    if (text === undefined) {
      const ctx = this.sidToContext(sid);
      if (!ctx) return undefined;
      this.texts.set(sid, (text = contextText(ctx)));
    }
    return text;
  }

  booleans(): BooleanState {
    return this.state;
  }

  /** security_set_bools: a new boolean state invalidates every cached decision. */
  setBoolean(name: string, value: boolean): boolean {
    if (!this.model.booleans.has(name)) return false;
    this.state = new Map(this.state).set(name, value);
    this.seqno++;
    return true;
  }

  /**
   * security_compute_av on two SIDs. A decision is computed once per source, class and
   * kind of target (targetKey): a domain listing asks it of every domain on the host, and
   * thousands of targets an introspector may not touch are mostly one kind. The answer
   * carries the target's own context.
   */
  computeAv(ssid: number, tsid: number, cls: string): AccessDecision | { readonly error: string } {
    const s = this.sidToContext(ssid);
    const t = this.sidToContext(tsid);
    if (!s) return { error: `unrecognized SID ${ssid}` };
    if (!t) return { error: `unrecognized SID ${tsid}` };
    const kind = targetAccessKey(this.model, s, t);
    const key = kind === undefined ? undefined : `${this.seqno} ${ssid} ${cls} ${kind}`;
    const known = key === undefined ? undefined : this.decisions.get(key);
    if (known) return { ...known, tcontext: t };
    const decision = computeAccessVector(this.model, s, t, cls, { booleans: this.state, ...(this.roleAllows ? { roleAllows: this.roleAllows } : {}) });
    if (key !== undefined) {
      if (this.decisions.size >= DECISIONS_KEPT) this.decisions.clear();
      this.decisions.set(key, decision);
    }
    return decision;
  }

  /**
   * A key equal for two target SIDs exactly when every computeAv from `ssid` decides them
   * alike (policy/model/access.ts targetAccessKey); undefined when no such key is known.
   */
  targetKey(ssid: number, tsid: number): string | undefined {
    const s = this.sidToContext(ssid);
    const t = this.sidToContext(tsid);
    return s && t ? targetAccessKey(this.model, s, t) : undefined;
  }

  /**
   * security_transition_sid (security_compute_sid with AVTAB_TRANSITION): the user of the
   * source; for class domain the source's role and type, otherwise object_r and the target's
   * type; then the type_transition rule for exactly (source type, target type, class), and
   * for domain a role_transition (source role, target type). An invalid result is refused,
   * as an enforcing Xen does.
   */
  transitionSid(ssid: number, tsid: number, cls: string): SidResult {
    const s = this.sidToContext(ssid);
    const t = this.sidToContext(tsid);
    if (!s || !t) return { error: `unrecognized SID ${s ? tsid : ssid}` };
    const domain = cls === 'domain';
    const type = this.transitionType(s.type, t.type, cls) ?? (domain ? s.type : t.type);
    let role = domain ? s.role : OBJECT_R;
    if (domain) {
      const tt = typeIndexOf(this.model, t.type);
      const rt = this.model.roleTransitions.find((r) => r.roles.includes(s.role) && tt !== undefined && r.types.has(tt));
      if (rt) role = rt.result;
    }
    return this.contextToSid({ user: s.user, role, type });
  }

  /**
   * The type_transition rules (without an object name) whose sources hold the type, in
   * policy order: indexed in one pass at the first question, since booting a host asks for
   * the self SID of every domain and a scan of every rule per domain is quadratic.
   */
  private transitionsFrom(type: number): readonly DecisionTypeRule[] {
    if (!this.transitionIndex) {
      const index = new Map<number, DecisionTypeRule[]>();
      for (const r of this.model.typeRules) {
        if (r.kind !== 'type_transition' || r.objectName !== undefined) continue;
        for (const t of r.sources) {
          const list = index.get(t);
          if (list) list.push(r);
          else index.set(t, [r]);
        }
      }
      this.transitionIndex = index;
    }
    return this.transitionIndex.get(type) ?? [];
  }

  /** The type_transition result for the pair, if a rule (active under the booleans) names it. */
  private transitionType(source: string, target: string, cls: string): string | undefined {
    const m = this.model;
    const s = typeIndexOf(m, source);
    const t = typeIndexOf(m, target);
    const c = m.classIndex.get(cls);
    if (s === undefined || t === undefined || c === undefined) return undefined;
    let result: number | undefined;
    for (const r of this.transitionsFrom(s)) {
      if (!guardHolds(r.guard, this.state)) continue;
      if (!r.classes.includes(c) || !(r.targets.has(t) || (r.self && s === t))) continue;
      // checkpolicy keeps one rule per key and refuses conflicts; an unconditional rule wins
      // over a conditional one (services.c looks in te_avtab before te_cond_avtab).
      if (result === undefined || r.guard === undefined) result = r.result;
    }
    return result === undefined ? undefined : m.types[result];
  }
}

/**
 * Without the policy text, an initial SID's context is rebuilt from its type: system_u, and
 * the first role authorised for the type (object_r when none is), the way Xen's policies
 * write them. Prefer initialContextsOf(ast).
 */
function guessInitialContext(model: DecisionModel, name: string): SecurityContext | undefined {
  const type = model.sidTypes.get(name);
  if (type === undefined) return undefined;
  const t = model.typeIndex.get(type);
  const user = model.users.has('system_u') ? 'system_u' : ([...model.users.keys()][0] ?? 'system_u');
  const roles = model.users.get(user) ?? new Set<string>();
  const role = [...roles].find((r) => t !== undefined && model.roles.get(r)?.has(t)) ?? OBJECT_R;
  return { user, role, type };
}
