// Shared by the rules that ask "what does this subject hold, rule by rule": the permissions
// a rule grants in one class, split by whether each one is needed, with the objects it
// reaches — kept as the rule wrote them, so an attribute-wide rule is one finding.

import type { ModelAvRule } from '../../policy/model/model.js';
import { availability, type Assignment } from '../../policy/booleans.js';
import type { CheckContext } from '../context.js';
import { constraintBlocks } from '../context.js';
import { objectsOf } from '../effective.js';

export interface RuleGrant {
  readonly rule: ModelAvRule;
  readonly cls: string;
  /** perm → objects (type indices) it is granted on, after the caller's filter. */
  readonly perms: ReadonlyMap<string, readonly number[]>;
  readonly booleans?: Assignment;
}

/**
 * Per class of one rule from `subject`: the (perm, object) pairs that pass `keep`, dropping
 * those a constraint blocks and rules whose guard can never hold.
 */
export function ruleGrants(
  ctx: CheckContext,
  subject: number,
  rule: ModelAvRule,
  keep: (object: number, cls: string, perm: string) => boolean,
): RuleGrant[] {
  const avail = availability(ctx.model, [rule.guard]);
  if (avail.never) return [];
  const objects = objectsOf(rule, subject);
  const out: RuleGrant[] = [];
  for (const [ci, bits] of rule.perms) {
    const info = ctx.model.classes[ci];
    if (!info) continue;
    const perms = new Map<string, number[]>();
    for (const p of bits) {
      const perm = info.perms[p] as string;
      const hit = objects.filter((o) => keep(o, info.name, perm) && !constraintBlocks(ctx, subject, o, info.name, perm));
      if (hit.length) perms.set(perm, hit);
    }
    if (perms.size) out.push({ rule, cls: info.name, perms, ...(rule.guard && avail.grantedWhen ? { booleans: avail.grantedWhen } : {}) });
  }
  return out;
}

/** The union of objects over a grant's permissions, sorted. */
export function grantObjects(g: RuleGrant): number[] {
  return [...new Set([...g.perms.values()].flat())].sort((a, b) => a - b);
}

export function sortedPerms(perms: Iterable<string>): string[] {
  return [...new Set(perms)].sort();
}
