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
import { policyFromText } from '../policy/load.js';
import { evalBool } from '../policy/model/query.js';
import type { PolicyModel, ModelAvRule } from '../policy/model/model.js';
import type { BoolExpr } from '../policy/grammar/ast.js';
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
      const agreed = escalationAgrees(model, granted, intent, report);
      escalations += agreed.findings;
      compared += agreed.domains;
    }),
    { numRuns: 150, seed: 99 },
  );
  console.log(`brute force: ${compared} declared domains compared; ${excesses} excess tuples and ${escalations} escalation findings agreed`);
  assert.ok(escalations > 50 && excesses > 50, 'the random policies must exercise both analyses');
});

/** The escalation findings against the reference: reached nodes beyond the declaration and their distances; every witness hop real. */
function escalationAgrees(model: PolicyModel, granted: Set<string>, intent: ReturnType<typeof buildIntent>, report: ReturnType<typeof checkPolicyText>): { domains: number; findings: number; nodes: number } {
  let findings = 0;
  let nodes = 0;
  for (const d of intent.domains) {
    const introspector = intent.introspectors.find((i) => i.name === d.name);
    const allowed = new Set([...ownTypes(d), ...(introspector?.targets.flatMap((t) => ownTypes(t)) ?? [])]);
    const dist = reference(model, granted, d.type, intent.trusted, report.context.options.maxDepth);
    const expected = [...dist].filter(([n, k]) => k > 0 && !allowed.has(n)).map(([n, k]) => `${n}@${k}`).sort();
    const mine = report.findings.filter((f) => f.ruleId === 'escalation' && f.subject === d.type);
    // A finding covers every node reached at one distance through the same last hop.
    const reached = mine.flatMap((f) => (f.objects ?? [f.object]).map((o) => `${o}@${f.witness!.paths[0]!.length}`)).sort();
    assert.deepEqual(reached, expected, `escalation from ${d.type}`);
    findings += mine.length;
    nodes += reached.length;
    for (const f of mine) {
      assert.equal(f.count ?? 1, (f.objects ?? [f.object]).length, 'the count is the number of nodes covered');
      for (const path of f.witness!.paths) {
        assert.equal(path[0]!.from, d.type);
        assert.equal(path.length, f.witness!.paths[0]!.length, 'one distance per finding');
        assert.ok((f.objects ?? [f.object]).includes(path[path.length - 1]!.to), 'a path ends at a node the finding covers');
        for (const hop of path) assert.ok(hop.rules.length > 0 && hop.rules.every((l) => l.kind === 'policy'), 'every hop names its rules');
        for (let i = 1; i < path.length; i++) assert.equal(path[i]!.from, path[i - 1]!.to, 'hops chain');
        for (const hop of path) assert.ok(hopIsGranted(hop, granted), `hop ${hop.from} —${hop.via}→ ${hop.to} is granted`);
      }
    }
  }
  return { domains: intent.domains.length, findings, nodes };
}

/** A witness hop's permissions are really held: direct ones on the hop's target (or a type it owns), combined ones as named in `via`. */
function hopIsGranted(hop: { from: string; to: string; via: string; cls: string; perms: readonly string[] }, granted: Set<string>): boolean {
  const holds = (s: string, o: string, c: string, p: string): boolean => granted.has(`${s} ${o} ${c} ${p}`);
  const relabel = /^relabel (\S+) → (\S+)$/.exec(hop.via);
  if (relabel) return holds(hop.from, relabel[1]!, 'domain2', 'relabelfrom') && holds(hop.from, relabel[2]!, 'domain2', 'relabelto') && holds(relabel[1]!, relabel[2]!, 'domain', 'transition');
  const dm = /^make (\S+) the device model of (\S+)$/.exec(hop.via);
  if (dm) return holds(hop.from, dm[1]!, 'domain2', 'make_priv_for') && holds(hop.from, dm[2]!, 'domain2', 'set_as_target') && holds(dm[1]!, dm[2]!, 'domain', 'set_target');
  if (hop.via === 'domain2:relabelself + domain:transition') return [...granted].some((g) => g.startsWith(`${hop.from} `) && g.endsWith(' domain2 relabelself'));
  if (hop.to === POLICY_NODE) return hop.perms.every((p) => [...granted].some((g) => g.startsWith(`${hop.from} `) && g.endsWith(` ${hop.cls} ${p}`)));
  return hop.perms.every((p) => [...granted].some((g) => {
    const [gs, go, gc, gp] = g.split(' ');
    return gs === hop.from && (go === hop.to || go?.startsWith(`${hop.to}_`)) && gc === hop.cls && gp === p;
  }));
}

/** Permissions that make escalation edges, alone or combined (checker/permissions.ts; flask_op.c flask_relabel_domain, hooks.c flask_set_target). */
const EDGE_PERMS: readonly (readonly [string, string])[] = [
  ['domain2', 'relabelfrom'], ['domain2', 'relabelto'], ['domain2', 'relabelself'], ['domain', 'transition'],
  ['domain2', 'make_priv_for'], ['domain2', 'set_as_target'], ['domain', 'set_target'],
  ['domain', 'setvcpucontext'], ['mmu', 'map_write'], ['domain', 'create'], ['domain2', 'vm_event'],
];

const attributeRule = fc.record({
  source: fc.nat(),
  target: fc.option(fc.nat(), { nil: undefined }),
  perms: fc.uniqueArray(fc.constantFrom(...EDGE_PERMS.keys()), { minLength: 1, maxLength: 4 }),
});
const attributeHost = fc.record({
  extra: fc.integer({ min: 0, max: 12 }),
  attributes: fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 4 }),
  rules: fc.array(attributeRule, { minLength: 1, maxLength: 6 }),
});

type AttributeHost = typeof attributeHost extends fc.Arbitrary<infer T> ? T : never;

/** Extra domain types, attributes over random subsets of every domain type, and allow rules between attributes (or an attribute and `self`). */
function attributeStatements(types: readonly string[], host: AttributeHost): string[] {
  const extra = Array.from({ length: host.extra }, (_, i) => `bf_${i}_t`);
  const pool = [...types, ...extra];
  const names = host.attributes.map((_, i) => `bf_attr_${i}`);
  const out = [...extra.map((t) => `type ${t}, domain_type;`), ...(extra.length ? [`role system_r types { ${extra.join(' ')} };`] : [])];
  host.attributes.forEach((members, i) => {
    out.push(`attribute ${names[i]};`);
    for (const m of new Set(members.map((x) => pool[x % pool.length]!))) out.push(`typeattribute ${m} ${names[i]};`);
  });
  for (const r of host.rules) {
    const byClass = new Map<string, string[]>();
    for (const k of r.perms) {
      const [cls, perm] = EDGE_PERMS[k]!;
      byClass.set(cls, [...(byClass.get(cls) ?? []), perm]);
    }
    const source = names[r.source % names.length]!;
    const target = r.target === undefined ? 'self' : names[r.target % names.length]!;
    for (const [cls, perms] of byClass) out.push(`allow ${source} ${target}:${cls} { ${perms.join(' ')} };`);
  }
  return out;
}

test('brute force: escalation agrees with the reference on random attribute-heavy policies (combined edges over attributes)', () => {
  let nodes = 0;
  let aggregated = 0;
  fc.assert(
    fc.property(specArbitrary({ modes: ['standalone'], releases: ['4.17', '4.22'] }), attributeHost, (spec, host) => {
      const compiled = compileStandalone(toYaml(spec));
      const base = policyFromText('policy.conf', compiled.policyText).policy!.model;
      const types = [...compiled.ir!.domains.flatMap((d) => [d.type, d.self]), 'dom0_t', 'domU_t'].filter((t) => base.typeIndex.has(t));
      const text = inject(compiled.policyText, attributeStatements(types, host)).text;
      const model = policyFromText('policy.conf', text).policy!.model;
      const report = checkPolicyText(compiled, text);
      const agreed = escalationAgrees(model, tuples(model), buildIntent(compiled.ir!, model), report);
      nodes += agreed.nodes;
      aggregated += agreed.nodes - agreed.findings;
    }),
    { numRuns: 120, seed: 2026 },
  );
  console.log(`brute force (attributes): ${nodes} reached nodes agreed; ${aggregated} of them folded into another node's finding`);
  assert.ok(nodes > 300 && aggregated > 100, 'the attribute policies must reach many nodes, many through one rule');
});
