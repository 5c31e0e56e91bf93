// A spec well under the 1 MB input limit must not need a gigabyte to compile. The 3 000-target
// spec below compiled to a ~40 MB manifest in format 1. Built as one object tree and one array
// of tiny strings, that manifest needed between 300 and 400 MiB of V8 heap; printed one grant
// at a time into joined chunks, but still held whole until written, between 160 and 200 MiB;
// made while it is written (`manifest: 'deferred'`), between 136 and 144 MiB. Format 2 keeps
// the provenance in shared tables: 11 MB, and `compile -o` fits in 120 MiB. Run under a
// 130 MiB heap, the test fails ("JavaScript heap out of memory") with format 1's manifest.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';
import { compile } from '../compiler/compile.js';

const HEAP_LIMIT_MIB = 130;

/** `monitors` PV introspectors, each watching its own share of `targets` HVM guests. */
function wideSpec(targets: number, monitors: number): string {
  const per = Math.ceil(targets / monitors);
  const lines = ['vmipolicy: 1', 'xen: "4.22"', 'policy:', '  module: vmi', '  mode: standalone', 'introspectors:'];
  for (let m = 0; m < monitors; m++) {
    const watched = Array.from({ length: Math.min(per, targets - m * per) }, (_, i) => `t${m * per + i}`);
    lines.push(`  - name: mon${m}`, '    guest: pv', `    targets: [${watched.join(', ')}]`, '    capabilities: [domain-info, read-memory, read-registers, pause]');
  }
  lines.push('targets:', ...Array.from({ length: targets }, (_, i) => `  - { name: t${i}, guest: hvm }`));
  return lines.join('\n') + '\n';
}

describe('compile memory', () => {
  it(`compiles 3 000 targets within a ${HEAP_LIMIT_MIB} MiB heap`, () => {
    withTempDir((dir) => {
      const spec = join(dir, 'wide.yaml');
      writeFileSync(spec, wideSpec(3000, 10));
      const out = join(dir, 'out');
      const r = spawnSync(
        process.execPath,
        [`--max-old-space-size=${HEAP_LIMIT_MIB}`, repoPath('dist', 'cli', 'bin.js'), 'compile', spec, '-o', out, '--max-domains', '3010', '--max-pairs', '3000'],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      assert.equal(r.status, 0, r.stderr.slice(0, 2000));
      assert.ok(existsSync(join(out, 'manifest.json')));
      // The manifest really is large: this is the case whose size the limit is about.
      assert.ok(statSync(join(out, 'manifest.json')).size > 10_000_000);
    });
  });

  it('a deferred manifest writes exactly the text of a whole one, in chunks', () => {
    const input = { file: 'wide.yaml', content: wideSpec(300, 3) };
    const whole = compile(input);
    const deferred = compile(input, { manifest: 'deferred' });
    const chunks: string[] = [];
    const write = deferred.deferred?.get('manifest.json');
    assert.ok(write, 'no deferred manifest');
    write((chunk) => chunks.push(chunk));
    assert.ok(chunks.length > 1, 'the manifest came in one piece');
    assert.equal(chunks.join(''), whole.artifacts?.get('manifest.json'));
    // Everything else is the same, and the manifest is not also among the artifacts.
    assert.deepEqual([...(deferred.artifacts?.keys() ?? [])], [...(whole.artifacts?.keys() ?? [])].filter((f) => f !== 'manifest.json'));
    for (const [file, text] of deferred.artifacts ?? []) assert.equal(text, whole.artifacts?.get(file), file);
  });
});
