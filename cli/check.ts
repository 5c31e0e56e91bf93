// `vmipolicy check SPEC [--policy FILE…] [--xl CFG…] [--xenstore FILE] [--xen-tree DIR]`:
// arguments → api/check.ts → diagnostics on stderr and the report in the chosen format.

import { VERSION } from '../compiler/index.js';
import { RULE_IDS, type RuleId } from '../checker/findings.js';
import type { CheckReport } from '../checker/check.js';
import { checkSpec, type CheckOptions } from '../api/check.js';
import { progressOptions, statusLine } from './progress.js';
import { EXIT_FINDINGS, EXIT_OK, type Failure } from '../api/exit.js';
import type { PlacedDiagnostic } from '../core/located.js';
import { reportJson } from '../report/check/json.js';
import { reportText } from '../report/check/text.js';
import { sourcesOf } from './sources.js';
import { summary, type LocatedDiagnostic } from '../report/diagnostics.js';
import { formatOf, parseArgs, SCALE_FLAGS, scaleLimitsOf, type ParsedArgs } from './args.js';
import { EXIT_USAGE, recordedDiagnostics, specArgument, type Io } from './io.js';
import { reportAll } from './render.js';
import { sarifPlacement, sarifRootProblem } from './sarif-placement.js';

export const CHECK_FLAGS = {
  values: ['--format', '--xen', '--mode', '--xenstore', '--xen-tree', '--max-paths', '--max-depth', '--rules', '--sarif-root', '--fail-on', ...SCALE_FLAGS],
  repeatable: ['--policy', '--xl', '--trusted'],
  booleans: ['--notes'],
} as const;

export const CHECK_FORMATS = ['text', 'json', 'sarif', 'dot', 'svg', 'html'] as const;

/**
 * The library's check options from check's flags (also verify's and selftest's). The Xen
 * tree is --xen-tree, else VMIPOLICY_XEN_TREE: the environment is the command line's to read.
 */
export function checkOptionsOf(args: ParsedArgs): CheckOptions {
  const mode = args.flags.get('--mode');
  const tree = args.flags.get('--xen-tree') ?? process.env.VMIPOLICY_XEN_TREE;
  const rules = args.flags.get('--rules')?.split(',').map((r) => r.trim()).filter(Boolean);
  const number = (flag: string): number | undefined => (args.flags.has(flag) ? Number(args.flags.get(flag)) : undefined);
  const maxPaths = number('--max-paths');
  const maxDepth = number('--max-depth');
  const scale = scaleLimitsOf(args);
  return {
    ...('limits' in scale && scale.limits ? { limits: scale.limits } : {}),
    ...(args.flags.has('--xen') ? { xen: args.flags.get('--xen') as string } : {}),
    ...(mode === 'module' || mode === 'standalone' ? { mode } : {}),
    ...(tree ? { xenTree: tree } : {}),
    ...(args.lists.has('--policy') ? { policy: args.lists.get('--policy') } : {}),
    ...(args.lists.has('--xl') ? { xl: args.lists.get('--xl') } : {}),
    ...(args.flags.has('--xenstore') ? { xenstore: args.flags.get('--xenstore') as string } : {}),
    ...(args.lists.has('--trusted') ? { trusted: args.lists.get('--trusted') } : {}),
    ...(rules ? { rules: rules as RuleId[] } : {}),
    ...(maxPaths !== undefined ? { maxPaths } : {}),
    ...(maxDepth !== undefined ? { maxDepth } : {}),
  };
}

const FAILURE_LINES = { spec: 'cannot check', policy: 'cannot read the policy' } as const;

/** The diagnostics of a check (or a stage built on one) on stderr, and the line that says why it stopped. */
export function reportOutcome(io: Io, outcome: { readonly diagnostics: readonly PlacedDiagnostic[]; readonly failure?: Failure }): void {
  reportAll(io, outcome.diagnostics);
  const failure = outcome.failure;
  // The host's own diagnostics say it all (VP9011 names the reason).
  if (failure && failure.reading !== 'host') io.stderr(`vmipolicy: ${FAILURE_LINES[failure.reading]} (${summary(failure.diagnostics)})\n`);
}

export function validateCheckArgs(args: ParsedArgs): string | undefined {
  if (args.errors.length) return args.errors[0];
  const mode = args.flags.get('--mode');
  if (mode !== undefined && mode !== 'module' && mode !== 'standalone') return `--mode must be module or standalone, not ${mode}`;
  const scale = scaleLimitsOf(args);
  if ('error' in scale) return scale.error;
  for (const flag of ['--max-paths', '--max-depth']) {
    const v = args.flags.get(flag);
    if (v !== undefined && !/^[1-9][0-9]{0,3}$/.test(v)) return `${flag} must be a whole number from 1 to 9999, not ${v}`;
  }
  const rootProblem = sarifRootProblem(args.flags.get('--sarif-root'));
  if (rootProblem) return rootProblem;
  const failOn = args.flags.get('--fail-on');
  if (failOn !== undefined && failOn !== 'error' && failOn !== 'warning') return `--fail-on takes error or warning, not ${failOn}`;
  const unknown = args.flags.get('--rules')?.split(',').map((r) => r.trim()).filter((r) => r && !(RULE_IDS as readonly string[]).includes(r));
  if (unknown?.length) return `unknown rule ${unknown[0]} in --rules (rules: ${RULE_IDS.join(', ')})`;
  return undefined;
}

/** The report as text (check's default format, and verify's when the check has findings). */
export function renderText(report: CheckReport, args: ParsedArgs, unwritten: ReadonlySet<string> = new Set()): string {
  return reportText(report, { showNotes: args.flags.has('--notes'), unwritten: (file) => unwritten.has(file) });
}

/**
 * The report as SARIF or dot, their writers loaded only for their format (start-up is most
 * of a small check). `diagnostics`: the warnings met on the way (the spec's, the base
 * fallback), reported with the findings. `files`: the files on disk behind the report's file
 * names (SARIF points only there). `unwritten`: the names of compiled output never written
 * (SARIF shows their places at the spec, as text does).
 */
async function renderLoaded(report: CheckReport, format: 'sarif' | 'dot', args: ParsedArgs, diagnostics: readonly LocatedDiagnostic[], files: ReadonlyMap<string, string> = new Map(), unwritten: ReadonlySet<string> = new Set()): Promise<string> {
  if (format === 'dot') return (await import('../report/check/dot.js')).reportDot(report);
  return (await import('../report/check/sarif.js')).reportSarif(report, VERSION, diagnostics, sarifPlacement(args.flags.get('--sarif-root'), files), (file) => unwritten.has(file));
}

/** A dot graph drawn by Graphviz (compiled to WebAssembly, @viz-js/viz): no system dot needed. */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  return (await instance()).renderString(dot, { format: 'svg' });
}

/** The HTML report of a check: the graph as Graphviz lays it out, the findings with their source lines. */
async function renderCheckHtml(report: CheckReport, inputs: Parameters<typeof sourcesOf>[0], diagnostics: readonly LocatedDiagnostic[], unwritten: ReadonlySet<string> = new Set()): Promise<string> {
  const [{ drawGraph }, { checkHtml }] = await Promise.all([import('../report/check/dot.js'), import('../report/html/check.js')]);
  const drawing = drawGraph(report, { ids: true });
  return checkHtml({ report, drawing, svg: await renderSvg(drawing.dot), sources: sourcesOf(inputs), unwritten: (file) => unwritten.has(file), diagnostics });
}

export function runCheck(argv: readonly string[], io: Io, usageError: (io: Io, message: string) => number): number | Promise<number> {
  const args = parseArgs(argv, CHECK_FLAGS);
  const bad = validateCheckArgs(args);
  if (bad) return usageError(io, bad);
  const format = formatOf(args, CHECK_FORMATS);
  if ('error' in format) return usageError(io, format.error);
  const [specPath, ...extra] = args.positional;
  if (!specPath) return usageError(io, 'check needs a SPEC file');
  if (extra.length) return usageError(io, `unexpected argument ${extra[0]}`);
  const spec = specArgument(specPath);
  if (typeof spec === 'object' && 'diagnostics' in spec) {
    reportAll(io, spec.diagnostics);
    return EXIT_USAGE;
  }
  // Only the phases are shown: a check has no inner loop worth counting.
  const status = statusLine(io);
  const { onPhase } = progressOptions(status);
  const outcome = checkSpec(spec, { ...checkOptionsOf(args), manifest: false, ...(onPhase ? { onPhase } : {}) });
  status.clear();
  reportOutcome(io, outcome);
  const report = outcome.report;
  if (!report) return outcome.exit;
  if (format.format === 'svg') return import('../report/check/dot.js').then(({ reportDot }) => renderSvg(reportDot(report))).then((svg) => (io.stdout(svg), outcome.exit));
  const exit = args.flags.get('--fail-on') === 'warning' && outcome.exit === EXIT_OK && hasWarning(report, outcome.diagnostics) ? EXIT_FINDINGS : outcome.exit;
  if (format.format === 'html') return renderCheckHtml(report, outcome, recordedDiagnostics(io), outcome.unwritten).then((page) => (io.stdout(page), exit));
  // Text and JSON at once (no loading to wait for); SARIF and dot once their writer is loaded.
  if (format.format === 'text' || format.format === 'json') {
    io.stdout(format.format === 'json' ? reportJson(report, recordedDiagnostics(io)) : renderText(report, args, outcome.unwritten));
    return exit;
  }
  return renderLoaded(report, format.format as 'sarif' | 'dot', args, recordedDiagnostics(io), outcome.files, outcome.unwritten).then((out) => (io.stdout(out), exit));
}

/** A warning anywhere: a finding of severity warning, or a warning about the input. */
function hasWarning(report: CheckReport, diagnostics: readonly PlacedDiagnostic[]): boolean {
  return report.findings.some((f) => f.severity === 'warning') || diagnostics.some((p) => p.diagnostic.severity === 'warning');
}
