// The entry point of the policy language: text → AST + LineMap + diagnostics. It never
// throws on input; every problem becomes a positioned VP30xx diagnostic:
//   VP3001 syntax (parser errors, unsupported statements, section order, nesting limits)
//   VP3002 characters checkpolicy's scanner does not know (including carriage returns)
//   VP3003 a string without its closing quote
//   VP3004 a `#line` marker m4 would not have written
//   VP3005 a statement an `if` block may not contain (from the visitor)

import type { CstNode, IRecognitionException, IToken, TokenType } from 'chevrotain';
import type { PolicyAst, Statement } from './ast.js';
import { diagnostic, sortDiagnostics, type Diagnostic, type SourceSpan } from '../../core/diagnostics.js';
import { LineMap } from './lines.js';
import { parseTokens } from './parser.js';
import { And, Dom, DomBy, Equals, Incomp, LCurly, LParen, Not, NotEquals, Or, policyLexer, RCurly, RParen, Semicolon, Xor } from './tokens.js';
import { buildStatement, emptyStatement, STATEMENT_DESCRIPTIONS } from './visitor.js';
import { scanStatements, type FastSink } from './fast.js';

export interface ParsedPolicy {
  readonly ast: PolicyAst;
  readonly lines: LineMap;
  /** In source order. Statements with errors are left out of the AST; the rest is kept. */
  readonly diagnostics: Diagnostic[];
}

/**
 * How deeply brackets and `!`/`not` may nest. The parser recurses once per level (about
 * 4 KiB of stack each), so a hostile `((((…` must stop here rather than overflow the
 * stack; real policies nest a handful of levels.
 */
export const MAX_NESTING = 100;
/**
 * Operators in one statement. Each one is a level of the AST (`a && b && c` is
 * `(a && b) && c`), and tools walk the AST recursively. Xen's longest constraint has 16.
 */
const MAX_OPERATORS = 1000;

interface ParseOptions {
  /** Characters the lexer takes at a time (tests); default CHUNK_CHARS. */
  readonly chunkChars?: number;
  /** Whether to read the statements it can through the fast path (fast.ts); default true. Tests compare both. */
  readonly fast?: boolean;
}

export function parsePolicy(file: string, text: string, options: ParseOptions = {}): ParsedPolicy {
  const lines = new LineMap(file, text);
  const diagnostics: Diagnostic[] = [...lines.diagnostics, ...carriageReturns(file, text), ...overlongLines(file, text)];
  const statements: Statement[] = [];
  // Empty statements have no AST node but a place in the section order (TE/RBAC only).
  const placed: Placed[] = [];
  const env = { file, text, diagnostics, names: new Map<string, string>() };
  const onStatement = (node: CstNode): void => {
    const statement = buildStatement(node, env);
    const semicolon = emptyStatement(node);
    if (statement) {
      statements.push(statement);
      placed.push(statement);
    } else if (semicolon) {
      placed.push({ kind: EMPTY, span: spanOf(file, semicolon) });
    }
  };
  /**
   * Runs text[start, end) through chevrotain's lexer and the full parser. `whole`: the piece
   * is a whole chunk, and every problem is reported. Otherwise it is a range the fast path
   * left over, and the first problem of any kind answers 'problem' at once: the caller then
   * forgets the chunk's results and parses the chunk whole (see `fastChunk`).
   */
  const parsePiece = (start: number, end: number, whole: boolean): 'parsed' | 'problem' | 'too-complex' => {
    const lexed = tokenizeChunk(text, start, end);
    const unterminated = (lexed.groups['unterminated'] ?? []) as IToken[];
    if (!whole && (lexed.errors.length > 0 || unterminated.length > 0)) return 'problem';
    for (const error of lexed.errors) diagnostics.push(unexpectedCharacters(file, text, error.offset, error.length));
    for (const token of unterminated) {
      diagnostics.push(diagnostic('PolicyUnterminatedString', [], spanOf(file, token), 'a quoted string ends with " on the same line'));
    }
    const tooComplex = firstTooComplex(lexed.tokens);
    if (tooComplex) {
      if (!whole) return 'problem';
      diagnostics.push(diagnostic('PolicySyntax', [tooComplex.problem], spanOf(file, tooComplex.token), 'vmipolicy refuses to parse the policy'));
      return 'too-complex';
    }
    let errors: readonly IRecognitionException[];
    try {
      errors = parseTokens(lexed.tokens, onStatement);
    } catch (error) {
      // An internal error of the visitor (visitor.ts statementOf) is the whole chunk's to raise.
      if (whole) throw error;
      return 'problem';
    }
    if (!whole && errors.length > 0) return 'problem';
    for (const error of errors) diagnostics.push(syntaxError(file, end, error));
    return 'parsed';
  };
  /**
   * A chunk through the fast path (fast.ts), the statements it declines through the full
   * parser range by range. Such a range is whole statements, and when the full parser reads
   * it without a single problem it reads it exactly as it would inside the chunk (the
   * grammar's statements are independent of one another, and the lexer's tokens of their
   * neighbours). On the first problem the chunk's results are forgotten and false answered,
   * so that every diagnostic comes from parsing the chunk whole, exactly as without the
   * fast path.
   */
  const fastChunk = (start: number, end: number): boolean => {
    const marks = [statements.length, placed.length, diagnostics.length] as const;
    let clean = true;
    const sink: FastSink = {
      statement: (statement) => {
        statements.push(statement);
        placed.push(statement);
      },
      empty: (offset) => {
        placed.push({ kind: EMPTY, span: { file, start: offset, end: offset + 1 } });
      },
      slow: (from, to) => (clean = parsePiece(from, to, false) === 'parsed'),
    };
    scanStatements(text, file, start, end, env.names, sink);
    if (clean) return true;
    statements.length = marks[0];
    placed.length = marks[1];
    diagnostics.length = marks[2];
    return false;
  };
  for (const [start, end] of statementChunks(text, options.chunkChars)) {
    if (options.fast !== false && fastChunk(start, end)) continue;
    if (parsePiece(start, end, true) === 'too-complex') return { ast: { file, statements: [] }, lines, diagnostics: sortDiagnostics(diagnostics) };
  }
  diagnostics.push(...sectionOrder(placed));
  return { ast: { file, statements }, lines, diagnostics: sortDiagnostics(diagnostics) };
}

// ---------------------------------------------------------------- statement-aligned chunks

/**
 * About how many characters the lexer takes at a time. A policy is tokenized and parsed a
 * piece at a time so that its tokens never exist all at once: 1.77 million tokens (~150 MiB)
 * for a 10 000-domain host. Smaller texts — every hand-written policy — are one piece.
 */
const CHUNK_CHARS = 1 << 20;

/**
 * [start, end) pieces of `text` that each hold whole top-level statements: a piece ends at a
 * line break that follows a `;` outside every bracket, string and comment (a `;` there ends a
 * statement in every section of checkpolicy's grammar). A text with no such place, or one
 * shorter than `size`, is one piece — so a piece boundary never changes what is parsed.
 */
/** 1 for the ASCII characters statementChunks needs no more of than "significant": all but # " { } ( ) and whitespace. */
const ORDINARY = Uint8Array.from({ length: 128 }, (_, c) => ('#"{}()\n \t\r'.includes(String.fromCharCode(c)) ? 0 : 1));

export function statementChunks(text: string, size = CHUNK_CHARS): [number, number][] {
  if (text.length <= size) return [[0, text.length]];
  const out: [number, number][] = [];
  let start = 0;
  let depth = 0;
  // The last character that is not whitespace or comment, as a code (0: none yet).
  let lastSignificant = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 128 || ORDINARY[c] === 1) {
      // A run of characters that only change the last significant one: most of the text.
      for (let next = text.charCodeAt(i + 1); i + 1 < text.length && (next >= 128 || ORDINARY[next] === 1); next = text.charCodeAt(i + 1)) {
        c = next;
        i++;
      }
      lastSignificant = c;
    } else if (c === 35 /* # */) {
      const newline = text.indexOf('\n', i);
      i = (newline < 0 ? text.length : newline) - 1;
    } else if (c === 34 /* " */) {
      // A string ends at its quote or, unterminated, at the line's end (the lexer's rule).
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 34 && text.charCodeAt(j) !== 10) j++;
      i = text.charCodeAt(j) === 34 ? j : j - 1;
      lastSignificant = c;
    } else if (c === 123 /* { */ || c === 40 /* ( */) {
      depth++;
      lastSignificant = c;
    } else if (c === 125 /* } */ || c === 41 /* ) */) {
      depth = Math.max(0, depth - 1);
      lastSignificant = c;
    } else if (c === 10) {
      if (depth === 0 && lastSignificant === 59 /* ; */ && i + 1 - start >= size) {
        out.push([start, i + 1]);
        start = i + 1;
      }
    } else if (c !== 32 && c !== 9 && c !== 13) {
      lastSignificant = c;
    }
  }
  if (start < text.length || out.length === 0) out.push([start, text.length]);
  return out;
}

interface Lexed {
  readonly tokens: IToken[];
  readonly errors: readonly { readonly offset: number; readonly length: number }[];
  readonly groups: Record<string, IToken[]>;
}

/** Tokens of text[start, end), their offsets made offsets into the whole text. */
function tokenizeChunk(text: string, start: number, end: number): Lexed {
  const lexed = policyLexer().tokenize(start === 0 && end === text.length ? text : text.slice(start, end));
  if (start === 0) return lexed;
  const shift = (t: IToken): void => {
    t.startOffset += start;
    if (t.endOffset !== undefined) t.endOffset += start;
  };
  lexed.tokens.forEach(shift);
  // Grouped tokens (unterminated strings) are kept apart from the token vector.
  for (const group of Object.values(lexed.groups)) (group as IToken[]).forEach(shift);
  return { tokens: lexed.tokens, groups: lexed.groups as Record<string, IToken[]>, errors: lexed.errors.map((e) => ({ offset: e.offset + start, length: e.length })) };
}

// ---------------------------------------------------------------- characters

function spanOf(file: string, token: IToken): SourceSpan {
  return { file, start: token.startOffset, end: token.startOffset + token.image.length };
}

/** A character as a message can show it: itself, or its escape if it is invisible. */
function printable(char: string): string {
  if (char === '\r') return '\\r';
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0) || /\s/u.test(char)
    ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
    : char;
}

function unexpectedCharacters(file: string, text: string, offset: number, length: number): Diagnostic {
  const char = String.fromCodePoint(text.codePointAt(offset) ?? 0xfffd);
  return diagnostic('PolicyUnexpectedCharacter', [printable(char)], { file, start: offset, end: offset + Math.max(length, 1) });
}

/**
 * checkpolicy rejects every carriage return ("unrecognized character"). The lexer skips
 * them as whitespace so the rest still parses; one diagnostic, at the first, says why.
 */
function carriageReturns(file: string, text: string): Diagnostic[] {
  const first = text.indexOf('\r');
  if (first < 0) return [];
  const crlf = text.startsWith('\r\n', first);
  const help = crlf
    ? 'the file has Windows (CRLF) line endings; checkpolicy accepts only LF: convert it (dos2unix)'
    : 'checkpolicy does not accept carriage returns: remove them';
  return [diagnostic('PolicyUnexpectedCharacter', ['\\r'], { file, start: first, end: first + 1 }, help)];
}

/**
 * checkpolicy's scanner reads every line after the first as one token (`\n.*`, to quote
 * it in errors), and flex tokens end below YYLMAX = 8192 bytes: a line of 8191 bytes or
 * more aborts the build ("token too large, exceeds YYLMAX") whatever it contains.
 */
export const MAX_LINE_BYTES = 8190;

function overlongLines(file: string, text: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (let newline = text.indexOf('\n'); newline >= 0; ) {
    const start = newline + 1;
    const next = text.indexOf('\n', start);
    const end = next < 0 ? text.length : next;
    // UTF-8 needs at most 3 bytes per UTF-16 unit: shorter lines need no counting.
    if ((end - start) * 3 > MAX_LINE_BYTES) {
      const bytes = Buffer.byteLength(text.slice(start, end));
      if (bytes > MAX_LINE_BYTES) {
        const message = `this line is ${bytes} bytes long; checkpolicy cannot read lines over ${MAX_LINE_BYTES} bytes (its scanner's YYLMAX)`;
        out.push(diagnostic('PolicySyntax', [message], { file, start, end: start + 1 }, 'split the statement over several lines'));
      }
    }
    newline = next;
  }
  return out;
}

// ---------------------------------------------------------------- parser errors

/** Where an error is: its token, or — for one invented by recovery or the end — the end of the piece parsed. */
function errorSpan(file: string, end: number, error: IRecognitionException): SourceSpan {
  const token = error.token;
  if (token.startOffset >= 0 && token.isInsertedInRecovery !== true) return spanOf(file, token);
  return { file, start: end, end };
}

function syntaxError(file: string, end: number, error: IRecognitionException): Diagnostic {
  const span = errorSpan(file, end, error);
  // The message is ours (parser.ts's errorMessageProvider): a reserved word where a name was expected.
  const reserved = /but found the reserved word "([^"]+)"/.exec(error.message);
  const help = reserved && /expected a name/.test(error.message)
    ? `"${reserved[1]}" is a reserved word of the policy language and cannot be used as a name`
    : undefined;
  return diagnostic('PolicySyntax', [error.message], span, help);
}

const OPERATORS: ReadonlySet<TokenType> = new Set([And, Or, Xor, Not, Equals, NotEquals, Dom, DomBy, Incomp]);

/**
 * The first token past MAX_NESTING levels of open `(`/`{` and pending `!`/`not` (a `!`
 * is pending until its operand starts with something other than `!` or `(`), or past
 * MAX_OPERATORS operators since the last `;`, `{` or `}`.
 */
function firstTooComplex(tokens: readonly IToken[]): { token: IToken; problem: string } | undefined {
  let open = 0;
  let negations = 0;
  let operators = 0;
  for (const token of tokens) {
    const type = token.tokenType;
    if (type === LParen || type === LCurly) open++;
    else if (type === RParen || type === RCurly) open = Math.max(0, open - 1);
    if (type === Not) negations++;
    else if (type !== LParen) negations = 0;
    if (type === Semicolon || type === LCurly || type === RCurly) operators = 0;
    else if (OPERATORS.has(type)) operators++;
    if (open + negations > MAX_NESTING) return { token, problem: `brackets and negations nest more than ${MAX_NESTING} levels deep` };
    if (operators > MAX_OPERATORS) return { token, problem: `a statement has more than ${MAX_OPERATORS} operators` };
  }
  return undefined;
}

// ---------------------------------------------------------------- section order

/**
 * checkpolicy's base policy is a fixed sequence of sections (policy_parse.y `base_policy`).
 * Each statement kind has its section's rank; a statement whose rank is lower than the
 * one before it is out of place. Missing sections are not reported: a .te module is a
 * valid input on its own.
 */
const SECTIONS: readonly (readonly [string, readonly Statement['kind'][]])[] = [
  ['security classes', ['class-decl']],
  ['initial SID declarations', ['sid-decl']],
  ['common permissions', ['common']],
  ['access vectors', ['access-vector']],
  ['default rules', ['default_user', 'default_role', 'default_type', 'default_range']],
  ['sensitivities', ['sensitivity']],
  ['dominance', ['dominance']],
  ['categories', ['category']],
  ['levels', ['level']],
  ['MLS constraints', ['mlsconstrain', 'mlsvalidatetrans']],
  [
    'TE and RBAC statements',
    [
      'policycap', 'attribute', 'type', 'typeattribute', 'typealias', 'bool', 'allow', 'auditallow',
      'dontaudit', 'neverallow', 'type_transition', 'type_change', 'type_member', 'role', 'role-allow',
      'role_transition', 'if', 'attribute_role', 'roleattribute', 'typebounds', 'permissive', 'expandattribute',
      'auditdeny', 'range_transition',
    ],
  ],
  ['users', ['user']],
  ['constraints', ['constrain', 'validatetrans']],
  ['initial SID contexts', ['sid-context']],
  ['device contexts', ['pirqcon', 'iomemcon', 'ioportcon', 'pcidevicecon', 'devicetreecon']],
];

const TE_RANK = SECTIONS.findIndex(([name]) => name === 'TE and RBAC statements');

const RANK: ReadonlyMap<Statement['kind'], number> = new Map(SECTIONS.flatMap(([, kinds], rank) => kinds.map((k) => [k, rank] as const)));

const ORDER_HELP = `checkpolicy reads a policy.conf in this order: ${SECTIONS.map(([name]) => name).join(', ')}`;

const EMPTY = 'empty-statement';

/** A statement, or a lone `;`, where it stands. */
interface Placed {
  readonly kind: Statement['kind'] | typeof EMPTY;
  readonly span: SourceSpan;
}

function describe(kind: Placed['kind']): string {
  return kind === EMPTY ? 'an empty statement (";")' : STATEMENT_DESCRIPTIONS[kind];
}

function sectionOrder(statements: readonly Placed[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  let previous: Placed | undefined;
  let previousRank = -1;
  for (const statement of statements) {
    const rank = statement.kind === EMPTY ? TE_RANK : (RANK.get(statement.kind) ?? TE_RANK);
    if (previous && rank < previousRank) {
      const section = SECTIONS[previousRank]?.[0] ?? '';
      const message = `${describe(statement.kind)} cannot follow ${describe(previous.kind)} (${section})`;
      out.push(diagnostic('PolicySyntax', [message], statement.span, ORDER_HELP));
    }
    previous = statement;
    previousRank = rank;
  }
  return out;
}
