// Differential: what we emit must compile with the real tools — standalone with Debian's
// checkpolicy -t Xen, and as a module inside Xen's own policy trees (4.11, 4.17, 4.22)
// through Xen's Makefile flow — and sesearch must find in the binary exactly the grants
// our manifest claims.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { XEN_RELEASES } from '../compiler/index.js';
import { compareReleases } from '../catalog/vocabulary.js';
import { specArbitrary, toYaml } from './support/arbitrary.js';
import { artifactsOf, compileExampleAt, compileFile, compileText, CORPUS_RELEASES, EXAMPLES, repoPath, requires } from './support/env.js';
import { buildInXenTree, checkpolicy, sesearchAllows, withTempDir } from './support/oracles.js';
import { manifestGrants } from './support/manifest.js';
import { minimalMlsPolicy, minimalPolicy } from './support/policies.js';
import { policyFromText } from '../policy/load.js';
import type { Diagnostic } from '../core/diagnostics.js';

function manifestAllows(artifacts: ReadonlyMap<string, string>): Set<string> {
  return new Set(manifestGrants(artifacts.get('manifest.json') ?? '').flatMap((g) => g.permissions.map((p) => `${g.subject} ${g.object}:${g.class} ${p}`)));
}

const RANDOM_RUNS = Number(process.env.VMIPOLICY_RANDOM_RUNS ?? 200);

describe('standalone policy.conf compiles with checkpolicy -t Xen', () => {
  for (const example of EXAMPLES) {
    it(`${example}: every Xen release ${XEN_RELEASES[0]} … ${XEN_RELEASES.at(-1)}`, (t) => {
      if (!requires(t, { commands: ['checkpolicy'] })) return;
      for (const xen of XEN_RELEASES) {
        const result = compileFile(`examples/${example}/vmi.yaml`, { xen, mode: 'standalone' });
        if (!result.artifacts && result.diagnostics.every((d) => d.severity !== 'error' || d.code === 'VP1209' || d.code === 'VP1215')) {
          const codes = result.diagnostics.map((d) => d.code);
          if (codes.includes('VP1209')) assert.ok(compareReleases(xen, '4.10') < 0, `only releases before PVH domUs may refuse ${example}`);
          if (codes.includes('VP1215')) assert.ok(compareReleases(xen, '4.19') < 0, `only releases before 4.19 refuse HVM/PVH monitors' foreign maps (${example})`);
          continue;
        }
        const artifacts = artifactsOf(result);
        withTempDir((dir) => {
          const r = checkpolicy(dir, artifacts.get('policy.conf') ?? '');
          assert.ok(r.ok, `Xen ${xen}: ${r.output}`);
        });
      }
    });

    it(`${example}: sesearch finds exactly the manifest's grants`, (t) => {
      if (!requires(t, { commands: ['checkpolicy', 'sesearch'] })) return;
      const artifacts = artifactsOf(compileFile(`examples/${example}/vmi.yaml`, { mode: 'standalone' }));
      withTempDir((dir) => {
        const r = checkpolicy(dir, artifacts.get('policy.conf') ?? '');
        assert.ok(r.ok, r.output);
        assert.deepEqual([...sesearchAllows(r.binary)].sort(), [...manifestAllows(artifacts)].sort());
      });
    });
  }

  it('a large host compiles: no line over checkpolicy\'s 8 KiB lexer limit (YYLMAX)', (t) => {
    if (!requires(t, { commands: ['checkpolicy'] })) return;
    const names = Array.from({ length: 400 }, (_, i) => `tenant-vm-${String(i).padStart(4, '0')}`);
    const spec = [
      'vmipolicy: 1', 'xen: "4.22"', 'policy: {module: big, mode: standalone}', 'introspectors:',
      `  - {name: monitor, guest: pv, lookup: name, targets: [${names.join(', ')}], capabilities: [domain-info, read-memory, memory-events]}`,
      'targets:', ...names.map((n) => `  - {name: ${n}, guest: hvm}`), '',
    ].join('\n');
    const artifacts = artifactsOf(compileText(spec));
    for (const [name, text] of [...artifacts].filter(([n]) => !n.endsWith('.json'))) {
      const longest = text.split('\n').reduce((m, l) => Math.max(m, l.length), 0);
      assert.ok(longest <= 4096, `${name} has a line of ${longest} characters`);
    }
    withTempDir((dir) => {
      const r = checkpolicy(dir, artifacts.get('policy.conf') ?? '');
      assert.ok(r.ok, r.output);
    });
  });

  it(`${RANDOM_RUNS} random valid specs compile, on random releases`, (t) => {
    if (!requires(t, { commands: ['checkpolicy'] })) return;
    let compiled = 0;
    withTempDir((dir) => {
      fc.assert(
        fc.property(specArbitrary({ modes: ['standalone'] }), (spec) => {
          const artifacts = artifactsOf(compileText(toYaml(spec)));
          const r = checkpolicy(dir, artifacts.get('policy.conf') ?? '');
          assert.ok(r.ok, `${r.output}\n--- spec ---\n${toYaml(spec)}`);
          compiled++;
        }),
        { numRuns: RANDOM_RUNS },
      );
    });
    console.log(`# checkpolicy compiled ${compiled} random standalone policies`);
    assert.equal(compiled, RANDOM_RUNS);
  });
});

describe('module .te builds inside Xen\'s own policy tree (Makefile.common flow)', () => {
  for (const release of CORPUS_RELEASES) {
    for (const example of EXAMPLES) {
      it(`${example} in Xen ${release}`, (t) => {
        if (!requires(t, { shared: true, commands: ['checkpolicy', 'm4', 'sesearch'] })) return;
        const artifacts = artifactsOf(compileExampleAt(example, release, 'module'));
        const [teName, te] = [...artifacts].find(([name]) => name.endsWith('.te')) ?? ['', ''];
        withTempDir((dir) => {
          const r = buildInXenTree(dir, release, teName.replace(/\.te$/, ''), te);
          assert.ok(r.ok, r.output);
          // Everything the manifest grants is in the built policy (the stock policy adds
          // attribute rules of its own on top, which the checker accounts for).
          const built = sesearchAllows(r.binary);
          const absent = [...manifestAllows(artifacts)].filter((g) => !built.has(g));
          assert.deepEqual(absent, []);
        });
      });
    }
  }

  it(`${RANDOM_RUNS} random valid specs build as modules in the corpus trees`, (t) => {
    if (!requires(t, { shared: true, commands: ['checkpolicy', 'm4'] })) return;
    let built = 0;
    withTempDir((dir) => {
      fc.assert(
        fc.property(specArbitrary({ releases: CORPUS_RELEASES, modes: ['module'] }), (spec) => {
          const artifacts = artifactsOf(compileText(toYaml(spec)));
          const r = buildInXenTree(dir, spec.xen, spec.policy.module, artifacts.get(`${spec.policy.module}.te`) ?? '');
          assert.ok(r.ok, `${r.output}\n--- spec ---\n${toYaml(spec)}`);
          built++;
        }),
        { numRuns: RANDOM_RUNS },
      );
    });
    console.log(`# Xen's Makefile flow built ${built} random modules`);
    assert.equal(built, RANDOM_RUNS);
  });
});

it('the published schema file is the one examples reference', () => {
  for (const example of EXAMPLES) {
    const text = readFileSync(repoPath('examples', example, 'vmi.yaml'), 'utf8');
    assert.match(text, /^# yaml-language-server: \$schema=\.\.\/\.\.\/schema\/spec-v1\.schema\.json$/m);
  }
});

// Differential on verdicts: a policy our parser and model load is one checkpolicy -t Xen
// loads, and the reverse. Otherwise `check` proves things about a policy Xen can never run
// (or refuses one it can). Known exceptions, left to the checker's own rules: a neverallow
// that an allow rule violates, and two type rules that conflict once expanded — checkpolicy
// refuses both while expanding, the model keeps them (the generator below writes neither).
describe('our parser and model load exactly the policies checkpolicy -t Xen loads', () => {
  /** [what, policy, the diagnostic we give, or undefined when both accept, checkpolicy -M?]. */
  const cases: [string, string, string | undefined, boolean?][] = [
    ['a boolean declared twice', minimalPolicy({ te: 'bool bb false;' }), 'VP3304'],
    ['typealias onto a type', minimalPolicy({ te: 'typealias b_t alias xen_t;' }), 'VP3308'],
    ['typealias onto an attribute', minimalPolicy({ te: 'typealias b_t alias dt;' }), 'VP3308'],
    ['typealias onto an alias', minimalPolicy({ te: 'typealias b_t alias b2_t;\ntypealias xen_t alias b2_t;' }), 'VP3308'],
    ['a type whose alias is a type', minimalPolicy({ te: 'type c_t alias b_t;' }), 'VP3308'],
    ['an alias listed twice', minimalPolicy({ te: 'type c_t alias { c2_t c2_t };' }), 'VP3308'],
    ['if on an undeclared boolean', minimalPolicy({ te: 'if (nob) { allow xen_t b_t:xen settime; }' }), 'VP3306'],
    ['if on a type, not a boolean', minimalPolicy({ te: 'if (bb && b_t) { allow xen_t b_t:xen settime; }' }), 'VP3306'],
    ['a permission one of the listed classes lacks', minimalPolicy({ te: 'allow xen_t b_t:{ xen domain } settime;' }), 'VP3303'],
    ['a constraint permission one class lacks', minimalPolicy({ constraints: 'constrain { xen domain } create u1 == u2;' }), 'VP3303'],
    ['allow * *', minimalPolicy({ te: 'allow * *:xen settime;' }), 'VP3009'],
    ['allow with a complement', minimalPolicy({ te: 'allow xen_t ~b_t:xen settime;' }), 'VP3009'],
    ['dontaudit with *', minimalPolicy({ te: 'dontaudit * b_t:xen settime;' }), 'VP3009'],
    ['type_transition * *', minimalPolicy({ te: 'type_transition * *:domain b_t;' }), 'VP3009'],
    ['type_member with a complement', minimalPolicy({ te: 'type_member xen_t ~b_t:domain b_t;' }), 'VP3009'],
    ['role types *', minimalPolicy({ te: 'role system_r types *;' }), 'VP3009'],
    ['class *', minimalPolicy({ te: 'allow xen_t b_t:* settime;' }), 'VP3010'],
    ['class ~xen, even in a neverallow', minimalPolicy({ te: 'neverallow xen_t b_t:~xen create;' }), 'VP3010'],
    ['constrain *', minimalPolicy({ constraints: 'constrain * settime u1 == u2;' }), 'VP3010'],
    ['a class declared twice', minimalPolicy().replace('class domain\n', 'class domain\nclass domain\n'), 'VP3304'],
    ['an initial SID declared twice', minimalPolicy().replace('sid xen\n', 'sid xen\nsid xen\n'), 'VP3304'],
    ['a permission listed twice', minimalPolicy().replace('class domain { create }', 'class domain { create create }'), 'VP3304'],
    ['an access vector defined twice', minimalPolicy().replace('class domain { create }', 'class domain { create }\nclass domain { create }'), 'VP3304'],
    ['an access vector for an undeclared class', minimalPolicy().replace('class domain { create }', 'class domain { create }\nclass nocls { x }'), 'VP3302'],
    ['a role attribute declared twice', minimalPolicy({ te: 'attribute_role ra;\nattribute_role ra;' }), 'VP3304'],
    ['a role attribute named as a role', minimalPolicy({ te: 'attribute_role system_r;' }), 'VP3304'],
    ['a role declared again after its attribute', minimalPolicy({ te: 'attribute_role ra;\nrole ra;' }), 'VP3304'],
    ['an undeclared type in a constraint', minimalPolicy({ constraints: 'constrain xen settime t1 == no_t;' }), 'VP3301'],
    ['an undeclared role in a constraint', minimalPolicy({ constraints: 'constrain xen settime r1 == no_r;' }), 'VP3305'],
    ['an undeclared user in a constraint', minimalPolicy({ constraints: 'constrain xen settime u1 == no_u;' }), 'VP3310'],
    ['a context for an undeclared SID', minimalPolicy().replace('sid xen system_u', 'sid nosid system_u'), 'VP3309'],
    ['a SID context given twice', minimalPolicy({ devices: 'sid xen system_u:system_r:xen_t' }).replace(/\nsid xen system_u:system_r:xen_t\n/, '\nsid xen system_u:system_r:xen_t\nsid xen system_u:system_r:xen_t\n'), 'VP3304'],
    ['a context whose type is an attribute', minimalPolicy({ devices: 'pirqcon 3 system_u:system_r:dt' }), 'VP3311'],
    ['a context with an undeclared user', minimalPolicy({ devices: 'pirqcon 3 nouser:system_r:b_t' }), 'VP3310'],
    ['a context whose role may not have its type', minimalPolicy({ te: 'type c_t;', devices: 'pirqcon 3 system_u:system_r:c_t' }), 'VP3312'],
    ['an MLS section without mlsconstrain', minimalMlsPolicy().replace('mlsconstrain xen settime l1 eq l2;', ''), 'VP3313', true],
    ['an MLS section without levels', minimalMlsPolicy().replace('level s0:c0;', '').replace(' level s0 range s0 - s0:c0', '').replace(/:s0\n/, '\n'), 'VP3313', true],
    // Accepted by both: the operators and repetitions checkpolicy does take.
    ['neverallow with * and ~', minimalPolicy({ te: 'neverallow * ~dt:domain create;' }), undefined],
    ['a complemented permission one listed class lacks', minimalPolicy({ te: 'allow xen_t b_t:{ xen domain } ~settime;' }), 'VP3303'],
    ['permissions *, ~ and repeated', minimalPolicy({ te: 'allow xen_t b_t:xen *;\nallow xen_t b_t:{ xen domain } *;\nallow xen_t b_t:xen ~settime;\nallow xen_t b_t:xen { settime settime };' }), undefined],
    ['typealias naming an alias (found by the random property)', minimalPolicy({ te: 'typealias xen_t alias n2;\ntypealias n2 alias bb;\nallow bb b_t:xen settime;' }), undefined],
    ['an alias of an alias target, a bool named like a type', minimalPolicy({ te: 'typealias b_t alias b2_t;\nbool b_t false;\nallow b2_t xen_t:xen settime;' }), undefined],
    ['a role attribute given types', minimalPolicy({ te: 'attribute_role ra;\nrole ra types b_t;\nrole system_r, ra;' }), undefined],
    ['object_r in a device context', minimalPolicy({ devices: 'pirqcon 3 system_u:object_r:b_t' }), undefined],
    ['an MLS policy with mlsvalidatetrans only', minimalMlsPolicy().replace('mlsconstrain xen settime l1 eq l2;', 'mlsvalidatetrans xen l1 eq l2;'), undefined, true],
  ];

  it('our verdicts, each with its diagnostic', () => {
    for (const [what, policy, code] of cases) {
      const codes = ourErrors(policy).map((d) => d.code);
      if (code === undefined) assert.deepEqual(codes, [], what);
      else assert.ok(codes.includes(code), `${what}: expected ${code}, got ${JSON.stringify(ourErrors(policy))}`);
    }
  });

  it('checkpolicy\'s verdicts are the same', (t) => {
    if (!requires(t, { commands: ['checkpolicy'] })) return;
    withTempDir((dir) => {
      for (const [what, policy, code, mls] of cases) {
        const r = checkpolicy(dir, policy, { mls: mls === true });
        assert.equal(r.ok, code === undefined, `${what}: ${r.output}`);
      }
    });
  });

  it(`${RANDOM_RUNS} random small policies: the same verdict from both`, (t) => {
    if (!requires(t, { commands: ['checkpolicy'] })) return;
    let rejected = 0;
    withTempDir((dir) => {
      fc.assert(
        fc.property(fc.array(teStatement, { minLength: 1, maxLength: 4 }), (statements) => {
          const policy = minimalPolicy({ te: statements.join('\n') });
          const ours = ourErrors(policy);
          const theirs = checkpolicy(dir, policy);
          assert.equal(ours.length === 0, theirs.ok, `checkpolicy: ${theirs.output}\nours: ${JSON.stringify(ours)}\n--- te ---\n${statements.join('\n')}`);
          if (!theirs.ok) rejected++;
        }),
        { numRuns: RANDOM_RUNS },
      );
    });
    console.log(`# ${rejected} of ${RANDOM_RUNS} random policies rejected by both`);
    // A generator that only ever wrote valid (or only invalid) policies would prove little.
    assert.ok(rejected > 0 && rejected < RANDOM_RUNS, `${rejected} of ${RANDOM_RUNS} rejected`);
  });
});

function ourErrors(policy: string): Diagnostic[] {
  return policyFromText('policy.conf', policy).diagnostics.filter((d) => d.severity === 'error');
}

// TE statements over the skeleton's names (xen_t, b_t, attribute dt, bool bb) and two
// fresh ones, with the sets, operators and classes checkpolicy takes in some places only.
// Type rules all give b_t, so none conflict (see above).
// Weighted towards what is valid, so that a fair share of the policies load (about one in five).
const name = fc.constantFrom('xen_t', 'b_t', 'dt', 'bb', 'n1', 'n2');
const typeSet = fc.oneof({ arbitrary: fc.constantFrom('xen_t', 'b_t', 'dt', '{ xen_t dt }', '{ dt -b_t }'), weight: 6 }, { arbitrary: fc.constantFrom('*', '~b_t', 'self', 'bb', 'n1'), weight: 1 });
const classSet = fc.oneof({ arbitrary: fc.constant('xen'), weight: 6 }, { arbitrary: fc.constantFrom('domain', '{ xen domain }', '*', '~xen'), weight: 1 });
const permSet = fc.oneof({ arbitrary: fc.constantFrom('settime', '*', '~settime'), weight: 6 }, { arbitrary: fc.constantFrom('create', '{ settime create }', 'nosuch'), weight: 1 });
const avRule = fc.tuple(fc.constantFrom('allow', 'auditallow', 'dontaudit'), typeSet, typeSet, classSet, permSet).map(([k, s, t, c, p]) => `${k} ${s} ${t}:${c} ${p};`);
const teStatement = fc.oneof(
  fc.tuple(name, fc.boolean()).map(([n, v]) => `bool ${n} ${v};`),
  name.map((n) => `type ${n};`),
  name.map((n) => `attribute ${n};`),
  fc.tuple(name, name).map(([n, a]) => `type ${n} alias ${a};`),
  fc.tuple(name, name).map(([t, a]) => `typealias ${t} alias ${a};`),
  fc.tuple(name, name).map(([t, a]) => `typeattribute ${t} ${a};`),
  avRule,
  fc.tuple(fc.constantFrom('type_transition', 'type_change'), typeSet, typeSet, classSet).map(([k, s, t, c]) => `${k} ${s} ${t}:${c} b_t;`),
  fc.tuple(name, avRule).map(([b, rule]) => `if (${b}) { ${rule} }`),
  typeSet.map((s) => `role system_r types ${s};`),
);
