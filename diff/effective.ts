// Effective permissions of one (subject, object, class) on one side, computed on demand from
// the rules whose source set holds the subject — never for all pairs. This is the single
// place where "what does this side grant" is decided, so constraint evaluation plugs in
// here (see ConstraintFilter) when policy/model/access.ts provides it.

import type { Side, URule } from './align.js';
import type { CondGuard, Condition } from './conditions.js';

/**
 * The seam for constraints: given a (subject, object, class) and the permissions type
 * enforcement grants, return those the side's constraints still allow for the labels that
 * matter. Absent, constraints are not evaluated and the report says so.
 */
export type ConstraintFilter = (side: Side, subject: string, object: string, cls: string, perms: ReadonlySet<string>) => ReadonlySet<string>;

/** Rules of one side indexed by (source, class): one entry per member of each source set. */
export class SideIndex {
  /** class → source → rules; numbers as inner keys keep a 10 000-member attribute rule cheap. */
  private readonly byClass = new Map<string, Map<number, URule[]>>();

  constructor(readonly side: Side, readonly rules: readonly URule[]) {
    for (const r of rules) {
      let bySource = this.byClass.get(r.cls);
      if (!bySource) this.byClass.set(r.cls, (bySource = new Map()));
      for (const s of r.sources.set) {
        const list = bySource.get(s);
        if (list) list.push(r);
        else bySource.set(s, [r]);
      }
    }
  }

  rulesFrom(source: number, cls: string): readonly URule[] {
    return this.byClass.get(cls)?.get(source) ?? [];
  }
}

function covers(r: URule, s: number, t: number): boolean {
  return r.targets.set.has(t) || (r.self && s === t);
}

/** Per permission: the condition it is granted under and the rules that grant it. */
export interface Grants {
  readonly conditions: Map<string, Condition>;
  readonly rules: Map<string, URule[]>;
}

export function grantsOf(index: SideIndex, s: number, t: number, cls: string): Grants {
  const conditions = new Map<string, CondGuard[] | undefined>();
  const rules = new Map<string, URule[]>();
  for (const r of index.rulesFrom(s, cls)) {
    if (!covers(r, s, t)) continue;
    for (const p of r.perms) {
      const prev = conditions.get(p);
      const list = rules.get(p);
      if (list) list.push(r);
      else rules.set(p, [r]);
      // undefined (always) absorbs every guard.
      if (!r.guard) conditions.set(p, undefined);
      else if (!conditions.has(p)) conditions.set(p, [r.guard]);
      else if (prev !== undefined) prev.push(r.guard);
    }
  }
  return { conditions, rules };
}

/** Applies the constraint seam to what type enforcement grants. */
export function constrained(g: Grants, filter: ConstraintFilter | undefined, side: Side, subject: string, object: string, cls: string): Grants {
  if (!filter) return g;
  const kept = filter(side, subject, object, cls, new Set(g.conditions.keys()));
  for (const p of [...g.conditions.keys()]) {
    if (!kept.has(p)) {
      g.conditions.delete(p);
      g.rules.delete(p);
    }
  }
  return g;
}
