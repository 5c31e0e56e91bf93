// Identical rules cancel. A (subject, object, class, perm) that one side grants and the
// other does not (in some boolean state) must come from a rule with no identical twin on
// the other side — the twin would grant it too. So only the rules left after cancelling
// are expanded, and the stock attribute×attribute rules, unchanged, cost nothing.

import { partnerKey, type URule } from './align.js';

interface Cancelled {
  readonly old: URule[];
  readonly new: URule[];
}

/** Removes rules present on both sides (as multisets of signatures). */
export function cancelIdentical(oldRules: readonly URule[], newRules: readonly URule[]): Cancelled {
  const counts = new Map<string, number>();
  for (const r of oldRules) counts.set(r.signature, (counts.get(r.signature) ?? 0) + 1);
  const keptNew: URule[] = [];
  const matched = new Map<string, number>();
  for (const r of newRules) {
    const left = counts.get(r.signature) ?? 0;
    if (left > 0) {
      counts.set(r.signature, left - 1);
      matched.set(r.signature, (matched.get(r.signature) ?? 0) + 1);
    } else {
      keptNew.push(r);
    }
  }
  const keptOld: URule[] = [];
  for (const r of oldRules) {
    const m = matched.get(r.signature) ?? 0;
    if (m > 0) matched.set(r.signature, m - 1);
    else keptOld.push(r);
  }
  return { old: keptOld, new: keptNew };
}

/**
 * Pairs each remaining rule with the remaining rule on the other side written the same way
 * (same names, class and guard): an attribute rule whose attribute gained members. Only
 * the difference of their coverage needs expanding then.
 */
export function partners(from: readonly URule[], to: readonly URule[]): Map<URule, URule> {
  const byKey = new Map<string, URule[]>();
  for (const r of to) {
    const k = partnerKey(r);
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }
  const out = new Map<URule, URule>();
  for (const r of from) {
    const p = byKey.get(partnerKey(r))?.shift();
    if (p) out.set(r, p);
  }
  return out;
}
