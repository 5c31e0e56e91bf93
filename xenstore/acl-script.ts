// An interpreter for exactly the shell our compiler emits as xenstore-acl.sh and
// xenstore-acl-revoke.sh (compiler/emit/xenstore.ts), applied to the simulated xenstore.
// The script is treated as hostile: it is checked whole before anything runs, every line
// must be one of the emitted forms, and anything a shell would do beyond them (a pipe, ";",
// "&", backticks, a command substitution other than $(domid 'NAME'), ${…}, a redirect, a
// glob, an unknown command) is refused with its line and column. Nothing is ever executed:
// `xl domid` is a lookup function, xenstore-chmod a store call.
//
// The emitted forms:
//   #…                                  comments (and the #!/bin/sh line)
//   set -eu
//   unset -f …; PATH=…; LC_ALL=C; export …   the script's own environment, byte for byte
//   domid() { … }                       the fixed function, byte for byte
//   d1=$(domid 'name')                  a domid, via `xl domid` and the function's check
//   xenstore-chmod '/path' 'n0' "r$d1" …   words single-quoted, or double-quoted with $dN
//   exit 0

import { DOMID_FUNCTION, isDomidText, SCRIPT_ENVIRONMENT } from './script-contract.js';
import { diagnostic, type Diagnostic, type MessageName } from '../core/diagnostics.js';
import type { Xenstore } from './store.js';

/** What `xl domid NAME` prints (a string or number), or undefined when it fails. */
export type DomidResolver = (name: string) => string | number | undefined;

interface AppliedChmod {
  readonly line: number;
  readonly path: string;
  /** The permissions as xenstore-chmod sent them, owner first ("n0", "r5"). */
  readonly perms: readonly string[];
}

export interface ScriptRun {
  readonly applied: readonly AppliedChmod[];
  /** The domids the script resolved, by domain name. */
  readonly domids: ReadonlyMap<string, number>;
}

interface ScriptError {
  /** refused: nothing ran; failed: the script stopped there, as `set -e` makes sh stop. */
  readonly kind: 'refused' | 'failed';
  readonly line: number;
  readonly column: number;
  readonly diagnostic: Diagnostic;
  /** What ran before the failure (always empty when refused). */
  readonly applied: readonly AppliedChmod[];
}

type ScriptResult = { readonly ok: true; readonly run: ScriptRun } | { readonly ok: false; readonly error: ScriptError };

// ---------------------------------------------------------------- the program

/** A piece of a word: literal text, or a domid variable. */
type Part = { readonly text: string } | { readonly variable: string };

interface Word {
  readonly parts: readonly Part[];
  readonly column: number;
}

type Statement =
  | { readonly kind: 'resolve'; readonly line: number; readonly column: number; readonly variable: string; readonly name: string }
  | { readonly kind: 'chmod'; readonly line: number; readonly words: readonly Word[] }
  | { readonly kind: 'exit'; readonly line: number };

/** Starts of emitted forms, longest first: past them, the first special character is to blame. */
const KNOWN_PREFIXES = [/^d[1-9][0-9]*=\$\(domid '(?:[^']|'\\'')*'\)/, /^d[1-9][0-9]*=\$\(domid /];
const CHMOD = 'xenstore-chmod';
const DOMID_VARIABLE = /^d[1-9][0-9]*$/;
/** Characters a double-quoted word may hold besides $dN: those of xenstore paths and perms. */
const QUOTED_SAFE = /^[A-Za-z0-9/_.@:,+=-]$/;

class Refusal {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly length: number,
    readonly name: MessageName,
    readonly args: readonly string[],
    readonly help?: string,
  ) {}
}

/** What a shell would do with the character at `i` that no emitted line has there. */
function describeConstruct(text: string, i: number): string {
  const c = text[i]!;
  const next = text[i + 1];
  if (c === '|') return next === '|' ? 'an "||" list' : 'a pipe "|"';
  if (c === ';') return 'a command separator ";"';
  if (c === '&') return next === '&' ? 'an "&&" list' : 'a background "&"';
  if (c === '`') return 'a backtick command substitution';
  if (c === '$' && next === '(') return text[i + 2] === '(' ? 'an arithmetic expansion $((…))' : 'a command substitution $(…)';
  if (c === '$' && next === '{') return 'a parameter expansion ${…}';
  if (c === '$') return 'an expansion outside double quotes';
  if (c === '>' || c === '<') return `a redirect "${c}"`;
  if (c === '\\') return 'a backslash escape';
  if (c === '*' || c === '?' || c === '[') return `a glob "${c}"`;
  if (c === '(' || c === ')') return 'a subshell';
  if (c === '{' || c === '}') return 'a brace group';
  if (c === '~') return 'a tilde expansion';
  if (c === '#') return 'a comment after a command';
  if (c === '!') return 'a negation "!"';
  return `the character ${JSON.stringify(c)}`;
}

/** The first character of a line that a shell would treat specially (outside single quotes). */
function firstConstruct(text: string): number | undefined {
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      continue;
    }
    if (c === quote) {
      quote = undefined;
      continue;
    }
    if (!quote && (c === '"' || c === "'")) {
      quote = c;
      continue;
    }
    if (c === '`' || c === '\\' || (c === '$' && (text[i + 1] === '(' || text[i + 1] === '{'))) return i;
    if (!quote && /[|;&<>*?[\](){}~#!$]/.test(c)) return i;
  }
  return undefined;
}

/**
 * The words of a xenstore-chmod line after the command: each one quoted segment, single
 * ('…', literal) or double ("…" with only path characters and $dN variables).
 */
function lexWords(line: number, text: string, from: number): Word[] | Refusal {
  const words: Word[] = [];
  let i = from;
  while (i < text.length) {
    if (text[i] !== ' ' && text[i] !== '\t') return new Refusal(line, i + 1, 1, 'XsScriptNotEmitted', ['arguments are separated by spaces']);
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) break;
    const start = i;
    const quote = text[i];
    if (quote === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return new Refusal(line, start + 1, text.length - start, 'XsScriptUnterminatedQuote', []);
      words.push({ parts: [{ text: text.slice(i + 1, close) }], column: start + 1 });
      i = close + 1;
    } else if (quote === '"') {
      const parts: Part[] = [];
      i++;
      for (;;) {
        if (i >= text.length) return new Refusal(line, start + 1, text.length - start, 'XsScriptUnterminatedQuote', []);
        const c = text[i]!;
        if (c === '"') break;
        if (c === '$') {
          const name = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
          if (!name) return new Refusal(line, i + 1, 2, 'XsScriptForbidden', [describeConstruct(text, i)]);
          parts.push({ variable: name[1]! });
          i += name[0].length;
        } else if (QUOTED_SAFE.test(c)) {
          const last = parts[parts.length - 1];
          if (last && 'text' in last) parts[parts.length - 1] = { text: last.text + c };
          else parts.push({ text: c });
          i++;
        } else {
          return new Refusal(line, i + 1, 1, 'XsScriptForbidden', [describeConstruct(text, i)]);
        }
      }
      words.push({ parts, column: start + 1 });
      i++;
    } else {
      const at = firstConstruct(text.slice(i));
      if (at !== undefined) return new Refusal(line, i + at + 1, 1, 'XsScriptForbidden', [describeConstruct(text, i + at)]);
      return new Refusal(line, start + 1, 1, 'XsScriptNotEmitted', ['every argument is quoted']);
    }
    if (i < text.length && text[i] !== ' ' && text[i] !== '\t') {
      const at = firstConstruct(text.slice(i));
      if (at !== undefined) return new Refusal(line, i + at + 1, 1, 'XsScriptForbidden', [describeConstruct(text, i + at)]);
      return new Refusal(line, i + 1, 1, 'XsScriptNotEmitted', ['each argument is one quoted word']);
    }
  }
  return words;
}

/** shQuote's output: '…' pieces joined by \' for each quote in the name. */
function unquoteSingle(quoted: string): string {
  return quoted.slice(1, -1).replace(/'\\''/g, "'");
}

interface ParseState {
  setEu: boolean;
  /** SCRIPT_ENVIRONMENT has been set: PATH decides which xl and xenstore-chmod run. */
  environment: boolean;
  functionDefined: boolean;
  readonly variables: Set<string>;
}

/** Why a line that is no emitted form is refused, pointing at the first thing a shell would act on. */
function refuseLine(line: number, text: string): Refusal {
  // Past the start of an emitted form, the first special character is the one to blame.
  const prefix = KNOWN_PREFIXES.map((re) => re.exec(text)?.[0].length).find((n) => n !== undefined) ?? 0;
  const found = firstConstruct(text.slice(prefix));
  const at = found === undefined ? undefined : prefix + found;
  if (at !== undefined) return new Refusal(line, at + 1, 1, 'XsScriptForbidden', [describeConstruct(text, at)]);
  const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(text);
  if (assignment) {
    return new Refusal(line, 1, assignment[1]!.length, 'XsScriptNotEmitted', [`only PATH and LC_ALL (as emitted) and dN=$(domid 'NAME') are assigned`]);
  }
  const command = /^[ \t]*([^ \t]+)/.exec(text);
  if (command && !command[1]!.includes('=') && !/^["']/.test(command[1]!)) {
    return new Refusal(line, (command.index ?? 0) + text.indexOf(command[1]!) + 1, command[1]!.length, 'XsScriptUnknownCommand', [command[1]!]);
  }
  return new Refusal(line, 1, text.length, 'XsScriptNotEmitted', ['no emitted line looks like this']);
}

function requireSetEu(state: ParseState, line: number): Refusal | undefined {
  return state.setEu ? undefined : new Refusal(line, 1, 1, 'XsScriptNoSetEu', [], 'the emitted script starts with "set -eu", so that any failure stops it');
}

/** One statement of the script, or why the line is refused; comments and blank lines give nothing. */
function parseLine(lines: readonly string[], index: number, state: ParseState): { statement?: Statement; consumed: number } | Refusal {
  const line = index + 1;
  const text = lines[index]!;
  if (text.startsWith('#') || /^[ \t]*$/.test(text)) return { consumed: 1 };
  if (text === 'set -eu') {
    state.setEu = true;
    return { consumed: 1 };
  }
  if (text === SCRIPT_ENVIRONMENT[0]) return parseFixedBlock(lines, index, state, SCRIPT_ENVIRONMENT, 'the environment differs from the one vmipolicy sets');
  if (text === DOMID_FUNCTION[0]) return parseFunction(lines, index, state);
  const resolve = /^(d[1-9][0-9]*)=\$\(domid ('(?:[^']|'\\'')*')\)$/.exec(text);
  if (resolve) {
    const refusal = requireSetEu(state, line);
    if (refusal) return refusal;
    if (!state.functionDefined) return new Refusal(line, resolve[1]!.length + 4, 5, 'XsScriptUndefinedVariable', ['domid']);
    state.variables.add(resolve[1]!);
    return { statement: { kind: 'resolve', line, column: 1, variable: resolve[1]!, name: unquoteSingle(resolve[2]!) }, consumed: 1 };
  }
  if (text === CHMOD || text.startsWith(`${CHMOD} `)) return parseChmod(line, text, state);
  if (text === 'exit 0') return { statement: { kind: 'exit', line }, consumed: 1 };
  return refuseLine(line, text);
}

/** Lines that must equal `block` byte for byte; a difference is refused where it starts. */
function parseFixedBlock(lines: readonly string[], index: number, state: ParseState, block: readonly string[], why: string): { consumed: number } | Refusal {
  const refusal = requireSetEu(state, index + 1);
  if (refusal) return refusal;
  for (let k = 0; k < block.length; k++) {
    const expected = block[k]!;
    const actual = lines[index + k];
    if (actual === expected) continue;
    const text = actual ?? '';
    let col = 0;
    while (col < text.length && text[col] === expected[col]) col++;
    return new Refusal(index + k + 1, col + 1, 1, 'XsScriptNotEmitted', [why]);
  }
  if (block === SCRIPT_ENVIRONMENT) state.environment = true;
  return { consumed: block.length };
}

function parseFunction(lines: readonly string[], index: number, state: ParseState): { consumed: number } | Refusal {
  // Before the environment is set, xl would be whatever PATH (or an imported function) says.
  if (state.setEu && !state.environment) return new Refusal(index + 1, 1, 5, 'XsScriptUndefinedVariable', ['PATH']);
  const parsed = parseFixedBlock(lines, index, state, DOMID_FUNCTION, 'the domid function differs from the one vmipolicy emits');
  if (!(parsed instanceof Refusal)) state.functionDefined = true;
  return parsed;
}

function parseChmod(line: number, text: string, state: ParseState): { statement: Statement; consumed: number } | Refusal {
  const refusal = requireSetEu(state, line);
  if (refusal) return refusal;
  if (!state.environment) return new Refusal(line, 1, CHMOD.length, 'XsScriptUndefinedVariable', ['PATH']);
  const words = lexWords(line, text, CHMOD.length);
  if (words instanceof Refusal) return words;
  for (const w of words) {
    const first = w.parts[0];
    // xenstore-chmod reads "-r" (recursive) and "-u" (ancestors) anywhere in argv (getopt).
    if (first && 'text' in first && first.text.startsWith('-')) {
      return new Refusal(line, w.column, 1, 'XsScriptOption', [first.text], 'the emitted script never passes options: no -r (recursive), no -u (ancestors)');
    }
    for (const p of w.parts) {
      if ('variable' in p && !state.variables.has(p.variable)) {
        return new Refusal(line, w.column, 1, 'XsScriptUndefinedVariable', [`$${p.variable}`], DOMID_VARIABLE.test(p.variable) ? undefined : 'only domid variables (d1, d2, …) appear in arguments');
      }
    }
  }
  return { statement: { kind: 'chmod', line, words }, consumed: 1 };
}

// ---------------------------------------------------------------- running it

function lineStarts(script: string): number[] {
  const starts = [0];
  for (let i = 0; i < script.length; i++) if (script[i] === '\n') starts.push(i + 1);
  return starts;
}

function toError(kind: ScriptError['kind'], r: Refusal, file: string, starts: readonly number[], applied: readonly AppliedChmod[]): ScriptError {
  const start = (starts[r.line - 1] ?? 0) + r.column - 1;
  return {
    kind,
    line: r.line,
    column: r.column,
    diagnostic: diagnostic(r.name, r.args, { file, start, end: start + Math.max(1, r.length) }, r.help),
    applied,
  };
}

/** Checks the whole script; the statements to run, or the first line refused. */
export function parseAclScript(script: string, file = 'xenstore-acl.sh'): { ok: true; statements: readonly Statement[] } | { ok: false; error: ScriptError } {
  const starts = lineStarts(script);
  // A trailing newline ends the last line; it does not open another one.
  const lines = script.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const state: ParseState = { setEu: false, environment: false, functionDefined: false, variables: new Set() };
  const statements: Statement[] = [];
  for (let i = 0; i < lines.length; ) {
    const cr = lines[i]!.indexOf('\r');
    if (cr >= 0) return { ok: false, error: toError('refused', new Refusal(i + 1, cr + 1, 1, 'XsScriptForbidden', ['a carriage return']), file, starts, []) };
    const parsed = parseLine(lines, i, state);
    if (parsed instanceof Refusal) return { ok: false, error: toError('refused', parsed, file, starts, []) };
    if (parsed.statement) statements.push(parsed.statement);
    i += parsed.consumed;
  }
  return { ok: true, statements };
}

/** glibc atoi: (int) strtol(s, NULL, 10) — what xenstore-chmod makes of the digits after the letter. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(s);
  if (!m) return 0;
  const LONG_MAX = (1n << 63n) - 1n;
  let v = BigInt(m[1]!);
  if (v > LONG_MAX) v = LONG_MAX;
  if (v < -LONG_MAX - 1n) v = -LONG_MAX - 1n;
  return Number(BigInt.asIntN(32, v));
}

function expand(word: Word, values: ReadonlyMap<string, string>): string {
  return word.parts.map((p) => ('text' in p ? p.text : values.get(p.variable)!)).join('');
}

/**
 * Checks the script, then runs it against `store` as dom0 (the script runs in dom0, a
 * privileged connection). Stops at the first failure as `set -eu` makes sh stop; what ran
 * before it stays applied, as on a real host.
 */
export function runAclScript(script: string, resolveDomid: DomidResolver, store: Xenstore, file = 'xenstore-acl.sh'): ScriptResult {
  const parsed = parseAclScript(script, file);
  if (!parsed.ok) return parsed;
  const starts = lineStarts(script);
  const values = new Map<string, string>();
  const domids = new Map<string, number>();
  const applied: AppliedChmod[] = [];
  const failed = (r: Refusal): ScriptResult => ({ ok: false, error: toError('failed', r, file, starts, [...applied]) });

  for (const s of parsed.statements) {
    if (s.kind === 'exit') break;
    if (s.kind === 'resolve') {
      const printed = resolveDomid(s.name);
      if (printed === undefined) return failed(new Refusal(s.line, s.column, s.variable.length, 'XsScriptDomainNotRunning', [s.name]));
      // $(…) drops trailing newlines; the function's case then wants a domid (0 to 32751).
      const id = String(printed).replace(/\n+$/, '');
      if (!isDomidText(id)) return failed(new Refusal(s.line, s.column, s.variable.length, 'XsScriptBadDomid', [s.name, id]));
      values.set(s.variable, id);
      domids.set(s.name, atoi(id));
      continue;
    }
    // xenstore-chmod PATH PERM…: each perm is a letter and atoi of the rest (xenstore_client.c).
    const [pathWord, ...permWords] = s.words;
    const path = pathWord ? expand(pathWord, values) : '';
    if (path === '') continue; // do_chmod returns at once on an empty path
    const perms: string[] = [];
    for (const w of permWords) {
      const arg = expand(w, values);
      if (!/^[nrwb]/.test(arg)) return failed(new Refusal(s.line, w.column, 1, 'XsScriptChmodFailed', [path, `invalid permission specification '${arg.slice(0, 1)}'`]));
      perms.push(`${arg[0]}${atoi(arg.slice(1))}`);
    }
    const result = store.setPerms(0, path, perms);
    if (!result.ok) return failed(new Refusal(s.line, 1, CHMOD.length, 'XsScriptChmodFailed', [path, result.error]));
    applied.push({ line: s.line, path, perms });
  }
  return { ok: true, run: { applied, domids } };
}
