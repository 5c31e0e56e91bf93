// Two policies name the same types with different indices. Alignment gives both one type
// universe (by name) and translates each allow rule into it, one rule per class, with its
// source and target sets kept symbolic: an attribute's member set is translated once and
// shared by every rule that names the attribute, so nothing here grows with |S|×|T|.
// The universe grows as sides are added, so OLD can be translated (and its parse tree
// dropped) before NEW is read: only one whole policy is ever in memory.

import type { BoolExpr } from '../policy/grammar/ast.js';
import { BitSet, SmallSet, type IndexSet } from '../policy/model/bitset.js';
import type { PolicyModel, Provenance } from '../policy/model/model.js';
import { guardText, type CondGuard } from './conditions.js';

export type Side = 'old' | 'new';

/** Sets of at most this many types are kept as sorted arrays (the model's own threshold). */
const SMALL = 64;

/** Type names of both sides, by first appearance (OLD's order, then NEW's additions). */
export class Universe {
  readonly names: string[] = [];
  readonly index = new Map<string, number>();

  add(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) this.index.set(name, (i = this.names.push(name) - 1));
    return i;
  }

  /** model type index → universe index */
  mapModel(model: PolicyModel): Int32Array {
    return Int32Array.from(model.types, (t) => this.add(t));
  }
}

/** A set of universe indices, with an identity that equal sets share (for signatures). */
export interface USet {
  readonly id: number;
  readonly set: IndexSet;
  readonly size: number;
}

/** Interns translated sets: equal sets get one id, so identical rules compare by number. */
export class SetInterner {
  private readonly byHash = new Map<string, USet[]>();
  private next = 0;

  constructor(private readonly universe: Universe) {}

  intern(indices: Iterable<number>): USet {
    const sorted = Int32Array.from(indices).sort();
    // BitSets are sized to the universe as it is now; membership beyond it reads as absent.
    const set: IndexSet = sorted.length <= SMALL ? new SmallSet(sorted) : BitSet.of(this.universe.names.length, sorted);
    const hash = `${sorted.length}:${fnv(sorted)}`;
    const bucket = this.byHash.get(hash) ?? [];
    for (const u of bucket) if (sameMembers(u.set, sorted)) return u;
    const u = { id: this.next++, set, size: sorted.length };
    bucket.push(u);
    this.byHash.set(hash, bucket);
    return u;
  }
}

function fnv(xs: Int32Array): number {
  let h = 0x811c9dc5;
  for (const x of xs) h = Math.imul(h ^ x, 0x01000193) >>> 0;
  return h;
}

function sameMembers(set: IndexSet, sorted: Int32Array): boolean {
  if (set.count() !== sorted.length) return false;
  for (const x of sorted) if (!set.has(x)) return false;
  return true;
}

/** Where a rule is written: its policy text and span, sliced only when a change is reported. */
export interface Written {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** One allow rule for one class, in universe indices. */
export interface URule {
  readonly side: Side;
  readonly sources: USet;
  readonly targets: USet;
  readonly self: boolean;
  readonly cls: string;
  /** Sorted permission names. */
  readonly perms: readonly string[];
  readonly permSet: ReadonlySet<string>;
  readonly guard?: CondGuard;
  readonly at: Provenance;
  readonly written: Written;
  /** Equal on both sides exactly when the rules grant the same (s, t, c, p) set under the same guard. */
  readonly signature: string;
  /** Guard text ("" when unconditional), part of both keys. */
  readonly guardKey: string;
}

/**
 * The rule as written, without its comments (whitespace collapsed), e.g.
 * `allow domain_type domain_type:argo { … };`. A `#` starts a comment to the end of the
 * line, m4's `#line N "file"` markers included (policy/grammar/tokens.ts, as checkpolicy's lexer
 * skips them); the statements quoted here (allow and type_transition rules without an
 * object name) hold no quoted string a `#` could sit in, so dropping every `#…` to the end
 * of its line quotes exactly the tokens the parser read.
 */
export function statementTextOf(r: { readonly written: Written }): string {
  return r.written.text.slice(r.written.start, r.written.end).replace(/#[^\n]*/g, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * Equal when two rules are written the same (same names, class and guard), whatever the
 * names now expand to.
 */
export function partnerKey(r: URule): string {
  return `${statementTextOf(r)}|${r.cls}|${r.guardKey}`;
}

/** Detaches a guard from the AST node around it (only the expression is kept). */
function guardOf(g: { expr: BoolExpr; branch: boolean } | undefined): CondGuard | undefined {
  return g ? { expr: g.expr, branch: g.branch } : undefined;
}

/** Translates every `allow` rule of one side; attribute sets are translated once each. */
export function translateRules(model: PolicyModel, text: string, side: Side, universe: Universe, interner: SetInterner): URule[] {
  const map = universe.mapModel(model);
  const cache = new Map<IndexSet, USet>();
  const tr = (s: IndexSet): USet => {
    let u = cache.get(s);
    if (!u) cache.set(s, (u = interner.intern(mapped(s, map))));
    return u;
  };
  // Most rules of a host repeat a few permission lists: share them (arrays, sets, keys).
  const permCache = new Map<string, { perms: readonly string[]; permSet: ReadonlySet<string>; key: string }>();
  const permsOf = (names: string[]) => {
    const key = names.join(',');
    let e = permCache.get(key);
    if (!e) permCache.set(key, (e = { perms: names, permSet: new Set(names), key }));
    return e;
  };
  const out: URule[] = [];
  for (const r of model.avRules) {
    if (r.kind !== 'allow') continue;
    const sources = tr(r.sources);
    const targets = tr(r.targets);
    const guard = guardOf(r.guard);
    const g = guard ? guardText(guard) : '';
    const written = { text, start: r.statement.span.start, end: r.statement.span.end };
    for (const [ci, bits] of r.perms) {
      const info = model.classes[ci];
      if (!info) continue;
      const names = [...bits].map((p) => info.perms[p] as string).sort();
      if (names.length === 0) continue;
      const { perms, permSet, key } = permsOf(names);
      out.push({
        side, sources, targets, self: r.self, cls: info.name, perms, permSet, ...(guard ? { guard } : {}), at: r.at, written,
        signature: `${sources.id}|${targets.id}|${r.self ? 1 : 0}|${info.name}|${key}|${g}`,
        guardKey: g,
      });
    }
  }
  return out;
}

function* mapped(s: IndexSet, map: Int32Array): Iterable<number> {
  for (const i of s) yield map[i] as number;
}
