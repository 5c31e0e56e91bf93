// Diagnostics at the edge: spans become file:line:column, with the source line and a caret
// under the offending text, and the help line that says what to do next.

import { positionAt, type Diagnostic, type SourceText } from '../compiler/index.js';
import { escapeControlCharacters } from '../grammar/source.js';

/** Where a span starts, in the file the user wrote (which, after m4, is not the parsed one). */
export interface Located {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** Renders a diagnostic whose span is in `text`, placed by `locate` (offset → user's file). */
export function renderAt(d: Diagnostic, text: string | undefined, locate: ((offset: number) => Located) | undefined): string {
  const lines: string[] = [];
  if (d.span && text !== undefined && locate) {
    const p = locate(d.span.start);
    lines.push(oneLine(`${p.file}:${p.line}:${p.column}: ${d.severity} ${d.code}: ${d.message}`));
    const start = text.lastIndexOf('\n', d.span.start - 1) + 1;
    const endOfLine = text.indexOf('\n', start);
    const lineText = text.slice(start, endOfLine < 0 ? undefined : endOfLine).replace(/\r$/, '');
    if (lineText.length <= 200) {
      const column = d.span.start - start + 1;
      const width = Math.max(1, Math.min(d.span.end, start + lineText.length) - d.span.start);
      lines.push(`  ${String(p.line).padStart(4)} | ${printable(lineText)}`);
      lines.push(`       | ${' '.repeat(column - 1)}${'^'.repeat(width)}`);
    }
  } else if (d.span) {
    lines.push(oneLine(`${d.span.file}: ${d.severity} ${d.code}: ${d.message}`));
  } else {
    lines.push(oneLine(`vmipolicy: ${d.severity} ${d.code}: ${d.message}`));
  }
  if (d.help) lines.push(oneLine(`  help: ${d.help}`));
  return lines.join('\n');
}

export function renderDiagnostic(d: Diagnostic, source: SourceText | undefined): string {
  const ok = source !== undefined && d.span?.file === source.file;
  return renderAt(d, ok ? source.text : undefined, ok ? (offset) => ({ file: source.file, ...positionAt(source, offset) }) : undefined);
}

/** A message line names files and words from the input: it stays one line, with no control character. */
function oneLine(s: string): string {
  return escapeControlCharacters(s);
}

/** Control characters from a hostile file must not reach the user's terminal. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f\u009b]/g, '\uFFFD').replace(/\t/g, ' ');
}

export function diagnosticsJson(diagnostics: readonly Diagnostic[], source: SourceText | undefined): unknown[] {
  return diagnostics.map((d) => {
    const p = d.span && source && d.span.file === source.file ? positionAt(source, d.span.start) : undefined;
    const e = d.span && source && d.span.file === source.file ? positionAt(source, d.span.end) : undefined;
    return {
      code: d.code,
      severity: d.severity,
      message: d.message,
      ...(d.help ? { help: d.help } : {}),
      ...(d.span ? { file: d.span.file } : {}),
      ...(p && e ? { line: p.line, column: p.column, endLine: e.line, endColumn: e.column } : {}),
    };
  });
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
