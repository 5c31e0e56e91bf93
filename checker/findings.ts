// What the checker reports: findings with stable rule ids (RULE_IDS below; README.md "check —
// prove least privilege" says what each proves), each carrying the spec position it
// violates and the policy rules that make it true. A finding that cannot say which rule
// grants it is a bug, so `provenance` is never empty for a permission.

import { compareCodePoints } from '../core/compare.js';
import { renderFindingText, type FindingText } from './messages.js';

export const RULE_IDS = [
  'excess',
  'insufficient',
  'undeclared-target',
  'reverse-access',
  'shared-label',
  'escalation',
  'cross-target-flow',
  'xenstore-acl',
  'label',
  'neverallow',
  'permissive',
] as const;

export type RuleId = (typeof RULE_IDS)[number];

/** error: the proof fails · warning: shown, the proof holds · note: context for the reader. */
export type FindingSeverity = 'error' | 'warning' | 'note';

/** A place in a file: the spec, a policy source (through #line), an xl config or a dump. */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** What is at that place: 'spec' (the declaration), 'policy' (a rule), 'xl', 'xenstore'. */
  readonly kind: 'spec' | 'policy' | 'xl' | 'xenstore';
  /** The statement as written, when it is a policy rule. */
  readonly text?: string;
}

/** One step of a witness path: `from` holds `cls:perms` on `to`, because of `rule`. */
export interface Hop {
  readonly from: string;
  readonly to: string;
  /** How the step gives `from` the rights of `to`: the permission, or a relabel/create/set_target chain. */
  readonly via: string;
  readonly cls: string;
  readonly perms: readonly string[];
  readonly rules: readonly Location[];
}

export interface Witness {
  /** Every minimal path found, up to the bound; each path is a list of hops. */
  readonly paths: readonly (readonly Hop[])[];
  /** True when more minimal paths exist than were listed. */
  readonly truncated: boolean;
}

export interface Finding {
  readonly ruleId: RuleId;
  readonly severity: FindingSeverity;
  /** What the finding says, as a catalog id and arguments (checker/messages.ts); prose at render time. */
  readonly message: FindingText;
  readonly subject: string;
  readonly object: string;
  readonly class?: string;
  readonly perms: readonly string[];
  /** Every object type the finding covers, when `object` summarises several (an attribute, a count). */
  readonly objects?: readonly string[];
  /** Every subject type the finding covers, when `subject` summarises several. */
  readonly subjects?: readonly string[];
  /**
   * How many instances the finding stands for when it aggregates several that one rule (or
   * one combination of rules) makes true: nodes reached, domain pairs a flow joins.
   */
  readonly count?: number;
  /** The first few of those instances in code-point order, spelled out; the witness shows these. */
  readonly examples?: readonly string[];
  /** Spec declaration first, then the policy rules (or xl / xenstore lines) behind the finding. */
  readonly provenance: readonly Location[];
  readonly witness?: Witness;
  /** Boolean values under which the finding appears, when it depends on them. */
  readonly booleans?: Readonly<Record<string, boolean>>;
  /** What to do next, as a catalog id and arguments. */
  readonly help?: FindingText;
}

const SEVERITY_ORDER: Readonly<Record<FindingSeverity, number>> = { error: 0, warning: 1, note: 2 };

/** Deterministic order: severity, rule, subject, object, class, message. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      RULE_IDS.indexOf(a.ruleId) - RULE_IDS.indexOf(b.ruleId) ||
      cmp(a.subject, b.subject) ||
      cmp(a.object, b.object) ||
      cmp(a.class ?? '', b.class ?? '') ||
      cmp(renderFindingText(a.message), renderFindingText(b.message)),
  );
}

/** The findings' string order: code points (one comparator for the whole project). */
const cmp = compareCodePoints;

export function isProven(findings: readonly Finding[]): boolean {
  return !findings.some((f) => f.severity === 'error');
}
