// The checker's driver: every proof rule (one file each in rules/, ids in findings.ts
// RULE_IDS) over one check context, findings in a deterministic order, and the verdict.
// "Proven" means no finding of severity error.

import type { IR } from '../compiler/ir.js';
import type { SourceText } from '../core/source.js';
import type { PolicyModel } from '../policy/model/model.js';
import { DEFAULT_CHECK_OPTIONS, type CheckContext, type CheckOptions } from './context.js';
import { isProven, RULE_IDS, sortFindings, type Finding, type FindingSeverity, type RuleId } from './findings.js';
import { buildIntent, DEFAULT_TRUSTED } from './intent.js';
import type { XenstoreState, XlLabel } from './inputs.js';
import type { CheckRule } from './rules/rule.js';
import { excess } from './rules/excess.js';
import { insufficient } from './rules/insufficient.js';
import { undeclaredTarget } from './rules/undeclared-target.js';
import { reverseAccess } from './rules/reverse-access.js';
import { sharedLabel } from './rules/shared-label.js';
import { escalation, privilegeGraph } from './rules/escalation.js';
import { crossTargetFlow } from './rules/cross-target-flow.js';
import { xenstoreAcl } from './rules/xenstore-acl.js';
import { label } from './rules/label.js';
import { neverallow } from './rules/neverallow.js';
import { permissive } from './rules/permissive.js';
import type { PrivilegeGraph } from './graph.js';

export const CHECK_RULES: readonly CheckRule[] = [
  excess, insufficient, undeclaredTarget, reverseAccess, sharedLabel, escalation, crossTargetFlow, xenstoreAcl, label, neverallow, permissive,
];

export interface CheckInput {
  readonly ir: IR;
  /** The spec's text, to turn spans into lines. */
  readonly spec: SourceText;
  readonly model: PolicyModel;
  /** The policy as the user knows it: a file, a Xen tree, or our compiled output. */
  readonly policyName: string;
  readonly xl?: readonly XlLabel[];
  readonly xenstore?: XenstoreState;
  readonly trusted?: readonly string[];
  readonly options?: Partial<CheckOptions>;
  /** Only these rules (all when absent). */
  readonly rules?: readonly RuleId[];
}

export interface CheckReport {
  readonly spec: string;
  readonly policy: string;
  readonly proven: boolean;
  readonly findings: readonly Finding[];
  readonly counts: Readonly<Record<RuleId, Readonly<Record<FindingSeverity, number>>>>;
  readonly introspectors: readonly string[];
  readonly context: CheckContext;
  readonly graph: PrivilegeGraph;
}

export function runChecks(input: CheckInput): CheckReport {
  const intent = buildIntent(input.ir, input.model, input.trusted ?? DEFAULT_TRUSTED);
  const context: CheckContext = {
    model: input.model,
    intent,
    spec: input.spec,
    xl: input.xl ?? [],
    ...(input.xenstore ? { xenstore: input.xenstore } : {}),
    options: { ...DEFAULT_CHECK_OPTIONS, ...input.options },
  };
  const rules = CHECK_RULES.filter((r) => !input.rules || input.rules.includes(r.id));
  const findings = sortFindings(rules.flatMap((r) => r.run(context)));
  const counts = Object.fromEntries(RULE_IDS.map((id) => [id, { error: 0, warning: 0, note: 0 }])) as Record<RuleId, Record<FindingSeverity, number>>;
  for (const f of findings) counts[f.ruleId][f.severity]++;
  return {
    spec: input.spec.file,
    policy: input.policyName,
    proven: isProven(findings),
    findings,
    counts,
    introspectors: intent.introspectors.map((i) => i.name),
    context,
    graph: privilegeGraph(context),
  };
}
