// The loader and small pure pieces: YAML → value round trips, every located span points at
// the text of the value it names, the JSON formatter is lossless, names and suggestions.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { formatJson } from '../compiler/emit/json.js';
import { shQuote } from '../xenstore/script-contract.js';
import { decodeUtf8, loadSpec, type JsonPath } from '../compiler/load.js';
import { defaultTypeFor, DOMAIN_NAME_PATTERN, nearest, TYPE_NAME_PATTERN } from '../compiler/names.js';
import { positionAt, sourceText } from '../core/source.js';
import { specArbitrary, toYaml } from './support/arbitrary.js';
import { spawnSync } from 'node:child_process';

function leaves(v: unknown, path: JsonPath = []): [JsonPath, unknown][] {
  if (v !== null && typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => leaves(x, [...path, Array.isArray(v) ? Number(k) : k]));
  }
  return [[path, v]];
}

describe('loadSpec', () => {
  it('round-trips generated specs, and every leaf span holds that leaf', () => {
    fc.assert(
      fc.property(specArbitrary(), (spec) => {
        const text = toYaml(spec);
        const r = loadSpec('s.yaml', text);
        assert.ok(r.spec, r.diagnostics.map((d) => d.message).join('\n'));
        assert.deepEqual(JSON.parse(JSON.stringify(r.spec.value)), JSON.parse(JSON.stringify(spec)));
        for (const [path, value] of leaves(spec)) {
          const span = r.spec.locate(path);
          assert.deepEqual(parse(text.slice(span.start, span.end)), value, `span of ${path.join('.')}`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps xen releases as written and reports positions after a BOM as editors do', () => {
    const r = loadSpec('s.yaml', '\uFEFFxen: 4.10\n');
    assert.equal(r.spec?.rawScalar(['xen']), '4.10');
    assert.deepEqual(positionAt(r.spec!.source, r.spec!.locate(['xen']).start), { line: 1, column: 6 });
  });

  it('finds the first invalid UTF-8 byte', () => {
    assert.deepEqual(decodeUtf8(Uint8Array.from([0x61, 0xc3, 0xa9, 0x62])), { text: 'aéb' });
    assert.deepEqual(decodeUtf8(Uint8Array.from([0x61, 0xc3, 0x28])), { badByte: 1 });
    assert.deepEqual(decodeUtf8(Uint8Array.from([0x61, 0xed, 0xa0, 0x80])), { badByte: 1 }, 'a UTF-16 surrogate');
    assert.deepEqual(decodeUtf8(Uint8Array.from([0xc0, 0x80])), { badByte: 0 }, 'an overlong NUL');
  });

  it('positions are 1-based lines and columns', () => {
    const s = sourceText('f', 'ab\ncd\n');
    assert.deepEqual(positionAt(s, 0), { line: 1, column: 1 });
    assert.deepEqual(positionAt(s, 4), { line: 2, column: 2 });
    assert.deepEqual(positionAt(s, 99), { line: 3, column: 1 });
  });
});

describe('small pieces', () => {
  it('formatJson is lossless', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => assert.deepEqual(JSON.parse(formatJson(v)), JSON.parse(JSON.stringify(v)))), { numRuns: 500 });
  });

  it('shQuote makes any string one literal word for sh', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0')), (s) => {
        const r = spawnSync('sh', ['-c', `printf %s ${shQuote(s)}`], { encoding: 'utf8' });
        assert.equal(r.stdout, s);
      }),
      { numRuns: 100 },
    );
  });

  it('derived default types are valid types', () => {
    fc.assert(
      fc.property(fc.stringMatching(new RegExp(DOMAIN_NAME_PATTERN)), (name) => {
        assert.match(defaultTypeFor(name), new RegExp(TYPE_NAME_PATTERN));
      }),
      { numRuns: 500 },
    );
    assert.equal(defaultTypeFor('acme-web.prod'), 'acme_web_prod_t');
    assert.equal(defaultTypeFor('7zip'), 'd_7zip_t');
  });

  it('nearest suggests close names only', () => {
    assert.equal(nearest('read-memroy', ['read-memory', 'write-memory']), 'read-memory');
    assert.equal(nearest('pasue', ['pause', 'tsc-info']), 'pause');
    assert.equal(nearest('zzz', ['pause', 'tsc-info']), undefined);
  });
});
