// JSON for people and diffs: nested objects indented, but lists of plain values and small
// flat objects (positions) on one line, so a manifest reads as one grant per few lines.
// Manifests of large hosts run to hundreds of megabytes, so the text is built in joined
// chunks (never one array of millions of tiny strings), which a writer may stream, and the
// longest value, the grants, may be a LazyText whose lines exist only while they are written.

type Json = null | boolean | number | string | Json[] | LazyText | { [key: string]: Json };

/**
 * A value that prints itself, line by line as it is made: `write` hands `push` its JSON text,
 * each line after the first starting with `indent` (the indentation of the line the value
 * starts on). For a value too large to exist as objects at once, laid out by its maker.
 */
export class LazyText {
  constructor(readonly write: (push: (text: string) => void, indent: string) => void) {}
}

const isPlain = (v: unknown): boolean => v === null || typeof v !== 'object';
const INLINE_LIMIT = 100;
/** Pieces joined into one flat string at a time: bounds the number of live small strings. */
const PIECES_PER_CHUNK = 4096;

/** Where finished text goes, one flat chunk at a time. */
export type TextSink = (chunk: string) => void;

/**
 * Collects text pieces, joining every PIECES_PER_CHUNK of them into one flat chunk that
 * goes to `sink`.
 */
class ChunkedText {
  private pieces: string[] = [];

  constructor(private readonly sink: TextSink) {}

  push(...texts: string[]): void {
    for (const t of texts) this.pieces.push(t);
    if (this.pieces.length >= PIECES_PER_CHUNK) this.flush();
  }

  flush(): void {
    if (this.pieces.length) this.sink(this.pieces.join(''));
    this.pieces = [];
  }
}

/**
 * `end` is joined in with the rest: `formatJson(v) + '\n'` would be a cons string that the
 * file writer flattens into a second copy of the whole text.
 */
export function formatJson(value: unknown, end = ''): string {
  const chunks: string[] = [];
  writeJson(value, end, (chunk) => chunks.push(chunk));
  return chunks.join('');
}

/**
 * The same text as formatJson, handed to `sink` in chunks as it is made: a writer that
 * streams them to a file never holds the whole text (a 10 000-domain manifest is hundreds
 * of megabytes, and twice that as the UTF-16 string its arrows make it).
 */
export function writeJson(value: unknown, end: string, sink: TextSink): void {
  const out = new ChunkedText(sink);
  write(value as Json, '', out);
  out.push(end);
  out.flush();
}

function write(v: Json, indent: string, out: ChunkedText): void {
  if (isPlain(v)) {
    out.push(JSON.stringify(v));
    return;
  }
  const inner = indent + '  ';
  if (v instanceof LazyText) {
    v.write((text) => out.push(text), indent);
    return;
  }
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every(isPlain)) out.push(`[${v.map((x) => JSON.stringify(x)).join(', ')}]`);
    else writeItems(v.length, (i) => v[i] as Json, indent, out);
    return;
  }
  const entries = Object.entries(v as Record<string, Json>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) {
    out.push('{}');
    return;
  }
  if (entries.every(([, x]) => isPlain(x))) {
    const flat = `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x)}`).join(', ')} }`;
    if (flat.length <= INLINE_LIMIT) {
      out.push(flat);
      return;
    }
  }
  out.push('{\n');
  entries.forEach(([k, x], i) => {
    out.push(inner, JSON.stringify(k), ': ');
    write(x, inner, out);
    out.push(i < entries.length - 1 ? ',\n' : '\n');
  });
  out.push(indent, '}');
}

/** A multi-line list: one item per line at `indent` + 2. */
function writeItems(length: number, item: (index: number) => Json, indent: string, out: ChunkedText): void {
  if (length === 0) {
    out.push('[]');
    return;
  }
  const inner = indent + '  ';
  out.push('[\n');
  for (let i = 0; i < length; i++) {
    out.push(inner);
    write(item(i), inner, out);
    out.push(i < length - 1 ? ',\n' : '\n');
  }
  out.push(indent, ']');
}
