// Reading an unexpanded Xen FLASK policy tree: the sources laid out as in Xen's repository
// (tools/flask/policy/{modules,policy,Makefile.common} and xen/xsm/flask/policy/{security_classes,
// initial_sids,access_vectors}) become the policy.conf that checkpolicy compiles, by running
// the real GNU m4 exactly as tools/flask/policy/Makefile.common does:
//
//   cd tools/flask/policy && m4 -D self_contained_policy -s [-D enable_mls] \
//      -D mls_num_sens=16 -D mls_num_cats=256 $(POLICY_SECTIONS) > policy.conf
//
// with POLICY_SECTIONS, in this order and with these relative paths (so the `#line` markers
// m4 writes name files as users know them, e.g. "modules/domU.te"):
//   ../../../xen/xsm/flask/policy/security_classes policy/security_classes
//   ../../../xen/xsm/flask/policy/initial_sids
//   ../../../xen/xsm/flask/policy/access_vectors policy/access_vectors
//   policy/support/*.spt policy/mls
//   modules/<m>.if (enabled modules that have one)   policy/global_tunables
//   modules/<m>.te (every enabled module)            policy/users
//   modules/<m>.cons (enabled modules that have one) policy/initial_sids policy/device_contexts
// where the enabled modules are `awk '/^[ \t]*[a-z]/{ if ($3 == "on") print $1 }' modules.conf`,
// in file order. No macro is expanded here: m4 does all of it.
//
// Extra modules are added the way a user adds one (modules/<name>.te, plus .if/.cons, and
// "<name> = on" appended to modules.conf), but in a temporary copy of the files m4 reads: the
// user's tree is never written to.
//
// A tree is untrusted input (a pull request's tools/flask/policy is expanded by `diff git:`
// in CI), and GNU m4 can run commands (syscmd, esyscmd), read any file (include, sinclude,
// undivert with a file name) and write files (debugfile, maketemp, mkstemp). So m4 only ever
// runs sandboxed (runSandboxedM4): every builtin outside SAFE_BUILTINS is replaced on the
// command line, before any input is read, by a macro that only reports its use (VP3021);
// m4 runs with an empty environment, stdin on /dev/null, in a temporary copy holding only the
// tree's regular files (a file or directory that leads outside the tree is VP3020), under
// prlimit's memory, file-size and CPU caps, a wall-clock timeout and an output cap.

import { compareCodePoints } from '../core/compare.js';
import { INPUT_KINDS, readInputFile } from '../core/read-input.js';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { diagnostic, type Diagnostic, type SourceSpan } from '../core/diagnostics.js';

export interface XenExtraModule {
  /** The module name: modules/<name>.te, "<name> = on". Must match EXTRA_MODULE_NAME. */
  readonly name: string;
  readonly te: string;
  readonly if?: string;
  readonly cons?: string;
}

interface ExpandXenPolicyTreeOptions {
  /** A Xen source tree (holding tools/flask/policy and xen/xsm/flask/policy), or the tools/flask/policy directory itself. */
  readonly tree: string;
  /** xen/xsm/flask/policy; by default where Makefile.common's FLASKDIR (../../../xen/xsm/flask/policy) points. */
  readonly flaskDir?: string;
  /** Modules to add as a user would: modules/<name>.te (+ .if, .cons) and "<name> = on" at the end of modules.conf. */
  readonly extraModules?: readonly XenExtraModule[];
  /** CONFIG_MLS=y: m4 -D enable_mls. */
  readonly mls?: boolean;
  /** Modules to treat as "<name> = off" in modules.conf. */
  readonly disabledModules?: readonly string[];
  /** The m4 to run (Makefile.common's M4); default "m4" from PATH. */
  readonly m4?: string;
  /** Kill m4 after this long; default (and at most) 30 s. */
  readonly timeoutMs?: number;
}

export interface XenPolicyExpansion {
  /** The expanded policy.conf; absent when there are errors. */
  readonly text?: string;
  /** A display name for the expanded text, e.g. "<tree>/policy.conf". */
  readonly file: string;
  readonly diagnostics: Diagnostic[];
  /**
   * Things the user should know that are not errors and have no diagnostic code: a section file
   * without a final newline (m4 joins its last line to the next file, as in Xen's own build),
   * m4 warnings, disabled modules that were not enabled.
   */
  readonly notes: string[];
  /**
   * The m4 arguments as Xen's Makefile.common gives them, with the tools/flask/policy
   * directory as working directory. m4 runs with sandboxArgs before these.
   */
  readonly m4Args?: readonly string[];
  /** The arguments that disable the unsafe builtins (SAFE_BUILTINS), given to m4 before m4Args. */
  readonly sandboxArgs?: readonly string[];
  /**
   * Each `#line` name of the expanded text that is a file of the tree, and that file as the
   * user named the tree (extra modules are not files of the tree, so they are not here).
   */
  readonly files?: ReadonlyMap<string, string>;
}

/**
 * A module's file as the tree holds it and as the `#line` markers of the expanded text name it
 * (relative to tools/flask/policy, as Makefile.common's POLICY_SECTIONS lists modules/*.te):
 * an extra module's too, though it is no file of the tree.
 */
export function moduleFile(name: string, ext: 'te' | 'if' | 'cons'): string {
  return `modules/${name}.${ext}`;
}

/** Names an extra module may have: what Xen's modules.conf parsing (awk /^[ \t]*[a-z]/) and file names tolerate safely. */
export const EXTRA_MODULE_NAME = /^[a-z][a-z0-9_]*$/;

/** Makefile.common: FLASKDIR := ../../../xen/xsm/flask/policy (relative to tools/flask/policy). */
const MAKEFILE_FLASKDIR = '../../../xen/xsm/flask/policy';
const POLICY_DIR_IN_TREE = 'tools/flask/policy';
const FLASK_DIR_IN_TREE = 'xen/xsm/flask/policy';
const MAX_TIMEOUT_MS = 30_000;
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;
/** prlimit --as: Xen's own trees need under 8 MiB of address space; a macro bomb stops here. */
const MAX_ADDRESS_SPACE_BYTES = 512 * 1024 * 1024;
/** Lines of m4 messages kept as notes or diagnostics: a loop of warnings must not flood the report. */
const MAX_M4_MESSAGES = 20;

/**
 * The GNU m4 builtins an untrusted tree may use: text, arithmetic and definitions only, plus
 * errprint, __file__ and __line__ (Xen's misc_macros.spt refpolicywarn/refpolicyerr use them;
 * they write to m4's stderr, which is ours, and name the relative paths we gave m4). Every
 * other builtin the installed m4 has is disabled — syscmd, esyscmd, sysval (commands);
 * include, sinclude, undivert (`undivert(file)` reads a file); debugfile, maketemp, mkstemp
 * (write files); builtin (reaches a builtin by name even after -U: checked with GNU m4
 * 1.4.19); m4exit (truncates the output with status 0); traceon, traceoff, debugmode, dumpdef;
 * __program__ — and any builtin a later m4 adds, since the list comes from the m4 itself
 * (listBuiltins). `indir` and `defn` look names up in the symbol table, so they reach only
 * what is defined: not the disabled ones.
 */
const SAFE_BUILTINS: ReadonlySet<string> = new Set([
  'changecom', 'changequote', 'decr', 'define', 'defn', 'divert', 'divnum', 'dnl', 'errprint', 'eval',
  'format', 'ifdef', 'ifelse', 'incr', 'index', 'indir', 'len', 'm4wrap', 'patsubst', 'popdef', 'pushdef',
  'regexp', 'shift', 'substr', 'translit', 'undefine', '__file__', '__line__', '__gnu__', '__unix__',
]);

/** Makefile.common: MLS_SENS ?= 16, MLS_CATS ?= 256; "always define these because they are referenced even in non-MLS policy". */
function xenM4Params(mls: boolean): string[] {
  return ['-D', 'self_contained_policy', '-s', ...(mls ? ['-D', 'enable_mls'] : []), '-D', 'mls_num_sens=16', '-D', 'mls_num_cats=256'];
}

/**
 * The enabled modules of a modules.conf, in order, exactly as Makefile.common's
 * `awk '/^[ \t]*[a-z]/{ if ($3 == "on") print $1 }'` lists them: lines starting (after
 * blanks) with a lowercase ASCII letter whose third blank-separated field is exactly "on".
 * So "x = on" is enabled, "x=on" and "x = on\r" (CRLF) are not, and a name listed twice
 * is listed twice.
 */
export function enabledModules(modulesConf: string): string[] {
  const enabled: string[] = [];
  for (const line of modulesConf.split('\n')) {
    if (!/^[ \t]*[a-z]/.test(line)) continue;
    const fields = line.split(/[ \t]+/).filter((f) => f !== '');
    if (fields[2] === 'on' && fields[0] !== undefined) enabled.push(fields[0]);
  }
  return enabled;
}

interface Located {
  /** The tools/flask/policy directory: as the user named it (for messages) and physically. */
  readonly policyShown: string;
  readonly policyReal: string;
  readonly flaskShown: string;
  readonly flaskReal: string;
  /** The flask dir relative to policyReal, in posix form: Makefile.common's FLASKDIR. */
  readonly flaskRel: string;
}

/** Whether `path` is `root` or below it (both already resolved by realpath). */
function isWithin(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function lstatOf(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function locate(options: ExpandXenPolicyTreeOptions): Located | Diagnostic {
  const tree = options.tree;
  if (!statOf(tree)?.isDirectory()) return diagnostic('PolicyTreeIncomplete', [tree]);
  let policyShown: string;
  let flaskShown: string;
  if (statOf(join(tree, POLICY_DIR_IN_TREE))?.isDirectory()) {
    policyShown = join(tree, POLICY_DIR_IN_TREE);
    flaskShown = options.flaskDir ?? join(tree, FLASK_DIR_IN_TREE);
  } else if (['modules', 'policy'].some((d) => statOf(join(tree, d))?.isDirectory())) {
    policyShown = tree;
    flaskShown = options.flaskDir ?? join(tree, MAKEFILE_FLASKDIR);
  } else {
    return diagnostic(
      'PolicyTreeIncomplete',
      [join(tree, POLICY_DIR_IN_TREE)],
      undefined,
      'give the root of a Xen source tree, or its tools/flask/policy directory (then flaskDir for xen/xsm/flask/policy if it is not at ../../../xen/xsm/flask/policy)',
    );
  }
  const policyReal = realpathSync(policyShown);
  // "../" in FLASKDIR climbs the physical directories, as under make in policyReal.
  const flaskReal = options.flaskDir === undefined ? realOrResolved(resolve(policyReal, MAKEFILE_FLASKDIR)) : realOrResolved(options.flaskDir);
  const flaskRel = relative(policyReal, flaskReal).split(sep).join('/');
  if (policyShown !== tree) {
    // Given a source root, its tools/flask/policy (and xen/xsm/flask/policy, unless the caller
    // named another) must not be links out of it: a pull request can add such a link.
    const rootReal = realpathSync(tree);
    if (!isWithin(rootReal, policyReal)) return diagnostic('PolicyTreeEscape', [policyShown, policyReal]);
    if (options.flaskDir === undefined && !isWithin(rootReal, flaskReal)) return diagnostic('PolicyTreeEscape', [flaskShown, flaskReal]);
  }
  return { policyShown, policyReal, flaskShown, flaskReal, flaskRel };
}

/** A file m4 will read: its argument (relative to the policy dir) and where its bytes come from. */
interface Section {
  readonly rel: string;
  readonly content: Buffer;
}

/** The 1-based line of a file as a span (the line's text, without its newline). */
function lineSpan(file: string, text: string, line: number): SourceSpan | undefined {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  const nl = text.indexOf('\n', start);
  return { file, start, end: nl < 0 ? text.length : nl };
}

/**
 * Expands a Xen FLASK policy tree into policy.conf text by running GNU m4 the way Xen's
 * tools/flask/policy/Makefile.common does. Never throws for a bad tree, a failing m4 or a
 * missing m4: those are VP3007 and VP3006 diagnostics.
 */
export function expandXenPolicyTree(options: ExpandXenPolicyTreeOptions): XenPolicyExpansion {
  const file = join(options.tree, 'policy.conf');
  const diagnostics: Diagnostic[] = [];
  const notes: string[] = [];
  const fail = (): XenPolicyExpansion => ({ file, diagnostics, notes });

  const located = locate(options);
  if (!('policyReal' in located)) {
    diagnostics.push(located);
    return fail();
  }
  const { policyShown, policyReal, flaskShown, flaskReal, flaskRel } = located;
  const flaskFile = (name: string): string => posix.join(flaskRel === '' ? '.' : flaskRel, name);
  const isFlaskFile = (rel: string): boolean => rel.startsWith(`${flaskRel}/`) && flaskRel !== '';
  const shown = (rel: string): string => (isFlaskFile(rel) ? join(flaskShown, rel.slice(flaskRel.length + 1)) : join(policyShown, rel));
  const inTree = (rel: string): string => resolve(policyReal, rel);

  // Extra modules: names first, since they become file names and modules.conf lines.
  const extras = options.extraModules ?? [];
  const extraNames = new Set<string>();
  /** Names already reported (unsafe, duplicate or clashing): one diagnostic per name. */
  const reported = new Set<string>();
  for (const m of extras) {
    if (!EXTRA_MODULE_NAME.test(m.name)) {
      reported.add(m.name);
      diagnostics.push(
        diagnostic('UnsafeName', ['extra module', m.name, `module names must match ${EXTRA_MODULE_NAME.source}`], undefined, 'use lowercase letters, digits and _, starting with a letter'),
      );
    } else if (extraNames.has(m.name)) {
      reported.add(m.name);
      diagnostics.push(diagnostic('DuplicateListEntry', [m.name, 'extraModules']));
    } else if ((['te', 'if', 'cons'] as const).some((ext) => lstatOf(inTree(moduleFile(m.name, ext))))) {
      reported.add(m.name);
      diagnostics.push(
        diagnostic('ReservedName', ['extra module', m.name, `the policy tree already has a module of that name (${shown(moduleFile(m.name, 'te'))})`], undefined, 'give the extra module another name'),
      );
    }
    extraNames.add(m.name);
  }

  // The files m4 reads, checked as make checks prerequisites: each missing one is VP3007.
  const missingReported = new Set<string>();
  const missing = (rel: string, why?: string): void => {
    if (missingReported.has(rel)) return; // a module enabled twice is missing once
    missingReported.add(rel);
    diagnostics.push(diagnostic('PolicyTreeIncomplete', [shown(rel)], undefined, why));
  };
  // Only the tree's own regular files: a symbolic link (of the file or of a directory above
  // it) that resolves outside the tree would hand m4 — and so the output — another file.
  const files = new Map<string, string>();
  const read = (rel: string): Buffer | undefined => {
    let real: string;
    try {
      real = realpathSync(inTree(rel));
    } catch {
      missing(rel, lstatOf(inTree(rel)) ? 'it is a symbolic link to nothing' : undefined);
      return undefined;
    }
    if (!isWithin(isFlaskFile(rel) ? flaskReal : policyReal, real)) {
      if (!missingReported.has(rel)) diagnostics.push(diagnostic('PolicyTreeEscape', [shown(rel), real]));
      missingReported.add(rel);
      return undefined;
    }
    if (!statOf(real)?.isFile()) {
      missing(rel, 'it exists but is not a regular file');
      return undefined;
    }
    // Through the one input reader: a regular file, under the policy cap, never read past it.
    const r = readInputFile(real, INPUT_KINDS.policy);
    if (!r.ok) {
      if (!missingReported.has(rel)) diagnostics.push(r.diagnostic);
      missingReported.add(rel);
      return undefined;
    }
    files.set(rel, shown(rel));
    return r.bytes;
  };

  const fixed = {
    secclassXen: read(flaskFile('security_classes')),
    secclass: read('policy/security_classes'),
    isidDecls: read(flaskFile('initial_sids')),
    avsXen: read(flaskFile('access_vectors')),
    avs: read('policy/access_vectors'),
    mls: read('policy/mls'),
    globalTunables: read('policy/global_tunables'),
    users: read('policy/users'),
    isidDefs: read('policy/initial_sids'),
    devOcons: read('policy/device_contexts'),
  };
  const modulesConf = read('modules/modules.conf');

  // policy/support/*.spt: $(wildcard) — no hidden files, sorted byte-wise (GNU make 4.3+).
  const support: string[] = [];
  try {
    for (const name of readdirSync(inTree('policy/support'))) {
      if (name.endsWith('.spt') && !name.startsWith('.')) support.push(`policy/support/${name}`);
    }
  } catch {
    // No support directory: the wildcard is empty and Makefile.common carries on.
  }
  support.sort(compareCodePoints);

  if (modulesConf === undefined) return fail();
  const conf = modulesConf.toString('utf8');
  for (const name of extraNames) {
    // Enabled twice would put its .te in twice; the ReservedName check above covers files only.
    if (!reported.has(name) && enabledModules(conf).includes(name)) {
      diagnostics.push(
        diagnostic('ReservedName', ['extra module', name, `modules.conf already enables a module of that name (${shown('modules/modules.conf')})`], undefined, 'give the extra module another name'),
      );
    }
  }
  const extended = extras.reduce((text, m) => `${text}\n# added by vmipolicy\n${m.name} = on\n`, conf);
  const disabled = new Set(options.disabledModules ?? []);
  for (const name of disabled) {
    if (!enabledModules(extended).includes(name)) notes.push(`disabledModules: "${name}" is not enabled in modules.conf; nothing to disable`);
  }
  const enabled = enabledModules(extended).filter((m) => !disabled.has(m));

  // Module files: a .te is required ("Modules must provide a .te file"), .if/.cons are optional.
  const extraByName = new Map(extras.map((m) => [m.name, m] as const));
  const moduleText = (name: string, ext: 'te' | 'if' | 'cons'): Buffer | undefined => {
    const extra = extraByName.get(name);
    if (extra) {
      const text = extra[ext];
      return text === undefined ? undefined : Buffer.from(text, 'utf8');
    }
    const rel = moduleFile(name, ext);
    if (ext === 'te') return read(rel);
    return lstatOf(inTree(rel)) ? read(rel) : undefined;
  };
  const tes: Section[] = [];
  const ifs: Section[] = [];
  const conses: Section[] = [];
  for (const name of enabled) {
    const te = moduleText(name, 'te');
    if (te) tes.push({ rel: moduleFile(name, 'te'), content: te });
  }
  for (const name of enabled) {
    const ifText = moduleText(name, 'if');
    if (ifText) ifs.push({ rel: moduleFile(name, 'if'), content: ifText });
  }
  for (const name of enabled) {
    const cons = moduleText(name, 'cons');
    if (cons) conses.push({ rel: moduleFile(name, 'cons'), content: cons });
  }
  const supportSections: Section[] = [];
  for (const rel of support) {
    const content = read(rel);
    if (content) supportSections.push({ rel, content });
  }
  if (diagnostics.length > 0) return fail();

  const section = (rel: string, content: Buffer | undefined): Section => ({ rel, content: content ?? Buffer.alloc(0) });
  // Makefile.common: POLICY_SECTIONS, "the order of these files is important".
  const sections: Section[] = [
    section(flaskFile('security_classes'), fixed.secclassXen),
    section('policy/security_classes', fixed.secclass),
    section(flaskFile('initial_sids'), fixed.isidDecls),
    section(flaskFile('access_vectors'), fixed.avsXen),
    section('policy/access_vectors', fixed.avs),
    ...supportSections,
    section('policy/mls', fixed.mls),
    ...ifs,
    section('policy/global_tunables', fixed.globalTunables),
    ...tes,
    section('policy/users', fixed.users),
    ...conses,
    section('policy/initial_sids', fixed.isidDefs),
    section('policy/device_contexts', fixed.devOcons),
  ];

  // m4 reads files one after another: a last line without '\n' is joined to the next file's
  // first line (and that file's #line marker is lost). Xen's build does the same; say so.
  sections.forEach((s, i) => {
    const next = sections[i + 1];
    if (next && s.content.length > 0 && s.content[s.content.length - 1] !== 0x0a) {
      notes.push(
        `${s.rel} does not end with a newline: m4 joins its last line to the first line of ${next.rel} ` +
          `(its #line marker comes after the joined line), as in Xen's own build; add a final newline`,
      );
    }
  });

  const m4Args = [...xenM4Params(options.mls ?? false), ...sections.map((s) => s.rel)];
  const temp = mkdtempSync(join(tmpdir(), 'vmipolicy-xen-tree-'));
  try {
    const sandbox = prepareSandbox(options, temp);
    if ('problem' in sandbox) {
      diagnostics.push(diagnostic('PolicyM4Failed', [policyShown, sandbox.problem], undefined, sandbox.help));
      return { ...fail(), m4Args };
    }
    const cwd = copyForM4(temp, policyReal, sections, extended);
    const run = runSandboxed(sandbox, cwd, [...sandbox.args, ...m4Args]);
    const disabled = disabledBuiltinDiagnostics(run.stderr, sections);
    if (!run.ok || disabled.length > 0) {
      diagnostics.push(...disabled, ...(run.ok ? [] : m4Diagnostics(run, sections, policyShown)));
      return { ...fail(), m4Args, sandboxArgs: sandbox.args };
    }
    notes.push(...sandbox.notes, ...capped(m4Messages(run.stderr)).map((line) => `m4: ${line.replace(/^m4:/, '')}`));
    return { text: run.stdout, file, diagnostics, notes, m4Args, sandboxArgs: sandbox.args, files };
  } catch (e) {
    diagnostics.push(diagnostic('PolicyM4Failed', [policyShown, `could not prepare the files for m4: ${(e as Error).message}`]));
    return { ...fail(), m4Args };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/**
 * Writes the sections under `temp` so that every relative path m4 is given resolves as it
 * does in the real tree (FLASKDIR climbs three levels, so the copy of the policy dir sits
 * that deep), plus modules/modules.conf with the extra modules' "= on" lines. Returns the
 * directory m4 must run in.
 */
function copyForM4(temp: string, policyReal: string, sections: readonly Section[], modulesConf: string): string {
  const depth = Math.max(0, ...sections.map((s) => posix.normalize(s.rel).split('/').findIndex((seg) => seg !== '..')));
  const tail = policyReal.split(sep).filter((seg) => seg !== '');
  const levels = tail.slice(Math.max(0, tail.length - depth));
  while (levels.length < depth) levels.unshift(`d${levels.length}`);
  const cwd = join(temp, 'tree', ...levels);
  const root = resolve(temp);
  const write = (rel: string, content: Buffer | string): void => {
    const target = resolve(cwd, rel);
    if (!target.startsWith(`${root}${sep}`)) throw new Error(`${rel} would be written outside the temporary directory`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  };
  mkdirSync(cwd, { recursive: true });
  for (const s of sections) write(s.rel, s.content);
  write('modules/modules.conf', modulesConf);
  return cwd;
}

interface M4Run {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** Why m4 did not run or was stopped, when it was not m4 that failed. */
  readonly problem?: string;
  readonly help?: string;
}

/** How m4 runs: the programs (absolute paths), the private TMPDIR, the time cap. */
interface Confinement {
  readonly m4: string;
  /** util-linux prlimit, when installed: the memory, file-size and CPU caps. */
  readonly prlimit?: string;
  readonly tmp: string;
  readonly timeoutMs: number;
}

/** The confinement and the builtins disabled. */
interface Sandbox extends Confinement {
  /** --define=NAME=… for every builtin outside SAFE_BUILTINS: given before any input file. */
  readonly args: readonly string[];
  readonly notes: readonly string[];
}

/**
 * An executable file by name, searched as execvp does but only in absolute PATH entries
 * (a relative entry would depend on m4's working directory, the untrusted copy); a name with
 * a "/" is taken as it is.
 */
function findExecutable(name: string): string | undefined {
  const candidates = name.includes('/')
    ? [resolve(name)]
    : (process.env.PATH ?? '').split(delimiter).filter((dir) => isAbsolute(dir)).map((dir) => join(dir, name));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}

/** The macro that replaces a disabled builtin: it only reports where it was called (VP3021). */
const DISABLED_MARKER = 'vmipolicy_disabled_m4_builtin_';

function disablingArgs(builtins: readonly string[]): string[] {
  // No quotes in the body (a tree may changequote), no comma (errprint joins its arguments
  // with a space) and not the macro's own name (the body is rescanned): one word names it.
  return builtins.filter((name) => !SAFE_BUILTINS.has(name)).map((name) => `--define=${name}=errprint(__file__:__line__: ${DISABLED_MARKER}${name}\n)`);
}

function prepareSandbox(options: ExpandXenPolicyTreeOptions, temp: string): Sandbox | { problem: string; help?: string } {
  const name = options.m4 ?? 'm4';
  const m4 = findExecutable(name);
  if (m4 === undefined) {
    return { problem: `${name} is not installed (not found on PATH)`, help: 'install GNU m4 (Debian/Ubuntu: apt-get install m4), or give the path of an m4' };
  }
  const prlimit = findExecutable('prlimit');
  const tmp = join(temp, 'tmp');
  mkdirSync(tmp);
  const base: Confinement = { m4, ...(prlimit ? { prlimit } : {}), tmp, timeoutMs: Math.min(options.timeoutMs ?? MAX_TIMEOUT_MS, MAX_TIMEOUT_MS) };
  const builtins = listBuiltins(base, temp);
  if ('problem' in builtins) return builtins;
  const notes = prlimit ? [] : ['prlimit (util-linux) is not installed: m4 ran without its memory, file-size and CPU caps (the time and output caps hold)'];
  return { ...base, args: disablingArgs(builtins), notes };
}

/** listBuiltins' answers by m4 path and mtime: one probe per m4 per process, not per expansion. */
const builtinsOf = new Map<string, readonly string[]>();

/**
 * The names this m4 defines before reading input, from its own `dumpdef` (GNU m4 prints
 * "NAME:<TAB>DEFINITION" per macro to stderr): so a builtin a later m4 adds is disabled too.
 */
function listBuiltins(sandbox: Confinement, temp: string): readonly string[] | { problem: string } {
  const key = `${statSync(sandbox.m4).mtimeMs} ${sandbox.m4}`;
  const known = builtinsOf.get(key);
  if (known) return known;
  const probe = join(temp, 'probe');
  mkdirSync(probe);
  writeFileSync(join(probe, 'list.m4'), 'dumpdef\n');
  const run = runSandboxed(sandbox, probe, ['list.m4']);
  const names = run.stderr.split('\n').flatMap((line) => /^([A-Za-z_][A-Za-z0-9_]*):\t/.exec(line)?.[1] ?? []);
  if (!run.ok || !names.includes('define')) {
    return { problem: `could not list the builtins of ${sandbox.m4} (is it GNU m4?): ${run.problem ?? run.stderr.trim().split('\n')[0] ?? ''}` };
  }
  builtinsOf.set(key, names);
  return names;
}

/** Runs m4 with an empty environment, stdin on /dev/null, in `cwd`, under every cap. */
function runSandboxed(sandbox: Confinement, cwd: string, args: readonly string[]): M4Run {
  const seconds = Math.ceil(sandbox.timeoutMs / 1000);
  const [command, argv] = sandbox.prlimit
    ? [sandbox.prlimit, [`--as=${MAX_ADDRESS_SPACE_BYTES}`, `--fsize=${MAX_OUTPUT_BYTES}`, `--cpu=${seconds}`, '--core=0', '--', sandbox.m4, ...args]]
    : [sandbox.m4, [...args]];
  const r = spawnSync(command, argv, {
    cwd,
    encoding: 'utf8',
    timeout: sandbox.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_OUTPUT_BYTES,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Nothing inherited (no M4PATH, no PATH): English messages, which m4Diagnostics reads
    // (m4's output does not depend on the locale), and diversions spilled to our temp dir.
    env: { LC_ALL: 'C', TMPDIR: sandbox.tmp },
  });
  const stdout = r.stdout ?? '';
  // m4 names itself by argv[0], here a full path: "m4:FILE:LINE: …" as under make.
  const stderr = (r.stderr ?? '').split(`${sandbox.m4}:`).join('m4:');
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') return { ok: false, stdout, stderr, problem: `m4 did not finish within ${sandbox.timeoutMs} ms and was stopped` };
    if (code === 'ENOBUFS') return { ok: false, stdout, stderr, problem: `m4 wrote more than ${MAX_OUTPUT_BYTES} bytes` };
    return { ok: false, stdout, stderr, problem: `could not run ${sandbox.m4}: ${r.error.message}` };
  }
  if (r.signal === 'SIGXCPU') return { ok: false, stdout, stderr, problem: `m4 used more than ${seconds} s of CPU time and was stopped` };
  if (r.signal === 'SIGXFSZ') return { ok: false, stdout, stderr, problem: `m4 wrote a file larger than ${MAX_OUTPUT_BYTES} bytes and was stopped` };
  if (r.signal) return { ok: false, stdout, stderr, problem: `m4 was killed by ${r.signal}` };
  if (r.status !== 0 && /memory exhausted/.test(stderr)) {
    return { ok: false, stdout, stderr, problem: `m4 ran out of memory (capped at ${MAX_ADDRESS_SPACE_BYTES / 1024 / 1024} MiB of address space)` };
  }
  return { ok: r.status === 0, stdout, stderr };
}

/** m4's messages as lines, control characters escaped: they carry text from the tree. */
function m4Messages(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** At most MAX_M4_MESSAGES lines, then how many more there were. */
function capped(lines: readonly string[]): string[] {
  if (lines.length <= MAX_M4_MESSAGES) return [...lines];
  return [...lines.slice(0, MAX_M4_MESSAGES), `… and ${lines.length - MAX_M4_MESSAGES} more messages`];
}

/** One VP3021 per call of a disabled builtin, on the line of the call when m4 could say it. */
function disabledBuiltinDiagnostics(stderr: string, sections: readonly Section[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const line of m4Messages(stderr)) {
    const marker = line.indexOf(DISABLED_MARKER);
    if (marker < 0) continue;
    const name = /^[A-Za-z0-9_]*/.exec(line.slice(marker + DISABLED_MARKER.length))?.[0] ?? '';
    // __file__ is quoted with the tree's quotes, which changequote may have made odd ones.
    const at = /^(.*):(\d+): $/.exec(line.slice(0, marker));
    const section = at ? sections.filter((s) => at[1]!.includes(s.rel)).sort((a, b) => b.rel.length - a.rel.length)[0] : undefined;
    const span = at && section ? lineSpan(section.rel, section.content.toString('utf8'), Number(at[2])) : undefined;
    out.push(diagnostic('PolicyM4BuiltinDisabled', [name], span));
    if (out.length === MAX_M4_MESSAGES) break;
  }
  return out;
}

/** One VP3006 per message m4 printed ("m4:FILE:LINE: MESSAGE" gets a span on that line). */
function m4Diagnostics(run: M4Run, sections: readonly Section[], policyShown: string): Diagnostic[] {
  if (run.problem) return [diagnostic('PolicyM4Failed', [policyShown, run.problem], undefined, run.help)];
  const out: Diagnostic[] = [];
  for (const line of capped(m4Messages(run.stderr).filter((l) => !l.includes(DISABLED_MARKER)))) {
    const located = /^m4:(.+?):(\d+): (.*)$/.exec(line);
    if (located) {
      const [, where = '', lineNo = '0', message = ''] = located;
      const section = sections.find((s) => s.rel === where);
      const span = section ? lineSpan(where, section.content.toString('utf8'), Number(lineNo)) : undefined;
      out.push(diagnostic('PolicyM4Failed', [`${where}:${lineNo}`, message], span));
    } else {
      out.push(diagnostic('PolicyM4Failed', [policyShown, line.replace(/^m4: ?/, '')]));
    }
  }
  if (out.length === 0) out.push(diagnostic('PolicyM4Failed', [policyShown, 'm4 exited with a failure status and printed no message']));
  return out;
}

