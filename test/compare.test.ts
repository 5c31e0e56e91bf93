import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareCodePoints } from '../core/compare.js';

const byCodePoints = (a: string, b: string): number => {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
};

test('compareCodePoints orders by code point, astral characters after U+FFFF', () => {
  assert.ok(compareCodePoints('\u{1F600}', '\uFFFF') > 0);
  assert.ok(compareCodePoints('\uE000', '\u{10000}') < 0);
  assert.ok(compareCodePoints('B', 'a') < 0, 'upper case before lower case, as LC_ALL=C');
  assert.ok(compareCodePoints('ab', 'abc') < 0);
  assert.equal(compareCodePoints('x', 'x'), 0);
  fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => Math.sign(compareCodePoints(a, b)) === Math.sign(byCodePoints(a, b))), { numRuns: 2000 });
});

test('no source file sorts by the locale', async () => {
  const { readdirSync, readFileSync, statSync } = await import('node:fs');
  const { join } = await import('node:path');
  const root = new URL('../..', import.meta.url).pathname;
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('compare.test.ts') && /localeCompare|Intl\.Collator/.test(readFileSync(p, 'utf8'))) offenders.push(p.slice(root.length));
    }
  };
  walk(root);
  assert.deepEqual(offenders, []);
});
