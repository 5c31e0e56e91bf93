// Machine formats on bad input: every command that writes JSON, SARIF or markdown still writes
// a valid document of that format when it exits 2 (a spec error, a policy syntax error, an
// unreadable or hostile input file, a FIFO, a usage error), carrying the diagnostic's VP code,
// so a CI step that parses or uploads stdout gets the reason instead of an empty stream.
// Also: check's JSON and SARIF carry the spec's warnings on success, and the diff's text
// escapes a #line file name that holds ESC.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileStandalone, inject } from './support/checker.js';
import { hasCommand, repoPath } from './support/env.js';
import { failureSarif } from '../cli/machine.js';
import { locateDiagnostic } from '../report/diagnostics.js';
import { diagnostic } from '../core/diagnostics.js';
import { monWebSpec } from './support/specs.js';
import { withTempDir } from './support/oracles.js';
import { validateSarif } from './support/sarif.js';


const BIN = repoPath('dist', 'cli', 'bin.js');
const GOOD_SPEC = readFileSync(repoPath('examples', 'tinyvmi', 'vmi.yaml'), 'utf8');
const POLICY_SPEC = monWebSpec('4.22');

interface Run { readonly status: number | null; readonly stdout: string; readonly stderr: string }

let dir = '';
function run(args: readonly string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A stack trace, or the bin's internal-error line: either means exit 2 was not reached cleanly. */
const CRASH = /^\s+at .+:\d+:\d+\)?$|internal error/m;

type Kind = 'spec syntax error' | 'unknown field' | 'missing file' | 'FIFO' | 'policy syntax error' | 'bad xl file' | 'bad xenstore file' | 'bad snapshot' | 'bad profile' | 'usage error';

interface Case {
  readonly command: string;
  readonly formats: readonly string[];
  readonly kind: Kind;
  readonly args: readonly string[];
  /** The code the diagnostic that stops the run carries. */
  readonly code: RegExp;
}

const SPEC_KINDS: readonly [Kind, string, RegExp][] = [
  ['spec syntax error', 'syntax.yaml', /^VP1010$/],
  ['unknown field', 'unknown.yaml', /^VP110[13]$/],
  ['missing file', 'missing.yaml', /^VP1001$/],
  ['FIFO', 'fifo', /^VP1004$/],
];

const VMI = ['--dtb', '0x1000', '--address', '0x0'];

const CASES: readonly Case[] = [
  ...SPEC_KINDS.flatMap(([kind, spec, code]): Case[] => [
    { command: 'check', formats: ['json', 'sarif'], kind, args: ['check', spec], code },
    { command: 'compile', formats: ['json'], kind, args: ['compile', spec, '-o', 'out'], code },
    { command: 'selftest', formats: ['json'], kind, args: ['selftest', spec], code },
    { command: 'verify', formats: ['json'], kind, args: ['verify', spec], code },
    { command: 'diff', formats: ['json', 'sarif', 'markdown'], kind, args: ['diff', spec, 'good.yaml'], code: kind === 'missing file' ? /^VP(1001|5003)$/ : code },
  ]),
  { command: 'check', formats: ['json', 'sarif'], kind: 'policy syntax error', args: ['check', 'good.yaml', '--policy', 'bad.conf'], code: /^VP3001$/ },
  { command: 'check', formats: ['json', 'sarif'], kind: 'FIFO', args: ['check', 'good.yaml', '--policy', 'fifo'], code: /^VP1004$/ },
  { command: 'check', formats: ['json', 'sarif'], kind: 'bad xl file', args: ['check', 'good.yaml', '--xl', 'bad.cfg'], code: /^VP3102$/ },
  { command: 'check', formats: ['json', 'sarif'], kind: 'bad xenstore file', args: ['check', 'good.yaml', '--xenstore', 'bad.xs'], code: /^VP3201$/ },
  { command: 'check', formats: ['json', 'sarif'], kind: 'usage error', args: ['check', 'good.yaml', '--bogus'], code: /^VP9010$/ },
  { command: 'compile', formats: ['json'], kind: 'usage error', args: ['compile', 'good.yaml'], code: /^VP9010$/ },
  { command: 'selftest', formats: ['json'], kind: 'usage error', args: ['selftest', 'good.yaml', '--policy', 'x.conf'], code: /^VP9010$/ },
  { command: 'verify', formats: ['json'], kind: 'usage error', args: ['verify'], code: /^VP9010$/ },
  { command: 'diff', formats: ['json', 'sarif', 'markdown'], kind: 'policy syntax error', args: ['diff', 'bad.conf', 'policy.conf'], code: /^VP3001$/ },
  { command: 'diff', formats: ['json', 'sarif', 'markdown'], kind: 'bad xenstore file', args: ['diff', 'good.yaml', 'good.yaml', '--xenstore-old', 'bad.xs', '--xenstore-new', 'bad.xs'], code: /^VP3201$/ },
  { command: 'diff', formats: ['json', 'sarif', 'markdown'], kind: 'usage error', args: ['diff', 'good.yaml'], code: /^VP9010$/ },
  ...(['stats', 'query'] as const).flatMap((sub): Case[] => {
    const q = sub === 'query' ? ['-s', 'mon_t'] : [];
    return [
      { command: `policy ${sub}`, formats: ['json'], kind: 'policy syntax error', args: ['policy', sub, 'bad.conf', ...q], code: /^VP3001$/ },
      { command: `policy ${sub}`, formats: ['json'], kind: 'missing file', args: ['policy', sub, 'missing.conf', ...q], code: /^VP1001$/ },
      { command: `policy ${sub}`, formats: ['json'], kind: 'FIFO', args: ['policy', sub, 'fifo', ...q], code: /^VP1004$/ },
      { command: `policy ${sub}`, formats: ['json'], kind: 'usage error', args: ['policy', sub], code: /^VP9010$/ },
    ];
  }),
  ...(['read', 'translate'] as const).flatMap((sub): Case[] => [
    { command: `vmi ${sub}`, formats: ['json'], kind: 'missing file', args: ['vmi', sub, '--snapshot', 'missing.snap', ...VMI], code: /^VP4001$/ },
    { command: `vmi ${sub}`, formats: ['json'], kind: 'FIFO', args: ['vmi', sub, '--snapshot', 'fifo', ...VMI], code: /^VP1004$/ },
    { command: `vmi ${sub}`, formats: ['json'], kind: 'bad snapshot', args: ['vmi', sub, '--snapshot', 'bad.snap', ...VMI], code: /^VP4002$/ },
    { command: `vmi ${sub}`, formats: ['json'], kind: 'usage error', args: ['vmi', sub, '--snapshot', 'bad.snap'], code: /^VP9010$/ },
  ]),
  // ps reads its profile before it opens the snapshot.
  { command: 'vmi ps', formats: ['json'], kind: 'bad profile', args: ['vmi', 'ps', '--snapshot', 'bad.snap', ...VMI, '--profile', 'bad.json'], code: /^VP4011$/ },
  { command: 'vmi ps', formats: ['json'], kind: 'missing file', args: ['vmi', 'ps', '--snapshot', 'bad.snap', ...VMI, '--profile', 'missing.json'], code: /^VP4010$/ },
  { command: 'vmi ps', formats: ['json'], kind: 'FIFO', args: ['vmi', 'ps', '--snapshot', 'bad.snap', ...VMI, '--profile', 'fifo'], code: /^VP1004$/ },
  { command: 'vmi ps', formats: ['json'], kind: 'usage error', args: ['vmi', 'ps', '--snapshot', 'bad.snap', ...VMI], code: /^VP9010$/ },
];

interface DiagnosticRecord { code: string; severity: string; message: string; line?: number; column?: number }

/** The codes a document carries, after checking it is a valid document of its format. */
function codesOf(format: string, stdout: string): string[] {
  if (format === 'markdown') {
    assert.match(stdout, /^### vmipolicy could not run\n/);
    assert.doesNotMatch(stdout, /[\x00-\x08\x0b-\x1f\x7f]/, 'markdown holds no raw controls');
    return [...stdout.matchAll(/`(VP\d{4})`/g)].map((m) => m[1] as string);
  }
  const doc = JSON.parse(stdout) as { ok?: boolean; diagnostics?: DiagnosticRecord[]; runs?: { results: { ruleId: string; locations: { physicalLocation: { region: { startLine: number; startColumn?: number } } }[] }[] }[] };
  if (format === 'sarif') {
    assert.equal(validateSarif(doc), true, JSON.stringify(validateSarif.errors, null, 1));
    const results = doc.runs?.[0]?.results ?? [];
    for (const r of results) {
      for (const l of r.locations) {
        assert.ok(l.physicalLocation.region.startLine >= 1);
        assert.ok((l.physicalLocation.region.startColumn ?? 1) >= 1);
      }
    }
    return results.map((r) => r.ruleId);
  }
  assert.equal(doc.ok, false, 'a failed run says ok: false');
  assert.ok(Array.isArray(doc.diagnostics));
  for (const d of doc.diagnostics) assert.equal(typeof d.message, 'string');
  return doc.diagnostics.map((d) => d.code);
}

describe('machine formats on exit 2', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmipolicy-machine-'));
    const file = (name: string, content: string | Uint8Array): void => writeFileSync(join(dir, name), content);
    file('good.yaml', GOOD_SPEC);
    file('syntax.yaml', 'vmipolicy: 1\nxen: [\n');
    file('unknown.yaml', GOOD_SPEC.replace('vmipolicy: 1', 'vmipolicy: 1\nbogus_field: 3'));
    file('policy.conf', compileStandalone(POLICY_SPEC).policyText);
    file('bad.conf', 'class domain\nallow a b : c { d }\nfoo;\n');
    file('bad.cfg', 'seclabel = "broken\n');
    file('bad.xs', '/local = "x" (zz\n');
    // An ELF header cut short: openSnapshot reads it as a QEMU core and finds no program headers.
    file('bad.snap', Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]));
    file('bad.json', '{');
    if (hasCommand('mkfifo')) execFileSync('mkfifo', [join(dir, 'fifo')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const c of CASES) {
    for (const format of c.formats) {
      it(`${c.command} --format ${format}: ${c.kind}`, (t) => {
        if (c.args.includes('fifo') && !hasCommand('mkfifo')) return void t.skip('mkfifo is not installed');
        const r = run([...c.args, '--format', format]);
        assert.equal(r.status, 2, `exit 2, not ${r.status}; stderr: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, CRASH);
        const codes = codesOf(format, r.stdout);
        assert.ok(codes.some((code) => c.code.test(code)), `${c.code} among ${codes.join(', ')}`);
      });
    }
  }

  it('identical bad input gives a byte-identical document', () => {
    const a = run(['diff', 'syntax.yaml', 'good.yaml', '--format', 'sarif']);
    const b = run(['diff', 'syntax.yaml', 'good.yaml', '--format', 'sarif']);
    assert.equal(a.stdout, b.stdout);
  });

  it('text keeps stdout empty on exit 2 (the diagnostics are on stderr)', () => {
    const r = run(['check', 'syntax.yaml']);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /syntax\.yaml:\d+:\d+: error VP1010/);
  });
});

describe('check: warnings reach the machine formats on success', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmipolicy-machine-'));
    writeFileSync(join(dir, 'good.yaml'), GOOD_SPEC);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('JSON lists the spec warning (VP2004, placed on its line) and the base fallback (VP3402)', () => {
    const r = run(['check', 'good.yaml', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { verdict: string; diagnostics: DiagnosticRecord[] };
    assert.equal(j.verdict, 'proven');
    const vp2004 = j.diagnostics.find((d) => d.code === 'VP2004');
    assert.equal(vp2004?.severity, 'warning');
    assert.ok((vp2004?.line ?? 0) >= 1 && (vp2004?.column ?? 0) >= 1);
    assert.ok(j.diagnostics.some((d) => d.code === 'VP3402'));
  });

  it('SARIF has them as results under their codes, and validates', () => {
    const r = run(['check', 'good.yaml', '--format', 'sarif']);
    assert.equal(r.status, 0, r.stderr);
    const codes = codesOf('sarif', r.stdout);
    assert.ok(codes.includes('VP2004') && codes.includes('VP3402'), codes.join(', '));
    const sarif = JSON.parse(r.stdout) as { runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; level: string }[] }[] };
    const run0 = sarif.runs[0]!;
    assert.ok(run0.tool.driver.rules.some((rule) => rule.id === 'VP2004'));
    assert.equal(run0.results.find((x) => x.ruleId === 'VP2004')?.level, 'warning');
  });
});

describe('the failure SARIF itself', () => {
  it('each result is at its file when that exists under the root, else at the first that does; with none, no location', () => {
    withTempDir((dir) => {
      mkdirSync(join(dir, 'dir'));
      writeFileSync(join(dir, 'dir', 'x y.yaml'), 'vmipolicy: 1\n');
      const missing = join(dir, 'gone.yaml');
      const present = join(dir, 'dir', 'x y.yaml');
      const sarif = JSON.parse(failureSarif([
        locateDiagnostic(diagnostic('CliUsage', ['check needs a SPEC file']), undefined),
        { code: 'VP1001', severity: 'error', message: 'cannot read gone.yaml: ENOENT', file: missing },
        { code: 'VP1101', severity: 'error', message: 'a mistake', file: present, line: 3, column: 2 },
        { code: 'VP0001', severity: 'info', message: 'a note' },
      ], ['--sarif-root', dir])) as { runs: { originalUriBaseIds: Record<string, { uri: string }>; results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId: string }; region: { startLine: number } } }[] }[]; tool: { driver: { rules: { id: string }[] } } }[] };
      assert.equal(validateSarif(sarif), true, JSON.stringify(validateSarif.errors, null, 1));
      const run0 = sarif.runs[0]!;
      assert.equal(run0.originalUriBaseIds.SRCROOT?.uri, `${pathToFileURL(dir).href}/`);
      const at = (r: (typeof run0.results)[number] | undefined): string[] => (r?.locations ?? []).map((l) => `${l.physicalLocation.artifactLocation.uriBaseId} ${l.physicalLocation.artifactLocation.uri}:${l.physicalLocation.region.startLine}`);
      const [usage, unreadable, mistake, note] = run0.results;
      assert.deepEqual(at(mistake), ['SRCROOT dir/x%20y.yaml:3']);
      assert.deepEqual(at(unreadable), ['SRCROOT dir/x%20y.yaml:1'], 'a file that does not exist is no location: the first that does stands in');
      assert.deepEqual(at(usage), ['SRCROOT dir/x%20y.yaml:1']);
      assert.equal(note?.level, 'note');
      assert.deepEqual(run0.tool.driver.rules.map((r) => r.id), ['VP0001', 'VP1001', 'VP1101', 'VP9010']);
      const alone = JSON.parse(failureSarif([{ code: 'VP1001', severity: 'error', message: 'x', file: missing }], ['--sarif-root', dir])) as typeof sarif;
      assert.deepEqual(alone.runs[0]!.results[0]?.locations, []);
    });
  });
});

describe('diff text: a #line file name holding a bidi override', () => {
  // A control character in a #line file name is refused by the parser (VP3004); a Unicode
  // format character is a legal name, and must still reach the terminal escaped.
  it('is printed escaped, never raw', () => {
    const base = compileStandalone(POLICY_SPEC);
    const hostile = inject(base.policyText, ['#line 1 "ev\u202eil.te"', 'allow mon_t web_t:domain setvcpucontext;']);
    const tmp = mkdtempSync(join(tmpdir(), 'vmipolicy-machine-'));
    try {
      writeFileSync(join(tmp, 'old.conf'), base.policyText);
      writeFileSync(join(tmp, 'new.conf'), hostile.text);
      const r = spawnSync(process.execPath, [BIN, 'diff', 'old.conf', 'new.conf'], { encoding: 'utf8', cwd: tmp });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /ev\\u202eil\.te:\d+/);
      assert.doesNotMatch(r.stdout, /\u202e/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
