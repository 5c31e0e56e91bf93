// JSON for people and diffs: nested objects indented, but lists of plain values and small
// flat objects (positions) on one line, so a manifest reads as one grant per few lines.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isPlain = (v: unknown): boolean => v === null || typeof v !== 'object';
const INLINE_LIMIT = 100;

export function formatJson(value: unknown, indent = ''): string {
  const v = value as Json;
  if (isPlain(v)) return JSON.stringify(v);
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every(isPlain)) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
    return `[\n${v.map((x) => inner + formatJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, Json>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{}';
  const flat = entries.every(([, x]) => isPlain(x)) ? `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x)}`).join(', ')} }` : undefined;
  if (flat && flat.length <= INLINE_LIMIT) return flat;
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${formatJson(x, inner)}`).join(',\n')}\n${indent}}`;
}
