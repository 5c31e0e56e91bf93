// The picture a reviewer opens: `check --format svg` of Xen's stock 4.17 policy with dom0
// declared as an introspector (dozens of edges, hundreds of findings) — one edge per
// subject and object with short wrapped labels, a legend, one font — rendered to PNG by a
// real SVG renderer (librsvg's rsvg-convert) and checked for its size and every node's label.
// The PNG is kept as test output, its path printed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoPath, requires, sharedPath } from './support/env.js';
import { DOM0_SPEC } from './support/specs.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });


/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

test('the stock-policy picture: one edge per pair, labels that fit, a legend, one font, rendered to PNG', (t) => {
  if (!requires(t, { shared: true, commands: ['rsvg-convert'] })) return;
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-picture-'));
  const spec = join(dir, 'dom0.yaml');
  writeFileSync(spec, DOM0_SPEC('4.17'));
  const policy = sharedPath('corpus', 'xen-4.17', 'policy.conf');
  const dot = cli(['check', spec, '--policy', policy, '--format', 'dot']);
  assert.equal(dot.status, 1, dot.stderr);
  const edges = [...dot.stdout.matchAll(/^ {2}("[^"]+") -> ("[^"]+") \[label="((?:[^"\\]|\\.)*)"/gm)];
  assert.ok(edges.length > 10, `${edges.length} edges`);
  const pairs = edges.map((e) => `${e[1]} -> ${e[2]}`);
  assert.equal(new Set(pairs).size, pairs.length, 'one edge per subject and object');
  for (const e of edges) {
    const lines = (e[3] as string).split('\\n');
    assert.ok(lines.length <= 6, `${e[1]} -> ${e[2]}: ${lines.length} label lines`);
    for (const line of lines) assert.ok(line.length <= 60, `${e[1]} -> ${e[2]}: a label line of ${line.length} characters`);
    for (const line of lines) {
      const perms = line.replace(/^.*: /, '').split(' ').filter(Boolean);
      assert.equal(new Set(perms).size, perms.length, `a permission repeated in "${line}"`);
    }
  }
  const svg = cli(['check', spec, '--policy', policy, '--format', 'svg']);
  assert.equal(svg.status, 1, svg.stderr);
  assert.doesNotMatch(svg.stdout, /font-family="Times/, 'one font: no Times for the title');
  assert.match(svg.stdout, />legend</);
  const nodes = [...dot.stdout.matchAll(/^ {2}"([^" ][^"]*)" \[label=/gm)].map((m) => m[1] as string);
  for (const n of nodes) assert.ok(svg.stdout.includes(`>${n}<`), `node ${n} is labelled in the SVG`);
  const svgFile = join(dir, 'stock-4.17-dom0.svg');
  const pngFile = join(dir, 'stock-4.17-dom0.png');
  writeFileSync(svgFile, svg.stdout);
  const rendered = spawnSync('rsvg-convert', ['-o', pngFile, svgFile], { encoding: 'utf8' });
  assert.equal(rendered.status, 0, rendered.stderr);
  const { width, height } = pngSize(readFileSync(pngFile));
  assert.ok(width > 200 && height > 200 && width < 20000 && height < 20000, `${width}×${height}`);
  console.log(`# stock 4.17 with dom0 as introspector: ${edges.length} edges, ${nodes.length} nodes, ${width}×${height} PNG at ${pngFile}`);
});
