// The effective-access diff. Candidates come from the rules left after cancelling (see
// cancel.ts), and from every rule of a class whose constraints decide differently on the
// two sides (a constraint dropped, loosened, or its operands' types changed). Each
// candidate is a pair of blocks of interchangeable types (blocks.ts), decided once against
// the whole of both sides (effective.ts), so a removed rule whose permissions another rule
// still grants is no change, and an attribute×attribute rule costs its few blocks, not
// |S|×|T| pairs. Output: one AccessChange per (subject, object, class), sorted — or, past
// `expandLimit` changed pairs, one per distinct change with its count and examples; the
// verdict (is anything added?) is decided over every pair either way.

import { compareCodePoints } from '../core/compare.js';
import { statementTextOf, type Side, type Universe, type URule } from './align.js';
import { TypeBlocks, type BlockPair } from './blocks.js';
import { cancelIdentical, partners } from './cancel.js';
import { conditionText, implies, guardText, type Condition } from './conditions.js';
import { constrained, grantsOf, type ConstraintFilter, SideIndex, type Grants } from './effective.js';
import type { AccessChange, Justification } from './types.js';

interface AccessDiffInput {
  readonly universe: Universe;
  readonly old: readonly URule[];
  readonly new: readonly URule[];
  readonly constraints?: ConstraintFilter;
  /** Classes whose constraints may decide differently on the two sides: every pair a rule of theirs covers is a candidate. */
  readonly affectedClasses?: ReadonlySet<string>;
  /** What the decision reads of a type beyond the rules' sets (constraint operands, permissive); equal for interchangeable types. */
  readonly feature?: (type: number) => string;
  /**
   * Subjects that are permissive on a side (Xen allows their every denial): their access
   * is all or nothing and is reported by the permissive delta (semantics.ts), not pair by pair.
   */
  readonly permissive?: Readonly<Record<Side, ReadonlySet<number>>>;
  /** Past this many changed (subject, object) pairs, the listing is aggregated. */
  readonly expandLimit?: number;
}

/** The default listing limit: a review reads a few thousand lines, not 360 000. */
export const EXPAND_LIMIT = 2000;

/** What was decided for one block pair: a change of its representative, standing for `count` pairs. */
interface Decided {
  readonly pair: BlockPair;
  readonly change: AccessChange;
  readonly blocks: TypeBlocks;
}

/** Both sides' rules indexed, the types partitioned: what every effective-access question needs. */
export class AccessEngine {
  readonly universe: Universe;
  private readonly index: Record<Side, SideIndex>;
  private readonly blocksByClass = new Map<string, TypeBlocks>();
  private readonly rulesByClass = new Map<string, URule[]>();

  constructor(readonly input: AccessDiffInput) {
    this.universe = input.universe;
    this.index = { old: new SideIndex('old', input.old), new: new SideIndex('new', input.new) };
    for (const r of [...input.old, ...input.new]) {
      const list = this.rulesByClass.get(r.cls);
      if (list) list.push(r);
      else this.rulesByClass.set(r.cls, [r]);
    }
  }

  /**
   * The blocks of one class: only the sets its rules name split it (a host's per-type
   * rules of other classes leave an attribute of this one whole).
   */
  blocks(cls: string): TypeBlocks {
    let b = this.blocksByClass.get(cls);
    if (!b) this.blocksByClass.set(cls, (b = new TypeBlocks(this.universe.names.length, this.rulesByClass.get(cls) ?? [], this.input.feature)));
    return b;
  }

  /** What a side grants `s` on `t` in `cls`, type enforcement and constraints (each permission with its condition). */
  grants(side: Side, s: number, t: number, cls: string): Grants {
    const u = this.universe.names;
    return constrained(grantsOf(this.index[side], s, t, cls), this.input.constraints, side, u[s] as string, u[t] as string, cls);
  }

  /** Permissions of `w` granted in some boolean state in which `o` does not grant them. */
  static added(o: Grants, w: Grants): string[] {
    const cond = (g: Grants, p: string): Condition => (g.conditions.has(p) ? g.conditions.get(p) : []);
    return [...w.conditions.keys()].filter((p) => !implies(cond(w, p), cond(o, p))).sort(cmp);
  }

  changes(): AccessChange[] {
    const { input, universe: u } = this;
    const left = cancelIdentical(input.old, input.new);
    const visited = new Map<string, Set<number>>();
    const decided: Decided[] = [];

    const decide = (pair: BlockPair, cls: string): void => {
      const blocks = this.blocks(cls);
      let seen = visited.get(cls);
      if (!seen) visited.set(cls, (seen = new Set()));
      const key = (pair.source * blocks.target.members.length + pair.target) * 2 + (pair.diagonal ? 1 : 0);
      if (seen.has(key)) return;
      seen.add(key);
      const rep = blocks.representative(pair);
      if (!rep) return;
      const [s, t] = rep;
      if (input.permissive?.old.has(s) || input.permissive?.new.has(s)) return;
      const change = compare(this.grants('old', s, t, cls), this.grants('new', s, t, cls), u.names[s] as string, u.names[t] as string, cls);
      if (change) decided.push({ pair, change, blocks });
    };

    for (const [from, to] of [[left.new, left.old], [left.old, left.new]] as const) {
      const paired = partners(from, to);
      for (const r of from) for (const pair of candidates(this.blocks(r.cls), r, paired.get(r))) decide(pair, r.cls);
    }
    if (input.affectedClasses?.size) {
      for (const r of [...input.old, ...input.new]) {
        if (input.affectedClasses.has(r.cls)) for (const pair of candidates(this.blocks(r.cls), r, undefined)) decide(pair, r.cls);
      }
    }
    const total = decided.reduce((sum, d) => sum + d.blocks.count(d.pair), 0);
    return total <= (input.expandLimit ?? EXPAND_LIMIT) ? expand(u, decided) : aggregate(u, decided);
  }

  /** The rules of a side. */
  rules(side: Side): readonly URule[] {
    return side === 'old' ? this.input.old : this.input.new;
  }
}

/**
 * The block pairs a remaining rule can change. With a partner written the same way (an
 * attribute rule whose members changed), pairs both cover are skipped unless the rule has
 * permissions the partner lacks.
 */
function* candidates(blocks: TypeBlocks, r: URule, partner: URule | undefined): Iterable<BlockPair> {
  const fresh = partner ? r.perms.some((p) => !partner.permSet.has(p)) : true;
  const targets = blocks.target.blocksIn(r.targets);
  const first = (members: readonly number[][], b: number): number => (members[b] as number[])[0] as number;
  for (const a of blocks.source.blocksIn(r.sources)) {
    const partnerFrom = partner !== undefined && !fresh && partner.sources.set.has(first(blocks.source.members, a));
    for (const b of targets) {
      if (partnerFrom && partner.targets.set.has(first(blocks.target.members, b))) continue;
      yield { source: a, target: b, diagonal: false };
      yield { source: a, target: b, diagonal: true };
    }
    if (!r.self) continue;
    for (const b of blocks.diagonalTargets(a)) {
      if (partnerFrom && (partner.self || partner.targets.set.has(first(blocks.target.members, b)))) continue;
      yield { source: a, target: b, diagonal: true };
    }
  }
}

/** One AccessChange per (subject, object, class): the representative's change, renamed. */
function expand(u: Universe, decided: readonly Decided[]): AccessChange[] {
  const out: AccessChange[] = [];
  for (const { pair, change, blocks } of decided) {
    for (const [s, t] of blocks.pairs(pair)) out.push({ ...change, subject: u.names[s] as string, object: u.names[t] as string });
  }
  return out.sort(byEntry);
}

const EXAMPLES = 5;

/**
 * One AccessChange per distinct change (class, permissions, conditions, rules), with how
 * many (subject, object) pairs have it and a few of them; subject and object are the
 * first example.
 */
function aggregate(u: Universe, decided: readonly Decided[]): AccessChange[] {
  const groups = new Map<string, { change: AccessChange; count: number; examples: { subject: string; object: string }[] }>();
  for (const { pair, change, blocks } of decided) {
    const key = JSON.stringify([change.cls, change.added, change.removed, change.conditions, change.rules]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { change, count: 0, examples: [] }));
    g.count += blocks.count(pair);
    let taken = 0;
    for (const [s, t] of blocks.pairs(pair)) {
      g.examples.push({ subject: u.names[s] as string, object: u.names[t] as string });
      if (++taken === EXAMPLES) break;
    }
    if (g.examples.length > 4 * EXAMPLES) g.examples = byExample(g.examples).slice(0, EXAMPLES);
  }
  return [...groups.values()]
    .map((g) => ({ ...g, examples: byExample(g.examples).slice(0, EXAMPLES) }))
    .map((g) => ({ ...g.change, subject: (g.examples[0] as { subject: string }).subject, object: (g.examples[0] as { object: string }).object, pairs: { count: g.count, examples: g.examples } }))
    .sort(byEntry);
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


function byExample<T extends { subject: string; object: string }>(xs: T[]): T[] {
  return xs.sort((a, b) => cmp(a.subject, b.subject) || cmp(a.object, b.object));
}

export function byEntry(a: AccessChange, b: AccessChange): number {
  return cmp(a.subject, b.subject) || cmp(a.object, b.object) || cmp(a.cls, b.cls);
}

export const cmp = compareCodePoints;
