// manifest.json format 2, read back: for random specs, in both modes, its grants decoded
// through the shared tables (test/support/manifest.ts, written from the README) are exactly
// the IR's grants, each permission with one justification per reason the IR gives it
// (lower.ts originKey), each justification's provenance one of the IR's origins for that
// permission and its rule the policy line that grants it. And the README's jq join answers
// its question on the tinyvmi example.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { vocabulary } from '../compiler/index.js';
import type { Grant, IR, Origin } from '../compiler/ir.js';
import { originKey } from '../compiler/lower.js';
import { hostGrants } from '../compiler/emit/standalone.js';
import { positionAt, type SourceText } from '../core/source.js';
import { specArbitrary, toYaml } from './support/arbitrary.js';
import { artifactsOf, compileFile, compileText, repoPath, requires } from './support/env.js';
import { manifestGrants, type DecodedJustification } from './support/manifest.js';
import { EVERY_HVM_CAPABILITY, fleetSpec } from './support/fleet.js';

const RUNS = Number(process.env.VMIPOLICY_RANDOM_RUNS ?? 150);

/** An origin as a justification spells it out (format 1's fields). */
function spelt(o: Origin, source: SourceText): Record<string, unknown> {
  const spec = (): { line: number; column: number } => {
    const p = positionAt(source, o.kind === 'host-base' ? 0 : o.span.start);
    return { line: p.line, column: p.column };
  };
  switch (o.kind) {
    case 'capability':
      return { kind: o.kind, capability: o.capability, introspector: o.introspector, target: o.target, catalog: o.catalog, why: o.why, spec: spec() };
    case 'event-channel':
      return { kind: o.kind, capabilities: o.capabilities, introspector: o.introspector, target: o.target, catalog: o.catalog, why: o.why, spec: spec() };
    case 'xen-macro':
      return { kind: o.kind, macro: `${o.macro}(${o.args.join(', ')})`, domain: o.domain, spec: spec() };
    case 'domain-rule':
      return { kind: o.kind, domain: o.domain, why: o.why, spec: spec() };
    case 'host-base':
      return { kind: o.kind, why: o.why };
  }
}

function irGrants(ir: IR): Grant[] {
  return [...ir.macroUses.flatMap((m) => [...m.grants]), ...ir.domainRules, ...ir.vmiGrants, ...(ir.spec.mode === 'standalone' ? hostGrants(ir) : [])];
}

/** Asserts that the manifest's decoded grants are exactly the IR's, with its justifications. */
function assertManifestIsIr(text: string, ir: IR, source: SourceText, policy: string): void {
  const lines = policy.split('\n');
  const byPerm = new Map<string, Origin[]>();
  for (const g of irGrants(ir)) {
    const k = `${g.subject} ${g.object}:${g.cls} ${g.perm}`;
    byPerm.set(k, [...(byPerm.get(k) ?? []), g.origin]);
  }
  const seen = new Set<string>();
  const vocab = vocabulary(ir.spec.xen);
  for (const g of manifestGrants(text)) {
    const rule = `${g.subject} ${g.object}:${g.class}`;
    assert.deepEqual(g.permissions, vocab.sortPerms(g.class, g.permissions), `${rule}: permissions in bit order, once each`);
    const covered = new Set(g.justification.flatMap((j) => j.permissions));
    assert.deepEqual([...covered].sort(), [...g.permissions].sort(), `${rule}: the justifications account for exactly its permissions`);
    for (const p of g.permissions) {
      const k = `${rule} ${p}`;
      assert.ok(!seen.has(k), `${k} is in the manifest twice`);
      seen.add(k);
      const origins = byPerm.get(k);
      assert.ok(origins, `${k} is in the manifest but not in the IR`);
      // Each justification of p is one of the IR's origins of p, spelt out in full; one per
      // reason (originKey), and every reason the IR has for p is there.
      const reasons = g.justification.filter((j) => j.permissions.includes(p)).map((j) => {
        const { permissions: _p, rule: _r, ...provenance } = j;
        const o = origins.find((x) => JSON.stringify(spelt(x, source)) === JSON.stringify(provenance));
        assert.ok(o, `${k}: ${JSON.stringify(provenance)} is none of the IR's origins of it`);
        assertRuleLine(j, lines, rule, ir.spec.mode);
        return originKey(o);
      });
      assert.equal(new Set(reasons).size, reasons.length, `${k}: one justification per reason`);
      assert.deepEqual(reasons.sort(), [...new Set(origins.map(originKey))].sort(), `${k}: the IR's reasons for it`);
    }
  }
  assert.deepEqual([...seen].sort(), [...byPerm.keys()].sort(), 'the manifest lists exactly the IR\'s permissions');
}

/** `rule` is the line of the policy that grants the justification's permissions. */
function assertRuleLine(j: DecodedJustification, lines: readonly string[], rule: string, mode: 'module' | 'standalone'): void {
  const line = lines[j.rule - 1] ?? '';
  if (j.kind === 'xen-macro' && mode === 'module') {
    assert.equal(line, j.macro, `${rule}: line ${j.rule} is its macro`);
    return;
  }
  const m = /^allow (\S+ \S+) (?:\{ ([^}]*) \}|(\S+));$/.exec(line);
  assert.ok(m && m[1] === rule, `${rule}: line ${j.rule} is ${line}`);
  const printed = (m[2] ?? m[3] ?? '').split(' ');
  for (const p of j.permissions) assert.ok(printed.includes(p), `${rule}: line ${j.rule} does not grant ${p}`);
}

/**
 * Each row of the shared tables is there once: the manifest numbers an origin lower() made
 * (Origin.id) without looking its row up, so this holds only while no two of them say the same.
 */
function assertTablesHaveNoRepeats(manifest: string, what: string): void {
  const m = JSON.parse(manifest) as { reasons: unknown[]; origins: unknown[] };
  for (const table of ['reasons', 'origins'] as const) {
    const rows = m[table].map((r) => JSON.stringify(r));
    const repeated = rows.filter((r, i) => rows.indexOf(r) !== i);
    assert.deepEqual(repeated, [], `${what}: ${table} repeats rows`);
  }
}

describe('manifest.json format 2', () => {
  it('decodes to exactly the IR\'s grants and justifications (random specs, both modes)', () => {
    fc.assert(
      fc.property(specArbitrary(), (spec) => {
        const r = compileText(toYaml(spec));
        const artifacts = artifactsOf(r);
        assert.ok(r.ir && r.source);
        const policy = [...artifacts].find(([name]) => name.endsWith('.te') || name === 'policy.conf')?.[1] ?? '';
        assertManifestIsIr(artifacts.get('manifest.json') ?? '', r.ir, r.source, policy);
        assertTablesHaveNoRepeats(artifacts.get('manifest.json') ?? '', 'random spec');
      }),
      { numRuns: RUNS },
    );
  });

  it('the examples too, standalone with the host base', () => {
    for (const example of ['tinyvmi', 'drakvuf', 'multi-tenant']) {
      const r = compileFile(`examples/${example}/vmi.yaml`, { mode: 'standalone' });
      const artifacts = artifactsOf(r);
      assert.ok(r.ir && r.source);
      assertManifestIsIr(artifacts.get('manifest.json') ?? '', r.ir, r.source, artifacts.get('policy.conf') ?? '');
      assertTablesHaveNoRepeats(artifacts.get('manifest.json') ?? '', example);
    }
  });

  it('no table row twice where the catalog gives one reason in several classes (every capability, both tools, both modes)', () => {
    for (const tool of ['libvmi', 'drakvuf'] as const) {
      for (const mode of ['module', 'standalone']) {
        const r = compileText(fleetSpec(2, 3, { tool, capabilities: EVERY_HVM_CAPABILITY }).replace('mode: standalone', `mode: ${mode}`));
        const artifacts = artifactsOf(r);
        assert.ok(r.ir && r.source, JSON.stringify(r.diagnostics));
        const policy = [...artifacts].find(([name]) => name.endsWith('.te') || name === 'policy.conf')?.[1] ?? '';
        assertManifestIsIr(artifacts.get('manifest.json') ?? '', r.ir, r.source, policy);
        assertTablesHaveNoRepeats(artifacts.get('manifest.json') ?? '', `${tool}, ${mode}`);
      }
    }
  });

  it('the README\'s jq join says why a domain holds a permission', (t) => {
    if (!requires(t, { commands: ['jq'] })) return;
    const readme = readFileSync(repoPath('README.md'), 'utf8');
    const m = /```\n\$ (jq [^\n]*(?:\n {2}[^\n]*)*) out\/tinyvmi\/manifest\.json\n([\s\S]*?)```/.exec(readme);
    assert.ok(m, 'the README shows a jq command over out/tinyvmi/manifest.json and its output');
    const program = /jq (?:-c )?'([\s\S]*)'$/.exec((m[1] as string).trim());
    assert.ok(program, 'the command is jq with one quoted program');
    const manifest = artifactsOf(compileFile('examples/tinyvmi/vmi.yaml')).get('manifest.json') ?? '';
    const r = spawnSync('jq', ['-c', program[1] as string], { input: manifest, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, m[2], 'the README quotes what the command prints');
  });
});
