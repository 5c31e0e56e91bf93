// Where a piece of policy.conf really came from. Xen's Makefile runs the policy sources
// through `m4 -s`, which writes `#line N "file"` (or `#line N`, same file) before output
// that does not continue the previous line. The line right after a marker is line N of
// that file. (checkpolicy's own messages can be a line too high through these markers,
// and it honours a file name only in `#line 1 "file"`; we follow m4's meaning exactly.)
//
// A marker is a line that starts, at column 0, with the word `#line`. Text before the
// first marker belongs to the parsed file itself, line for line.

import { diagnostic, type Diagnostic } from '../../core/diagnostics.js';
import { positionAt, sourceText, type SourceText } from '../../core/source.js';

export interface OriginalPosition {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units of the parsed text's line. */
  readonly column: number;
}

/** From physical line `from` (0-based) on, lines are `file`'s, starting at `line`. */
interface Segment {
  readonly from: number;
  readonly file: string;
  readonly line: number;
}

const MARKER = /^#line[ \t]+([0-9]+)(?:[ \t]+"([^"]*)")?[ \t]*$/;

/**
 * The highest line a marker may name. No real file has more lines than this (m4 and
 * checkpolicy count lines in a C int), and every line computed from it stays an exact
 * integer: `#line 99999999999999999999999` would otherwise become 1e+23.
 */
export const MAX_MARKER_LINE = 2 ** 31 - 1;

/** C0 controls and DEL: m4 never writes them into a marker, and they would reach terminals and SARIF. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER.source, 'g');

/** Why a marker matching MARKER is still unusable, or undefined when it is usable. */
function markerProblem(digits: string, file: string | undefined): string | undefined {
  const line = Number(digits);
  if (!Number.isSafeInteger(line) || line < 1 || line > MAX_MARKER_LINE) return `the line number must be from 1 to ${MAX_MARKER_LINE}`;
  if (file !== undefined && CONTROL_CHARACTER.test(file)) return 'the file name contains a control character';
  return undefined;
}

/** `#line` as a whole word at the start of a line: `#lineage` is an ordinary comment. */
function isMarkerLine(text: string, start: number): boolean {
  if (!text.startsWith('#line', start)) return false;
  const next = text.charCodeAt(start + 5);
  return Number.isNaN(next) || next === 32 || next === 9 || next === 10 || next === 13;
}

export class LineMap {
  /** The markers that could not be read (VP3004); they are ignored. */
  readonly diagnostics: readonly Diagnostic[];
  private readonly source: SourceText;
  private readonly segments: readonly Segment[];

  constructor(readonly file: string, text: string) {
    this.source = sourceText(file, text);
    const segments: Segment[] = [];
    const diagnostics: Diagnostic[] = [];
    let current = file;
    const starts = this.source.lineStarts;
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i] as number;
      if (!isMarkerLine(text, start)) continue;
      const end = i + 1 < starts.length ? (starts[i + 1] as number) - 1 : text.length;
      const marker = text.slice(start, end).replace(/\r$/, '');
      const match = MARKER.exec(marker);
      const problem = match ? markerProblem(match[1] as string, match[2]) : undefined;
      if (!match || problem) {
        const help = problem ?? 'm4 writes #line N or #line N "file"';
        // A control character in the marker is shown as its \u escape: visible data, never a terminal command.
        const shown = (marker.length > 60 ? `${marker.slice(0, 60)}…` : marker).replace(CONTROL_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
        diagnostics.push(diagnostic('PolicyBadLineMarker', [shown], { file, start, end: start + marker.length }, help));
        continue;
      }
      current = match[2] ?? current;
      segments.push({ from: i + 1, file: current, line: Number(match[1]) });
    }
    this.segments = segments;
    this.diagnostics = diagnostics;
  }

  /** The line (0-based) of the offset `locate` was last asked about: callers mostly ask in text order. */
  private lastLine = 0;

  /** The original file, line and column of an offset into the parsed text. */
  locate(offset: number): OriginalPosition {
    const { line, column } = this.positionAt(offset);
    const segment = this.segmentOf(line - 1);
    if (!segment) return { file: this.file, line, column };
    return { file: segment.file, line: segment.line + (line - 1 - segment.from), column };
  }

  /** The position in the parsed text itself (policy.conf's own line numbers). */
  physical(offset: number): OriginalPosition {
    return { file: this.file, ...positionAt(this.source, offset) };
  }

  /**
   * The inverse of `locate` for whole lines: the physical line (1-based) of the parsed text
   * that holds line `line` of `file`, from the first stretch of that file reaching it; or
   * undefined when no stretch does. Lets a report quote a rule as m4 expanded it when the
   * file a marker names cannot be opened.
   */
  physicalLineOf(file: string, line: number): number | undefined {
    const total = this.source.lineStarts.length;
    const first = this.segments[0];
    // Text before the first marker is the parsed file's own, line for line.
    if (file === this.file && line >= 1 && line <= (first ? first.from - 1 : total)) return line;
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i] as Segment;
      if (segment.file !== file || line < segment.line) continue;
      // A stretch ends on the line before the next marker.
      const end = i + 1 < this.segments.length ? (this.segments[i + 1] as Segment).from - 1 : total;
      const physical = segment.from + (line - segment.line);
      if (physical < end) return physical + 1;
    }
    return undefined;
  }

  /**
   * core/source.ts positionAt, first trying the line of the previous call and the two after
   * it: the model locates 120 000 rules of a host policy one after another.
   */
  private positionAt(offset: number): { line: number; column: number } {
    const starts = this.source.lineStarts;
    const clamped = Math.max(0, Math.min(offset, this.source.text.length));
    for (let line = this.lastLine; line < this.lastLine + 3 && line < starts.length; line++) {
      if ((starts[line] as number) <= clamped && (line + 1 === starts.length || (starts[line + 1] as number) > clamped)) {
        this.lastLine = line;
        return { line: line + 1, column: clamped - (starts[line] as number) + 1 };
      }
    }
    const position = positionAt(this.source, offset);
    this.lastLine = position.line - 1;
    return position;
  }

  /** The last segment that starts at or before a physical line (0-based). */
  private segmentOf(physicalLine: number): Segment | undefined {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found: Segment | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const segment = this.segments[mid] as Segment;
      if (segment.from <= physicalLine) {
        found = segment;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
