// The README's table of diagnostic codes covers the catalog exactly: every code falls in a
// row's range, and every range starts and ends at a code that exists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Messages } from '../core/diagnostics.js';
import { repoPath } from './support/env.js';

test('the README lists every diagnostic code range, and no code that does not exist', () => {
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| VP(\d{4})–VP(\d{4}) \|/gm)].map((m) => [Number(m[1]), Number(m[2])] as const);
  assert.ok(rows.length > 10);
  const codes = Object.values(Messages).map((t) => Number(t.code.slice(2)));
  for (const c of codes) assert.ok(rows.some(([a, b]) => a <= c && c <= b), `VP${c} is in no README row`);
  for (const [a, b] of rows) {
    assert.ok(codes.includes(a), `README row starts at VP${a}, which does not exist`);
    assert.ok(codes.includes(b), `README row ends at VP${b}, which does not exist`);
  }
});
