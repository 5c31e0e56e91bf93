// Helpers for the policy-language tests: a minimal base policy that checkpolicy -t Xen
// accepts (to try statements in their section), and grep-like counts that do not share
// code with the parser they check.

import type { PolicyAst, Statement } from '../../policy/grammar/index.js';

export interface PolicySlots {
  /** After the access vectors: default_user/role/type/range statements. */
  readonly defaults?: string;
  /** TE/RBAC statements, after the skeleton's own. */
  readonly te?: string;
  /** After the users: constraints. */
  readonly constraints?: string;
  /** After the initial SID contexts: device contexts. */
  readonly devices?: string;
}

/** The MLS pieces of the skeleton: what `minimalMlsPolicy` adds to `minimalPolicy`. */
interface MlsParts {
  readonly declarations: readonly string[];
  readonly userLevels: string;
  readonly sidLevel: string;
}

function skeleton(slots: PolicySlots, mls?: MlsParts): string {
  return [
    'class xen',
    'class domain',
    'sid xen',
    'class xen { settime readconsole }',
    'class domain { create }',
    slots.defaults ?? '',
    ...(mls?.declarations ?? []),
    'attribute dt;',
    'type xen_t, dt;',
    'type b_t;',
    'bool bb true;',
    'role system_r;',
    'role system_r types { xen_t b_t };',
    slots.te ?? '',
    `user system_u roles system_r${mls?.userLevels ?? ''};`,
    slots.constraints ?? '',
    `sid xen system_u:system_r:xen_t${mls?.sidLevel ?? ''}`,
    slots.devices ?? '',
    '',
  ].join('\n');
}

/**
 * The smallest complete Xen base policy, with text slotted into its sections. Declares
 * classes xen { settime readconsole } and domain { create }, attribute dt, types xen_t
 * (in dt) and b_t, bool bb, role system_r, user system_u.
 */
export function minimalPolicy(slots: PolicySlots = {}): string {
  return skeleton(slots);
}

/**
 * The same skeleton as an MLS policy (checkpolicy needs -M): sensitivity s0, category c0,
 * one mlsconstrain, the user and the initial SID with levels.
 */
export function minimalMlsPolicy(slots: PolicySlots = {}): string {
  return skeleton(slots, {
    declarations: ['sensitivity s0;', 'dominance { s0 }', 'category c0;', 'level s0:c0;', 'mlsconstrain xen settime l1 eq l2;'],
    userLevels: ' level s0 range s0 - s0:c0',
    sidLevel: ':s0',
  });
}

/**
 * One of each statement beyond the basic TE/RBAC set, as slots of `minimalPolicy` (which
 * checkpolicy -t Xen accepts with them): role attributes, typebounds, permissive,
 * expandattribute, auditdeny (also in an if block), role_transition with classes, and
 * the default_* statements.
 */
export const EXTENDED_SLOTS: PolicySlots = {
  defaults: [
    'default_user xen source;',
    'default_role { xen domain } target;',
    'default_type domain source;',
    'default_range xen target low-high;',
  ].join('\n'),
  te: [
    'attribute_role ratt;',
    'attribute_role rbatt;',
    'role rx, ratt;',
    'role ry;',
    'roleattribute ry ratt, rbatt;',
    'role ratt types b_t;',
    'type c_t;',
    'typebounds xen_t c_t;',
    'permissive b_t;',
    'expandattribute dt false;',
    'auditdeny xen_t b_t:xen settime;',
    'if (bb) { auditdeny xen_t self:xen ~readconsole; }',
    'role_transition system_r b_t:domain rx;',
    'role_transition ratt xen_t:{ domain xen } system_r;',
  ].join('\n'),
};

/** MLS-only statements, as slots of `minimalMlsPolicy` (checkpolicy -M accepts them). */
export const EXTENDED_MLS_SLOTS: PolicySlots = {
  defaults: 'default_range xen target high;\ndefault_range domain source low;',
  te: 'range_transition xen_t b_t:domain s0;\nrange_transition xen_t { b_t xen_t }:xen s0 - s0:c0;',
};

/** Every statement, with the rules inside `if` blocks after their block. */
export function allStatements(ast: PolicyAst): Statement[] {
  return ast.statements.flatMap((s): Statement[] => (s.kind === 'if' ? [s, ...s.then, ...s.else] : [s]));
}

export function countKind(ast: PolicyAst, kind: Statement['kind']): number {
  return allStatements(ast).filter((s) => s.kind === kind).length;
}

/** The text without `#` comments (and so without m4's `#line` markers), for grepping. */
export function withoutComments(text: string): string {
  return text.replace(/#[^\n]*/g, '');
}

/** How many times a (global, multiline) pattern matches. */
export function grepCount(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}
