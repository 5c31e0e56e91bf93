// Helpers for the checker's tests: compile a spec as a standalone policy, check it (or a
// changed copy of its policy text), and place extra statements where checkpolicy accepts
// them, remembering their lines so a test can ask "does a finding cite what I added?".

import type { CompileResult } from '../../compiler/index.js';
import { compileText } from './env.js';
import { policyFromText } from '../../policy/load.js';
import { runChecks, type CheckReport } from '../../checker/check.js';
import type { CheckInput } from '../../checker/check.js';
import type { Finding } from '../../checker/findings.js';
import { renderFindingText, type FindingMessageId, type FindingText } from '../../checker/messages.js';

export function compileStandalone(yaml: string, file = 'spec.yaml', options: { xen?: string; deployed?: boolean } = {}): CompileResult & { policyText: string } {
  const r = compileText(yaml, { mode: 'standalone', ...options }, file);
  const policyText = r.artifacts?.get('policy.conf');
  if (!r.ir || policyText === undefined) throw new Error(`spec does not compile: ${JSON.stringify(r.diagnostics)}`);
  return { ...r, policyText };
}

export function checkPolicyText(compiled: CompileResult, policyText: string, extra: Partial<CheckInput> = {}): CheckReport {
  const load = policyFromText('policy.conf', policyText);
  if (!load.policy) throw new Error(`policy does not parse: ${JSON.stringify(load.diagnostics.slice(0, 3))}`);
  if (!compiled.ir || !compiled.source) throw new Error('not compiled');
  return runChecks({ ir: compiled.ir, spec: compiled.source, model: load.policy.model, policyName: 'policy.conf', ...extra });
}

export interface Injected {
  readonly text: string;
  /** 1-based lines of the added statements in `text`. */
  readonly lines: readonly number[];
}

/** Adds statements before the first `user` declaration (the end of the TE/RBAC section). */
export function inject(policyText: string, statements: readonly string[]): Injected {
  const lines = policyText.split('\n');
  const at = lines.findIndex((l) => l.startsWith('user '));
  if (at < 0) throw new Error('no user declaration to insert before');
  const added = statements.flatMap((s) => s.split('\n'));
  return { text: [...lines.slice(0, at), ...added, ...lines.slice(at)].join('\n'), lines: added.map((_, i) => at + 1 + i) };
}

/** Findings (error or warning; notes too when asked) that cite one of these policy lines. */
export function citing(findings: readonly Finding[], lines: readonly number[], options: { notes?: boolean } = {}): Finding[] {
  const set = new Set(lines);
  const cites = (f: Finding): boolean =>
    [...f.provenance, ...(f.witness?.paths.flat().flatMap((h) => h.rules) ?? [])].some((l) => l.kind === 'policy' && l.file === 'policy.conf' && set.has(l.line));
  return findings.filter((f) => (options.notes || f.severity !== 'note') && cites(f));
}

export const ids = (findings: readonly Finding[]): string[] => [...new Set(findings.map((f) => f.ruleId))].sort();

/** What a finding says, as the reports write it (checker/messages.ts, places as `file:line`); '' for none. */
export const says = (f: Finding | undefined): string => (f ? renderFindingText(f.message) : '');

/** A finding's help as the reports write it; '' for none. */
export const advice = (f: Finding | undefined): string => (f?.help ? renderFindingText(f.help) : '');

/** The catalog ids the findings say (checker/messages.ts): messages, helps and the reasons nested in them, sorted. */
export function sentences(findings: readonly Finding[]): FindingMessageId[] {
  const of = (t: FindingText): FindingMessageId[] => [t.id, ...t.args.flatMap((a) => (a !== null && typeof a === 'object' && 'id' in a ? of(a) : []))];
  return [...new Set(findings.flatMap((f) => [...of(f.message), ...(f.help ? of(f.help) : [])]))].sort();
}
