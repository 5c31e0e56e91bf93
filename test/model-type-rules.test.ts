// Conflicting type rules (VP3316, policy/model/build.ts conflictingTypeRules) found through
// an index of the types each rule covers, against the plain definition: every later rule
// compared with every earlier one in turn, the first that shares a target type and gives
// another result reported. On random sets of type rules — single types, attributes, `self`,
// several classes, kinds and results — both report the same rules, pairs and results, in
// the same order. (test/diagnostics-uncovered.test.ts checks the cases against checkpolicy.)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { diagnostic } from '../core/diagnostics.js';
import { buildModel } from '../policy/model/build.js';
import type { ModelTypeRule, PolicyModel } from '../policy/model/model.js';
import { parsePolicy } from '../policy/grammar/parse.js';

const TYPES = ['ta', 'tb', 'tc', 'td'];

/** The definition, rule pair by rule pair: what VP3316 must say, as "kind key earlier later @offset". */
function bruteForce(model: PolicyModel): string[] {
  const buckets = new Map<string, ModelTypeRule[]>();
  for (const r of model.typeRules) {
    if (r.guard !== undefined || r.objectName !== undefined) continue;
    for (const s of r.sources) {
      for (const c of r.classes) {
        const key = `${r.kind} ${c} ${s}`;
        buckets.set(key, [...(buckets.get(key) ?? []), r]);
      }
    }
  }
  const covers = (r: ModelTypeRule, t: number, source: number): boolean => r.targets.has(t) || (r.self && t === source);
  const out: string[] = [];
  const reported = new Set<ModelTypeRule>();
  for (const [key, rules] of buckets) {
    const [kind, c, s] = key.split(' ') as [string, string, string];
    const source = Number(s);
    for (let j = 1; j < rules.length; j++) {
      const later = rules[j] as ModelTypeRule;
      if (reported.has(later)) continue;
      for (let i = 0; i < j; i++) {
        const earlier = rules[i] as ModelTypeRule;
        if (earlier.result === later.result) continue;
        // The first shared type in the smaller target set, else the source through self.
        const [small] = earlier.targets.count() <= later.targets.count() ? [earlier] : [later];
        let t = [...small.targets].find((x) => covers(earlier, x, source) && covers(later, x, source));
        if (t === undefined && (earlier.self || later.self) && covers(earlier, source, source) && covers(later, source, source)) t = source;
        if (t === undefined) continue;
        const pair = `${model.types[source]} ${model.types[t]}:${model.classes[Number(c)]?.name}`;
        out.push(`${diagnostic('ModelConflictingTypeRules', [kind, pair, model.types[earlier.result] ?? '?', model.types[later.result] ?? '?']).message} @${later.statement.span.start}`);
        reported.add(later);
        break;
      }
    }
  }
  return out;
}

const typeSet = (self: boolean) => fc.oneof(fc.constantFrom(...TYPES, 'grp', ...(self ? ['self'] : [])), fc.uniqueArray(fc.constantFrom(...TYPES, ...(self ? ['self'] : [])), { minLength: 1, maxLength: 3 }).map((xs) => `{ ${xs.join(' ')} }`));
const rule = fc.tuple(fc.constantFrom('type_transition', 'type_transition', 'type_change', 'type_member'), typeSet(false), typeSet(true), fc.constantFrom('c0', 'c1', '{ c0 c1 }'), fc.constantFrom(...TYPES)).map(([k, s, t, c, r]) => `${k} ${s} ${t}:${c} ${r};`);

describe('conflicting type rules (VP3316)', () => {
  it('the index finds what comparing every pair of rules finds', () => {
    let conflicts = 0;
    fc.assert(
      fc.property(fc.array(rule, { minLength: 1, maxLength: 25 }), (rules) => {
        const text = ['class c0', 'class c1', 'class c0 { p }', 'class c1 { p }', 'attribute grp;', ...TYPES.map((t, i) => `type ${t}${i % 2 ? ', grp' : ''};`), ...rules, ''].join('\n');
        const parsed = parsePolicy('p.conf', text);
        assert.deepEqual(parsed.diagnostics, []);
        const built = buildModel(parsed.ast, (o) => parsed.lines.locate(o));
        const reported = built.diagnostics.filter((d) => d.code === 'VP3316');
        const expected = bruteForce(built.model);
        conflicts += expected.length;
        assert.deepEqual(reported.map((d) => `${d.message} @${d.span?.start}`), expected, text);
      }),
      { numRuns: 1000 },
    );
    assert.ok(conflicts > 100, `random rules conflict often enough to test anything (${conflicts})`);
  });
});
