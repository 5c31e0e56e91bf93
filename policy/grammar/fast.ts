// The fast path of the policy parser: the few statement forms that make up nearly all of a
// large policy (`allow a b:c { p q };`, `type t, attr;`, `role r types t;`, …), read
// straight from the text into the AST, with no token objects and no CST. A 10 000-domain
// host is 1.8 million tokens in 130 000 statements of five shapes; through chevrotain's
// lexer, its CstParser and the visitor it was three quarters of a policy read, half of that
// in the garbage collector.
//
// The fast path never decides anything the full parser (parser.ts + visitor.ts) would
// decide differently. It takes a statement only when that statement is well formed in one
// of its shapes, cuts words exactly as tokens.ts's lexer does, and builds the very AST the
// visitor builds for it (the same kinds, fields, spans and packed name sets). Anything else
// — another statement kind, `*`, `~`, `a - b`, nested sets, aliases, quoted names, numbers,
// any character outside its alphabet, any error — it hands back untouched as a range of
// whole statements, for parse.ts to run through the full parser; see `slowEnd` for where
// such a range ends.

import type { Statement, Name, NameSet, AvRule, RoleAllow, TypeDecl, TypeAttributeStmt, AttributeDecl, RoleDecl, TypeRule } from './ast.js';
import { PackedNameSet } from './ast.js';
import type { SourceSpan } from '../../core/diagnostics.js';
import { ownCopy } from '../../core/strings.js';
import { RESERVED_SPELLINGS } from './tokens.js';

/** Where the fast path puts what it reads, in source order. */
export interface FastSink {
  statement(statement: Statement): void;
  /** A lone `;` at `offset`. */
  empty(offset: number): void;
  /**
   * text[start, end): whole statements the fast path leaves to the full parser. Answers
   * whether to go on; false stops the scan (parse.ts then parses the whole piece itself).
   */
  slow(start: number, end: number): boolean;
}

const SEMICOLON = 59;
const COLON = 58;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const LCURLY = 123;
const RCURLY = 125;
const LPAREN = 40;
const RPAREN = 41;
const HASH = 35;
const QUOTE = 34;
const SLASH = 47;
const NEWLINE = 10;

/** tokens.ts WhiteSpace: `[ \t\f\r\n]`. */
function isSpace(c: number): boolean {
  return c === 32 || c === NEWLINE || c === 9 || c === 13 || c === 12;
}

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** What may follow an identifier's first letter (tokens.ts Identifier: `[A-Za-z0-9_-]`). */
function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === MINUS;
}

/**
 * One string per distinct word, found without cutting the word out of the text first: a
 * hash of its characters and a comparison in place, so the millions of repeated names of a
 * host policy allocate nothing. Misses go through `names`, the table the visitor interns
 * into, so both paths share one string per name.
 */
class Words {
  private keys: (string | undefined)[] = new Array<string | undefined>(1024);
  private hashes = new Int32Array(1024);
  private reservedFlags = new Uint8Array(1024);
  private count = 0;
  /** Whether the word `get` last returned is a reserved spelling. */
  reserved = false;

  constructor(private readonly names: Map<string, string>) {}

  get(text: string, start: number, end: number, hash: number): string {
    const mask = this.keys.length - 1;
    const length = end - start;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const key = this.keys[i];
      if (key === undefined) break;
      if (this.hashes[i] === hash && key.length === length && sameText(key, text, start)) {
        this.reserved = this.reservedFlags[i] === 1;
        return key;
      }
    }
    const word = text.slice(start, end);
    let own = this.names.get(word);
    if (own === undefined) {
      // The name lives on in the model, which outlives the policy text (core/strings.ts).
      own = ownCopy(word);
      this.names.set(own, own);
    }
    this.reserved = RESERVED_SPELLINGS.has(own);
    this.insert(own, hash, this.reserved);
    return own;
  }

  private insert(key: string, hash: number, reserved: boolean): void {
    if (2 * (this.count + 1) > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    let i = hash & mask;
    while (this.keys[i] !== undefined) i = (i + 1) & mask;
    this.keys[i] = key;
    this.hashes[i] = hash;
    this.reservedFlags[i] = reserved ? 1 : 0;
    this.count++;
  }

  private grow(): void {
    const { keys, hashes, reservedFlags } = this;
    this.keys = new Array<string | undefined>(keys.length * 2);
    this.hashes = new Int32Array(keys.length * 2);
    this.reservedFlags = new Uint8Array(keys.length * 2);
    this.count = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key !== undefined) this.insert(key, hashes[i] as number, reservedFlags[i] === 1);
    }
  }
}

function sameText(key: string, text: string, start: number): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== text.charCodeAt(start + i)) return false;
  return true;
}

/** The AV rule kind each spelling of its keyword gives (the visitor lower-cases the keyword). */
const AV_KINDS: ReadonlyMap<string, AvRule['kind'] | 'auditdeny'> = new Map(
  (['allow', 'auditallow', 'dontaudit', 'neverallow', 'auditdeny'] as const).flatMap((k) => [[k, k], [k.toUpperCase(), k]] as const),
);

/** A statement it does not read: the scan goes back to the statement's start. */
const DECLINED = undefined;

class Scanner {
  private pos: number;
  private readonly words: Words;

  constructor(private readonly text: string, private readonly file: string, start: number, private readonly end: number, names: Map<string, string>) {
    this.pos = start;
    this.words = new Words(names);
  }

  run(sink: FastSink): void {
    // The range of declined statements not yet handed over: [slowStart, slowEnd).
    let slowStart = -1;
    let slowStop = -1;
    for (;;) {
      const c = this.skip();
      if (c < 0) break;
      const start = this.pos;
      const statement = c === SEMICOLON ? undefined : this.statement(start);
      if (c !== SEMICOLON && !statement) {
        if (slowStart < 0) slowStart = start;
        this.pos = slowStop = slowEnd(this.text, start, this.end);
        continue;
      }
      if (slowStart >= 0) {
        if (!sink.slow(slowStart, slowStop)) return;
        slowStart = -1;
      }
      if (statement) {
        sink.statement(statement);
      } else {
        this.pos++;
        sink.empty(start);
      }
    }
    if (slowStart >= 0) sink.slow(slowStart, slowStop);
  }

  /** Skips whitespace and comments (tokens.ts WhiteSpace, Comment): the next character's code, or -1 at the end. */
  private skip(): number {
    const text = this.text;
    let i = this.pos;
    while (i < this.end) {
      const c = text.charCodeAt(i);
      if (isSpace(c)) {
        i++;
      } else if (c === HASH) {
        const newline = text.indexOf('\n', i);
        i = newline < 0 || newline > this.end ? this.end : newline;
      } else {
        this.pos = i;
        return c;
      }
    }
    this.pos = this.end;
    return -1;
  }

  /**
   * The word at the current position, as tokens.ts's Identifier cuts it (a letter, then
   * `[A-Za-z0-9_-]`, then `.`-joined parts), or undefined when no word starts there. A
   * keyword yields to a longer identifier there, so a word is a keyword exactly when the
   * whole word is a reserved spelling (`words.reserved`).
   */
  private word(): string | undefined {
    const text = this.text;
    const end = this.end;
    const start = this.pos;
    let c = text.charCodeAt(start);
    if (start >= end || !isLetter(c)) return undefined;
    let hash = c;
    let i = start + 1;
    for (;;) {
      while (i < end && isWordChar((c = text.charCodeAt(i)))) {
        hash = (Math.imul(hash, 31) + c) | 0;
        i++;
      }
      if (i + 1 < end && text.charCodeAt(i) === DOT && isWordChar(text.charCodeAt(i + 1))) {
        hash = (Math.imul(hash, 31) + DOT) | 0;
        i++;
        continue;
      }
      break;
    }
    this.pos = i;
    return this.words.get(text, start, i, hash);
  }

  /** A name: a word that is not reserved. */
  private name(): string | undefined {
    const word = this.word();
    return word !== undefined && !this.words.reserved ? word : undefined;
  }

  private span(start: number): SourceSpan {
    return { file: this.file, start, end: this.pos };
  }

  /** A name and its span (the visitor's `nameOf`). */
  private nameNode(): Name | undefined {
    this.skip();
    const start = this.pos;
    const name = this.name();
    return name === undefined ? undefined : { name, span: { file: this.file, start, end: this.pos } };
  }

  /** `, b, c` after a first name (the grammar's commaList), appended to `out`; false if malformed. */
  private commaList(out: Name[]): boolean {
    do {
      this.pos++;
      const name = this.nameNode();
      if (!name) return false;
      out.push(name);
    } while (this.skip() === COMMA);
    return true;
  }

  /** `;` ends the statement that began at `start`. */
  private ends(): boolean {
    if (this.skip() !== SEMICOLON) return false;
    this.pos++;
    return true;
  }

  /**
   * A name set in one of two shapes: a lone name, or `{ a -b c }` (no nesting). The other
   * shapes (`*`, `~…`, `a - b`, nested braces) are the full parser's.
   */
  private names(): NameSet | undefined {
    const c = this.skip();
    const start = this.pos;
    if (c !== LCURLY) {
      const name = this.name();
      // `a - b` is the grammar's other one-name shape.
      if (name === undefined || this.skip() === MINUS) return undefined;
      return PackedNameSet.packed(name, this.file, start, start + name.length);
    }
    this.pos++;
    const listed: (string | number)[] = [];
    for (;;) {
      let next = this.skip();
      if (next === RCURLY) break;
      const excluded = next === MINUS;
      if (excluded) {
        this.pos++;
        next = this.skip();
      }
      const at = this.pos;
      const name = this.name();
      if (name === undefined) return undefined;
      listed.push(name, excluded ? ~at : at);
    }
    this.pos++;
    // `{ }` is a syntax error (the grammar's AT_LEAST_ONE).
    return listed.length === 0 ? undefined : PackedNameSet.packed(listed, this.file, start, this.pos);
  }

  /** The statement at `start`, or DECLINED. */
  private statement(start: number): Statement | undefined {
    const keyword = this.word();
    if (keyword === undefined || !this.words.reserved) return DECLINED;
    const av = AV_KINDS.get(keyword);
    if (av !== undefined) return this.avRule(av, start);
    switch (keyword) {
      case 'type':
      case 'TYPE':
        return this.typeDecl(start);
      case 'typeattribute':
      case 'TYPEATTRIBUTE':
        return this.typeAttribute(start);
      case 'attribute':
      case 'ATTRIBUTE':
        return this.attribute(start);
      case 'role':
      case 'ROLE':
        return this.role(start);
      case 'type_transition':
      case 'TYPE_TRANSITION':
        return this.typeTransition(start);
      default:
        return DECLINED;
    }
  }

  /** parser.ts allowRule / avRule; visitor.ts allowRule / avRule. */
  private avRule(kind: AvRule['kind'] | 'auditdeny', start: number): AvRule | RoleAllow | undefined {
    const sources = this.names();
    const targets = sources && this.names();
    if (!sources || !targets) return DECLINED;
    const next = this.skip();
    if (next === SEMICOLON && kind === 'allow') {
      this.pos++;
      return { kind: 'role-allow', sources, targets, span: this.span(start) };
    }
    if (next !== COLON) return DECLINED;
    this.pos++;
    const classes = this.names();
    const perms = classes && this.names();
    if (!classes || !perms || !this.ends()) return DECLINED;
    // auditdeny has the AST shape of an AV rule (ast.ts AuditDenyRule).
    return { kind: kind as AvRule['kind'], sources, targets, classes, perms, span: this.span(start) };
  }

  /** `type t;` or `type t, a, b;` (aliases are the full parser's). */
  private typeDecl(start: number): TypeDecl | undefined {
    const name = this.nameNode();
    if (!name) return DECLINED;
    const attributes: Name[] = [];
    if (this.skip() === COMMA && !this.commaList(attributes)) return DECLINED;
    if (!this.ends()) return DECLINED;
    return { kind: 'type', name, aliases: [], attributes, span: this.span(start) };
  }

  private typeAttribute(start: number): TypeAttributeStmt | undefined {
    const type = this.nameNode();
    const first = type && this.nameNode();
    if (!type || !first) return DECLINED;
    const attributes: Name[] = [first];
    if (this.skip() === COMMA && !this.commaList(attributes)) return DECLINED;
    if (!this.ends()) return DECLINED;
    return { kind: 'typeattribute', type, attributes, span: this.span(start) };
  }

  private attribute(start: number): AttributeDecl | undefined {
    const name = this.nameNode();
    if (!name || !this.ends()) return DECLINED;
    return { kind: 'attribute', name, span: this.span(start) };
  }

  /** `role r;`, `role r types set;` or `role r, a, b;`. */
  private role(start: number): RoleDecl | undefined {
    const name = this.nameNode();
    if (!name) return DECLINED;
    const next = this.skip();
    if (next === SEMICOLON) {
      this.pos++;
      return { kind: 'role', name, span: this.span(start) };
    }
    if (next === COMMA) {
      const attributes: Name[] = [];
      if (!this.commaList(attributes) || !this.ends()) return DECLINED;
      return { kind: 'role', name, attributes, span: this.span(start) };
    }
    const keyword = this.word();
    if (keyword !== 'types' && keyword !== 'TYPES') return DECLINED;
    const types = this.names();
    if (!types || !this.ends()) return DECLINED;
    return { kind: 'role', name, types, span: this.span(start) };
  }

  /** `type_transition s t:c result;` (named transitions are the full parser's). */
  private typeTransition(start: number): TypeRule | undefined {
    const sources = this.names();
    const targets = sources && this.names();
    if (!sources || !targets || this.skip() !== COLON) return DECLINED;
    this.pos++;
    const classes = this.names();
    const result = classes && this.nameNode();
    if (!classes || !result || !this.ends()) return DECLINED;
    return { kind: 'type_transition', sources, targets, classes, result, span: this.span(start) };
  }
}

/**
 * Where a statement the fast path declined ends, for the range it hands to the full
 * parser: just past the first `;` outside every bracket, reading comments, quoted strings
 * (closed by `"` or, unterminated, by the line's end) and bare paths (`/` up to whitespace)
 * as the lexer does, so that no `;` inside one of them counts; or the end of the piece.
 * No statement of the grammar has such a `;` before its end, so the range always ends
 * between two statements — and were it ever cut elsewhere, the cut would be a syntax error
 * in the range, and parse.ts would parse the whole piece with the full parser instead.
 */
function slowEnd(text: string, start: number, end: number): number {
  let depth = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === HASH) {
      const newline = text.indexOf('\n', i);
      i = (newline < 0 || newline > end ? end : newline) - 1;
    } else if (c === QUOTE) {
      let j = i + 1;
      while (j < end && text.charCodeAt(j) !== QUOTE && text.charCodeAt(j) !== NEWLINE) j++;
      i = j < end && text.charCodeAt(j) === QUOTE ? j : j - 1;
    } else if (c === SLASH) {
      while (i + 1 < end && !isSpace(text.charCodeAt(i + 1))) i++;
    } else if (c === LCURLY || c === LPAREN) {
      depth++;
    } else if (c === RCURLY || c === RPAREN) {
      depth = Math.max(0, depth - 1);
    } else if (c === SEMICOLON && depth === 0) {
      return i + 1;
    }
  }
  return end;
}

/** Reads the statements of text[start, end) into `sink` (see the file's header). */
export function scanStatements(text: string, file: string, start: number, end: number, names: Map<string, string>, sink: FastSink): void {
  new Scanner(text, file, start, end, names).run(sink);
}
