// CST → AST (policy/grammar/ast.ts). Two rules keep the AST honest after error recovery:
// - A statement whose CST was cut short by re-sync recovery (`recoveredNode`), or that
//   needs a token the parser invented (`isInsertedInRecovery`, no text behind it), is
//   dropped: the syntax error is already reported, and the AST never holds made-up names.
//   A statement whose invented tokens are only punctuation (a missing `;` or `}`) is kept.
//   Dropping a statement with nothing reported is an internal error (`statementOf`).
// - Whatever checkpolicy accepts but the grammar parses loosely (any statement inside
//   `if`, a quoted string where only some strings are valid) is checked here, with the
//   diagnostic checkpolicy's behaviour calls for.

import type { CstChildrenDictionary, CstElement, CstNode, IToken } from 'chevrotain';
import * as A from './ast.js';
import { diagnostic, type Diagnostic, type SourceSpan } from '../../core/diagnostics.js';
import { ownCopy } from '../../core/strings.js';
import { validateVisitor } from './parser.js';
import { MODULE_ONLY, XEN_FOREIGN_STATEMENTS } from './tokens.js';

/** What one AST build needs besides the CST: where the text came from, and where to report. */
interface BuildEnv {
  readonly file: string;
  readonly text: string;
  readonly diagnostics: Diagnostic[];
  /**
   * One string per distinct name (a policy repeats the same few hundred names a million
   * times; V8 copies every short substring). Absent: names are kept as the lexer gave them.
   */
  readonly names?: Map<string, string>;
}

/** The name a token spells, shared with every other token that spells it. */
function interned(token: IToken, env: BuildEnv): string {
  const names = env.names;
  if (!names) return token.image;
  const known = names.get(token.image);
  if (known !== undefined) return known;
  // The name lives on in the model, which outlives the policy text (core/strings.ts).
  const own = ownCopy(token.image);
  names.set(own, own);
  return own;
}

type Children = CstChildrenDictionary;
type Listed = A.ListedName;
type Comparison = Extract<A.ConstraintExpr, { readonly left: string }>;
type RuleInIf = A.AvRule | A.AuditDenyRule | A.TypeRule;

/** How diagnostics name a statement ("a type declaration cannot …"). */
export const STATEMENT_DESCRIPTIONS: Readonly<Record<A.Statement['kind'], string>> = {
  'class-decl': 'a security class declaration',
  'sid-decl': 'an initial SID declaration',
  common: 'a common permission set',
  'access-vector': 'an access vector definition',
  policycap: 'a policycap statement',
  sensitivity: 'a sensitivity declaration',
  dominance: 'a dominance statement',
  category: 'a category declaration',
  level: 'a level declaration',
  attribute: 'an attribute declaration',
  type: 'a type declaration',
  typeattribute: 'a typeattribute statement',
  typealias: 'a typealias statement',
  bool: 'a bool declaration',
  allow: 'an allow rule',
  auditallow: 'an auditallow rule',
  dontaudit: 'a dontaudit rule',
  neverallow: 'a neverallow rule',
  type_transition: 'a type_transition rule',
  type_change: 'a type_change rule',
  type_member: 'a type_member rule',
  role: 'a role declaration',
  'role-allow': 'a role allow rule',
  role_transition: 'a role_transition rule',
  attribute_role: 'a role attribute declaration',
  roleattribute: 'a roleattribute statement',
  typebounds: 'a typebounds statement',
  permissive: 'a permissive statement',
  expandattribute: 'an expandattribute statement',
  auditdeny: 'an auditdeny rule',
  range_transition: 'a range_transition rule',
  default_user: 'a default_user statement',
  default_role: 'a default_role statement',
  default_type: 'a default_type statement',
  default_range: 'a default_range statement',
  user: 'a user declaration',
  constrain: 'a constrain statement',
  mlsconstrain: 'an mlsconstrain statement',
  validatetrans: 'a validatetrans statement',
  mlsvalidatetrans: 'an mlsvalidatetrans statement',
  if: 'an if block',
  'sid-context': 'an initial SID context',
  pirqcon: 'a pirqcon statement',
  iomemcon: 'an iomemcon statement',
  ioportcon: 'an ioportcon statement',
  pcidevicecon: 'a pcidevicecon statement',
  devicetreecon: 'a devicetreecon statement',
};

const IF_BODY_KINDS: ReadonlySet<A.Statement['kind']> = new Set([
  'allow', 'auditallow', 'dontaudit', 'auditdeny', 'type_transition', 'type_change', 'type_member',
]);

// ---------------------------------------------------------------- CST access

const NONE: readonly never[] = [];

function tokens(ctx: Children, key: string): readonly IToken[] {
  return (ctx[key] as IToken[] | undefined) ?? NONE;
}

function nodes(ctx: Children, key: string): readonly CstNode[] {
  return (ctx[key] as CstNode[] | undefined) ?? NONE;
}

function isToken(element: CstElement): element is IToken {
  return (element as IToken).tokenType !== undefined;
}

/** A token with text behind it (not one invented by recovery, which has NaN offsets). */
function isReal(token: IToken | undefined): token is IToken {
  return token !== undefined && token.isInsertedInRecovery !== true && token.startOffset >= 0;
}

function tokenSpan(token: IToken, env: BuildEnv): SourceSpan {
  return { file: env.file, start: token.startOffset, end: token.startOffset + token.image.length };
}

function joinSpans(a: SourceSpan, b: SourceSpan): SourceSpan {
  return { file: a.file, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

/** Lowest start and highest end of the real tokens under a CST node's children; -1: none yet. */
interface Extent {
  start: number;
  end: number;
}

function widen(ctx: Children, extent: Extent): void {
  for (const key in ctx) {
    for (const element of ctx[key] ?? NONE) {
      if (!isToken(element)) {
        widen(element.children, extent);
      } else if (isReal(element)) {
        const start = element.startOffset;
        const end = start + element.image.length;
        if (extent.start < 0 || start < extent.start) extent.start = start;
        if (end > extent.end) extent.end = end;
      }
    }
  }
}

/**
 * The extent of a rule's real children. Computed from the tokens rather than chevrotain's
 * node locations: those need every token's end offset, which the lexer does not track
 * (offsets only, for speed), and invented tokens would poison them. Offsets stay small
 * integers (no Infinity sentinels), so V8 keeps spans compact.
 */
function childrenSpan(ctx: Children, env: BuildEnv): SourceSpan | undefined {
  const extent: Extent = { start: -1, end: -1 };
  widen(ctx, extent);
  return extent.start >= 0 ? { file: env.file, start: extent.start, end: extent.end } : undefined;
}

/** Whether error recovery touched a node: cut it short, or invented a token in it. */
function recovered(node: CstNode): boolean {
  if (node.recoveredNode === true) return true;
  for (const key in node.children) {
    for (const element of node.children[key] ?? NONE) {
      if (isToken(element) ? !isReal(element) : recovered(element)) return true;
    }
  }
  return false;
}

function nameOf(token: IToken | undefined, env: BuildEnv): A.Name | undefined {
  return isReal(token) ? { name: interned(token, env), span: tokenSpan(token, env) } : undefined;
}

/** All the names, or undefined if recovery invented any of them. */
function namesOf(list: readonly IToken[], env: BuildEnv): A.Name[] | undefined {
  // Sized up front: an array grown by push keeps room for 16 more, and an AST holds a
  // million of these.
  const out: A.Name[] = new Array<A.Name>(list.length);
  for (let i = 0; i < list.length; i++) {
    const name = nameOf(list[i], env);
    if (!name) return undefined;
    out[i] = name;
  }
  return out;
}

/** The text of a span exactly as written (MLS levels and ranges are kept as strings). */
function textOf(span: SourceSpan | undefined, env: BuildEnv): string | undefined {
  return span && env.text.slice(span.start, span.end);
}

function unquote(token: IToken): string {
  return token.image.slice(1, -1);
}

function report(env: BuildEnv, span: SourceSpan, message: string, help?: string): void {
  env.diagnostics.push(diagnostic('PolicySyntax', [message], span, help));
}

/**
 * checkpolicy takes `*` and `~` in a type set only where the rule says so: in neverallow
 * rules (policy_define.c, define_te_avtab_helper and set_types: "* not allowed in this type
 * of rule"); allow, auditallow, dontaudit, type rules and `role … types` refuse them. Reports
 * and answers false when `set` uses one where it may not.
 */
function typeSetOperatorsAllowed(set: A.NameSet, where: string, env: BuildEnv): boolean {
  const operator = set.star ? '*' : set.complement ? '~' : undefined;
  if (operator === undefined) return true;
  env.diagnostics.push(diagnostic('PolicyWildcardNotAllowed', [operator, where], set.span, 'checkpolicy takes * and ~ in the type sets of neverallow rules only; name the types or an attribute'));
  return false;
}

/**
 * A class set lists classes: checkpolicy reads `*` and `~` there as class names and
 * refuses them ("unknown class *", policy_define.c read_classes / define_constraint).
 */
function classSetOperatorsAllowed(set: A.NameSet, env: BuildEnv): boolean {
  const operator = set.star ? '*' : set.complement ? '~' : undefined;
  if (operator === undefined) return true;
  env.diagnostics.push(diagnostic('PolicyClassWildcard', [operator], set.span, 'list the classes by name'));
  return false;
}

// ---------------------------------------------------------------- expressions

/** `==`/`!=` keep their symbol; word spellings (`eq`, `DOM`) become the lower-case word. */
function comparisonOperator(token: IToken): Comparison['op'] {
  const image = token.image;
  return (image === '==' || image === '!=' ? image : image.toLowerCase()) as Comparison['op'];
}

/** In `if` conditions `eq` is `==`: one operator, two spellings. */
function boolEqualityOperator(token: IToken): '==' | '!=' {
  return token.image === '!=' ? '!=' : '==';
}

/** `a op b op c` → `((a op b) op c)`, each node spanning its operands. */
function foldLeft<E extends { readonly span: SourceSpan }>(operands: readonly (E | undefined)[], combine: (left: E, right: E, span: SourceSpan) => E): E | undefined {
  const [first, ...rest] = operands;
  if (!first) return undefined;
  let result = first;
  for (const right of rest) {
    if (!right) return undefined;
    result = combine(result, right, joinSpans(result.span, right.span));
  }
  return result;
}

/** Identifiers and nested groups of a `{ … }` set, flattened in source order, `-x` marked. */
function flattenGroup(identifiers: readonly IToken[], minuses: readonly IToken[], nested: readonly Listed[][], env: BuildEnv): Listed[] | undefined {
  const out: Listed[] = new Array<Listed>(identifiers.length);
  let m = 0;
  for (let i = 0; i < identifiers.length; i++) {
    const token = identifiers[i] as IToken;
    if (!isReal(token)) return undefined;
    // A `-` excludes the identifier right after it: the first one past its offset.
    let excluded = false;
    for (let minus = minuses[m]; minus !== undefined && minus.startOffset < token.startOffset; minus = minuses[++m]) excluded = true;
    out[i] = { name: interned(token, env), span: tokenSpan(token, env), excluded };
  }
  if (nested.length === 0) return out;
  return [...out, ...nested.flat()].sort((a, b) => a.span.start - b.span.start);
}

/** `source` or `target` of a default_* statement, if a real token says which. */
function defaultObjectOf(ctx: Children): 'source' | 'target' | undefined {
  return tokens(ctx, 'Source').some(isReal) ? 'source' : tokens(ctx, 'Target').some(isReal) ? 'target' : undefined;
}

/** The sets of an AV rule: `*`/`~` in its types only for neverallow, never in its classes. */
function avRuleSetsAllowed(kind: A.AvRuleKind | 'auditdeny', sources: A.NameSet, targets: A.NameSet, classes: A.NameSet, env: BuildEnv): boolean {
  const classesAllowed = classSetOperatorsAllowed(classes, env);
  if (kind === 'neverallow') return classesAllowed;
  const where = STATEMENT_DESCRIPTIONS[kind];
  const sourcesAllowed = typeSetOperatorsAllowed(sources, `the source types of ${where}`, env);
  const targetsAllowed = typeSetOperatorsAllowed(targets, `the target types of ${where}`, env);
  return classesAllowed && sourcesAllowed && targetsAllowed;
}

// ---------------------------------------------------------------- the visitor

/**
 * One method per grammar rule, as chevrotain's visitors are written; each receives the
 * rule's children and the build environment, and returns its AST piece or undefined
 * when recovery left it incomplete. It does not extend chevrotain's visitor base class,
 * which exists only once the parser does (parser.ts builds it on first use): `visit`
 * dispatches by rule name as that class's does, and `theBuilder` runs its check that
 * every rule has a method.
 */
class AstBuilder {
  /** The method of the node's rule (chevrotain's cst_visitor.ts `visit`). */
  visit(node: CstNode, env: BuildEnv): unknown {
    return (this as unknown as Record<string, (children: Children, env: BuildEnv) => unknown>)[node.name]!(node.children, env);
  }

  /** Visits a child rule unless re-sync recovery cut it short. */
  private sub<R>(node: CstNode | undefined, env: BuildEnv): R | undefined {
    return node && node.recoveredNode !== true ? (this.visit(node, env) as R | undefined) : undefined;
  }

  /**
   * A `statement` node's AST. Dropping a statement is only ever right when something was
   * reported for it; dropping one silently would hide a rule from every check downstream,
   * so that is an internal error.
   */
  statementOf(node: CstNode, env: BuildEnv): A.Statement | undefined {
    const reported = env.diagnostics.length;
    const statement = this.sub<A.Statement>(node, env);
    if (!statement && env.diagnostics.length === reported && !nodes(node.children, 'emptyStatement')[0] && !recovered(node)) {
      throw new Error(`internal error: a statement at offset ${childrenSpan(node.children, env)?.start ?? '?'} has no AST and no diagnostic`);
    }
    return statement;
  }

  /** Statements arrive one by one through `statementOf` (see parser.ts `parseTokens`). */
  policy(ctx: Children, env: BuildEnv): A.Statement[] {
    return nodes(ctx, 'statement').flatMap((node) => this.sub<A.Statement>(node, env) ?? []);
  }

  statement(ctx: Children, env: BuildEnv): A.Statement | undefined {
    for (const key in ctx) return this.sub<A.Statement>(nodes(ctx, key)[0], env);
    return undefined;
  }

  // ------------------------------------------------------------ classes, SIDs, access vectors

  classStatement(ctx: Children, env: BuildEnv): A.ClassDecl | A.AccessVectorDecl | undefined {
    const name = nameOf(tokens(ctx, 'name')[0], env);
    const span = childrenSpan(ctx, env);
    if (!name || !span) return undefined;
    const list = nodes(ctx, 'identifierList')[0];
    const inheriting = tokens(ctx, 'Inherits').length > 0;
    if (!list && !inheriting) return { kind: 'class-decl', name, span };
    const inherits = nameOf(tokens(ctx, 'inherits')[0], env);
    const perms = list ? this.sub<A.Name[]>(list, env) : [];
    if (!perms || (inheriting && !inherits)) return undefined;
    return { kind: 'access-vector', cls: name, ...(inherits ? { inherits } : {}), perms, span };
  }

  sidStatement(ctx: Children, env: BuildEnv): A.SidDecl | A.SidContext | undefined {
    const name = nameOf(tokens(ctx, 'Identifier')[0], env);
    const span = childrenSpan(ctx, env);
    if (!name || !span) return undefined;
    const contextNode = nodes(ctx, 'context')[0];
    if (!contextNode) return { kind: 'sid-decl', name, span };
    const context = this.sub<A.Context>(contextNode, env);
    return context && { kind: 'sid-context', name, context, span };
  }

  commonDecl(ctx: Children, env: BuildEnv): A.CommonDecl | undefined {
    const name = nameOf(tokens(ctx, 'Identifier')[0], env);
    const perms = this.sub<A.Name[]>(nodes(ctx, 'identifierList')[0], env);
    const span = childrenSpan(ctx, env);
    return name && perms && span && { kind: 'common', name, perms, span };
  }

  identifierList(ctx: Children, env: BuildEnv): A.Name[] | undefined {
    return namesOf(tokens(ctx, 'Identifier'), env);
  }

  // ------------------------------------------------------------ MLS

  sensitivityDecl(ctx: Children, env: BuildEnv): A.SensitivityDecl | undefined {
    const declared = this.aliasedName(ctx, env);
    return declared && { kind: 'sensitivity', ...declared };
  }

  categoryDecl(ctx: Children, env: BuildEnv): A.CategoryDecl | undefined {
    const declared = this.aliasedName(ctx, env);
    return declared && { kind: 'category', ...declared };
  }

  /** `NAME [alias …]`, shared by sensitivities and categories. */
  private aliasedName(ctx: Children, env: BuildEnv): { name: A.Name; aliases: A.Name[]; span: SourceSpan } | undefined {
    const name = nameOf(tokens(ctx, 'Identifier')[0], env);
    const aliasNode = nodes(ctx, 'aliases')[0];
    const aliases = aliasNode ? this.sub<A.Name[]>(aliasNode, env) : [];
    const span = childrenSpan(ctx, env);
    return name && aliases && span && { name, aliases, span };
  }

  dominanceDecl(ctx: Children, env: BuildEnv): A.DominanceDecl | undefined {
    const list = nodes(ctx, 'identifierList')[0];
    const order = list ? this.sub<A.Name[]>(list, env) : namesOf(tokens(ctx, 'Identifier'), env);
    const span = childrenSpan(ctx, env);
    return order && span && { kind: 'dominance', order, span };
  }

  levelDecl(ctx: Children, env: BuildEnv): A.LevelDecl | undefined {
    const level = this.sub<string>(nodes(ctx, 'mlsLevel')[0], env);
    const span = childrenSpan(ctx, env);
    return level !== undefined && span ? { kind: 'level', level, span } : undefined;
  }

  mlsLevel(ctx: Children, env: BuildEnv): string | undefined {
    const categories = nodes(ctx, 'commaList')[0];
    if (!isReal(tokens(ctx, 'Identifier')[0]) || (categories && !this.sub<A.Name[]>(categories, env))) return undefined;
    return textOf(childrenSpan(ctx, env), env);
  }

  mlsRange(ctx: Children, env: BuildEnv): string | undefined {
    const levels = nodes(ctx, 'mlsLevel').map((node) => this.sub<string>(node, env));
    if (levels.length === 0 || levels.some((level) => level === undefined)) return undefined;
    return textOf(childrenSpan(ctx, env), env);
  }

  /**
   * Alias lists are plain names. checkpolicy accepts `*`, `~` and `-` in them (and declares
   * aliases literally named "*", "~", "-"), so they are a warning here, not an error: the
   * names are kept, the operators dropped.
   */
  aliases(ctx: Children, env: BuildEnv): A.Name[] | undefined {
    const set = this.sub<A.NameSet>(nodes(ctx, 'names')[0], env);
    if (!set) return undefined;
    if (set.star || set.complement || set.names.some((n) => n.excluded)) {
      env.diagnostics.push(diagnostic('PolicySuspicious', ['an alias list names aliases: "*", "~" and "-" have no meaning in it'], set.span, 'checkpolicy declares aliases named "*", "~" or "-"; list plain names'));
    }
    return set.names.map(({ name, span }) => ({ name, span }));
  }

  commaList(ctx: Children, env: BuildEnv): A.Name[] | undefined {
    return namesOf(tokens(ctx, 'Identifier'), env);
  }

  // ------------------------------------------------------------ TE and RBAC declarations

  policyCap(ctx: Children, env: BuildEnv): A.PolicyCap | undefined {
    const name = nameOf(tokens(ctx, 'Identifier')[0], env);
    const span = childrenSpan(ctx, env);
    return name && span && { kind: 'policycap', name, span };
  }

  attributeDecl(ctx: Children, env: BuildEnv): A.AttributeDecl | undefined {
    const name = nameOf(tokens(ctx, 'Identifier')[0], env);
    const span = childrenSpan(ctx, env);
    return name && span && { kind: 'attribute', name, span };
  }

  typeDecl(ctx: Children, env: BuildEnv): A.TypeDecl | undefined {
    const name = nameOf(tokens(ctx, 'Identifier')[0], env);
    const aliasNode = nodes(ctx, 'aliases')[0];
    const attributeNode = nodes(ctx, 'commaList')[0];
    const aliases = aliasNode ? this.sub<A.Name[]>(aliasNode, env) : [];
    const attributes = attributeNode ? this.sub<A.Name[]>(attributeNode, env) : [];
    const span = childrenSpan(ctx, env);
    return name && aliases && attributes && span && { kind: 'type', name, aliases, attributes, span };
  }

  typeAttribute(ctx: Children, env: BuildEnv): A.TypeAttributeStmt | undefined {
    const type = nameOf(tokens(ctx, 'Identifier')[0], env);
    const attributes = this.sub<A.Name[]>(nodes(ctx, 'commaList')[0], env);
    const span = childrenSpan(ctx, env);
    return type && attributes && span && { kind: 'typeattribute', type, attributes, span };
  }

  typeAlias(ctx: Children, env: BuildEnv): A.TypeAliasStmt | undefined {
    const type = nameOf(tokens(ctx, 'Identifier')[0], env);
    const aliases = this.sub<A.Name[]>(nodes(ctx, 'aliases')[0], env);
    const span = childrenSpan(ctx, env);
    return type && aliases && span && { kind: 'typealias', type, aliases, span };
  }

  boolDecl(ctx: Children, env: BuildEnv): A.BoolDecl | undefined {
    const name = nameOf(tokens(ctx, 'Identifier')[0], env);
    const value = tokens(ctx, 'True').some(isReal) ? true : tokens(ctx, 'False').some(isReal) ? false : undefined;
    const span = childrenSpan(ctx, env);
    return name && value !== undefined && span ? { kind: 'bool', name, value, span } : undefined;
  }

  roleDecl(ctx: Children, env: BuildEnv): A.RoleDecl | undefined {
    const name = nameOf(tokens(ctx, 'Identifier')[0], env);
    const span = childrenSpan(ctx, env);
    if (!name || !span) return undefined;
    const attributeNode = nodes(ctx, 'commaList')[0];
    if (attributeNode) {
      const attributes = this.sub<A.Name[]>(attributeNode, env);
      return attributes && { kind: 'role', name, attributes, span };
    }
    const typesNode = nodes(ctx, 'names')[0];
    if (!typesNode) return { kind: 'role', name, span };
    const types = this.sub<A.NameSet>(typesNode, env);
    return types && typeSetOperatorsAllowed(types, 'the types of a role declaration', env) ? { kind: 'role', name, types, span } : undefined;
  }

  roleTransition(ctx: Children, env: BuildEnv): A.RoleTransition | undefined {
    const roles = this.sub<A.NameSet>(nodes(ctx, 'roles')[0], env);
    const types = this.sub<A.NameSet>(nodes(ctx, 'types')[0], env);
    const result = nameOf(tokens(ctx, 'Identifier')[0], env);
    const span = childrenSpan(ctx, env);
    if (!roles || !types || !result || !span) return undefined;
    const classNode = nodes(ctx, 'classes')[0];
    if (!classNode) return { kind: 'role_transition', roles, types, result, span };
    const classes = this.sub<A.NameSet>(classNode, env);
    return classes && { kind: 'role_transition', roles, types, classes, result, span };
  }

  roleAttributeDecl(ctx: Children, env: BuildEnv): A.RoleAttributeDecl | undefined {
    const name = nameOf(tokens(ctx, 'Identifier')[0], env);
    const span = childrenSpan(ctx, env);
    return name && span && { kind: 'attribute_role', name, span };
  }

  roleAttribute(ctx: Children, env: BuildEnv): A.RoleAttributeStmt | undefined {
    const role = nameOf(tokens(ctx, 'Identifier')[0], env);
    const attributes = this.sub<A.Name[]>(nodes(ctx, 'commaList')[0], env);
    const span = childrenSpan(ctx, env);
    return role && attributes && span && { kind: 'roleattribute', role, attributes, span };
  }

  typeBounds(ctx: Children, env: BuildEnv): A.TypeBoundsStmt | undefined {
    const bounding = nameOf(tokens(ctx, 'Identifier')[0], env);
    const bounded = this.sub<A.Name[]>(nodes(ctx, 'commaList')[0], env);
    const span = childrenSpan(ctx, env);
    return bounding && bounded && span && { kind: 'typebounds', bounding, bounded, span };
  }

  permissive(ctx: Children, env: BuildEnv): A.PermissiveStmt | undefined {
    const type = nameOf(tokens(ctx, 'Identifier')[0], env);
    const span = childrenSpan(ctx, env);
    return type && span && { kind: 'permissive', type, span };
  }

  expandAttribute(ctx: Children, env: BuildEnv): A.ExpandAttributeStmt | undefined {
    const attributes = this.sub<A.NameSet>(nodes(ctx, 'names')[0], env);
    const value = tokens(ctx, 'True').some(isReal) ? true : tokens(ctx, 'False').some(isReal) ? false : undefined;
    const span = childrenSpan(ctx, env);
    return attributes && value !== undefined && span ? { kind: 'expandattribute', attributes, value, span } : undefined;
  }

  rangeTransition(ctx: Children, env: BuildEnv): A.RangeTransition | undefined {
    const sources = this.sub<A.NameSet>(nodes(ctx, 'sources')[0], env);
    const targets = this.sub<A.NameSet>(nodes(ctx, 'targets')[0], env);
    const range = this.sub<string>(nodes(ctx, 'mlsRange')[0], env);
    const span = childrenSpan(ctx, env);
    if (!sources || !targets || range === undefined || !span) return undefined;
    const classNode = nodes(ctx, 'classes')[0];
    if (!classNode) return { kind: 'range_transition', sources, targets, range, span };
    const classes = this.sub<A.NameSet>(classNode, env);
    return classes && { kind: 'range_transition', sources, targets, classes, range, span };
  }

  defaultObject(ctx: Children, env: BuildEnv): A.DefaultRule | undefined {
    const keyword = tokens(ctx, 'DefaultObjectKeyword')[0];
    const classes = this.sub<A.NameSet>(nodes(ctx, 'names')[0], env);
    const object = defaultObjectOf(ctx);
    const span = childrenSpan(ctx, env);
    if (!isReal(keyword) || !classes || !object || !span) return undefined;
    return { kind: keyword.image.toLowerCase() as A.DefaultRule['kind'], classes, object, span };
  }

  defaultRange(ctx: Children, env: BuildEnv): A.DefaultRange | undefined {
    const classes = this.sub<A.NameSet>(nodes(ctx, 'names')[0], env);
    const span = childrenSpan(ctx, env);
    if (!classes || !span) return undefined;
    if (tokens(ctx, 'Glblub').some(isReal)) return { kind: 'default_range', classes, range: 'glblub', span };
    const object = defaultObjectOf(ctx);
    const end = tokens(ctx, 'RangeEndKeyword')[0];
    if (!object || !isReal(end)) return undefined;
    return { kind: 'default_range', classes, object, range: end.image.toLowerCase() as A.DefaultRange['range'], span };
  }

  userDecl(ctx: Children, env: BuildEnv): A.UserDecl | undefined {
    const name = nameOf(tokens(ctx, 'Identifier')[0], env);
    const roles = this.sub<A.NameSet>(nodes(ctx, 'names')[0], env);
    const span = childrenSpan(ctx, env);
    if (!name || !roles || !span) return undefined;
    if (tokens(ctx, 'Level').length === 0) return { kind: 'user', name, roles, span };
    const level = this.sub<string>(nodes(ctx, 'mlsLevel')[0], env);
    const range = this.sub<string>(nodes(ctx, 'mlsRange')[0], env);
    return level !== undefined && range !== undefined ? { kind: 'user', name, roles, level, range, span } : undefined;
  }

  // ------------------------------------------------------------ rules

  allowRule(ctx: Children, env: BuildEnv): A.AvRule | A.RoleAllow | undefined {
    const sources = this.sub<A.NameSet>(nodes(ctx, 'sources')[0], env);
    const targets = this.sub<A.NameSet>(nodes(ctx, 'targets')[0], env);
    const span = childrenSpan(ctx, env);
    if (!sources || !targets || !span) return undefined;
    if (tokens(ctx, 'Colon').length === 0) return { kind: 'role-allow', sources, targets, span };
    const classes = this.sub<A.NameSet>(nodes(ctx, 'classes')[0], env);
    const perms = this.sub<A.NameSet>(nodes(ctx, 'perms')[0], env);
    if (!classes || !perms || !avRuleSetsAllowed('allow', sources, targets, classes, env)) return undefined;
    return { kind: 'allow', sources, targets, classes, perms, span };
  }

  avRule(ctx: Children, env: BuildEnv): A.AvRule | A.AuditDenyRule | undefined {
    const keyword = tokens(ctx, 'AvRuleKeyword')[0];
    const sources = this.sub<A.NameSet>(nodes(ctx, 'sources')[0], env);
    const targets = this.sub<A.NameSet>(nodes(ctx, 'targets')[0], env);
    const classes = this.sub<A.NameSet>(nodes(ctx, 'classes')[0], env);
    const perms = this.sub<A.NameSet>(nodes(ctx, 'perms')[0], env);
    const span = childrenSpan(ctx, env);
    if (!isReal(keyword) || !sources || !targets || !classes || !perms || !span) return undefined;
    const kind = keyword.image.toLowerCase() as A.AvRuleKind | 'auditdeny';
    if (!avRuleSetsAllowed(kind, sources, targets, classes, env)) return undefined;
    return { kind, sources, targets, classes, perms, span };
  }

  typeTransition(ctx: Children, env: BuildEnv): A.TypeRule | undefined {
    const rule = this.typeRule('type_transition', ctx, env);
    const quoted = tokens(ctx, 'QuotedString')[0];
    if (!rule || !isReal(quoted)) return rule;
    const objectName = unquote(quoted);
    if (objectName === '' || objectName.includes('/')) {
      report(env, tokenSpan(quoted, env), 'the object name of a type_transition is a file name: not empty, without "/"');
      return undefined;
    }
    return { ...rule, objectName };
  }

  typeChange(ctx: Children, env: BuildEnv): A.TypeRule | undefined {
    const keyword = tokens(ctx, 'TypeChangeKeyword')[0];
    return isReal(keyword) ? this.typeRule(keyword.image.toLowerCase() as A.TypeRuleKind, ctx, env) : undefined;
  }

  private typeRule(kind: A.TypeRuleKind, ctx: Children, env: BuildEnv): A.TypeRule | undefined {
    const sources = this.sub<A.NameSet>(nodes(ctx, 'sources')[0], env);
    const targets = this.sub<A.NameSet>(nodes(ctx, 'targets')[0], env);
    const classes = this.sub<A.NameSet>(nodes(ctx, 'classes')[0], env);
    const result = nameOf(tokens(ctx, 'Identifier')[0], env);
    const span = childrenSpan(ctx, env);
    if (!sources || !targets || !classes || !result || !span) return undefined;
    const where = STATEMENT_DESCRIPTIONS[kind];
    const allowed = [typeSetOperatorsAllowed(sources, `the source types of ${where}`, env), typeSetOperatorsAllowed(targets, `the target types of ${where}`, env), classSetOperatorsAllowed(classes, env)];
    return allowed.every(Boolean) ? { kind, sources, targets, classes, result, span } : undefined;
  }

  names(ctx: Children, env: BuildEnv): A.NameSet | undefined {
    const span = childrenSpan(ctx, env);
    if (!span) return undefined;
    const star = tokens(ctx, 'Star').length > 0;
    const complement = tokens(ctx, 'Tilde').length > 0;
    const group = nodes(ctx, 'nameGroup')[0];
    const listed = star ? [] : group ? this.sub<Listed[]>(group, env) : flattenGroup(tokens(ctx, 'Identifier'), tokens(ctx, 'Minus'), [], env);
    return listed && A.PackedNameSet.of(star, complement, listed, span.file, span.start, span.end);
  }

  nameGroup(ctx: Children, env: BuildEnv): Listed[] | undefined {
    const nested: Listed[][] = [];
    for (const node of nodes(ctx, 'nameGroup')) {
      const inner = this.sub<Listed[]>(node, env);
      if (!inner) return undefined;
      nested.push(inner);
    }
    return flattenGroup(tokens(ctx, 'Identifier'), tokens(ctx, 'Minus'), nested, env);
  }

  // ------------------------------------------------------------ constraints

  constraint(ctx: Children, env: BuildEnv): A.Constrain | undefined {
    const kind = tokens(ctx, 'MlsConstrain').length > 0 ? 'mlsconstrain' : 'constrain';
    const classes = this.sub<A.NameSet>(nodes(ctx, 'classes')[0], env);
    const perms = this.sub<A.NameSet>(nodes(ctx, 'perms')[0], env);
    const expr = this.sub<A.ConstraintExpr>(nodes(ctx, 'constraintExpr')[0], env);
    const span = childrenSpan(ctx, env);
    if (!classes || !perms || !expr || !span || !classSetOperatorsAllowed(classes, env)) return undefined;
    return { kind, classes, perms, expr, span };
  }

  validateTrans(ctx: Children, env: BuildEnv): A.ValidateTrans | undefined {
    const kind = tokens(ctx, 'MlsValidateTrans').length > 0 ? 'mlsvalidatetrans' : 'validatetrans';
    const classes = this.sub<A.NameSet>(nodes(ctx, 'classes')[0], env);
    const expr = this.sub<A.ConstraintExpr>(nodes(ctx, 'constraintExpr')[0], env);
    const span = childrenSpan(ctx, env);
    if (!classes || !expr || !span || !classSetOperatorsAllowed(classes, env)) return undefined;
    return { kind, classes, expr, span };
  }

  constraintExpr(ctx: Children, env: BuildEnv): A.ConstraintExpr | undefined {
    const operands = nodes(ctx, 'constraintAnd').map((node) => this.sub<A.ConstraintExpr>(node, env));
    return foldLeft<A.ConstraintExpr>(operands, (left, right, span) => ({ op: 'or', left, right, span }));
  }

  constraintAnd(ctx: Children, env: BuildEnv): A.ConstraintExpr | undefined {
    const operands = nodes(ctx, 'constraintNot').map((node) => this.sub<A.ConstraintExpr>(node, env));
    return foldLeft<A.ConstraintExpr>(operands, (left, right, span) => ({ op: 'and', left, right, span }));
  }

  constraintNot(ctx: Children, env: BuildEnv): A.ConstraintExpr | undefined {
    const inner = nodes(ctx, 'constraintNot')[0];
    if (!inner) return this.sub<A.ConstraintExpr>(nodes(ctx, 'constraintPrimary')[0], env);
    const operand = this.sub<A.ConstraintExpr>(inner, env);
    const span = childrenSpan(ctx, env);
    return operand && span && { op: 'not', operand, span };
  }

  constraintPrimary(ctx: Children, env: BuildEnv): A.ConstraintExpr | undefined {
    for (const key in ctx) {
      if (key === 'LParen' || key === 'RParen') continue;
      return this.sub<A.ConstraintExpr>(nodes(ctx, key)[0], env);
    }
    return undefined;
  }

  userComparison(ctx: Children, env: BuildEnv): Comparison | undefined {
    return this.comparison(ctx, env);
  }

  roleComparison(ctx: Children, env: BuildEnv): Comparison | undefined {
    return this.comparison(ctx, env);
  }

  typeComparison(ctx: Children, env: BuildEnv): Comparison | undefined {
    return this.comparison(ctx, env);
  }

  /** `left op right` with labelled tokens; the right side is a keyword or a name set. */
  private comparison(ctx: Children, env: BuildEnv): Comparison | undefined {
    const left = tokens(ctx, 'left')[0];
    const op = tokens(ctx, 'op')[0];
    const namesNode = nodes(ctx, 'constraintNames')[0];
    const rightToken = tokens(ctx, 'right')[0];
    const right = namesNode ? this.sub<A.NameSet>(namesNode, env) : isReal(rightToken) ? rightToken.image.toLowerCase() : undefined;
    const span = childrenSpan(ctx, env);
    if (!isReal(left) || !isReal(op) || right === undefined || !span) return undefined;
    return { op: comparisonOperator(op), left: left.image.toLowerCase(), right, span };
  }

  levelComparison(ctx: Children, env: BuildEnv): Comparison | undefined {
    const left = tokens(ctx, 'left')[0];
    const op = this.sub<Comparison['op']>(nodes(ctx, 'levelOperator')[0], env);
    const right = tokens(ctx, 'right')[0];
    const span = childrenSpan(ctx, env);
    if (!isReal(left) || !op || !isReal(right) || !span) return undefined;
    return { op, left: left.image.toLowerCase(), right: right.image.toLowerCase(), span };
  }

  levelOperator(ctx: Children): Comparison['op'] | undefined {
    const token = tokens(ctx, 'EqualityOp')[0] ?? tokens(ctx, 'DominanceOp')[0];
    return isReal(token) ? comparisonOperator(token) : undefined;
  }

  /** The old spellings, in the AST's terms: `sameuser` is `u1 == u2`, `target type x` is `t2 == x`. */
  legacyComparison(ctx: Children, env: BuildEnv): Comparison | undefined {
    const span = childrenSpan(ctx, env);
    if (!span) return undefined;
    if (tokens(ctx, 'SameUser').length > 0) return { op: '==', left: 'u1', right: 'u2', span };
    const operator = nodes(ctx, 'levelOperator')[0];
    if (operator) {
      const op = this.sub<Comparison['op']>(operator, env);
      return op && { op, left: 'r1', right: 'r2', span };
    }
    const side = tokens(ctx, 'Target').length > 0 ? '2' : '1';
    const attribute = tokens(ctx, 'Type').length > 0 ? 't' : 'r';
    const right = this.sub<A.NameSet>(nodes(ctx, 'constraintNames')[0], env);
    return right && { op: '==', left: attribute + side, right, span };
  }

  constraintNames(ctx: Children, env: BuildEnv): A.NameSet | undefined {
    const span = childrenSpan(ctx, env);
    if (!span) return undefined;
    const star = tokens(ctx, 'Star').length > 0;
    const complement = tokens(ctx, 'Tilde').length > 0;
    const list = nodes(ctx, 'identifierList')[0];
    const names = star ? [] : list ? this.sub<A.Name[]>(list, env) : namesOf(tokens(ctx, 'Identifier'), env);
    return names && A.PackedNameSet.of(star, complement, names.map((n) => ({ ...n, excluded: false })), span.file, span.start, span.end);
  }

  // ------------------------------------------------------------ conditionals

  conditional(ctx: Children, env: BuildEnv): A.Conditional | undefined {
    const condition = this.sub<A.BoolExpr>(nodes(ctx, 'boolExpr')[0], env);
    const span = childrenSpan(ctx, env);
    if (!condition || !span) return undefined;
    return { kind: 'if', condition, then: this.ifBody(nodes(ctx, 'then'), env), else: this.ifBody(nodes(ctx, 'else'), env), span };
  }

  /** The rules of one branch; anything else is reported (VP3005) and left out. */
  private ifBody(statements: readonly CstNode[], env: BuildEnv): RuleInIf[] {
    const out: RuleInIf[] = [];
    let previous: CstNode | undefined;
    for (const node of statements) {
      const empty = nodes(node.children, 'emptyStatement')[0];
      const afterError = previous !== undefined && recovered(previous);
      previous = node;
      if (empty) {
        // Recovery stops a broken statement before its `;`, which then reads as an empty
        // statement: the error already reported covers it.
        const span = childrenSpan(empty.children, env);
        if (span && !afterError) env.diagnostics.push(diagnostic('PolicyNotInConditional', ['an empty statement (";")'], span));
        continue;
      }
      const statement = this.statementOf(node, env);
      if (statement?.kind === 'type_transition' && statement.objectName !== undefined) {
        // checkpolicy: "type transitions with a filename not allowed inside conditionals".
        env.diagnostics.push(diagnostic('PolicyNotInConditional', ['a type_transition with an object name'], statement.span));
      } else if (statement && IF_BODY_KINDS.has(statement.kind)) {
        out.push(statement as RuleInIf);
      } else if (statement) {
        env.diagnostics.push(diagnostic('PolicyNotInConditional', [STATEMENT_DESCRIPTIONS[statement.kind]], statement.span));
      }
    }
    return out;
  }

  boolExpr(ctx: Children, env: BuildEnv): A.BoolExpr | undefined {
    const operands = nodes(ctx, 'boolXor').map((node) => this.sub<A.BoolExpr>(node, env));
    return foldLeft<A.BoolExpr>(operands, (left, right, span) => ({ op: '||', left, right, span }));
  }

  boolXor(ctx: Children, env: BuildEnv): A.BoolExpr | undefined {
    const operands = nodes(ctx, 'boolAnd').map((node) => this.sub<A.BoolExpr>(node, env));
    return foldLeft<A.BoolExpr>(operands, (left, right, span) => ({ op: '^', left, right, span }));
  }

  boolAnd(ctx: Children, env: BuildEnv): A.BoolExpr | undefined {
    const operands = nodes(ctx, 'boolNot').map((node) => this.sub<A.BoolExpr>(node, env));
    return foldLeft<A.BoolExpr>(operands, (left, right, span) => ({ op: '&&', left, right, span }));
  }

  boolNot(ctx: Children, env: BuildEnv): A.BoolExpr | undefined {
    return this.negation(ctx, env) ?? this.sub<A.BoolExpr>(nodes(ctx, 'boolEquality')[0], env);
  }

  boolOperand(ctx: Children, env: BuildEnv): A.BoolExpr | undefined {
    return this.negation(ctx, env) ?? this.sub<A.BoolExpr>(nodes(ctx, 'boolPrimary')[0], env);
  }

  /** `! operand`, when the rule took that alternative. */
  private negation(ctx: Children, env: BuildEnv): A.BoolExpr | undefined {
    const inner = nodes(ctx, 'boolNot')[0];
    const operand = inner && this.sub<A.BoolExpr>(inner, env);
    const span = childrenSpan(ctx, env);
    return operand && span && { op: 'not', operand, span };
  }

  boolEquality(ctx: Children, env: BuildEnv): A.BoolExpr | undefined {
    const operators = tokens(ctx, 'EqualityOp');
    const operands = [
      this.sub<A.BoolExpr>(nodes(ctx, 'boolPrimary')[0], env),
      ...nodes(ctx, 'boolOperand').map((node) => this.sub<A.BoolExpr>(node, env)),
    ];
    let i = 0;
    return foldLeft<A.BoolExpr>(operands, (left, right, span) => {
      const operator = operators[i++];
      return { op: operator ? boolEqualityOperator(operator) : '==', left, right, span };
    });
  }

  boolPrimary(ctx: Children, env: BuildEnv): A.BoolExpr | undefined {
    const inner = nodes(ctx, 'boolExpr')[0];
    if (inner) return this.sub<A.BoolExpr>(inner, env);
    const name = nameOf(tokens(ctx, 'Identifier')[0], env);
    return name && { op: 'var', name, span: name.span };
  }

  // ------------------------------------------------------------ labelling

  context(ctx: Children, env: BuildEnv): A.Context | undefined {
    const user = nameOf(tokens(ctx, 'user')[0], env);
    const role = nameOf(tokens(ctx, 'role')[0], env);
    const type = nameOf(tokens(ctx, 'type')[0], env);
    const span = childrenSpan(ctx, env);
    if (!user || !role || !type || !span) return undefined;
    const rangeNode = nodes(ctx, 'mlsRange')[0];
    if (!rangeNode) return { user, role, type, span };
    const range = this.sub<string>(rangeNode, env);
    return range !== undefined ? { user, role, type, range, span } : undefined;
  }

  pirqCon(ctx: Children, env: BuildEnv): A.XenObjectContext | undefined {
    return this.deviceContext('pirqcon', tokens(ctx, 'NumberLiteral')[0], undefined, ctx, env);
  }

  ioRangeCon(ctx: Children, env: BuildEnv): A.XenObjectContext | undefined {
    const kind = tokens(ctx, 'IoportCon').length > 0 ? 'ioportcon' : 'iomemcon';
    const high = tokens(ctx, 'high')[0];
    if (tokens(ctx, 'Minus').length > 0 && !isReal(high)) return undefined;
    return this.deviceContext(kind, tokens(ctx, 'low')[0], high, ctx, env);
  }

  pciDeviceCon(ctx: Children, env: BuildEnv): A.XenObjectContext | undefined {
    return this.deviceContext('pcidevicecon', tokens(ctx, 'NumberLiteral')[0], undefined, ctx, env);
  }

  private deviceContext(kind: A.XenObjectContext['kind'], low: IToken | undefined, high: IToken | undefined, ctx: Children, env: BuildEnv): A.XenObjectContext | undefined {
    const context = this.sub<A.Context>(nodes(ctx, 'context')[0], env);
    const span = childrenSpan(ctx, env);
    if (!isReal(low) || !context || !span) return undefined;
    return { kind, low: low.image, ...(isReal(high) ? { high: high.image } : {}), context, span };
  }

  deviceTreeCon(ctx: Children, env: BuildEnv): A.XenObjectContext | undefined {
    const bare = tokens(ctx, 'Path')[0];
    const quoted = tokens(ctx, 'QuotedString')[0];
    const context = this.sub<A.Context>(nodes(ctx, 'context')[0], env);
    const span = childrenSpan(ctx, env);
    const path = isReal(bare) ? bare.image : isReal(quoted) ? unquote(quoted) : undefined;
    if (path === undefined || !context || !span) return undefined;
    if (!path.startsWith('/')) {
      report(env, tokenSpan((bare ?? quoted) as IToken, env), 'a devicetreecon path is absolute: it starts with "/"');
      return undefined;
    }
    return { kind: 'devicetreecon', path, context, span };
  }

  // ------------------------------------------------------------ the rest

  /** Reported here, once per statement; the statement itself has no AST node. */
  unsupportedStatement(ctx: Children, env: BuildEnv): undefined {
    const keyword = tokens(ctx, 'UnsupportedKeyword')[0];
    if (!isReal(keyword)) return undefined;
    const word = keyword.image.toLowerCase();
    if (XEN_FOREIGN_STATEMENTS.has(word)) {
      report(env, tokenSpan(keyword, env), `"${word}" belongs to SELinux policies: checkpolicy -t Xen rejects it`, 'Xen labels devices with pirqcon, iomemcon, ioportcon, pcidevicecon and devicetreecon');
    } else {
      report(env, tokenSpan(keyword, env), `"${word}" statements are not supported by vmipolicy`, MODULE_ONLY.has(word)
        ? 'module, require and optional belong to checkmodule\'s modules, not to a policy.conf'
        : 'vmipolicy cannot analyse a policy that uses them; remove the statement to analyse the rest');
    }
    return undefined;
  }

  skippedBlock(): undefined {
    return undefined;
  }

  emptyStatement(): undefined {
    return undefined;
  }
}

let builder: AstBuilder | undefined;

function theBuilder(): AstBuilder {
  if (!builder) {
    const made = new AstBuilder();
    validateVisitor(made);
    builder = made;
  }
  return builder;
}

/** The `;` of an empty statement (which has no AST node), if the node is one. */
export function emptyStatement(statement: CstNode): IToken | undefined {
  const empty = nodes(statement.children, 'emptyStatement')[0];
  const semicolon = empty && tokens(empty.children, 'Semicolon')[0];
  return isReal(semicolon) ? semicolon : undefined;
}

/** The AST of one top-level statement (undefined if it has none), reporting into `env`. */
export function buildStatement(statement: CstNode, env: BuildEnv): A.Statement | undefined {
  return theBuilder().statementOf(statement, env);
}
