// A line-oriented text builder that remembers on which line each rule was printed, so the
// manifest can point from every grant to the exact policy line behind it.

const MAX_LINE = 4096;
const COMMENT_WIDTH = 120;

export interface WriterOptions {
  /**
   * Remember the marked lines (default true). Only the manifest asks where a rule is: `check`
   * compiles without one, and a key per rule of a 10 000-domain host is 400 000 strings.
   */
  readonly marks?: boolean;
}

export class TextWriter {
  private readonly lines: string[] = [];
  private readonly marks = new Map<string, number>();
  /** Whether mark() records anything: callers skip building keys when it does not. */
  readonly marking: boolean;

  constructor(options: WriterOptions = {}) {
    this.marking = options.marks ?? true;
  }

  /** 1-based number of the next line to be written. */
  get nextLine(): number {
    return this.lines.length + 1;
  }

  line(text = ''): void {
    // Emitters only print validated identifiers, but a newline slipping into a line would
    // let one "line" smuggle in a second rule: refuse it outright. checkpolicy's lexer
    // rejects lines over 8 KiB (YYLMAX), so no emitter may print one.
    if (/[\r\n]/.test(text)) throw new Error('internal: a printed line contains a line break');
    if (text.length > MAX_LINE) throw new Error(`internal: a printed line is ${text.length} characters long`);
    this.lines.push(text);
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

  lineOf(key: string): number | undefined {
    return this.marks.get(key);
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }

  /**
   * The text and the marks' lines, without the writer: its array of every printed line
   * (hundreds of thousands at 10 000 targets) is garbage once the text is joined.
   */
  finish(): { text: string; lineOf: (key: string) => number | undefined } {
    const marks = this.marks;
    return { text: this.toString(), lineOf: (key) => marks.get(key) };
  }
}
