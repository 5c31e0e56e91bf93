// `vmipolicy check SPEC [--policy FILE…] [--xl CFG…] [--xenstore FILE] [--xen-tree DIR]`:
// prove least privilege. Without --policy, the spec is compiled and checked inside the base
// policy of its Xen release (Xen's own tree when given, else our standalone host base);
// with --policy, the spec describes a deployment and the given policy is checked as it is.

import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { compile, VERSION, type Diagnostic, type SourceText } from '../compiler/index.js';
import type { CompileResult } from '../compiler/compile.js';
import { diagnostic, hasErrors } from '../core/diagnostics.js';
import { INPUT_KINDS, readInputFile, readInputText, type InputKind } from '../core/read-input.js';
import { sourceText } from '../core/source.js';
import { EXTRA_MODULE_NAME } from '../formats/xen-tree.js';
import { loadPolicy, policyFromText, type LoadedPolicy, type PolicyLoad } from '../policy/load.js';
import { runChecks, type CheckReport } from '../checker/check.js';
import { releaseMismatch } from '../checker/release.js';
import { readXenstoreDump, readXlLabel, xenstoreState, type XenstoreNodeAcl, type XenstoreState, type XlLabel } from '../checker/inputs.js';
import { RULE_IDS, type RuleId } from '../checker/findings.js';
import { reportJson } from '../report/check/json.js';
import { reportSarif } from '../report/check/sarif.js';
import { reportText } from '../report/check/text.js';
import { reportDot } from '../report/check/dot.js';
import { libxlXenstore } from '../xenstore/libxl-layout.js';
import { runAclScript } from '../xenstore/acl-script.js';
import { formatOf, parseArgs, type ParsedArgs } from './args.js';
import type { Io } from './main.js';
import { reportPolicyDiagnostic, reportSourceDiagnostic, summary } from './render.js';
import { recordedDiagnostics, type LocatedDiagnostic } from './machine.js';

const EXIT_OK = 0;
const EXIT_FINDINGS = 1;
const EXIT_USAGE = 2;

export const CHECK_FLAGS = {
  values: ['--format', '--xen', '--mode', '--xenstore', '--xen-tree', '--max-paths', '--max-depth', '--rules'],
  repeatable: ['--policy', '--xl', '--trusted'],
  booleans: ['--notes'],
} as const;

export const CHECK_FORMATS = ['text', 'json', 'sarif', 'dot', 'svg'] as const;

/** What the check stage produced: a report, or why there is none (input errors, exit 2). */
export interface CheckStage {
  readonly report?: CheckReport;
  readonly compiled?: CompileResult;
  /** The whole policy that was checked (AST, LineMap, model): what the self-test loads. */
  readonly policy?: LoadedPolicy;
  readonly exit: number;
}

function readFile(path: string, kind: InputKind): string | Diagnostic {
  const read = readInputText(path, kind);
  return read.ok ? read.text : read.diagnostic;
}

function fail(io: Io, diagnostics: readonly Diagnostic[], source?: SourceText): CheckStage {
  for (const d of diagnostics) reportSourceDiagnostic(io, d, source);
  io.stderr(`vmipolicy: cannot check (${summary(diagnostics)})\n`);
  return { exit: EXIT_USAGE };
}

function policyFailed(io: Io, load: PolicyLoad): CheckStage {
  for (const d of load.diagnostics) reportPolicyDiagnostic(io, d, load.parsed);
  io.stderr(`vmipolicy: cannot read the policy (${summary(load.diagnostics)})\n`);
  return { exit: EXIT_USAGE };
}

/** The policy to check: the user's, or our compiled output inside the right base. */
function choosePolicy(args: ParsedArgs, compiled: CompileResult, io: Io): { load: PolicyLoad; name: string } | CheckStage {
  const policies = args.lists.get('--policy') ?? [];
  const spec = compiled.spec;
  if (!spec || !compiled.artifacts) return { exit: EXIT_USAGE };
  if (policies.length) {
    const [first, ...extra] = policies as [string, ...string[]];
    let isTree = false;
    try {
      isTree = statSync(first).isDirectory();
    } catch { /* loadPolicy reports it */ }
    if (extra.length && !isTree) return fail(io, [diagnostic('CheckExtraPolicy', [extra[0] as string])]);
    const modules = [];
    for (const file of extra) {
      const name = basename(file).replace(/\.te$/, '');
      if (!file.endsWith('.te') || !EXTRA_MODULE_NAME.test(name)) return fail(io, [diagnostic('CheckModuleName', [file])]);
      const te = readFile(file, INPUT_KINDS.policy);
      if (typeof te !== 'string') return fail(io, [te]);
      modules.push({ name, te });
    }
    return { load: loadPolicy(first, { extraModules: modules }), name: [first, ...extra].join(' + ') };
  }
  if (spec.mode === 'standalone') {
    return { load: policyFromText('policy.conf', compiled.artifacts.get('policy.conf') as string), name: `policy.conf compiled from ${compiled.source?.file}` };
  }
  const tree = args.flags.get('--xen-tree') ?? process.env.VMIPOLICY_XEN_TREE;
  const te = compiled.artifacts.get(`${spec.module}.te`) as string;
  if (tree) return { load: loadPolicy(tree, { extraModules: [{ name: spec.module, te }] }), name: `${tree} + ${spec.module}.te` };
  // No tree: the same spec compiled as a standalone policy has our own host base around it.
  reportSourceDiagnostic(io, diagnostic('CheckBaseFallback', [spec.module, spec.xen], undefined, 'give --xen-tree DIR (a Xen source tree, or its tools/flask/policy) to check inside the stock policy'), undefined);
  const standalone = compile({ file: compiled.source?.file ?? 'spec.yaml', content: compiled.source?.text ?? '' }, { ...xenOption(args), mode: 'standalone', manifest: false });
  return { load: policyFromText('policy.conf', standalone.artifacts?.get('policy.conf') ?? ''), name: `standalone host base + ${spec.module} (Xen ${spec.xen})` };
}

function xenOption(args: ParsedArgs): { xen?: string } {
  const xen = args.flags.get('--xen');
  return xen !== undefined ? { xen } : {};
}

function readLabels(args: ParsedArgs, compiled: CompileResult, io: Io): XlLabel[] | CheckStage {
  const given = args.lists.get('--xl');
  const labels: XlLabel[] = [];
  const errors: Diagnostic[] = [];
  if (given) {
    for (const file of given) {
      const text = readFile(file, INPUT_KINDS.xl);
      if (typeof text !== 'string') { errors.push(text); continue; }
      const { label, diagnostics } = readXlLabel(file, text);
      if (label) labels.push(label);
      else errors.push(...diagnostics);
    }
  } else if (!args.lists.has('--policy')) {
    // Our own snippets: xl/<domain>.cfg for each declared domain.
    for (const d of compiled.ir?.domains ?? []) {
      const file = `xl/${d.name}.cfg`;
      const text = compiled.artifacts?.get(file);
      if (text === undefined) continue;
      const { label } = readXlLabel(file, text, d.name);
      if (label) labels.push(label);
    }
  }
  return errors.length ? fail(io, errors) : labels;
}

/**
 * The xenstore to check. A `xenstore-ls -p` dump is read as it is; a xenstore-acl.sh (ours,
 * or given with --xenstore) is applied to the nodes libxl writes for the spec's domains —
 * by an interpreter that runs nothing — and the resulting ACLs are checked, so the proof
 * covers what the script will leave on a real host.
 */
function readXenstore(path: string | undefined, compiled: CompileResult, deployed: boolean, io: Io): XenstoreState | undefined | CheckStage {
  if (path === undefined) {
    const script = compiled.artifacts?.get('xenstore-acl.sh');
    return deployed || script === undefined ? undefined : applyScript('xenstore-acl.sh', script, compiled, io);
  }
  const text = readFile(path, INPUT_KINDS.xenstore);
  if (typeof text !== 'string') return fail(io, [text]);
  if (text.startsWith('#!') || /^xenstore-chmod /m.test(text)) return applyScript(path, text, compiled, io);
  const { state, diagnostics } = readXenstoreDump(path, text);
  if (!state) return fail(io, diagnostics.length ? diagnostics : [diagnostic('CheckXenstoreKind', [path])], sourceText(path, text));
  return state;
}

function applyScript(file: string, script: string, compiled: CompileResult, io: Io): XenstoreState | CheckStage {
  // Domids as a host would number the declared domains: introspectors first, in spec order.
  const spec = compiled.spec;
  const declared = spec ? [...spec.introspectors, ...spec.targets].map((d) => d.name) : [];
  const domains = declared.map((name, i) => ({ domid: i + 1, name }));
  const domidOf = new Map(domains.map((d) => [d.name, d.domid]));
  const store = libxlXenstore(domains);
  const ran = runAclScript(script, (name) => domidOf.get(name), store, file);
  if (!ran.ok) return fail(io, [ran.error.diagnostic], sourceText(file, script));
  // The store's ACLs as the checker reads them: a node the script set is placed on the
  // script's line, the others on libxl's layout.
  const setAt = new Map(ran.run.applied.map((a) => [a.path, a.line]));
  const layout = `${file} (applied to libxl's layout)`;
  const nodes = [...store.nodeStates()].filter((n) => n.path !== '/').map((n): XenstoreNodeAcl => {
    const line = setAt.get(n.path);
    return { path: n.path, perms: n.perms, value: n.value, at: line === undefined ? { file: layout, line: 1, column: 1, kind: 'xenstore' } : { file, line, column: 1, kind: 'xenstore' } };
  });
  return xenstoreState(layout, nodes);
}

const isStage = (v: unknown): v is CheckStage => typeof v === 'object' && v !== null && 'exit' in v && !('load' in v);

/**
 * Compile (or read) and prove: the check stage of `check` and `verify`. `manifest: false`
 * skips manifest.json, which only the self-test's host reads.
 */
export function checkStage(specPath: string, args: ParsedArgs, io: Io, options: { readonly manifest?: boolean } = {}): CheckStage {
  const read = readInputFile(specPath, INPUT_KINDS.spec);
  if (!read.ok) return fail(io, [read.diagnostic]);
  const content = read.bytes;
  const mode = args.flags.get('--mode');
  const deployed = args.lists.has('--policy');
  const compiled = compile({ file: specPath, content }, { ...xenOption(args), ...(mode === 'module' || mode === 'standalone' ? { mode } : {}), deployed, manifest: options.manifest ?? true });
  if (!compiled.ir || !compiled.source || hasErrors(compiled.diagnostics)) return fail(io, compiled.diagnostics, compiled.source);
  for (const d of compiled.diagnostics) reportSourceDiagnostic(io, d, compiled.source);

  const chosen = choosePolicy(args, compiled, io);
  if (isStage(chosen)) return chosen;
  if (!chosen.load.policy) return policyFailed(io, chosen.load);
  // A tree or policy the user gave may be another release's; our own standalone base is not.
  if (args.lists.has('--policy') || args.flags.has('--xen-tree') || process.env.VMIPOLICY_XEN_TREE) {
    const mismatch = releaseMismatch(chosen.load.policy.model, compiled.ir.spec.xen, chosen.name);
    if (mismatch) reportSourceDiagnostic(io, mismatch, undefined);
  }
  const xl = readLabels(args, compiled, io);
  if (isStage(xl)) return xl;
  const xenstore = readXenstore(args.flags.get('--xenstore'), compiled, deployed, io);
  if (isStage(xenstore)) return xenstore;

  const rules = args.flags.get('--rules')?.split(',').map((r) => r.trim()).filter(Boolean);
  const report = runChecks({
    ir: compiled.ir,
    spec: compiled.source,
    model: chosen.load.policy.model,
    policyName: chosen.name,
    xl,
    ...(xenstore ? { xenstore } : {}),
    ...(args.lists.has('--trusted') ? { trusted: args.lists.get('--trusted') } : {}),
    ...(rules ? { rules: rules as RuleId[] } : {}),
    options: {
      ...(args.flags.has('--max-paths') ? { maxPaths: Number(args.flags.get('--max-paths')) } : {}),
      ...(args.flags.has('--max-depth') ? { maxDepth: Number(args.flags.get('--max-depth')) } : {}),
    },
  });
  return { report, compiled, policy: chosen.load.policy, exit: report.proven ? EXIT_OK : EXIT_FINDINGS };
}

export function validateCheckArgs(args: ParsedArgs): string | undefined {
  if (args.errors.length) return args.errors[0];
  const mode = args.flags.get('--mode');
  if (mode !== undefined && mode !== 'module' && mode !== 'standalone') return `--mode must be module or standalone, not ${mode}`;
  for (const flag of ['--max-paths', '--max-depth']) {
    const v = args.flags.get(flag);
    if (v !== undefined && !/^[1-9][0-9]{0,3}$/.test(v)) return `${flag} must be a whole number from 1 to 9999, not ${v}`;
  }
  const unknown = args.flags.get('--rules')?.split(',').map((r) => r.trim()).filter((r) => r && !(RULE_IDS as readonly string[]).includes(r));
  if (unknown?.length) return `unknown rule ${unknown[0]} in --rules (rules: ${RULE_IDS.join(', ')})`;
  return undefined;
}

/** `diagnostics`: the warnings met on the way (the spec's, the base fallback), reported with the findings. */
export function renderReport(report: CheckReport, format: string, args: ParsedArgs, diagnostics: readonly LocatedDiagnostic[] = []): string {
  switch (format) {
    case 'json': return reportJson(report, diagnostics);
    case 'sarif': return reportSarif(report, VERSION, diagnostics);
    case 'dot': return reportDot(report);
    default: return reportText(report, { showNotes: args.flags.has('--notes') });
  }
}

/** The privilege graph drawn by Graphviz (compiled to WebAssembly, @viz-js/viz): no system dot needed. */
async function renderSvg(report: CheckReport): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  return (await instance()).renderString(reportDot(report), { format: 'svg' });
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
  const stage = checkStage(specPath, args, io, { manifest: false });
  const report = stage.report;
  if (!report) return stage.exit;
  if (format.format === 'svg') return renderSvg(report).then((svg) => (io.stdout(svg), stage.exit));
  io.stdout(renderReport(report, format.format, args, recordedDiagnostics(io)));
  return stage.exit;
}
