// The check's outputs: SARIF 2.1.0 valid against the OASIS schema (Microsoft's copy in
// @microsoft/jest-sarif) with real file/line locations and witness code flows; the JSON
// shape README.md "check — prove least privilege" documents; dot with the offending path
// drawn red; the CLI's verdicts and exit codes; and byte-identical output for identical input.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPolicyText, compileStandalone, inject } from './support/checker.js';
import { reportSarif } from '../report/check/sarif.js';
import { reportJson } from '../report/check/json.js';
import { drawGraph, reportDot } from '../report/check/dot.js';
import { compareCodePoints } from '../core/compare.js';
import { reportText } from '../report/check/text.js';
import { repoPath, requires, sharedPath } from './support/env.js';
import { checkSpec } from '../api/check.js';
import { validateSarif } from './support/sarif.js';


const SPEC = `vmipolicy: 1
xen: "4.22"
policy: { module: vmi, mode: standalone }
introspectors:
  - { name: mon, type: mon_t, guest: pv, targets: [web], capabilities: [domain-info, read-memory], lookup: domid }
targets:
  - { name: web, type: web_t, guest: hvm }
  - { name: db, type: db_t, guest: hvm }
`.replace('targets: [web]', 'targets: [web, db]');

const base = compileStandalone(SPEC, 'spec.yaml');
const bad = inject(base.policyText, ['allow mon_t web_t:domain setvcpucontext;', 'allow web_t dom0_t:domain setvcpucontext;', 'allow db_t mon_t:domain pause;']);
const report = checkPolicyText(base, bad.text);

describe('reports', () => {
  it('SARIF validates against the SARIF 2.1.0 schema, with real locations and code flows', () => {
    const sarif = JSON.parse(reportSarif(report, '0.1.0'));
    assert.equal(validateSarif(sarif), true, JSON.stringify(validateSarif.errors, null, 1));
    const results = sarif.runs[0].results as { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[]; codeFlows?: unknown[] }[];
    assert.equal(results.length, report.findings.length);
    const esc = results.find((r) => r.ruleId === 'escalation');
    assert.ok(esc?.codeFlows?.length, 'escalation witness paths become code flows');
    const lines = new Set(results.flatMap((r) => r.locations.map((l) => `${l.physicalLocation.artifactLocation.uri}:${l.physicalLocation.region.startLine}`)));
    for (const line of bad.lines) assert.ok(lines.has(`policy.conf:${line}`), `a result is located at the added rule policy.conf:${line}`);
    // A broken document must not validate: the check can fail.
    assert.equal(validateSarif({ ...sarif, runs: [{ ...sarif.runs[0], results: [{ ...results[0], level: 'fatal' }] }] }), false);
  });

  it('the diff\'s SARIF (same builder) validates too, with its new access as results', () => {
    const r = spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), 'diff', 'examples/tinyvmi/vmi.yaml', 'examples/multi-tenant/vmi.yaml', '--format', 'sarif'], { encoding: 'utf8', cwd: repoPath() });
    assert.equal(r.status, 0, r.stderr);
    const sarif = JSON.parse(r.stdout);
    assert.equal(validateSarif(sarif), true, JSON.stringify(validateSarif.errors, null, 1));
    assert.ok(sarif.runs[0].results.some((x: { ruleId: string }) => x.ruleId === 'new-capability'));
  });

  it('a proven policy is valid SARIF with no results', () => {
    const sarif = JSON.parse(reportSarif(checkPolicyText(base, base.policyText), '0.1.0'));
    assert.equal(validateSarif(sarif), true);
    assert.deepEqual(sarif.runs[0].results, []);
  });

  it('JSON findings have the documented shape, with spec and policy provenance', () => {
    const json = JSON.parse(reportJson(report));
    assert.equal(json.verdict, 'not-proven');
    for (const f of json.findings) {
      for (const key of ['ruleId', 'severity', 'message', 'subject', 'object', 'class', 'perms', 'provenance']) assert.ok(key in f, key);
      for (const p of f.provenance) assert.ok(typeof p.file === 'string' && p.line > 0 && p.column > 0);
    }
    const reverse = json.findings.find((f: { ruleId: string }) => f.ruleId === 'reverse-access');
    assert.deepEqual(reverse.provenance.map((p: { file: string; kind: string }) => `${p.kind}:${p.file}`), ['spec:spec.yaml', 'policy:policy.conf']);
  });

  it('dot: nodes in code-point order, whatever the locale (core/compare.ts), and the same order in the drawing data', () => {
    // Names beyond the BMP sort after U+E000…U+FFFF by code point, before them by UTF-16 unit.
    const intent = report.context.intent;
    const mon = intent.domains[0];
    assert.ok(mon);
    const odd = { ...report, context: { ...report.context, intent: { ...intent, domains: [...intent.domains, { ...mon, type: '\u{1F600}_t' }, { ...mon, type: '\uE000_t' }] } } };
    const drawn = drawGraph(odd);
    assert.deepEqual(drawn.nodes, [...drawn.nodes].sort(compareCodePoints));
    assert.ok(drawn.nodes.indexOf('\uE000_t') < drawn.nodes.indexOf('\u{1F600}_t'), drawn.nodes.join(' '));
    assert.ok(drawn.dot.indexOf('"\uE000_t" [') < drawn.dot.indexOf('"\u{1F600}_t" ['));
  });

  it('dot marks introspectors, targets and the offending path', () => {
    const dot = reportDot(report);
    assert.match(dot, /^digraph vmipolicy \{/);
    assert.match(dot, /"mon_t" \[label="mon_t\\nmon", shape=box/);
    // One edge per pair: the witness hop and the finding on one label, drawn as the witness.
    assert.match(dot, /"web_t" -> "dom0_t" \[label="domain: setvcpucontext\\nundeclared-target: domain: setvcpucontext", color=red, penwidth=2\.5/);
    assert.equal(dot.match(/"web_t" -> "dom0_t"/g)?.length, 1);
    assert.match(dot, /subgraph cluster_legend/);
    assert.match(dot, /"mon_t" -> "web_t" \[[^\]]*style=dashed|"mon_t" -> "web_t" \[[^\]]*color=red/);
  });

  it('text ends with one verdict line; identical input gives byte-identical output', () => {
    const text = reportText(report);
    assert.match(text.trimEnd().split('\n').at(-1) ?? '', /^NOT PROVEN: excess 1, undeclared-target 2, reverse-access 1, escalation 2, cross-target-flow 1 \(1 introspector, 7 errors/);
    const again = checkPolicyText(compileStandalone(SPEC, 'spec.yaml'), bad.text);
    assert.equal(reportText(again), text);
    assert.equal(reportJson(again), reportJson(report));
    assert.equal(reportSarif(again, '0.1.0'), reportSarif(report, '0.1.0'));
    assert.equal(reportDot(again), reportDot(report));
  });

  it('text: a place in compiled output never written (policy.conf compiled in memory) is shown at its finding\'s spec line; others keep their line', () => {
    const written = reportText(report);
    assert.match(written, new RegExp(`policy   policy\\.conf:${bad.lines[0]}:1  allow mon_t web_t:domain setvcpucontext;`));
    const text = reportText(report, { unwritten: (file) => file === 'policy.conf' });
    assert.doesNotMatch(text, /policy\.conf:\d/, 'no line of a file nobody has');
    assert.match(text, /^ {10}policy {3}compiled from spec\.yaml:5:5  allow mon_t web_t:domain setvcpucontext;$/m);
    // The prose says where to act in the user's files: the spec line, written as file:line.
    assert.match(text, /^ {10}help {5}remove it from spec\.yaml:5, or declare the capability that needs it/m);
    // Only the places change: line for line, the same report.
    assert.equal(text.split('\n').length, written.split('\n').length);
    assert.equal(text.replace(/compiled from spec\.yaml:\d+:\d+|spec\.yaml:\d+|policy\.conf:\d+(:\d+)?/g, '@').replace(/ {2}\(@\)/g, ''), written.replace(/compiled from spec\.yaml:\d+:\d+|spec\.yaml:\d+|policy\.conf:\d+(:\d+)?/g, '@').replace(/ {2}\(@\)/g, ''));
  });

  it('SARIF: a place in compiled output never written is named as the text report names it, is no location, and leaves the fingerprints as they were', () => {
    type Result = { message: { text: string }; partialFingerprints: Record<string, string>; locations: { physicalLocation: { artifactLocation: { uri: string } } }[]; relatedLocations?: { physicalLocation: { artifactLocation: { uri: string } } }[]; codeFlows?: { threadFlows: { locations: { location: { physicalLocation?: { artifactLocation: { uri: string } }; message: { text: string } } }[] }[] }[] };
    const results = (text: string): Result[] => (JSON.parse(text) as { runs: { results: Result[] }[] }).runs[0]?.results ?? [];
    const written = results(reportSarif(report, '0.1.0'));
    const unwrittenDoc = reportSarif(report, '0.1.0', [], undefined, (file) => file === 'policy.conf');
    assert.equal(validateSarif(JSON.parse(unwrittenDoc)), true, JSON.stringify(validateSarif.errors, null, 1));
    const moved = results(unwrittenDoc);
    assert.ok(written.some((r) => /policy\.conf:\d/.test(r.message.text)), 'the messages name rules of the policy when it is a file');
    for (const r of moved) {
      assert.doesNotMatch(r.message.text, /policy\.conf:\d/, 'no line of a file nobody has');
      const uris = [...r.locations, ...(r.relatedLocations ?? []), ...(r.codeFlows ?? []).flatMap((c) => c.threadFlows.flatMap((t) => t.locations.map((l) => l.location)))].flatMap((l) => (l.physicalLocation ? [l.physicalLocation.artifactLocation.uri] : []));
      assert.deepEqual([...new Set(uris)], ['spec.yaml'], r.message.text);
    }
    // The prose says where to act in the user's files, as the text report does.
    const text = reportText(report, { unwritten: (file) => file === 'policy.conf' });
    assert.ok(moved.some((r) => r.message.text.includes('remove it from spec.yaml:5, or declare the capability that needs it')));
    for (const r of moved) assert.ok(text.includes(r.message.text.split('. ')[0] as string), `the text report says it too: ${r.message.text}`);
    assert.deepEqual(moved.map((r) => r.partialFingerprints), written.map((r) => r.partialFingerprints));
  });
});

function cli(args: string[]) {
  return spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8' });
}

describe('vmipolicy check (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-check-'));
  const spec = join(dir, 'spec.yaml');
  writeFileSync(spec, SPEC);
  const policy = join(dir, 'deployed.conf');
  writeFileSync(policy, bad.text);

  it('exit 0 and PROVEN for the compiled spec', () => {
    const r = cli(['check', spec]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^PROVEN: /m);
  });

  it('text names a line of the compiled policy only when the user wrote it and gave it back', () => {
    // An HVM introspector of two targets: a declared flow, a warning whose rules are compiled.
    const flowSpec = join(dir, 'flow.yaml');
    writeFileSync(flowSpec, SPEC.replace('guest: pv', 'guest: hvm'));
    const inMemory = cli(['check', flowSpec]);
    assert.equal(inMemory.status, 0, inMemory.stderr);
    assert.match(inMemory.stdout, /^ {10}policy {3}compiled from .*flow\.yaml:5:5  allow mon_t web_t:mmu /m);
    assert.doesNotMatch(inMemory.stdout, /policy\.conf:\d/);
    const sarif = cli(['check', flowSpec, '--format', 'sarif', '--sarif-root', dir]);
    assert.equal(sarif.status, 0, sarif.stderr);
    assert.doesNotMatch(sarif.stdout, /policy\.conf:\d/);
    const out = join(dir, 'out');
    assert.equal(cli(['compile', flowSpec, '-o', out]).status, 0);
    const written = cli(['check', flowSpec, '--policy', join(out, 'policy.conf')]);
    assert.equal(written.status, 0, written.stderr);
    assert.match(written.stdout, /^ {10}policy {3}.*out\/policy\.conf:\d+:1  allow mon_t web_t:mmu /m);
  });

  it('--xen-tree: the spec\'s module compiled into the tree is never written either, so its rules are shown at the spec; the tree\'s own files keep their lines', (t) => {
    if (!requires(t, { shared: true, commands: ['m4'] })) return;
    const flowSpec = join(dir, 'tree-flow.yaml');
    writeFileSync(flowSpec, SPEC.replace('guest: pv', 'guest: hvm').replace('policy: { module: vmi, mode: standalone }', 'policy: { module: vmi }'));
    const tree = sharedPath('corpus', 'xen-4.22', 'src');
    const outcome = checkSpec(flowSpec, { xenTree: tree });
    assert.ok(outcome.report, JSON.stringify(outcome.failure));
    assert.ok(outcome.unwritten?.has('modules/vmi.te'), [...(outcome.unwritten ?? [])].join(' '));
    assert.ok(outcome.report.findings.some((f) => f.provenance.some((l) => l.file === 'modules/vmi.te')), 'a finding cites a rule of the module');
    const text = cli(['check', flowSpec, '--xen-tree', tree]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^ {10}policy {3}compiled from .*tree-flow\.yaml:5:5  allow mon_t web_t:mmu /m);
    assert.doesNotMatch(text.stdout, /modules\/vmi\.te:\d/);
    assert.match(text.stdout, /modules\/guest_features\.te:\d+/, 'a file of the tree keeps its line');
    const sarif = cli(['check', flowSpec, '--xen-tree', tree, '--format', 'sarif']);
    assert.equal(sarif.status, 0, sarif.stderr);
    assert.doesNotMatch(sarif.stdout, /modules\/vmi\.te/);
  });

  it('exit 1 with findings for a deployed policy, in every format', () => {
    for (const format of ['text', 'json', 'sarif', 'dot', 'svg']) {
      const r = cli(['check', spec, '--policy', policy, '--format', format]);
      assert.equal(r.status, 1, `${format}: ${r.stderr}`);
      if (format === 'json' || format === 'sarif') JSON.parse(r.stdout);
      if (format === 'svg') {
        assert.match(r.stdout, /<svg [^>]*>/);
        assert.match(r.stdout, /<title>web_t&#45;&gt;dom0_t<\/title>/, 'the offending edge is drawn');
      }
    }
  });

  it('a declared type the deployed policy lacks is never PROVEN: insufficient, naming the capability', () => {
    const proven = join(dir, 'proven.conf');
    writeFileSync(proven, base.policyText);
    for (const [from, to, who] of [['type: mon_t', 'type: ghost_t', 'introspector "mon"'], ['type: db_t', 'type: ghost_t', 'ghost_t']] as const) {
      const changed = join(dir, `ghost-${from.slice(6)}.yaml`);
      writeFileSync(changed, SPEC.replace(from, to));
      const r = cli(['check', changed, '--policy', proven, '--format', 'json']);
      assert.equal(r.status, 1, r.stdout);
      const findings = (JSON.parse(r.stdout) as { findings: { ruleId: string; severity: string; message: string; help?: string }[] }).findings;
      const absent = findings.filter((f) => f.ruleId === 'insufficient' && f.severity === 'error' && f.message.includes('the policy has no type ghost_t'));
      assert.ok(absent.length > 0, JSON.stringify(findings, null, 1));
      assert.ok(absent.every((f) => /capability (domain-info|read-memory)/.test(f.message) && f.message.includes(who)), JSON.stringify(absent, null, 1));
      assert.ok(absent.every((f) => f.help?.startsWith('declare ghost_t in the policy')), JSON.stringify(absent, null, 1));
    }
  });

  it('an unwatched target whose type the deployed policy lacks is an insufficient error too', () => {
    const proven = join(dir, 'proven.conf');
    writeFileSync(proven, base.policyText);
    const changed = join(dir, 'ghost-unwatched.yaml');
    writeFileSync(changed, SPEC.replace('targets: [web, db]', 'targets: [web]').replace('type: db_t', 'type: ghost_t'));
    const r = cli(['check', changed, '--policy', proven, '--format', 'json']);
    assert.equal(r.status, 1, r.stdout);
    const findings = (JSON.parse(r.stdout) as { findings: { ruleId: string; severity: string; message: string }[] }).findings;
    assert.ok(findings.some((f) => f.ruleId === 'insufficient' && f.severity === 'error' && f.message.startsWith('the policy has no type ghost_t (the type of target "db")')), JSON.stringify(findings, null, 1));
  });

  it('--rules narrows the proof to some rules', () => {
    const r = cli(['check', spec, '--policy', policy, '--rules', 'neverallow,label', '--format', 'json']);
    assert.equal(r.status, 0, r.stdout);
    assert.deepEqual(JSON.parse(r.stdout).findings, []);
  });

  it('bad input: exit 2 with a positioned message, never a stack trace', () => {
    const cases: [string[], RegExp][] = [
      [['check'], /check needs a SPEC file/],
      [['check', spec, '--format', 'pdf'], /--format must be text, json, sarif, dot, svg or html/],
      [['check', spec, '--rules', 'excess,nope'], /unknown rule nope/],
      [['check', spec, '--max-paths', '0'], /--max-paths must be a whole number/],
      [['check', join(dir, 'missing.yaml')], /VP1001/],
      [['check', spec, '--policy', join(dir, 'missing.conf')], /VP1001/],
      [['check', spec, '--policy', policy, '--policy', spec], /VP3401/],
      [['check', spec, '--xenstore', spec], /VP32\d\d|VP3403/],
    ];
    writeFileSync(join(dir, 'broken.conf'), 'class domain\nallow a b:c d\n');
    cases.push([['check', spec, '--policy', join(dir, 'broken.conf')], /broken\.conf:\d+:\d+: error VP\d+/]);
    for (const [args, expected] of cases) {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, expected, args.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
