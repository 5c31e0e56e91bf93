// Mutators of the fuzz harness, as fast-check arbitraries of edit lists so that a case is a
// pure function of its seed: structure-aware token edits of near-valid text (insert, delete,
// duplicate, deep nesting, long names, control and bidi characters, numbers at integer
// limits) and a byte-level mutator. Every result stays under MAX_INPUT_BYTES.

import fc from 'fast-check';

/** The harness's size limit for any one generated input. */
export const MAX_INPUT_BYTES = 1_000_000;

/** C0 and C1 controls, terminal escapes and the characters Unicode's bidi algorithm obeys. */
export const CONTROL_STRINGS: readonly string[] = [
  '\x00', '\x07', '\x08', '\r', '\x0b', '\x0c', '\x1b', '\x1b[31m', '\x1b]0;title\x07', '\x1b[2J', '\x7f', '\u0085', '\u009b', '\u2028', '\u2029', '\ufeff',
];
export const BIDI_STRINGS: readonly string[] = ['\u202e', '\u202a', '\u202b', '\u202d', '\u2066', '\u2067', '\u2068', '\u2069', '\u200f', '\u061c'];
/** Integers at the limits parsers convert to: 2^31, 2^32, 2^53, 2^63, 2^64 and their neighbours. */
export const LIMIT_NUMBERS: readonly string[] = [
  '0', '-0', '-1', '2147483647', '2147483648', '4294967295', '4294967296', '9007199254740991', '9007199254740993',
  '9223372036854775807', '9223372036854775808', '-9223372036854775809', '18446744073709551615', '18446744073709551616',
  '123456789012345678901234', '1e309', '0x7fffffff', '0xffffffff', '0xffffffffffffffff', '0x10000000000000000', '0777777777777777777777777', 'NaN', 'Infinity',
];
/** Pieces of the grammars the harness feeds (YAML, the policy language and m4, xl, shell, JSON). */
const SYNTAX: readonly string[] = [
  '{', '}', '[', ']', '(', ')', ';', ':', ',', '"', "'", '`', '#', '\\', '=', '\n', '\t', ' ', '- ', '? ', '&a ', '*a', '!!str ', '---\n', '...\n', '|', '>',
  '$(id)', '`id`', "'; reboot #", '~', '*', '-', '&&', '||', '^', '!', '==', '!=', 'dnl', 'changequote(<,>)', 'syscmd(id)', 'esyscmd(`id\')', 'include(/etc/passwd)',
  'define(`x\',`x x\')x', '#line 1 "x"\n', '\n#line 4294967296 "y"\n', 'if (', ') {', '} else {', 'allow', 'type', 'attribute', 'typeattribute', 'bool', 'neverallow',
  "syscmd(`touch @CASE_DIR@/pwned')", "esyscmd(`touch @CASE_DIR@/pwned')", '$(touch @CASE_DIR@/pwned)', '`touch @CASE_DIR@/pwned`', '; touch @CASE_DIR@/pwned #',
  'self', '_t', 'domain', 'xenstore-chmod', '  (n0)', '  (r2147483648)', ' = "', '"  (b-1)', '/local/domain/', '..', '/', 'null', 'true', '0x', '{"a":',
];
const NESTING: readonly (readonly [string, string])[] = [['[', ']'], ['{', '}'], ['(', ')'], ['{ ', ' }'], ['`', "'"], ['- ', ''], ['"', '"'], ['if (b) {', '}'], ['( ', ' && b)']];

export type TextEdit =
  | { readonly op: 'insert'; readonly at: number; readonly text: string }
  | { readonly op: 'delete'; readonly at: number; readonly count: number }
  | { readonly op: 'duplicate'; readonly at: number; readonly span: number; readonly times: number }
  | { readonly op: 'nest'; readonly at: number; readonly depth: number; readonly pair: number }
  | { readonly op: 'long-name'; readonly at: number; readonly length: number; readonly unit: string }
  | { readonly op: 'number'; readonly which: number; readonly value: string }
  | { readonly op: 'copy-token'; readonly at: number; readonly from: number };

const position = fc.nat({ max: 1 << 30 });

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...CONTROL_STRINGS),
  fc.constantFrom(...BIDI_STRINGS),
  fc.constantFrom(...LIMIT_NUMBERS),
  fc.constantFrom(...SYNTAX),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

export const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, text: hostileString }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: position, span: fc.integer({ min: 1, max: 30 }), times: fc.constantFrom(2, 3, 50, 1000, 100_000) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('nest' as const), at: position, depth: fc.constantFrom(20, 500, 5000, 100_000), pair: fc.nat({ max: NESTING.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('long-name' as const), at: position, length: fc.constantFrom(63, 64, 65, 256, 4096, 65_536, 400_000), unit: fc.constantFrom('a', 'A_', 'é', '\u202e', '9', '\x1b') }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('number' as const), which: position, value: fc.constantFrom(...LIMIT_NUMBERS) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('copy-token' as const), at: position, from: position }) },
);

/** Tokens as the mutator sees text: words, runs of blanks, single other characters. */
function tokens(text: string): string[] {
  return text.match(/[A-Za-z0-9_.-]+|[ \t]+|\n|[^A-Za-z0-9_.\s-]/gsu) ?? [];
}

/** How many copies of `piece` still fit beside `rest` under the size limit. */
function fitting(piece: string, rest: number, wanted: number): number {
  const room = MAX_INPUT_BYTES - 16 - rest;
  const size = Buffer.byteLength(piece) || 1;
  return Math.max(0, Math.min(wanted, Math.floor(room / size)));
}

function applyEdit(text: string, e: TextEdit): string {
  const toks = tokens(text);
  const n = toks.length;
  const at = n ? e.op === 'number' ? 0 : (e as { at: number }).at % (n + 1) : 0;
  const size = Buffer.byteLength(text);
  const splice = (index: number, remove: number, insert: string): string => [...toks.slice(0, index), insert, ...toks.slice(index + remove)].join('');
  switch (e.op) {
    case 'insert': return splice(at, 0, e.text);
    case 'delete': return splice(at, e.count, '');
    case 'duplicate': {
      const piece = toks.slice(at, at + e.span).join('');
      return splice(at, 0, piece.repeat(fitting(piece, size, e.times - 1)));
    }
    case 'nest': {
      const [open, close] = NESTING[e.pair] as readonly [string, string];
      const depth = fitting(open + close, size, e.depth);
      return splice(at, 0, open.repeat(depth) + close.repeat(depth));
    }
    case 'long-name': return splice(at, 0, e.unit.repeat(fitting(e.unit, size, e.length)));
    case 'number': {
      const numbers = toks.map((t, i) => (/^[0-9]/.test(t) ? i : -1)).filter((i) => i >= 0);
      if (!numbers.length) return splice(e.which % (n + 1), 0, e.value);
      return splice(numbers[e.which % numbers.length] as number, 1, e.value);
    }
    case 'copy-token': return n ? splice(at, 0, toks[e.from % n] as string) : text;
  }
}

/** A seed text with the edits applied in order, each one clamped to keep the text under the limit. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const e of edits) out = applyEdit(out, e);
  return Buffer.byteLength(out) > MAX_INPUT_BYTES ? Buffer.from(out).subarray(0, MAX_INPUT_BYTES).toString('utf8') : out;
}

export const textEdits: fc.Arbitrary<TextEdit[]> = fc.array(textEdit, { minLength: 1, maxLength: 6 });

/** A near-valid text: one of the seeds, edited. */
export function mutatedText(seeds: readonly string[]): fc.Arbitrary<{ text: string; note: string }> {
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), textEdits).map(([i, edits]) => ({
    text: applyTextEdits(seeds[i] as string, edits),
    note: `seed ${i}, edits ${edits.map((e) => e.op).join(' ')}`,
  }));
}

// ---------------------------------------------------------------- bytes

export type ByteEdit =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'set'; readonly at: number; readonly byte: number }
  | { readonly op: 'word'; readonly at: number; readonly width: 2 | 4 | 8; readonly value: bigint }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'delete'; readonly at: number; readonly count: number }
  | { readonly op: 'truncate'; readonly at: number };

const LIMIT_WORDS: readonly bigint[] = [0n, 1n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffff000n];

/** `region` limits where edits land: [start, end) of the bytes that matter (headers, page tables). */
export function byteEdit(region?: readonly [number, number]): fc.Arbitrary<ByteEdit> {
  const at = region ? fc.integer({ min: region[0], max: Math.max(region[0], region[1] - 1) }) : position;
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('flip' as const), at, bit: fc.nat({ max: 7 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), at, byte: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x0a, 0x1b, 0x22, 0x5c) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('word' as const), at, width: fc.constantFrom(2 as const, 4 as const, 8 as const), value: fc.constantFrom(...LIMIT_WORDS) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at }) },
  );
}

export function applyByteEdits(input: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let bytes = Uint8Array.from(input);
  for (const e of edits) {
    const at = bytes.length ? e.at % bytes.length : 0;
    switch (e.op) {
      case 'flip': if (bytes.length) bytes[at] = (bytes[at] as number) ^ (1 << e.bit); break;
      case 'set': if (bytes.length) bytes[at] = e.byte; break;
      case 'word': {
        if (at + e.width > bytes.length) break;
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (e.width === 2) view.setUint16(at, Number(e.value & 0xffffn), true);
        else if (e.width === 4) view.setUint32(at, Number(e.value & 0xffffffffn), true);
        else view.setBigUint64(at, e.value, true);
        break;
      }
      case 'insert': bytes = Uint8Array.from(Buffer.concat([bytes.subarray(0, at), e.bytes, bytes.subarray(at)]).subarray(0, MAX_INPUT_BYTES)); break;
      case 'delete': bytes = Uint8Array.from(Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + e.count)])); break;
      case 'truncate': bytes = bytes.slice(0, at); break;
    }
  }
  return bytes;
}

export function byteEdits(region?: readonly [number, number]): fc.Arbitrary<ByteEdit[]> {
  return fc.array(byteEdit(region), { minLength: 1, maxLength: 8 });
}

/** A seed's bytes, byte-mutated. */
export function mutatedBytes(seeds: readonly Uint8Array[], region?: readonly [number, number]): fc.Arbitrary<{ bytes: Uint8Array; note: string }> {
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), byteEdits(region)).map(([i, edits]) => ({
    bytes: applyByteEdits(seeds[i] as Uint8Array, edits),
    note: `seed ${i}, byte edits ${edits.map((e) => e.op).join(' ')}`,
  }));
}

/** A text seed mutated either as tokens (mostly) or as bytes (which may break its UTF-8). */
export function mutatedInput(seeds: readonly string[]): fc.Arbitrary<{ text: string | Uint8Array; note: string }> {
  return fc.oneof(
    { weight: 3, arbitrary: mutatedText(seeds) },
    { weight: 1, arbitrary: mutatedBytes(seeds.map((s) => new TextEncoder().encode(s))).map(({ bytes, note }) => ({ text: bytes, note })) },
  );
}
