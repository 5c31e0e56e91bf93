// The effective-access diff. Candidates come from the rules left after cancelling (see
// cancel.ts); each candidate (subject, object, class) is then decided against the whole of
// both sides (effective.ts), so a removed rule whose permissions another rule still grants
// is no change. Output: one AccessChange per (subject, object, class), sorted.

import { compareCodePoints } from '../../grammar/compare.js';
import { statementTextOf, type Side, type Universe, type URule } from './align.js';
import { cancelIdentical, partners } from './cancel.js';
import { conditionText, implies, guardText, type Condition } from './conditions.js';
import { constrained, covers, grantsOf, type ConstraintFilter, SideIndex, type Grants } from './effective.js';
import type { AccessChange, Justification } from './types.js';
import { BitSet, type IndexSet } from '../model/bitset.js';

export interface AccessDiffInput {
  readonly universe: Universe;
  readonly old: readonly URule[];
  readonly new: readonly URule[];
  readonly constraints?: ConstraintFilter;
}

export function diffAccess(input: AccessDiffInput): AccessChange[] {
  const { universe: u } = input;
  const oldIndex = new SideIndex('old', input.old);
  const newIndex = new SideIndex('new', input.new);
  const left = cancelIdentical(input.old, input.new);
  const visited = new Map<string, Set<number>>();
  const changes: AccessChange[] = [];
  const n = u.names.length;

  const decide = (s: number, t: number, cls: string): void => {
    let seen = visited.get(cls);
    if (!seen) visited.set(cls, (seen = new Set()));
    const key = s * n + t;
    if (seen.has(key)) return;
    seen.add(key);
    const subject = u.names[s] as string;
    const object = u.names[t] as string;
    const o = constrained(grantsOf(oldIndex, s, t, cls), input.constraints, 'old', subject, object, cls);
    const w = constrained(grantsOf(newIndex, s, t, cls), input.constraints, 'new', subject, object, cls);
    const change = compare(o, w, subject, object, cls);
    if (change) changes.push(change);
  };

  for (const [from, to] of [[left.new, left.old], [left.old, left.new]] as const) {
    const paired = partners(from, to);
    for (const r of from) {
      for (const [s, targets] of candidates(r, paired.get(r), n)) for (const t of targets) decide(s, t, r.cls);
    }
  }
  return changes.sort(byEntry);
}

/**
 * The (subject, targets) a remaining rule can change. With a partner written the same way,
 * pairs both cover are skipped unless the rule has permissions the partner lacks.
 */
function* candidates(r: URule, partner: URule | undefined, n: number): Iterable<[number, Iterable<number>]> {
  const fresh = partner ? r.perms.some((p) => !partner.permSet.has(p)) : true;
  const onlyHere = partner && !fresh ? minus(r.targets.set, partner.targets.set, n) : undefined;
  for (const s of r.sources.set) {
    if (!partner || fresh || !partner.sources.set.has(s)) {
      yield [s, withSelf(r.targets.set, r.self, s)];
    } else {
      const extra: number[] = [...(onlyHere ?? [])];
      if (r.self && !covers(partner, s, s)) extra.push(s);
      if (extra.length) yield [s, extra];
    }
  }
}

function* withSelf(targets: IndexSet, self: boolean, s: number): Iterable<number> {
  yield* targets;
  if (self && !targets.has(s)) yield s;
}

function minus(a: IndexSet, b: IndexSet, n: number): number[] {
  if (a instanceof BitSet && b instanceof BitSet && a.size === n && b.size === n) {
    const d = new BitSet(n, Uint32Array.from(a.words));
    d.removeAll(b);
    return [...d];
  }
  const out: number[] = [];
  for (const x of a) if (!b.has(x)) out.push(x);
  return out;
}

function compare(o: Grants, w: Grants, subject: string, object: string, cls: string): AccessChange | undefined {
  const perms = [...new Set([...o.conditions.keys(), ...w.conditions.keys()])].sort();
  const added: string[] = [];
  const removed: string[] = [];
  const conditions: { perm: string; old: string; new: string }[] = [];
  const cond = (g: Grants, p: string): Condition => (g.conditions.has(p) ? g.conditions.get(p) : []);
  for (const p of perms) {
    const oc = cond(o, p);
    const nc = cond(w, p);
    const isAdded = !implies(nc, oc);
    const isRemoved = !implies(oc, nc);
    if (isAdded) added.push(p);
    if (isRemoved) removed.push(p);
    if ((isAdded || isRemoved) && (oc !== undefined && oc.length > 0 || nc !== undefined && nc.length > 0)) {
      conditions.push({ perm: p, old: conditionText(oc), new: conditionText(nc) });
    }
  }
  if (added.length === 0 && removed.length === 0) return undefined;
  const rules = [...justify(w, added, 'new'), ...justify(o, removed, 'old')];
  return { subject, object, cls, added, removed, conditions, rules };
}

/** The rules behind the changed permissions, one justification per rule. */
function justify(g: Grants, perms: readonly string[], side: Side): Justification[] {
  const byRule = new Map<URule, string[]>();
  for (const p of perms) for (const r of g.rules.get(p) ?? []) byRule.set(r, [...(byRule.get(r) ?? []), p]);
  return [...byRule.entries()]
    .map(([r, ps]) => ({
      side, perms: ps, rule: { file: r.at.file, line: r.at.line, column: r.at.column },
      statement: statementTextOf(r), ...(r.guard ? { condition: guardText(r.guard) } : {}),
    }))
    .sort((a, b) => compareCodePoints(a.rule.file, b.rule.file) || a.rule.line - b.rule.line || compareCodePoints(a.statement, b.statement));
}


export function byEntry(a: AccessChange, b: AccessChange): number {
  return cmp(a.subject, b.subject) || cmp(a.object, b.object) || cmp(a.cls, b.cls);
}

export const cmp = compareCodePoints;
