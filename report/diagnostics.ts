// Diagnostics rendered: for people, `file:line:column: severity code: message`, the source
// line with a caret under the offending text, and the help line that says what to do next;
// for machines (JSON, SARIF, markdown), the same placed as data. Lines and columns are
// resolved here and nowhere earlier.

import type { Diagnostic, Severity } from '../core/diagnostics.js';
import { inSource, type Located, type PlacedDiagnostic } from '../core/located.js';
import type { SourceText } from '../core/source.js';
import { terminalSafe } from '../core/terminal.js';

/** How a terminal shows a diagnostic: `colour` for a terminal that takes ANSI colours. */
export interface RenderStyle {
  readonly colour?: boolean;
}

/** SGR colours per severity: errors red, warnings yellow, notes cyan, each bold. */
const SEVERITY_COLOUR: Readonly<Record<Severity, string>> = { error: '1;31', warning: '1;33', info: '1;36' };

/** `text` in the severity's colour, when the style has colour; the escape is ours, never input. */
function paint(text: string, severity: Severity, style: RenderStyle): string {
  return style.colour ? `\u001b[${SEVERITY_COLOUR[severity]}m${text}\u001b[0m` : text;
}

/** Renders a diagnostic whose span is in `text`, placed by `locate` (offset → user's file). */
export function renderAt(d: Diagnostic, text: string | undefined, locate: ((offset: number) => Located) | undefined, style: RenderStyle = {}): string {
  const lines: string[] = [];
  const message = `${paint(`${d.severity} ${d.code}`, d.severity, style)}: ${terminalSafe(d.message)}`;
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
      lines.push(`       | ${' '.repeat(codePoints(before))}${paint('^'.repeat(Math.max(1, codePoints(under))), d.severity, style)}`);
    }
  } else if (d.span) {
    lines.push(`${terminalSafe(d.span.file)}: ${message}`);
  } else {
    lines.push(`vmipolicy: ${message}`);
  }
  if (d.help) lines.push(`  help: ${terminalSafe(d.help)}`);
  return lines.join('\n');
}

/** A placed diagnostic for people (see renderAt). */
export function renderPlaced(p: PlacedDiagnostic, style: RenderStyle = {}): string {
  return renderAt(p.diagnostic, p.placement?.text, p.placement?.locate, style);
}

/** A diagnostic whose span may be in `source`, for people. */
export function renderDiagnostic(d: Diagnostic, source: SourceText | undefined): string {
  return renderPlaced(placedIn(d, source));
}

/** `d` placed in `source` when its span is there. */
export function placedIn(d: Diagnostic, source: SourceText | undefined): PlacedDiagnostic {
  return source !== undefined && d.span?.file === source.file ? { diagnostic: d, placement: inSource(source) } : { diagnostic: d };
}

/** A source line as quoted under a diagnostic: a tab shows as one arrow, →, visible and one
 *  column wide (the caret line cannot know the terminal's tab stops), everything else as
 *  terminalSafe renders it. */
function excerpt(s: string): string {
  return terminalSafe(s.replace(/\t/g, '→'));
}

const codePoints = (s: string): number => [...s].length;

/** A diagnostic as data for JSON and SARIF: its span resolved to the user's file, 1-based. */
export interface LocatedDiagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly help?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly endLine?: number;
  readonly endColumn?: number;
}

/** `locate` maps an offset of the span's text to the user's file; without it only the file is known. */
export function locateDiagnostic(d: Diagnostic, locate: ((offset: number) => Located) | undefined): LocatedDiagnostic {
  const start = d.span && locate ? locate(d.span.start) : undefined;
  const end = d.span && locate ? locate(d.span.end) : undefined;
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    ...(d.help ? { help: d.help } : {}),
    ...(start ? { file: start.file } : d.span ? { file: d.span.file } : {}),
    ...(start && end ? { line: start.line, column: start.column, endLine: end.line, endColumn: end.column } : {}),
  };
}

/** A placed diagnostic as data (see locateDiagnostic). */
export function locatePlaced(p: PlacedDiagnostic): LocatedDiagnostic {
  return locateDiagnostic(p.diagnostic, p.placement?.locate);
}

/** "1 error", "2 warnings": a count and its noun, plural unless one. */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** "2 errors, 1 warning". */
export function summary(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  return `${counted(errors, 'error')}, ${counted(warnings, 'warning')}`;
}
