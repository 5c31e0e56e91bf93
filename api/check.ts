// Proving least privilege, as a library call: compile the spec (or take the deployed policy
// given), read the xl labels and the xenstore state, and run every proof rule. Without a
// policy, the spec is compiled and checked inside the base policy of its Xen release (Xen's
// own tree when given, else our standalone host base); with one, the spec describes a
// deployment and that policy is checked as it is. Returns data: the report, what was
// compiled and loaded (the self-test runs on them), and placed diagnostics.

import type { ScaleLimits } from '../compiler/scale.js';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { compile, type CompileResult } from '../compiler/compile.js';
import { diagnostic, hasErrors, type Diagnostic } from '../core/diagnostics.js';
import { inPolicy, inSource, placeAll, type PlacedDiagnostic } from '../core/located.js';
import { INPUT_KINDS, readInputText, type InputKind } from '../core/read-input.js';
import { sourceText } from '../core/source.js';
import { EXTRA_MODULE_NAME, moduleFile } from '../formats/xen-tree.js';
import { loadPolicy, policyFromText, type LoadedPolicy, type PolicyLoad } from '../policy/load.js';
import { runChecks, type CheckReport } from '../checker/check.js';
import { releaseMismatch } from '../checker/release.js';
import { readXenstoreDump, readXlLabel, xenstoreState, type XenstoreNodeAcl, type XenstoreState, type XlLabel } from '../checker/inputs.js';
import type { RuleId } from '../checker/findings.js';
import { libxlXenstore } from '../xenstore/libxl-layout.js';
import { runAclScript } from '../xenstore/acl-script.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, type ExitCode, type Failure } from './exit.js';
import { readSpec, type SpecInput } from './spec-input.js';

export interface CheckOptions {
  /** The Xen release to compile for (default: the spec's `xen`). */
  readonly xen?: string;
  /** Lifts the scale limits the spec is held to (compiler/scale.ts; the defaults otherwise). */
  readonly limits?: Partial<ScaleLimits>;
  readonly mode?: 'module' | 'standalone';
  /** A Xen source tree (or its tools/flask/policy) to check a module-mode spec inside. */
  readonly xenTree?: string;
  /** The deployed policy: a policy.conf, or a Xen tree followed by extra NAME.te modules. */
  readonly policy?: readonly string[];
  /** Deployed xl configs (default: the compiled snippets, when no policy is given). */
  readonly xl?: readonly string[];
  /** A `xenstore-ls -p` dump or a xenstore-acl.sh (default: the compiled script, applied). */
  readonly xenstore?: string;
  /** Types trusted like dom0 by the proof rules (default: the checker's own list). */
  readonly trusted?: readonly string[];
  /** Only these rules (all when absent). */
  readonly rules?: readonly RuleId[];
  readonly maxPaths?: number;
  readonly maxDepth?: number;
  /** Write manifest.json among the compiled artifacts (default true), or defer it (see CompileOptions). */
  readonly manifest?: boolean | 'deferred';
  /** Told as each phase starts (data: the CLI shows it on a terminal, the library never prints). */
  readonly onPhase?: (phase: CheckPhase) => void;
}

/** The phases of a check, in order: compiling the spec, reading or loading the policy, running the proof rules. */
export type CheckPhase = 'compile' | 'policy' | 'prove';

/** What stopped a check before any report: reading the spec (or an input beside it), or the policy. */
export type CheckFailure = Failure & { readonly reading: 'spec' | 'policy' };

export interface CheckOutcome {
  /** 0 proven, 1 findings, 2 input errors. */
  readonly exit: ExitCode;
  readonly report?: CheckReport;
  /** The compiled spec, whenever compiling succeeded (even if the policy could not be read). */
  readonly compiled?: CompileResult;
  /** The whole policy that was checked (AST, LineMap, model): what the self-test loads. */
  readonly policy?: LoadedPolicy;
  /** Every diagnostic met, in order, each placed in the text its span points into. */
  readonly diagnostics: readonly PlacedDiagnostic[];
  readonly failure?: CheckFailure;
  /**
   * The files on disk behind the report's file names (name → path), for renderers that must
   * point at real files (SARIF for code scanning): the spec, xl configs and xenstore input read
   * from disk and the policy's sources. Names of compiled output, never written, are not here.
   */
  readonly files?: ReadonlyMap<string, string>;
  /**
   * The report's file names of compiled output the check read from memory and never wrote
   * (the compiled policy.conf, the spec's module inside --xen-tree, xl snippets,
   * xenstore-acl.sh): places in them exist for no reader, so the text and SARIF reports show
   * them at their spec line (report/check/places.ts).
   */
  readonly unwritten?: ReadonlySet<string>;
}

/** Diagnostics gathered on the way, placed as they are met. */
class Collected {
  readonly placed: PlacedDiagnostic[] = [];
  add(list: readonly PlacedDiagnostic[]): void {
    this.placed.push(...list);
  }
  fail(reading: CheckFailure['reading'], list: readonly PlacedDiagnostic[], extra: Partial<CheckOutcome> = {}): CheckOutcome {
    this.add(list);
    return { exit: EXIT_USAGE, ...extra, diagnostics: this.placed, failure: { reading, diagnostics: list.map((p) => p.diagnostic) } };
  }
}

function readFile(path: string, kind: InputKind): string | Diagnostic {
  const read = readInputText(path, kind);
  return read.ok ? read.text : read.diagnostic;
}

const placedLoad = (load: PolicyLoad): PlacedDiagnostic[] => placeAll(load.diagnostics, [], load.parsed ? inPolicy(load.parsed) : undefined);

interface ChosenPolicy {
  readonly load: PolicyLoad;
  readonly name: string;
  /** A tree or policy the user gave: it may be another release's (our own base never is). */
  readonly given: boolean;
  /** Files of the policy that are our compiled output though the policy is given: the spec's module inside --xen-tree. */
  readonly compiledInto?: readonly string[];
}

/** The policy to check: the user's, or our compiled output inside the right base. */
function choosePolicy(options: CheckOptions, compiled: CompileResult, found: Collected): ChosenPolicy | readonly Diagnostic[] {
  const spec = compiled.spec;
  const artifacts = compiled.artifacts;
  if (!spec || !artifacts) return [];
  const policies = options.policy ?? [];
  if (policies.length) {
    const [first, ...extra] = policies as [string, ...string[]];
    let isTree = false;
    try {
      isTree = statSync(first).isDirectory();
    } catch { /* loadPolicy reports it */ }
    if (extra.length && !isTree) return [diagnostic('CheckExtraPolicy', [extra[0] as string])];
    const modules = [];
    for (const file of extra) {
      const name = basename(file).replace(/\.te$/, '');
      if (!file.endsWith('.te') || !EXTRA_MODULE_NAME.test(name)) return [diagnostic('CheckModuleName', [file])];
      const te = readFile(file, INPUT_KINDS.policy);
      if (typeof te !== 'string') return [te];
      modules.push({ name, te });
    }
    return { load: loadPolicy(first, { extraModules: modules }), name: [first, ...extra].join(' + '), given: true };
  }
  if (spec.mode === 'standalone') {
    return { load: policyFromText('policy.conf', artifacts.get('policy.conf') as string), name: `policy.conf compiled from ${compiled.source?.file}`, given: false };
  }
  const te = artifacts.get(`${spec.module}.te`) as string;
  if (options.xenTree) {
    return { load: loadPolicy(options.xenTree, { extraModules: [{ name: spec.module, te }] }), name: `${options.xenTree} + ${spec.module}.te`, given: true, compiledInto: [moduleFile(spec.module, 'te')] };
  }
  // No tree: the same spec compiled as a standalone policy has our own host base around it.
  found.add([{ diagnostic: diagnostic('CheckBaseFallback', [spec.module, spec.xen], undefined, 'give --xen-tree DIR (a Xen source tree, or its tools/flask/policy) to check inside the stock policy') }]);
  const standalone = compile({ file: compiled.source?.file ?? 'spec.yaml', content: compiled.source?.text ?? '' }, { ...(options.xen !== undefined ? { xen: options.xen } : {}), ...(options.limits ? { limits: options.limits } : {}), mode: 'standalone', manifest: false });
  return { load: policyFromText('policy.conf', standalone.artifacts?.get('policy.conf') ?? ''), name: `standalone host base + ${spec.module} (Xen ${spec.xen})`, given: false };
}

function readLabels(options: CheckOptions, compiled: CompileResult): { readonly labels: XlLabel[] } | { readonly failed: readonly PlacedDiagnostic[] } {
  const labels: XlLabel[] = [];
  const errors: Diagnostic[] = [];
  if (options.xl) {
    for (const file of options.xl) {
      const text = readFile(file, INPUT_KINDS.xl);
      if (typeof text !== 'string') { errors.push(text); continue; }
      const { label, diagnostics } = readXlLabel(file, text);
      if (label) labels.push(label);
      else errors.push(...diagnostics);
    }
  } else if (!options.policy?.length) {
    // Our own snippets: xl/<domain>.cfg for each declared domain.
    for (const d of compiled.ir?.domains ?? []) {
      const file = `xl/${d.name}.cfg`;
      const text = compiled.artifacts?.get(file);
      if (text === undefined) continue;
      const { label } = readXlLabel(file, text, d.name);
      if (label) labels.push(label);
    }
  }
  return errors.length ? { failed: placeAll(errors) } : { labels };
}

type Xenstore = { readonly state?: XenstoreState } | { readonly failed: readonly PlacedDiagnostic[] };

/**
 * The xenstore to check. A `xenstore-ls -p` dump is read as it is; a xenstore-acl.sh (ours,
 * or given) is applied to the nodes libxl writes for the spec's domains — by an interpreter
 * that runs nothing — and the resulting ACLs are checked, so the proof covers what the
 * script will leave on a real host.
 */
function readXenstore(path: string | undefined, compiled: CompileResult, deployed: boolean): Xenstore {
  if (path === undefined) {
    const script = compiled.artifacts?.get('xenstore-acl.sh');
    return deployed || script === undefined ? {} : applyScript('xenstore-acl.sh', script, compiled);
  }
  const text = readFile(path, INPUT_KINDS.xenstore);
  if (typeof text !== 'string') return { failed: placeAll([text]) };
  if (text.startsWith('#!') || /^xenstore-chmod /m.test(text)) return applyScript(path, text, compiled);
  const { state, diagnostics } = readXenstoreDump(path, text);
  if (!state) return { failed: placeAll(diagnostics, [sourceText(path, text)]) };
  return { state };
}

function applyScript(file: string, script: string, compiled: CompileResult): Xenstore {
  // Domids as a host would number the declared domains: introspectors first, in spec order.
  const spec = compiled.spec;
  const declared = spec ? [...spec.introspectors, ...spec.targets].map((d) => d.name) : [];
  const domains = declared.map((name, i) => ({ domid: i + 1, name }));
  const domidOf = new Map(domains.map((d) => [d.name, d.domid]));
  const store = libxlXenstore(domains);
  const ran = runAclScript(script, (name) => domidOf.get(name), store, file);
  if (!ran.ok) return { failed: [{ diagnostic: ran.error.diagnostic, placement: inSource(sourceText(file, script)) }] };
  // The store's ACLs as the checker reads them: a node the script set is placed on the
  // script's line, the others on libxl's layout.
  const setAt = new Map(ran.run.applied.map((a) => [a.path, a.line]));
  const layout = `${file} (applied to libxl's layout)`;
  // One place for all the nodes the script left alone: a host of 10 000 domains has 100 000.
  const onLayout = { file: layout, line: 1, column: 1, kind: 'xenstore' } as const;
  const nodes = [...store.nodeStates()].filter((n) => n.path !== '/').map((n): XenstoreNodeAcl => {
    const line = setAt.get(n.path);
    return { path: n.path, perms: n.perms, value: n.value, at: line === undefined ? onLayout : { file, line, column: 1, kind: 'xenstore' } };
  });
  return { state: xenstoreState(layout, nodes) };
}

/** Compile SPEC (or read the deployed policy given) and prove least privilege. */
export function checkSpec(spec: SpecInput, options: CheckOptions = {}): CheckOutcome {
  const found = new Collected();
  const read = readSpec(spec);
  if ('diagnostic' in read) return found.fail('spec', placeAll([read.diagnostic]));
  const deployed = (options.policy?.length ?? 0) > 0;
  options.onPhase?.('compile');
  const compiled = compile(read, {
    ...(options.xen !== undefined ? { xen: options.xen } : {}),
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    deployed,
    manifest: options.manifest ?? true,
  });
  const specSources = compiled.source ? [compiled.source] : [];
  if (!compiled.ir || !compiled.source || hasErrors(compiled.diagnostics)) return found.fail('spec', placeAll(compiled.diagnostics, specSources));
  found.add(placeAll(compiled.diagnostics, specSources));

  options.onPhase?.('policy');
  const chosen = choosePolicy(options, compiled, found);
  if (!('load' in chosen)) return found.fail('spec', placeAll(chosen), { compiled });
  const policy = chosen.load.policy;
  if (!policy) return found.fail('policy', placedLoad(chosen.load), { compiled });
  if (chosen.given) {
    const mismatch = releaseMismatch(policy.model, compiled.ir.spec.xen, chosen.name);
    if (mismatch) found.add([{ diagnostic: mismatch }]);
  }
  const xl = readLabels(options, compiled);
  if ('failed' in xl) return found.fail('spec', xl.failed, { compiled, policy });
  const xenstore = readXenstore(options.xenstore, compiled, deployed);
  if ('failed' in xenstore) return found.fail('spec', xenstore.failed, { compiled, policy });

  options.onPhase?.('prove');
  const report = runChecks({
    ir: compiled.ir,
    spec: compiled.source,
    model: policy.model,
    policyName: chosen.name,
    xl: xl.labels,
    ...(xenstore.state ? { xenstore: xenstore.state } : {}),
    ...(options.trusted ? { trusted: options.trusted } : {}),
    ...(options.rules ? { rules: options.rules } : {}),
    options: {
      ...(options.maxPaths !== undefined ? { maxPaths: options.maxPaths } : {}),
      ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}),
    },
  });
  const files = new Map(policy.files);
  for (const path of [...(typeof spec === 'string' ? [spec] : []), ...(options.xl ?? []), ...(options.xenstore !== undefined ? [options.xenstore] : [])]) files.set(path, path);
  const unwritten = new Set([
    ...(chosen.given ? [] : [policy.file]),
    ...(chosen.compiledInto ?? []),
    ...(options.xl ? [] : xl.labels.map((l) => l.at.file)),
    ...(options.xenstore === undefined && xenstore.state ? [...xenstore.state.nodes.values()].map((n) => n.at.file) : []),
  ]);
  return { exit: report.proven ? EXIT_OK : EXIT_FINDINGS, report, compiled, policy, diagnostics: found.placed, files, unwritten };
}

/** Check a deployed policy (a policy.conf, or a Xen tree plus NAME.te modules) against SPEC. */
export function checkDeployed(spec: SpecInput, policy: readonly [string, ...string[]], options: Omit<CheckOptions, 'policy'> = {}): CheckOutcome {
  return checkSpec(spec, { ...options, policy });
}
