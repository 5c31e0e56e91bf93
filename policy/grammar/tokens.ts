// The tokens of the FLASK policy language as checkpolicy's flex scanner (policy_scan.l,
// SELinux 3.4) cuts them, so that vmipolicy accepts and rejects the same words:
//
// - Every keyword is reserved in two spellings, all lower case and ALL UPPER CASE (`allow`,
//   `ALLOW`); mixed case (`Allow`) is an identifier. Reserved words that the Xen grammar
//   never uses (`clone`, `low`, `glblub`…) are still tokens: `type low;` is a syntax error
//   in checkpolicy, so it must be one here.
// - Identifiers start with a letter and may contain `_` and `-` (so `a-b` is ONE name;
//   only `a - b` excludes b) and single dots between characters (`c0.c255`).
// - A keyword never swallows the start of a longer identifier (`allow_foo`, `types`,
//   `low-high`): each keyword has the identifier as its `longer_alt`, and keywords that
//   are prefixes of other keywords are tried after them.
// - `#` starts a comment to the end of the line. m4's `#line N "file"` markers are such
//   comments to the lexer; policy/grammar/lines.ts reads them from the text for positions.
// - Carriage returns are whitespace here, but parse.ts reports them, as checkpolicy does.

import type { TokenType } from 'chevrotain';
import { createToken, Lexer } from './chevrotain.js';

// ---------------------------------------------------------------- categories

/**
 * Every token except `{`, `}` and `;`: what the parser may skip inside a statement it
 * recognises but does not model (see `unsupportedStatement` in parser.ts).
 */
export const Skippable = createToken({ name: 'Skippable', pattern: Lexer.NA });
/** Every reserved word, so error messages can say "reserved word" when a name was expected. */
export const Keyword = createToken({ name: 'Keyword', pattern: Lexer.NA });
/** Words that begin a statement: where skipping an unsupported statement stops. */
export const StatementKeyword = createToken({ name: 'StatementKeyword', pattern: Lexer.NA });
/** Statements the AST has no node for: SELinux-only ones, and valid ones vmipolicy does not model. */
export const UnsupportedKeyword = createToken({ name: 'UnsupportedKeyword', pattern: Lexer.NA });
/** `auditallow`, `dontaudit`, `neverallow`, `auditdeny`: AV rules that, unlike `allow`, have no role form. */
export const AvRuleKeyword = createToken({ name: 'AvRuleKeyword', pattern: Lexer.NA, label: '"auditallow"/"dontaudit"/"neverallow"/"auditdeny"' });
/** `default_user`, `default_role`, `default_type`: `KEYWORD classes source|target;`. */
export const DefaultObjectKeyword = createToken({ name: 'DefaultObjectKeyword', pattern: Lexer.NA, label: '"default_user"/"default_role"/"default_type"' });
/** `low`, `high`, `low-high`: which end of the range `default_range` takes. */
export const RangeEndKeyword = createToken({ name: 'RangeEndKeyword', pattern: Lexer.NA, label: '"low"/"high"/"low-high"' });
/** `type_change`, `type_member`: type rules without the object name of `type_transition`. */
export const TypeChangeKeyword = createToken({ name: 'TypeChangeKeyword', pattern: Lexer.NA, label: '"type_change"/"type_member"' });
/** `==`/`eq` and `!=`: the operators every constraint comparison accepts. */
export const EqualityOp = createToken({ name: 'EqualityOp', pattern: Lexer.NA, label: '"=="/"!="' });
/** `dom`, `domby`, `incomp`: only between roles and between MLS levels. */
export const DominanceOp = createToken({ name: 'DominanceOp', pattern: Lexer.NA, label: '"dom"/"domby"/"incomp"' });

// ---------------------------------------------------------------- words

export const Identifier = createToken({
  name: 'Identifier',
  pattern: /[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*/,
  label: 'a name',
  categories: [Skippable],
});

/** Every keyword with the word it spells, in creation order (see `allTokens`). */
const reserved: { readonly token: TokenType; readonly word: string }[] = [];

/** PascalCase of a reserved word, for the generated keyword tokens: `fs_use_task` → `FsUseTask`. */
function tokenName(word: string): string {
  return word.replace(/(?:^|[_-])([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A reserved word, matched in its lower- and upper-case spellings (plus `symbols`, another
 * spelling such as `&&` for `and`), that yields to a longer identifier.
 */
function keyword(name: string, word: string, categories: readonly TokenType[] = [], symbols = ''): TokenType {
  const spellings = [word, word.toUpperCase()];
  const token = createToken({
    name,
    pattern: new RegExp((symbols ? [symbols, ...spellings] : spellings).join('|')),
    longer_alt: Identifier,
    label: `"${word}"`,
    categories: [Skippable, Keyword, ...categories],
  });
  reserved.push({ token, word });
  return token;
}

// A keyword the parser never names (it matches `auditallow` through AvRuleKeyword, `low`
// through RangeEndKeyword…) is still declared: creating it is what reserves its word.
const statement = [StatementKeyword];
const unsupported = [StatementKeyword, UnsupportedKeyword];

// Sections of a base policy, in checkpolicy's order.
export const Class = keyword('Class', 'class', statement);
export const Sid = keyword('Sid', 'sid', statement);
export const Common = keyword('Common', 'common', statement);
export const Inherits = keyword('Inherits', 'inherits');
export const Sensitivity = keyword('Sensitivity', 'sensitivity', statement);
export const Dominance = keyword('Dominance', 'dominance', statement);
export const Category = keyword('Category', 'category', statement);
export const Level = keyword('Level', 'level', statement);
export const Range = keyword('Range', 'range');
export const Alias = keyword('Alias', 'alias');
export const MlsConstrain = keyword('MlsConstrain', 'mlsconstrain', statement);
export const MlsValidateTrans = keyword('MlsValidateTrans', 'mlsvalidatetrans', statement);
export const PolicyCap = keyword('PolicyCap', 'policycap', statement);
export const Attribute = keyword('Attribute', 'attribute', statement);
export const Type = keyword('Type', 'type', statement);
export const Types = keyword('Types', 'types');
export const TypeAttribute = keyword('TypeAttribute', 'typeattribute', statement);
export const TypeAlias = keyword('TypeAlias', 'typealias', statement);
export const Bool = keyword('Bool', 'bool', statement);
export const True = keyword('True', 'true');
export const False = keyword('False', 'false');
export const Allow = keyword('Allow', 'allow', statement);
const AuditAllow = keyword('AuditAllow', 'auditallow', [StatementKeyword, AvRuleKeyword]);
const DontAudit = keyword('DontAudit', 'dontaudit', [StatementKeyword, AvRuleKeyword]);
const NeverAllow = keyword('NeverAllow', 'neverallow', [StatementKeyword, AvRuleKeyword]);
const AuditDeny = keyword('AuditDeny', 'auditdeny', [StatementKeyword, AvRuleKeyword]);
export const TypeTransition = keyword('TypeTransition', 'type_transition', statement);
const TypeChange = keyword('TypeChange', 'type_change', [StatementKeyword, TypeChangeKeyword]);
const TypeMember = keyword('TypeMember', 'type_member', [StatementKeyword, TypeChangeKeyword]);
export const Role = keyword('Role', 'role', statement);
export const Roles = keyword('Roles', 'roles');
export const RoleTransition = keyword('RoleTransition', 'role_transition', statement);
export const AttributeRole = keyword('AttributeRole', 'attribute_role', statement);
export const RoleAttribute = keyword('RoleAttribute', 'roleattribute', statement);
export const TypeBounds = keyword('TypeBounds', 'typebounds', statement);
export const Permissive = keyword('Permissive', 'permissive', statement);
export const ExpandAttribute = keyword('ExpandAttribute', 'expandattribute', statement);
export const RangeTransition = keyword('RangeTransition', 'range_transition', statement);
const DefaultUser = keyword('DefaultUser', 'default_user', [StatementKeyword, DefaultObjectKeyword]);
const DefaultRole = keyword('DefaultRole', 'default_role', [StatementKeyword, DefaultObjectKeyword]);
const DefaultType = keyword('DefaultType', 'default_type', [StatementKeyword, DefaultObjectKeyword]);
export const DefaultRange = keyword('DefaultRange', 'default_range', statement);
const Low = keyword('Low', 'low', [RangeEndKeyword]);
const High = keyword('High', 'high', [RangeEndKeyword]);
const LowHigh = keyword('LowHigh', 'low-high', [RangeEndKeyword]);
export const Glblub = keyword('Glblub', 'glblub');
export const User = keyword('User', 'user', statement);
export const Constrain = keyword('Constrain', 'constrain', statement);
export const ValidateTrans = keyword('ValidateTrans', 'validatetrans', statement);
export const If = keyword('If', 'if', statement);
export const Else = keyword('Else', 'else');
export const PirqCon = keyword('PirqCon', 'pirqcon', statement);
export const IomemCon = keyword('IomemCon', 'iomemcon', statement);
export const IoportCon = keyword('IoportCon', 'ioportcon', statement);
export const PciDeviceCon = keyword('PciDeviceCon', 'pcidevicecon', statement);
export const DeviceTreeCon = keyword('DeviceTreeCon', 'devicetreecon', statement);

// Constraint operands and operators.
export const U1 = keyword('U1', 'u1');
export const U2 = keyword('U2', 'u2');
export const U3 = keyword('U3', 'u3');
export const R1 = keyword('R1', 'r1');
export const R2 = keyword('R2', 'r2');
export const R3 = keyword('R3', 'r3');
export const T1 = keyword('T1', 't1');
export const T2 = keyword('T2', 't2');
export const T3 = keyword('T3', 't3');
export const L1 = keyword('L1', 'l1');
export const L2 = keyword('L2', 'l2');
export const H1 = keyword('H1', 'h1');
export const H2 = keyword('H2', 'h2');
export const SameUser = keyword('SameUser', 'sameuser');
export const Source = keyword('Source', 'source');
export const Target = keyword('Target', 'target');
export const Dom = keyword('Dom', 'dom', [DominanceOp]);
export const DomBy = keyword('DomBy', 'domby', [DominanceOp]);
export const Incomp = keyword('Incomp', 'incomp', [DominanceOp]);
// Symbolic and word spellings are one token each, as in checkpolicy (`&&` is `and`).
export const Equals = keyword('Equals', 'eq', [EqualityOp], '==');
export const And = keyword('And', 'and', [], '&&');
export const Or = keyword('Or', 'or', [], '\\|\\|');
export const Xor = keyword('Xor', 'xor', [], '\\^');
export const Not = keyword('Not', 'not', [], '!');
export const NotEquals = createToken({ name: 'NotEquals', pattern: /!=/, label: '"!="', categories: [Skippable, EqualityOp] });

// checkpolicy statements the AST does not model: SELinux-only object contexts (which
// checkpolicy -t Xen rejects), tunables, ioctl extended permissions (meaningless for Xen
// classes) and module-only syntax.
export const XEN_FOREIGN_STATEMENTS: ReadonlySet<string> = new Set([
  'fscon', 'portcon', 'netifcon', 'nodecon', 'fs_use_xattr', 'fs_use_task', 'fs_use_trans',
  'genfscon', 'ibpkeycon', 'ibendportcon',
]);
/** Syntax of checkmodule's policy modules, never of a policy.conf. */
export const MODULE_ONLY: ReadonlySet<string> = new Set(['module', 'require', 'optional']);
const unsupportedWords = [
  ...XEN_FOREIGN_STATEMENTS,
  'tunable', 'allowxperm', 'auditallowxperm', 'dontauditxperm', 'neverallowxperm', ...MODULE_ONLY,
];
const UnsupportedKeywords: readonly TokenType[] = unsupportedWords.map((w) => keyword(tokenName(w), w, unsupported));
/** Reserved by checkpolicy's scanner but used by no statement of the Xen grammar. */
const ReservedKeywords: readonly TokenType[] = ['clone'].map((w) => keyword(tokenName(w), w));

/**
 * Every reserved spelling (`allow`, `ALLOW`, …; not the symbols `&&`, `==`…): a word the
 * lexer reads as a keyword, never as a name. For the fast path of policy/grammar/fast.ts,
 * which cuts words itself and must read exactly these as keywords.
 */
export const RESERVED_SPELLINGS: ReadonlySet<string> = new Set(reserved.flatMap(({ word }) => [word, word.toUpperCase()]));

// ---------------------------------------------------------------- literals and punctuation

/** Any word that starts with a digit but is not a number (`3com`, `1.2.3.4`): never valid. */
const OtherWord = createToken({ name: 'OtherWord', pattern: /[0-9][A-Za-z0-9_.]*/, label: 'a word', categories: [Skippable] });
export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /0x[0-9A-Fa-f]+|[0-9]+/,
  longer_alt: OtherWord,
  label: 'a number',
  categories: [Skippable],
});
/** `"name"` of a named type transition, or `"/path"` of devicetreecon. Never spans lines. */
export const QuotedString = createToken({ name: 'QuotedString', pattern: /"[^"\n]*"/, label: 'a quoted string', categories: [Skippable] });
/** A `"` without its closing quote on the same line; parse.ts reports it (VP3003). */
const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"[^"\n]*/, group: 'unterminated' });
/** A bare path (devicetreecon, genfscon): `/` up to whitespace, as checkpolicy reads it. */
export const Path = createToken({ name: 'Path', pattern: /\/[^ \n\r\t\f]*/, label: 'a path', categories: [Skippable] });

export const LCurly = createToken({ name: 'LCurly', pattern: /\{/, label: '"{"' });
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/, label: '"}"' });
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/, label: '";"' });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: '"("', categories: [Skippable] });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: '")"', categories: [Skippable] });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: '":"', categories: [Skippable] });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: '","', categories: [Skippable] });
export const Minus = createToken({ name: 'Minus', pattern: /-/, label: '"-"', categories: [Skippable] });
export const Tilde = createToken({ name: 'Tilde', pattern: /~/, label: '"~"', categories: [Skippable] });
export const Star = createToken({ name: 'Star', pattern: /\*/, label: '"*"', categories: [Skippable] });
// checkpolicy's scanner also returns these; no Xen rule uses them, so they are syntax errors.
const Dot = createToken({ name: 'Dot', pattern: /\./, label: '"."', categories: [Skippable] });
const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: '"["', categories: [Skippable] });
const RBracket = createToken({ name: 'RBracket', pattern: /\]/, label: '"]"', categories: [Skippable] });

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\f\r\n]+/, group: Lexer.SKIPPED });
const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });

// ---------------------------------------------------------------- the lexer

/** Every token type, in matching order: the first pattern that matches wins. */
export const allTokens: readonly TokenType[] = [
  WhiteSpace,
  Comment,
  // `!=` before `!`, and a keyword before any shorter keyword that is its prefix (`types`, `type`).
  NotEquals,
  ...[...reserved].sort((a, b) => b.word.length - a.word.length).map((k) => k.token),
  Identifier,
  NumberLiteral,
  OtherWord,
  QuotedString,
  UnterminatedString,
  Path,
  LCurly, RCurly, Semicolon, LParen, RParen, Colon, Comma, Minus, Tilde, Star, Dot, LBracket, RBracket,
  // The categories: they match nothing themselves but must be known to the lexer.
  Skippable, Keyword, StatementKeyword, UnsupportedKeyword, AvRuleKeyword, TypeChangeKeyword, DefaultObjectKeyword, RangeEndKeyword,
  EqualityOp, DominanceOp,
];

/**
 * A lexer of the policy language. Offsets are all the parser needs: lines and columns come
 * from policy/grammar/lines.ts, which also knows m4's `#line` markers. `validate: false`
 * skips chevrotain's checks of the token definitions (`validatePatterns` and the warning
 * checks in chevrotain's scan/lexer_public.ts): measured, the process's first lexer is
 * built in 25 ms instead of 36, a later one in 2.5 instead of 16. They depend on this file
 * only, and test/grammar-startup.test.ts runs them.
 */
export function buildPolicyLexer({ validate }: { readonly validate: boolean }) {
  return new Lexer([...allTokens], { positionTracking: 'onlyOffset', ensureOptimizations: true, skipValidations: !validate });
}

let lexer: ReturnType<typeof buildPolicyLexer> | undefined;

/** One lexer for the process, built on first use (a policy the fast path reads whole needs none). */
export function policyLexer(): ReturnType<typeof buildPolicyLexer> {
  return (lexer ??= buildPolicyLexer({ validate: false }));
}
