// `vmipolicy explain LOG --spec SPEC [--policy FILE] [--format text|json|markdown]`: arguments → api/explain.ts
// → the explained denials. LOG is `xl dmesg` output (or any capture of Xen's console), `-`
// for standard input. Exit: 0 no denial concerns the spec, 1 some does, 2 bad input or usage.

import { explain } from '../api/explain.js';
import { INPUT_KINDS, readStdinText } from '../core/read-input.js';
import { placeAll } from '../core/located.js';
import { locatePlaced, summary } from '../report/diagnostics.js';
import { explainDocument, explainMarkdown, explainText } from '../report/explain.js';
import { formatOf, parseArgs, SCALE_FLAGS, scaleLimitsOf } from './args.js';
import { EXIT_USAGE, STDIN_NAME, usageError, type Io } from './io.js';
import { machineCommand } from './machine.js';
import { reportAll } from './render.js';

const FORMATS = ['text', 'json', 'markdown'] as const;

function explainCommand(argv: readonly string[], io: Io): number {
  const args = parseArgs(argv, { values: ['--format', '--spec', '--policy', ...SCALE_FLAGS] });
  if (args.errors.length) return usageError(io, args.errors[0] as string);
  const fmt = formatOf(args, FORMATS);
  if ('error' in fmt) return usageError(io, fmt.error);
  const scale = scaleLimitsOf(args);
  if ('error' in scale) return usageError(io, scale.error);
  const [logArg, ...extra] = args.positional;
  if (!logArg) return usageError(io, 'explain needs LOG: a file of Xen console lines (xl dmesg), or - for standard input');
  if (extra.length) return usageError(io, `unexpected argument ${extra[0]}`);
  const spec = args.flags.get('--spec');
  if (!spec) return usageError(io, 'explain needs --spec SPEC: the spec the host was built from');
  let log: string | { readonly file: string; readonly text: string } = logArg;
  if (logArg === '-') {
    const read = readStdinText(INPUT_KINDS.log);
    if (!read.ok) {
      reportAll(io, placeAll([read.diagnostic]));
      return EXIT_USAGE;
    }
    log = { file: STDIN_NAME, text: read.text };
  }
  const policy = args.flags.get('--policy');
  const outcome = explain(log, spec, { ...(policy !== undefined ? { policy } : {}), ...(scale.limits ? { limits: scale.limits } : {}) });
  if (fmt.format === 'text' || !outcome.report) reportAll(io, outcome.diagnostics);
  const report = outcome.report;
  if (!report) {
    io.stderr(`vmipolicy: nothing explained (${summary(outcome.diagnostics.map((p) => p.diagnostic))})\n`);
    return outcome.exit;
  }
  switch (fmt.format) {
    case 'json': io.stdout(JSON.stringify(explainDocument(report, outcome.locate, outcome.diagnostics.map(locatePlaced)), null, 2) + '\n'); break;
    case 'markdown': io.stdout(explainMarkdown(report, outcome.locate)); break;
    default: io.stdout(explainText(report, outcome.locate));
  }
  return outcome.exit;
}

/** `runExplain` with its machine formats kept valid on exit 2 (cli/machine.ts). */
export const runExplain = machineCommand(['json', 'markdown'], explainCommand);
