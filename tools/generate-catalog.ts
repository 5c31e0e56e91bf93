// The generator of catalog/xen-vocabulary.generated.ts and catalog/xen-macros.generated.ts.
//
// Both files hold facts read from Xen's own sources at each release tag (RELEASE-<v>.0):
//
//   xen/xsm/flask/policy/security_classes  `class <name>` lines        -> classes
//   xen/xsm/flask/policy/initial_sids      `sid <name>` lines          -> initialSids
//   xen/xsm/flask/policy/access_vectors    `class <name> { perms }`    -> accessVectors
//   tools/flask/policy/modules/xen.if      m4 `define(...)` of macros  -> the allow rules of
//                                          declare_domain_common, create_domain_common,
//                                          manage_domain, domain_comms and create_channel
//
// It mirrors what Xen's build does with the first three (xen/xsm/flask/policy/mkflask.sh and
// mkaccess_vector.sh: names in file order, a permission's bit is its position in its class) and
// reads xen.if as GNU m4 reads it (quotes `...' nest, `#' starts a comment, define's arguments
// lose one level of quotes), so that the rules are exactly those the macro's body holds, with
// the macro's arguments left as $1, $2, $3. Calls of other macros inside a body are not
// expanded: each macro's own rules are kept (domain_comms's channels are create_channel's).
//
// Everything from source text to TypeScript text is a pure function (exported for
// test/generated.test.ts); only main() reads Xen's files (from a git repository, at the tags,
// or from per-release source trees) and reads or writes the catalog files.
//
// Usage: node dist/tools/generate-catalog.js (--xen-git DIR | --tree 4.17=DIR ...) [--check]
//        [--catalog DIR] [--releases 4.8,4.9,...]

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compareReleases, XEN_RELEASES } from '../catalog/vocabulary.js';
import type { RawReleaseVocabulary } from '../catalog/xen-vocabulary.generated.js';
import type { MacroRule, XenMacros } from '../catalog/xen-macros.generated.js';

// ---------------------------------------------------------------------------------------------
// Inputs

/** The text of the four Xen source files one release's entries are made from. */
export interface XenSources {
  readonly securityClasses: string;
  readonly initialSids: string;
  readonly accessVectors: string;
  readonly xenIf: string;
}

/** Where each source file is in Xen's tree. */
export const SOURCE_PATHS: Readonly<Record<keyof XenSources, string>> = {
  securityClasses: 'xen/xsm/flask/policy/security_classes',
  initialSids: 'xen/xsm/flask/policy/initial_sids',
  accessVectors: 'xen/xsm/flask/policy/access_vectors',
  xenIf: 'tools/flask/policy/modules/xen.if',
};

/** Xen's tag of a release branch's first release. */
export function releaseTag(release: string): string {
  return `RELEASE-${release}.0`;
}

/** The generated files, by name under catalog/. */
export const VOCABULARY_FILE = 'xen-vocabulary.generated.ts';
export const MACROS_FILE = 'xen-macros.generated.ts';

// ---------------------------------------------------------------------------------------------
// security_classes, initial_sids, access_vectors

/** A FLASK name, or a macro argument template such as $1 or $2_channel. */
const NAME = /^[A-Za-z0-9_$]+$/;

function checkedName(word: string | undefined, what: string): string {
  if (word === undefined || !NAME.test(word)) throw new Error(`expected ${what}, found ${word === undefined ? 'end of file' : JSON.stringify(word)}`);
  return word;
}

/** The words of a FLASK declaration file: `#` comments dropped, braces as words of their own. */
export function flaskWords(text: string): string[] {
  return text
    .replace(/#[^\n]*/g, '')
    .replace(/[{}]/g, ' $& ')
    .split(/\s+/)
    .filter((w) => w !== '');
}

/** `<keyword> <name>` repeated (security_classes: class, initial_sids: sid), names in file order. */
export function parseDeclarations(text: string, keyword: string): string[] {
  const words = flaskWords(text);
  const names: string[] = [];
  for (let i = 0; i < words.length; i += 2) {
    if (words[i] !== keyword) throw new Error(`expected "${keyword}", found ${JSON.stringify(words[i])}`);
    names.push(checkedName(words[i + 1], `a name after "${keyword}"`));
  }
  return names;
}

/** security_classes: the classes in declaration order. */
export function parseSecurityClasses(text: string): string[] {
  return parseDeclarations(text, 'class');
}

/** initial_sids: the initial SIDs in declaration order. */
export function parseInitialSids(text: string): string[] {
  return parseDeclarations(text, 'sid');
}

/**
 * access_vectors: `class <name> { <perm> ... }` blocks in file order, the permissions in bit
 * order. Xen's file uses neither `common` nor `inherits` (SELinux's shared permission sets), so
 * meeting one is an error rather than a guess.
 */
export function parseAccessVectors(text: string): [string, string[]][] {
  const words = flaskWords(text);
  const vectors: [string, string[]][] = [];
  let i = 0;
  while (i < words.length) {
    if (words[i] !== 'class') throw new Error(`access_vectors: expected "class", found ${JSON.stringify(words[i])}`);
    const cls = checkedName(words[i + 1], 'a class name in access_vectors');
    if (words[i + 2] !== '{') throw new Error(`access_vectors: expected "{" after class ${cls}, found ${JSON.stringify(words[i + 2])}`);
    i += 3;
    const perms: string[] = [];
    while (words[i] !== '}') perms.push(checkedName(words[i++], `a permission of class ${cls} (or "}")`));
    i++;
    vectors.push([cls, perms]);
  }
  return vectors;
}

/** One release's entry of RAW_VOCABULARY. */
export function vocabularyOf(sources: Pick<XenSources, 'securityClasses' | 'initialSids' | 'accessVectors'>): RawReleaseVocabulary {
  return {
    classes: parseSecurityClasses(sources.securityClasses),
    initialSids: parseInitialSids(sources.initialSids),
    accessVectors: parseAccessVectors(sources.accessVectors),
  };
}

// ---------------------------------------------------------------------------------------------
// xen.if: GNU m4's reading of define(`name', `body')

const M4_OPEN_QUOTE = '`';
const M4_CLOSE_QUOTE = "'";
const M4_WORD = /[A-Za-z_][A-Za-z0-9_]*/y;

/** The end (exclusive) of the quoted string opening at `start`; quotes nest. */
function quotedEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === M4_OPEN_QUOTE) depth++;
    else if (text[i] === M4_CLOSE_QUOTE && --depth === 0) return i + 1;
  }
  throw new Error(`xen.if: unterminated m4 quote opened at offset ${start}`);
}

/** The end (exclusive) of the `#` comment at `start`: through its newline. */
function commentEnd(text: string, start: number): number {
  const nl = text.indexOf('\n', start);
  return nl < 0 ? text.length : nl + 1;
}

/** The offset of the next character at or after `start` that is neither whitespace nor in a `#` comment. */
function nextToken(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    if (/\s/.test(text[i] as string)) i++;
    else if (text[i] === '#') i = commentEnd(text, i);
    else break;
  }
  return i;
}

/**
 * The arguments of the macro call whose `(` is at `open`, as m4 collects them: unquoted
 * leading whitespace dropped, split at commas outside quotes and nested parentheses, one level
 * of quotes removed, comments kept verbatim. Returns them and the offset after the `)`.
 */
export function m4Arguments(text: string, open: number): { args: string[]; end: number } {
  const args: string[] = [];
  let current = '';
  let leading = true;
  let depth = 0;
  for (let i = open + 1; i < text.length; ) {
    const c = text[i] as string;
    if (leading && /\s/.test(c)) {
      i++;
      continue;
    }
    leading = false;
    if (c === M4_OPEN_QUOTE) {
      const end = quotedEnd(text, i);
      current += text.slice(i + 1, end - 1);
      i = end;
    } else if (c === '#') {
      const end = commentEnd(text, i);
      current += text.slice(i, end);
      i = end;
    } else if (c === '(') {
      depth++;
      current += c;
      i++;
    } else if (c === ')' && depth > 0) {
      depth--;
      current += c;
      i++;
    } else if (c === ')') {
      args.push(current);
      return { args, end: i + 1 };
    } else if (c === ',' && depth === 0) {
      args.push(current);
      current = '';
      leading = true;
      i++;
    } else {
      current += c;
      i++;
    }
  }
  throw new Error(`xen.if: unterminated macro call opened at offset ${open}`);
}

/**
 * The macros xen.if defines, name to body (a later define replaces an earlier one, as in m4).
 * xen.if is only comments and defines; any other text at top level is an error, so that a new
 * construct in a future release is looked at rather than silently skipped.
 */
export function m4Defines(text: string): Map<string, string> {
  const defines = new Map<string, string>();
  for (let i = nextToken(text, 0); i < text.length; i = nextToken(text, i)) {
    M4_WORD.lastIndex = i;
    const word = M4_WORD.exec(text)?.[0];
    if (word !== 'define' || text[i + word.length] !== '(') {
      throw new Error(`xen.if: unexpected top-level text at offset ${i}: ${JSON.stringify(text.slice(i, i + 40))}`);
    }
    const { args, end } = m4Arguments(text, i + word.length);
    const [name, body] = args;
    if (args.length !== 2 || name === undefined || body === undefined) throw new Error(`xen.if: define at offset ${i} has ${args.length} arguments, not 2`);
    defines.set(name, body);
    i = end;
  }
  return defines;
}

// ---------------------------------------------------------------------------------------------
// xen.if: the allow rules of a macro body

/** A rule's permissions: `{ a b }` or a single name; repeats dropped (a FLASK permission set). */
function parsePermissions(text: string, where: string): string[] {
  const braced = /^\{([^{}]*)\}$/.exec(text);
  const words = braced ? (braced[1] as string).split(/\s+/).filter((w) => w !== '') : [text];
  if (words.length === 0) throw new Error(`${where}: empty permission set`);
  return [...new Set(words.map((w) => checkedName(w, `a permission (${where})`)))];
}

/** `allow <source> <target>:<class> <perms>` (without its `;`) as a template rule. */
export function parseAllow(statement: string, where: string): MacroRule {
  const m = /^allow\s+(\S+)\s+([^\s:]+)\s*:\s*([^\s{]+)\s*(\{[^}]*\}|\S+)$/.exec(statement.trim());
  if (!m) throw new Error(`${where}: unsupported allow rule ${JSON.stringify(statement.trim())}`);
  const [, source, target, cls, perms] = m as unknown as [string, string, string, string, string];
  return [checkedName(source, `a source type (${where})`), checkedName(target, `a target type (${where})`), checkedName(cls, `a class (${where})`), parsePermissions(perms, where)];
}

/** The offset of the `;` ending the statement at `start`, past any `#` comments on the way. */
function statementEnd(body: string, start: number, where: string): number {
  for (let i = start; i < body.length; i++) {
    if (body[i] === '#') i = commentEnd(body, i) - 1;
    else if (body[i] === ';') return i;
  }
  throw new Error(`${where}: statement without ";": ${JSON.stringify(body.slice(start, start + 40))}`);
}

/**
 * The allow rules of one macro body, in order. Besides allow rules a body may only call other
 * macros xen.if defines; those calls are skipped, not expanded. Anything else is an error.
 */
export function macroRules(body: string, macro: string, defined: ReadonlySet<string>): MacroRule[] {
  const where = `xen.if macro ${macro}`;
  const rules: MacroRule[] = [];
  for (let i = nextToken(body, 0); i < body.length; i = nextToken(body, i)) {
    M4_WORD.lastIndex = i;
    const word = M4_WORD.exec(body)?.[0];
    if (word === 'allow') {
      const end = statementEnd(body, i, where);
      rules.push(parseAllow(body.slice(i, end).replace(/#[^\n]*/g, ''), where));
      i = end + 1;
    } else if (word !== undefined && defined.has(word) && body[i + word.length] === '(') {
      i = m4Arguments(body, i + word.length).end;
    } else {
      throw new Error(`${where}: unsupported text ${JSON.stringify(body.slice(i, i + 40))}`);
    }
  }
  return rules;
}

/** Each XenMacros field and the xen.if macro it holds the rules of, in the files' order. */
export const MACRO_NAMES: Readonly<Record<keyof XenMacros, string>> = {
  declareDomainCommon: 'declare_domain_common',
  createDomainCommon: 'create_domain_common',
  manageDomain: 'manage_domain',
  domainComms: 'domain_comms',
  createChannel: 'create_channel',
};

/** One release's entry of XEN_MACROS. */
export function macrosOf(xenIf: string): XenMacros {
  const defines = m4Defines(xenIf);
  const defined = new Set(defines.keys());
  const rulesOf = (macro: string): MacroRule[] => {
    const body = defines.get(macro);
    if (body === undefined) throw new Error(`xen.if does not define ${macro}`);
    return macroRules(body, macro, defined);
  };
  return {
    declareDomainCommon: rulesOf(MACRO_NAMES.declareDomainCommon),
    createDomainCommon: rulesOf(MACRO_NAMES.createDomainCommon),
    manageDomain: rulesOf(MACRO_NAMES.manageDomain),
    domainComms: rulesOf(MACRO_NAMES.domainComms),
    createChannel: rulesOf(MACRO_NAMES.createChannel),
  };
}

// ---------------------------------------------------------------------------------------------
// TypeScript text

/** A name as a TypeScript string literal (names are checked, so never need escaping). */
function quoted(name: string): string {
  return `'${checkedName(name, 'a name to print')}'`;
}

function stringList(names: readonly string[]): string {
  return `[${names.map(quoted).join(', ')}]`;
}

/** A release's block: `  '<v>': {` … `  },` with one line per field or an indented list. */
function releaseBlock(release: string, fields: readonly (readonly [string, string | readonly string[]])[]): string {
  if (!/^\d+\.\d+$/.test(release)) throw new Error(`not a release branch: ${JSON.stringify(release)}`);
  const lines = [`  '${release}': {`];
  for (const [key, value] of fields) {
    if (typeof value === 'string') lines.push(`    ${key}: ${value},`);
    else if (value.length === 0) lines.push(`    ${key}: [],`);
    else lines.push(`    ${key}: [`, ...value.map((item) => `      ${item},`), '    ],');
  }
  lines.push('  },');
  return lines.map((l) => `${l}\n`).join('');
}

/** One release's entry of RAW_VOCABULARY, as it stands in xen-vocabulary.generated.ts. */
export function renderVocabularyEntry(release: string, v: RawReleaseVocabulary): string {
  return releaseBlock(release, [
    ['classes', stringList(v.classes)],
    ['initialSids', stringList(v.initialSids)],
    ['accessVectors', v.accessVectors.map(([cls, perms]) => `[${quoted(cls)}, ${stringList(perms)}]`)],
  ]);
}

function renderRule([source, target, cls, perms]: MacroRule): string {
  return `[${quoted(source)}, ${quoted(target)}, ${quoted(cls)}, ${stringList(perms)}]`;
}

/** One release's entry of XEN_MACROS, as it stands in xen-macros.generated.ts. */
export function renderMacrosEntry(release: string, m: XenMacros): string {
  return releaseBlock(
    release,
    (Object.keys(MACRO_NAMES) as (keyof XenMacros)[]).map((key) => [key, m[key].map(renderRule)] as const),
  );
}

const GENERATOR_NOTE = [
  '// Do not edit: `npm run generate -- --xen-git <clone of xen.git>` rewrites it (tools/generate-catalog.ts),',
  '// and test/generated.test.ts checks that the generator still reproduces it.',
];

const VOCABULARY_PROLOGUE = [
  '// Generated from xen-project/xen at the RELEASE-<version>.0 tags:',
  '//   xen/xsm/flask/policy/security_classes, initial_sids, access_vectors.',
  '// Facts only (names and their order); bit positions follow the order within each class.',
  '// Checked at test time against the Xen policy trees of the test corpus (test/vocabulary.test.ts).',
  ...GENERATOR_NOTE,
  '',
  'export interface RawReleaseVocabulary {',
  '  /** security_classes, in declaration order */',
  '  readonly classes: readonly string[];',
  '  /** initial_sids, in declaration order */',
  '  readonly initialSids: readonly string[];',
  '  /** access_vectors, in file order: [class, permissions in bit order] */',
  '  readonly accessVectors: readonly (readonly [string, readonly string[]])[];',
  '}',
  '',
  'export const RAW_VOCABULARY: Readonly<Record<string, RawReleaseVocabulary>> = {',
];

const MACROS_PROLOGUE = [
  '// Generated from xen-project/xen at the RELEASE-<version>.0 tags:',
  '//   tools/flask/policy/modules/xen.if — the allow rules inside the macros below,',
  "//   as templates over the macro's arguments ($1, $2, $3). Facts only: which permissions",
  "//   Xen's own example policy grants for these standard relationships at each release.",
  "// Used so that dom0 can build, manage and serve the domains vmipolicy declares exactly as",
  '// it does a stock domU_t at that release, in module and standalone mode alike.',
  ...GENERATOR_NOTE,
  '',
  "/** [subject, object, class, permissions]; $1/$2/$3 are the macro's arguments. */",
  'export type MacroRule = readonly [string, string, string, readonly string[]];',
  '',
  'export interface XenMacros {',
  ...(Object.keys(MACRO_NAMES) as (keyof XenMacros)[]).map((key) => `  readonly ${key}: readonly MacroRule[];`),
  '}',
  '',
  'export const XEN_MACROS: Readonly<Record<string, XenMacros>> = {',
];

function wholeFile(prologue: readonly string[], entries: readonly string[]): string {
  return `${prologue.join('\n')}\n${entries.join('')}};\n`;
}

function inReleaseOrder<T>(byRelease: ReadonlyMap<string, T>): [string, T][] {
  return [...byRelease].sort(([a], [b]) => compareReleases(a, b));
}

/** The whole of xen-vocabulary.generated.ts. */
export function renderVocabularyFile(byRelease: ReadonlyMap<string, RawReleaseVocabulary>): string {
  return wholeFile(VOCABULARY_PROLOGUE, inReleaseOrder(byRelease).map(([r, v]) => renderVocabularyEntry(r, v)));
}

/** The whole of xen-macros.generated.ts. */
export function renderMacrosFile(byRelease: ReadonlyMap<string, XenMacros>): string {
  return wholeFile(MACROS_PROLOGUE, inReleaseOrder(byRelease).map(([r, m]) => renderMacrosEntry(r, m)));
}

/** Both files' text, from each release's sources. */
export function generateCatalog(sourcesByRelease: ReadonlyMap<string, XenSources>): { vocabulary: string; macros: string } {
  const at = <T>(what: (s: XenSources) => T): Map<string, T> =>
    new Map([...sourcesByRelease].map(([release, s]) => {
      try {
        return [release, what(s)] as const;
      } catch (e) {
        throw new Error(`Xen ${release}: ${(e as Error).message}`);
      }
    }));
  return { vocabulary: renderVocabularyFile(at(vocabularyOf)), macros: renderMacrosFile(at((s) => macrosOf(s.xenIf))) };
}

/** One release's block, cut out of a generated file's text (undefined when it has none). */
export function releaseEntry(fileText: string, release: string): string | undefined {
  const start = fileText.indexOf(`\n  '${release}': {\n`);
  if (start < 0) return undefined;
  const end = fileText.indexOf('\n  },\n', start + 1);
  return end < 0 ? undefined : fileText.slice(start + 1, end + '\n  },\n'.length);
}

/**
 * Where two texts first differ, as a unified-diff-like excerpt (line numbers, two lines of
 * context, `-` the expected line, `+` the actual one); undefined when they are identical.
 */
export function firstDifference(expected: string, actual: string, expectedName: string, actualName: string): string | undefined {
  if (expected === actual) return undefined;
  const a = expected.split('\n');
  const b = actual.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 2);
  const shown = (lines: string[], sign: string): string[] => (i < lines.length ? [`${sign}${lines[i]}`] : [`${sign}<end of file>`]);
  return [
    `--- ${expectedName}`,
    `+++ ${actualName}`,
    `@@ first difference at line ${i + 1} @@`,
    ...a.slice(from, i).map((l) => ` ${l}`),
    ...shown(a, '-'),
    ...shown(b, '+'),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The command

/** Reads Xen's files of one release. */
export type SourceReader = (release: string, path: string) => string;

/** From a clone of xen.git (bare or not): `git -C <dir> show RELEASE-<v>.0:<path>`. */
export function gitReader(gitDir: string): SourceReader {
  return (release, path) => execFileSync('git', ['-C', gitDir, 'show', `${releaseTag(release)}:${path}`], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** From a source tree of the release (holding xen/ and tools/). */
export function treeReader(treeDir: string): SourceReader {
  return (_release, path) => readFileSync(join(treeDir, path), 'utf8');
}

export function readSources(release: string, read: SourceReader): XenSources {
  return {
    securityClasses: read(release, SOURCE_PATHS.securityClasses),
    initialSids: read(release, SOURCE_PATHS.initialSids),
    accessVectors: read(release, SOURCE_PATHS.accessVectors),
    xenIf: read(release, SOURCE_PATHS.xenIf),
  };
}

interface Options {
  readonly xenGit?: string;
  readonly trees: ReadonlyMap<string, string>;
  readonly check: boolean;
  readonly catalog: string;
  readonly releases: readonly string[];
}

const USAGE = 'usage: generate-catalog (--xen-git DIR | --tree <release>=DIR ...) [--check] [--catalog DIR] [--releases 4.8,4.9,...]\n'
  + '  --xen-git DIR   a clone of xen.git (default: $VMIPOLICY_XEN_GIT); files are read at the RELEASE-<v>.0 tags\n'
  + '  --tree V=DIR    the source tree of release V (holding xen/ and tools/), used instead of git for V\n'
  + '  --check         compare with the files in the catalog instead of writing them; exit 1 on a difference\n'
  + '  --catalog DIR   where the generated files are (default: catalog/ of this repository)\n'
  + '  --releases LIST the releases to generate (default: those the catalog has now)';

/** `--help`: the usage, on stdout, and exit 0. */
class UsageRequest extends Error {
  constructor() {
    super(USAGE);
  }
}

/** The repository's catalog/, from dist/tools/generate-catalog.js. */
const DEFAULT_CATALOG = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'catalog');

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  let xenGit = env.VMIPOLICY_XEN_GIT || undefined;
  const trees = new Map<string, string>();
  let check = false;
  let catalog = DEFAULT_CATALOG;
  let releases: readonly string[] = XEN_RELEASES;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--help' || arg === '-h') throw new UsageRequest();
    if (arg === '--xen-git') xenGit = value();
    else if (arg === '--check') check = true;
    else if (arg === '--catalog') catalog = resolve(value());
    else if (arg === '--releases') releases = value().split(',').filter((r) => r !== '');
    else if (arg === '--tree') {
      const m = /^(\d+\.\d+)=(.+)$/.exec(value());
      if (!m) throw new Error(`--tree takes <release>=DIR, e.g. 4.17=/src/xen-4.17\n${USAGE}`);
      trees.set(m[1] as string, resolve(m[2] as string));
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return { ...(xenGit !== undefined ? { xenGit } : {}), trees, check, catalog, releases };
}

function sourcesFor(options: Options): Map<string, XenSources> {
  const git = options.xenGit !== undefined ? gitReader(options.xenGit) : undefined;
  const out = new Map<string, XenSources>();
  for (const release of options.releases) {
    const tree = options.trees.get(release);
    const read = tree !== undefined ? treeReader(tree) : git;
    if (!read) throw new Error(`no source for Xen ${release}: give --xen-git DIR (or set VMIPOLICY_XEN_GIT) or --tree ${release}=DIR\n${USAGE}`);
    out.set(release, readSources(release, read));
  }
  return out;
}

/** Where the command reports (the process's streams, or a test's collector). */
export interface Output {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const PROCESS_OUTPUT: Output = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) };

/** Runs the command; returns the exit status (0 done or identical, 1 a difference, 2 an error). */
export function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, output: Output = PROCESS_OUTPUT): number {
  let options: Options;
  let generated: { vocabulary: string; macros: string };
  try {
    options = parseArgs(argv, env);
    generated = generateCatalog(sourcesFor(options));
  } catch (e) {
    if (e instanceof UsageRequest) {
      output.out(`${USAGE}\n`);
      return 0;
    }
    output.err(`generate-catalog: ${(e as Error).message}\n`);
    return 2;
  }
  const outputs: [string, string][] = [[VOCABULARY_FILE, generated.vocabulary], [MACROS_FILE, generated.macros]];
  let status = 0;
  for (const [name, text] of outputs) {
    const path = join(options.catalog, name);
    if (!options.check) {
      writeFileSync(path, text);
      output.out(`wrote ${path}\n`);
      continue;
    }
    let current: string;
    try {
      current = readFileSync(path, 'utf8');
    } catch (e) {
      output.err(`generate-catalog: cannot read ${path}: ${(e as Error).message}\n`);
      return 2;
    }
    const difference = firstDifference(current, text, path, `generated from Xen ${options.releases.join(', ')}`);
    if (difference === undefined) output.out(`${path}: identical\n`);
    else {
      output.out(`${path} differs from what the generator makes:\n${difference}\n`);
      status = 1;
    }
  }
  return status;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
