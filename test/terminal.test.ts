// Untrusted strings on a terminal (core/terminal.ts): for any string, what terminalSafe
// returns holds no control, format, separator or lone-surrogate character, and reads back to
// the string it came from (so two inputs never render alike); and the text renderers —
// diagnostics with their caret, the check's findings, the self-test's table — pass every
// input-derived string through it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { renderAt, renderDiagnostic } from '../report/diagnostics.js';
import { reportText } from '../report/check/text.js';
import { diagnostic } from '../core/diagnostics.js';
import { terminalSafe } from '../core/terminal.js';
import { sourceText } from '../compiler/index.js';
import { checkPolicyText, compileStandalone, inject } from './support/checker.js';

/** What no terminal may receive from an input: the set terminalSafe promises to escape. */
const UNSAFE_FOR_TERMINAL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/** Output of a text renderer: lines, none holding what UNSAFE_FOR_TERMINAL matches. */
function assertTerminalLines(out: string): void {
  for (const line of out.split('\n')) assert.doesNotMatch(line, UNSAFE_FOR_TERMINAL);
}

/** The inverse of terminalSafe, written from its documented notation (not from its code). */
function unescape(rendered: string): string {
  return rendered.replace(/\\(?:\\|n|r|t|x([0-9a-f]{2})|u\{([0-9a-f]+)\}|u([0-9a-f]{4}))/g, (all, x?: string, astral?: string, bmp?: string) => {
    if (all === '\\\\') return '\\';
    if (all === '\\n') return '\n';
    if (all === '\\r') return '\r';
    if (all === '\\t') return '\t';
    return String.fromCodePoint(parseInt((x ?? astral ?? bmp) as string, 16));
  });
}

/** Any UTF-16 string: whole code points, lone surrogates, and the characters that matter most. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.array(fc.constantFrom('\\', 'x1b', '\x1b', '[2J', '\n', '\r', '\t', '\0', '\x7f', '\x9b', '\u202e', '\u2066', '\u200b', '\u00ad', '\ufeff', '\u2028', '\u{e0041}', '\ud800', 'u202e', 'a', 'é', '→'), { maxLength: 20 }).map((xs) => xs.join('')),
);

describe('terminalSafe', () => {
  it('leaves no control, format or separator character, and reads back to its input', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const rendered = terminalSafe(s);
        assert.doesNotMatch(rendered, UNSAFE_FOR_TERMINAL);
        assert.equal(unescape(rendered), s);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps distinct inputs distinct, even a string and the spelling of its own escapes', () => {
    fc.assert(
      fc.property(anyString, anyString, (a, b) => {
        fc.pre(a !== b);
        assert.notEqual(terminalSafe(a), terminalSafe(b));
      }),
      { numRuns: 2000 },
    );
    // "\x1b" typed out must not render as ESC does: the nearest collision there is.
    fc.assert(
      fc.property(anyString, (s) => {
        const spelled = terminalSafe(s);
        fc.pre(spelled !== s);
        assert.notEqual(terminalSafe(spelled), spelled);
      }),
      { numRuns: 2000 },
    );
  });

  it('escapes visibly, in JavaScript notation, and leaves ordinary text alone', () => {
    const cases: [string, string][] = [
      ['\x1b[2J', '\\x1b[2J'],
      ['a\nb\r\tc', 'a\\nb\\r\\tc'],
      ['\0\x7f\x9b', '\\x00\\x7f\\x9b'],
      ['abc\u202edcba', 'abc\\u202edcba'],
      ['\u2066x\u2069 \u200b \u00ad \ufeff \u2028', '\\u2066x\\u2069 \\u200b \\xad \\ufeff \\u2028'],
      ['\u{e0041}', '\\u{e0041}'],
      ['\ud800', '\\ud800'],
      ['\\x1b', '\\\\x1b'],
      ['domU_t → dom0_t: é, 日本, 😀', 'domU_t → dom0_t: é, 日本, 😀'],
    ];
    for (const [input, shown] of cases) assert.equal(terminalSafe(input), shown, JSON.stringify(input));
  });
});

describe('text renderers', () => {
  it('a diagnostic: file, message, help and source line escaped, the caret under the escaped text', () => {
    const text = 'name = "ok"\n\x1b[2J\u202ename = "v"  (n0)\n';
    const file = 'dump\x1b]0;pwned\x07.txt';
    const start = text.indexOf('name = "v"');
    const d = diagnostic('XenstoreLsSyntax', ['quoted \x1b[31mred\x1b[0m'], { file, start, end: start + 4 }, 'help \u202e txt');
    const out = renderDiagnostic(d, sourceText(file, text));
    assertTerminalLines(out);
    const lines = out.split('\n');
    assert.equal(lines[0], 'dump\\x1b]0;pwned\\x07.txt:2:6: error VP3201: cannot read this xenstore-ls -p line: quoted \\x1b[31mred\\x1b[0m');
    assert.equal(lines[1], '     2 | \\x1b[2J\\u202ename = "v"  (n0)');
    assert.equal(lines[2], `       | ${' '.repeat('\\x1b[2J\\u202e'.length)}^^^^`);
    assert.equal(lines[3], '  help: help \\u202e txt');
    // The caret covers exactly "name" in the escaped line.
    assert.equal(lines[1]!.slice(lines[2]!.indexOf('^'), lines[2]!.lastIndexOf('^') + 1), 'name');
  });

  it('a diagnostic placed through a #line file name', () => {
    const out = renderAt(diagnostic('PolicySyntax', ['x\x1b']), undefined, undefined) + '\n' + renderAt(diagnostic('PolicySyntax', ['y'], { file: 'a\x1b[2Jb.te', start: 0, end: 1 }), 'type a;', () => ({ file: 'a\x1b[2Jb.te', line: 1, column: 1 }));
    assertTerminalLines(out);
    assert.match(out, /^vmipolicy: error VP3001: syntax error: x\\x1b$/m);
    assert.match(out, /^a\\x1b\[2Jb\.te:1:1: error VP3001/m);
  });

  it('the check\'s findings: a rule under a hostile #line file name shows the name escaped', () => {
    const spec = `vmipolicy: 1
xen: "4.22"
policy: { module: vmi, mode: standalone }
introspectors:
  - { name: mon, type: mon_t, guest: pv, targets: [web], capabilities: [domain-info], lookup: domid }
targets:
  - { name: web, type: web_t, guest: hvm }
`;
    const base = compileStandalone(spec, 'spec.yaml');
    const evil = inject(base.policyText, ['#line 1 "mod\u2066\u202eet.te"', 'allow mon_t web_t:domain setvcpucontext;']);
    const report = checkPolicyText(base, evil.text);
    assert.ok(report.findings.some((f) => f.provenance.some((l) => l.file === 'mod\u2066\u202eet.te')), 'a finding cites the rule under the marker');
    const text = reportText(report, { showNotes: true });
    assertTerminalLines(text);
    assert.match(text, /policy {3}mod\\u2066\\u202eet\.te:1:1 {2}allow mon_t web_t:domain setvcpucontext;/);
  });
});
