// Helpers for the privilege diff's tests: in-memory inputs (a policy.conf text, a spec
// text) and the diff of two of them, failing loudly when either side does not read, so a
// test states only the change it makes and the report it expects.

import { diffInputs, type DiffOutcome } from '../../diff/diff.js';
import type { DiffInput } from '../../diff/inputs.js';
import type { DiffReport } from '../../diff/types.js';
import { policyFromText } from '../../policy/load.js';

/** A policy.conf text as one side of the diff, parsed and modelled as the CLI would a file. */
export function policyInput(label: string, text: string): DiffInput {
  const read = policyFromText(label, text);
  if (!read.policy) throw new Error(`${label}: ${read.diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  return { kind: 'policy', label, policy: read.policy };
}

/** A spec text as one side of the diff; the label is also its file name in the report. */
export function specInput(label: string, text: string): DiffInput {
  return { kind: 'spec', label, file: label, content: Buffer.from(text) };
}

/** The report of a diff that must succeed. */
export function reportOf(out: DiffOutcome): DiffReport {
  if (!out.report) throw new Error(out.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '));
  return out.report;
}

/** old.conf → new.conf. */
export function diffTexts(a: string, b: string): DiffReport {
  return reportOf(diffInputs(policyInput('old.conf', a), policyInput('new.conf', b)));
}

/** old.yaml → new.yaml. */
export function diffSpecTexts(a: string, b: string): DiffReport {
  return reportOf(diffInputs(specInput('old.yaml', a), specInput('new.yaml', b)));
}

/** `s t:c p` for every added (+) and removed (-) permission. */
export function tuples(r: DiffReport): string[] {
  return r.policy.access.flatMap((c) => [...c.added.map((p) => `+ ${c.subject} ${c.object}:${c.cls} ${p}`), ...c.removed.map((p) => `- ${c.subject} ${c.object}:${c.cls} ${p}`)]);
}
