// The policy-language parser: Xen's stock policies of three releases parse without a
// diagnostic into an AST whose counts match grep; positions map back through m4's #line
// markers; errors are positioned and recovered from; no input makes it throw; and what
// it accepts or rejects is what checkpolicy -t Xen accepts or rejects.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  LineMap,
  MAX_MARKER_LINE,
  MAX_LINE_BYTES,
  MAX_NESTING,
  parsePolicy,
  type AvRule,
  type Conditional,
  type Constrain,
  type NameSet,
  type ParsedPolicy,
  type Statement,
} from '../policy/grammar/index.js';
import { CORPUS_RELEASES, requires, sharedPath } from './support/env.js';
import { checkpolicy, withTempDir } from './support/oracles.js';
import {
  allStatements,
  countKind,
  EXTENDED_MLS_SLOTS,
  EXTENDED_SLOTS,
  grepCount,
  minimalMlsPolicy,
  minimalPolicy,
  withoutComments,
} from './support/policies.js';

const RANDOM_RUNS = Number(process.env.VMIPOLICY_RANDOM_RUNS ?? 200);

function parse(text: string, file = 'test.conf'): ParsedPolicy {
  return parsePolicy(file, text);
}

/** Parses text that must be valid, and returns its statements. */
function parseClean(text: string): readonly Statement[] {
  const r = parse(text);
  assert.deepEqual(r.diagnostics, [], `unexpected diagnostics for:\n${text}`);
  return r.ast.statements;
}

/** The statement type whose `kind` can be K (AvRule for 'allow', …). */
type StatementOf<K extends Statement['kind']> = Statement extends infer S ? (S extends { readonly kind: infer SK } ? (K extends SK ? S : never) : never) : never;

function only<K extends Statement['kind']>(text: string, kind: K): StatementOf<K> {
  const statements = parseClean(text);
  assert.equal(statements.length, 1, `one statement expected in: ${text}`);
  const [s] = statements;
  assert.equal(s?.kind, kind);
  return s as StatementOf<K>;
}

/** A constraint expression as text, with parentheses around and/or. */
function showConstraint(e: Constrain['expr']): string {
  switch (e.op) {
    case 'not':
      return `not ${showConstraint(e.operand)}`;
    case 'and':
    case 'or':
      return `(${showConstraint(e.left)} ${e.op} ${showConstraint(e.right)})`;
    default:
      return `${e.left} ${e.op} ${typeof e.right === 'string' ? e.right : show(e.right)}`;
  }
}

/** A name set as `~{ a -b }`-like text, to compare sets compactly. */
function show(set: NameSet): string {
  if (set.star) return '*';
  const names = set.names.map((n) => (n.excluded ? `-${n.name}` : n.name)).join(' ');
  return `${set.complement ? '~' : ''}{${names}}`;
}

function corpusPolicy(release: string): string {
  return readFileSync(sharedPath('corpus', `xen-${release}`, 'policy.conf'), 'utf8');
}

describe('Xen stock policies parse into a populated AST', () => {
  for (const release of CORPUS_RELEASES) {
    it(`xen-${release}/policy.conf: no diagnostics, and the counts grep finds`, (t) => {
      if (!requires(t, { shared: true })) return;
      const text = corpusPolicy(release);
      const { ast, diagnostics } = parse(text, 'policy.conf');
      assert.deepEqual(diagnostics, []);
      const code = withoutComments(text);
      const expect = (kind: Statement['kind'], pattern: RegExp): void => {
        const expected = grepCount(code, pattern);
        assert.ok(expected > 0 || kind === 'role-allow', `grep finds no ${kind}`);
        assert.equal(countKind(ast, kind), expected, kind);
      };
      expect('allow', /^\s*allow\s[^;]*:/gm);
      expect('role-allow', /^\s*allow\s[^;:]*;/gm);
      expect('neverallow', /^\s*neverallow\s/gm);
      expect('dontaudit', /^\s*dontaudit\s/gm);
      expect('auditallow', /^\s*auditallow\s/gm);
      expect('type_transition', /^\s*type_transition\s/gm);
      expect('type', /^\s*type\s/gm);
      expect('attribute', /^\s*attribute\s/gm);
      expect('bool', /^\s*bool\s/gm);
      expect('role', /^\s*role\s/gm);
      expect('user', /^\s*user\s/gm);
      expect('constrain', /^\s*constrain\s/gm);
      expect('if', /^\s*if\s/gm);
      expect('sid-decl', /^\s*sid\s+\S+\s*$/gm);
      expect('sid-context', /^\s*sid\s+\S+\s+\S+:/gm);
      expect('access-vector', /^\s*class\s+\S+\s*(?:\{|inherits\s)/gm);
      assert.equal(countKind(ast, 'class-decl') + countKind(ast, 'access-vector'), grepCount(code, /^\s*class\s/gm));
      // Populated, not just counted: every AV rule has all four parts.
      for (const rule of allStatements(ast).filter((s): s is AvRule => s.kind === 'allow')) {
        assert.ok(rule.sources.names.length > 0 || rule.sources.star, JSON.stringify(rule));
        assert.ok(rule.perms.names.length > 0 || rule.perms.star, JSON.stringify(rule));
      }
    });
  }
});

describe('LineMap: positions in the files m4 read', () => {
  it('a rule from modules/domU.te maps to the line of domU.te that produced it (4.22)', (t) => {
    if (!requires(t, { shared: true })) return;
    const { ast, lines } = parse(corpusPolicy('4.22'), 'policy.conf');
    const domU = readFileSync(sharedPath('corpus', 'xen-4.22', 'src', 'tools', 'flask', 'policy', 'modules', 'domU.te'), 'utf8').split('\n');
    const fromDomU = ast.statements.filter((s) => lines.locate(s.span.start).file === 'modules/domU.te');
    const firstAllow = fromDomU.find((s) => s.kind === 'allow');
    assert.ok(firstAllow, 'an allow rule from modules/domU.te');
    const where = lines.locate(firstAllow.span.start);
    const source = domU[where.line - 1] ?? '';
    // The expansion of a macro call: the line names the macro and domU_t, as declare_domain(domU_t) does.
    assert.match(source, /^\s*[a-z_]+\(.*\bdomU_t\b.*\)/, `modules/domU.te:${where.line} is "${source}"`);
    assert.ok(where.line < lines.physical(firstAllow.span.start).line, 'an original line, not policy.conf\'s');
    // A statement written out in the module maps to its own text.
    const role = fromDomU.find((s) => s.kind === 'role');
    assert.ok(role);
    assert.match(domU[lines.locate(role.span.start).line - 1] ?? '', /^role system_r types \{ domU_t dm_dom_t \};/);
  });

  it('every statement from a module maps to a line of that module with text on it (4.22)', (t) => {
    if (!requires(t, { shared: true })) return;
    const { ast, lines } = parse(corpusPolicy('4.22'), 'policy.conf');
    const root = sharedPath('corpus', 'xen-4.22', 'src', 'tools', 'flask', 'policy');
    const files = new Map<string, string[]>();
    let checked = 0;
    for (const s of allStatements(ast)) {
      const { file, line } = lines.locate(s.span.start);
      if (!file.startsWith('modules/')) continue;
      const text = files.get(file) ?? readFileSync(`${root}/${file}`, 'utf8').split('\n');
      files.set(file, text);
      const source = (text[line - 1] ?? '').replace(/#.*/, '').trim();
      assert.notEqual(source, '', `${s.kind} at ${file}:${line}`);
      checked++;
    }
    assert.ok(checked > 300, `${checked} statements checked`);
  });

  it('reads #line N "file" and #line N; text before the first marker is the parsed file\'s', () => {
    const text = ['type a;', '#line 10 "x.te"', 'type b;', '', 'type c;', '#line 3', 'type d;', '#line 7 "y.te"', 'type e;'].join('\n');
    const { ast, lines, diagnostics } = parse(text, 'p.conf');
    assert.deepEqual(diagnostics, []);
    const where = ast.statements.map((s) => lines.locate(s.span.start));
    assert.deepEqual(
      where.map(({ file, line }) => `${file}:${line}`),
      ['p.conf:1', 'x.te:10', 'x.te:12', 'x.te:3', 'y.te:7'],
    );
    assert.deepEqual(lines.physical(ast.statements[4]?.span.start ?? 0), { file: 'p.conf', line: 9, column: 1 });
    assert.equal(lines.locate(text.indexOf('b;')).column, 6);
  });

  it('malformed markers are VP3004 and ignored; #lineage is a comment', () => {
    const text = '#line ten "x.te"\ntype a;\n#lineage of a type\n#line 5 "unterminated\ntype b;\n';
    const map = new LineMap('p.conf', text);
    assert.deepEqual(map.diagnostics.map((d) => [d.code, d.span?.start]), [['VP3004', 0], ['VP3004', text.indexOf('#line 5')]]);
    assert.deepEqual(map.locate(text.indexOf('type b')), { file: 'p.conf', line: 5, column: 1 });
  });

  it('a marker\'s line is an integer from 1 to 2^31-1: a huge or zero one is VP3004, never 1e+23', () => {
    const huge = '#line 99999999999999999999999 "x.te"\ntype a;\n#line 0 "y.te"\ntype b;\n';
    const map = new LineMap('p.conf', huge);
    assert.deepEqual(map.diagnostics.map((d) => [d.code, d.help]), [['VP3004', `the line number must be from 1 to ${MAX_MARKER_LINE}`], ['VP3004', `the line number must be from 1 to ${MAX_MARKER_LINE}`]]);
    assert.deepEqual([map.locate(huge.indexOf('type a')), map.locate(huge.indexOf('type b'))], [{ file: 'p.conf', line: 2, column: 1 }, { file: 'p.conf', line: 4, column: 1 }]);
    const highest = `#line ${MAX_MARKER_LINE} "x.te"\ntype a;\n\ntype b;\n`;
    const ok = new LineMap('p.conf', highest);
    assert.deepEqual(ok.diagnostics, []);
    assert.deepEqual(ok.locate(highest.indexOf('type b')), { file: 'x.te', line: MAX_MARKER_LINE + 2, column: 1 });
  });

  it('any marker digits: every located line is a safe positive integer', () => {
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String), fc.stringMatching(/^0[0-9]{0,3}$/)), fc.nat({ max: 5 }), (digits, after) => {
        const text = `#line ${digits} "x.te"\n${'type a;\n'.repeat(after + 1)}`;
        const position = new LineMap('p.conf', text).locate(text.length - 1);
        assert.ok(Number.isSafeInteger(position.line) && position.line >= 1, `${digits}: ${position.line}`);
      }),
    );
  });

  it('a file name with a control character is VP3004, shown escaped; other names are kept verbatim', () => {
    const text = '#line 3 "evil\u001b]0;owned\u0007.te"\ntype a;\n#line 4 "dir/ sp€ce.te"\ntype b;\n';
    const map = new LineMap('p.conf', text);
    assert.deepEqual(map.diagnostics.map((d) => d.code), ['VP3004']);
    const message = map.diagnostics[0]?.message ?? '';
    assert.ok(!/[\u0000-\u001f\u007f]/.test(message), JSON.stringify(message));
    assert.match(message, /evil\\u001b\]0;owned\\u0007\.te/);
    assert.deepEqual(map.locate(text.indexOf('type a')), { file: 'p.conf', line: 2, column: 1 });
    assert.deepEqual(map.locate(text.indexOf('type b')), { file: 'dir/ sp€ce.te', line: 4, column: 1 });
  });
});

describe('errors: positioned, recovered from', () => {
  it('three independent syntax errors: three diagnostics on their lines, and the rest parsed', () => {
    const text = [
      'type a_t;', //                    1
      'allow a_t b_t:domain { create', // 2: no closing brace
      'type c_t;', //                    3
      'allow a_t c_t domain create;', //  4: no colon
      'attribute d;', //                 5
      'type e_t alias;', //              6: no alias name
      'type f_t;', //                    7
      'allow a_t f_t:domain create;', // 8
    ].join('\n');
    const { ast, lines, diagnostics } = parse(text);
    const errors = diagnostics.map((d) => [d.code, lines.physical(d.span?.start ?? -1).line]);
    assert.ok(diagnostics.length >= 3, JSON.stringify(diagnostics));
    for (const line of [3, 4, 6]) assert.ok(errors.some(([code, l]) => code === 'VP3001' && l === line), `an error on line ${line}: ${JSON.stringify(errors)}`);
    assert.ok(errors.every(([code]) => code === 'VP3001'));
    const names = ast.statements.map((s) => `${s.kind}:${lines.physical(s.span.start).line}`);
    for (const expected of ['type:1', 'type:3', 'attribute:5', 'type:7', 'allow:8']) assert.ok(names.includes(expected), `${expected} in ${names.join(' ')}`);
  });

  it('each kind of problem has its code and a span on the offending text', () => {
    const cases: [string, string, string][] = [
      ['VP3002', 'type a;\ntype b@;\n', '@'],
      ['VP3003', 'type_transition a b:c d "name;\n', '"name;'],
      ['VP3005', 'if (b) { neverallow a b:c d; }\n', 'neverallow a b:c d;'],
      ['VP3005', 'if (b) { type t; }\n', 'type t;'],
      ['VP3001', 'genfscon proc / u:r:t\ntype a;\n', 'genfscon'],
      ['VP3001', 'tunable tb true;\ntype a;\n', 'tunable'],
      ['VP3001', 'require { type a; }\ntype a;\n', 'require'],
      ['VP3001', 'type target;\n', 'target'],
      ['VP3001', 'Allow a b:c d;\n', 'Allow'],
      ['VP3002', 'type a;\r\n', '\r'],
    ];
    for (const [code, text, at] of cases) {
      const { diagnostics } = parse(text);
      const hit = diagnostics.find((d) => d.code === code);
      assert.ok(hit?.span, `${code} for ${JSON.stringify(text)}: ${JSON.stringify(diagnostics)}`);
      assert.equal(text.slice(hit.span.start, hit.span.end), at, JSON.stringify(text));
    }
  });

  it('sections out of checkpolicy\'s order are errors; a lone module is not', () => {
    const misplaced = parse(minimalPolicy({ constraints: 'type late_t;' }));
    assert.deepEqual(misplaced.diagnostics.map((d) => d.code), ['VP3001']);
    assert.match(misplaced.diagnostics[0]?.message ?? '', /a type declaration cannot follow a user declaration/);
    parseClean('type x_t, domain_type;\nallow x_t self:domain create;\nrole system_r types x_t;\n');
  });

  it('nesting beyond the limit is refused, not a stack overflow', () => {
    const deep = `if ${'('.repeat(MAX_NESTING + 1)}a${')'.repeat(MAX_NESTING + 1)} { }`;
    assert.deepEqual(parse(deep).diagnostics.map((d) => d.code), ['VP3001']);
    const atLimit = `constrain a b ${'('.repeat(MAX_NESTING - 1)}u1 == u2${')'.repeat(MAX_NESTING - 1)};`;
    assert.equal(parseClean(atLimit).length, 1);
    assert.equal(parse(`if ${'! '.repeat(5000)}a { }`).diagnostics.length, 1);
  });

  it('a line checkpolicy cannot read (YYLMAX) is an error', () => {
    const line = (n: number): string => `allow a b:c d; #${'x'.repeat(n - 16)}`;
    assert.deepEqual(parse(`type a;\n${line(MAX_LINE_BYTES)}\n`).diagnostics, []);
    assert.deepEqual(parse(`type a;\n${line(MAX_LINE_BYTES + 1)}\n`).diagnostics.map((d) => d.code), ['VP3001']);
  });
});

describe('never throws', () => {
  const pieces = [
    'allow', 'auditallow', 'dontaudit', 'neverallow', 'type', 'types', 'attribute', 'role', 'roles', 'user', 'if', 'else',
    'class', 'sid', 'common', 'inherits', 'constrain', 'mlsconstrain', 'validatetrans', 'u1', 'u2', 'r1', 'r2', 't1', 't2',
    'l1', 'h2', 'dom', 'eq', '==', '!=', '&&', '||', '^', '!', 'not', 'and', 'or', 'sameuser', 'source', 'target', '{', '}',
    '(', ')', ';', ':', ',', '-', '~', '*', 'a', 'b_t', 'self', 'c0.c255', 's0', '0x1f', '12', '"name"', '"/p"', '/x/y',
    '"unterminated', '#line 3 "x"', '\n#line 3 "x"\n', '#line', '# c', '\n', '\r\n', ' ', 'pirqcon', 'iomemcon', 'ioportcon',
    'pcidevicecon', 'devicetreecon', 'genfscon', 'require', 'optional', 'typebounds', 'level', 'range', 'alias',
    'sensitivity', 'dominance', 'category', 'policycap', 'bool', 'true', 'false', 'type_transition', 'type_change',
    'role_transition', 'typeattribute', 'typealias', '\u0000', 'é', '_x', '3com',
  ];
  const soup = fc.array(fc.constantFrom(...pieces), { maxLength: 60 }).map((a) => a.join(' '));

  function wellFormed(text: string): void {
    const { ast, lines, diagnostics } = parse(text);
    for (const d of diagnostics) {
      assert.ok(d.span, `${d.code} has a span`);
      assert.ok(Number.isInteger(d.span.start) && Number.isInteger(d.span.end), JSON.stringify(d));
      assert.ok(d.span.start >= 0 && d.span.start <= d.span.end && d.span.end <= text.length, JSON.stringify(d));
      lines.locate(d.span.start);
    }
    for (const s of ast.statements) assert.ok(s.span.start >= 0 && s.span.end <= text.length && s.span.start < s.span.end);
  }

  it('token soup', () => {
    fc.assert(fc.property(soup, wellFormed), { numRuns: RANDOM_RUNS * 10 });
  });

  it('random strings and bytes', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), wellFormed), { numRuns: RANDOM_RUNS * 5 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => wellFormed(Buffer.from(bytes).toString('latin1'))), { numRuns: RANDOM_RUNS * 5 });
  });

  it('valid statements with one token deleted or duplicated', () => {
    const valid = minimalPolicy({
      te: 'allow xen_t { dt -b_t }:xen { settime };\nif (bb && !bb) { allow xen_t b_t:xen settime; } else { dontaudit xen_t b_t:xen settime; }\ntype_transition xen_t b_t:domain b_t "obj";',
      constraints: 'constrain xen settime (u1 == u2 or not t1 == { xen_t });',
      devices: 'iomemcon 0x1-0x2 system_u:system_r:b_t',
    });
    const words = valid.split(/(\s+)/);
    fc.assert(
      fc.property(fc.nat(words.length - 1), fc.boolean(), (i, duplicate) => {
        const mutated = [...words.slice(0, i), ...(duplicate ? [words[i] ?? '', ' ', words[i] ?? ''] : []), ...words.slice(i + 1)].join('');
        wellFormed(mutated);
      }),
      { numRuns: RANDOM_RUNS * 2 },
    );
  });
});

describe('the language, statement by statement', () => {
  it('name sets: ~, *, -exclusion, a - b, nested braces, self', () => {
    const rule = only('neverallow { a_t { b_t -c_t } } ~{ d_t e_t }:xen ~settime;', 'neverallow');
    assert.deepEqual([show(rule.sources), show(rule.targets), show(rule.classes), show(rule.perms)], ['{a_t b_t -c_t}', '~{d_t e_t}', '{xen}', '~{settime}']);
    assert.deepEqual([show(only('neverallow * *:xen *;', 'neverallow').sources), show(only('allow a_t b_t:xen *;', 'allow').perms)], ['*', '*']);
    const minus = only('neverallow domain_type - dom0_t self:mmu map_write;', 'neverallow');
    assert.equal(show(minus.sources), '{domain_type -dom0_t}');
    assert.equal(show(minus.targets), '{self}');
    // `a-b` without spaces is one name, as in checkpolicy's scanner.
    assert.equal(show(only('allow a-b c:d e;', 'allow').sources), '{a-b}');
  });

  it('allow between roles and allow between types', () => {
    const [role, av] = parseClean('allow system_r { vm_r -x_r };\nallow system_r vm_r:domain create;');
    assert.equal(role?.kind, 'role-allow');
    assert.equal(av?.kind, 'allow');
    if (role?.kind === 'role-allow') assert.equal(show(role.targets), '{vm_r -x_r}');
  });

  it('type rules, with and without an object name', () => {
    const named = only('type_transition dom0_t domU_t:event domU_t_channel "a name";', 'type_transition');
    assert.equal(named.objectName, 'a name');
    assert.equal(named.result.name, 'domU_t_channel');
    assert.equal(only('type_member a b:c d;', 'type_member').objectName, undefined);
    assert.equal(parse('type_change a b:c d "x";').diagnostics[0]?.code, 'VP3001');
    assert.equal(parse('type_transition a b:c d "x/y";').diagnostics[0]?.code, 'VP3001');
  });

  it('if blocks: else branch, precedence of ! && ^ || ==', () => {
    const cond = only('if (a || b ^ c && !d == e) { allow x y:z p; } else { dontaudit x y:z p; type_transition x y:z t; }', 'if') as Conditional;
    const text = (e: Conditional['condition']): string =>
      e.op === 'var' ? e.name.name : e.op === 'not' ? `!${text(e.operand)}` : `(${text(e.left)} ${e.op} ${text(e.right)})`;
    // checkpolicy's yacc precedence: || < ^ < && < ! < ==, so `!d == e` is `!(d == e)`.
    assert.equal(text(cond.condition), '(a || (b ^ (c && !(d == e))))');
    assert.deepEqual(cond.then.map((s) => s.kind), ['allow']);
    assert.deepEqual(cond.else.map((s) => s.kind), ['dontaudit', 'type_transition']);
    const words = only('if not a and b or c eq d { }', 'if') as Conditional;
    assert.equal(text(words.condition), '((!a && b) || (c == d))');
  });

  it('constraints: nested not/and/or, names, role dominance, the old spellings', () => {
    const c = only('constrain { event grant } ~{ bind } (not (u1 == u2 and t1 != { a_t b_t }) or r1 dom r2);', 'constrain') as Constrain;
    assert.equal(show(c.classes), '{event grant}');
    assert.equal(show(c.perms), '~{bind}');
    const text = showConstraint;
    assert.equal(text(c.expr), '(not (u1 == u2 and t1 != {a_t b_t}) or r1 dom r2)');
    const legacy = only('constrain a b sameuser or source role r or target type t or role domby;', 'constrain') as Constrain;
    assert.equal(text(legacy.expr), '(((u1 == u2 or r1 == {r}) or t2 == {t}) or r1 domby r2)');
    const mls = only('mlsconstrain domain create (h1 dom h2 and (l1 eq l2 or t1 == mls_priv));', 'mlsconstrain') as Constrain;
    assert.equal(text(mls.expr), '(h1 dom h2 and (l1 eq l2 or t1 == {mls_priv}))');
    assert.equal(only('validatetrans domain (u1 == u2);', 'validatetrans').classes.names[0]?.name, 'domain');
    // `u1 dom u2` and `u2 == u2` are not in checkpolicy's grammar.
    assert.equal(parse('constrain a b u1 dom u2;').diagnostics[0]?.code, 'VP3001');
    assert.equal(parse('constrain a b u2 == u2;').diagnostics[0]?.code, 'VP3001');
  });

  it('contexts: MLS ranges as written; users with level and range', () => {
    const sid = only('sid xen system_u:system_r:xen_t:s0 - s15:c0.c255', 'sid-context');
    assert.deepEqual([sid.name.name, sid.context.user.name, sid.context.role.name, sid.context.type.name, sid.context.range], ['xen', 'system_u', 'system_r', 'xen_t', 's0 - s15:c0.c255']);
    assert.equal(only('sid dom0 system_u:system_r:dom0_t', 'sid-context').context.range, undefined);
    const user = only('user system_u roles { system_r vm_r } level s0 range s0 - s15:c0,c3;', 'user');
    assert.deepEqual([user.level, user.range, show(user.roles)], ['s0', 's0 - s15:c0,c3', '{system_r vm_r}']);
  });

  it('classes, SIDs and access vectors: class x inherits y', () => {
    const [decl, sid, common, av, inherits, both] = parseClean(
      'class file\nsid kernel\ncommon file { read write }\nclass xen { settime }\nclass dir inherits file\nclass lnk inherits file { follow }',
    );
    assert.deepEqual([decl?.kind, sid?.kind, common?.kind, av?.kind], ['class-decl', 'sid-decl', 'common', 'access-vector']);
    assert.ok(inherits?.kind === 'access-vector' && both?.kind === 'access-vector');
    assert.deepEqual([inherits.cls.name, inherits.inherits?.name, inherits.perms.length], ['dir', 'file', 0]);
    assert.deepEqual([both.inherits?.name, both.perms.map((p) => p.name)], ['file', ['follow']]);
  });

  it('declarations: types with aliases and attributes, typeattribute, typealias, bool, role, MLS', () => {
    const type = only('type a_t alias { b_t c_t }, dt, mls_priv;', 'type');
    assert.deepEqual([type.aliases.map((n) => n.name), type.attributes.map((n) => n.name)], [['b_t', 'c_t'], ['dt', 'mls_priv']]);
    assert.deepEqual(only('typeattribute a_t x, y;', 'typeattribute').attributes.map((n) => n.name), ['x', 'y']);
    assert.deepEqual(only('typealias a_t alias z_t;', 'typealias').aliases.map((n) => n.name), ['z_t']);
    assert.equal(only('bool secure false;', 'bool').value, false);
    assert.equal(only('BOOL secure TRUE;', 'bool').value, true);
    assert.equal(show(only('role vm_r types { domain_type -dom0_t };', 'role').types ?? { star: true, complement: false, names: [], span: { file: '', start: 0, end: 0 } }), '{domain_type -dom0_t}');
    const [sens, dom, cat, level] = parseClean('sensitivity s0 alias low0;\ndominance { s0 s1 }\ncategory c0;\nlevel s0:c0.c255;');
    assert.ok(sens?.kind === 'sensitivity' && dom?.kind === 'dominance' && cat?.kind === 'category' && level?.kind === 'level');
    assert.deepEqual([sens.aliases[0]?.name, dom.order.map((n) => n.name), level.level], ['low0', ['s0', 's1'], 's0:c0.c255']);
  });

  it('Xen device contexts', () => {
    const statements = parseClean(
      'pirqcon 33 system_u:object_r:nic_dev_t\niomemcon 0xfebe0-0xfebff system_u:object_r:nic_dev_t\nioportcon 0xecc0 system_u:object_r:nic_dev_t\npcidevicecon 0xc800 system_u:object_r:nic_dev_t\ndevicetreecon /soc/uart system_u:object_r:nic_dev_t\ndevicetreecon "/a b" system_u:object_r:nic_dev_t',
    );
    assert.deepEqual(
      statements.map((s) => (s.kind === 'pirqcon' || s.kind === 'iomemcon' || s.kind === 'ioportcon' || s.kind === 'pcidevicecon' || s.kind === 'devicetreecon' ? [s.kind, s.low, s.high, s.path, s.context.type.name] : [])),
      [
        ['pirqcon', '33', undefined, undefined, 'nic_dev_t'],
        ['iomemcon', '0xfebe0', '0xfebff', undefined, 'nic_dev_t'],
        ['ioportcon', '0xecc0', undefined, undefined, 'nic_dev_t'],
        ['pcidevicecon', '0xc800', undefined, undefined, 'nic_dev_t'],
        ['devicetreecon', undefined, undefined, '/soc/uart', 'nic_dev_t'],
        ['devicetreecon', undefined, undefined, '/a b', 'nic_dev_t'],
      ],
    );
  });

  it('role attributes: attribute_role, roleattribute, role r, attr', () => {
    assert.equal(only('attribute_role vm_ra;', 'attribute_role').name.name, 'vm_ra');
    const ra = only('roleattribute vm_r vm_ra, other_ra;', 'roleattribute');
    assert.deepEqual([ra.role.name, ra.attributes.map((a) => a.name)], ['vm_r', ['vm_ra', 'other_ra']]);
    const role = only('role vm_r, vm_ra, other_ra;', 'role');
    assert.deepEqual([role.name.name, role.types, role.attributes?.map((a) => a.name)], ['vm_r', undefined, ['vm_ra', 'other_ra']]);
    assert.equal(only('role vm_r;', 'role').attributes, undefined);
  });

  it('typebounds, permissive, expandattribute', () => {
    const bounds = only('typebounds dom0_t child_t, other_t;', 'typebounds');
    assert.deepEqual([bounds.bounding.name, bounds.bounded.map((t) => t.name)], ['dom0_t', ['child_t', 'other_t']]);
    assert.equal(only('permissive domU_t;', 'permissive').type.name, 'domU_t');
    const expand = only('expandattribute { dt vt } false;', 'expandattribute');
    assert.deepEqual([show(expand.attributes), expand.value], ['{dt vt}', false]);
    assert.equal(only('EXPANDATTRIBUTE dt TRUE;', 'expandattribute').value, true);
    assert.equal(parse('typebounds a_t;').diagnostics[0]?.code, 'VP3001');
    assert.equal(parse('permissive { a_t b_t };').diagnostics[0]?.code, 'VP3001');
  });

  it('auditdeny, also inside if blocks', () => {
    const rule = only('auditdeny { dt -b_t } self:xen ~settime;', 'auditdeny');
    assert.deepEqual([show(rule.sources), show(rule.targets), show(rule.classes), show(rule.perms)], ['{dt -b_t}', '{self}', '{xen}', '~{settime}']);
    const cond = only('if (b) { auditdeny a b:c d; } else { auditdeny a b:c e; }', 'if') as Conditional;
    assert.deepEqual([...cond.then, ...cond.else].map((s) => s.kind), ['auditdeny', 'auditdeny']);
  });

  it('role_transition with and without classes; range_transition', () => {
    const rt = only('role_transition { system_r vm_r } domU_t:{ domain xen } vm_r;', 'role_transition');
    assert.deepEqual([show(rt.roles), show(rt.types), rt.classes && show(rt.classes), rt.result.name], ['{system_r vm_r}', '{domU_t}', '{domain xen}', 'vm_r']);
    assert.equal(only('role_transition system_r domU_t vm_r;', 'role_transition').classes, undefined);
    const range = only('range_transition dom0_t domU_t:domain s0 - s15:c0.c255;', 'range_transition');
    assert.deepEqual([show(range.sources), show(range.targets), range.classes && show(range.classes), range.range], ['{dom0_t}', '{domU_t}', '{domain}', 's0 - s15:c0.c255']);
    const legacy = only('range_transition a_t b_t s0;', 'range_transition');
    assert.deepEqual([legacy.classes, legacy.range], [undefined, 's0']);
  });

  it('default_user, default_role, default_type, default_range', () => {
    const [user, role, type, low, high, lowHigh, glblub] = parseClean(
      'default_user xen source;\ndefault_role { xen domain } target;\nDEFAULT_TYPE domain SOURCE;\ndefault_range xen source low;\n' +
        'default_range xen target high;\ndefault_range xen source low-high;\ndefault_range xen glblub;',
    );
    assert.ok(user?.kind === 'default_user' && role?.kind === 'default_role' && type?.kind === 'default_type');
    assert.deepEqual([user.object, show(role.classes), role.object, type.object], ['source', '{xen domain}', 'target', 'source']);
    assert.ok(low?.kind === 'default_range' && high?.kind === 'default_range' && lowHigh?.kind === 'default_range' && glblub?.kind === 'default_range');
    assert.deepEqual(
      [low, high, lowHigh, glblub].map((d) => [d.object, d.range]),
      [['source', 'low'], ['target', 'high'], ['source', 'low-high'], [undefined, 'glblub']],
    );
    assert.equal(parse('default_range xen source;').diagnostics[0]?.code, 'VP3001');
    assert.equal(parse('default_user xen low;').diagnostics[0]?.code, 'VP3001');
    // They come right after the access vectors, before any TE statement.
    assert.match(parse('type a_t;\ndefault_user xen source;').diagnostics[0]?.message ?? '', /a default_user statement cannot follow a type declaration/);
  });

  it('still not supported: tunable, xperm rules, module syntax', () => {
    for (const text of ['tunable t true;', 'allowxperm a b:c ioctl 0x1;', 'require { type a; }', 'optional { allow a b:c d; }', 'module m 1.0;']) {
      const { diagnostics } = parse(text);
      assert.equal(diagnostics[0]?.code, 'VP3001', text);
      assert.match(diagnostics[0]?.message ?? '', /not supported by vmipolicy/, text);
    }
  });

  it('keywords: lower and UPPER case only; never the start of a longer name', () => {
    const rule = only('ALLOW allow_foo types_t:classes perms;', 'allow');
    assert.deepEqual([show(rule.sources), show(rule.targets), show(rule.classes), show(rule.perms)], ['{allow_foo}', '{types_t}', '{classes}', '{perms}']);
    assert.equal(parse('type low-high;').diagnostics[0]?.code, 'VP3001');
    assert.equal(only('type low-x;', 'type').name.name, 'low-x');
  });
});

describe('checkpolicy -t Xen accepts exactly what the parser accepts', () => {
  // [description, policy, accepted]. Accepted cases are also semantically valid, so that
  // checkpolicy's verdict is about the syntax.
  const cases: [string, string, boolean][] = [
    ['sets with -, ~, *, nesting', minimalPolicy({ te: 'allow xen_t { dt { -b_t } }:xen *;\nallow xen_t self:xen ~settime;\nallow xen_t dt - b_t:xen settime;' }), true],
    ['if/else without parentheses', minimalPolicy({ te: 'if bb && !bb { allow xen_t b_t:xen settime; } else { dontaudit xen_t b_t:xen settime; }' }), true],
    ['named type_transition', minimalPolicy({ te: 'type_transition xen_t b_t:domain b_t "obj name";' }), true],
    ['upper-case keywords', minimalPolicy({ te: 'ALLOW xen_t b_t:xen settime;' }), true],
    ['role allow and stray semicolons', minimalPolicy({ te: 'allow system_r system_r;\nallow xen_t b_t:xen settime;;' }), true],
    ['aliases and attributes', minimalPolicy({ te: 'typeattribute b_t dt;\ntypealias b_t alias { b2_t b3_t };\ntype c_t alias c2_t, dt;' }), true],
    ['constraints, new and old spellings', minimalPolicy({ constraints: 'constrain xen settime (u1 == u2 and not (t1 == { xen_t b_t } or r1 dom r2));\nconstrain xen settime sameuser or source role system_r or target type b_t;' }), true],
    ['device contexts', minimalPolicy({ devices: 'pirqcon 33 system_u:system_r:b_t\niomemcon 0xfebe0-0xfebff system_u:system_r:b_t\nioportcon 0xecc0 - 0xecdf system_u:system_r:b_t\npcidevicecon 0xc800 system_u:system_r:b_t\ndevicetreecon /a/b system_u:system_r:b_t\ndevicetreecon "/a b/c" system_u:system_r:b_t' }), true],
    ['#line markers', minimalPolicy({ te: '#line 1 "m.te"\nallow xen_t b_t:xen settime;\n#line 7\nallow xen_t b_t:xen readconsole;' }), true],
    ['every statement beyond the basic set', minimalPolicy(EXTENDED_SLOTS), true],
    ['typebounds with several children, permissive', minimalPolicy({ te: 'type c_t;\ntype d_t;\ntypebounds xen_t c_t, d_t;\npermissive b_t;\npermissive xen_t;' }), true],
    ['role r, attrs; roleattribute with a list', minimalPolicy({ te: 'attribute_role ra;\nattribute_role rb;\nrole rx, ra, rb;\nrole ry;\nroleattribute ry ra, rb;\nallow ra system_r;' }), true],
    ['expandattribute of a set; auditdeny in an if block', minimalPolicy({ te: 'attribute a2;\nexpandattribute { dt a2 } true;\nif (bb) { auditdeny xen_t b_t:xen settime; } else { auditdeny xen_t b_t:xen { settime readconsole }; }' }), true],
    ['default_range glblub', minimalPolicy({ defaults: 'default_range { xen domain } glblub;' }), true],
    ['default_user among the TE statements', minimalPolicy({ te: 'default_user xen source;' }), false],
    ['default_range without low/high', minimalPolicy({ defaults: 'default_range xen source;' }), false],
    ['typebounds without a child', minimalPolicy({ te: 'typebounds xen_t;' }), false],
    ['mixed-case keyword', minimalPolicy({ te: 'Allow xen_t b_t:xen settime;' }), false],
    ['neverallow in an if block', minimalPolicy({ te: 'if (bb) { neverallow xen_t b_t:xen settime; }' }), false],
    ['empty statement in an if block', minimalPolicy({ te: 'if (bb) { ; }' }), false],
    ['reserved word as a name', minimalPolicy({ te: 'type target;' }), false],
    ['empty set', minimalPolicy({ te: 'allow xen_t b_t:xen {};' }), false],
    ['object name with a slash', minimalPolicy({ te: 'type_transition xen_t b_t:domain b_t "a/b";' }), false],
    ['dontaudit without a class', minimalPolicy({ te: 'dontaudit xen_t b_t;' }), false],
    ['type after the users', minimalPolicy({ constraints: 'type c_t;' }), false],
    ['SELinux-only genfscon', minimalPolicy({ devices: 'genfscon proc / system_u:system_r:b_t' }), false],
    ['carriage return', minimalPolicy({ te: 'allow xen_t b_t:xen settime;\r' }), false],
    ['unterminated string', minimalPolicy({ te: 'type_transition xen_t b_t:domain b_t "abc;' }), false],
    ['line over YYLMAX', minimalPolicy({ te: `allow xen_t b_t:xen settime; #${'x'.repeat(MAX_LINE_BYTES)}` }), false],
  ];

  it('the parser\'s verdicts', () => {
    for (const [what, policy, accepted] of cases) {
      const { diagnostics } = parse(policy);
      assert.equal(diagnostics.length === 0, accepted, `${what}: ${JSON.stringify(diagnostics)}`);
    }
  });

  it('checkpolicy\'s verdicts are the same', (t) => {
    if (!requires(t, { commands: ['checkpolicy'] })) return;
    withTempDir((dir) => {
      for (const [what, policy, accepted] of cases) {
        const r = checkpolicy(dir, policy);
        assert.equal(r.ok, accepted, `${what}: ${r.output}`);
      }
    });
  });

  it('MLS statements (checkpolicy -M): range_transition and default_range', (t) => {
    const mls: [string, string, boolean][] = [
      ['range_transition with classes, default_range', minimalMlsPolicy(EXTENDED_MLS_SLOTS), true],
      ['range_transition without a range', minimalMlsPolicy({ te: 'range_transition xen_t b_t:domain;' }), false],
    ];
    for (const [what, policy, accepted] of mls) assert.equal(parse(policy).diagnostics.length === 0, accepted, what);
    if (!requires(t, { commands: ['checkpolicy'] })) return;
    withTempDir((dir) => {
      for (const [what, policy, accepted] of mls) {
        const r = checkpolicy(dir, policy, { mls: true });
        assert.equal(r.ok, accepted, `${what}: ${r.output}`);
      }
    });
  });

  it('random edits of a valid policy: accepted by both, or a syntax error for both', (t) => {
    if (!requires(t, { commands: ['checkpolicy'] })) return;
    const valid = minimalPolicy({
      te: [
        'allow xen_t { dt -b_t }:xen { settime };',
        'if (bb && !bb) { allow xen_t b_t:xen settime; } else { dontaudit xen_t b_t:xen settime; }',
        'type_transition xen_t b_t:domain b_t "obj";',
        'allow system_r system_r;',
        'type c_t alias { c2_t }, dt;',
      ].join('\n'),
      constraints: 'constrain xen settime (u1 == u2 or not t1 == { xen_t });\nconstrain domain create r1 dom r2 and t2 != b_t;',
      devices: 'iomemcon 0x1-0x2 system_u:system_r:b_t\npirqcon 3 system_u:system_r:b_t',
    });
    const words = valid.split(/(\s+)/);
    const inserts = ['{', '}', ';', ':', ',', '-', '~', '*', '(', ')', 'allow', 'type', 'if', 'else', 'not', '==', 'self', 'xen_t', '"x"', 'role', 'u1', 'sid', '&&', '!'];
    const edit = fc.tuple(fc.nat(), fc.constantFrom('delete', 'duplicate', 'insert'), fc.constantFrom(...inserts));
    withTempDir((dir) => {
      fc.assert(
        fc.property(fc.array(edit, { minLength: 1, maxLength: 2 }), (edits) => {
          const w = [...words];
          for (const [at, op, token] of edits) {
            const i = at % w.length;
            if (op === 'delete') w.splice(i, 1);
            else if (op === 'duplicate') w.splice(i, 0, w[i] ?? '', ' ');
            else w.splice(i, 0, ' ', token, ' ');
          }
          const policy = w.join('');
          const ours = parse(policy).diagnostics;
          const theirs = checkpolicy(dir, policy);
          // checkpolicy stops at its first error; a semantic one (a duplicate declaration…) says nothing about the syntax.
          const syntax = /syntax error|unrecognized character|exceeds YYLMAX/.test(theirs.output);
          // Warnings are ours to give on what checkpolicy accepts; errors must agree.
          const errors = ours.filter((d) => d.severity === 'error');
          if (theirs.ok) assert.deepEqual(errors, [], policy);
          else if (syntax) assert.ok(errors.length > 0, `checkpolicy: ${theirs.output}\n${policy}`);
        }),
        { numRuns: RANDOM_RUNS },
      );
    });
  });
});
