// No dead exports: every export of the product folders is used by another file (tests, bench,
// cli, api and tools included), is re-exported by a library entry point (compiler/index.ts,
// api/index.ts), or is named in PUBLIC_SURFACE below. An export only its own file uses should
// lose its `export`; one nothing uses should go. Read with the TypeScript compiler over the
// sources (not dist/), so a use is a resolved reference, not a matching word.

import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { repoPath } from './support/env.js';

const PRODUCT = ['core', 'catalog', 'formats', 'xenstore', 'policy', 'compiler', 'checker', 'diff', 'vmi', 'report'];
/** The library's entry points: what they export is public, and a re-export there is a use. */
const ENTRIES = ['compiler/index.ts', 'api/index.ts'];

/**
 * Exports no other file imports that stay exported: the types a public result is built of,
 * which a caller may want to name. `file: name`, as the failure lists them.
 */
const PUBLIC_SURFACE: readonly string[] = [
  // CapabilityDef and ToolProfile (catalog), Spec (CompileResult)
  'catalog/capabilities.ts: XlSetting',
  'catalog/tools.ts: MandatoryCapability',
  'compiler/spec.ts: SpecTarget',
  // CheckReport: its findings, and the policy model and line map of LoadedPolicy
  'checker/findings.ts: Witness',
  'policy/grammar/ast.ts: Node',
  'policy/grammar/lines.ts: OriginalPosition',
  // DiffReport
  'diff/types.ts: ConditionText',
  // SelftestReport
  'vmi/selftest/selftest.ts: Expected',
  'vmi/selftest/selftest.ts: OperationKind',
  'vmi/selftest/selftest.ts: CheckSummary',
  'vmi/selftest/selftest.ts: NotApplicable',
];

interface Dead {
  readonly key: string;
  readonly usedInFile: boolean;
}

interface Analysis {
  /** Exports of the product folders that no other file uses, as `file: name`. */
  readonly dead: readonly Dead[];
  /** Every export of the product folders, as `file: name`. */
  readonly exported: ReadonlySet<string>;
}

function analyse(): Analysis {
  const root = repoPath();
  const config = ts.getParsedCommandLineOfConfigFile(repoPath('tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
  });
  assert.ok(config, 'tsconfig.json');
  const program = ts.createProgram({ rootNames: config.fileNames, options: { ...config.options, noEmit: true } });
  const checker = program.getTypeChecker();
  const rel = (file: string): string => relative(root, file).split('\\').join('/');
  const ours = program.getSourceFiles().filter((sf) => {
    const file = rel(sf.fileName);
    return !sf.isDeclarationFile && !file.startsWith('..') && !file.startsWith('node_modules/');
  });
  const product = ours.filter((sf) => PRODUCT.includes(rel(sf.fileName).split('/')[0] ?? '') && !ENTRIES.includes(rel(sf.fileName)));
  const exportsOf = (sf: ts.SourceFile): ts.Symbol[] => {
    const module = checker.getSymbolAtLocation(sf);
    return module ? checker.getExportsOfModule(module) : [];
  };

  // Which files use each symbol. A reference to an import follows its alias chain, so that the
  // file re-exporting a name and the file declaring it are both used.
  const users = new Map<ts.Symbol, Set<string>>();
  const norm = (s: ts.Symbol): ts.Symbol => checker.getExportSymbolOfSymbol(s);
  const mark = (symbol: ts.Symbol, file: string, at?: ts.Node): void => {
    const seen = new Set<ts.Symbol>();
    let s: ts.Symbol | undefined = norm(symbol);
    let first = true;
    while (s && !seen.has(s)) {
      seen.add(s);
      // the name in a declaration of s is no use of s
      const declaring = first && at !== undefined && (s.declarations ?? []).some((d) => (d as ts.NamedDeclaration).name === at);
      if (!declaring) {
        let files = users.get(s);
        if (!files) users.set(s, (files = new Set()));
        files.add(file);
      }
      first = false;
      if (!(s.flags & ts.SymbolFlags.Alias)) break;
      const next = checker.getImmediateAliasedSymbol(s);
      s = next && norm(next);
    }
  };

  // Only identifiers spelling an exported name can refer to one: resolving just those keeps this fast.
  const names = new Set(product.flatMap((sf) => exportsOf(sf).map((e) => e.name)));
  for (const sf of ours) {
    const file = rel(sf.fileName);
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node) && names.has(node.text)) {
        const parent = node.parent;
        const symbol = checker.getSymbolAtLocation(node);
        if (symbol) mark(symbol, file, node);
        if (ts.isShorthandPropertyAssignment(parent) && parent.name === node) {
          const value = checker.getShorthandAssignmentValueSymbol(parent);
          if (value) mark(value, file, node);
        }
        if (ts.isExportSpecifier(parent)) {
          const local = checker.getExportSpecifierLocalTargetSymbol(parent);
          if (local) mark(local, file, node);
        }
        // const { name } = await import('…'): the property is the module's export
        if (ts.isBindingElement(parent) && ts.isObjectBindingPattern(parent.parent) && (parent.propertyName ?? parent.name) === node) {
          const property = checker.getPropertyOfType(checker.getTypeAtLocation(parent.parent), node.text);
          if (property) mark(property, file, node);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    // Whatever an entry point exports (export * included) is used by it.
    if (ENTRIES.includes(file)) for (const e of exportsOf(sf)) mark(e, file);
  }

  const dead: Dead[] = [];
  const exported = new Set<string>();
  for (const sf of product) {
    const file = rel(sf.fileName);
    for (const e of exportsOf(sf)) {
      // `export * from`: the other file's symbol, judged there
      if (!(e.flags & ts.SymbolFlags.Alias) && !(e.declarations ?? []).some((d) => d.getSourceFile() === sf)) continue;
      const key = `${file}: ${e.name}`;
      exported.add(key);
      const used = users.get(norm(e)) ?? new Set<string>();
      if (![...used].some((f) => f !== file)) dead.push({ key, usedInFile: used.has(file) });
    }
  }
  return { dead, exported };
}

test('every export of the product folders is used by another file, or is public surface', () => {
  const { dead, exported } = analyse();
  const allowed = new Set(PUBLIC_SURFACE);
  const unexpected = dead.filter((d) => !allowed.has(d.key));
  assert.deepEqual(
    unexpected.map((d) => `${d.key}${d.usedInFile ? ' (used only in its file: drop `export`)' : ' (unused: delete it)'}`),
    [],
    'exports no other file imports (or add a public one to PUBLIC_SURFACE in test/dead-exports.test.ts)',
  );
  const deadKeys = new Set(dead.map((d) => d.key));
  const stale = PUBLIC_SURFACE.filter((k) => !exported.has(k) || !deadKeys.has(k));
  assert.deepEqual(
    stale.map((k) => `${k}${exported.has(k) ? ' is imported now' : ' is no export'}`),
    [],
    'PUBLIC_SURFACE entries to remove',
  );
});
