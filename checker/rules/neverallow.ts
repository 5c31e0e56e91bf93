// neverallow — no allow rule grants what a neverallow in the policy forbids. Checked rule
// against rule on their symbolic sets: the witness is the first offending type pair and
// how many pairs there are, never the full product.

import type { Finding } from '../findings.js';
import type { ModelAvRule, PolicyModel } from '../../policy/model/model.js';
import { allowRules, neverallowRules, ruleLocation } from '../effective.js';
import type { IndexSet } from '../../policy/model/bitset.js';
import { availability } from '../../policy/booleans.js';
import type { CheckRule } from './rule.js';
import { findingText } from '../messages.js';

export const neverallow: CheckRule = {
  id: 'neverallow',
  summary: 'no allow rule grants what a neverallow forbids',
  remedy: 'Remove the permissions the neverallow forbids from the allow rule.',
  securitySeverity: 7.0,
  run(ctx) {
    const findings: Finding[] = [];
    for (const v of neverallowViolations(ctx.model, { inactiveToo: false })) {
      const [s, t] = v.first;
      const n = ruleLocation(ctx.model, v.never);
      const a = ruleLocation(ctx.model, v.allow);
      for (const [cls, ps] of v.perms) {
        findings.push({
          ruleId: 'neverallow',
          severity: 'error',
          message: findingText('Neverallow', [a, ctx.model.types[s], cls, ps.join(' '), ctx.model.types[t], v.count > 1 ? ` (and ${v.count - 1} more type pairs)` : '', n]),
          subject: ctx.model.types[s] as string,
          object: ctx.model.types[t] as string,
          class: cls,
          perms: ps,
          provenance: [a, n],
          help: findingText('NeverallowRemove', [a]),
        });
      }
    }
    return findings;
  },
};

/** An allow rule that grants what a neverallow forbids: the permissions by class, the first type pair and how many. */
interface NeverallowViolation {
  readonly never: ModelAvRule;
  readonly allow: ModelAvRule;
  /** class → the forbidden permissions the allow rule grants, sorted. */
  readonly perms: ReadonlyMap<string, readonly string[]>;
  readonly first: readonly [number, number];
  readonly count: number;
}

/**
 * Every (neverallow, allow rule) pair that overlaps, in policy order. `inactiveToo`: also
 * allow rules under a guard no boolean state makes true — checkpolicy refuses those as well
 * (libsepol's check_assertions reads the conditional rules of both branches), while the
 * proof only counts what can be granted.
 */
export function neverallowViolations(model: PolicyModel, options: { readonly inactiveToo: boolean }): NeverallowViolation[] {
  const out: NeverallowViolation[] = [];
  const counts = new SetCounts();
  for (const never of neverallowRules(model)) {
    for (const allow of allowRules(model)) {
      const perms = overlapPerms(model, never, allow);
      if (!perms.length) continue;
      if (!options.inactiveToo && availability(model, [allow.guard]).never) continue;
      const pairs = overlapPairs(never, allow, counts);
      if (!pairs.first) continue;
      const byClass = new Map<string, string[]>();
      for (const [cls, p] of perms) byClass.set(cls, [...(byClass.get(cls) ?? []), p]);
      for (const list of byClass.values()) list.sort();
      out.push({ never, allow, perms: byClass, first: pairs.first, count: pairs.count });
    }
  }
  return out;
}

function overlapPerms(model: PolicyModel, never: ModelAvRule, allow: ModelAvRule): [string, string][] {
  const out: [string, string][] = [];
  for (const [ci, bits] of never.perms) {
    const granted = allow.perms.get(ci);
    // Asked of every allow rule for each neverallow (400 000 at 10 000 domains), most of
    // which share no permission with it: a word test before any permission is listed.
    if (!granted || !bits.intersects(granted)) continue;
    const info = model.classes[ci];
    for (const p of bits) if (granted.has(p)) out.push([info?.name as string, info?.perms[p] as string]);
  }
  return out;
}

/**
 * The smaller of two sets, by a count made once per set: a neverallow over `*` is met by
 * every allow rule granting one of its permissions (tens of thousands on a large host), and
 * counting its bit per type each time was most of this rule's cost.
 */
function smaller(a: IndexSet, b: IndexSet, counts: SetCounts): [IndexSet, IndexSet] {
  return counts.of(a) <= counts.of(b) ? [a, b] : [b, a];
}

class SetCounts {
  private readonly known = new WeakMap<IndexSet, number>();
  of(set: IndexSet): number {
    let n = this.known.get(set);
    if (n === undefined) this.known.set(set, (n = set.count()));
    return n;
  }
}

/** The type pairs both rules cover (targets or `self`), counted, with the first one. */
function overlapPairs(never: ModelAvRule, allow: ModelAvRule, counts: SetCounts): { first?: [number, number]; count: number } {
  const [small, large] = smaller(never.sources, allow.sources, counts);
  const [ts] = smaller(never.targets, allow.targets, counts);
  const covers = (r: ModelAvRule, s: number, t: number): boolean => r.targets.has(t) || (r.self && t === s);
  let first: [number, number] | undefined;
  let count = 0;
  for (const s of small) {
    if (!large.has(s)) continue;
    const candidates = new Set<number>(ts);
    if (never.self || allow.self) candidates.add(s);
    for (const t of candidates) {
      if (covers(never, s, t) && covers(allow, s, t)) {
        first ??= [s, t];
        count++;
      }
    }
  }
  return { ...(first ? { first } : {}), count };
}
