// The fast path of the policy parser: the statements of a policy.conf as Xen's m4 flow and
// our own writers produce them, read straight from the text into the AST, with no token
// objects and no CST. A 10 000-domain host is 1.8 million tokens in 140 000 statements of
// five shapes (AV rules, type, typeattribute, role, type_transition); through chevrotain's
// lexer, its CstParser and the visitor they were three quarters of a policy read, half of
// that in the garbage collector. The few other kinds of Xen's own policies (class, sid and
// initial contexts, bool, user, `if` blocks, constrain) are read too, so that a Xen
// release's policy.conf never builds chevrotain's parser or lexer at all (parser.ts and
// tokens.ts build them on first use): most of `policy query`'s start-up.
//
// The fast path never decides anything the full parser (parser.ts + visitor.ts) would
// decide differently. It takes a statement only when that statement is well formed in one
// of its shapes, cuts words exactly as tokens.ts's lexer does, and builds the very AST the
// visitor builds for it (the same kinds, fields, spans and packed name sets). Anything else
// — another statement kind, `a - b`, nested sets, aliases, MLS ranges and levels, `r1 dom
// r2` and the legacy constraint spellings, quoted names, numbers, any character outside its
// alphabet, anything the visitor would report, expressions near the parser's nesting
// limits, any error — it hands back untouched as a range of whole statements, for parse.ts
// to run through the full parser; see `slowEnd` for where such a range ends.
// test/grammar-fast.test.ts compares both on random, mutated and corpus policies.

import type { AccessVectorDecl, AttributeDecl, AvRule, BoolDecl, BoolExpr, ClassDecl, Conditional, Constrain, ConstraintExpr, Context, Name, NameSet, RoleAllow, RoleDecl, SidContext, SidDecl, Statement, TypeAttributeStmt, TypeDecl, TypeRule, UserDecl } from './ast.js';
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
const STAR = 42;
const TILDE = 126;
const BANG = 33;
const EQUALS = 61;
const PIPE = 124;
const AMPERSAND = 38;
const CARET = 94;

/** An operator of `if` conditions and constraints, as the lexer cuts it (tokens.ts And, Or, Xor, Not, Equals, NotEquals). */
type Operator = 'or' | 'xor' | 'and' | 'not' | 'eq' | 'ne';

const WORD_OPERATORS: ReadonlyMap<string, Operator> = new Map(
  ([['or', 'or'], ['xor', 'xor'], ['and', 'and'], ['not', 'not'], ['eq', 'eq']] as const).flatMap(([w, o]) => [[w, o], [w.toUpperCase(), o]] as const),
);

/** The rules an `if` block may hold (visitor.ts IF_BODY_KINDS; the fast path reads no named type_transition). */
const IF_BODY_KINDS: ReadonlySet<Statement['kind']> = new Set(['allow', 'auditallow', 'dontaudit', 'auditdeny', 'type_transition']);

/** The constraint attributes the fast path reads (the user, role and type comparisons of parser.ts). */
const ATTRIBUTES: ReadonlyMap<string, string> = new Map(
  ['u1', 'u2', 'u3', 'r1', 'r2', 'r3', 't1', 't2', 't3'].flatMap((w) => [[w, w], [w.toUpperCase(), w]] as const),
);

/**
 * Limits well inside parse.ts's MAX_NESTING (100, counting the braces of an `if` block too)
 * and MAX_OPERATORS (1000): an expression nested or long enough to come near them is the
 * full parser's, which refuses one beyond them (VP3001) — and the fast path's recursion stays
 * shallow whatever the input. Xen's longest constraint has 16 operators.
 */
const FAST_NESTING = 40;
const FAST_OPERATORS = 400;

/** An expression and where its last token ends (a `not`'s span reaches it, parentheses included). */
type Extent<E> = readonly [E, number];

function joinSpans(a: SourceSpan, b: SourceSpan): SourceSpan {
  return { file: a.file, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

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
   * A name set: a lone name, `{ a -b c }` (no nesting), and where `operators` allows, `*`,
   * `~name` and `~{ … }`; `exclusions` off: no `-` (constraints). The other shapes (`a - b`,
   * nested braces) are the full parser's.
   */
  private names(operators: boolean, exclusions = true): NameSet | undefined {
    const c = this.skip();
    const start = this.pos;
    if (c === STAR) {
      if (!operators) return undefined;
      this.pos++;
      return PackedNameSet.packed([], this.file, start, this.pos, true, false);
    }
    if (c === TILDE) {
      if (!operators) return undefined;
      this.pos++;
      if (this.skip() !== LCURLY) {
        const at = this.pos;
        const name = this.name();
        return name === undefined ? undefined : PackedNameSet.packed([name, at], this.file, start, this.pos, false, true);
      }
      const listed = this.group(exclusions);
      return listed && PackedNameSet.packed(listed, this.file, start, this.pos, false, true);
    }
    if (c !== LCURLY) {
      const name = this.name();
      // `a - b` is the grammar's other one-name shape.
      if (name === undefined || this.skip() === MINUS) return undefined;
      return PackedNameSet.packed(name, this.file, start, start + name.length);
    }
    const listed = this.group(exclusions);
    return listed && PackedNameSet.packed(listed, this.file, start, this.pos);
  }

  /** `{ a -b c }` at the current `{`: name, offset, … (an exclusion's offset complemented), as PackedNameSet keeps them. */
  private group(exclusions: boolean): (string | number)[] | undefined {
    this.pos++;
    const listed: (string | number)[] = [];
    for (;;) {
      let next = this.skip();
      if (next === RCURLY) break;
      const excluded = next === MINUS;
      if (excluded) {
        if (!exclusions) return undefined;
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
    return listed.length === 0 ? undefined : listed;
  }

  /** `{ a b c }` as the grammar's identifierList: Names with their spans. */
  private identifierList(): Name[] | undefined {
    if (this.skip() !== LCURLY) return undefined;
    this.pos++;
    const out: Name[] = [];
    while (this.skip() !== RCURLY) {
      const name = this.nameNode();
      if (!name) return undefined;
      out.push(name);
    }
    this.pos++;
    return out.length === 0 ? undefined : out;
  }

  /** The reserved word at the current position, if one is there; the position moves past it only then. */
  private keyword(): string | undefined {
    const start = this.pos;
    const word = this.word();
    if (word !== undefined && this.words.reserved) return word;
    this.pos = start;
    return undefined;
  }

  /**
   * The operator token at the current position (after whitespace), without moving past it;
   * `operatorEnd` is where it ends. `!` is `!=` when `=` follows, as the lexer matches `!=` first.
   */
  private operatorEnd = 0;
  /** Brackets and negations open, and operators taken, in the statement being read: see FAST_NESTING. */
  private nesting = 0;
  private operators = 0;

  /** Moves past the operator `operator` found, unless the statement has had FAST_OPERATORS already. */
  private takeOperator(): boolean {
    this.pos = this.operatorEnd;
    return ++this.operators <= FAST_OPERATORS;
  }

  /** One level deeper into brackets or negations, unless FAST_NESTING are open already. */
  private deeper(): boolean {
    return ++this.nesting <= FAST_NESTING;
  }

  private operator(): Operator | undefined {
    const c = this.skip();
    const text = this.text;
    const next = this.pos + 1 < this.end ? text.charCodeAt(this.pos + 1) : -1;
    this.operatorEnd = this.pos + 2;
    if (c === PIPE && next === PIPE) return 'or';
    if (c === AMPERSAND && next === AMPERSAND) return 'and';
    if (c === EQUALS && next === EQUALS) return 'eq';
    if (c === BANG) return next === EQUALS ? 'ne' : ((this.operatorEnd = this.pos + 1), 'not');
    if (c === CARET) return (this.operatorEnd = this.pos + 1), 'xor';
    if (!isLetter(c)) return undefined;
    const start = this.pos;
    const word = this.keyword();
    this.operatorEnd = this.pos;
    this.pos = start;
    return word === undefined ? undefined : WORD_OPERATORS.get(word);
  }

  /** A security context `user:role:type` (an MLS range after it is the full parser's). */
  private context(): Context | undefined {
    this.skip();
    const start = this.pos;
    const user = this.nameNode();
    if (!user || this.skip() !== COLON) return undefined;
    this.pos++;
    const role = this.nameNode();
    if (!role || this.skip() !== COLON) return undefined;
    this.pos++;
    const type = this.nameNode();
    if (!type || this.skip() === COLON) return undefined;
    return { user, role, type, span: { file: this.file, start, end: type.span.end } };
  }

  /** The statement at `start`, or DECLINED. */
  private statement(start: number): Statement | undefined {
    this.nesting = 0;
    this.operators = 0;
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
      case 'class':
      case 'CLASS':
        return this.classStatement(start);
      case 'sid':
      case 'SID':
        return this.sid(start);
      case 'bool':
      case 'BOOL':
        return this.bool(start);
      case 'user':
      case 'USER':
        return this.user(start);
      case 'constrain':
      case 'CONSTRAIN':
        return this.constrain('constrain', start);
      case 'mlsconstrain':
      case 'MLSCONSTRAIN':
        return this.constrain('mlsconstrain', start);
      case 'if':
      case 'IF':
        return this.conditional(start);
      default:
        return DECLINED;
    }
  }

  /** parser.ts allowRule / avRule; visitor.ts allowRule / avRule. */
  private avRule(kind: AvRule['kind'] | 'auditdeny', start: number): AvRule | RoleAllow | undefined {
    // checkpolicy takes `*` and `~` in the types of neverallow rules only, never in classes
    // (visitor.ts avRuleSetsAllowed reports the rest): those are the full parser's.
    const typeOperators = kind === 'neverallow';
    const sources = this.names(typeOperators);
    const targets = sources && this.names(typeOperators);
    if (!sources || !targets) return DECLINED;
    const next = this.skip();
    if (next === SEMICOLON && kind === 'allow') {
      this.pos++;
      return { kind: 'role-allow', sources, targets, span: this.span(start) };
    }
    if (next !== COLON) return DECLINED;
    this.pos++;
    const classes = this.names(false);
    const perms = classes && this.names(true);
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
    const types = this.names(false);
    if (!types || !this.ends()) return DECLINED;
    return { kind: 'role', name, types, span: this.span(start) };
  }

  /** `type_transition s t:c result;` (named transitions are the full parser's). */
  private typeTransition(start: number): TypeRule | undefined {
    const sources = this.names(false);
    const targets = sources && this.names(false);
    if (!sources || !targets || this.skip() !== COLON) return DECLINED;
    this.pos++;
    const classes = this.names(false);
    const result = classes && this.nameNode();
    if (!classes || !result || !this.ends()) return DECLINED;
    return { kind: 'type_transition', sources, targets, classes, result, span: this.span(start) };
  }

  /** `class c`, `class c { p q }`, `class c inherits k [{ p q }]` (parser.ts classStatement; no `;`). */
  private classStatement(start: number): ClassDecl | AccessVectorDecl | undefined {
    const name = this.nameNode();
    if (!name) return DECLINED;
    const next = this.skip();
    if (next === LCURLY) {
      const perms = this.identifierList();
      return perms && { kind: 'access-vector', cls: name, perms, span: this.span(start) };
    }
    const keyword = this.keyword();
    if (keyword === undefined) {
      this.pos = name.span.end;
      return { kind: 'class-decl', name, span: this.span(start) };
    }
    if (keyword !== 'inherits' && keyword !== 'INHERITS') {
      // Another statement's keyword: this one ended with its name.
      this.pos = name.span.end;
      return { kind: 'class-decl', name, span: this.span(start) };
    }
    const inherits = this.nameNode();
    if (!inherits) return DECLINED;
    const end = this.pos;
    if (this.skip() !== LCURLY) {
      this.pos = end;
      return { kind: 'access-vector', cls: name, inherits, perms: [], span: this.span(start) };
    }
    const perms = this.identifierList();
    return perms && { kind: 'access-vector', cls: name, inherits, perms, span: this.span(start) };
  }

  /** `sid s` or `sid s user:role:type` (parser.ts sidStatement; no `;`): a context follows when a name does. */
  private sid(start: number): SidDecl | SidContext | undefined {
    const name = this.nameNode();
    if (!name) return DECLINED;
    this.skip();
    const at = this.pos;
    if (isLetter(this.text.charCodeAt(at)) && this.keyword() === undefined) {
      const context = this.context();
      return context && { kind: 'sid-context', name, context, span: { file: this.file, start, end: context.span.end } };
    }
    this.pos = name.span.end;
    return { kind: 'sid-decl', name, span: this.span(start) };
  }

  private bool(start: number): BoolDecl | undefined {
    const name = this.nameNode();
    if (!name) return DECLINED;
    this.skip();
    const keyword = this.keyword();
    const value = keyword === 'true' || keyword === 'TRUE' ? true : keyword === 'false' || keyword === 'FALSE' ? false : undefined;
    if (value === undefined || !this.ends()) return DECLINED;
    return { kind: 'bool', name, value, span: this.span(start) };
  }

  /** `user u roles set;` (a level and range are the full parser's). */
  private user(start: number): UserDecl | undefined {
    const name = this.nameNode();
    if (!name) return DECLINED;
    this.skip();
    const keyword = this.keyword();
    if (keyword !== 'roles' && keyword !== 'ROLES') return DECLINED;
    const roles = this.names(false);
    if (!roles || !this.ends()) return DECLINED;
    return { kind: 'user', name, roles, span: this.span(start) };
  }

  /** `constrain classes perms expr;` with user, role and type comparisons (parser.ts constraint). */
  private constrain(kind: Constrain['kind'], start: number): Constrain | undefined {
    const classes = this.names(false);
    const perms = classes && this.names(true);
    const expr = perms && this.constraintOr();
    if (!classes || !perms || !expr || !this.ends()) return DECLINED;
    return { kind, classes, perms, expr: expr[0], span: this.span(start) };
  }

  /** `a or b or c` → `((a or b) or c)`, each node spanning its operands (visitor.ts foldLeft). */
  private constraintOr(): Extent<ConstraintExpr> | undefined {
    let left = this.constraintAnd();
    while (left && this.operator() === 'or') {
      if (!this.takeOperator()) return undefined;
      const right = this.constraintAnd();
      if (!right) return undefined;
      left = [{ op: 'or', left: left[0], right: right[0], span: joinSpans(left[0].span, right[0].span) }, right[1]];
    }
    return left;
  }

  private constraintAnd(): Extent<ConstraintExpr> | undefined {
    let left = this.constraintNot();
    while (left && this.operator() === 'and') {
      if (!this.takeOperator()) return undefined;
      const right = this.constraintNot();
      if (!right) return undefined;
      left = [{ op: 'and', left: left[0], right: right[0], span: joinSpans(left[0].span, right[0].span) }, right[1]];
    }
    return left;
  }

  private constraintNot(): Extent<ConstraintExpr> | undefined {
    if (this.operator() === 'not') {
      const start = this.pos;
      if (!this.takeOperator() || !this.deeper()) return undefined;
      const operand = this.constraintNot();
      this.nesting--;
      return operand && [{ op: 'not', operand: operand[0], span: { file: this.file, start, end: operand[1] } }, operand[1]];
    }
    if (this.skip() === LPAREN) {
      this.pos++;
      if (!this.deeper()) return undefined;
      const inner = this.constraintOr();
      this.nesting--;
      if (!inner || this.skip() !== RPAREN) return undefined;
      this.pos++;
      return [inner[0], this.pos];
    }
    return this.comparison();
  }

  /**
   * `x1 op x2` or `xN op names` for users, roles and types, op `==`, `!=` or `eq` (parser.ts
   * attributeComparison; the names without `*`, `~` or `-`). `r1 dom r2`, levels and the
   * legacy spellings are the full parser's.
   */
  private comparison(): Extent<ConstraintExpr> | undefined {
    const start = this.pos;
    const word = this.keyword();
    const left = word === undefined ? undefined : ATTRIBUTES.get(word);
    if (left === undefined) return undefined;
    const operator = this.operator();
    if (operator !== 'eq' && operator !== 'ne') return undefined;
    const image = this.text.slice(this.pos, this.operatorEnd);
    const op = (image === '==' || image === '!=' ? image : image.toLowerCase()) as '==' | '!=' | 'eq';
    if (!this.takeOperator()) return undefined;
    this.skip();
    const rightStart = this.pos;
    const rightWord = this.keyword();
    if (rightWord !== undefined) {
      // Only x1 compares with x2 (the same attribute's other side).
      const right = ATTRIBUTES.get(rightWord);
      if (!left.endsWith('1') || right !== `${left[0]}2`) return undefined;
      return [{ op, left, right, span: { file: this.file, start, end: this.pos } }, this.pos];
    }
    this.pos = rightStart;
    const names = this.names(false, false);
    if (!names) return undefined;
    const end = (names as PackedNameSet).end;
    return [{ op, left, right: names, span: { file: this.file, start, end } }, end];
  }

  /** `if (expr) { rules } [else { rules }]` (parser.ts conditional; no `;`). */
  private conditional(start: number): Conditional | undefined {
    const condition = this.boolOr();
    if (!condition || this.skip() !== LCURLY) return DECLINED;
    const then = this.ifBody();
    if (!then) return DECLINED;
    const end = this.pos;
    this.skip();
    const keyword = this.keyword();
    if (keyword !== 'else' && keyword !== 'ELSE') {
      this.pos = end;
      return { kind: 'if', condition: condition[0], then, else: [], span: this.span(start) };
    }
    if (this.skip() !== LCURLY) return DECLINED;
    const otherwise = this.ifBody();
    return otherwise && { kind: 'if', condition: condition[0], then, else: otherwise, span: this.span(start) };
  }

  /** `{ rules }` at the current `{`: only the rules visitor.ts ifBody keeps without a word. */
  private ifBody(): (AvRule | TypeRule)[] | undefined {
    this.pos++;
    const out: (AvRule | TypeRule)[] = [];
    for (;;) {
      const c = this.skip();
      if (c === RCURLY) break;
      if (c < 0 || c === SEMICOLON) return undefined;
      const statement = this.statement(this.pos);
      if (!statement || !IF_BODY_KINDS.has(statement.kind)) return undefined;
      out.push(statement as AvRule | TypeRule);
    }
    this.pos++;
    return out;
  }

  /** `a || b || c` → `((a || b) || c)`; precedence as parser.ts: || < ^ < && < ! < == !=. */
  private boolOr(): Extent<BoolExpr> | undefined {
    return this.boolBinary('or', '||', () => this.boolXor());
  }

  private boolXor(): Extent<BoolExpr> | undefined {
    return this.boolBinary('xor', '^', () => this.boolAnd());
  }

  private boolAnd(): Extent<BoolExpr> | undefined {
    return this.boolBinary('and', '&&', () => this.boolNot());
  }

  private boolBinary(operator: Operator, op: '||' | '^' | '&&', operand: () => Extent<BoolExpr> | undefined): Extent<BoolExpr> | undefined {
    let left = operand();
    while (left && this.operator() === operator) {
      if (!this.takeOperator()) return undefined;
      const right = operand();
      if (!right) return undefined;
      left = [{ op, left: left[0], right: right[0], span: joinSpans(left[0].span, right[0].span) }, right[1]];
    }
    return left;
  }

  /** `! operand`, when a `!` (or `not`) is next. */
  private boolNegation(): Extent<BoolExpr> | undefined {
    const start = this.pos;
    if (!this.takeOperator() || !this.deeper()) return undefined;
    const operand = this.boolNot();
    this.nesting--;
    return operand && [{ op: 'not', operand: operand[0], span: { file: this.file, start, end: operand[1] } }, operand[1]];
  }

  private boolNot(): Extent<BoolExpr> | undefined {
    return this.operator() === 'not' ? this.boolNegation() : this.boolEquality();
  }

  /** `a == b != c`, left-associative; a `!` operand takes the rest (parser.ts boolEquality). */
  private boolEquality(): Extent<BoolExpr> | undefined {
    let left = this.boolPrimary();
    for (let operator = this.operator(); left && (operator === 'eq' || operator === 'ne'); operator = this.operator()) {
      const op = operator === 'ne' ? '!=' : '==';
      if (!this.takeOperator()) return undefined;
      const right = this.operator() === 'not' ? this.boolNegation() : this.boolPrimary();
      if (!right) return undefined;
      left = [{ op, left: left[0], right: right[0], span: joinSpans(left[0].span, right[0].span) }, right[1]];
    }
    return left;
  }

  private boolPrimary(): Extent<BoolExpr> | undefined {
    if (this.skip() === LPAREN) {
      this.pos++;
      if (!this.deeper()) return undefined;
      const inner = this.boolOr();
      this.nesting--;
      if (!inner || this.skip() !== RPAREN) return undefined;
      this.pos++;
      return [inner[0], this.pos];
    }
    const name = this.nameNode();
    return name && [{ op: 'var', name, span: name.span }, name.span.end];
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
