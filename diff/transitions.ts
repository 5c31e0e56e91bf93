// type_transition changes: the type Xen computes for `_self` (class domain), a device
// model's `_target` and event channels (`_channel`). Same method as the access diff:
// identical rules cancel, only the (source, target, class) the remaining rules name are
// recomputed on both sides — the last matching rule wins, as checkpolicy orders them.
// Conditional transitions are evaluated in the booleans' declared default state.

import type { PolicyModel, Provenance } from '../policy/model/model.js';
import { guardHolds } from '../policy/model/query.js';
import { statementTextOf, type SetInterner, type Universe, type USet, type Written } from './align.js';
import { cmp, EXPAND_LIMIT } from './access.js';
import type { Justification, TransitionChange } from './types.js';

export interface UTypeRule {
  readonly sources: USet;
  readonly targets: USet;
  readonly self: boolean;
  readonly cls: string;
  readonly result: string;
  readonly active: boolean;
  readonly at: Provenance;
  readonly written: Written;
  readonly signature: string;
}

export function translateTypeRules(model: PolicyModel, text: string, universe: Universe, interner: SetInterner): UTypeRule[] {
  const map = universe.mapModel(model);
  const out: UTypeRule[] = [];
  const cache = new Map<object, USet>();
  const tr = (s: Iterable<number>): USet => {
    let u = cache.get(s);
    if (!u) cache.set(s, (u = interner.intern([...s].map((i) => map[i] as number))));
    return u;
  };
  for (const r of model.typeRules) {
    if (r.kind !== 'type_transition' || r.objectName !== undefined) continue;
    const active = guardHolds(r.guard, model.booleans);
    const sources = tr(r.sources);
    const targets = tr(r.targets);
    const result = model.types[r.result] as string;
    const written = { text, start: r.statement.span.start, end: r.statement.span.end };
    for (const ci of r.classes) {
      const cls = model.classes[ci]?.name ?? '?';
      out.push({ sources, targets, self: r.self, cls, result, active, at: r.at, written, signature: `${sources.id}|${targets.id}|${r.self}|${cls}|${result}|${active}` });
    }
  }
  return out;
}

function resultOf(rules: readonly UTypeRule[], s: number, t: number, cls: string): UTypeRule | undefined {
  let hit: UTypeRule | undefined;
  for (const r of rules) {
    if (r.active && r.cls === cls && r.sources.set.has(s) && (r.targets.set.has(t) || (r.self && s === t))) hit = r;
  }
  return hit;
}

function bySource(rules: readonly UTypeRule[]): Map<number, UTypeRule[]> {
  const m = new Map<number, UTypeRule[]>();
  for (const r of rules) {
    for (const s of r.sources.set) {
      const list = m.get(s);
      if (list) list.push(r);
      else m.set(s, [r]);
    }
  }
  return m;
}

export function diffTransitions(u: Universe, o: readonly UTypeRule[], w: readonly UTypeRule[]): TransitionChange[] {
  const count = new Map<string, number>();
  for (const r of o) count.set(r.signature, (count.get(r.signature) ?? 0) + 1);
  for (const r of w) count.set(r.signature, (count.get(r.signature) ?? 0) - 1);
  const remaining = [...o, ...w].filter((r) => (count.get(r.signature) ?? 0) !== 0);
  if (remaining.length === 0) return [];
  const oi = bySource(o);
  const wi = bySource(w);
  const seen = new Set<string>();
  const out: TransitionChange[] = [];
  // Past the listing limit, changes are grouped (class, old and new result, rules) with a count and examples.
  const groups = new Map<string, { change: TransitionChange; count: number; examples: { subject: string; object: string }[] }>();
  let total = 0;
  const just = (side: 'old' | 'new', r: UTypeRule): Justification => ({ side, perms: [], rule: { file: r.at.file, line: r.at.line, column: r.at.column }, statement: statementTextOf(r) });
  for (const r of remaining) {
    for (const s of r.sources.set) {
      for (const t of [...r.targets.set, ...(r.self ? [s] : [])]) {
        const key = `${s}|${t}|${r.cls}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const a = resultOf(oi.get(s) ?? [], s, t, r.cls);
        const b = resultOf(wi.get(s) ?? [], s, t, r.cls);
        if (a?.result === b?.result) continue;
        const change: TransitionChange = {
          source: u.names[s] as string, target: u.names[t] as string, cls: r.cls,
          ...(a ? { old: a.result } : {}), ...(b ? { new: b.result } : {}),
          rules: [...(a ? [just('old', a)] : []), ...(b ? [just('new', b)] : [])],
        };
        total++;
        if (total <= EXPAND_LIMIT) out.push(change);
        const g = `${r.cls}\u0000${a?.result ?? ''}\u0000${b?.result ?? ''}\u0000${a ? a.signature + a.at.line : ''}\u0000${b ? b.signature + b.at.line : ''}`;
        const group = groups.get(g) ?? { change, count: 0, examples: [] };
        group.count++;
        if (group.examples.length < 5) group.examples.push({ subject: change.source, object: change.target });
        groups.set(g, group);
      }
    }
  }
  const sorted = (xs: TransitionChange[]): TransitionChange[] => xs.sort((x, y) => cmp(x.source, y.source) || cmp(x.target, y.target) || cmp(x.cls, y.cls));
  if (total <= EXPAND_LIMIT) return sorted(out);
  return sorted([...groups.values()].map((g) => ({ ...g.change, pairs: { count: g.count, examples: g.examples } })));
}
