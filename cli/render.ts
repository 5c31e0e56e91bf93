// Diagnostics at the edge: spans become file:line:column, with the source line and a caret
// under the offending text, and the help line that says what to do next.

import { positionAt, type Diagnostic, type SourceText } from '../compiler/index.js';

export function renderDiagnostic(d: Diagnostic, source: SourceText | undefined): string {
  const lines: string[] = [];
  if (d.span && source && d.span.file === source.file) {
    const p = positionAt(source, d.span.start);
    lines.push(`${d.span.file}:${p.line}:${p.column}: ${d.severity} ${d.code}: ${d.message}`);
    const start = source.lineStarts[p.line - 1] ?? 0;
    const endOfLine = source.text.indexOf('\n', start);
    const text = source.text.slice(start, endOfLine < 0 ? undefined : endOfLine).replace(/\r$/, '');
    if (text.length <= 200) {
      const width = Math.max(1, Math.min(d.span.end, start + text.length) - d.span.start);
      lines.push(`  ${String(p.line).padStart(4)} | ${printable(text)}`);
      lines.push(`       | ${' '.repeat(p.column - 1)}${'^'.repeat(width)}`);
    }
  } else if (d.span) {
    lines.push(`${d.span.file}: ${d.severity} ${d.code}: ${d.message}`);
  } else {
    lines.push(`vmipolicy: ${d.severity} ${d.code}: ${d.message}`);
  }
  if (d.help) lines.push(`  help: ${d.help}`);
  return lines.join('\n');
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
