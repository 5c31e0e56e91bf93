// A line-oriented text builder that remembers on which line each rule was printed, so the
// manifest can point from every grant to the exact policy line behind it.

import type { PrintedRule } from './te-rules.js';

/** A policy's text, with where its rules and marked lines are (when the writer kept them). */
export interface PrintedPolicy {
  /** The whole text, joined when first read. */
  readonly text: string;
  /** The same text as flat pieces, for a writer that streams it without joining it. */
  readonly chunks: readonly string[];
  /** The line a key was marked on (a module's macro calls). */
  readonly lineOf: (key: string) => number | undefined;
  /** Every allow rule printed, in the order printed. */
  readonly rules: readonly PrintedRule[];
}

const MAX_LINE = 4096;
const COMMENT_WIDTH = 120;
/**
 * Lines joined into one flat string at a time. A printed line is a tree of the pieces its
 * template joined; kept as such until the end, the 900 000 lines of a 10 000-domain policy
 * were millions of small objects for every collection to copy and mark.
 */
const LINES_PER_CHUNK = 2048;

export interface WriterOptions {
  /**
   * Remember the marked lines and the printed rules (default true). Only the manifest asks
   * where a rule is: `check` compiles without one, and a 10 000-domain host prints 400 000
   * rules, whose grants would be kept alive for nothing.
   */
  readonly marks?: boolean;
}

export class TextWriter {
  /** The text so far: joined chunks, each ending in a line break, and the lines not yet joined. */
  private readonly chunks: string[] = [];
  private pending: string[] = [];
  private count = 0;
  private readonly marks = new Map<string, number>();
  private readonly rules: PrintedRule[] = [];
  /** Whether mark() records anything: callers skip building keys when it does not. */
  readonly marking: boolean;

  constructor(options: WriterOptions = {}) {
    this.marking = options.marks ?? true;
  }

  /** 1-based number of the next line to be written. */
  get nextLine(): number {
    return this.count + 1;
  }

  line(text = ''): void {
    // checkpolicy's lexer rejects lines over 8 KiB (YYLMAX), so no emitter may print one.
    if (text.length > MAX_LINE) throw new Error(`internal: a printed line is ${text.length} characters long`);
    this.count++;
    if (this.pending.push(text) >= LINES_PER_CHUNK) this.flush();
  }

  /** Joins the pending lines into a chunk, which must hold exactly as many lines. */
  private flush(): void {
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('\n') + '\n';
    // Emitters only print validated identifiers, but a line break slipping into a line would
    // let one "line" smuggle in a second rule: refuse it outright. Checked on the chunk,
    // which must hold one break per line and no carriage return, rather than line by line.
    let breaks = 0;
    for (let at = chunk.indexOf('\n'); at !== -1; at = chunk.indexOf('\n', at + 1)) breaks++;
    if (breaks !== this.pending.length || chunk.includes('\r')) throw new Error('internal: a printed line contains a line break');
    this.chunks.push(chunk);
    this.pending = [];
  }

  /** A comment, wrapped at spaces to COMMENT_WIDTH columns, continuation lines indented. */
  comment(text: string, prefix = '#'): void {
    if (text === '') return this.line(prefix);
    let rest = text;
    let lead = `${prefix} `;
    while (lead.length + rest.length > COMMENT_WIDTH) {
      const cut = rest.lastIndexOf(' ', COMMENT_WIDTH - lead.length);
      if (cut <= 0) break;
      this.line(lead + rest.slice(0, cut));
      rest = rest.slice(cut + 1);
      lead = `${prefix}   `;
    }
    this.line(lead + rest);
  }

  /** Records that `key` is printed on the next line. */
  mark(key: string): void {
    if (this.marking && !this.marks.has(key)) this.marks.set(key, this.nextLine);
  }

  /** Records a rule as printed (te-rules.ts printedRule, whose line is nextLine). */
  record(rule: PrintedRule): void {
    if (this.marking) this.rules.push(rule);
  }

  lineOf(key: string): number | undefined {
    return this.marks.get(key);
  }

  toString(): string {
    this.flush();
    // Every chunk ends in a line break, as the text does after its last line.
    return this.chunks.length === 0 ? '\n' : this.chunks.join('');
  }

  /**
   * The text (joined when read), its chunks, the marks' lines and the printed rules, without
   * the writer.
   */
  finish(): PrintedPolicy {
    this.flush();
    const { marks, rules } = this;
    const chunks = this.chunks.length === 0 ? ['\n'] : this.chunks;
    let text: string | undefined;
    return {
      get text() {
        return (text ??= chunks.join(''));
      },
      chunks,
      lineOf: (key) => marks.get(key),
      rules,
    };
  }
}
