// A brute-force reference checker over small random policies: every allow rule expanded
// into (subject, object, class, permission) tuples, every path enumerated. The graph checker
// — which never expands a rule — must agree with it on excess, undeclared-target and
// escalation (which domains each declared domain can reach, and in how many steps), and
// every hop of every witness path must be a real grant.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { specArbitrary, toYaml } from './support/arbitrary.js';
import { checkPolicyText, compileStandalone, inject } from './support/checker.js';
import { concreteMutation, mutationChoice } from './support/mutations.js';
import { policyFromText } from '../checker/policy-input.js';
import { evalBool } from '../checker/model/query.js';
import type { PolicyModel, ModelAvRule } from '../checker/model/model.js';
import type { BoolExpr } from '../grammar/ast.js';
import { isControl, isIntrospection, isPolicyControl } from '../checker/permissions.js';
import { buildIntent, accessKey, ownTypes } from '../checker/intent.js';
import { POLICY_NODE } from '../checker/graph.js';

function vars(e: BoolExpr, out: Set<string>): Set<string> {
  if (e.op === 'var') out.add(e.name.name);
  else if (e.op === 'not') vars(e.operand, out);
  else { vars(e.left, out); vars(e.right, out); }
  return out;
}

/** Can the rule be on in some boolean state? Every assignment of its guard's variables, tried. */
function canBeOn(r: ModelAvRule): boolean {
  if (!r.guard) return true;
  const vs = [...vars(r.guard.expr, new Set())];
  for (let bits = 0; bits < 1 << vs.length; bits++) {
    const state = new Map(vs.map((v, i) => [v, ((bits >> i) & 1) === 1]));
    if (evalBool(r.guard.expr, state) === r.guard.branch) return true;
  }
  return false;
}

/** Every (s, o, class, perm) any live allow rule grants, spelled out. */
function tuples(model: PolicyModel): Set<string> {
  const out = new Set<string>();
  for (const r of model.avRules) {
    if (r.kind !== 'allow' || !canBeOn(r)) continue;
    for (const s of r.sources) {
      const objects = new Set([...r.targets, ...(r.self ? [s] : [])]);
      for (const o of objects) for (const [ci, bits] of r.perms) {
        const c = model.classes[ci]!;
        for (const p of bits) out.add(`${model.types[s]} ${model.types[o]} ${c.name} ${c.perms[p]}`);
      }
    }
  }
  return out;
}

function reference(model: PolicyModel, granted: Set<string>, start: string, stop: ReadonlySet<string>, maxDepth: number): Map<string, number> {
  const roleTypes = new Set<string>();
  for (const [role, ts] of model.roles) if (role !== 'object_r') for (const t of ts) roleTypes.add(model.types[t]!);
  const owner = new Map<string, string>();
  const domainClass = model.classIndex.get('domain')!;
  for (const r of model.typeRules) {
    const srcs = [...r.sources];
    if (r.kind === 'type_transition' && r.classes.includes(domainClass) && srcs.length === 1 && r.result !== srcs[0]) owner.set(model.types[r.result]!, model.types[srcs[0]!]!);
  }
  const own = (t: string): string => owner.get(t) ?? t;
  const holds = (s: string, o: string, c: string, p: string): boolean => granted.has(`${s} ${o} ${c} ${p}`);
  const next = (s: string): Set<string> => {
    const out = new Set<string>();
    const controlled = new Set([s]);
    for (const g of granted) {
      const [gs, go, gc, gp] = g.split(' ') as [string, string, string, string];
      if (gs !== s) continue;
      if (isPolicyControl(gc, gp)) out.add(POLICY_NODE);
      const o = own(go);
      if (o === s || !roleTypes.has(o)) continue;
      if (isControl(gc, gp)) { out.add(o); controlled.add(o); }
      if (gc === 'domain' && gp === 'create') out.add(o);
    }
    for (const y of [...roleTypes]) {
      if (y !== s && holds(s, y, 'domain2', 'relabelself') && holds(s, y, 'domain', 'transition')) out.add(own(y));
      for (const d of controlled) {
        if (holds(s, d, 'domain2', 'relabelfrom') && holds(s, y, 'domain2', 'relabelto') && holds(d, y, 'domain', 'transition') && own(y) !== s) out.add(own(y));
        if (holds(s, d, 'domain2', 'make_priv_for') && holds(s, y, 'domain2', 'set_as_target') && holds(d, y, 'domain', 'set_target') && own(y) !== s) out.add(own(y));
      }
    }
    return out;
  };
  const dist = new Map([[start, 0]]);
  let frontier = [start];
  for (let depth = 1; depth <= maxDepth && frontier.length; depth++) {
    const nextFrontier: string[] = [];
    for (const n of frontier) for (const m of next(n)) if (!dist.has(m)) { dist.set(m, depth); if (!stop.has(m) && m !== POLICY_NODE) nextFrontier.push(m); }
    frontier = nextFrontier;
  }
  return dist;
}

test('brute force: the graph checker agrees with an exhaustive reference on small random policies', () => {
  let compared = 0;
  let escalations = 0;
  let excesses = 0;
  fc.assert(
    fc.property(specArbitrary({ modes: ['standalone'], releases: ['4.17', '4.22'] }), fc.array(mutationChoice, { maxLength: 4 }), (spec, choices) => {
      const compiled = compileStandalone(toYaml(spec));
      let model = policyFromText('policy.conf', compiled.policyText).policy!.model;
      const statements = choices.flatMap((c) => concreteMutation(compiled.ir!, model, c)?.statements ?? []);
      const text = inject(compiled.policyText, statements).text;
      model = policyFromText('policy.conf', text).policy!.model;
      const report = checkPolicyText(compiled, text);
      const intent = buildIntent(compiled.ir!, model);
      const granted = tuples(model);

      // excess: introspector tuples no grant needs, against the findings' objects × perms.
      for (const s of intent.introspectors) {
        const needed = intent.needed.get(s.type);
        const expected = new Set([...granted].filter((g) => g.startsWith(`${s.type} `)).map((g) => g.slice(s.type.length + 1)).filter((k) => !needed?.has(k)));
        const found = new Set(report.findings.filter((f) => f.ruleId === 'excess' && f.subject === s.type).flatMap((f) => (f.objects ?? []).flatMap((o) => f.perms.map((p) => accessKey(o, f.class!, p)))));
        assert.deepEqual([...found].sort(), [...expected].sort(), `excess of ${s.type}`);
        excesses += expected.size;
      }
      // undeclared-target, for every declared domain.
      const roleTypes = new Set<string>();
      for (const [role, ts] of model.roles) if (role !== 'object_r') for (const t of ts) roleTypes.add(model.types[t]!);
      for (const d of intent.domains) {
        const introspector = intent.introspectors.find((i) => i.name === d.name);
        const allowed = new Set([...ownTypes(d), ...(introspector?.targets.map((t) => t.type) ?? [])]);
        const needed = intent.needed.get(d.type);
        const expected = new Set([...granted].filter((g) => {
          const [gs, go, gc, gp] = g.split(' ') as [string, string, string, string];
          return gs === d.type && roleTypes.has(go) && !allowed.has(go) && isIntrospection(gc, gp) && !needed?.has(accessKey(go, gc, gp));
        }).map((g) => g.slice(d.type.length + 1)));
        const found = new Set(report.findings.filter((f) => f.ruleId === 'undeclared-target' && f.subject === d.type).flatMap((f) => (f.objects ?? []).flatMap((o) => f.perms.map((p) => accessKey(o, f.class!, p)))));
        assert.deepEqual([...found].sort(), [...expected].sort(), `undeclared-target of ${d.type}`);
      }
      // escalation: reached nodes beyond the declaration, and their distances.
      for (const d of intent.domains) {
        const introspector = intent.introspectors.find((i) => i.name === d.name);
        const allowed = new Set([...ownTypes(d), ...(introspector?.targets.flatMap((t) => ownTypes(t)) ?? [])]);
        const dist = reference(model, granted, d.type, intent.trusted, report.context.options.maxDepth);
        const expected = [...dist].filter(([n, k]) => k > 0 && !allowed.has(n)).map(([n, k]) => `${n}@${k}`).sort();
        const mine = report.findings.filter((f) => f.ruleId === 'escalation' && f.subject === d.type);
        // A finding covers every node reached at one distance through the same last hop.
        const reached = mine.flatMap((f) => (f.objects ?? [f.object]).map((o) => `${o}@${f.witness!.paths[0]!.length}`)).sort();
        assert.deepEqual(reached, expected, `escalation from ${d.type}`);
        escalations += reached.length;
        for (const f of mine) for (const path of f.witness!.paths) {
          assert.equal(path[0]!.from, d.type);
          assert.equal(path.length, f.witness!.paths[0]!.length, 'one distance per finding');
          assert.ok((f.objects ?? [f.object]).includes(path[path.length - 1]!.to), 'a path ends at a node the finding covers');
          for (const hop of path) assert.ok(hop.rules.length > 0 && hop.rules.every((l) => l.kind === 'policy'), 'every hop names its rules');
          for (let i = 1; i < path.length; i++) assert.equal(path[i]!.from, path[i - 1]!.to, 'hops chain');
        }
        compared++;
      }
    }),
    { numRuns: 150, seed: 99 },
  );
  console.log(`brute force: ${compared} declared domains compared; ${excesses} excess tuples and ${escalations} escalation findings agreed`);
  assert.ok(escalations > 50 && excesses > 50, 'the random policies must exercise both analyses');
});
