// Diagnostics at the edge: spans become file:line:column, with the source line and a caret
// under the offending text, and the help line that says what to do next.

import { positionAt, type Diagnostic, type SourceText } from '../compiler/index.js';
import { terminalSafe } from '../core/terminal.js';
import type { Io } from './main.js';
import { locateDiagnostic, recordDiagnostic, type LocatedDiagnostic } from './machine.js';

/** Where a span starts, in the file the user wrote (which, after m4, is not the parsed one). */
export interface Located {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** Renders a diagnostic whose span is in `text`, placed by `locate` (offset → user's file). */
export function renderAt(d: Diagnostic, text: string | undefined, locate: ((offset: number) => Located) | undefined): string {
  const lines: string[] = [];
  const message = `${d.severity} ${d.code}: ${terminalSafe(d.message)}`;
  if (d.span && text !== undefined && locate) {
    const p = locate(d.span.start);
    lines.push(`${terminalSafe(p.file)}:${p.line}:${p.column}: ${message}`);
    const start = text.lastIndexOf('\n', d.span.start - 1) + 1;
    const endOfLine = text.indexOf('\n', start);
    const lineText = text.slice(start, endOfLine < 0 ? undefined : endOfLine).replace(/\r$/, '');
    if (lineText.length <= 200) {
      const column = d.span.start - start;
      const spanEnd = Math.max(column + 1, Math.min(d.span.end, start + lineText.length) - start);
      // The caret sits under the escaped text, so it is measured on the escaped pieces.
      const before = excerpt(lineText.slice(0, column));
      const under = excerpt(lineText.slice(column, spanEnd));
      lines.push(`  ${String(p.line).padStart(4)} | ${excerpt(lineText)}`);
      lines.push(`       | ${' '.repeat(codePoints(before))}${'^'.repeat(Math.max(1, codePoints(under)))}`);
    }
  } else if (d.span) {
    lines.push(`${terminalSafe(d.span.file)}: ${message}`);
  } else {
    lines.push(`vmipolicy: ${message}`);
  }
  if (d.help) lines.push(`  help: ${terminalSafe(d.help)}`);
  return lines.join('\n');
}

export function renderDiagnostic(d: Diagnostic, source: SourceText | undefined): string {
  const ok = source !== undefined && d.span?.file === source.file;
  return renderAt(d, ok ? source.text : undefined, ok ? sourceLocator(source) : undefined);
}

/** A source line as quoted under a diagnostic: a tab shows as one arrow, →, visible and one
 *  column wide (the caret line cannot know the terminal's tab stops), everything else as
 *  terminalSafe renders it. */
function excerpt(s: string): string {
  return terminalSafe(s.replace(/\t/g, '→'));
}

const codePoints = (s: string): number => [...s].length;

/** Where a source's offsets are, in that source's own file. */
function sourceLocator(source: SourceText): (offset: number) => Located {
  return (offset) => ({ file: source.file, ...positionAt(source, offset) });
}

export function diagnosticsJson(diagnostics: readonly Diagnostic[], source: SourceText | undefined): LocatedDiagnostic[] {
  return diagnostics.map((d) => locateDiagnostic(d, source && d.span?.file === source.file ? sourceLocator(source) : undefined));
}

/**
 * The one exit for a diagnostic about the input: rendered on stderr for people, and recorded
 * (placed by the same `locate`) for the JSON, SARIF or markdown document a machine reads.
 */
export function reportDiagnostic(io: Io, d: Diagnostic, text: string | undefined, locate: ((offset: number) => Located) | undefined): void {
  io.stderr(renderAt(d, text, locate) + '\n');
  recordDiagnostic(io, locateDiagnostic(d, text !== undefined ? locate : undefined));
}

/** reportDiagnostic for a diagnostic whose span is in `source`. */
export function reportSourceDiagnostic(io: Io, d: Diagnostic, source: SourceText | undefined): void {
  const ok = source !== undefined && d.span?.file === source.file;
  reportDiagnostic(io, d, ok ? source.text : undefined, ok ? sourceLocator(source) : undefined);
}

/** reportDiagnostic for a diagnostic about a policy, placed through its LineMap. */
export function reportPolicyDiagnostic(io: Io, d: Diagnostic, policy: { readonly text: string; readonly lines: { locate(offset: number): Located } } | undefined): void {
  reportDiagnostic(io, d, policy?.text, policy ? (offset) => policy.lines.locate(offset) : undefined);
}

export function summary(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  const part = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `${part(errors, 'error')}, ${part(warnings, 'warning')}`;
}

/**
 * A diagnostic about a policy: placed in the user's own file through the LineMap of the
 * expanded text when there is one (so it says `modules/domU.te:33`, not `policy.conf:781`).
 */
export function renderPolicyDiagnostic(d: Diagnostic, policy: { readonly text: string; readonly lines: { locate(offset: number): Located } } | undefined): string {
  return renderAt(d, policy?.text, policy ? (offset) => policy.lines.locate(offset) : undefined);
}
