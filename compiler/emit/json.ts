// JSON for people and diffs: nested objects indented, but lists of plain values and small
// flat objects (positions) on one line, so a manifest reads as one grant per few lines.
// Written into one array of chunks: manifests of large hosts run to hundreds of megabytes.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isPlain = (v: unknown): boolean => v === null || typeof v !== 'object';
const INLINE_LIMIT = 100;

export function formatJson(value: unknown): string {
  const out: string[] = [];
  write(value as Json, '', out);
  return out.join('');
}

function write(v: Json, indent: string, out: string[]): void {
  if (isPlain(v)) {
    out.push(JSON.stringify(v));
    return;
  }
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) out.push('[]');
    else if (v.every(isPlain)) out.push(`[${v.map((x) => JSON.stringify(x)).join(', ')}]`);
    else {
      out.push('[\n');
      v.forEach((x, i) => {
        out.push(inner);
        write(x, inner, out);
        out.push(i < v.length - 1 ? ',\n' : '\n');
      });
      out.push(indent, ']');
    }
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
