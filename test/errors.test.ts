// Bad specs: each error is asserted by its stable code and its position (line:column of
// the span's start), never by wording. One run must report every error, not the first.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderDiagnostic } from '../report/diagnostics.js';
import { positionAt, type Diagnostic } from '../compiler/index.js';
import { compileText } from './support/env.js';
import { MINIMAL_SPEC } from './support/specs.js';

const VALID = MINIMAL_SPEC;

type Expected = readonly [code: string, line: number, column: number];

function codes(text: string, options = {}): { found: Expected[]; diagnostics: readonly Diagnostic[] } {
  const r = compileText(text, options);
  const found = r.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d): Expected => {
      const p = r.source && d.span ? positionAt(r.source, d.span.start) : { line: 0, column: 0 };
      return [d.code, p.line, p.column];
    });
  if (found.length) assert.equal(r.artifacts, undefined, 'no artifacts when there are errors');
  return { found, diagnostics: r.diagnostics };
}

function expectErrors(text: string, expected: readonly Expected[], options = {}): readonly Diagnostic[] {
  const { found, diagnostics } = codes(text, options);
  assert.deepEqual(found, expected);
  // Notes (VP2005: a bare branch means its first release) are tested on their own.
  return diagnostics.filter((d) => d.severity !== 'info');
}

describe('spec errors: code and position', () => {
  it('the valid base spec compiles without errors', () => {
    expectErrors(VALID, []);
  });

  it('unknown field, with the nearest allowed one', () => {
    const ds = expectErrors(VALID.replace('    guest: pv\n', '    guest: pv\n    capabilites: [pause]\n'), [
      ['VP1101', 8, 5],
    ]);
    assert.match(ds[0]?.help ?? '', /"capabilities"/);
  });

  it('wrong types and missing fields', () => {
    expectErrors(VALID.replace('targets: [web]', 'targets: web').replace('  - name: web\n    guest: hvm\n', '  - name: web\n'), [
      ['VP1102', 8, 14],
      ['VP1103', 11, 5],
    ]);
  });

  it('unknown capability, with the nearest name', () => {
    const ds = expectErrors(VALID.replace('read-memory]', 'read-memroy]'), [['VP1207', 9, 33]]);
    assert.match(ds[0]?.help ?? '', /did you mean "read-memory"\?/);
  });

  it('unknown target, with the nearest name', () => {
    const ds = expectErrors(VALID.replace('targets: [web]', 'targets: [wbe]'), [['VP1204', 8, 15]]);
    assert.match(ds[0]?.help ?? '', /"web"/);
  });

  it('an introspector targeting itself', () => {
    expectErrors(VALID.replace('targets: [web]', 'targets: [web, mon]'), [['VP1205', 8, 20]]);
  });

  it('duplicate domain names and types', () => {
    const text = VALID + '  - name: web\n    guest: pv\n  - name: db\n    type: mon_t\n    guest: pv\n';
    expectErrors(text, [
      ['VP1202', 13, 11],
      ['VP1203', 16, 11],
    ]);
  });

  it('a domain both introspector and target', () => {
    expectErrors(VALID + '  - name: mon\n    guest: pv\n', [['VP1214', 13, 11]]);
  });

  it("a type that is one of Xen's built-in types", () => {
    expectErrors(VALID.replace('    guest: hvm\n', '    type: domU_t\n    guest: hvm\n'), [['VP1206', 12, 11]]);
    expectErrors(VALID.replace('  - name: mon\n', '  - name: mon\n    type: dom0_t\n'), [['VP1206', 7, 11]]);
  });

  it('a capability the target guest kind cannot support', () => {
    const ds = expectErrors(VALID.replace('read-memory]', 'read-memory, memory-events]').replace('    guest: hvm\n', '    guest: pv\n'), [['VP1208', 9, 46]]);
    assert.match(ds[0]?.message ?? '', /PV target "web"/);
  });

  it('altp2m on a PV target (a PVH target has altp2m: do_altp2m_op tests is_hvm_domain)', () => {
    expectErrors(VALID.replace('read-memory]', 'altp2m]').replace('    guest: hvm\n', '    guest: pv\n'), [['VP1208', 9, 33]]);
    expectErrors(VALID.replace('read-memory]', 'altp2m]').replace('    guest: hvm\n', '    guest: pvh\n'), []);
  });

  it('a PVH guest on a Xen release without PVH domUs', () => {
    expectErrors(VALID.replace('"4.19.6"', '"4.9"').replace('    guest: hvm\n', '    guest: pvh\n'), [['VP1209', 12, 12]]);
    expectErrors(VALID.replace('"4.19.6"', '"4.10"').replace('    guest: hvm\n', '    guest: pvh\n'), []);
  });

  it('a capability without its prerequisite', () => {
    const ds = expectErrors(VALID.replace('[domain-info, read-memory]', '[read-memory]'), [['VP1210', 9, 20]]);
    assert.match(ds[0]?.help ?? '', /add domain-info/);
  });

  it('one missing prerequisite is one error, naming every capability that needs it', () => {
    const ds = expectErrors(VALID.replace('[domain-info, read-memory]', '[read-memory, read-registers, pause]'), [['VP1210', 9, 20]]);
    assert.equal(ds[0]?.message, 'read-memory, read-registers and pause need domain-info, which introspector "mon" does not declare');
  });

  it('a target entry that is wrong is one error, not also "not a declared target" where it is watched', () => {
    const ds = expectErrors(VALID.replace('  - name: web\n    guest: hvm\n', '  - name: web\n    guest: HVM\n'), [['VP1104', 12, 12]]);
    assert.match(ds[0]?.help ?? '', /did you mean "hvm"/);
  });

  it('an unsupported Xen release, and YAML\'s 4.10 read as a number', () => {
    expectErrors(VALID.replace('"4.19.6"', '"4.7"'), [['VP1201', 2, 6]]);
    expectErrors(VALID.replace('"4.19.6"', '4.10'), []);
    expectErrors(VALID, [['VP1201', 0, 0]], { xen: '5.0' });
  });

  it('a module named like one of Xen\'s stock modules', () => {
    expectErrors(VALID.replace('module: vmi', 'module: xen'), [['VP1211', 4, 11]]);
  });

  it('unsafe names: shell and policy metacharacters', () => {
    expectErrors(VALID.replace('  - name: web', '  - name: "web;reboot"').replace('[web]', '["web;reboot"]'), [
      ['VP1105', 8, 15],
      ['VP1105', 11, 11],
    ]);
    expectErrors(VALID.replace('module: vmi', 'module: "vmi\\nallow"'), [['VP1105', 4, 11]]);
    expectErrors(VALID.replace('  - name: mon\n', '  - name: mon\n    type: "mon_t; allow x y:z *"\n'), [['VP1105', 7, 11]]);
  });

  it('reserved domain names', () => {
    expectErrors(VALID.replace('  - name: web', '  - name: "42"').replace('[web]', '["42"]'), [['VP1211', 11, 11]]);
    expectErrors(VALID.replace('  - name: web', '  - name: Domain-0').replace('[web]', '[Domain-0]'), [['VP1211', 11, 11]]);
  });

  it('duplicate list entries and duplicate keys', () => {
    expectErrors(VALID.replace('[domain-info, read-memory]', '[domain-info, read-memory, domain-info]'), [['VP1213', 9, 46]]);
    expectErrors(VALID.replace('xen: "4.19.6"\n', 'xen: "4.19.6"\nxen: "4.17"\n'), [['VP1011', 3, 1]]);
  });

  it('every error in one run', () => {
    const text = VALID.replace('"4.19.6"', '"3.0"').replace('[web]', '[nope]').replace('read-memory]', 'read-mem]').replace('module: vmi', 'module: Bad');
    const { found } = codes(text);
    assert.deepEqual(found.map((f) => f[0]).sort(), ['VP1105', 'VP1201', 'VP1204', 'VP1207']);
  });

  it('YAML syntax errors, anchors and aliases, several documents, an empty file', () => {
    assert.equal(codes('introspectors: [\n').found[0]?.[0], 'VP1010');
    assert.equal(codes(VALID.replace('  - name: web\n    guest: hvm\n', '  - &t\n    name: web\n    guest: hvm\n  - *t\n')).found[0]?.[0], 'VP1012');
    assert.equal(codes(VALID + '---\nvmipolicy: 1\n').found[0]?.[0], 'VP1013');
    assert.deepEqual(codes('').found, [['VP1014', 1, 1]]);
    assert.deepEqual(codes('# only a comment\n').found, [['VP1014', 1, 1]]);
  });

  it('a warning about an introspector is said once, naming its targets', () => {
    const many = VALID.replace('    guest: pv\n', '    guest: hvm\n').replace('targets: [web]', 'targets: [web, db, mail]')
      .replace('targets:\n  - name: web\n    guest: hvm\n', 'targets:\n  - name: web\n    guest: hvm\n  - name: db\n    guest: hvm\n  - name: mail\n    guest: hvm\n');
    const r = compileText(many);
    const warnings = r.diagnostics.filter((d) => d.code === 'VP2001');
    assert.equal(warnings.length, 1, r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
    assert.match(warnings[0]?.message ?? '', /^mon is an HVM introspector: Xen demands mmu:map_write on "web", "db" and "mail" for every foreign map/);
  });

  it('a tab as indentation is one error at the tab, shown as → in the code frame', () => {
    const text = VALID.replace('    targets: [web]\n', '\ttargets: [web]\n');
    const ds = expectErrors(text, [['VP1016', 8, 1]]);
    const frame = renderDiagnostic(ds[0] as Diagnostic, compileText(text).source);
    assert.match(frame, /^ {5}8 \| →targets: \[web\]$/m);
    assert.match(frame, /^ {7}\| \^$/m);
    assert.match(frame, /help: replace the tab \(shown as →\) with spaces/);
  });

  it('warnings do not stop compilation', () => {
    const r = compileText(VALID.replace('    guest: pv\n', '    guest: hvm\n'));
    assert.ok(r.artifacts);
    assert.deepEqual(r.diagnostics.map((d) => d.code), ['VP2001']);
  });
});
