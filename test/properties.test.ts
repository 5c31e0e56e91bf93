// Properties over random valid specs (fast-check): the output is deterministic and does
// not depend on the order of the spec's lists; every permission it prints exists in the
// chosen release; no rule names a type outside the spec's domains, their derived types and
// the Xen pseudo-types the catalog requires; introspectors get nothing on dom0_t; and each
// introspector's rights over a target are exactly the union its capabilities define.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { capability, vocabulary } from '../compiler/index.js';
import { reordered, specArbitrary, toYaml, type SpecObject } from './support/arbitrary.js';
import { artifactsOf, compileText } from './support/env.js';
import { manifestGrants } from './support/manifest.js';

const RUNS = 300;

/** `allow S O:C perms;` statements of a policy text (macro calls are checked separately). */
function allowStatements(text: string): { s: string; o: string; c: string; perms: string[] }[] {
  return [...text.matchAll(/^allow (\S+) (\S+):(\S+) (?:\{ ([^}]*) \}|(\S+));$/gm)].map((m) => ({
    s: m[1] as string,
    o: m[2] as string,
    c: m[3] as string,
    perms: (m[4] ?? m[5] ?? '').trim().split(/\s+/),
  }));
}

function policyText(artifacts: ReadonlyMap<string, string>): string {
  return [...artifacts].find(([name]) => name.endsWith('.te') || name === 'policy.conf')?.[1] ?? '';
}

const XEN_TYPES = ['xen_t', 'xenboot_t', 'dom0_t', 'dom0_t_channel', 'domxen_t', 'domio_t', 'security_t', 'irq_t', 'ioport_t', 'iomem_t', 'device_t'];

function allowedTypes(spec: SpecObject, artifacts: ReadonlyMap<string, string>): Set<string> {
  const manifest = JSON.parse(artifacts.get('manifest.json') ?? '{}') as { domains: { type: string; self: string; channel: string }[] };
  assert.equal(manifest.domains.length, spec.introspectors.length + spec.targets.length);
  return new Set([...XEN_TYPES, ...manifest.domains.flatMap((d) => [d.type, d.self, d.channel])]);
}

describe('properties of compiled output', () => {
  it('identical input → identical bytes; reordered lists → identical policy, xl and scripts', () => {
    fc.assert(
      fc.property(specArbitrary(), (spec) => {
        const a = artifactsOf(compileText(toYaml(spec)));
        const again = artifactsOf(compileText(toYaml(spec)));
        assert.deepEqual([...again], [...a]);
        const b = artifactsOf(compileText(toYaml(reordered(spec))));
        assert.deepEqual([...b.keys()], [...a.keys()]);
        for (const [name, content] of a) {
          // The manifest records spec positions, which move when entries move.
          if (name === 'manifest.json') continue;
          assert.equal(b.get(name), content, `${name} changed when the spec's lists were reordered`);
        }
        // Spec positions are a domain's `spec` and an origin's line and column.
        const strip = (m: string): unknown => {
          const parsed = JSON.parse(m, (k, v: unknown) => (k === 'spec' && typeof v === 'object' ? undefined : v)) as { origins: unknown[][] };
          return { ...parsed, origins: parsed.origins.map((row) => (row.length === 1 ? row : [row[0], ...row.slice(3)])) };
        };
        assert.deepEqual(strip(b.get('manifest.json') ?? ''), strip(a.get('manifest.json') ?? ''));
      }),
      { numRuns: RUNS },
    );
  });

  it('every printed permission exists in the chosen Xen release', () => {
    fc.assert(
      fc.property(specArbitrary(), (spec) => {
        const v = vocabulary(spec.xen);
        for (const r of allowStatements(policyText(artifactsOf(compileText(toYaml(spec)))))) {
          assert.ok(v.hasClass(r.c), `class ${r.c} in Xen ${spec.xen}`);
          for (const p of r.perms) assert.ok(v.has(r.c, p), `${r.c}:${p} is not a permission of Xen ${spec.xen}`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('no rule names a type outside the spec, its derived types and Xen\'s pseudo-types', () => {
    fc.assert(
      fc.property(specArbitrary(), (spec) => {
        const artifacts = artifactsOf(compileText(toYaml(spec)));
        const allowed = allowedTypes(spec, artifacts);
        const text = policyText(artifacts);
        for (const r of allowStatements(text)) {
          assert.ok(allowed.has(r.s), `subject ${r.s}`);
          assert.ok(allowed.has(r.o), `object ${r.o}`);
        }
        for (const m of text.matchAll(/^(declare_domain|create_domain|manage_domain|domain_comms|domain_event_comms)\(([^)]*)\)$/gm)) {
          for (const arg of (m[2] as string).split(/,\s*/)) assert.ok(allowed.has(arg), `${m[1]} argument ${arg}`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('introspectors hold nothing on dom0_t, and exactly their capabilities over their targets', () => {
    fc.assert(
      fc.property(specArbitrary(), (spec) => {
        const artifacts = artifactsOf(compileText(toYaml(spec)));
        const text = artifacts.get('manifest.json') ?? '{}';
        const manifest = { ...(JSON.parse(text) as { domains: { name: string; type: string; guest: 'pv' | 'pvh' | 'hvm' }[] }), grants: manifestGrants(text) };
        const typeOf = new Map(manifest.domains.map((d) => [d.name, d]));
        for (const s of spec.introspectors) {
          const sd = typeOf.get(s.name);
          assert.ok(sd);
          assert.deepEqual(manifest.grants.filter((g) => g.subject === sd.type && g.object.startsWith('dom0_t')), []);
          for (const tName of spec.targets.map((t) => t.name)) {
            const td = typeOf.get(tName);
            assert.ok(td);
            // Expected: the union of the catalog's grants on T for each declared capability.
            const expected = new Set<string>();
            if (s.targets.includes(tName)) {
              for (const c of s.capabilities) {
                for (const g of capability(c)?.grants({ xen: spec.xen, introspector: s.guest, target: td.guest }) ?? []) {
                  if (g.object === 'target') for (const p of g.perms) expected.add(`${g.cls}:${p}`);
                }
              }
            }
            const actual: Set<string> = new Set(manifest.grants.filter((g) => g.subject === sd.type && g.object === td.type).flatMap((g) => g.permissions.map((p) => `${g.class}:${p}`)));
            assert.deepEqual([...actual].sort(), [...expected].sort(), `${s.name} → ${tName}`);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
