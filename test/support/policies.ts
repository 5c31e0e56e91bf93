// Helpers for the policy-language tests: a minimal base policy that checkpolicy -t Xen
// accepts (to try statements in their section), and grep-like counts that do not share
// code with the parser they check.

import type { PolicyAst, Statement } from '../../grammar/index.js';

export interface PolicySlots {
  /** TE/RBAC statements, after the skeleton's own. */
  readonly te?: string;
  /** After the users: constraints. */
  readonly constraints?: string;
  /** After the initial SID contexts: device contexts. */
  readonly devices?: string;
}

/**
 * The smallest complete Xen base policy, with text slotted into its sections. Declares
 * classes xen { settime readconsole } and domain { create }, attribute dt, types xen_t
 * (in dt) and b_t, bool bb, role system_r, user system_u.
 */
export function minimalPolicy(slots: PolicySlots = {}): string {
  return [
    'class xen',
    'class domain',
    'sid xen',
    'class xen { settime readconsole }',
    'class domain { create }',
    'attribute dt;',
    'type xen_t, dt;',
    'type b_t;',
    'bool bb true;',
    'role system_r;',
    'role system_r types { xen_t b_t };',
    slots.te ?? '',
    'user system_u roles system_r;',
    slots.constraints ?? '',
    'sid xen system_u:system_r:xen_t',
    slots.devices ?? '',
    '',
  ].join('\n');
}

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
