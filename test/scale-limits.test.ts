// The scale limits (compiler/scale.ts): a spec past any of them is refused with VP1217 before
// anything is compiled, placed where it passes the limit, by every command that reads a spec;
// the flags lift them; machine formats stay valid. Fires/silent at each limit and one past it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compile } from '../compiler/compile.js';
import { DEFAULT_SCALE_LIMITS, scaleOf, type ScaleLimits } from '../compiler/scale.js';
import { positionAt } from '../core/source.js';
import { repoPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const TIMEOUT_MS = 120_000;

function cli(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `monitors` introspectors (block style, one target entry per line), each watching `per` of `targets` targets in turn. */
function spec(monitors: number, per: number, targets: number): string {
  const lines = ['vmipolicy: 1', 'xen: "4.17.7"', 'policy: {module: vmi, mode: standalone}', 'introspectors:'];
  for (let m = 0; m < monitors; m++) {
    lines.push(`  - name: m${m}`, '    guest: pv', '    capabilities: [domain-info, read-memory, read-registers, pause]', '    targets:');
    for (let i = 0; i < per; i++) lines.push(`      - t${(m * per + i) % targets}`);
  }
  lines.push('targets:', ...Array.from({ length: targets }, (_, i) => `  - {name: t${i}, guest: hvm}`), '');
  return lines.join('\n');
}

/** The VP1217 errors of compiling `text` under `limits`, each with its message and where it points. */
function scaleErrors(text: string, limits: Partial<ScaleLimits>): { message: string; at: string }[] {
  const r = compile({ file: 'spec.yaml', content: text }, { limits, manifest: false });
  return r.diagnostics.filter((d) => d.code === 'VP1217').map((d) => {
    const span = d.span;
    assert.ok(span && r.source, `VP1217 without a place: ${d.message}`);
    const p = positionAt(r.source, span.start);
    return { message: d.message, at: `${p.line}: ${r.source.text.slice(span.start, span.end)}` };
  });
}

describe('scale limits: fires one past each limit, silent at it', () => {
  // 3 introspectors × 4 targets each, over 6 targets: 9 domains, 12 pairs, 27 probes.
  const text = spec(3, 4, 6);
  const scale = scaleOf({ introspectors: [0, 1, 2].map(() => ({ targets: [0, 1, 2, 3] })), targets: [0, 1, 2, 3, 4, 5] } as never);

  it('measures domains, pairs and probes', () => {
    assert.deepEqual(scale, { domains: 9, pairs: 12, probes: 27, introspectors: 3 });
  });

  const cases: { name: string; limits: Partial<ScaleLimits>; fires?: { message: RegExp; at: string } }[] = [
    { name: 'domains at the limit', limits: { domains: 9 } },
    { name: 'domains one past', limits: { domains: 8 }, fires: { message: /^the spec has 9 domains \(introspectors and targets\); the limit is 8$/, at: ': t5' } },
    { name: 'pairs at the limit', limits: { pairs: 12 } },
    // Pair 6 is m1's second target entry (m1 watches t4, t5, t0, t1).
    { name: 'pairs one past', limits: { pairs: 5 }, fires: { message: /^the spec has 12 introspector–target pairs; the limit is 5$/, at: ': t5' } },
    { name: 'probes at the limit', limits: { probes: 27 } },
    // 18 probes cover two introspectors of 9 domains: the third goes over.
    { name: 'probes one past', limits: { probes: 26 }, fires: { message: /^the spec has 27 probes \(introspectors × domains: 3 × 9\); the limit is 26$/, at: ': m2' } },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.fires ? 'fires' : 'silent'}`, () => {
      const errors = scaleErrors(text, c.limits);
      if (!c.fires) return assert.deepEqual(errors, []);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      const [e] = errors as [{ message: string; at: string }];
      assert.match(e.message, c.fires.message);
      assert.ok(e.at.endsWith(c.fires.at), `placed at ${e.at}`);
    });
  }

  it('places the domain over the limit at its own entry, and the pair at its target entry', () => {
    const [domain] = scaleErrors(text, { domains: 8 });
    // Introspectors come first, then targets: the ninth domain is the sixth target.
    assert.match(domain?.at ?? '', /^\d+: t5$/);
    const line = Number(domain?.at.split(':')[0]);
    assert.equal(text.split('\n')[line - 1], '  - {name: t5, guest: hvm}');
    const [pair] = scaleErrors(text, { pairs: 5 });
    const pairLine = Number(pair?.at.split(':')[0]);
    // m1's entries start after m0's block (5 header lines + 4 entries) and m1's 4 header lines.
    assert.equal(text.split('\n')[pairLine - 1], '      - t5');
    assert.equal(text.split('\n').slice(0, pairLine).filter((l) => l.startsWith('  - name: m')).length, 2);
  });

  it('a spec with other errors is told about those, not about its size', () => {
    const broken = text.replace('capabilities: [domain-info', 'capabilities: [no-such-capability, domain-info');
    const r = compile({ file: 'spec.yaml', content: broken }, { limits: { domains: 1 }, manifest: false });
    assert.ok(r.diagnostics.some((d) => d.code === 'VP1207'));
    assert.ok(!r.diagnostics.some((d) => d.code === 'VP1217'));
  });

  it('the defaults are the documented ones', () => {
    assert.deepEqual(DEFAULT_SCALE_LIMITS, { domains: 2000, pairs: 2000, probes: 200000 });
  });
});

describe('scale limits through every command that reads a spec', () => {
  const tiny = repoPath('examples', 'tinyvmi', 'vmi.yaml');
  const commands: { name: string; args: (spec: string, dir: string) => string[] }[] = [
    { name: 'compile', args: (s, d) => ['compile', s, '-o', join(d, 'out')] },
    { name: 'check', args: (s) => ['check', s] },
    { name: 'verify', args: (s) => ['verify', s] },
    { name: 'selftest', args: (s) => ['selftest', s] },
    { name: 'diff', args: (s) => ['diff', s, s] },
    { name: 'explain', args: (s, d) => { writeFileSync(join(d, 'empty.log'), ''); return ['explain', join(d, 'empty.log'), '--spec', s]; } },
  ];
  for (const c of commands) {
    it(`${c.name}: --max-domains 1 refuses tinyvmi's 2 domains (exit 2, VP1217, nothing written); --max-domains 2 lets it through`, () => {
      withTempDir((dir) => {
        const refused = cli([...c.args(tiny, dir), '--max-domains', '1']);
        assert.equal(refused.status, 2, refused.stderr);
        assert.match(refused.stderr, /vmi\.yaml:24:11: error VP1217: the spec has 2 domains \(introspectors and targets\); the limit is 1/);
        assert.match(refused.stderr, /help: pass --max-domains 2 to go on/);
        assert.ok(!existsSync(join(dir, 'out')), 'compile wrote output for a refused spec');
        const through = cli([...c.args(tiny, dir), '--max-domains', '2']);
        assert.ok(through.status === 0 || through.status === 1, `${c.name} --max-domains 2: exit ${through.status}\n${through.stderr}`);
        assert.doesNotMatch(through.stderr, /VP1217/);
      });
    });
  }

  it('bad limit values are usage errors', () => {
    for (const v of ['0', '-1', 'x', '1.5', '1e3', '9999999999']) {
      const r = cli(['check', tiny, '--max-pairs', v]);
      assert.equal(r.status, 2, v);
      assert.match(r.stderr, new RegExp(`--max-pairs must be a whole number from 1 to 999999999, not ${v.replace('.', '\\.')}`));
    }
  });

  it('machine formats stay valid: check --format json and sarif carry VP1217', () => {
    const json = cli(['check', tiny, '--max-probes', '1', '--format', 'json']);
    assert.equal(json.status, 2);
    const report = JSON.parse(json.stdout) as { diagnostics: { code: string }[] };
    assert.ok(report.diagnostics.some((d) => d.code === 'VP1217'));
    const sarif = cli(['check', tiny, '--max-probes', '1', '--format', 'sarif']);
    assert.equal(sarif.status, 2);
    assert.match(JSON.stringify(JSON.parse(sarif.stdout)), /VP1217/);
  });

  it('by default, one domain past 2 000 is refused before anything is compiled', () => {
    withTempDir((dir) => {
      const big = join(dir, 'big.yaml');
      // One introspector watching 2 000 targets: 2 001 domains, 2 000 pairs, 2 001 probes.
      writeFileSync(big, spec(1, 2000, 2000));
      const r = cli(['compile', big, '-o', join(dir, 'out')]);
      assert.equal(r.status, 2, r.stderr.slice(0, 500));
      const errors = r.stderr.split('\n').filter((l) => l.includes('error VP'));
      assert.deepEqual(errors.map((l) => l.replace(/^.*?: error /, '')), ['VP1217: the spec has 2001 domains (introspectors and targets); the limit is 2000']);
      assert.ok(!existsSync(join(dir, 'out')));
    });
  });
});

describe('scale limits through the library', () => {
  it('verify, checkSpec, diff and compileSpec refuse past the limits given, and go on within them', async () => {
    const api = await import('../api/index.js');
    const tiny = repoPath('examples', 'tinyvmi', 'vmi.yaml');
    const codes = (ds: readonly { diagnostic: { code: string } }[]): string[] => ds.map((d) => d.diagnostic.code);
    const refused = api.verify(tiny, { limits: { domains: 1 } });
    assert.equal(refused.exit, 2);
    assert.ok(codes(refused.diagnostics).includes('VP1217'));
    assert.equal(api.verify(tiny, { limits: { domains: 2 } }).exit, 0);
    assert.ok(codes(api.checkSpec(tiny, { limits: { pairs: 0 } }).diagnostics).includes('VP1217'));
    assert.ok(codes(api.diff(tiny, tiny, { limits: { probes: 1 } }).diagnostics).includes('VP1217'));
    assert.ok(api.compileSpec(tiny, { limits: { domains: 1 } }).diagnostics.some((d) => codes([d]).includes('VP1217')));
    assert.deepEqual(api.scaleOf({ introspectors: [{ targets: [1, 2] }], targets: [1, 2] } as never), { domains: 3, pairs: 2, probes: 3, introspectors: 1 });
  });
});
