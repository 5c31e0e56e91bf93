// The simulated host's security server against libsepol (../shared/tools/avc-oracle): the
// same binary policy checkpolicy builds from the same policy.conf, the same contexts, and
// every permission of every class must get the same allow/deny. Contexts cover every type
// (as system_r/vm_r domains and as object_r objects) under two users, so the corpus's
// `constrain event bind` / `constrain grant …` (u1 == u2 or system_u) decide some answers.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeAccessVector, contextText, targetAccessKey, type AccessOptions, type SecurityContext } from '../policy/model/access.js';
import type { DecisionModel } from '../policy/model/model.js';
import { modelPolicy, readManifest } from '../vmi/host/domains.js';
import { nearestRelease } from '../catalog/vocabulary.js';
import { artifactsOf, compileFile, CORPUS_RELEASES, EXAMPLES, requires, sharedPath } from './support/env.js';
import { buildInXenTree, checkpolicy, withTempDir } from './support/oracles.js';

interface OracleAnswer {
  readonly scon: string;
  readonly tcon: string;
  readonly class: string;
  readonly granted?: readonly string[];
  readonly denied_by?: readonly string[];
  readonly error?: string;
}

function askOracle(binary: string, queries: readonly string[]): OracleAnswer[] {
  const r = spawnSync('python3', [sharedPath('tools', 'avc-oracle', 'xen_avc_oracle.py'), binary], { input: queries.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 30, timeout: 600_000 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`avc oracle failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as OracleAnswer);
}

/**
 * Three users: system_u and two others (user_1, user_2 in Xen's stock policy) — what the
 * constraints tell apart (u1 == system_u, u2 == system_u, u1 == u2).
 */
function usersOf(model: DecisionModel): string[] {
  const users = [...model.users.keys()].sort();
  const first = users.includes('system_u') ? 'system_u' : (users[0] as string);
  return [first, ...users.filter((u) => u !== first).slice(0, 2)];
}

/** The primary context of each type: a domain role that holds it under system_u, else object_r. */
function primaryContext(model: DecisionModel, type: string): SecurityContext {
  const user = usersOf(model)[0] as string;
  const t = model.typeIndex.get(type) as number;
  const role = [...(model.users.get(user) ?? [])].sort().find((r) => model.roles.get(r)?.has(t)) ?? 'object_r';
  return { user, role, type };
}

/** Every valid (user, role) for the type under the two users, plus object_r for each user. */
function allContexts(model: DecisionModel, type: string): SecurityContext[] {
  const t = model.typeIndex.get(type) as number;
  const out: SecurityContext[] = [];
  for (const user of usersOf(model)) {
    for (const role of [...(model.users.get(user) ?? [])].sort()) if (model.roles.get(role)?.has(t)) out.push({ user, role, type });
    out.push({ user, role: 'object_r', type });
  }
  return out;
}

interface Comparison {
  decisions: number;
  queries: number;
  constraintDenials: number;
  mismatches: string[];
  /** Target pairs with one targetAccessKey under a source and class, whose libsepol answers were compared. */
  alikePairs: number;
}

function compare(model: DecisionModel, binary: string, triples: readonly (readonly [SecurityContext, SecurityContext, string])[], options: AccessOptions): Comparison {
  const queries = triples.map(([s, t, c]) => `${contextText(s)} ${contextText(t)} ${c} *`);
  const answers = askOracle(binary, queries);
  assert.equal(answers.length, queries.length, 'one oracle answer per query');
  const out: Comparison = { decisions: 0, queries: queries.length, constraintDenials: 0, mismatches: [], alikePairs: 0 };
  // targetAccessKey's promise, held to libsepol: targets with one key under a source get one decision.
  const firstOfKind = new Map<string, { query: string; granted: string }>();
  triples.forEach(([s, t, c], i) => {
    const a = answers[i] as OracleAnswer;
    if (a.error) {
      out.mismatches.push(`${queries[i]}: oracle error ${a.error}`);
      return;
    }
    const ours = computeAccessVector(model, s, t, c, options);
    const theirs = new Set(a.granted ?? []);
    const kind = targetAccessKey(model, s, t);
    if (kind !== undefined) {
      const key = `${contextText(s)} ${c} ${kind}`;
      const granted = [...theirs].sort().join(' ');
      const first = firstOfKind.get(key);
      if (!first) firstOfKind.set(key, { query: queries[i] as string, granted });
      else {
        out.alikePairs++;
        if (first.granted !== granted) out.mismatches.push(`one targetAccessKey, two libsepol decisions: ${first.query} {${first.granted}} vs ${queries[i]} {${granted}}`);
      }
    }
    for (const p of ours.classPerms) {
      out.decisions++;
      const allowedHere = ours.allowed.includes(p);
      if (allowedHere !== theirs.has(p)) out.mismatches.push(`${queries[i]} ${p}: ours ${allowedHere ? 'allow' : `deny (${ours.deniedBy.get(p)})`}, libsepol ${theirs.has(p) ? 'allow' : 'deny'}`);
    }
    if (ours.constraintDenials.length > 0) out.constraintDenials++;
    if ((a.denied_by ?? []).includes('constraint') !== ours.constraintDenials.length > 0 && ours.allowed.length !== ours.classPerms.length) {
      out.mismatches.push(`${queries[i]}: constraint denial ours=${ours.constraintDenials.length > 0} libsepol=${(a.denied_by ?? []).join(',')}`);
    }
  });
  return out;
}

const classesOf = (model: DecisionModel): string[] => model.classes.map((c) => c.name);
const constrainedClasses = (model: DecisionModel): string[] => [...new Set(model.constraints.flatMap((c) => c.classes.map((i) => model.classes[i]?.name as string)))];

/** Every type pair in every class (primary contexts), and every context pair in the constrained classes. */
function exhaustive(model: DecisionModel): (readonly [SecurityContext, SecurityContext, string])[] {
  const types = [...model.types];
  const triples: (readonly [SecurityContext, SecurityContext, string])[] = [];
  const classes = classesOf(model);
  for (const s of types) for (const t of types) for (const c of classes) triples.push([primaryContext(model, s), primaryContext(model, t), c]);
  const all = types.flatMap((t) => allContexts(model, t));
  for (const c of constrainedClasses(model)) for (const s of all) for (const t of all) triples.push([s, t, c]);
  return triples;
}


function report(t: { diagnostic(m: string): void }, name: string, r: Comparison, ms: number): void {
  const line = `${name}: ${r.decisions} decisions (${r.queries} queries, ${r.constraintDenials} with constraint denials) compared with libsepol in ${ms.toFixed(0)} ms, ${r.alikePairs} targets decided alike by targetAccessKey, ${r.mismatches.length} mismatches`;
  console.log(`# ${line}`);
  t.diagnostic(line);
}

for (const example of EXAMPLES) {
  test(`security server = libsepol on the ${example} example's compiled policy`, (t) => {
    if (!requires(t, { shared: true, commands: ['checkpolicy', 'python3', 'm4'] })) return;
    const artifacts = artifactsOf(compileFile(`examples/${example}/vmi.yaml`));
    const manifest = readManifest(artifacts);
    assert.ok(manifest);
    withTempDir((dir) => {
      let binary: string;
      let text: string;
      if (manifest.mode === 'standalone') {
        text = artifacts.get(manifest.policy) as string;
        const built = checkpolicy(dir, text);
        assert.ok(built.ok, built.output);
        binary = built.binary;
      } else {
        const release = nearestRelease(manifest.xen, CORPUS_RELEASES) as string;
        const built = buildInXenTree(dir, release, manifest.module, artifacts.get(manifest.policy) as string);
        assert.ok(built.ok, built.output);
        binary = built.binary;
        text = readFileSync(join(dir, 'build', 'policy.conf'), 'utf8');
      }
      const loaded = modelPolicy(`${example}/policy.conf`, text, manifest.mode);
      assert.ok('policy' in loaded, 'error' in loaded ? loaded.error : '');
      const model = loaded.policy.model;
      const started = performance.now();
      const triples = exhaustive(model);
      const r = compare(model, binary, triples, { roleAllows: loaded.policy.roleAllows });
      report(t, example, r, performance.now() - started);
      assert.deepEqual(r.mismatches.slice(0, 20), []);
    });
  });
}

for (const release of CORPUS_RELEASES) {
  test(`security server = libsepol on Xen ${release}'s stock policy (constraints included)`, (t) => {
    if (!requires(t, { shared: true, commands: ['checkpolicy', 'python3'] })) return;
    const text = readFileSync(sharedPath('corpus', `xen-${release}`, 'policy.conf'), 'utf8');
    withTempDir((dir) => {
      const built = checkpolicy(dir, text);
      assert.ok(built.ok, built.output);
      const loaded = modelPolicy(`xen-${release}/policy.conf`, text, release);
      assert.ok('policy' in loaded, 'error' in loaded ? loaded.error : '');
      const model = loaded.policy.model;
      const started = performance.now();
      // Every type pair in every class, and every context pair in the constrained classes.
      const r = compare(model, built.binary, exhaustive(model), { roleAllows: loaded.policy.roleAllows });
      report(t, `xen-${release}`, r, performance.now() - started);
      assert.ok(r.constraintDenials > 0, 'the sample must include decisions a constraint changes');
      assert.ok(r.alikePairs > 0, 'the sample must include targets one key groups');
      assert.deepEqual(r.mismatches.slice(0, 20), []);
    });
  });
}

/**
 * A small policy written to reach every branch of the decision: attributes on both sides,
 * `self`, a common, conditional rules under a non-default state, typebounds, permissive,
 * dontaudit, and constraints over users, roles (==, dom, domby, incomp), types and
 * attribute name sets with `not`/`and`/`or`.
 */
const BRANCHES_POLICY = `class domain
class event
sid xen
sid dom0
common base { c1 c2 }
class domain inherits base { pause unpause transition }
class event { bind send create }
attribute dom_a;
attribute obj_a;
type a_t, dom_a;
type b_t, dom_a;
type c_t, obj_a;
type child_t, dom_a;
typebounds a_t child_t;
bool flag false;
bool other true;
allow dom_a obj_a:domain { pause c1 };
allow a_t b_t:domain { pause unpause transition };
allow child_t b_t:domain { pause };
allow dom_a self:event { bind send };
dontaudit b_t c_t:event bind;
if (flag && !other) { allow child_t c_t:event { create bind }; allow a_t c_t:event { create bind }; } else { allow a_t c_t:event bind; }
if (other) { allow b_t a_t:event { bind create }; allow b_t b_t:domain transition; }
permissive b_t;
role r1_r;
role r2_r;
role r1_r types { a_t b_t c_t child_t };
role r2_r types { a_t b_t };
allow r1_r r2_r;
user alice_u roles { r1_r r2_r };
user bob_u roles { r1_r };
constrain domain { pause unpause } ( r1 == r2 or t1 == obj_a or ( u1 != u2 and not t2 == { b_t c_t } ) );
constrain event { bind } ( u1 == u2 or r1 dom r2 or r1 incomp r2 );
constrain event { create } ( r1 domby r2 and t2 != dom_a );
constrain domain transition ( u2 == alice_u );
sid xen alice_u:r1_r:a_t
sid dom0 alice_u:r1_r:b_t
`;

test('security server = libsepol on a policy that reaches every branch (bounds, roles, attributes, booleans)', (t) => {
  if (!requires(t, { shared: true, commands: ['checkpolicy', 'python3'] })) return;
  withTempDir((dir) => {
    const built = checkpolicy(dir, BRANCHES_POLICY);
    assert.ok(built.ok, built.output);
    const loaded = modelPolicy('branches.conf', BRANCHES_POLICY, 'standalone');
    assert.ok('policy' in loaded, 'error' in loaded ? loaded.error : '');
    const model = loaded.policy.model;
    const contexts = model.types.flatMap((ty) => allContexts(model, ty));
    const triples: (readonly [SecurityContext, SecurityContext, string])[] = [];
    for (const s of contexts) for (const c of contexts) for (const cls of classesOf(model)) triples.push([s, c, cls]);
    const started = performance.now();
    const r = compare(model, built.binary, triples, { roleAllows: loaded.policy.roleAllows });
    report(t, 'branches', r, performance.now() - started);
    assert.ok(r.constraintDenials > 0);
    assert.deepEqual(r.mismatches.slice(0, 20), []);
    // domain:transition between roles needs `allow r1 r2;` (services.c; libsepol agrees above).
    const from = { user: 'alice_u', role: 'r2_r', type: 'b_t' };
    const to = { user: 'alice_u', role: 'r1_r', type: 'b_t' };
    assert.ok(computeAccessVector(model, from, to, 'domain').allowed.includes('transition'), 'without role allows the check is not made');
    const xen = computeAccessVector(model, from, to, 'domain', { roleAllows: new Set(['r1_r r2_r']) });
    assert.equal(xen.deniedBy.get('transition'), 'rbac');
    assert.ok(computeAccessVector(model, to, from, 'domain', { roleAllows: new Set(['r1_r r2_r']) }).allowed.includes('transition'));
    // Boolean state: the conditional branch flips.
    const child = { user: 'alice_u', role: 'r1_r', type: 'child_t' };
    const obj = { user: 'alice_u', role: 'object_r', type: 'c_t' };
    assert.ok(!computeAccessVector(model, child, obj, 'event').allowed.includes('bind'));
    const on = computeAccessVector(model, child, obj, 'event', { booleans: new Map([['flag', true], ['other', false]]) });
    assert.ok(on.allowed.includes('bind') && (on.grantedBy.get('bind') ?? []).every((rule) => rule.guard !== undefined));
  });
});
