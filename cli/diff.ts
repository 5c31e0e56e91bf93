// `vmipolicy diff OLD NEW [--format text|json|markdown|sarif] [--fail-on new-access] [--xen V]`:
// the semantic privilege diff. OLD and NEW are specs, policy.conf files, Xen policy trees or
// git:REV:path of any of them. Each side is read and reduced before the next is read, so
// two large host policies are never in memory together. Exit: 0, 1 (new access with
// --fail-on new-access), 2 (bad input or usage).

import { CHECKER_ANALYSES } from '../diff/analyses.js';
import { DiffSession, type PreparedSide } from '../diff/diff.js';
import { uniformContexts } from '../diff/constraints.js';
import { readInput, isSpecPath, type InputRead } from '../diff/inputs.js';
import { GIT_PREFIX, isGitRef } from '../diff/git.js';
import { renderJson } from '../report/diff/json.js';
import { renderMarkdown } from '../report/diff/markdown.js';
import { renderSarif } from '../report/diff/sarif.js';
import { renderText } from '../report/diff/text.js';
import { sourceText, type Diagnostic, type SourceText } from '../compiler/index.js';
import { INPUT_KINDS, readInputText } from '../core/read-input.js';
import type { XsPerms } from '../xenstore/access.js';
import { diffXenstoreDumps, parseDump } from '../diff/xenstore.js';
import type { XenstoreChange } from '../diff/types.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { formatOf, parseArgs } from './args.js';
import { usageError, type Io } from './main.js';
import { machineCommand } from './machine.js';
import { reportPolicyDiagnostic, reportSourceDiagnostic, summary } from './render.js';

const EXIT_OK = 0;
const EXIT_NEW_ACCESS = 1;
const EXIT_USAGE = 2;

const FORMATS = ['text', 'json', 'markdown', 'sarif'] as const;
const FAIL_ON = ['new-access'] as const;

/** Whether an argument names a spec, decided from its name before anything is read. */
function namesSpec(arg: string): boolean {
  if (!isGitRef(arg)) return isSpecPath(arg);
  const rest = arg.slice(GIT_PREFIX.length);
  return isSpecPath(rest.slice(rest.indexOf(':') + 1));
}

function diffCommand(argv: readonly string[], io: Io): number {
  const args = parseArgs(argv, { values: ['--format', '--fail-on', '--xen', '--xenstore-old', '--xenstore-new', '--constraints-as'] });
  if (args.flags.has('--help')) {
    io.stdout('vmipolicy diff OLD NEW [--format text|json|markdown|sarif] [--fail-on new-access] [--xen VERSION]\n' +
      '  OLD, NEW: a spec (.yaml), a policy.conf, a Xen policy tree, or git:REV:path of one of them.\n' +
      '  --xenstore-old DUMP --xenstore-new DUMP: also diff the ACLs of two `xenstore-ls -p` dumps.\n' +
      '  --constraints-as USER:ROLE: evaluate constraints with every type labelled USER:ROLE:TYPE (xl: system_u:system_r).\n');
    return EXIT_OK;
  }
  if (args.errors.length) return usageError(io, args.errors[0] as string);
  const fmt = formatOf(args, FORMATS);
  if ('error' in fmt) return usageError(io, fmt.error);
  const failOn = args.flags.get('--fail-on');
  if (failOn !== undefined && !(FAIL_ON as readonly string[]).includes(failOn)) return usageError(io, `--fail-on takes new-access, not ${failOn}`);
  const [oldArg, newArg, ...extra] = args.positional;
  if (!oldArg || !newArg) return usageError(io, 'diff needs OLD and NEW (a spec, a policy.conf, a Xen policy tree, or git:REV:path)');
  if (extra.length) return usageError(io, `unexpected argument ${extra[0]}`);

  const xsOld = args.flags.get('--xenstore-old');
  const xsNew = args.flags.get('--xenstore-new');
  if ((xsOld === undefined) !== (xsNew === undefined)) return usageError(io, '--xenstore-old and --xenstore-new go together');
  let xenstore: XenstoreChange[] = [];
  if (xsOld !== undefined && xsNew !== undefined) {
    const dumps = readDumps(xsOld, xsNew);
    if ('diagnostics' in dumps) return fail(io, dumps.diagnostics, { diagnostics: [] }, dumps.sources);
    xenstore = dumps.changes;
  }
  const xen = args.flags.get('--xen');
  const as = args.flags.get('--constraints-as');
  const asParts = as?.split(':');
  if (as !== undefined && (asParts?.length !== 2 || !asParts.every((x) => /^[A-Za-z_][A-Za-z0-9_.]*$/.test(x)))) return usageError(io, `--constraints-as takes USER:ROLE (e.g. system_u:system_r), not ${as}`);
  const session = new DiffSession(namesSpec(oldArg) && namesSpec(newArg), {
    analyses: CHECKER_ANALYSES,
    ...(xen !== undefined ? { xen } : {}),
    ...(asParts ? { constraintContexts: uniformContexts(asParts[0] as string, asParts[1] as string) } : {}),
  });
  const cwd = process.cwd();
  const sides: PreparedSide[] = [];
  for (const [arg, side] of [[oldArg, 'old'], [newArg, 'new']] as const) {
    const prepared = prepareSide(session, arg, side, cwd, io, fmt.format);
    if (typeof prepared === 'number') return prepared;
    sides.push(prepared);
    // The side's LoadedPolicy is out of scope now (prepareSide returned): collect it.
    if (side === 'old') collectGarbage();
  }
  const [o, w] = sides as [PreparedSide, PreparedSide];
  const report = session.finish(o, w, xenstore);
  const render = { text: renderText, json: renderJson, markdown: renderMarkdown, sarif: renderSarif }[fmt.format as (typeof FORMATS)[number]];
  io.stdout(render(report));
  return failOn === 'new-access' && report.newAccess ? EXIT_NEW_ACCESS : EXIT_OK;
}

/** Reads one side and reduces it to its facts; its parse tree and model die with this frame. */
function prepareSide(session: DiffSession, arg: string, side: 'old' | 'new', cwd: string, io: Io, format: string): PreparedSide | number {
  const read = readInput(arg, cwd);
  if (!read.input) return fail(io, read.diagnostics, read, session.sources);
  warn(io, format, read.diagnostics, read, session.sources);
  const prepared = session.side(read.input, side);
  if (Array.isArray(prepared)) return fail(io, prepared, read, session.sources);
  return prepared;
}

/**
 * OLD's parse tree is garbage once its facts are extracted, but V8 collects lazily, so NEW's
 * parse would stack on it (1.4 GiB instead of 0.8 for two 10 000-type policies). One full
 * collection between the sides keeps the peak at one policy; `gc` is reached through a
 * flag set at run time, as nothing else in the CLI needs it.
 */
function collectGarbage(): void {
  try {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // Only memory is at stake: without gc the diff is the same, just larger at its peak.
  }
}

/** Two `xenstore-ls -p` dumps → their ACL changes, or the diagnostics that stop the diff. */
function readDumps(oldPath: string, newPath: string): { changes: XenstoreChange[] } | { diagnostics: Diagnostic[]; sources: SourceText[] } {
  const parsed = [];
  const sources: SourceText[] = [];
  for (const path of [oldPath, newPath]) {
    const read = readInputText(path, INPUT_KINDS.xenstore);
    if (!read.ok) return { diagnostics: [read.diagnostic], sources };
    const text = read.text;
    sources.push(sourceText(path, text));
    const d = parseDump(path, text);
    if (!d.perms) return { diagnostics: d.diagnostics, sources };
    parsed.push(d.perms);
  }
  return { changes: diffXenstoreDumps(parsed[0] as Map<string, XsPerms>, parsed[1] as Map<string, XsPerms>) };
}

/** Reports `d` where it is: in a spec or dump the diff read, else in a policy through its LineMap. */
function report(io: Io, d: Diagnostic, read: InputRead, sources: readonly SourceText[]): void {
  const source = sources.find((s) => s.file === d.span?.file);
  if (source) reportSourceDiagnostic(io, d, source);
  else reportPolicyDiagnostic(io, d, read.parsed);
}

function warn(io: Io, format: string, diagnostics: readonly Diagnostic[], read: InputRead, sources: readonly SourceText[]): void {
  if (format === 'text') for (const d of diagnostics) report(io, d, read, sources);
}

/** Exit 2: the diagnostics on stderr, and for a machine format as its document (cli/machine.ts). */
function fail(io: Io, diagnostics: readonly Diagnostic[], read: InputRead, sources: readonly SourceText[]): number {
  for (const d of diagnostics) report(io, d, read, sources);
  io.stderr(`vmipolicy: nothing to diff (${summary(diagnostics)})\n`);
  return EXIT_USAGE;
}

/** `runDiff` with its machine formats kept valid on exit 2 (cli/machine.ts). */
export const runDiff = machineCommand(['json', 'sarif', 'markdown'], diffCommand);
