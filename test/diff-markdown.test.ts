// `diff --format markdown` is posted as a pull-request comment: nothing that comes from the
// inputs (names, labels, `#line` file names, conditions) may be read by GitHub as markup.
// One escape does it (md in render-markdown.ts); a property states what "escaped" means
// over any string, and hostile file names go through the whole diff.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { COMMENT_BUDGET, renderMarkdown } from '../report/diff/markdown.js';
import { md } from '../report/markdown.js';
import { diffSpecTexts, diffTexts } from './support/diff.js';
import { minimalPolicy } from './support/policies.js';

const WORD_JOINER = '\u2060';
const PUNCTUATION = /[!-/:-@[-`{-~]/;

/**
 * Why an escaped string is not inert, or undefined: every ASCII punctuation character
 * must be backslash-escaped (each backslash escapes exactly the next character), `@`, `#`
 * and `:` must be followed by a word joiner (mentions, references, autolinks), `www.` must
 * be broken, and no control or bidirectional-override character may remain.
 */
function problem(out: string): string | undefined {
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(out)) return 'a control character';
  if (/www\\?\./i.test(out)) return 'an unbroken www.';
  for (let i = 0; i < out.length; i++) {
    const ch = out[i] as string;
    if (ch === '\\') {
      const next = out[i + 1];
      if (next === undefined || !PUNCTUATION.test(next)) return `a bare backslash at ${i}`;
      i++;
      if ((next === '@' || next === '#' || next === ':') && out[i + 1] !== WORD_JOINER) return `${next} not followed by a word joiner at ${i}`;
      continue;
    }
    if (PUNCTUATION.test(ch)) return `an unescaped ${ch} at ${i}`;
  }
  return undefined;
}

/** What a reader sees: escapes and word joiners removed. */
function shown(out: string): string {
  return out.replace(/\\([!-/:-@[-`{-~])/g, '$1').split(WORD_JOINER).join('');
}

const HOSTILE = [
  '<img src=x onerror=alert(1)>',
  '[x](javascript:alert(1))',
  '@org/team',
  '![a](b)',
  '`code` ```fence',
  '#12 https://evil.example www.evil.example',
  '**bold** _em_ ~~strike~~ # heading',
  '&lt;script&gt; <!-- c -->',
  '| a | b |',
  'line\nbreak\r\n---\n1. item',
  'esc\u001b[31mred\u0007 \u202egnp.exe',
];

describe('diff: markdown escaping', () => {
  it('any string, escaped, holds no unescaped markdown/HTML metacharacter and no control character, and reads as written', () => {
    const chars = fc.constantFrom(...'<>[]()!@#:`*_~|\\&-+=.{}"\'/ www.https\n\r\t\u0000\u001b\u007f\u0085\u2028\u202e\u2066aZ0é😀'.split(''));
    const text = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: chars }), fc.constantFrom(...HOSTILE));
    fc.assert(fc.property(text, (s) => {
      const out = md(s);
      assert.equal(problem(out), undefined, `md(${JSON.stringify(s)}) = ${JSON.stringify(out)}`);
      const expected = s.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '\uFFFD');
      assert.equal(shown(out), expected);
    }), { numRuns: 2000 });
  });

  it('hostile names: each is inert', () => {
    for (const h of HOSTILE) assert.equal(problem(md(h)), undefined, h);
    assert.equal(md('<img src=x onerror=alert(1)>'), '\\<img src\\=x onerror\\=alert\\(1\\)\\>');
    assert.equal(md('@org/team'), `\\@${WORD_JOINER}org\\/team`);
  });

  it('a policy whose #line file names and labels are hostile: the comment holds them only escaped', () => {
    const hostile = '<img src=x onerror=alert(1)>[x](javascript:alert(1)) @org/team ![a](b) `x` #12 https://e.example';
    const a = minimalPolicy({ te: 'type c_t;\nrole system_r types c_t;' });
    const b = minimalPolicy({ te: `type c_t;\nrole system_r types c_t;\n#line 7 "${hostile}"\nallow xen_t c_t:domain create;` });
    const report = diffTexts(a, b);
    const r = { ...report, old: { ...report.old, label: `old ${hostile}` }, new: { ...report.new, label: '\u001b[2J@everyone' } };
    const out = renderMarkdown(r);
    for (const bad of ['<img', '](', '![', '@org', '`x`', '#12', 'https://', '@everyone', '\u001b']) {
      const unescaped = out.split(bad).slice(0, -1).some((before) => !before.endsWith('\\'));
      assert.ok(!unescaped, `the comment holds ${JSON.stringify(bad)} unescaped`);
    }
    assert.ok(out.includes(md(hostile)), 'the file name is shown, escaped');
    // Every line of the comment is either generated markup or the escapes of input.
    assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f]/);
  });
});

/** One LibVMI monitor watching `targets` HVM guests with five capabilities. */
function fleetSpec(targets: number): string {
  const names = Array.from({ length: targets }, (_, i) => `t${i}`);
  return [
    'vmipolicy: 1',
    'xen: "4.17.7"',
    'policy: {module: fleet}',
    'introspectors:',
    `  - {name: mon, guest: pv, tool: libvmi, targets: [${names.join(', ')}], capabilities: [domain-info, libvmi-init, read-memory, read-registers, pause]}`,
    'targets:',
    ...names.map((n) => `  - {name: ${n}, guest: hvm}`),
    '',
  ].join('\n');
}

/** GitHub refuses a comment over 65 536 characters; a UTF-8 byte is never less than one. */
const GITHUB_COMMENT_LIMIT = 65_536;

describe('diff: the comment fits GitHub', () => {
  it('10 → 300 targets: under the budget, verdict and capability changes first, every new target counted, the cut named', () => {
    const out = renderMarkdown(diffSpecTexts(fleetSpec(10), fleetSpec(300)));
    const size = Buffer.byteLength(out, 'utf8');
    assert.ok(size <= COMMENT_BUDGET && COMMENT_BUDGET < GITHUB_COMMENT_LIMIT, `${size} bytes`);
    assert.match(out, /^### vmipolicy diff: ⚠️ new access\n/);
    // The fleet is one line per kind of domain and one row per capability, not one per target.
    assert.match(out, /^- 290 new targets \(hvm\): <code>t10<\/code>, .* and 282 more$/m);
    const gains = out.split('\n').filter((l) => l.startsWith('| ➕ gains |'));
    assert.equal(gains.length, 5, gains.join('\n'));
    for (const row of gains) assert.match(row, /and 282 more \(290 targets\)/);
    assert.ok(out.indexOf('#### Introspector') < out.indexOf('#### Permissions'), 'capabilities before permissions');
    // What did not fit is named, with the pointer to the full report.
    assert.match(out, /_Cut to fit GitHub's comment limit: permissions .*cut after \d+ of \d+ lines.*raw detail \\\(not shown\\\)\. Everything is in the JSON report/);
    assert.doesNotMatch(out, /<details>/, 'a cut raw detail is left out whole');
  });

  it('a small change is shown whole, raw detail included, with no cut note', () => {
    const out = renderMarkdown(diffSpecTexts(fleetSpec(2), fleetSpec(3)));
    assert.doesNotMatch(out, /Cut to fit/);
    assert.match(out, /<details><summary>Raw detail<\/summary>[\s\S]*<\/details>\n/);
    // Few new domains keep a line each.
    assert.match(out, /^- new target <code>t2<\/code> \(<code>t2\\_t<\/code>, hvm\)$/m);
  });

  it('whatever the budget, the comment stays within it, keeps the verdict and closes every <details> it opens', () => {
    // About 18 000 bytes whole, half of them the raw detail: budgets from 2 500 up cut every
    // section in turn, the raw detail among them.
    const report = diffSpecTexts(fleetSpec(2), fleetSpec(4));
    fc.assert(
      fc.property(fc.integer({ min: 2_500, max: 20_000 }), (budget) => {
        const out = renderMarkdown(report, budget);
        assert.ok(Buffer.byteLength(out, 'utf8') <= budget, `${Buffer.byteLength(out, 'utf8')} > ${budget}`);
        assert.match(out, /^### vmipolicy diff: ⚠️ new access\n/);
        assert.equal(out.split('<details>').length, out.split('</details>').length);
      }),
      { numRuns: 40 },
    );
  });
});
