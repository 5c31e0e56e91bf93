// The HTML report without a browser: the one escape (property-tested), hostile file names
// that must reach the page as text, the CSP that pins the page's one style and one script,
// every command's page, the same bytes on every run, and the stock policy's page size.
// test/html-browser.test.ts opens the same pages in Chromium.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { html } from '../report/html/escape.js';
import { LineMap } from '../policy/grammar/lines.js';
import { EXAMPLES, repoPath, requires, sharedPath } from './support/env.js';
import { DOM0_SPEC } from './support/specs.js';
import { HOSTILE_FILE, HOSTILE_SPEC, writeHostileCase } from './support/html.js';
import { compileStandalone } from './support/checker.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });

const ENTITY = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" } as const;
const decode = (s: string): string => s.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITY[e as keyof typeof ENTITY]);

test('html(): no markup character survives, and the text decodes back to what was written', () => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), (a, b) => {
    for (const s of [a, b, `${a}<script>alert(1)</script>${b}`, `"${a}' onmouseover=x ${b}`]) {
      const out = html(s);
      assert.match(out, /^(?:[^<>"'&]|&(?:amp|lt|gt|quot|#39);)*$/u, 'only the five entities stand for markup characters');
      assert.doesNotMatch(out, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(out), 'no lone surrogate');
      // Text without unshowable characters comes back as it was written.
      const showable = s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\uFFFD');
      assert.equal(decode(out), showable);
    }
  }), { numRuns: 500 });
  assert.equal(html(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(html('a\u202eb\u0000c\td\ne'), 'a\uFFFDb\uFFFDc\td\ne');
});

test('LineMap.physicalLineOf is locate() backwards: every line of every stretch, and nothing outside them', () => {
  const text = ['pre 1', 'pre 2', '#line 10 "a.te"', 'a10', 'a11', '#line 3 "b.te"', 'b3', '#line 12', 'a12?', '#line 20 "a.te"', 'a20'].join('\n');
  const map = new LineMap('policy.conf', text);
  const starts = text.split('\n').reduce<number[]>((acc, l, i) => [...acc, i === 0 ? 0 : (acc[i - 1] as number) + (text.split('\n')[i - 1] as string).length + 1], []);
  text.split('\n').forEach((l, i) => {
    if (l.startsWith('#line')) return;
    const at = map.locate(starts[i] as number);
    assert.equal(map.physicalLineOf(at.file, at.line), i + 1, `${l}: ${at.file}:${at.line}`);
  });
  assert.equal(map.physicalLineOf('a.te', 9), undefined);
  assert.equal(map.physicalLineOf('a.te', 13), undefined);
  assert.equal(map.physicalLineOf('b.te', 4), undefined);
  assert.equal(map.physicalLineOf('policy.conf', 3), undefined, 'the marker line is no line of policy.conf');
  assert.equal(map.physicalLineOf('nowhere.te', 1), undefined);
});

test('check --format html: a hostile #line file name and spec name are text, the CSP pins the one script, snippets quote the rule', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-html-'));
  const { spec, policy } = writeHostileCase(dir);
  const r = cli(['check', spec, '--policy', policy, '--format', 'html']);
  assert.equal(r.status, 1, r.stderr);
  const page = r.stdout;
  assert.equal(page.match(/<script/g)?.length, 1, 'one script element: the page\'s own');
  assert.ok(!page.includes(HOSTILE_FILE) && !page.includes(HOSTILE_SPEC), 'no hostile name is written raw');
  assert.ok(!/<img|<svg onload|onerror=window/.test(page.replace(/&lt;[^&]*&gt;/g, '')), 'no element or handler from the input');
  assert.ok(page.includes(html(HOSTILE_FILE)), 'the #line file name is shown, escaped');
  assert.ok(page.includes(html(HOSTILE_SPEC)), 'the spec name is shown, escaped');
  // The excess finding at the hostile file quotes its rule from the expanded policy text.
  assert.match(page, /<mark><span class="vp-ln">\s*\d+<\/span> allow tinyvmi_t ubuntu_t:domain shutdown;<\/mark>/);
  // The CSP allows exactly the inline style and script the page holds, by hash.
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)?.[1] ?? '';
  const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
  const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
  const hash = (s: string): string => createHash('sha256').update(s).digest('base64');
  assert.match(csp, /^default-src 'none';/);
  assert.ok(csp.includes(`script-src 'sha256-${hash(script)}'`), csp);
  assert.ok(csp.includes(`style-src 'sha256-${hash(style)}'`), csp);
  assert.doesNotMatch(page, /\b(?:src|href)="(?:https?:)?\/\//, 'nothing loaded from the network');
});

test('diff --format html: a rule at a hostile #line file name is text, on the NEW side', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-html-diff-hostile-'));
  const { policy } = writeHostileCase(dir);
  const old = join(dir, 'old.conf');
  writeFileSync(old, compileStandalone(readFileSync(repoPath('examples/tinyvmi/vmi.yaml'), 'utf8'), 'vmi.yaml').policyText);
  const r = cli(['diff', old, policy, '--format', 'html']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /<h1>NEW ACCESS<\/h1>/);
  assert.equal(r.stdout.match(/<script/g)?.length, 1);
  assert.ok(!r.stdout.includes(HOSTILE_FILE));
  assert.ok(r.stdout.includes(`<td><code>${html(`${HOSTILE_FILE}:7:1`)}`), 'the NEW rule, at the hostile file, escaped');
});

test('every example: check, verify and diff pages, the same bytes on every run', () => {
  for (const example of EXAMPLES) {
    const spec = `examples/${example}/vmi.yaml`;
    for (const args of [['check', spec, '--format', 'html'], ['verify', spec, '--format', 'html']]) {
      const a = cli(args);
      const b = cli(args);
      assert.equal(a.status, 0, `${args.join(' ')}: ${a.stderr}`);
      assert.ok(a.stdout.startsWith('<!DOCTYPE html>') && a.stdout.endsWith('</html>\n'), args.join(' '));
      assert.equal(a.stdout, b.stdout, `${args.join(' ')}: the same bytes twice`);
      assert.match(a.stdout, /<h1>(?:PROVEN|VERIFIED)<\/h1>/);
      assert.match(a.stdout, /<g id="vpn0" class="node">\n<title>/, 'the graph is inline, its nodes named by the drawing');
    }
  }
  const verify = cli(['verify', 'examples/tinyvmi/vmi.yaml', '--format', 'html']).stdout;
  assert.match(verify, /selftest \d+\/\d+ as expected .* — PASS/);
  assert.match(verify, /avc: {2}denied/, 'the avc line of a denial');
  // diff: a widened spec says NEW ACCESS, capability changes before permissions.
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-html-diff-'));
  const widened = join(dir, 'vmi.yaml');
  writeFileSync(widened, spawnSync('sed', ['s/pause, memory-events/pause, memory-events, write-registers/', repoPath('examples/tinyvmi/vmi.yaml')], { encoding: 'utf8' }).stdout);
  const d = cli(['diff', repoPath('examples/tinyvmi/vmi.yaml'), widened, '--format', 'html']);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /<h1>NEW ACCESS<\/h1>/);
  assert.ok(d.stdout.indexOf('id="vp-capabilities"') < d.stdout.indexOf('id="vp-permissions"'), 'capabilities first');
  assert.match(d.stdout, /gains<\/span><\/td><td><code>tinyvmi<\/code><\/td><td><code>write-registers<\/code><\/td><td><code>ubuntu<\/code><\/td><td>tinyvmi gains write-registers on ubuntu → domain:pause/);
  assert.equal(d.stdout, cli(['diff', repoPath('examples/tinyvmi/vmi.yaml'), widened, '--format', 'html']).stdout);
  const same = cli(['diff', 'examples/tinyvmi/vmi.yaml', 'examples/tinyvmi/vmi.yaml', '--format', 'html']);
  assert.match(same.stdout, /<h1>NO NEW ACCESS<\/h1>/);
});

test('a run stopped by its input still writes a page, with the diagnostics escaped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-html-bad-'));
  const bad = join(dir, '<b onmouseover=x>bad.yaml');
  writeFileSync(bad, 'vmipolicy: 1\nxen: "4.19"\nintrospectors: [\n');
  for (const command of ['check', 'verify']) {
    const r = cli([command, bad, '--format', 'html']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /^<!DOCTYPE html>/);
    // check has nothing to show but the diagnostics; verify writes its stages, compile failed.
    assert.match(r.stdout, command === 'check' ? /<h1>vmipolicy could not run<\/h1>/ : /<h1>NOT VERIFIED<\/h1>.*<p>compile: FAILED/s);
    assert.match(r.stdout, /<code>VP\d{4}<\/code>/, 'the diagnostics, with their codes');
    assert.ok(r.stdout.includes('&lt;b onmouseover=x&gt;bad.yaml') && !r.stdout.includes('<b onmouseover'), 'the file name escaped');
  }
});

test('the stock 4.17 policy with dom0 as introspector: the page, its size, the same bytes twice', (t) => {
  if (!requires(t, { shared: true })) return;
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-html-stock-'));
  const spec = join(dir, 'dom0.yaml');
  writeFileSync(spec, DOM0_SPEC('4.17'));
  const args = ['check', spec, '--policy', sharedPath('corpus', 'xen-4.17', 'policy.conf'), '--format', 'html'];
  const a = cli(args);
  assert.equal(a.status, 1, a.stderr);
  assert.equal(a.stdout, cli(args).stdout, 'the same bytes twice');
  const findings = a.stdout.match(/<article class="vp-finding"/g)?.length ?? 0;
  assert.ok(findings > 100, `${findings} findings`);
  assert.match(a.stdout, /<h1>NOT PROVEN<\/h1>/);
  assert.match(a.stdout, /data-paths="vpn\d+/, 'witness paths point into the drawing');
  const bytes = Buffer.byteLength(a.stdout);
  assert.ok(bytes < 8 << 20, `${bytes} bytes`);
  console.log(`# stock 4.17 + dom0 as introspector: check --format html is ${bytes} bytes (${(bytes / 1024).toFixed(0)} KiB), ${findings} findings`);
});

test('verify --format html quotes its check\'s findings as check --format html does: the snippets are taken when the check ends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-html-verify-'));
  const spec = join(dir, 'flow.yaml');
  // Reading and writing both targets: a cross-target-flow warning, placed at the spec and at each rule.
  writeFileSync(spec, [
    'vmipolicy: 1', 'xen: "4.17.7"', 'policy: {module: flow, mode: standalone}', 'introspectors:',
    '  - {name: m0, guest: pv, tool: drakvuf, targets: [t0, t1], capabilities: [domain-info, libvmi-init, read-memory, write-memory, read-registers, pause]}',
    'targets:', '  - {name: t0, guest: hvm}', '  - {name: t1, guest: hvm}', '',
  ].join('\n'));
  const quoted = (page: string): string[] => [...page.matchAll(/<div class="vp-loc">.*?<\/div>(?:<pre class="vp-src">[\s\S]*?<\/pre>)?<\/div>/g)].map((m) => m[0]);
  const check = cli(['check', spec, '--format', 'html']);
  const verify = cli(['verify', spec, '--format', 'html']);
  assert.equal(verify.status, 0, verify.stderr);
  const fromCheck = quoted(check.stdout);
  assert.ok(fromCheck.filter((q) => q.includes('<pre class="vp-src">')).length >= 3, 'the check page quotes the spec line and the rules');
  assert.deepEqual(quoted(verify.stdout), fromCheck);
  // The rules are in the policy.conf compiled in memory and never written: placed at the spec
  // line they were compiled from, as the text and SARIF reports place them.
  assert.ok(fromCheck.some((q) => q.includes('<span class="vp-kind">policy</span> compiled from <code>') && q.includes('allow m0_t t0_t:')), 'a rule shown as compiled from its spec line');
  assert.doesNotMatch(check.stdout, /policy\.conf:\d+/);
  assert.match(cli(['check', spec]).stdout, /policy +compiled from .*flow\.yaml:5:5 +allow m0_t t0_t:/);
});
