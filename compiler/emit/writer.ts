// A line-oriented text builder that remembers on which line each rule was printed, so the
// manifest can point from every grant to the exact policy line behind it.

export class TextWriter {
  private readonly lines: string[] = [];
  private readonly marks = new Map<string, number>();

  /** 1-based number of the next line to be written. */
  get nextLine(): number {
    return this.lines.length + 1;
  }

  line(text = ''): void {
    // Emitters only print validated identifiers, but a newline slipping into a line would
    // let one "line" smuggle in a second rule: refuse it outright.
    if (/[\r\n]/.test(text)) throw new Error('internal: a printed line contains a line break');
    this.lines.push(text);
  }

  comment(text: string, prefix = '#'): void {
    this.line(text === '' ? prefix : `${prefix} ${text}`);
  }

  /** Records that `key` is printed on the next line. */
  mark(key: string): void {
    if (!this.marks.has(key)) this.marks.set(key, this.nextLine);
  }

  lineOf(key: string): number | undefined {
    return this.marks.get(key);
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}
