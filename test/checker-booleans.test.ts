// Boolean reasoning: on random guard sets the decision-diagram answers equal trying every
// assignment (the reference lives here, never in the product); and with more booleans than
// anyone would enumerate, a grant that only a non-default state enables is still found.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { BoolExpr } from '../policy/grammar/ast.js';
import type { Guard, PolicyModel } from '../policy/model/model.js';
import { availability, type Assignment } from '../policy/booleans.js';
import { Bdd, FALSE, TRUE } from '../policy/bdd.js';
import { guardHolds } from '../policy/model/query.js';
import { checkPolicyText, citing, compileStandalone, inject } from './support/checker.js';
import { monWebSpec } from './support/specs.js';

const span = { file: 'p.conf', start: 0, end: 0 };
// Names whose code-point order differs from their creation order and from UTF-16 order.
const NAMES = ['b', 'a_on', 'Z', 'x9', 'x10', 'debug', 'é', '\u{1F600}', '\uE000', 'q'] as const;

function exprArb(names: readonly string[]): fc.Arbitrary<BoolExpr> {
  const { expr } = fc.letrec<{ expr: BoolExpr }>((tie) => ({
    expr: fc.oneof(
      { maxDepth: 5, depthIdentifier: 'expr' },
      fc.constantFrom(...names).map((name): BoolExpr => ({ op: 'var', name: { name, span }, span })),
      tie('expr').map((operand): BoolExpr => ({ op: 'not', operand, span })),
      fc.tuple(fc.constantFrom('&&', '||', '^', '==', '!=') as fc.Arbitrary<'&&' | '||' | '^' | '==' | '!='>, tie('expr'), tie('expr'))
        .map(([op, left, right]): BoolExpr => ({ op, left, right, span })),
    ),
  }));
  return expr;
}

const guardArb: fc.Arbitrary<Guard | undefined> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ expr: exprArb(NAMES), branch: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

function variablesOf(e: BoolExpr, out: Set<string>): Set<string> {
  if (e.op === 'var') out.add(e.name.name);
  else if (e.op === 'not') variablesOf(e.operand, out);
  else {
    variablesOf(e.left, out);
    variablesOf(e.right, out);
  }
  return out;
}

/** The reference: every assignment of the guards' variables, tried. */
function everyState(vars: readonly string[]): Map<string, boolean>[] {
  return Array.from({ length: 1 << vars.length }, (_, bits) => new Map(vars.map((v, i) => [v, ((bits >> i) & 1) === 1])));
}

const grants = (guards: readonly (Guard | undefined)[], state: ReadonlyMap<string, boolean>): boolean => guards.some((g) => guardHolds(g, state));

/** Every completion of a partial assignment over `vars`. */
function completions(partial: Assignment, vars: readonly string[]): Map<string, boolean>[] {
  const free = vars.filter((v) => !(v in partial));
  return everyState(free).map((s) => new Map([...s, ...Object.entries(partial)]));
}

describe('boolean availability', () => {
  // Any object is a model to availability: it only keys its shared diagrams on it. Sharing
  // one across all runs also tests that a manager reused by unrelated questions stays exact.
  const model = {} as PolicyModel;

  it('equals brute-force enumeration on random guard sets (≤10 variables)', () => {
    fc.assert(
      fc.property(fc.array(guardArb, { maxLength: 5 }), (guards) => {
        const vars = [...guards.reduce((s, g) => (g ? variablesOf(g.expr, s) : s), new Set<string>())];
        const states = everyState(vars);
        const expectAlways = guards.length > 0 && states.every((s) => grants(guards, s));
        const expectNever = !states.some((s) => grants(guards, s));
        const a = availability(model, guards);
        assert.equal(a.always, expectAlways, 'always');
        assert.equal(a.never, expectNever, 'never');
        assert.equal(a.grantedWhen !== undefined, !a.always && !a.never, 'grantedWhen exactly when conditional');
        assert.equal(a.deniedWhen !== undefined, !a.always, 'deniedWhen exactly when it can be denied');
        if (a.grantedWhen) {
          assert.ok(Object.keys(a.grantedWhen).every((v) => vars.includes(v)), 'only variables of the guards');
          assert.ok(completions(a.grantedWhen, vars).every((s) => grants(guards, s)), `granted whatever the other booleans: ${JSON.stringify(a.grantedWhen)}`);
        }
        if (a.deniedWhen) assert.ok(completions(a.deniedWhen, vars).every((s) => !grants(guards, s)), `denied whatever the other booleans: ${JSON.stringify(a.deniedWhen)}`);
        assert.deepEqual(availability({} as PolicyModel, guards), a, 'a fresh manager gives the same answer');
      }),
      { numRuns: 400, seed: 20261204 },
    );
  });

  it('a diagram is canonical: equivalent formulas are one node, however they were built', () => {
    const bdd = new Bdd();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => bdd.variable(n)) as [number, number, number];
    assert.equal(bdd.or(bdd.and(a, b), bdd.and(a, c)), bdd.and(a, bdd.or(c, b)));
    assert.equal(bdd.not(bdd.and(a, b)), bdd.or(bdd.not(b), bdd.not(a)));
    assert.equal(bdd.or(a, bdd.not(a)), TRUE);
    assert.equal(bdd.xor(c, c), FALSE);
  });

  it('44 booleans, 120 rules over them: answered exactly (enumeration would try 2^44 states)', () => {
    const names = Array.from({ length: 44 }, (_, i) => `b${String(i).padStart(2, '0')}`);
    const v = (name: string): BoolExpr => ({ op: 'var', name: { name, span }, span });
    const and = (xs: BoolExpr[]): BoolExpr => xs.reduce((l, r) => ({ op: '&&', left: l, right: r, span }));
    // Rule i needs b_i on and b_(i+1) off: none grants exactly when b00…b43 is falses then trues.
    const guards: Guard[] = names.slice(0, -1).map((n, i) => ({ expr: and([v(n), { op: 'not', operand: v(names[i + 1] as string), span }]), branch: true }));
    const a = availability({} as PolicyModel, [...guards, ...guards, ...guards].slice(0, 120));
    assert.equal(a.always, false);
    assert.equal(a.never, false);
    // The first denying path: b00…b42 off; b43 then decides nothing.
    assert.deepEqual(a.deniedWhen, Object.fromEntries(names.slice(0, -1).map((n) => [n, false])));
    for (const last of [false, true]) assert.equal(grants(guards, new Map([...Object.entries(a.deniedWhen ?? {}), ['b43', last]])), false);
    // The first granting path keeps every boolean off as long as it can: only b42 ∧ ¬b43 is left.
    assert.deepEqual(a.grantedWhen, { ...Object.fromEntries(names.slice(0, 42).map((n) => [n, false])), b42: true, b43: false });
    assert.ok(grants(guards, new Map(Object.entries(a.grantedWhen ?? {}))));
  });
});

const SPEC = monWebSpec('4.17');

describe('check with many booleans', () => {
  const base = compileStandalone(SPEC);
  const names = Array.from({ length: 42 }, (_, i) => `dbg_${String(i).padStart(2, '0')}`);
  // Granted only when every even-numbered boolean is on and every odd one off: one state of 2^42, none of them the default.
  const guard = names.map((n, i) => (i % 2 === 0 ? n : `!${n}`)).join(' && ');
  const expected = Object.fromEntries(names.map((n, i) => [n, i % 2 === 0]));

  it('a grant that only a non-default state of 42 booleans enables is found, with that state', () => {
    const injected = inject(base.policyText, [...names.map((n) => `bool ${n} false;`), `if (${guard}) {`, 'allow mon_t web_t:domain setvcpucontext;', '}']);
    const r = checkPolicyText(base, injected.text);
    assert.equal(r.proven, false);
    const excess = citing(r.findings, injected.lines).filter((f) => f.ruleId === 'excess');
    assert.equal(excess.length, 1, r.findings.map((f) => f.message).join('\n'));
    assert.deepEqual(excess[0]?.booleans, expected);
  });

  it('a needed permission behind those booleans is insufficient, with a state that denies it', () => {
    const injected = inject(base.policyText.replace(/^allow mon_t web_t:mmu \{ map_read stat \};$/m, ''), [...names.map((n) => `bool ${n} true;`), `if (${guard}) {`, 'allow mon_t web_t:mmu { map_read stat };', '}']);
    const r = checkPolicyText(base, injected.text);
    const missing = r.findings.filter((f) => f.ruleId === 'insufficient' && f.perms.includes('map_read'));
    assert.equal(missing.length, 1, r.findings.map((f) => f.message).join('\n'));
    assert.deepEqual(missing[0]?.booleans, { dbg_00: false });
  });
});
