// The policy text builder (compiler/emit/writer.ts): the text is every line followed by a line
// break, however the lines fall into chunks; its chunks join to the same text; and a line
// holding a line break, or longer than checkpolicy's lexer takes, is refused.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TextWriter } from '../compiler/emit/writer.js';

const lineWithoutBreaks = fc.string({ maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, ' '));

describe('TextWriter', () => {
  it('the text is the lines, each ended by a line break, in one piece or in chunks, whatever their number', () => {
    fc.assert(
      fc.property(fc.array(lineWithoutBreaks, { maxLength: 5000 }), (lines) => {
        const w = new TextWriter();
        lines.forEach((l, i) => {
          assert.equal(w.nextLine, i + 1);
          w.line(l);
        });
        const expected = lines.join('\n') + '\n';
        const printed = w.finish();
        assert.equal(printed.text, expected);
        assert.equal(printed.chunks.join(''), expected);
      }),
      { numRuns: 30 },
    );
  });

  it('refuses a line that holds a line break, wherever it falls', () => {
    for (const at of [0, 1, 2047, 2048, 2049, 5000]) {
      for (const bad of ['a\nb', 'a\rb', '\n']) {
        assert.throws(() => {
          const w = new TextWriter();
          for (let i = 0; i < at; i++) w.line(`line ${i}`);
          w.line(bad);
          for (let i = 0; i < 10; i++) w.line('after');
          w.finish();
        }, /contains a line break/, `${JSON.stringify(bad)} after ${at} lines`);
      }
    }
  });

  it('refuses a line longer than 4 096 characters', () => {
    const w = new TextWriter();
    w.line('x'.repeat(4096));
    assert.throws(() => w.line('x'.repeat(4097)), /4097 characters long/);
  });
});
