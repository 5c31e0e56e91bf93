// The HTML report in a real browser: Debian's Chromium, driven by playwright-core (which
// takes the system browser; nothing is downloaded). Every example's check, verify and diff
// page, and the stock 4.17 policy with dom0 as introspector, open with no console error and
// no request beyond the file itself; clicking (or Enter on) each domain shows its findings
// and lights its witness paths; filters narrow the findings; with scripts off everything is
// shown; on a phone-sized screen nothing but the graph and tables scrolls sideways; and the
// hostile names of test/support/html.ts never run. Screenshots are test output (the
// directory is printed), never compared.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { EXAMPLES, repoPath, requires, sharedPath } from './support/env.js';
import { DOM0_SPEC } from './support/specs.js';
import { HOSTILE_FILE, writeHostileCase } from './support/html.js';

/** Debian's package puts it here; VMIPOLICY_CHROMIUM names another build. */
const CHROMIUM = process.env.VMIPOLICY_CHROMIUM ?? '/usr/bin/chromium';
const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });

const OUT = process.env.VMIPOLICY_TEST_OUTPUT ? join(process.env.VMIPOLICY_TEST_OUTPUT, 'html') : mkdtempSync(join(tmpdir(), 'vmipolicy-html-browser-'));
mkdirSync(OUT, { recursive: true });

let browser: Browser | undefined;
after(async () => {
  await browser?.close();
});

async function open(t: TestContext): Promise<Browser | undefined> {
  if (!requires(t, { commands: [CHROMIUM] })) return undefined;
  // Root in a container has no user namespace for Chromium's sandbox.
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  return browser;
}

/** A page written by the CLI into OUT, with its exit status checked. */
function writePage(name: string, args: string[], status: number): string {
  const r = cli(args);
  assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
  const file = join(OUT, `${name}.html`);
  writeFileSync(file, r.stdout);
  return file;
}

interface Opened {
  readonly page: Page;
  /** Console errors and warnings, uncaught exceptions, and requests other than the file itself. */
  readonly problems: string[];
}

async function load(b: Browser, file: string, options: { javaScriptEnabled?: boolean; width?: number } = {}): Promise<Opened> {
  const context = await b.newContext({ javaScriptEnabled: options.javaScriptEnabled ?? true, viewport: { width: options.width ?? 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); void d.dismiss(); });
  page.on('request', (r) => { if (r.url() !== `file://${file}`) problems.push(`request: ${r.url()}`); });
  await page.goto(`file://${file}`);
  return { page, problems };
}

/** Clicks (or, with `keyboard`, focuses and presses Enter on) every domain of the graph; each must show its own list. */
async function everyDomain(page: Page, keyboard = false): Promise<number> {
  const ids = await page.locator('.vp-graph g.node[tabindex="0"]').evaluateAll((gs) => gs.map((g) => g.id));
  for (const id of ids) {
    const node = page.locator(`[id="${id}"]`);
    if (keyboard) {
      await node.focus();
      await page.keyboard.press('Enter');
    } else {
      await node.click();
    }
    const shown = page.locator('.vp-domain:not([hidden])');
    assert.equal(await shown.count(), 1, `${id}: one domain's list`);
    assert.equal(await shown.getAttribute('data-node'), id);
    const title = (await node.locator('title').textContent()) ?? '';
    const heading = await shown.locator('h3').innerText();
    assert.ok(heading === title || heading.startsWith(`${title} `), `${id}: the list is ${title}'s, not ${heading}'s`);
    const said = Number(/^(\d+) findings?/.exec(await shown.locator('p').first().innerText())?.[1]);
    const visible = await page.locator('.vp-finding:not([hidden])').count();
    assert.equal(visible, said, `${title}: ${said} findings listed, ${visible} shown`);
    if (await page.locator('.vp-finding').count()) assert.match((await page.locator('#vp-shown').textContent()) ?? '', new RegExp(`^${said} of \\d+ findings shown$`));
  }
  return ids.length;
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: false });
}

/** At a phone's width only the graph and the tables scroll sideways, inside their own boxes. */
async function narrow(b: Browser, file: string, name: string): Promise<void> {
  const { page, problems } = await load(b, file, { width: 375 });
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  assert.ok(overflow <= 0, `${name}: the page is ${overflow}px wider than a 375px screen`);
  await shoot(page, `${name}-narrow`);
  assert.deepEqual(problems, []);
  await page.context().close();
}

test('every example: check, verify and diff pages open cleanly, each domain shows its list by mouse and by keyboard', async (t) => {
  const b = await open(t);
  if (!b) return;
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-html-widen-'));
  const widened = join(dir, 'vmi.yaml');
  writeFileSync(widened, spawnSync('sed', ['s/pause, memory-events/pause, memory-events, write-registers/', repoPath('examples/tinyvmi/vmi.yaml')], { encoding: 'utf8' }).stdout);
  const pages: [string, string][] = [];
  for (const example of EXAMPLES) {
    pages.push([`${example}-check`, writePage(`${example}-check`, ['check', `examples/${example}/vmi.yaml`, '--format', 'html'], 0)]);
    pages.push([`${example}-verify`, writePage(`${example}-verify`, ['verify', `examples/${example}/vmi.yaml`, '--format', 'html'], 0)]);
  }
  const diff = writePage('tinyvmi-diff', ['diff', repoPath('examples/tinyvmi/vmi.yaml'), widened, '--format', 'html'], 0);
  for (const [name, file] of pages) {
    const { page, problems } = await load(b, file);
    assert.ok(await page.locator('h1').first().isVisible());
    const clicked = await everyDomain(page);
    assert.ok(clicked >= 2, `${name}: ${clicked} domains to click`);
    await everyDomain(page, true);
    await shoot(page, name);
    assert.deepEqual(problems, [], name);
    await page.context().close();
    await narrow(b, file, name);
  }
  const { page, problems } = await load(b, diff);
  assert.equal(await page.locator('h1').innerText(), 'NEW ACCESS');
  assert.ok(await page.getByText('tinyvmi gains write-registers on ubuntu').first().isVisible());
  await shoot(page, 'tinyvmi-diff');
  assert.deepEqual(problems, []);
  await page.context().close();
  await narrow(b, diff, 'tinyvmi-diff');
  // verify shows the self-test's denials with Xen's avc line.
  const { page: v } = await load(b, join(OUT, 'tinyvmi-verify.html'));
  assert.ok(await v.locator('pre[aria-label="avc lines"]').first().isVisible());
  assert.match(await v.locator('pre[aria-label="avc lines"]').first().innerText(), /avc: {2}denied/);
  await v.context().close();
  console.log(`# screenshots and pages in ${OUT}`);
});

test('the stock 4.17 policy with dom0 as introspector: readable graph, every domain clickable, witness paths lit, filters', async (t) => {
  if (!requires(t, { shared: true })) return;
  const b = await open(t);
  if (!b) return;
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-html-stock-'));
  const spec = join(dir, 'dom0.yaml');
  writeFileSync(spec, DOM0_SPEC('4.17'));
  const file = writePage('stock-4.17-dom0-check', ['check', spec, '--policy', sharedPath('corpus', 'xen-4.17', 'policy.conf'), '--format', 'html'], 1);
  const { page, problems } = await load(b, file);
  const total = await page.locator('.vp-finding').count();
  assert.ok(total > 100, `${total} findings`);
  // Readable at the size it opens: the graph is not shrunk to fit, its node labels are at least 12px high.
  const label = await page.locator('.vp-graph g.node text').first().boundingBox();
  assert.ok(label && label.height >= 12, `a node label is ${label?.height}px high`);
  const clicked = await everyDomain(page);
  assert.ok(clicked > 10, `${clicked} domains`);
  // A domain on a witness path: its paths light up, edges among them.
  const through = (await page.locator('.vp-finding[data-paths]').first().getAttribute('data-paths'))?.split(' ')[0]?.split(',')[0] ?? '';
  assert.ok(through, 'a finding with a witness path in the graph');
  await page.locator(`[id="${through}"]`).click();
  const lit = await page.locator('.vp-graph g.edge.vp-hl').count();
  assert.ok(lit > 0, 'witness edges highlighted');
  const rule = await page.locator('.vp-finding:not([hidden])').first().getAttribute('data-rule');
  assert.ok(rule);
  await shoot(page, 'stock-4.17-dom0-selected');
  // Escape shows everything again; the rule and severity filters narrow it.
  await page.keyboard.press('Escape');
  await page.locator('#vp-shown', { hasText: `${total} of ${total} findings shown` }).waitFor();
  assert.equal(await page.locator('.vp-hl').count(), 0, 'nothing lit once cleared');
  await page.locator('select[name="rule"]').selectOption('escalation');
  const escalations = await page.locator('.vp-finding:not([hidden])').evaluateAll((fs) => fs.map((f) => f.getAttribute('data-rule')));
  assert.ok(escalations.length > 0 && escalations.every((r) => r === 'escalation'), escalations.join(' '));
  const counted = Number(await page.locator('a[href="#rule-escalation"]').locator('xpath=../../td[3]').innerText());
  assert.equal(escalations.length, counted, 'as many as the banner counts');
  await page.locator('select[name="severity"]').selectOption('warning');
  assert.equal(await page.locator('.vp-finding:not([hidden])').count(), 0, 'no escalation is a warning');
  assert.ok(await page.locator('.vp-rule:not([hidden])').count() === 0, 'empty groups are hidden');
  await shoot(page, 'stock-4.17-dom0');
  assert.deepEqual(problems, []);
  const svg = await page.locator('.vp-graph svg').boundingBox();
  console.log(`# stock 4.17 + dom0: ${total} findings, ${clicked} domains, graph ${Math.round(svg?.width ?? 0)}×${Math.round(svg?.height ?? 0)} px`);
  await page.context().close();
  await narrow(b, file, 'stock-4.17-dom0');
});

test('with scripts disabled every finding and every domain\'s list is shown', async (t) => {
  const b = await open(t);
  if (!b) return;
  const file = writeHostile();
  const { page, problems } = await load(b, file, { javaScriptEnabled: false });
  const findings = page.locator('.vp-finding');
  assert.ok((await findings.count()) > 0);
  for (const f of await findings.all()) assert.ok(await f.isVisible());
  for (const d of await page.locator('.vp-domain').all()) assert.ok(await d.isVisible());
  assert.equal(await page.locator('#vp-filters').isVisible(), false, 'the filters need the script, so they stay hidden');
  assert.deepEqual(problems, []);
  await page.context().close();
});

function writeHostile(): string {
  const { spec, policy } = writeHostileCase(mkdtempSync(join(tmpdir(), 'vmipolicy-html-hostile-')));
  return writePage('hostile-check', ['check', spec, '--policy', policy, '--format', 'html'], 1);
}

test('a <script> in a #line file name (and markup in the spec\'s name) is shown as text and never runs', async (t) => {
  const b = await open(t);
  if (!b) return;
  const { page, problems } = await load(b, writeHostile());
  // Interact as a reader would: every domain, every finding hovered.
  await everyDomain(page);
  for (const f of (await page.locator('.vp-finding').all()).slice(0, 20)) await f.hover();
  // A string, evaluated in the page (the tests compile without the DOM's types).
  const state = await page.evaluate(`({
    pwned: window.pwned,
    scripts: document.scripts.length,
    images: document.images.length,
    handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
    svgs: document.querySelectorAll('svg').length,
  })`);
  assert.deepEqual(state, { pwned: undefined, scripts: 1, images: 0, handlers: 0, svgs: 1 });
  const shown = await page.locator('code', { hasText: HOSTILE_FILE }).count();
  assert.ok(shown > 0, 'the file name is on the page as text');
  await shoot(page, 'hostile');
  assert.deepEqual(problems, []);
  await page.context().close();
});
