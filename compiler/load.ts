// Phase 1: bytes → one YAML document → a plain JSON-like value, with the source range of
// every node kept by path so that later phases can point at the exact key or value.
// Hostile input is expected here: oversized files, bad UTF-8, alias bombs, duplicate keys.

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Node } from 'yaml';
import { diagnostic, type Diagnostic, type SourceSpan } from '../core/diagnostics.js';
import { INPUT_KINDS } from '../core/read-input.js';
import { sourceText, type SourceText } from '../core/source.js';

/** Specs are a few kilobytes; anything this large is a mistake or an attack (the same cap the CLI reads files with). */
export const MAX_SPEC_BYTES = INPUT_KINDS.spec.maxBytes;

type PathSegment = string | number;
export type JsonPath = readonly PathSegment[];

interface NodeRanges {
  readonly key?: readonly [number, number];
  readonly value: readonly [number, number];
  /** The scalar exactly as written (to recover `xen: 4.10`, which YAML reads as 4.1). */
  readonly raw?: string;
}

export interface LoadedSpec {
  readonly source: SourceText;
  readonly value: unknown;
  /** The span of the node at `path` (its key when asked and present), else its nearest ancestor's. */
  locate(path: JsonPath, part?: 'key' | 'value'): SourceSpan;
  /** The source text of a scalar at `path`, if there is one. */
  rawScalar(path: JsonPath): string | undefined;
}

interface LoadResult {
  readonly spec?: LoadedSpec;
  /** Present whenever the bytes decoded, so that every diagnostic can be positioned. */
  readonly source?: SourceText;
  readonly diagnostics: readonly Diagnostic[];
}

/** A JSON Pointer (RFC 6901): `~` as `~0`, `/` as `~1`. Called for every node of the spec. */
function pathKey(path: JsonPath): string {
  let key = '';
  for (const p of path) {
    const s = typeof p === 'number' ? String(p) : p;
    key += '/' + (s.includes('~') || s.includes('/') ? s.replace(/~/g, '~0').replace(/\//g, '~1') : s);
  }
  return key;
}

/** Decodes strict UTF-8; on failure reports the offset of the first invalid byte. */
export function decodeUtf8(bytes: Uint8Array): { text: string } | { badByte: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { badByte: firstInvalidUtf8Byte(bytes) };
  }
}

function firstInvalidUtf8Byte(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] ?? 0;
    const need = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
    }
    // Overlongs, surrogates and >U+10FFFF: let the exact decoder judge the sequence alone.
    if (need > 0) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(i, i + need + 1));
      } catch {
        return i;
      }
    }
    i += need + 1;
  }
  return b.length;
}

export function loadSpec(file: string, input: string | Uint8Array): LoadResult {
  let text: string;
  if (typeof input === 'string') {
    text = input;
    if (Buffer.byteLength(text, 'utf8') > MAX_SPEC_BYTES) return tooLarge(file, Buffer.byteLength(text, 'utf8'));
  } else {
    if (input.length > MAX_SPEC_BYTES) return tooLarge(file, input.length);
    const decoded = decodeUtf8(input);
    if ('badByte' in decoded) {
      // Decoded leniently only to place the error: the valid prefix decodes the same either way.
      const at = new TextDecoder('utf-8').decode(input.subarray(0, decoded.badByte)).length;
      return {
        source: sourceText(file, new TextDecoder('utf-8').decode(input)),
        diagnostics: [diagnostic('NotUtf8', [decoded.badByte], { file, start: at, end: at + 1 }, 'save the file as UTF-8')],
      };
    }
    text = decoded.text;
  }
  // Editors do not count a byte-order mark as a column; neither do we.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const source = sourceText(file, text);
  const span = (start: number, end: number): SourceSpan => ({ file, start, end: Math.max(start, end) });

  const docs = parseAllDocuments(text, {
    lineCounter: new LineCounter(),
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    version: '1.2',
  });
  const list = Array.isArray(docs) ? docs : [];
  const diagnostics: Diagnostic[] = [];
  if (!Array.isArray(docs)) {
    // An empty stream comes back as an EmptyStream object.
    return { source, diagnostics: [diagnostic('EmptySpec', [], span(0, 0), 'start from examples/tinyvmi/vmi.yaml')] };
  }
  if (list.length > 1) {
    const second = list[1]?.range?.[0] ?? 0;
    diagnostics.push(diagnostic('MultipleDocuments', [list.length], span(second, second + 3), 'remove the "---" separators: one spec per file'));
  }
  const doc = list[0];
  if (!doc || doc.contents === null) {
    return { source, diagnostics: [...diagnostics, diagnostic('EmptySpec', [], span(0, 0), 'start from examples/tinyvmi/vmi.yaml')] };
  }
  // A tab used as indentation makes the YAML parser report the lines after it as well
  // (implicit keys, nested mappings, columns); the tab is the one mistake, so it is the one error.
  const tabs = doc.errors.filter((e) => e.code === 'TAB_AS_INDENT');
  for (const e of tabs.length ? tabs : [...doc.errors]) {
    const [s, en] = e.pos;
    if (e.code === 'TAB_AS_INDENT') {
      const tab = text.indexOf('\t', text.lastIndexOf('\n', s) + 1);
      diagnostics.push(diagnostic('TabIndent', [], tab >= 0 && tab <= s + 1 ? span(tab, tab + 1) : span(s, en), 'replace the tab (shown as →) with spaces'));
      continue;
    }
    if (e.code === 'DUPLICATE_KEY') {
      diagnostics.push(diagnostic('DuplicateKey', [text.slice(s, en).trim() || '?'], span(s, en), 'a key may appear once in a mapping; merge the two entries'));
    } else if (e.code === 'BAD_ALIAS' || e.code === 'ALIAS_PROPS') {
      diagnostics.push(diagnostic('AliasNotAllowed', [], span(s, en), 'write the values out in full'));
    } else {
      diagnostics.push(diagnostic('YamlSyntax', [firstLine(e.message)], span(s, en)));
    }
  }
  let aliasSeen = false;
  visit(doc, {
    Alias(_, node) {
      aliasSeen = true;
      const r = node.range ?? [0, 0];
      diagnostics.push(diagnostic('AliasNotAllowed', [], span(r[0], r[1]), 'write the values out in full'));
    },
    Node(_, node) {
      if (node.anchor) {
        const r = node.range ?? [0, 0];
        diagnostics.push(diagnostic('AliasNotAllowed', [], span(r[0], r[1]), 'remove the &anchor and write the values out in full'));
      }
    },
  });
  if (diagnostics.some((d) => d.severity === 'error') || aliasSeen) return { source, diagnostics };

  const ranges = new Map<string, NodeRanges>();
  const toPlain = (node: unknown, path: PathSegment[], keyRange?: readonly [number, number]): unknown => {
    const r = (node as Node | null)?.range;
    const value: readonly [number, number] = r ? [r[0], r[1]] : keyRange ?? [0, 0];
    if (isScalar(node)) {
      ranges.set(pathKey(path), { ...(keyRange ? { key: keyRange } : {}), value, raw: node.source ?? String(node.value) });
      const v = node.value;
      return typeof v === 'bigint' ? Number(v) : v;
    }
    ranges.set(pathKey(path), { ...(keyRange ? { key: keyRange } : {}), value });
    if (isSeq(node)) return node.items.map((item, i) => toPlain(item, [...path, i]));
    if (isMap(node)) {
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const pair of node.items) {
        const k = pair.key;
        if (!isScalar(k) || typeof k.value !== 'string') {
          const kr = (k as Node | null)?.range ?? value;
          diagnostics.push(diagnostic('NonStringKey', [], span(kr[0], kr[1]), 'quote the key'));
          continue;
        }
        const kr = k.range ?? [0, 0];
        out[k.value] = toPlain(pair.value, [...path, k.value], [kr[0], kr[1]]);
      }
      return out;
    }
    if (isAlias(node)) return undefined;
    return null;
  };
  const value = toPlain(doc.contents, []);

  const locate = (path: JsonPath, part: 'key' | 'value' = 'value'): SourceSpan => {
    for (let n = path.length; n >= 0; n--) {
      const r = ranges.get(pathKey(path.slice(0, n)));
      if (!r) continue;
      const chosen = part === 'key' && r.key && n === path.length ? r.key : r.value;
      return span(chosen[0], chosen[1]);
    }
    return span(0, 0);
  };
  const rawScalar = (path: JsonPath): string | undefined => ranges.get(pathKey(path))?.raw;
  return { spec: { source, value, locate, rawScalar }, source, diagnostics };
}

/** Not decoded at all: the error is placed at 1:1 of an empty source. */
function tooLarge(file: string, bytes: number): LoadResult {
  return {
    source: sourceText(file, ''),
    diagnostics: [diagnostic('FileTooLarge', ['the spec', bytes, 'specs', MAX_SPEC_BYTES], { file, start: 0, end: 0 }, 'a spec describes a host in a few kilobytes; check that this is the right file')],
  };
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? s).replace(/ at line \d+, column \d+:?$/, '');
}
