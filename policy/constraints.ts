// Whether the policy's constraints let an allow take effect for given contexts. The
// decision itself is the security server's (policy/model/access.ts, the algorithm of Xen's
// services.c); this is the checker's one door to it, answering with the constraint to cite.

import { printConstraint } from './grammar/printer.js';
import type { PolicyModel, Provenance } from './model/model.js';
import { constraintsAllow, type SecurityContext } from './model/access.js';

export interface ConstraintDenial {
  readonly at: Provenance;
  readonly text: string;
}

export function constraintDenial(model: PolicyModel, scontext: SecurityContext, tcontext: SecurityContext, cls: string, perm: string): ConstraintDenial | undefined {
  if (model.constraints.length === 0) return undefined;
  const denying = constraintsAllow(model, scontext, tcontext, cls, [perm])[0];
  return denying ? { at: denying.at, text: `${denying.kind} ${cls} ${perm} (${printConstraint(denying.expr)})` } : undefined;
}
