// `vmipolicy selftest SPEC` and `vmipolicy verify SPEC`: arguments → api/selftest.ts →
// diagnostics on stderr, then the report (selftest) or one line per stage, the check's findings
// when it counts any, and the failing stage's report (verify); on a terminal, progress on
// stderr while they run (cli/progress.ts). Exit codes: 0 all hold, 1 findings / not as
// expected, 2 bad input or usage (api/exit.ts).

import { performance } from 'node:perf_hooks';
import { verdictLine } from '../report/check/text.js';
import { selftestJson, selftestText, selftestVerdictLine } from '../report/selftest.js';
import { selftest, verify, type SelftestOptions, type VerifyStage } from '../api/selftest.js';
import type { CheckReport } from '../checker/check.js';
import type { CheckOutcome } from '../api/check.js';
import type { DrawnGraph } from '../report/check/dot.js';
import type { CheckHtmlInput } from '../report/html/check.js';
import { snippetsAt, sourcesOf } from './sources.js';
import type { Sources } from '../report/html/page.js';
import { formatOf, parseArgs, type ParsedArgs } from './args.js';
import { CHECK_FLAGS, checkOptionsOf, renderSvg, renderText, reportOutcome, validateCheckArgs } from './check.js';
import { reportDocument } from '../report/check/json.js';
import { EXIT_USAGE, progress, recordedDiagnostics, specArgument, usageError, type Io } from './io.js';
import { reportAll } from './render.js';
import { specName, type SpecInput } from '../api/spec-input.js';
import { terminalSafe } from '../core/terminal.js';
import { counted } from '../report/diagnostics.js';
import { machineCommand } from './machine.js';
import { progressOptions, statusLine } from './progress.js';

/** check's flags that only check's own output reads (its SARIF, its exit on warnings). */
const CHECK_OUTPUT_FLAGS: readonly string[] = ['--sarif-root', '--fail-on'];

/**
 * check's flags, plus the self-test's own. `--timings` adds the measured microseconds to the
 * report: without it the output (text and JSON) is the same bytes on every run.
 */
export const SELFTEST_FLAGS = {
  values: [...CHECK_FLAGS.values.filter((f) => !CHECK_OUTPUT_FLAGS.includes(f)), '--memory-mib', '--data-pages'],
  repeatable: CHECK_FLAGS.repeatable,
  booleans: [...CHECK_FLAGS.booleans, '--verbose', '--timings'],
} as const;

const SELFTEST_FORMATS = ['text', 'json'] as const;
const VERIFY_FORMATS = ['text', 'json', 'html'] as const;

function parse(argv: readonly string[], io: Io, command: string, formats: readonly string[] = SELFTEST_FORMATS): { args: ParsedArgs; spec: SpecInput; format: string } | number {
  const args = parseArgs(argv, SELFTEST_FLAGS);
  const bad = validateCheckArgs(args);
  if (bad) return usageError(io, bad);
  if (args.lists.has('--policy') || args.lists.has('--xl') || args.flags.has('--xenstore')) {
    return usageError(io, `${command} runs on the compiled output; --policy, --xl and --xenstore are for check`);
  }
  const format = formatOf(args, formats);
  if ('error' in format) return usageError(io, format.error);
  for (const flag of ['--memory-mib', '--data-pages']) {
    const v = args.flags.get(flag);
    if (v !== undefined && !/^[1-9][0-9]{0,3}$/.test(v)) return usageError(io, `${flag} must be a whole number from 1 to 9999, not ${v}`);
  }
  const [spec, ...extra] = args.positional;
  if (!spec) return usageError(io, `${command} needs a SPEC file`);
  if (extra.length) return usageError(io, `unexpected argument ${extra[0]}`);
  const input = specArgument(spec);
  if (typeof input === 'object' && 'diagnostics' in input) {
    reportAll(io, input.diagnostics);
    return EXIT_USAGE;
  }
  return { args, spec: input, format: format.format };
}

function selftestOptionsOf(args: ParsedArgs): SelftestOptions {
  const memory = args.flags.get('--memory-mib');
  const pages = args.flags.get('--data-pages');
  return {
    ...checkOptionsOf(args),
    ...(args.flags.has('--timings') ? { now: () => performance.now() } : {}),
    ...(memory ? { memoryBytes: Number(memory) << 20 } : {}),
    ...(pages ? { dataPages: Number(pages) } : {}),
  };
}

function selftestCommand(argv: readonly string[], given: Io): number {
  const parsed = parse(argv, given, 'selftest');
  if (typeof parsed === 'number') return parsed;
  const { args, spec, format } = parsed;
  const status = statusLine(given);
  const io = status.io;
  progress(io, `compiling ${terminalSafe(specName(spec))}, then self-testing it on a simulated host…`);
  const outcome = selftest(spec, { ...selftestOptionsOf(args), ...progressOptions(status) });
  status.clear();
  reportOutcome(io, outcome);
  if (!outcome.report) return outcome.exit;
  io.stdout(format === 'json' ? selftestJson(outcome.report) : selftestText(outcome.report, { verbose: args.flags.has('--verbose') }));
  return outcome.exit;
}

/** verify's line for a stage that did not hold, in the text format. */
const FAILED_LINES: Readonly<Record<VerifyStage['stage'], string>> = {
  compile: 'compile  FAILED (see the diagnostics above)',
  check: 'check    FAILED (the policy could not be read; see above)',
  selftest: 'selftest FAILED (the simulated host could not boot; see above)',
};

/**
 * verify as one HTML page: the stages' banner, the check's graph and findings, the
 * self-test's steps. The check's outcome is kept to the end (its graph is drawn, and its
 * sources quoted, after the self-test ran).
 */
async function verifyHtmlCommand(spec: SpecInput, args: ParsedArgs, given: Io): Promise<number> {
  // The page's writers, loaded for this format only (start-up is most of a small verify).
  const [{ drawGraph }, { verifyHtml }] = await Promise.all([import('../report/check/dot.js'), import('../report/html/verify.js')]);
  // What the page takes from the check, made as soon as the check ends: the report, its
  // drawing and the snippets its findings quote. Holding the check outcome itself would keep
  // the compiler's IR, the policy and its parse tree alive through the whole self-test.
  let checked: { report: CheckReport; drawing: DrawnGraph; sources: Sources; unwritten: ReadonlySet<string> } | undefined;
  const status = statusLine(given);
  const io = status.io;
  progress(io, `compiling and checking ${terminalSafe(specName(spec))}…`);
  const outcome = verify(spec, { ...selftestOptionsOf(args), ...progressOptions(status) }, {
    onCheck: (report, check) => {
      checked = { report, drawing: drawGraph(report, { ids: true }), sources: snippetsAt(sourcesOf(check), report.findings.flatMap((f) => f.provenance)), unwritten: check.unwritten ?? new Set<string>() };
    },
  });
  status.clear();
  reportOutcome(io, { diagnostics: outcome.diagnostics });
  const selftestReport = outcome.stages.flatMap((s) => (s.stage === 'selftest' && s.report ? [s.report] : []))[0];
  let check: CheckHtmlInput | undefined;
  if (checked) {
    const unwritten = checked.unwritten;
    check = { report: checked.report, drawing: checked.drawing, svg: await renderSvg(checked.drawing.dot), sources: checked.sources, unwritten: (file) => unwritten.has(file) };
  }
  io.stdout(verifyHtml({
    spec: specName(spec),
    ok: outcome.ok,
    stages: outcome.stages,
    ...(check ? { check } : {}),
    ...(selftestReport ? { selftest: selftestReport } : {}),
    diagnostics: recordedDiagnostics(io),
  }));
  return outcome.exit;
}

function verifyCommand(argv: readonly string[], given: Io): number | Promise<number> {
  const parsed = parse(argv, given, 'verify', VERIFY_FORMATS);
  if (typeof parsed === 'number') return parsed;
  const { args, spec, format } = parsed;
  if (format === 'html') return verifyHtmlCommand(spec, args, given);
  const status = statusLine(given);
  const io = status.io;
  const json = format === 'json';
  // The check report as JSON (verify's document) or text (when it is not proven, or proven
  // with warnings), taken as soon as it exists so the self-test does not carry it.
  let checkJson: unknown;
  let checkText: string | undefined;
  progress(io, `compiling and checking ${terminalSafe(specName(spec))}…`);
  const outcome = verify(spec, { ...selftestOptionsOf(args), ...progressOptions(status) }, {
    onCheck: (report: CheckReport, check: CheckOutcome) => {
      if (report.proven) progress(io, `proven; self-testing ${counted(report.introspectors.length, 'introspector')} on a simulated host…`);
      if (json) checkJson = reportDocument(report);
      // The findings behind the verdict whenever it counts any: a failure's errors, and the
      // warnings a proven policy still has (the verdict line counts them; they are shown too).
      const listed = !report.proven || report.findings.some((f) => f.severity === 'warning');
      if (!json) checkText = `check    ${verdictLine(report)}\n` + (listed ? '\n' + renderText(report, args, check.unwritten) + (report.proven ? '\n' : '') : '');
    },
  });
  status.clear();
  reportOutcome(io, { diagnostics: outcome.diagnostics });
  const stages = outcome.stages.map((s) => (s.stage === 'check' && checkJson !== undefined ? { ...s, report: checkJson } : s));
  if (json) {
    io.stdout(JSON.stringify({ spec, ok: outcome.ok, exit: outcome.exit, stages, diagnostics: recordedDiagnostics(io) }, null, 2) + '\n');
    return outcome.exit;
  }
  for (const stage of outcome.stages) {
    if (stage.stage === 'compile' && stage.ok) io.stdout(`compile  ok (${stage.files?.length ?? 0} files)\n`);
    else if (stage.stage === 'check' && checkText !== undefined) io.stdout(checkText);
    else if (stage.stage === 'selftest' && stage.report) {
      io.stdout(`selftest ${selftestVerdictLine(stage.report).replace(/^selftest /, '')}\n`);
      if (!stage.ok) io.stdout('\n' + selftestText(stage.report));
    } else io.stdout(FAILED_LINES[stage.stage] + '\n');
  }
  return outcome.exit;
}

/** `runSelftest` with its machine formats kept valid on exit 2 (cli/machine.ts). */
export const runSelftest = machineCommand(['json'], selftestCommand);

/** `runVerify` with its machine formats kept valid on exit 2 (cli/machine.ts). */
export const runVerify = machineCommand(['json', 'html'], verifyCommand);
