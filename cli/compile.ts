// `vmipolicy compile SPEC -o DIR [--xen VERSION] [--mode module|standalone] [--format text|json]`:
// arguments → api/compile.ts → the artifacts written atomically into DIR (cli/output.ts).

import { compileSpec } from '../api/compile.js';
import { binaryPolicyOfText, type BinaryOutcome } from '../api/policy.js';
import { XEN_POLICY_VERSIONS } from '../policy/binary/read.js';
import { compareCodePoints } from '../core/compare.js';
import { placeAll, type PlacedDiagnostic } from '../core/located.js';
import { locatePlaced, summary } from '../report/diagnostics.js';
import { reportAll } from './render.js';
import { statusLine } from './progress.js';
import { scaleLimitsOf, type ParsedArgs } from './args.js';
import { EXIT_OK, EXIT_USAGE, specArgument, usageError, type Io } from './io.js';
import { recoverOutput, writeArtifacts, type FileText } from './output.js';

type Parsed = ParsedArgs;

/** The diagnostics on stderr as every command shows them (--quiet, colour, repeats collapsed); JSON carries them itself. */
function report(io: Io, diagnostics: readonly PlacedDiagnostic[], format: string): void {
  if (format !== 'json') reportAll(io, diagnostics);
}

export function runCompile(args: Parsed, io: Io): number {
  const [specPath, ...extra] = args.positional;
  if (!specPath) return usageError(io, 'compile needs a SPEC file');
  if (extra.length) return usageError(io, `unexpected argument ${extra[0]}`);
  const out = args.flags.get('-o');
  if (!out) return usageError(io, 'compile needs -o DIR');
  const format = args.flags.get('--format') ?? 'text';
  if (format !== 'text' && format !== 'json') return usageError(io, `--format must be text or json for compile, not ${format}`);
  const mode = args.flags.get('--mode');
  if (mode !== undefined && mode !== 'module' && mode !== 'standalone') return usageError(io, `--mode must be module or standalone, not ${mode}`);

  const scale = scaleLimitsOf(args);
  if ('error' in scale) return usageError(io, scale.error);
  if (args.flags.has('--binary') && binaryUsage(args, mode)) return usageError(io, binaryUsage(args, mode));
  // An interrupted earlier run is put right first, whatever happens to this one.
  const recovered = recoverOutput(out);
  const recoveredWarnings = placeAll(recovered.warnings);
  if (!recovered.ok) return finish(io, format, [...recoveredWarnings, ...placeAll([recovered.diagnostic])], EXIT_USAGE);
  const xen = args.flags.get('--xen');
  // The manifest is made while it is written: at 10 000 domains it is most of the output.
  const spec = specArgument(specPath);
  if (typeof spec === 'object' && 'diagnostics' in spec) return finish(io, format, [...recoveredWarnings, ...spec.diagnostics], EXIT_USAGE);
  const status = statusLine(io);
  status.show('compiling the spec…', true);
  // The policy is made as it is written too, unless --binary needs its text first: the
  // small files are then being written while it is made (cli/output.ts).
  const binaryWanted = args.flags.has('--binary');
  const result = compileSpec(spec, { ...(xen !== undefined ? { xen } : {}), ...(mode ? { mode } : {}), ...(scale.limits ? { limits: scale.limits } : {}), manifest: 'deferred', ...(binaryWanted ? {} : { policy: 'deferred' as const }) });
  status.clear();
  if (!result.artifacts) return finish(io, format, [...recoveredWarnings, ...result.diagnostics], EXIT_USAGE);
  const binary = binaryWanted ? binaryArtifact(result.artifacts, args, mode) : undefined;
  if (typeof binary === 'number') return usageError(io, binaryUsage(args, mode) || NEEDS_STANDALONE);
  if (binary && !binary.bytes) return finish(io, format, [...recoveredWarnings, ...result.diagnostics, ...binary.diagnostics], EXIT_USAGE);
  const files = new Map<string, FileText>([...result.artifacts, ...(result.deferred ?? []), ...(binary?.bytes ? [['xenpolicy', binary.bytes] as const] : [])].sort(([a], [b]) => compareCodePoints(a, b)));
  const written = writeArtifacts(out, files, status.active ? (done, of) => status.show(`writing ${out}: file ${done + 1}/${of}…`, done === 0) : undefined);
  status.clear();
  const diagnostics = [...recoveredWarnings, ...result.diagnostics, ...placeAll(written.warnings)];
  if (!written.ok) return finish(io, format, [...diagnostics, ...placeAll([written.diagnostic])], EXIT_USAGE);
  if (format === 'json') {
    io.stdout(JSON.stringify({ ok: true, out, files: [...files.keys()], diagnostics: diagnostics.map(locatePlaced) }, null, 2) + '\n');
  } else {
    report(io, diagnostics, format);
    io.stdout(`wrote ${files.size} files to ${out} (${summary(diagnostics.map((p) => p.diagnostic))})\n`);
    for (const f of files.keys()) io.stdout(`  ${f}\n`);
  }
  return EXIT_OK;
}

/**
 * `--binary`: the xenpolicy of the policy.conf just compiled (standalone mode: a module is
 * only loadable inside Xen's tree, which `policy build TREE` writes). -1 for a usage error.
 */
function binaryArtifact(artifacts: ReadonlyMap<string, string>, args: Parsed, mode: string | undefined): BinaryOutcome | number {
  if (binaryUsage(args, mode)) return -1;
  const conf = artifacts.get('policy.conf');
  if (conf === undefined) return -1; // compiled as a module
  return binaryPolicyOfText('policy.conf', conf, { version: Number(args.flags.get('--policy-version') ?? '30') });
}

const NEEDS_STANDALONE = '--binary needs a standalone policy (--mode standalone, or mode: standalone in the spec): a module is loadable only inside Xen\'s policy tree, whose binary vmipolicy policy build TREE writes';

/** Why the flags cannot give a binary ('' when they can); the spec's own mode is known only after compiling. */
function binaryUsage(args: Parsed, mode: string | undefined): string {
  if (mode === 'module') return NEEDS_STANDALONE;
  const v = args.flags.get('--policy-version') ?? '30';
  if (!XEN_POLICY_VERSIONS.includes(Number(v))) return `--policy-version must be ${XEN_POLICY_VERSIONS.join(' or ')}, not ${v}`;
  return '';
}

function finish(io: Io, format: string, diagnostics: readonly PlacedDiagnostic[], code: number): number {
  if (format === 'json') {
    io.stdout(JSON.stringify({ ok: false, diagnostics: diagnostics.map(locatePlaced) }, null, 2) + '\n');
  } else {
    report(io, diagnostics, format);
    io.stderr(`vmipolicy: nothing written (${summary(diagnostics.map((p) => p.diagnostic))})\n`);
  }
  return code;
}

