// The semantic privilege diff, as a library call. OLD and NEW are specs, policy.conf files,
// Xen policy trees or git:REV:path of any of them. Each side is read and reduced to its
// facts before the next is read, so two large host policies are never in memory together.

import type { ScaleLimits } from '../compiler/scale.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { resolve } from 'node:path';
import type { Diagnostic } from '../core/diagnostics.js';
import { inPolicy, placeAll, type PlacedDiagnostic } from '../core/located.js';
import { INPUT_KINDS, readInputText } from '../core/read-input.js';
import { sourceText, type SourceText } from '../core/source.js';
import type { XsPerms } from '../xenstore/access.js';
import { CHECKER_ANALYSES } from '../diff/analyses.js';
import { uniformContexts } from '../diff/constraints.js';
import { DiffSession, type PreparedSide } from '../diff/diff.js';
import { GIT_PREFIX, isGitRef } from '../diff/git.js';
import { isSpecPath, readInput, type DiffInput, type InputRead } from '../diff/inputs.js';
import type { DiffReport, XenstoreChange } from '../diff/types.js';
import { diffXenstoreDumps, parseDump } from '../diff/xenstore.js';
import { EXIT_OK, EXIT_USAGE, type ExitCode } from './exit.js';

export interface DiffOptions {
  /** The Xen release specs are compiled for (default: each spec's own). */
  readonly xen?: string;
  /** Lifts the scale limits specs are held to (compiler/scale.ts; the defaults otherwise). */
  readonly limits?: Partial<ScaleLimits>;
  /** Evaluate constraints with every type labelled USER:ROLE:TYPE (default: the labels a Xen host gives). */
  readonly constraintsAs?: { readonly user: string; readonly role: string };
  /** Also diff the ACLs of two `xenstore-ls -p` dumps. */
  readonly xenstore?: { readonly old: string; readonly new: string };
  /** Where relative paths and git:REV:path are resolved (default: the working directory). */
  readonly cwd?: string;
}

export interface DiffOutcome {
  /** 0 the diff was made (whether or not it grants new access), 2 input errors. */
  readonly exit: ExitCode;
  readonly report?: DiffReport;
  /** Every diagnostic met: warnings about either side, or what stopped the diff. */
  readonly diagnostics: readonly PlacedDiagnostic[];
  /** Set when the diff could not be made: the diagnostics that stopped it. */
  readonly failure?: { readonly diagnostics: readonly PlacedDiagnostic[] };
  /**
   * The files on disk behind NEW's file names in the report (name → path), for renderers that
   * must point at real files: NEW's spec or policy sources, when NEW is not a git revision
   * (whose checkout is gone once read) — a change is fixed in NEW.
   */
  readonly files?: ReadonlyMap<string, string>;
}

/** Whether an argument names a spec, decided from its name before anything is read. */
function namesSpec(arg: string): boolean {
  if (!isGitRef(arg)) return isSpecPath(arg);
  const rest = arg.slice(GIT_PREFIX.length);
  return isSpecPath(rest.slice(rest.indexOf(':') + 1));
}

/** A diagnostic where it is: in a spec or dump the diff read, else in a policy through its LineMap. */
function placeIn(diagnostics: readonly Diagnostic[], read: Pick<InputRead, 'parsed'>, sources: readonly SourceText[]): PlacedDiagnostic[] {
  return placeAll(diagnostics, sources, read.parsed ? inPolicy(read.parsed) : undefined);
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

/**
 * OLD's parse tree is garbage once its facts are extracted, but V8 collects lazily, so NEW's
 * parse would stack on it (1.4 GiB instead of 0.8 for two 10 000-type policies). One full
 * collection between the sides keeps the peak at one policy; `gc` is reached through a
 * flag set at run time, as nothing else needs it.
 */
function collectGarbage(): void {
  try {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // Only memory is at stake: without gc the diff is the same, just larger at its peak.
  }
}

type Side =
  | { readonly prepared: PreparedSide; readonly warnings: readonly PlacedDiagnostic[]; readonly files: ReadonlyMap<string, string> }
  | { readonly failed: readonly PlacedDiagnostic[]; readonly warnings: readonly PlacedDiagnostic[] };

/** The files on disk behind an input's file names; none for a git revision (its checkout is removed). */
function filesOf(arg: string, input: DiffInput, cwd: string): ReadonlyMap<string, string> {
  if (isGitRef(arg)) return new Map();
  return input.kind === 'spec' ? new Map([[input.file, resolve(cwd, arg)]]) : input.policy.files;
}

/** Reads one side and reduces it to its facts; its parse tree and model die with this frame. */
function prepareSide(session: DiffSession, arg: string, side: 'old' | 'new', cwd: string): Side {
  const read = readInput(arg, cwd);
  if (!read.input) return { failed: placeIn(read.diagnostics, read, session.sources), warnings: [] };
  const warnings = placeIn(read.diagnostics, read, session.sources);
  const files = filesOf(arg, read.input, cwd);
  const prepared = session.side(read.input, side);
  if (Array.isArray(prepared)) return { failed: placeIn(prepared, read, session.sources), warnings };
  return { prepared, warnings, files };
}

/** What OLD grants and NEW grants, compared: in capability terms for specs, as access for policies. */
export function diff(oldRef: string, newRef: string, options: DiffOptions = {}): DiffOutcome {
  const failed = (stop: readonly PlacedDiagnostic[], before: readonly PlacedDiagnostic[] = []): DiffOutcome => ({ exit: EXIT_USAGE, diagnostics: [...before, ...stop], failure: { diagnostics: stop } });
  let xenstore: XenstoreChange[] = [];
  if (options.xenstore) {
    const dumps = readDumps(options.xenstore.old, options.xenstore.new);
    if ('diagnostics' in dumps) return failed(placeAll(dumps.diagnostics, dumps.sources));
    xenstore = dumps.changes;
  }
  const as = options.constraintsAs;
  const session = new DiffSession(namesSpec(oldRef) && namesSpec(newRef), {
    analyses: CHECKER_ANALYSES,
    ...(options.xen !== undefined ? { xen: options.xen } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(as ? { constraintContexts: uniformContexts(as.user, as.role) } : {}),
  });
  const cwd = options.cwd ?? process.cwd();
  const sides: PreparedSide[] = [];
  const warnings: PlacedDiagnostic[] = [];
  let files: ReadonlyMap<string, string> = new Map();
  for (const [ref, side] of [[oldRef, 'old'], [newRef, 'new']] as const) {
    const prepared = prepareSide(session, ref, side, cwd);
    if ('failed' in prepared) return failed(prepared.failed, [...warnings, ...prepared.warnings]);
    warnings.push(...prepared.warnings);
    sides.push(prepared.prepared);
    files = prepared.files;
    // The side's LoadedPolicy is out of scope now (prepareSide returned): collect it.
    if (side === 'old') collectGarbage();
  }
  const [o, w] = sides as [PreparedSide, PreparedSide];
  return { exit: EXIT_OK, report: session.finish(o, w, xenstore), diagnostics: warnings, files };
}
