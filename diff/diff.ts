// The diff driver: two inputs → DiffReport. Specs on both sides are diffed in capability
// terms and by their manifests; a spec facing a policy is compiled standalone (the complete
// policy vmipolicy would emit) and both are diffed as policies. Each side is reduced to its
// facts as soon as it is read (`DiffSession.side`), so the CLI never holds two parse trees.
// Escalation paths and information flows come from the checker's analyses through
// `analyses` (the seam): each runs on both sides and its findings are diffed here.

import type { ScaleLimits } from '../compiler/scale.js';
import { compile } from '../compiler/compile.js';
import type { IR } from '../compiler/ir.js';
import { diagnostic, hasErrors, type Diagnostic } from '../core/diagnostics.js';
import type { SourceText } from '../core/source.js';
import type { PolicyModel } from '../policy/model/model.js';
import { cmp } from './access.js';
import { SetInterner, Universe, type Side } from './align.js';
import type { ConstraintFilter } from './effective.js';
import { constraintFilter, constraintModel, xenDefaultContexts, type ContextOf } from './constraints.js';
import { contextText } from '../policy/model/access.js';
import { extractFacts, type PolicyFacts, type PolicyInput } from './facts.js';
import { policyFromText } from '../policy/load.js';
import type { DiffInput } from './inputs.js';
import { diffText, type DiffText } from './messages.js';
import { fileOnly, renderFindingText } from '../checker/messages.js';
import { diffPolicies, setDiff } from './policy.js';
import { compiledSpec, diffSpecAccess, diffSpecs, type CompiledSpec } from './spec.js';
import type { AnalysisDelta, AnalysisItem, DiffReport, InputSummary, PolicyDelta, XenstoreChange } from './types.js';

/** One side as the checker's analyses see it. */
export interface AnalysisSide {
  readonly side: Side;
  readonly model: PolicyModel;
  /** Present when the side is a spec: the declared intent. */
  readonly ir?: IR;
  /** The spec's text, to place findings on its lines. */
  readonly source?: SourceText;
}

/**
 * SEAM for checker/graph: an analysis (escalation paths, information flows) run on each
 * side; findings are matched by `key` (default: message without positions, subject, object) and reported as
 * added or removed, with their witnesses. New findings count as new access.
 */
export interface DiffAnalysis {
  readonly name: string;
  findings(side: AnalysisSide): readonly AnalysisItem[];
  key?(item: AnalysisItem): string;
}

interface DiffOptions {
  /** --xen: the release specs are compiled for. */
  readonly xen?: string;
  /** --max-domains/--max-pairs/--max-probes: the scale limits specs are held to (compiler/scale.ts). */
  readonly limits?: Partial<ScaleLimits>;
  /** Constraint evaluation, as a filter (effective.ts applies it); see also constraintContexts. */
  readonly constraints?: ConstraintFilter;
  /**
   * The context each type runs in when constraints are evaluated (policy/model/access.ts);
   * by default xenDefaultContexts, the labels a Xen host gives.
   */
  readonly constraintContexts?: ContextOf;
  readonly analyses?: readonly DiffAnalysis[];
  /** Past this many changed (subject, object) pairs the access listing is aggregated (access.ts EXPAND_LIMIT). */
  readonly expandLimit?: number;
}

/** A side, reduced: what the diff needs of it, and nothing that pins a parse tree. */
export interface PreparedSide {
  readonly summary: InputSummary;
  readonly spec?: CompiledSpec;
  /** Policy facts; absent for a spec diffed against a spec. */
  readonly facts?: PolicyFacts;
  readonly analyses: readonly AnalysisItem[][];
  /** The side's model without its rules: for constraint evaluation only. */
  readonly model?: PolicyModel;
}

export interface DiffOutcome {
  readonly report?: DiffReport;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Holds the shared type universe while the two sides are read one after the other.
 * `bothSpecs` must be known up front: a spec facing a policy is compiled standalone.
 */
export class DiffSession {
  private readonly universe = new Universe();
  private readonly interner = new SetInterner(this.universe);
  /** Spec sources seen, so the caller can place compile diagnostics. */
  readonly sources: SourceText[] = [];

  constructor(readonly bothSpecs: boolean, readonly options: DiffOptions = {}) {}

  side(input: DiffInput, side: Side): PreparedSide | Diagnostic[] {
    const summary: InputSummary = { label: input.label, kind: input.kind };
    const analyses = this.options.analyses ?? [];
    if (input.kind === 'policy') {
      const p = input.policy;
      const policy: PolicyInput = { model: p.model, text: p.text, ast: p.ast, locate: (o) => p.lines.locate(o) };
      const prepared = {
        summary, facts: extractFacts(policy, side, this.universe, this.interner), analyses: analyses.map((a) => [...a.findings({ side, model: p.model })]),
        model: constraintModel(p.model),
      };
      return prepared;
    }
    const xen = { ...(this.options.xen ? { xen: this.options.xen } : {}), ...(this.options.limits ? { limits: this.options.limits } : {}) };
    const result = compile({ file: input.file, content: input.content }, { ...xen, manifest: 'entries', ...(this.bothSpecs ? {} : { mode: 'standalone' as const }) });
    if (result.source) this.sources.push(result.source);
    const spec = compiledSpec(result);
    if (!spec) return [...result.diagnostics, diagnostic('DiffInputUnreadable', [input.label, 'the spec does not compile'])];
    if (this.bothSpecs && analyses.length === 0) return { summary, spec, analyses: [] };
    // The complete policy of the spec: for the policy diff, or for the analyses.
    const standalone = spec.ir.spec.mode === 'standalone' ? spec : compiledSpec(compile({ file: input.file, content: input.content }, { ...xen, mode: 'standalone', manifest: 'entries' }));
    const text = standalone?.artifacts.get('policy.conf');
    if (!text) return [diagnostic('DiffInputUnreadable', [input.label, 'it compiles to no standalone policy.conf'])];
    const read = policyFromText(`${input.label} (compiled standalone) policy.conf`, text);
    if (!read.policy) return read.diagnostics;
    const p = read.policy;
    const policy: PolicyInput = { model: p.model, text: p.text, ast: p.ast, locate: (o) => p.lines.locate(o) };
    return {
      summary, spec,
      ...(this.bothSpecs ? {} : { facts: extractFacts(policy, side, this.universe, this.interner) }),
      model: constraintModel(p.model),
      analyses: analyses.map((a) => [...a.findings({ side, model: p.model, ir: spec.ir, source: spec.source })]),
    };
  }

  /** `xenstore`: ACL changes of live dumps (xenstore.ts), when the caller has them. */
  finish(o: PreparedSide, w: PreparedSide, xenstore: readonly XenstoreChange[] = []): DiffReport {
    const notes: DiffText[] = [];
    let policy: PolicyDelta;
    if (o.facts && w.facts) {
      const contexts = this.options.constraintContexts;
      const models = o.model && w.model ? { old: o.model, new: w.model } : undefined;
      const filter = this.options.constraints ?? (models ? constraintFilter(models, contexts ?? xenDefaultContexts) : undefined);
      policy = diffPolicies(this.universe, o.facts, w.facts, {
        ...(filter ? { constraints: filter } : {}), ...(models ? { models } : {}),
        ...(this.options.constraints ? {} : { contextOf: contexts ?? xenDefaultContexts }),
        ...(this.options.expandLimit !== undefined ? { expandLimit: this.options.expandLimit } : {}),
      });
      notes.push(...semanticNotes(policy, o.model, w.model));
      notes.push(...factNotes(o.facts, w.facts, filter !== undefined));
      // Which contexts the constraints were evaluated in: said only when they were (models present).
      if (!this.options.constraints && models && o.facts.constraintCount + w.facts.constraintCount > 0) {
        notes.push(contexts
          ? diffText('NoteConstraintsOneContext', [contextText(contexts('TYPE', models.old))])
          : diffText('NoteConstraintsXenContexts'));
      }
      if (o.spec || w.spec) notes.push(diffText('NoteStandalone'));
    } else if (o.spec && w.spec) {
      const types = (c: CompiledSpec) => c.ir.domains.flatMap((d) => [d.type, d.self, d.channel]);
      policy = { ...emptyDelta(), types: setDiff(types(o.spec), types(w.spec)), access: diffSpecAccess(o.spec, w.spec) };
    } else {
      throw new Error('internal: sides prepared for different kinds of diff');
    }
    const specDelta = o.spec && w.spec && this.bothSpecs ? diffSpecs(o.spec, w.spec) : undefined;
    const analyses = diffAnalyses(this.options.analyses ?? [], o, w);
    const newAccess =
      policy.access.some((c) => c.added.length > 0) ||
      policy.permissive.added.some((p) => p.gainCount > 0) ||
      policy.objectLabels.some((l) => l.gainCount > 0) ||
      policy.transitions.length > 0 ||
      (o.model !== undefined && w.model !== undefined && loosenedBounds(o.model, w.model).length > 0) ||
      (specDelta?.xenstore.some((x) => x.change === 'added') ?? false) ||
      analyses.some((a) => a.added.length > 0) ||
      xenstore.some((x) => x.change === 'added');
    return { old: o.summary, new: w.summary, ...(specDelta ? { spec: specDelta } : {}), policy, analyses, xenstore, notes, newAccess };
  }
}

/** Both inputs at once (tests, library use); the CLI reads and prepares one side at a time. */
export function diffInputs(oldInput: DiffInput, newInput: DiffInput, opts: DiffOptions = {}): DiffOutcome & { sources: readonly SourceText[] } {
  const session = new DiffSession(oldInput.kind === 'spec' && newInput.kind === 'spec', opts);
  const o = session.side(oldInput, 'old');
  const w = session.side(newInput, 'new');
  const diagnostics = [...(Array.isArray(o) ? o : []), ...(Array.isArray(w) ? w : [])];
  if (Array.isArray(o) || Array.isArray(w) || hasErrors(diagnostics)) return { diagnostics, sources: session.sources };
  return { report: session.finish(o, w), diagnostics, sources: session.sources };
}

function emptyDelta(): PolicyDelta {
  return {
    types: { added: [], removed: [] }, attributes: { added: [], removed: [] }, memberships: [], booleans: [], roles: [],
    constraints: { added: [], removed: [] }, transitions: [], access: [],
    permissive: { added: [], removed: [] }, objectLabels: [], statements: { added: [], removed: [] },
  };
}

/**
 * Bounded types whose bound OLD has and NEW drops or moves: type_attribute_bounds_av
 * (services.c) masked what such a type held beyond its parent, and the diff's access
 * (type enforcement and constraints) does not model that mask, so losing it is counted as
 * new access — never silently.
 */
function loosenedBounds(o: PolicyModel, w: PolicyModel): string[] {
  const out: string[] = [];
  for (const [child, parent] of o.typebounds) {
    const name = o.types[child] as string;
    const c = w.typeIndex.get(name);
    const p = c === undefined ? undefined : w.typebounds.get(c);
    if (c !== undefined && (p === undefined || w.types[p] !== o.types[parent])) out.push(name);
  }
  return out.sort(cmp);
}

function semanticNotes(p: PolicyDelta, o: PolicyModel | undefined, w: PolicyModel | undefined): DiffText[] {
  const notes: DiffText[] = [];
  if (p.transitions.length) notes.push(diffText('NoteTransitions'));
  const bounds = o && w ? loosenedBounds(o, w) : [];
  if (bounds.length) notes.push(diffText('NoteBounds', [bounds.join(', ')]));
  if (p.permissive.added.length) notes.push(diffText('NotePermissive'));
  return notes;
}

function factNotes(a: PolicyFacts, b: PolicyFacts, constraintsEvaluated: boolean): DiffText[] {
  const notes: DiffText[] = [];
  if (!constraintsEvaluated && a.constraintCount + b.constraintCount > 0) {
    notes.push(diffText('NoteConstraintsSkipped', [a.constraintCount, b.constraintCount]));
  }
  if (a.conditionalRules || b.conditionalRules) {
    notes.push(diffText('NoteConditionalRules'));
  }
  if (a.conditionalTypeRules || b.conditionalTypeRules) notes.push(diffText('NoteConditionalTransitions'));
  return notes;
}

function diffAnalyses(analyses: readonly DiffAnalysis[], o: PreparedSide, w: PreparedSide): AnalysisDelta[] {
  return analyses.map((a, i) => {
    // Written without positions: a finding is the same when only lines moved.
    const key = a.key ?? ((x: AnalysisItem) => `${renderFindingText(x.message, fileOnly)}\u0000${x.subject ?? ''}\u0000${x.object ?? ''}`);
    const before = o.analyses[i] ?? [];
    const after = w.analyses[i] ?? [];
    const kb = new Set(before.map(key));
    const ka = new Set(after.map(key));
    const sort = (xs: AnalysisItem[]) => xs.sort((x, y) => cmp(key(x), key(y)));
    return { analysis: a.name, added: sort(after.filter((x) => !kb.has(key(x)))), removed: sort(before.filter((x) => !ka.has(key(x)))) };
  });
}
