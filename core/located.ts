// A diagnostic together with what it takes to show it: the text its span points into and
// how an offset of that text maps to the file the user wrote (a spec's own lines, or a
// policy's through m4's #line markers). The library returns diagnostics placed this way and
// never resolves lines itself; a renderer (text, JSON, SARIF, markdown) asks `locate` when
// it writes line and column.

import type { Diagnostic } from './diagnostics.js';
import { positionAt, type SourceText } from './source.js';

/** Where an offset is, in the file the user wrote: 1-based line and column. */
export interface Located {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** The text a span's offsets refer to, and the way from an offset to the user's file. */
export interface Placement {
  readonly text: string;
  readonly locate: (offset: number) => Located;
}

export interface PlacedDiagnostic {
  readonly diagnostic: Diagnostic;
  /** Absent when the span (if any) is in no text the caller has: only its file is known. */
  readonly placement?: Placement;
}

/** A text read as it is: offsets are its own lines and columns. */
export function inSource(source: SourceText): Placement {
  return { text: source.text, locate: (offset) => ({ file: source.file, ...positionAt(source, offset) }) };
}

/** An expanded policy, placed through its LineMap (so `modules/domU.te:33`, not `policy.conf:781`). */
export function inPolicy(policy: { readonly text: string; readonly lines: { locate(offset: number): Located } }): Placement {
  return { text: policy.text, locate: (offset) => policy.lines.locate(offset) };
}

/**
 * Places each diagnostic in the first source whose file its span names, else in `fallback`
 * (a policy's text, whose spans name the expanded file), else nowhere.
 */
export function placeAll(diagnostics: readonly Diagnostic[], sources: readonly SourceText[] = [], fallback?: Placement): PlacedDiagnostic[] {
  return diagnostics.map((diagnostic) => {
    const source = sources.find((s) => s.file === diagnostic.span?.file);
    const placement = source ? inSource(source) : fallback;
    return placement ? { diagnostic, placement } : { diagnostic };
  });
}
