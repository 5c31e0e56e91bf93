// The compiler driver: load → schema → semantics → lower → emit. Pure: text in, artifacts
// and diagnostics out. Nothing is produced unless every phase succeeded, so a caller that
// writes the artifacts can never write half a policy.

import { compareCodePoints } from '../core/compare.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../core/diagnostics.js';
import { emitManifest, manifestEntries, manifestWriter, policyFileOf, type ManifestEntry } from './emit/manifest.js';
import type { TextSink } from './emit/json.js';
import { emitModule } from './emit/module.js';
import { emitStandalone } from './emit/standalone.js';
import type { PrintedPolicy } from './emit/writer.js';
import { emitXenstoreAcl, emitXenstoreRevoke } from './emit/xenstore.js';
import { emitXl, xlFileName } from './emit/xl.js';
import type { IR } from './ir.js';
import { loadSpec } from './load.js';
import { lower } from './lower.js';
import { validateAgainstSchema } from './schema.js';
import { DEFAULT_SCALE_LIMITS, scaleDiagnostics } from './scale.js';
import type { SourceText } from '../core/source.js';
import type { Spec } from './spec.js';
import { normaliseXenField, validateSemantics, type ValidateOptions } from './validate.js';

export interface CompileInput {
  /** Shown in diagnostics and recorded in the manifest. */
  readonly file: string;
  /** The spec's bytes (checked to be UTF-8) or text. */
  readonly content: string | Uint8Array;
}

export type CompileOptions = ValidateOptions & {
  /**
   * Write manifest.json (default true). `check` leaves it out: at 10 000 targets the
   * manifest's per-grant provenance is most of the compile's time and memory, and the
   * checker reads the IR, which carries the same provenance. `deferred`: made only when
   * written, chunk by chunk (`CompileResult.deferred`), never held as one string.
   * `entries`: no manifest.json, its grants as data instead (`CompileResult.manifestEntries`).
   */
  readonly manifest?: boolean | 'deferred' | 'entries';
  /**
   * With `manifest: 'deferred'`, the policy file deferred too: made when it is written, or
   * when the manifest, which points at its lines, is. `compile -o` asks for it, so that the
   * small files are being written (cli/small-files.ts) while the policy is made.
   */
  readonly policy?: 'deferred';
};

/** A file's text, handed to `sink` in chunks as it is made. */
export type DeferredText = (sink: TextSink) => void;

export interface CheckedSpec {
  readonly spec?: Spec;
  readonly source?: SourceText;
  readonly diagnostics: readonly Diagnostic[];
}

export interface CompileResult extends CheckedSpec {
  readonly ir?: IR;
  /** Relative path → content, in sorted order; absent when there are errors. */
  readonly artifacts?: ReadonlyMap<string, string>;
  /** Files asked for as `deferred`, beside `artifacts`: written by calling them. */
  readonly deferred?: ReadonlyMap<string, DeferredText>;
  /** The manifest's grants, made when called (asked for with `manifest: 'entries'`). */
  readonly manifestEntries?: () => readonly ManifestEntry[];
}

/** Loads and validates a spec without emitting anything. */
export function validateSpec(input: CompileInput, options: CompileOptions = {}): CheckedSpec {
  const loaded = loadSpec(input.file, input.content);
  if (!loaded.spec) return { ...(loaded.source ? { source: loaded.source } : {}), diagnostics: sortDiagnostics(loaded.diagnostics) };
  normaliseXenField(loaded.spec);
  const schema = validateAgainstSchema(loaded.spec);
  const semantic = validateSemantics(loaded.spec, options);
  // Measured on the validated spec, so a spec with errors is told about those first.
  const scale = semantic.spec && !hasErrors([...loaded.diagnostics, ...schema, ...semantic.diagnostics]) ? scaleDiagnostics(semantic.spec, { ...DEFAULT_SCALE_LIMITS, ...options.limits }) : [];
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...schema, ...semantic.diagnostics, ...scale]);
  if (hasErrors(diagnostics) || !semantic.spec) return { source: loaded.spec.source, diagnostics };
  return { spec: semantic.spec, source: loaded.spec.source, diagnostics };
}

export function compile(input: CompileInput, options: CompileOptions = {}): CompileResult {
  const checked = validateSpec(input, options);
  if (!checked.spec || !checked.source) return checked;
  const ir = lower(checked.spec);
  if (options.manifest === 'deferred') return { ...checked, ir, ...emitDeferred(ir, checked.source, options.policy === 'deferred') };
  if (options.manifest === 'entries') {
    let entries: (() => readonly ManifestEntry[]) | undefined;
    const artifacts = emitAll(ir, checked.source, { manifest: false, takeEntries: (made) => (entries = made) });
    return { ...checked, ir, artifacts, manifestEntries: entries as () => readonly ManifestEntry[] };
  }
  return { ...checked, ir, artifacts: emitAll(ir, checked.source, { manifest: options.manifest ?? true }) };
}

/** Every artifact, the manifest deferred (it is most of a large host's output), and the policy too when asked. */
function emitDeferred(ir: IR, source: SourceText, deferPolicy: boolean): { artifacts: ReadonlyMap<string, string>; deferred: ReadonlyMap<string, DeferredText> } {
  const deferred = new Map<string, DeferredText>();
  const artifacts = emitAll(ir, source, {
    manifest: true,
    writeManifest: (writer) => deferred.set('manifest.json', writer),
    ...(deferPolicy ? { writePolicy: (file: string, writer: DeferredText) => deferred.set(file, writer) } : {}),
  });
  return { artifacts, deferred: new Map([...deferred].sort(([a], [b]) => compareCodePoints(a, b))) };
}

interface EmitOptions {
  readonly manifest?: boolean;
  /** Takes the manifest's writer instead of its text. */
  readonly writeManifest?: (writer: DeferredText) => void;
  /** Takes the policy's writer instead of its text (the policy is made when first needed). */
  readonly writePolicy?: (file: string, writer: DeferredText) => void;
  /** Takes the manifest's grants as data (made when called). */
  readonly takeEntries?: (entries: () => readonly ManifestEntry[]) => void;
}

export function emitAll(ir: IR, source: SourceText, options: EmitOptions = {}): ReadonlyMap<string, string> {
  const { spec } = ir;
  const files = new Map<string, string>();
  // Lines are looked up only for the manifest and its grants as data.
  const marks = (options.manifest ?? true) || options.takeEntries !== undefined;
  let printed: PrintedPolicy | undefined;
  const policy = (): PrintedPolicy => (printed ??= spec.mode === 'module' ? emitModule(ir, { marks }) : emitStandalone(ir, { marks }));
  const policyFile = policyFileOf(spec);
  if (options.writePolicy) options.writePolicy(policyFile, (sink) => policy().chunks.forEach((chunk) => sink(chunk)));
  else files.set(policyFile, policy().text);
  if (spec.mode === 'module') {
    files.set('modules.conf.append', `# Append to tools/flask/policy/modules/modules.conf (generated by vmipolicy)\n${spec.module} = on\n`);
  }
  for (const f of ir.xl) files.set(xlFileName(f), emitXl(ir, f));
  files.set('xenstore-acl.sh', emitXenstoreAcl(ir));
  files.set('xenstore-acl-revoke.sh', emitXenstoreRevoke(ir));
  // The manifest reads the policy's rules when it is made: the policy is made first.
  const policyText = { file: policyFile, lineOf: (key: string) => policy().lineOf(key), get rules() { return policy().rules; } };
  options.takeEntries?.(() => manifestEntries(ir, policyText));
  if (options.manifest ?? true) {
    const names = [...files.keys(), ...(options.writePolicy ? [policyFile] : []), 'manifest.json'].sort();
    if (options.writeManifest) options.writeManifest(manifestWriter(ir, source, policyText, names));
    else files.set('manifest.json', emitManifest(ir, source, policyText, names));
  }
  return new Map([...files.entries()].sort(([a], [b]) => compareCodePoints(a, b)));
}
