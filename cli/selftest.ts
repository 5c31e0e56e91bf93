// `vmipolicy selftest SPEC` and `vmipolicy verify SPEC`.
// selftest: compile the spec and load the policy exactly as `check` does (so module mode
// without a tree runs on the standalone host base), ignore the check's findings, and run the
// embedded VMI core against the simulated host. verify: compile, check, selftest, stopping
// at the first stage that fails, one line per stage (and that stage's report on failure).
// Exit codes (DESIGN §4): 0 all hold, 1 findings / not as expected, 2 bad input or usage.

import { performance } from 'node:perf_hooks';
import { verdictLine } from '../report/check/text.js';
import { runSelftestOn, type SelftestInput, type SelftestReport } from '../vmi/selftest/selftest.js';
import { selftestJson, selftestText, selftestVerdictLine } from '../report/selftest.js';
import { formatOf, parseArgs, type ParsedArgs } from './args.js';
import { CHECK_FLAGS, checkStage, renderReport, validateCheckArgs, type CheckStage } from './check.js';
import { usageError, type Io } from './main.js';
import { diagnostic } from '../core/diagnostics.js';
import { recordedDiagnostics, machineCommand } from './machine.js';
import { reportSourceDiagnostic } from './render.js';

const EXIT_OK = 0;
const EXIT_FAIL = 1;
const EXIT_USAGE = 2;

/**
 * check's flags, plus the self-test's own. `--timings` adds the measured microseconds to the
 * report: without it the output (text and JSON) is the same bytes on every run.
 */
export const SELFTEST_FLAGS = {
  values: [...CHECK_FLAGS.values, '--memory-mib', '--data-pages'],
  repeatable: CHECK_FLAGS.repeatable,
  booleans: [...CHECK_FLAGS.booleans, '--verbose', '--timings'],
} as const;

const SELFTEST_FORMATS = ['text', 'json'] as const;

function parse(argv: readonly string[], io: Io, command: string): { args: ParsedArgs; spec: string; format: string } | number {
  const args = parseArgs(argv, SELFTEST_FLAGS);
  const bad = validateCheckArgs(args);
  if (bad) return usageError(io, bad);
  if (args.lists.has('--policy') || args.lists.has('--xl') || args.flags.has('--xenstore')) {
    return usageError(io, `${command} runs on the compiled output; --policy, --xl and --xenstore are for check`);
  }
  const format = formatOf(args, SELFTEST_FORMATS);
  if ('error' in format) return usageError(io, format.error);
  for (const flag of ['--memory-mib', '--data-pages']) {
    const v = args.flags.get(flag);
    if (v !== undefined && !/^[1-9][0-9]{0,3}$/.test(v)) return usageError(io, `${flag} must be a whole number from 1 to 9999, not ${v}`);
  }
  const [spec, ...extra] = args.positional;
  if (!spec) return usageError(io, `${command} needs a SPEC file`);
  if (extra.length) return usageError(io, `unexpected argument ${extra[0]}`);
  return { args, spec, format: format.format };
}

type SelftestStage = { readonly report: SelftestReport } | { readonly exit: number };

/** What the self-test needs of the check stage: the compiled output and the policy it loaded. */
type SelftestSource = Pick<SelftestInput, 'artifacts' | 'policy' | 'policyName'>;

function selftestSource(stage: CheckStage): SelftestSource | { readonly exit: number } {
  if (!stage.compiled?.artifacts || !stage.policy) return { exit: stage.exit === EXIT_OK ? EXIT_USAGE : stage.exit };
  return { artifacts: stage.compiled.artifacts, policy: stage.policy, policyName: stage.report?.policy ?? stage.policy.file };
}

/** The self-test on what the check stage compiled and loaded. */
function selftestStage(source: SelftestSource | { readonly exit: number }, spec: string, args: ParsedArgs, io: Io): SelftestStage {
  if ('exit' in source) return source;
  const memory = args.flags.get('--memory-mib');
  const pages = args.flags.get('--data-pages');
  const result = runSelftestOn(
    { ...source, spec },
    { ...(args.flags.has('--timings') ? { now: () => performance.now() } : {}), ...(memory ? { memoryBytes: Number(memory) << 20 } : {}), ...(pages ? { dataPages: Number(pages) } : {}) },
  );
  if ('errors' in result) {
    for (const e of result.errors) reportSourceDiagnostic(io, diagnostic('SelftestBoot', [e]), undefined);
    return { exit: EXIT_USAGE };
  }
  return { report: result.report };
}

function selftestCommand(argv: readonly string[], io: Io): number {
  const parsed = parse(argv, io, 'selftest');
  if (typeof parsed === 'number') return parsed;
  const { args, spec, format } = parsed;
  // Check findings are check's business: the self-test only needs the compiled output and policy.
  const done = selftestStage(selftestSource(checkStage(spec, args, io)), spec, args, io);
  if ('exit' in done) return done.exit;
  io.stdout(format === 'json' ? selftestJson(done.report) : selftestText(done.report, { verbose: args.flags.has('--verbose') }));
  return done.report.verdict === 'pass' ? EXIT_OK : EXIT_FAIL;
}

function verifyCommand(argv: readonly string[], io: Io): number {
  const parsed = parse(argv, io, 'verify');
  if (typeof parsed === 'number') return parsed;
  const { args, spec, format } = parsed;
  const json = format === 'json';
  const stages: Record<string, unknown>[] = [];
  const emit = (exit: number): number => {
    if (json) io.stdout(JSON.stringify({ spec, ok: exit === EXIT_OK, exit, stages, diagnostics: recordedDiagnostics(io) }, null, 2) + '\n');
    return exit;
  };

  let stage: CheckStage | undefined = checkStage(spec, args, io);
  const files = stage.compiled?.artifacts?.size;
  if (!stage.compiled?.artifacts) {
    stages.push({ stage: 'compile', ok: false });
    if (!json) io.stdout('compile  FAILED (see the diagnostics above)\n');
    return emit(EXIT_USAGE);
  }
  stages.push({ stage: 'compile', ok: true, files: [...stage.compiled.artifacts.keys()] });
  if (!json) io.stdout(`compile  ok (${files} files)\n`);

  if (!stage.report) {
    stages.push({ stage: 'check', ok: false });
    if (!json) io.stdout('check    FAILED (the policy could not be read; see above)\n');
    return emit(stage.exit === EXIT_OK ? EXIT_USAGE : stage.exit);
  }
  const proven = stage.report.proven;
  stages.push({ stage: 'check', ok: proven, report: JSON.parse(renderReport(stage.report, 'json', args)) as unknown });
  if (!json) io.stdout(`check    ${verdictLine(stage.report)}\n`);
  if (!proven) {
    if (!json) io.stdout('\n' + renderReport(stage.report, 'text', args));
    return emit(EXIT_FAIL);
  }

  const source = selftestSource(stage);
  // The compiler's IR and the check's report are done with: let them go before the self-test,
  // which on a large host needs the room.
  stage = undefined;
  const done = selftestStage(source, spec, args, io);
  if ('exit' in done) {
    stages.push({ stage: 'selftest', ok: false });
    if (!json) io.stdout('selftest FAILED (the simulated host could not boot; see above)\n');
    return emit(done.exit);
  }
  const pass = done.report.verdict === 'pass';
  stages.push({ stage: 'selftest', ok: pass, report: done.report });
  if (!json) {
    io.stdout(`selftest ${selftestVerdictLine(done.report).replace(/^selftest /, '')}\n`);
    if (!pass) io.stdout('\n' + selftestText(done.report));
  }
  return emit(pass ? EXIT_OK : EXIT_FAIL);
}

/** `runSelftest` with its machine formats kept valid on exit 2 (cli/machine.ts). */
export const runSelftest = machineCommand(['json'], selftestCommand);

/** `runVerify` with its machine formats kept valid on exit 2 (cli/machine.ts). */
export const runVerify = machineCommand(['json'], verifyCommand);
