// `vmipolicy diff OLD NEW [--format text|json|markdown|sarif] [--fail-on new-access] [--xen V]`:
// arguments → api/diff.ts → the report in the chosen format. Exit: 0, 1 (new access with
// --fail-on new-access), 2 (bad input or usage).

import { diff, type DiffOptions } from '../api/diff.js';
import { EXIT_FINDINGS, EXIT_OK } from '../api/exit.js';
import { renderJson } from '../report/diff/json.js';
import { renderMarkdown } from '../report/diff/markdown.js';
import { renderSarif } from '../report/diff/sarif.js';
import { sarifPlacement, sarifRootProblem } from './sarif-placement.js';
import { isGitRef } from '../diff/git.js';
import type { DiffReport } from '../diff/types.js';
import { renderText } from '../report/diff/text.js';
import { diffHtml } from '../report/html/diff.js';
import { sourcesOf } from './sources.js';
import { summary } from '../report/diagnostics.js';
import { formatOf, parseArgs, SCALE_FLAGS, scaleLimitsOf } from './args.js';
import { usageError, type Io } from './io.js';
import { machineCommand } from './machine.js';
import { reportAll } from './render.js';

const FORMATS = ['text', 'json', 'markdown', 'sarif', 'html'] as const;
const FAIL_ON = ['new-access'] as const;
const RENDER = { text: renderText, json: renderJson, markdown: renderMarkdown } as const;

/** SARIF at NEW's files under the root; a change with no place there is located at NEW itself. */
function diffSarif(report: DiffReport, root: string | undefined, newArg: string, files: ReadonlyMap<string, string> = new Map()): string {
  const withNew = isGitRef(newArg) ? files : new Map([...files, [newArg, newArg]]);
  return renderSarif(report, sarifPlacement(root, withNew), newArg);
}

function diffCommand(argv: readonly string[], io: Io): number {
  const args = parseArgs(argv, { values: ['--format', '--fail-on', '--xen', '--xenstore-old', '--xenstore-new', '--constraints-as', '--sarif-root', ...SCALE_FLAGS] });
  if (args.flags.has('--help')) {
    io.stdout('vmipolicy diff OLD NEW [--format text|json|markdown|sarif|html] [--fail-on new-access] [--xen VERSION]\n' +
      '  OLD, NEW: a spec (.yaml), a policy.conf, a Xen policy tree, or git:REV:path of one of them.\n' +
      '  --xenstore-old DUMP --xenstore-new DUMP: also diff the ACLs of two `xenstore-ls -p` dumps.\n' +
      '  --constraints-as USER:ROLE: evaluate constraints with every type labelled USER:ROLE:TYPE (xl: system_u:system_r).\n' +
      '  --sarif-root DIR: SARIF locations are NEW\'s files under DIR (default: the git work tree, else the working directory).\n');
    return EXIT_OK;
  }
  if (args.errors.length) return usageError(io, args.errors[0] as string);
  const fmt = formatOf(args, FORMATS);
  if ('error' in fmt) return usageError(io, fmt.error);
  const rootProblem = sarifRootProblem(args.flags.get('--sarif-root'));
  if (rootProblem) return usageError(io, rootProblem);
  const failOn = args.flags.get('--fail-on');
  if (failOn !== undefined && !(FAIL_ON as readonly string[]).includes(failOn)) return usageError(io, `--fail-on takes new-access, not ${failOn}`);
  const [oldArg, newArg, ...extra] = args.positional;
  if (!oldArg || !newArg) return usageError(io, 'diff needs OLD and NEW (a spec, a policy.conf, a Xen policy tree, or git:REV:path)');
  if (extra.length) return usageError(io, `unexpected argument ${extra[0]}`);

  const xsOld = args.flags.get('--xenstore-old');
  const xsNew = args.flags.get('--xenstore-new');
  if ((xsOld === undefined) !== (xsNew === undefined)) return usageError(io, '--xenstore-old and --xenstore-new go together');
  const xen = args.flags.get('--xen');
  const scale = scaleLimitsOf(args);
  if ('error' in scale) return usageError(io, scale.error);
  const as = args.flags.get('--constraints-as');
  const asParts = as?.split(':');
  if (as !== undefined && (asParts?.length !== 2 || !asParts.every((x) => /^[A-Za-z_][A-Za-z0-9_.]*$/.test(x)))) return usageError(io, `--constraints-as takes USER:ROLE (e.g. system_u:system_r), not ${as}`);
  const options: DiffOptions = {
    ...(xen !== undefined ? { xen } : {}),
    ...(scale.limits ? { limits: scale.limits } : {}),
    ...(asParts ? { constraintsAs: { user: asParts[0] as string, role: asParts[1] as string } } : {}),
    ...(xsOld !== undefined && xsNew !== undefined ? { xenstore: { old: xsOld, new: xsNew } } : {}),
  };
  const outcome = diff(oldArg, newArg, options);
  if (outcome.failure) {
    // Warnings about a side are for people reading text; what stopped the diff is for everyone.
    reportAll(io, fmt.format === 'text' ? outcome.diagnostics : outcome.failure.diagnostics);
    io.stderr(`vmipolicy: nothing to diff (${summary(outcome.failure.diagnostics.map((p) => p.diagnostic))})\n`);
    return outcome.exit;
  }
  // A page is read elsewhere: its warnings stay on stderr, as the text's do.
  if (fmt.format === 'text' || fmt.format === 'html') reportAll(io, outcome.diagnostics);
  const report = outcome.report;
  if (!report) return outcome.exit;
  io.stdout(fmt.format === 'sarif' ? diffSarif(report, args.flags.get('--sarif-root'), newArg, outcome.files)
    : fmt.format === 'html' ? diffHtml(report, sourcesOf({ ...(outcome.files ? { files: outcome.files } : {}) }))
    : RENDER[fmt.format as Exclude<(typeof FORMATS)[number], 'sarif' | 'html'>](report));
  return failOn === 'new-access' && report.newAccess ? EXIT_FINDINGS : EXIT_OK;
}

/** `runDiff` with its machine formats kept valid on exit 2 (cli/machine.ts). */
export const runDiff = machineCommand(['json', 'sarif', 'markdown', 'html'], diffCommand);
