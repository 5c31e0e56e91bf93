// Properties of the privilege diff on random small policies (fast-check): diff(P, P) is
// empty; diff(P, Q) and diff(Q, P) are mirror images; and the added / removed permissions —
// hence `--fail-on new-access` — equal a brute-force comparison of the fully expanded
// (subject, object, class, perm) sets in every boolean state.

import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { runDiff } from '../cli/diff.js';
import { minimalPolicy } from './support/policies.js';
import { withTempDir } from './support/oracles.js';
import { diffTexts, tuples } from './support/diff.js';

const TYPES = ['xen_t', 'b_t', 'v0', 'v1', 'v2'];
const ATTRS = ['dt', 'a1'];
const CLASSES: Record<string, string[]> = { xen: ['settime', 'readconsole'], domain: ['create'] };
const BOOLS = ['bb', 'b2'];

type Guard = { bool: string; branch: boolean } | undefined;
interface Rule { src: string; tgt: string; cls: string; perms: string[]; guard: Guard }
interface Pol { members: Record<string, string[]>; rules: Rule[] }

const rule: fc.Arbitrary<Rule> = fc.record({
  src: fc.constantFrom(...TYPES, ...ATTRS),
  tgt: fc.constantFrom(...TYPES, ...ATTRS, 'self'),
  cls: fc.constantFrom('xen', 'domain'),
  pick: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
  guard: fc.option(fc.record({ bool: fc.constantFrom(...BOOLS), branch: fc.boolean() }), { nil: undefined }),
}).map(({ src, tgt, cls, pick, guard }) => {
  const all = CLASSES[cls] as string[];
  const chosen = all.filter((_, i) => pick[i]);
  return { src, tgt, cls, perms: chosen.length ? chosen : [all[0] as string], guard };
});

/** dt always holds xen_t (the skeleton declares it so); other memberships are random. */
const members = fc.record({ dt: fc.subarray(['b_t', 'v0', 'v1', 'v2']), a1: fc.subarray(TYPES) }).map((m) => ({ dt: ['xen_t', ...m.dt], a1: m.a1 }));

/** Two policies sharing a base, each with its own rules and memberships. */
const pair: fc.Arbitrary<[Pol, Pol]> = fc.record({
  base: fc.array(rule, { maxLength: 6 }),
  oldOnly: fc.array(rule, { maxLength: 3 }),
  newOnly: fc.array(rule, { maxLength: 3 }),
  mo: members,
  mn: fc.oneof(members, fc.constant(undefined)),
}).map(({ base, oldOnly, newOnly, mo, mn }) => [{ members: mo, rules: [...base, ...oldOnly] }, { members: mn ?? mo, rules: [...base, ...newOnly] }]);

function render(p: Pol): string {
  const lines = ['type v0;', 'type v1;', 'type v2;', 'attribute a1;', 'bool b2 false;', 'role system_r types { v0 v1 v2 };'];
  for (const [a, ts] of Object.entries(p.members)) for (const t of ts) if (!(a === 'dt' && t === 'xen_t')) lines.push(`typeattribute ${t} ${a};`);
  const text = (r: Rule): string => `allow ${r.src} ${r.tgt}:${r.cls} { ${r.perms.join(' ')} };`;
  for (const r of p.rules) {
    if (!r.guard) lines.push(text(r));
    else lines.push(r.guard.branch ? `if (${r.guard.bool}) { ${text(r)} }` : `if (${r.guard.bool}) { } else { ${text(r)} }`);
  }
  return minimalPolicy({ te: lines.join('\n') });
}

/** Brute force: every (s, t, c, p) granted in one boolean state, with every set expanded. */
function expanded(p: Pol, state: Record<string, boolean>): Set<string> {
  const ex = (n: string): string[] => p.members[n] ?? [n];
  const out = new Set<string>();
  for (const r of p.rules) {
    if (r.guard && state[r.guard.bool] !== r.guard.branch) continue;
    for (const s of ex(r.src)) for (const t of r.tgt === 'self' ? [s] : ex(r.tgt)) for (const perm of r.perms) out.add(`${s} ${t}:${r.cls} ${perm}`);
  }
  return out;
}

const STATES = [false, true].flatMap((bb) => [false, true].map((b2) => ({ bb, b2 })));

function bruteForce(a: Pol, b: Pol): { added: Set<string>; removed: Set<string> } {
  const added = new Set<string>();
  const removed = new Set<string>();
  for (const st of STATES) {
    const x = expanded(a, st);
    const y = expanded(b, st);
    for (const t of y) if (!x.has(t)) added.add(t);
    for (const t of x) if (!y.has(t)) removed.add(t);
  }
  return { added, removed };
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

describe('diff: properties on random policies', () => {
  it('diff(P, P) is empty', () => {
    fc.assert(fc.property(pair, ([p]) => {
      const r = diffTexts(render(p), render(p));
      assert.deepEqual(r.policy.access, []);
      assert.equal(r.newAccess, false);
    }), { numRuns: 100 });
  });

  it('diff(P, Q) and diff(Q, P) are mirror images', () => {
    fc.assert(fc.property(pair, ([p, q]) => {
      const a = tuples(diffTexts(render(p), render(q)));
      const b = tuples(diffTexts(render(q), render(p)));
      const flip = (x: string): string => (x.startsWith('+') ? `-${x.slice(1)}` : `+${x.slice(1)}`);
      assert.deepEqual(sorted(a), sorted(b.map(flip)));
    }), { numRuns: 150 });
  });

  it('added and removed permissions equal the brute-force comparison in every boolean state; new access iff NEW ⊄ OLD', () => {
    fc.assert(fc.property(pair, ([p, q]) => {
      const r = diffTexts(render(p), render(q));
      const bf = bruteForce(p, q);
      const ours = tuples(r);
      assert.deepEqual(sorted(ours.filter((x) => x.startsWith('+')).map((x) => x.slice(2))), sorted(bf.added));
      assert.deepEqual(sorted(ours.filter((x) => x.startsWith('-')).map((x) => x.slice(2))), sorted(bf.removed));
      assert.equal(r.newAccess, bf.added.size > 0);
    }), { numRuns: 300 });
  });

  it('the CLI: --fail-on new-access exits 1 iff NEW ⊄ OLD (brute force), else 0', () => {
    withTempDir((dir) => {
      fc.assert(fc.property(pair, ([p, q]) => {
        const a = join(dir, 'old.conf');
        const b = join(dir, 'new.conf');
        writeFileSync(a, render(p));
        writeFileSync(b, render(q));
        const code = runDiff([a, b, '--fail-on', 'new-access', '--format', 'json'], { stdout: () => {}, stderr: () => {} });
        assert.equal(code, bruteForce(p, q).added.size > 0 ? 1 : 0);
      }), { numRuns: 40 });
    });
  });
});
