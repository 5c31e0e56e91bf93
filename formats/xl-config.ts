// xl domain config files (xl.cfg(5)), read the way libxl's own parser reads them: the lexer
// and grammar of tools/libs/util/libxlu_cfg_l.l and libxlu_cfg_y.y, the string unquoting and
// `+=` handling of libxlu_cfg.c, and the reading of the few keys vmipolicy cares about as
// tools/xl/xl_parse.c does it. A hand-written scanner: the format is a dozen token kinds.
//
// What xl accepts (Xen 4.17–4.22; the files did not change between them):
//   file      := (statement? ("\n" | ";"))* statement?
//   statement := KEY ("=" | "+=") value
//   value     := STRING | NUMBER | "[" "\n"* (value "\n"* ("," "\n"* value "\n"*)* ("," "\n"*)?)? "]"
//   KEY       := [a-z][._0-9a-z]*            (lower case only)
//   NUMBER    := [0-9][0-9a-fx]*             (kept as text by libxl; "0x1F" is "0x1" + an error)
//   STRING    := '…' or "…" on one line, both with the same backslash escapes
//   "#" to the end of the line is a comment *only if a newline follows*; blanks are " " and "\t"
//   (a carriage return is an error). Any error makes xl refuse the whole file; this parser
//   reports each one and recovers at the next line, so that one bad line does not hide the rest.

import { diagnostic, type Diagnostic, type SourceSpan } from '../core/diagnostics.js';
import { positionAt, sourceText } from '../core/source.js';

// ---------------------------------------------------------------- result types

interface XlString {
  readonly kind: 'string';
  /** The unquoted value, escapes applied. */
  readonly value: string;
  readonly span: SourceSpan;
}

interface XlNumber {
  readonly kind: 'number';
  /** The token as written: libxl keeps numbers as text and reads them with strtol(…, 0). */
  readonly text: string;
  /** The integer strtol would read from the whole text (decimal, 0x hex, 0 octal), or null
   *  when the text is not one (e.g. "12abc", "08") or is beyond ±2^53. */
  readonly value: number | null;
  readonly span: SourceSpan;
}

interface XlList {
  readonly kind: 'list';
  readonly items: readonly XlValue[];
  readonly span: SourceSpan;
}

export type XlValue = XlString | XlNumber | XlList;

interface XlSetting {
  readonly name: string;
  readonly op: '=' | '+=';
  /** For a `+=` the value xl ends up with: the earlier value with this one appended. */
  readonly value: XlValue;
  /** The whole statement, from the key to the end of the value. */
  readonly span: SourceSpan;
  readonly keySpan: SourceSpan;
}

type XlGuestType = 'pv' | 'pvh' | 'hvm';
export type Altp2mMode = 'disabled' | 'mixed' | 'external' | 'limited';
const ALTP2M_MODES: readonly Altp2mMode[] = ['disabled', 'mixed', 'external', 'limited'];

export interface XlConfig {
  /** Every key, in the order it first appears, with the value xl uses (the last one set). */
  readonly settings: ReadonlyMap<string, XlSetting>;
  /** Every statement that parsed, in file order (a `+=` with its combined value). */
  readonly assignments: readonly XlSetting[];
  // The keys vmipolicy reads, as xl reads them; each is present only when set *and* valid
  // (otherwise there is a diagnostic).
  readonly name?: string;
  readonly seclabel?: string;
  readonly initSeclabel?: string;
  readonly deviceModelStubdomainSeclabel?: string;
  /** `altp2m`: a mode name (any case) or its number 0–3. */
  readonly altp2m?: Altp2mMode;
  /** The deprecated boolean `altp2mhvm` (any integer; non-zero is true). */
  readonly altp2mhvm?: boolean;
  /** `type`, or else the deprecated `builder` ("hvm" → hvm, "generic" → pv). Absent when
   *  neither is set: xl then builds a PV guest on x86 and a PVH guest on Arm. */
  readonly type?: XlGuestType;
}

interface XlParseResult {
  readonly result: XlConfig;
  readonly diagnostics: Diagnostic[];
}

// ---------------------------------------------------------------- lexer

type TokenKind = 'ident' | 'number' | 'string' | '[' | ']' | ',' | '=' | '+=' | ';' | 'newline' | 'error' | 'eof';

interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  readonly end: number;
  /** ident and number: the text; string: the unquoted value. */
  readonly text: string;
  /** The first token on its line (blanks aside): where a new statement may start. */
  readonly lineStart: boolean;
}

const isKeyStart = (c: number): boolean => c >= 0x61 && c <= 0x7a; // [a-z]
const isKeyPart = (c: number): boolean => isKeyStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f; // [._0-9a-z]
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isNumberPart = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || c === 0x78; // [0-9a-fx]
/** What libxlu's lexer skips between tokens: space and tab, nothing else. */
const isBlank = (c: number): boolean => c === 0x20 || c === 0x09;

/** Characters after which xl warns "Config file looks like it contains Python code". */
const PYTHONISH = '+-.():';

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

class Parser {
  readonly diagnostics: Diagnostic[] = [];
  readonly tokens: Token[] = [];
  private pos = 0;
  private readonly settings = new Map<string, XlSetting>();
  private readonly assignments: XlSetting[] = [];
  private sawCarriageReturn = false;
  private lines: ReturnType<typeof sourceText> | undefined;

  constructor(
    private readonly file: string,
    private readonly text: string,
  ) {}

  span(start: number, end: number): SourceSpan {
    return { file: this.file, start, end };
  }

  line(offset: number): number {
    this.lines ??= sourceText(this.file, this.text);
    return positionAt(this.lines, offset).line;
  }

  // ------------------------------------------------------------ scanning

  scan(): void {
    const text = this.text;
    const n = text.length;
    let i = 0;
    let lineStart = true;
    const push = (kind: TokenKind, start: number, end: number, value = ''): void => {
      this.tokens.push({ kind, start, end, text: value, lineStart });
      lineStart = kind === 'newline';
    };
    while (i < n) {
      const c = text.charCodeAt(i);
      if (isBlank(c)) {
        i++;
      } else if (c === 0x0d) {
        this.carriageReturn(i);
        i++;
      } else if (c === 0x0a) {
        push('newline', i, i + 1);
        i++;
      } else if (c === 0x23) {
        // "#.*\n": without a final newline libxlu's lexer has no rule for it.
        const nl = text.indexOf('\n', i);
        if (nl < 0) {
          // Reported, but read as the comment it was meant to be, so the line still counts.
          this.error(i, n, 'a comment on the last line needs a newline after it', 'xl only treats "#" as a comment when a newline follows; end the file with a newline');
          push('newline', i, n);
          i = n;
        } else {
          // A carriage return inside a comment is fine: ".*" takes it.
          push('newline', i, nl + 1);
          i = nl + 1;
        }
      } else if (isKeyStart(c)) {
        let j = i + 1;
        while (j < n && isKeyPart(text.charCodeAt(j))) j++;
        push('ident', i, j, text.slice(i, j));
        i = j;
      } else if (isDigit(c)) {
        let j = i + 1;
        while (j < n && isNumberPart(text.charCodeAt(j))) j++;
        push('number', i, j, text.slice(i, j));
        i = j;
      } else if (c === 0x22 || c === 0x27) {
        i = this.scanString(i, push);
      } else if (c === 0x2b && text.charCodeAt(i + 1) === 0x3d) {
        push('+=', i, i + 2);
        i += 2;
      } else if (c === 0x5b || c === 0x5d || c === 0x2c || c === 0x3d || c === 0x3b) {
        push(text[i] as TokenKind, i, i + 1);
        i++;
      } else {
        // libxlu's "lexerr" state: the bad character and the rest of its word.
        let j = i + 1;
        while (j < n && !isBlank(text.charCodeAt(j)) && text.charCodeAt(j) !== 0x0a) j++;
        const ch = String.fromCodePoint(text.codePointAt(i) ?? c);
        this.error(i, j, `unexpected character ${JSON.stringify(ch)}`, unexpectedHelp(ch));
        push('error', i, j);
        i = j;
      }
    }
    push('eof', n, n);
  }

  private carriageReturn(at: number): void {
    if (this.sawCarriageReturn) return;
    this.sawCarriageReturn = true;
    this.error(at, at + 1, 'carriage return (the file has DOS line endings)', 'xl\'s lexer accepts only "\\n" line endings and refuses the file; convert it (e.g. dos2unix). Reported once per file.');
  }

  /** A quoted string from `start` (the quote); returns the offset after it. */
  private scanString(start: number, push: (kind: TokenKind, start: number, end: number, value?: string) => void): number {
    const text = this.text;
    const n = text.length;
    const quote = text.charCodeAt(start);
    let j = start + 1;
    for (;;) {
      const c = j < n ? text.charCodeAt(j) : -1;
      if (c === quote) break;
      if (c === -1 || c === 0x0a || (c === 0x5c && (j + 1 >= n || text.charCodeAt(j + 1) === 0x0a))) {
        // No closing quote on this line (a backslash cannot escape the newline).
        let end = c === 0x5c ? j + 1 : j;
        if (end > start && text.charCodeAt(end - 1) === 0x0d) end--;
        this.diagnostics.push(
          diagnostic('XlUnterminatedString', [], this.span(start, end), `close the string with ${String.fromCharCode(quote)} on the same line: xl strings cannot span lines`),
        );
        push('error', start, end);
        return end;
      }
      j += c === 0x5c ? 2 : 1;
    }
    push('string', start, j + 1, this.unquote(start + 1, j));
    return j + 1;
  }

  /** libxlu_cfg.c xlu__cfgl_dequote, including what it does with numeric escapes. */
  private unquote(from: number, to: number): string {
    const text = this.text;
    let out = '';
    let p = from;
    while (p < to) {
      const c = text[p] as string;
      if (c === '\0') {
        this.error(p, p + 1, 'a NUL character inside a string', 'xl\'s parser cannot read it (it aborts)');
        p++;
        continue;
      }
      if (c !== '\\') {
        out += c;
        p++;
        continue;
      }
      const nc = text[p + 1] as string; // the scanner guarantees a character before `to`
      const simple = SIMPLE_ESCAPES[nc];
      if (simple !== undefined) {
        out += simple;
        p += 2;
      } else if (nc === 'x') {
        // xlu__cfgl_dequote skips one character too many and then asks for more digits than
        // it reads: every \x escape is refused.
        this.error(p, Math.min(p + 4, to), 'xl cannot read \\x escapes in strings (its parser refuses every one)', 'write the character itself');
        p += 2;
      } else if (nc >= '0' && nc <= '7') {
        // It reads up to three more characters with strtoul(…, 10): fewer than two digits is
        // an error, and otherwise the escape is consumed but no character is stored.
        const digits = strtoulLength(text.slice(p + 2, Math.min(p + 5, to + 1)));
        const end = p + 2 + Math.max(digits, 0);
        if (digits <= 1) {
          this.error(p, Math.max(end, p + 2), `xl cannot read the octal escape "${text.slice(p, Math.max(end, p + 2))}"`, 'write the character itself');
          p += 2;
        } else {
          this.error(p, end, `xl drops the octal escape "${text.slice(p, end)}" without storing any character`, 'write the character itself');
          p = end;
        }
      } else {
        const ch = String.fromCodePoint(text.codePointAt(p + 1) ?? 0);
        this.error(p, p + 1 + ch.length, `invalid escape "\\${ch}" in a string`, 'xl knows \\" \\\' \\\\ \\a \\b \\f \\n \\r \\t \\v; write a backslash as \\\\');
        out += '\\' + ch;
        p += 1 + ch.length;
      }
    }
    return out;
  }

  private error(start: number, end: number, what: string, help?: string): void {
    this.diagnostics.push(diagnostic('XlSyntax', [what], this.span(start, end), help));
  }

  // ------------------------------------------------------------ parsing

  private get tok(): Token {
    return this.tokens[this.pos] as Token;
  }

  /** The current token's kind (a method, so that TypeScript does not narrow it across calls). */
  private kind(): TokenKind {
    return this.tok.kind;
  }

  private peek(k = 1): Token {
    return this.tokens[Math.min(this.pos + k, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.tok;
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private skipNewlines(): void {
    while (this.kind() === 'newline') this.pos++;
  }

  /** A key at the start of a line followed by `=`: a new statement, even inside an open list. */
  private atStatementStart(): boolean {
    const t = this.tok;
    const after = this.peek().kind;
    return t.kind === 'ident' && t.lineStart && (after === '=' || after === '+=');
  }

  /** Where the error at the current token is reported: a newline is shown as its first character. */
  private here(): SourceSpan {
    const t = this.tok;
    return this.span(t.start, t.kind === 'newline' ? t.start + 1 : t.end);
  }

  private describe(t: Token): string {
    switch (t.kind) {
      case 'eof':
        return 'the end of the file';
      case 'newline':
        return this.text.charCodeAt(t.start) === 0x23 ? 'a comment' : 'the end of the line';
      case 'ident':
        return `"${t.text}"`;
      case 'number':
        return `the number ${t.text}`;
      case 'string':
        return 'a string';
      default:
        return `"${t.kind}"`;
    }
  }

  parseFile(): XlConfig {
    while (this.kind() !== 'eof') {
      const t = this.tok;
      if (t.kind === 'newline' || t.kind === ';') {
        this.pos++;
      } else if (t.kind === 'ident') {
        this.statement();
      } else {
        if (t.kind !== 'error') {
          this.error(t.start, t.end, `expected a setting name, found ${this.describe(t)}`, 'each line is KEY = VALUE, with KEY matching [a-z][._0-9a-z]*');
        }
        this.recover(0);
      }
    }
    return this.known();
  }

  private statement(): void {
    const key = this.next();
    const op = this.tok;
    if (op.kind !== '=' && op.kind !== '+=') {
      if (op.kind !== 'error') this.diagnostics.push(diagnostic('XlSyntax', [`expected "=" after "${key.text}", found ${this.describe(op)}`], this.here()));
      this.recover(0);
      return;
    }
    this.pos++;
    const value = this.value(0, true);
    if (!value) return;
    const end = this.tok;
    if (end.kind !== 'newline' && end.kind !== ';' && end.kind !== 'eof') {
      if (end.kind !== 'error') {
        this.diagnostics.push(
          diagnostic('XlSyntax', [`expected the end of the line or ";" after the value of "${key.text}", found ${this.describe(end)}`], this.here(), 'put one setting per line, or separate settings with ";"'),
        );
      }
      this.recover(0);
      return;
    }
    this.store(key, op.kind, value);
  }

  /** A value; undefined when it had an error (reported, and recovered from). */
  private value(depth: number, topLevel = false): XlValue | undefined {
    const t = this.tok;
    switch (t.kind) {
      case 'string':
        this.pos++;
        return { kind: 'string', value: t.text, span: this.span(t.start, t.end) };
      case 'number':
        this.pos++;
        return { kind: 'number', text: t.text, value: strtolWhole(t.text), span: this.span(t.start, t.end) };
      case '[':
        return this.list(depth);
      case 'error':
        this.recover(depth);
        return undefined;
      default: {
        const help = t.kind === 'ident' ? `quote it: "${t.text}"` : undefined;
        const where = topLevel ? 'after "="' : 'in the list';
        this.diagnostics.push(diagnostic('XlSyntax', [`expected a value ${where} (a quoted string, a number or a [list]), found ${this.describe(t)}`], this.here(), help));
        this.recover(depth);
        return undefined;
      }
    }
  }

  private list(depth: number): XlList | undefined {
    const open = this.next();
    const inner = depth + 1;
    if (inner > MAX_LIST_DEPTH) {
      this.error(open.start, open.end, `lists nested more than ${MAX_LIST_DEPTH} deep`);
      this.recover(inner);
      return undefined;
    }
    const items: XlValue[] = [];
    const unterminated = (): undefined => {
      const t = this.tok;
      const help = t.kind === 'eof' ? 'add "]" after the last item' : `add "]" before the setting on line ${this.line(t.start)}`;
      this.diagnostics.push(diagnostic('XlSyntax', ['this list has no closing "]"'], this.span(open.start, open.end), help));
      this.recover(inner);
      return undefined;
    };
    this.skipNewlines();
    for (;;) {
      if (this.kind() === ']') break;
      if (this.kind() === 'eof' || this.atStatementStart()) return unterminated();
      const item = this.value(inner);
      if (!item) return undefined;
      items.push(item);
      this.skipNewlines();
      if (this.kind() === ',') {
        this.pos++;
        this.skipNewlines();
        continue;
      }
      if (this.kind() === ']') break;
      if (this.kind() === 'eof' || this.atStatementStart()) return unterminated();
      if (this.kind() !== 'error') {
        this.diagnostics.push(diagnostic('XlSyntax', [`expected "," or "]" in the list, found ${this.describe(this.tok)}`], this.here(), 'separate list items with ","'));
      }
      this.recover(inner);
      return undefined;
    }
    const close = this.next();
    return { kind: 'list', items, span: this.span(open.start, close.end) };
  }

  /**
   * Skips the rest of a broken statement: to the end of its line once every list open at the
   * error is closed, or to a line that starts a new `KEY =` (an unclosed list), or the end.
   */
  private recover(depth: number): void {
    let open = depth;
    for (;;) {
      const t = this.tok;
      if (t.kind === 'eof') return;
      if (open > 0 && this.atStatementStart()) return;
      this.pos++;
      if (t.kind === '[') open++;
      else if (t.kind === ']') open = Math.max(0, open - 1);
      else if ((t.kind === 'newline' || t.kind === ';') && open === 0) return;
    }
  }

  private store(key: Token, op: '=' | '+=', parsed: XlValue): void {
    const name = key.text;
    const keySpan = this.span(key.start, key.end);
    const span = this.span(key.start, parsed.span.end);
    const previous = this.settings.get(name);
    let value = parsed;
    if (op === '+=' && previous) {
      const joined = appendValue(previous.value, parsed);
      if (!joined) {
        this.diagnostics.push(
          diagnostic('XlSyntax', [`cannot add a ${parsed.kind === 'list' ? '[list]' : 'single value'} to "${name}", which is ${previous.value.kind === 'list' ? 'a [list]' : 'a single value'}`], parsed.span),
        );
        return;
      }
      value = joined;
    } else if (op === '=' && previous) {
      this.diagnostics.push(
        diagnostic('XlDuplicateKey', [name], keySpan, `first set on line ${this.line(previous.keySpan.start)}; use "+=" to append, or delete one of them`),
      );
    }
    const setting: XlSetting = { name, op, value, span, keySpan };
    this.settings.set(name, setting);
    this.assignments.push(setting);
  }

  // ------------------------------------------------------------ the keys vmipolicy reads

  private known(): XlConfig {
    const config: {
      -readonly [K in keyof XlConfig]: XlConfig[K];
    } = { settings: this.settings, assignments: this.assignments };
    const get = (key: string): XlSetting | undefined => this.settings.get(key);
    const wrong = (key: string, v: XlValue, what: string, help?: string): void => {
      this.diagnostics.push(diagnostic('XlWrongValueType', [key, what], v.span, help));
    };

    const name = get('name');
    if (name) {
      const s = atomText(name.value);
      if (s === undefined) wrong('name', name.value, 'a string');
      else config.name = s;
    }

    const labels = [
      ['seclabel', 'seclabel'],
      ['init_seclabel', 'initSeclabel'],
      ['device_model_stubdomain_seclabel', 'deviceModelStubdomainSeclabel'],
    ] as const;
    for (const [key, field] of labels) {
      const set = get(key);
      if (!set) continue;
      if (set.value.kind !== 'string') {
        wrong(key, set.value, 'a quoted security context', 'e.g. "system_u:system_r:domU_t"');
      } else if (!isSecurityContext(set.value.value)) {
        this.diagnostics.push(diagnostic('XlBadLabel', [key, set.value.value], set.value.span, 'e.g. "system_u:system_r:domU_t"'));
      } else {
        config[field] = set.value.value;
      }
    }

    const type = get('type');
    if (type) {
      const s = type.value.kind === 'string' ? type.value.value : undefined;
      // xl_parse.c: strncmp(buf, "hvm", strlen(buf)), so any prefix (even "") selects.
      const t = s === undefined ? undefined : 'hvm'.startsWith(s) ? 'hvm' : 'pv'.startsWith(s) ? 'pv' : 'pvh'.startsWith(s) ? 'pvh' : undefined;
      if (t) config.type = t;
      else wrong('type', type.value, 'one of "pv", "pvh" or "hvm"');
    }
    const builder = get('builder');
    if (builder) {
      const s = builder.value.kind === 'string' ? builder.value.value : undefined;
      const t = s === undefined ? undefined : 'hvm'.startsWith(s) ? 'hvm' : 'generic'.startsWith(s) ? 'pv' : undefined;
      if (!t) {
        wrong('builder', builder.value, '"hvm" or "generic" (better: type = "hvm" or "pv")');
      } else if (type && config.type && config.type !== t) {
        wrong('builder', builder.value, `consistent with type = "${config.type}" (xl refuses contradicting "builder" and "type")`, 'remove "builder": it is deprecated since Xen 4.10');
      } else if (!type) {
        config.type = t;
      }
    }

    const altp2m = get('altp2m');
    if (altp2m) {
      // xl_parse.c: first as a number (xlu_cfg_get_long, so "2" counts too), else by name (strcasecmp).
      const text = atomText(altp2m.value);
      const n = text === undefined ? null : strtolWhole(text);
      const mode = n !== null ? ALTP2M_MODES[n] : text === undefined ? undefined : ALTP2M_MODES.find((m) => m === text.toLowerCase());
      if (mode) config.altp2m = mode;
      else wrong('altp2m', altp2m.value, `one of ${ALTP2M_MODES.map((m) => `"${m}"`).join(', ')} (or 0–3)`);
    }
    const altp2mhvm = get('altp2mhvm');
    if (altp2mhvm) {
      const text = atomText(altp2mhvm.value);
      const n = text === undefined ? null : strtolWhole(text);
      if (n === null) wrong('altp2mhvm', altp2mhvm.value, 'a number (0 or 1)', 'altp2mhvm is deprecated: use altp2m = "mixed" (or another mode)');
      else config.altp2mhvm = n !== 0;
    }
    return config;
  }
}

/** Deeper lists are refused (bison's stack in xl gives up at a few thousand). */
const MAX_LIST_DEPTH = 1000;

function unexpectedHelp(ch: string): string | undefined {
  if (PYTHONISH.includes(ch)) return 'xl config files are not Python: a value is a quoted string, an integer or a [list]; quote anything else';
  if (/[A-Z]/.test(ch)) return 'keys are lower case ([a-z][._0-9a-z]*), and values other than integers must be quoted';
  if (/\s/.test(ch)) return 'xl only accepts spaces and tabs between tokens';
  return undefined;
}

/** How many characters strtoul(s, &ep, 10) consumes from `s` (0 when it reads no digits). */
function strtoulLength(s: string): number {
  const m = /^[ \t\n\v\f\r]*[+-]?[0-9]+/.exec(s);
  return m ? m[0].length : 0;
}

/** strtol(text, &ep, 0) when it consumes all of `text`; null otherwise or beyond ±2^53. */
function strtolWhole(text: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return null;
  const digits = m[2] as string;
  const magnitude = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits.startsWith('0') ? parseInt(digits.slice(1), 8) : Number(digits);
  const v = m[1] === '-' ? -magnitude : magnitude;
  return Number.isSafeInteger(v) ? v : null;
}

/** A single value as xl's get_string sees it: numbers are text too; a list is not one. */
function atomText(v: XlValue): string | undefined {
  return v.kind === 'string' ? v.value : v.kind === 'number' ? v.text : undefined;
}

/** libxlu_cfg.c xlu__cfg_concat_vals: strings (and numbers, which are strings) concatenate, lists append. */
function appendValue(previous: XlValue, added: XlValue): XlValue | undefined {
  if (previous.kind === 'list' && added.kind === 'list') return { kind: 'list', items: [...previous.items, ...added.items], span: added.span };
  const a = atomText(previous);
  const b = atomText(added);
  if (a === undefined || b === undefined) return undefined;
  return { kind: 'string', value: a + b, span: added.span };
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/**
 * A FLASK security context: user:role:type, optionally :level for MLS policies, where level is
 * sensitivity[:categories][-sensitivity[:categories]] (e.g. s0, s0-s15:c0.c1023). Each name is
 * a policy identifier (checkpolicy: a letter, then letters, digits, "_", "." and "-").
 */
export function isSecurityContext(label: string): boolean {
  const parts = label.split(':');
  if (parts.length < 3) return false;
  if (!parts.slice(0, 3).every((p) => IDENTIFIER.test(p))) return false;
  if (parts.length === 3) return true;
  return parts
    .slice(3)
    .join(':')
    .split(/[:,]/)
    .every((p) => IDENTIFIER.test(p));
}

/** What xl's `get_string` returns for a key: a string, or a number's text; undefined for a list or an absent key. */
export function xlSettingText(config: XlConfig, key: string): string | undefined {
  const set = config.settings.get(key);
  return set ? atomText(set.value) : undefined;
}

/**
 * The altp2m mode libxl applies to an HVM guest: `altp2m`, except that the deprecated
 * `altp2mhvm = 1` turns a disabled (or unset) mode into "mixed" (libxl_x86.c,
 * libxl__arch_domain_build_info_setdefault). Other guest types: `altp2m` as written.
 */
export function effectiveAltp2m(config: XlConfig): Altp2mMode {
  const mode = config.altp2m ?? 'disabled';
  if (config.type === 'hvm' && config.altp2mhvm && mode === 'disabled') return 'mixed';
  return mode;
}

/** Parses an xl domain config. Never throws; every diagnostic has a span. */
export function parseXlConfig(file: string, text: string): XlParseResult {
  const parser = new Parser(file, text);
  parser.scan();
  const result = parser.parseFile();
  return { result, diagnostics: parser.diagnostics.sort((a, b) => (a.span?.start ?? 0) - (b.span?.start ?? 0)) };
}
