// `vmipolicy explain`: Xen's avc lines read back in every format avc_audit has printed, and
// every denial the self-test provokes explained — checked against the compiler itself: a
// suggested capability, added to the spec, must make the compiled policy grant what was
// denied, and "no capability needs this" must hold with every capability declared.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DOMID_XEN, formatAvcLine, readAvcLine, type AvcRecord } from '../formats/avc-line.js';
import { explain } from '../api/explain.js';
import { selftest } from '../api/selftest.js';
import { CAPABILITY_NAMES } from '../catalog/capabilities.js';
import type { Denial, Explanation } from '../explain/explain.js';
import type { OperationReport } from '../vmi/selftest/selftest.js';
import { EXAMPLES, compileText, repoPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const cli = (args: string[], input?: string) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', cwd: repoPath(), maxBuffer: 64 << 20, ...(input !== undefined ? { input } : {}) });

const record = (line: string): AvcRecord => {
  const r = readAvcLine(line);
  assert.equal(r.kind, 'record', `${line}: ${JSON.stringify(r)}`);
  return (r as { record: AvcRecord }).record;
};

test('avc lines in the formats of Xen up to 4.16 and from 4.17 read back to the same fields', () => {
  // xen/xsm/flask/avc.c avc_audit at RELEASE-4.16.0 ("domid=%d target=%d ") and RELEASE-4.17.0 ("source=%pd target=%pd ").
  const old = record('(XEN) avc:  denied  { map_read map_write } for domid=3 target=7 scontext=system_u:system_r:mon_t tcontext=system_u:system_r:win_t tclass=mmu');
  const pd = record('(XEN) [2026-12-06 10:00:00.123] avc:  denied  { map_read map_write } for source=d3 target=d7 scontext=system_u:system_r:mon_t tcontext=system_u:system_r:win_t tclass=mmu');
  assert.deepEqual({ ...old, style: 'pd' }, pd);
  assert.equal(old.style, 'domid');
  assert.deepEqual(old.perms, ['map_read', 'map_write']);
  assert.equal(old.source, 3);
  assert.equal(old.target, 7);
  // Self checks name one domain; no audit data names the current one; d[XEN] is DOMID_XEN.
  assert.deepEqual([record('avc:  denied  { pause } for domid=4 scontext=a:b:c_t tcontext=a:b:c_t_self tclass=domain').source, record('avc:  denied  { pause } for target=4 scontext=a:b:c_t tcontext=a:b:d_t tclass=domain').target], [4, 4]);
  assert.equal(record('avc:  denied  { getdomaininfo } for source=d2 target=d[XEN] scontext=a:b:c_t tcontext=a:b:domxen_t tclass=domain').target, DOMID_XEN);
  assert.equal(record('avc:  granted  { setenforce } for current=d0 scontext=a:b:dom0_t tcontext=a:b:security_t tclass=security').source, 0);
  // Hook details, SIDs without contexts, unnamed bits, no permission at all.
  const detail = record('avc:  denied  { use } for domid=1 irq=33 scontext=a:b:c_t tsid=27 tclass=resource');
  assert.deepEqual([detail.detail, detail.tcontext], [['irq=33'], { sid: 27 }]);
  assert.deepEqual(record('avc:  denied  { use 0x80000000 } for domid=1 range=0xf0-0xff scontext=a:b:c_t tcontext=a:b:d_t tclass=resource').perms, ['use', '0x80000000']);
  assert.deepEqual(record('avc:  denied  null for domid=1 ssid=5 tsid=6 tclass=domain').scontext, { sid: 5 });
  // MLS contexts keep their level.
  assert.deepEqual(record('avc:  denied  { pause } for domid=1 scontext=u:r:c_t:s0 tcontext=u:r:d_t:s0-s0:c0.c255 tclass=domain').tcontext, { context: 'u:r:d_t:s0-s0:c0.c255' });
});

test('a guest\'s own console line is never read as Xen\'s, and lines Xen could not print are malformed', () => {
  for (const line of ['(d3) avc:  denied  { map_read } for domid=2 target=1 scontext=a:b:c_t tcontext=a:b:d_t tclass=mmu', '(d12) (XEN) avc:  denied  { map_read } for source=d2 target=d1 scontext=a:b:c_t tcontext=a:b:d_t tclass=mmu']) {
    assert.equal(readAvcLine(line).kind, 'guest', line);
  }
  const malformed: [string, RegExp][] = [
    ['avc:  denied  { map_read } for domid=2 scontext=a:b:c_t tcontext=a:b:d_t', /expected/],
    ['avc:  denied  { map_read } for source=d2 target=7 scontext=a:b:c_t tcontext=a:b:d_t tclass=mmu', /mixes/],
    ['avc:  denied  { map_read } for pid=2 scontext=a:b:c_t tcontext=a:b:d_t tclass=mmu', /pid=2/],
    ['avc:  denied  { map-read } for domid=2 scontext=a:b:c_t tcontext=a:b:d_t tclass=mmu', /not a permission/],
    ['avc:  denied  { } for domid=2 scontext=a:b:c_t tcontext=a:b:d_t tclass=mmu', /null/],
    ['avc:  denied  { x } for source=d99999999 scontext=a:b:c_t tcontext=a:b:d_t tclass=mmu', /not a domain id/],
  ];
  for (const [line, reason] of malformed) {
    const r = readAvcLine(line);
    assert.equal(r.kind, 'malformed', line);
    assert.match((r as { reason: string }).reason, reason, line);
  }
  assert.equal(readAvcLine('(XEN) Xen version 4.19.1 (avc: see below)').kind, 'other');
});

test('property: every line formatAvcLine writes reads back to what was written', () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/);
  const domid = fc.oneof(fc.integer({ min: 0, max: 32751 }), fc.constant(DOMID_XEN));
  fc.assert(
    fc.property(fc.constantFrom('pd' as const, 'domid' as const), fc.constantFrom('denied' as const, 'granted' as const), fc.uniqueArray(name, { maxLength: 5 }), domid, fc.option(domid, { nil: undefined }), name, name, name, (style, word, perms, sdom, tdom, s, t, cls) => {
      const line = formatAvcLine({ word, perms, audit: { current: 0, sdom, ...(tdom !== undefined ? { tdom } : {}) }, scontext: `system_u:system_r:${s}`, tcontext: `system_u:system_r:${t}`, cls }, style);
      const r = record(`(XEN) ${line}`);
      assert.deepEqual([r.style, r.word, r.perms, r.source, r.target, r.scontext, r.tcontext, r.tclass], [style, word, perms, sdom, tdom === sdom ? undefined : tdom, { context: `system_u:system_r:${s}` }, { context: `system_u:system_r:${t}` }, cls]);
    }),
    { numRuns: 300 },
  );
});

/** The spec text with the introspector's capabilities replaced. */
function withCapabilities(specText: string, introspector: string, capabilities: readonly string[]): string {
  const spec = parseYaml(specText) as { introspectors: { name: string; capabilities: string[] }[] };
  const entry = spec.introspectors.find((i) => i.name === introspector);
  assert.ok(entry, introspector);
  entry.capabilities = [...new Set(capabilities)];
  return stringifyYaml(spec);
}

/** `subject object class perm` of every permission the compiled spec grants. */
function grantedKeys(specText: string): Set<string> {
  const r = compileText(specText, { manifest: false });
  assert.ok(r.ir, r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  const keys = new Set<string>();
  for (const g of [...r.ir.vmiGrants, ...r.ir.domainRules, ...r.ir.macroUses.flatMap((u) => u.grants)]) keys.add(`${g.subject} ${g.object} ${g.cls} ${g.perm}`);
  return keys;
}

/** Every capability the introspector can be given without the spec becoming invalid, added one at a time. */
function everyCapability(specText: string, introspector: string, declared: readonly string[]): string {
  let caps = [...declared];
  for (const c of CAPABILITY_NAMES) {
    if (caps.includes(c)) continue;
    const tried = withCapabilities(specText, introspector, [...caps, c]);
    if (compileText(tried, { manifest: false }).ir) caps = [...caps, c];
  }
  return withCapabilities(specText, introspector, caps);
}

const keyOf = (d: Denial): string => `${d.subject.type} ${d.object.type} ${d.cls} ${d.perm}`;

for (const example of EXAMPLES) {
  test(`explain: every denial the self-test provokes on ${example} is explained by the right capability, or rightly by none`, () => {
    const specPath = `examples/${example}/vmi.yaml`;
    const specText = readFileSync(repoPath(specPath), 'utf8');
    const run = selftest(specPath);
    assert.ok(run.report, run.diagnostics.map((p) => p.diagnostic.message).join('\n'));
    const lines: string[] = [];
    const opOfLine: OperationReport[] = [];
    for (const op of run.report.operations) {
      for (const d of op.denials) {
        lines.push(`(XEN) ${d}`);
        opOfLine.push(op);
      }
    }
    assert.ok(lines.length > 0);
    const out = explain({ file: 'dmesg.txt', text: lines.join('\n') + '\n' }, specPath);
    assert.ok(out.report);
    assert.deepEqual(out.diagnostics.map((p) => p.diagnostic.code), []);
    assert.equal(out.report.totals.deniedLines, lines.length);
    const byLine = new Map<number, Denial[]>();
    for (const d of out.report.denials) {
      assert.ok(d.occurrences.length <= d.count);
      for (const o of d.occurrences) {
        const line = out.locate(o.span)?.line as number;
        byLine.set(line, [...(byLine.get(line) ?? []), d]);
      }
    }
    const declaredOf = new Map(run.report.domains.map((d) => [d.name, d]));
    const spec = parseYaml(specText) as { introspectors: { name: string; capabilities: string[] }[] };
    const everything = new Map<string, Set<string>>();
    const fullyGranted = (introspector: string): Set<string> => {
      let keys = everything.get(introspector);
      if (!keys) everything.set(introspector, (keys = grantedKeys(everyCapability(specText, introspector, spec.introspectors.find((i) => i.name === introspector)?.capabilities ?? []))));
      return keys;
    };
    let checked = 0;
    for (const [line, denials] of byLine) {
      const op = opOfLine[line - 1] as OperationReport;
      for (const d of denials) {
        const x: Explanation = d.explanation;
        const what = `${example} line ${line} (${op.kind} ${op.rows.join(',')} ${op.subject}→${op.object}) ${keyOf(d)}: ${JSON.stringify(x).slice(0, 300)}`;
        // What the probe is about: its kind fixes the explanation of the denial on its object.
        const onProbedObject = d.object.domain === op.object || d.object.type === declaredOf.get(op.object)?.label.split(':')[2];
        if (op.kind === 'reverse') assert.equal(x.kind, 'no-capability', what);
        else if (op.kind === 'ungranted') assert.ok(x.kind === 'missing-capability' || x.kind === 'no-capability', what);
        else if (op.kind === 'non-target' && onProbedObject) assert.equal(x.kind, 'not-a-target', what);
        else if (op.kind !== 'non-target') assert.fail(`${what}: an operation of kind ${op.kind} was not expected to print a denial`);
        // Each explanation, whatever the probe, checked against the compiler.
        const declared = spec.introspectors.find((i) => i.name === d.subject.domain)?.capabilities;
        switch (x.kind) {
          case 'granted':
          case 'outside-spec':
            assert.fail(`${what}: every denial of the self-test concerns the spec and is not granted by it`);
            break;
          case 'missing-capability': {
            assert.ok(declared, what);
            const [first] = x.candidates;
            assert.ok(first, what);
            for (const c of x.candidates) assert.ok(!declared.includes(c.capability), `${what}: ${c.capability} is already declared`);
            const fixed = withCapabilities(specText, x.introspector, [...declared, first.capability, ...first.alsoAdd]);
            assert.ok(grantedKeys(fixed).has(keyOf(d)), `${what}: adding ${first.capability} does not grant it`);
            break;
          }
          case 'not-a-target':
            assert.equal(x.introspector, d.subject.domain, what);
            assert.equal(x.declared, declaredOf.get(x.target ?? '')?.role === 'target', what);
            assert.ok(!spec.introspectors.find((i) => i.name === x.introspector)?.capabilities.includes(x.target ?? ''), what);
            assert.ok(x.candidates.length > 0, what);
            break;
          case 'no-capability':
            // A target is granted nothing over others; an introspector, not even with every capability.
            if (declared) assert.ok(!fullyGranted(d.subject.domain as string).has(keyOf(d)), `${what}: a capability does grant it`);
            else assert.equal(declaredOf.get(d.subject.domain ?? '')?.role, 'target', what);
            break;
        }
        checked++;
      }
    }
    console.log(`# ${example}: ${lines.length} denial lines, ${out.report.denials.length} denials, ${checked} line explanations checked`);
  });
}

test('on a Xen 4.14 host the self-test prints 4.14\'s avc lines, and explain reads them as that release\'s', () => {
  const spec = { file: 'tiny-4.14.yaml', content: readFileSync(repoPath('examples/tinyvmi/vmi.yaml'), 'utf8').replace(/^xen: .*$/m, 'xen: "4.14"') };
  const run = selftest(spec);
  assert.ok(run.report, run.diagnostics.map((p) => p.diagnostic.message).join('\n'));
  const lines = run.report.operations.flatMap((o) => o.denials.map((d) => `(XEN) ${d}`));
  assert.ok(lines.length > 0 && lines.every((l) => / for domid=\d+ (target=\d+ )?scontext=/.test(l)), lines.join('\n'));
  const out = explain({ file: 'dmesg', text: lines.join('\n') }, spec);
  assert.deepEqual(out.diagnostics.map((p) => p.diagnostic.code), []);
  assert.ok(out.report && out.report.denials.length > 0 && out.report.denials.every((d) => d.explanation.kind !== 'outside-spec'));
  const newer = explain({ file: 'dmesg', text: lines[0] as string }, 'examples/tinyvmi/vmi.yaml');
  assert.deepEqual(newer.diagnostics.map((p) => p.diagnostic.code), ['VP3603']);
});

const TINY = 'examples/tinyvmi/vmi.yaml';
const tinyLine = (perms: string, s: string, t: string, cls: string, who = 'source=d2 target=d1'): string => `(XEN) avc:  denied  { ${perms} } for ${who} scontext=system_u:system_r:${s} tcontext=system_u:system_r:${t} tclass=${cls}`;

test('explain: what the spec grants, what is outside it, and what it cannot read', () => {
  const log = [
    'Xen 4.19 booting',
    tinyLine('map_read', 'tinyvmi_t', 'ubuntu_t', 'mmu'),
    tinyLine('map_read', 'tinyvmi_t', 'ubuntu_t', 'mmu'),
    tinyLine('setenforce', 'dom0_t', 'security_t', 'security', 'current=d0'),
    tinyLine('map_read', 'tinyvmi_t', 'ubuntu_t', 'mmu', 'domid=2 target=1'),
    tinyLine('fly', 'tinyvmi_t', 'ubuntu_t', 'mmu'),
    '(d1) avc:  denied  { map_read } for source=d2 target=d1 scontext=x:y:tinyvmi_t tcontext=x:y:ubuntu_t tclass=mmu',
    'avc:  denied  { map_read } for source=d2 scontext=x',
  ].join('\n');
  const out = explain({ file: 'log', text: log }, TINY);
  assert.ok(out.report);
  const kinds = out.report.denials.map((d) => [keyOf(d), d.count, d.explanation.kind]);
  assert.deepEqual(kinds, [
    ['tinyvmi_t ubuntu_t mmu map_read', 3, 'granted'],
    ['dom0_t security_t security setenforce', 1, 'outside-spec'],
  ]);
  const granted = out.report.denials[0]?.explanation;
  assert.ok(granted?.kind === 'granted' && granted.origins.some((o) => o.kind === 'capability' && o.capability === 'read-memory'));
  assert.deepEqual(out.diagnostics.map((p) => [p.diagnostic.code, out.locate(p.diagnostic.span!)?.line]), [
    ['VP3604', 6],
    ['VP3602', 7],
    ['VP3601', 8],
    ['VP3603', 5],
  ]);
  assert.equal(out.exit, 1, 'a denial of what the spec grants concerns the spec');
  const outside = explain({ file: 'log', text: tinyLine('setenforce', 'dom0_t', 'security_t', 'security', 'current=d0') }, TINY);
  assert.equal(outside.exit, 0, 'a denial outside the spec is not a finding about it');
});

test('vmipolicy explain: standard input, exit codes, JSON and markdown, and hostile text', () => {
  const line = tinyLine('gettsc', 'tinyvmi_t', 'ubuntu_t', 'domain2');
  const r = cli(['explain', '-', '--spec', TINY], line + '\n');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /tinyvmi lacks tsc-info on ubuntu/);
  assert.match(r.stdout, /add tsc-info to the capabilities of tinyvmi \(examples\/tinyvmi\/vmi\.yaml:\d+:\d+\)/);
  assert.match(r.stdout, /log line 1 \(d2→d1\)/);
  assert.match(r.stdout.trim().split('\n').pop() ?? '', /^explain: 1 distinct denial from 1 denied avc line — 1 concerns the spec$/);
  assert.equal(r.stderr, '');

  const json = cli(['explain', '-', '--spec', TINY, '--format', 'json'], line);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.denials[0].explanation.kind, 'missing-capability');
  assert.equal(doc.denials[0].explanation.candidates[0].capability, 'tsc-info');
  assert.deepEqual(doc.denials[0].occurrences[0].at, { file: '<stdin>', line: 1, column: 7 });

  const empty = cli(['explain', '-', '--spec', TINY], '(XEN) nothing to see\n');
  assert.equal(empty.status, 0);
  assert.match(empty.stdout, /explain: no denials/);

  // Bad input: exit 2, and a JSON document still.
  const bad = cli(['explain', 'no-such.log', '--spec', TINY, '--format', 'json']);
  assert.equal(bad.status, 2);
  assert.equal(JSON.parse(bad.stdout).ok, false);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
  assert.equal(cli(['explain', '-']).status, 2);

  // A context with terminal controls and markdown: shown, never obeyed or rendered.
  const hostile = tinyLine('gettsc', 'tinyvmi_t', 'x\u001b[2J<img_src=x>@team', 'domain2');
  const text = cli(['explain', '-', '--spec', TINY], hostile);
  assert.ok(!text.stdout.includes('\u001b'), text.stdout);
  const mdOut = cli(['explain', '-', '--spec', TINY, '--format', 'markdown'], hostile).stdout;
  assert.doesNotMatch(mdOut, /(?<!\\)<img/, mdOut);
  assert.ok(!mdOut.includes('@team'), mdOut);
});

test('explain --format markdown fits one pull-request comment however many denials, and says how many it left out', () => {
  const lines = Array.from({ length: 3000 }, (_, i) => tinyLine('map_read', 'tinyvmi_t', `guest${i}_t`, 'mmu', `source=d2 target=d${i + 10}`));
  const log = lines.join('\n') + '\n';
  const md = cli(['explain', '-', '--spec', TINY, '--format', 'markdown'], log);
  assert.equal(md.status, 1, md.stderr);
  assert.ok(Buffer.byteLength(md.stdout) <= 60_000, `${Buffer.byteLength(md.stdout)} bytes`);
  const left = /_(\d+) more distinct denials left out to fit one comment/.exec(md.stdout);
  assert.ok(left, md.stdout.slice(-400));
  const shown = (md.stdout.match(/^- \*\*/gm) ?? []).length;
  assert.equal(shown + Number(left[1]), 3000);
  const json = JSON.parse(cli(['explain', '-', '--spec', TINY, '--format', 'json'], log).stdout);
  assert.equal(json.denials.length, 3000);
});

test('explain --policy: each denial decided again by the policy the host runs', () => {
  withTempDir((dir) => {
    const out = join(dir, 'out');
    const built = cli(['compile', TINY, '--mode', 'standalone', '-o', out]);
    assert.equal(built.status, 0, built.stderr);
    const log = [tinyLine('map_read', 'tinyvmi_t', 'ubuntu_t', 'mmu'), tinyLine('gettsc', 'tinyvmi_t', 'ubuntu_t', 'domain2'), tinyLine('gettsc', 'tinyvmi_t', 'nosuch_t', 'domain2')].join('\n');
    const r = cli(['explain', '-', '--spec', TINY, '--policy', join(out, 'policy.conf'), '--format', 'json'], log);
    assert.equal(r.status, 1, r.stderr);
    const byKey = new Map((JSON.parse(r.stdout).denials as { object: { type: string }; permission: string; deployed: string }[]).map((d) => [`${d.object.type} ${d.permission}`, d.deployed]));
    // The spec grants map_read and the compiled policy allows it: the log predates that policy.
    assert.equal(byKey.get('ubuntu_t map_read'), 'allowed');
    assert.equal(byKey.get('ubuntu_t gettsc'), 'te');
    assert.equal(byKey.get('nosuch_t gettsc'), 'unknown');
    const text = cli(['explain', '-', '--spec', TINY, '--policy', join(out, 'policy.conf')], log);
    assert.match(text.stdout, /the deployed policy allows it now/);
    assert.match(text.stdout, /the deployed policy denies it too: no allow rule grants it/);
    const missing = cli(['explain', '-', '--spec', TINY, '--policy', join(dir, 'none.conf'), '--format', 'json'], log);
    assert.equal(missing.status, 2);
    assert.equal(JSON.parse(missing.stdout).ok, false);
  });
});
