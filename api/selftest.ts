// The self-test and the whole verification, as library calls. selftest: compile the spec and
// load the policy exactly as checkSpec does (so module mode without a tree runs on the
// standalone host base), leave the check's findings to `check`, and run the embedded VMI
// core against the simulated host. verify: compile, check, selftest, stopping at the first
// stage that fails.

import type { CheckReport } from '../checker/check.js';
import { placeAll, type PlacedDiagnostic } from '../core/located.js';
import { hostPolicyOf, type HostPolicy, type Manifest } from '../vmi/host/domains.js';
import { hostArtifacts } from '../vmi/host/host.js';
import { manifestOutline } from '../compiler/emit/manifest.js';
import { compareCodePoints } from '../core/compare.js';
import { sourceText } from '../core/source.js';
import { runSelftestOn, type SelftestOptions as RunOptions, type SelftestReport } from '../vmi/selftest/selftest.js';
import { checkSpec, type CheckOptions, type CheckOutcome } from './check.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, type ExitCode, type Failure } from './exit.js';
import { specName, type SpecInput } from './spec-input.js';

/** The self-test runs on what the spec compiles to: a deployed policy, xl or xenstore is for check. */
export type SelftestOptions = Omit<CheckOptions, 'policy' | 'xl' | 'xenstore' | 'manifest'> & Pick<RunOptions, 'memoryBytes' | 'dataPages' | 'now' | 'onProgress'>;

export interface SelftestOutcome {
  /** 0 every operation as expected, 1 not, 2 input errors. */
  readonly exit: ExitCode;
  readonly report?: SelftestReport;
  readonly diagnostics: readonly PlacedDiagnostic[];
  /** What stopped it before the self-test ran: the check stage's failure, or the host's boot. */
  readonly failure?: Failure;
}

export type VerifyStage =
  | { readonly stage: 'compile'; readonly ok: boolean; readonly files?: readonly string[] }
  /** `report` is absent when the caller took it with `onCheck`. */
  | { readonly stage: 'check'; readonly ok: boolean; readonly report?: CheckReport }
  | { readonly stage: 'selftest'; readonly ok: boolean; readonly report?: SelftestReport };

export interface VerifyOutcome {
  /** 0 all three hold, 1 findings or a self-test not as expected, 2 input errors. */
  readonly exit: ExitCode;
  readonly ok: boolean;
  /** The stages that ran, in order; the last one failed unless `ok`. */
  readonly stages: readonly VerifyStage[];
  readonly diagnostics: readonly PlacedDiagnostic[];
}

export interface VerifyHooks {
  /**
   * Receives the check report as soon as it exists, which then is not kept in the outcome:
   * on a large host the self-test needs the room the check's context and graph take.
   * `check` is the whole check outcome, for a caller that quotes its sources (the HTML report).
   */
  readonly onCheck?: (report: CheckReport, check: CheckOutcome) => void;
}

function runOptions(options: SelftestOptions): RunOptions {
  return {
    ...(options.now ? { now: options.now } : {}),
    ...(options.memoryBytes ? { memoryBytes: options.memoryBytes } : {}),
    ...(options.dataPages ? { dataPages: options.dataPages } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
}

function checkOptions(options: SelftestOptions): CheckOptions {
  const { memoryBytes: _m, dataPages: _d, now: _n, onProgress: _p, ...check } = options;
  return { ...check, manifest: 'deferred' };
}

/**
 * What the self-test needs of the check stage: the compiled output and the policy it
 * loaded. The check stage defers the manifest and it is never made: the host reads the
 * compiler's outline of it instead (on a host of 10 000 targets the manifest's text is
 * hundreds of megabytes, and parsing it back took gigabytes).
 */
interface Loaded {
  readonly artifacts: ReadonlyMap<string, string>;
  readonly manifest?: Manifest;
  readonly policy: HostPolicy;
  readonly policyName: string;
}

function loadedBy(stage: CheckOutcome): Loaded | undefined {
  const artifacts = stage.compiled?.artifacts;
  const ir = stage.compiled?.ir;
  if (!artifacts || !ir || !stage.policy) return undefined;
  // Only what the host reads: the check's parse tree, policy text and compiled policy.conf
  // would otherwise live through the whole self-test beside the host's own model.
  return { artifacts: hostArtifacts(artifacts), manifest: manifestOutline(ir), policy: hostPolicyOf(stage.policy), policyName: stage.report?.policy ?? stage.policy.file };
}

/** Every file the compile stage made, the deferred manifest among them. */
function compiledFiles(compiled: NonNullable<CheckOutcome['compiled']>): string[] {
  return [...(compiled.artifacts?.keys() ?? []), ...(compiled.deferred?.keys() ?? [])].sort(compareCodePoints);
}

/** The self-test on what the check stage compiled and loaded; `before`: the diagnostics met so far. */
function selftestOn(loaded: Loaded, before: readonly PlacedDiagnostic[], spec: SpecInput, options: SelftestOptions): SelftestOutcome {
  const result = runSelftestOn({ ...loaded, spec: specName(spec) }, runOptions(options));
  if ('diagnostics' in result) {
    // A refusal of the compiled ACL script is placed in the script.
    const script = loaded.artifacts.get('xenstore-acl.sh');
    const placed = placeAll(result.diagnostics, script === undefined ? [] : [sourceText('xenstore-acl.sh', script)]);
    return { exit: EXIT_USAGE, diagnostics: [...before, ...placed], failure: { reading: 'host', diagnostics: result.diagnostics } };
  }
  return { exit: result.report.verdict === 'pass' ? EXIT_OK : EXIT_FINDINGS, report: result.report, diagnostics: before };
}

/** Compile SPEC and run the embedded VMI core against a simulated host enforcing the policy. */
export function selftest(spec: SpecInput, options: SelftestOptions = {}): SelftestOutcome {
  const checked = checkedForSelftest(spec, options);
  if ('exit' in checked) return checked;
  return selftestOn(checked.loaded, checked.diagnostics, spec, options);
}

/**
 * The check stage, kept to what the self-test needs (check findings are check's business):
 * the rest of the outcome — the compiler's IR, the parse tree, the report — dies here
 * instead of living through the self-test.
 */
function checkedForSelftest(spec: SpecInput, options: SelftestOptions): SelftestOutcome | { readonly loaded: Loaded; readonly diagnostics: readonly PlacedDiagnostic[] } {
  const stage = checkSpec(spec, checkOptions(options));
  const loaded = loadedBy(stage);
  if (!loaded) return { exit: stage.exit === EXIT_OK ? EXIT_USAGE : stage.exit, diagnostics: stage.diagnostics, ...(stage.failure ? { failure: stage.failure } : {}) };
  return { loaded, diagnostics: stage.diagnostics };
}

/**
 * compile and check, recorded in `stages`: the artifacts and policy for the self-test when
 * the policy is proven, else the exit. The compiler's IR and the check's context die with
 * this frame (unless the caller keeps the report): on a large host the self-test needs the room.
 */
function compileAndCheck(spec: SpecInput, options: SelftestOptions, hooks: VerifyHooks, stages: VerifyStage[]): { readonly exit: ExitCode; readonly loaded?: Loaded; readonly diagnostics: readonly PlacedDiagnostic[] } {
  const check = checkSpec(spec, checkOptions(options));
  const diagnostics = check.diagnostics;
  const artifacts = check.compiled?.artifacts;
  if (!artifacts) {
    stages.push({ stage: 'compile', ok: false });
    return { exit: EXIT_USAGE, diagnostics };
  }
  stages.push({ stage: 'compile', ok: true, files: compiledFiles(check.compiled as NonNullable<CheckOutcome['compiled']>) });
  const report = check.report;
  if (!report) {
    stages.push({ stage: 'check', ok: false });
    return { exit: check.exit === EXIT_OK ? EXIT_USAGE : check.exit, diagnostics };
  }
  hooks.onCheck?.(report, check);
  stages.push({ stage: 'check', ok: report.proven, ...(hooks.onCheck ? {} : { report }) });
  if (!report.proven) return { exit: EXIT_FINDINGS, diagnostics };
  return { exit: EXIT_OK, loaded: loadedBy(check) as Loaded, diagnostics };
}

/** Compile, prove least privilege, self-test: the main job, stopping at the first stage that fails. */
export function verify(spec: SpecInput, options: SelftestOptions = {}, hooks: VerifyHooks = {}): VerifyOutcome {
  const stages: VerifyStage[] = [];
  const checked = compileAndCheck(spec, options, hooks, stages);
  if (!checked.loaded) return { exit: checked.exit, ok: false, stages, diagnostics: checked.diagnostics };
  const done = selftestOn(checked.loaded, checked.diagnostics, spec, options);
  stages.push({ stage: 'selftest', ok: done.exit === EXIT_OK, ...(done.report ? { report: done.report } : {}) });
  return { exit: done.exit, ok: done.exit === EXIT_OK, stages, diagnostics: done.diagnostics };
}
