// vmipolicy used as a library, the way a CI integration or an editor extension would: through
// the package's own entry point ('vmipolicy', resolved by package.json "exports"), with data
// back and nothing printed. And the README's example, run as written.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoPath } from './support/env.js';

type Library = typeof import('../api/index.js');

/** The package by its name, as a dependent would import it (a self-reference inside the package). */
async function library(): Promise<Library> {
  const name: string = 'vmipolicy';
  return (await import(name)) as Library;
}

/** Runs `fn` and returns what it wrote on stdout and stderr: a library call writes nothing. */
async function silent<T>(fn: () => T | Promise<T>): Promise<{ value: T; written: string }> {
  let written = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((written += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((written += String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { value: await fn(), written };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const TINYVMI = repoPath('examples/tinyvmi/vmi.yaml');

test("the package's entry point is the library, typed: every operation is there", async () => {
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { exports: Record<string, { types?: string; default?: string }> };
  assert.equal(pkg.exports['.']?.default, './dist/api/index.js');
  assert.equal(pkg.exports['.']?.types, './dist/api/index.d.ts');
  const lib = await library();
  for (const name of ['compileSpec', 'checkSpec', 'checkDeployed', 'selftest', 'verify', 'diff', 'readPolicy'] as const) {
    assert.equal(typeof lib[name], 'function', name);
  }
});

test('a CI gate: check, diff and SARIF from data, and nothing printed', async () => {
  const lib = await library();
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-library-'));
  try {
    const { value: checked, written } = await silent(() => lib.checkSpec(TINYVMI));
    assert.equal(written, '', 'the library printed');
    assert.equal(checked.exit, lib.EXIT_OK);
    assert.equal(checked.report?.proven, true);
    // The base-fallback warning is data, placed: no line is resolved until it is rendered.
    const warning = checked.diagnostics.find((p) => p.diagnostic.code === 'VP3402');
    assert.ok(warning, 'VP3402 among the outcome diagnostics');
    assert.match(lib.renderPlaced(warning), /warning VP3402/);
    const sarif = JSON.parse(lib.checkSarif(checked.report as NonNullable<typeof checked.report>, lib.VERSION)) as { version: string };
    assert.equal(sarif.version, '2.1.0');

    // A pull request that widens the spec: a new capability on the same target.
    const widened = join(dir, 'widened.yaml');
    writeFileSync(widened, readFileSync(TINYVMI, 'utf8').replace(/capabilities: \[([^\]]*)\]/, (m, list: string) => `capabilities: [${list}, write-registers]`));
    assert.notEqual(readFileSync(widened, 'utf8'), readFileSync(TINYVMI, 'utf8'), 'the fixture did not widen the spec');
    const { value: change, written: diffWritten } = await silent(() => lib.diff(TINYVMI, widened));
    assert.equal(diffWritten, '');
    assert.equal(change.exit, lib.EXIT_OK);
    assert.equal(change.report?.newAccess, true);
    assert.ok(Buffer.byteLength(lib.diffMarkdown(change.report as NonNullable<typeof change.report>)) <= lib.COMMENT_BUDGET);
    const same = lib.diff(TINYVMI, TINYVMI);
    assert.equal(same.report?.newAccess, false);

    // A broken spec: exit 2, the failure names the spec, and each diagnostic is placed.
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'version: 1\nxen: "4.17"\nintrospectors:\n  - name: x\n    guest: PV\n    watches: [nowhere]\n');
    const { value: bad, written: badWritten } = await silent(() => lib.checkSpec(broken));
    assert.equal(badWritten, '');
    assert.equal(bad.exit, lib.EXIT_USAGE);
    assert.equal(bad.failure?.reading, 'spec');
    assert.equal(bad.report, undefined);
    const located = bad.diagnostics.map(lib.locatePlaced);
    assert.ok(located.length > 0 && located.every((d) => d.file === broken), JSON.stringify(located));
    assert.ok(located.some((d) => d.line !== undefined && d.column !== undefined), 'no diagnostic has a line and column');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('verify hands the check report over and keeps the self-test report', async () => {
  const lib = await library();
  let handed: unknown;
  const outcome = lib.verify(TINYVMI, {}, { onCheck: (report) => { handed = report; } });
  assert.equal(outcome.exit, lib.EXIT_OK);
  assert.deepEqual(outcome.stages.map((s) => [s.stage, s.ok]), [['compile', true], ['check', true], ['selftest', true]]);
  assert.ok(handed, 'onCheck was not called');
  const check = outcome.stages.find((s) => s.stage === 'check');
  assert.ok(check && !('report' in check), 'the check report was kept although it was handed over');
  const self = outcome.stages.find((s) => s.stage === 'selftest');
  assert.equal(self?.stage === 'selftest' ? self.report?.verdict : undefined, 'pass');
});

test("the README's library example runs as written", () => {
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const marker = readme.indexOf('<!-- library-example -->');
  assert.ok(marker >= 0, 'README has no library example');
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(marker));
  assert.ok(block, 'the library example has no js block');
  // Inside the package (dist/), so that 'vmipolicy' resolves to this package.
  const script = repoPath('dist', 'readme-library-example.mjs');
  writeFileSync(script, block[1] as string);
  try {
    const r = spawnSync(process.execPath, [script], { cwd: repoPath(), encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 1, `${r.stderr}`);
    assert.match(r.stdout, /^compile: ok\ncheck: ok\nselftest: ok\nfindings: 0\nnew access: true\ncomment: \d+ bytes\n$/);
  } finally {
    rmSync(script, { force: true });
  }
});

