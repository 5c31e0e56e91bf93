// The AST of the FLASK/SELinux policy language as `checkpolicy -t Xen` accepts it in a
// policy.conf (and, after m4, in Xen's .te modules). Every node keeps `span`: UTF-16
// offsets into the parsed text. Offsets become file:line:column only at the edge, through
// the LineMap built from m4's `#line` markers (policy/grammar/lines.ts), so a node parsed from
// policy.conf line 781 reports `modules/domU.te:33`.

import type { SourceSpan } from '../../core/diagnostics.js';

export interface Node {
  readonly span: SourceSpan;
}

/** An identifier as written, with its own span (for "did you mean" and precise positions). */
export interface Name extends Node {
  readonly name: string;
}

/**
 * A set expression: `a`, `{ a b -c }`, `~{ a b }`, `*`, `~a`. `self` appears as a name.
 * Elements prefixed with `-` are exclusions.
 */
export interface NameSet extends Node {
  /** `*` */
  readonly star: boolean;
  /** `~`: the complement of the listed names. */
  readonly complement: boolean;
  readonly names: readonly ListedName[];
}

/** A name listed in a set; `-name` is an exclusion. */
export type ListedName = Name & { readonly excluded: boolean };

const STAR = 1;
const COMPLEMENT = 2;

/**
 * A NameSet as the parser keeps it: each listed name and its offset side by side in one
 * array (an exclusion stored as the offset's complement, `~offset`), and the names, spans
 * and positions built only when read. A host policy lists millions of names in its sets;
 * kept as an object and a span each, they were the largest part of a parsed 10 000-domain
 * host. Every read of `names` builds fresh objects: callers walk them once.
 */
export class PackedNameSet implements NameSet {
  /**
   * @param listed name, offset, name, offset, … in source order; or, for the commonest set
   * of all (one name, not excluded, spanning the whole set: `allow a_t b_t:domain pause;`),
   * the name.
   */
  private constructor(private readonly flags: number, private readonly listed: string | readonly (string | number)[], readonly file: string, readonly start: number, readonly end: number) {}

  static of(star: boolean, complement: boolean, names: readonly ListedName[], file: string, start: number, end: number): PackedNameSet {
    const flags = (star ? STAR : 0) | (complement ? COMPLEMENT : 0);
    const only = names.length === 1 ? names[0] : undefined;
    if (only && !only.excluded && only.span.start === start && only.span.end === end) return new PackedNameSet(flags, only.name, file, start, end);
    const listed = new Array<string | number>(names.length * 2);
    names.forEach((n, i) => {
      listed[2 * i] = n.name;
      listed[2 * i + 1] = n.excluded ? ~n.span.start : n.span.start;
    });
    return new PackedNameSet(flags, listed, file, start, end);
  }

  /**
   * A set already in the packed form (policy/grammar/fast.ts builds it as it reads): a lone
   * name spanning the whole set is the name itself, as `of` makes it.
   */
  static packed(listed: string | readonly (string | number)[], file: string, start: number, end: number, star = false, complement = false): PackedNameSet {
    return new PackedNameSet((star ? STAR : 0) | (complement ? COMPLEMENT : 0), listed, file, start, end);
  }

  get star(): boolean {
    return (this.flags & STAR) !== 0;
  }

  get complement(): boolean {
    return (this.flags & COMPLEMENT) !== 0;
  }

  get span(): SourceSpan {
    return { file: this.file, start: this.start, end: this.end };
  }

  /** How many names are listed, without building them. */
  get size(): number {
    return typeof this.listed === 'string' ? 1 : this.listed.length / 2;
  }

  /** The `i`th listed name (0 ≤ i < size), without building its object. */
  nameAt(i: number): string {
    return typeof this.listed === 'string' ? this.listed : (this.listed[2 * i] as string);
  }

  /** Whether the `i`th listed name is an exclusion (`-name`). */
  excludedAt(i: number): boolean {
    return typeof this.listed !== 'string' && (this.listed[2 * i + 1] as number) < 0;
  }

  /** Where the `i`th listed name starts; it ends `nameAt(i).length` later. */
  startAt(i: number): number {
    if (typeof this.listed === 'string') return this.start;
    const at = this.listed[2 * i + 1] as number;
    return at < 0 ? ~at : at;
  }

  get names(): ListedName[] {
    if (typeof this.listed === 'string') return [{ name: this.listed, excluded: false, span: this.span }];
    const out = new Array<ListedName>(this.listed.length / 2);
    for (let i = 0; i < out.length; i++) {
      const name = this.listed[2 * i] as string;
      const at = this.listed[2 * i + 1] as number;
      const start = at < 0 ? ~at : at;
      out[i] = { name, excluded: at < 0, span: { file: this.file, start, end: start + name.length } };
    }
    return out;
  }

  /** The plain shape, for JSON and for comparisons with a literal NameSet. */
  toJSON(): NameSet {
    return { star: this.star, complement: this.complement, names: this.names, span: this.span };
  }
}

/** `set` itself, or — for a NameSet written out as a plain object — its packed form. */
export function packed(set: NameSet): PackedNameSet {
  return set instanceof PackedNameSet ? set : PackedNameSet.of(set.star, set.complement, set.names, set.span.file, set.span.start, set.span.end);
}

/** user:role:type[:range] */
export interface Context extends Node {
  readonly user: Name;
  readonly role: Name;
  readonly type: Name;
  /** MLS level or range exactly as written (e.g. `s0`, `s0 - s15:c0.c255`). */
  readonly range?: string;
}

// ---------------------------------------------------------------- declarations

/** `class xen` in the security_classes section. */
export interface ClassDecl extends Node { readonly kind: 'class-decl'; readonly name: Name }
/** `sid xen` in the initial_sids section. */
export interface SidDecl extends Node { readonly kind: 'sid-decl'; readonly name: Name }
/** `common file { read write }` */
export interface CommonDecl extends Node { readonly kind: 'common'; readonly name: Name; readonly perms: readonly Name[] }
/** `class xen { settime … }` or `class dir inherits file { search }` */
export interface AccessVectorDecl extends Node {
  readonly kind: 'access-vector';
  readonly cls: Name;
  readonly inherits?: Name;
  readonly perms: readonly Name[];
}
export interface PolicyCap extends Node { readonly kind: 'policycap'; readonly name: Name }

/** MLS: `sensitivity s0 alias low;`, `dominance { s0 s1 }`, `category c0;`, `level s0:c0.c255;` */
export interface SensitivityDecl extends Node { readonly kind: 'sensitivity'; readonly name: Name; readonly aliases: readonly Name[] }
export interface DominanceDecl extends Node { readonly kind: 'dominance'; readonly order: readonly Name[] }
export interface CategoryDecl extends Node { readonly kind: 'category'; readonly name: Name; readonly aliases: readonly Name[] }
export interface LevelDecl extends Node { readonly kind: 'level'; readonly level: string }

export interface AttributeDecl extends Node { readonly kind: 'attribute'; readonly name: Name }
/** `type x, attr1, attr2;` or `type x alias { y z }, attr;` */
export interface TypeDecl extends Node {
  readonly kind: 'type';
  readonly name: Name;
  readonly aliases: readonly Name[];
  readonly attributes: readonly Name[];
}
export interface TypeAttributeStmt extends Node { readonly kind: 'typeattribute'; readonly type: Name; readonly attributes: readonly Name[] }
export interface TypeAliasStmt extends Node { readonly kind: 'typealias'; readonly type: Name; readonly aliases: readonly Name[] }
export interface BoolDecl extends Node { readonly kind: 'bool'; readonly name: Name; readonly value: boolean }

// ---------------------------------------------------------------- rules

export type AvRuleKind = 'allow' | 'auditallow' | 'dontaudit' | 'neverallow';
export interface AvRule extends Node {
  readonly kind: AvRuleKind;
  readonly sources: NameSet;
  readonly targets: NameSet;
  readonly classes: NameSet;
  readonly perms: NameSet;
}

export type TypeRuleKind = 'type_transition' | 'type_change' | 'type_member';
export interface TypeRule extends Node {
  readonly kind: TypeRuleKind;
  readonly sources: NameSet;
  readonly targets: NameSet;
  readonly classes: NameSet;
  readonly result: Name;
  /** Named type transitions: `type_transition a b:c d "name";` */
  readonly objectName?: string;
}

/** `role r;`, `role r types { a b };` or `role r, attr1, attr2;` (joins role attributes). */
export interface RoleDecl extends Node {
  readonly kind: 'role';
  readonly name: Name;
  readonly types?: NameSet;
  /** Role attributes the role joins (`role r, attr;`); absent when none are listed. */
  readonly attributes?: readonly Name[];
}
/** `allow r1 r2;` between roles */
export interface RoleAllow extends Node { readonly kind: 'role-allow'; readonly sources: NameSet; readonly targets: NameSet }
/**
 * `role_transition r t:c r2;` or the legacy `role_transition r t r2;` (which checkpolicy
 * applies to class `process`, so a Xen policy, having none, needs the class list).
 */
export interface RoleTransition extends Node {
  readonly kind: 'role_transition';
  readonly roles: NameSet;
  readonly types: NameSet;
  /** `:classes`; absent in the legacy form. */
  readonly classes?: NameSet;
  readonly result: Name;
}
/** `attribute_role ra;`: declares a role attribute. */
export interface RoleAttributeDecl extends Node { readonly kind: 'attribute_role'; readonly name: Name }
/** `roleattribute r ra1, ra2;`: role r joins role attributes ra1 and ra2. */
export interface RoleAttributeStmt extends Node { readonly kind: 'roleattribute'; readonly role: Name; readonly attributes: readonly Name[] }
/** `typebounds parent child1, child2;`: each child type is bounded by the parent type. */
export interface TypeBoundsStmt extends Node { readonly kind: 'typebounds'; readonly bounding: Name; readonly bounded: readonly Name[] }
/** `permissive t;`: denials of domain type t are logged but not enforced. */
export interface PermissiveStmt extends Node { readonly kind: 'permissive'; readonly type: Name }
/**
 * `expandattribute { a b } true;`: whether the compiler expands the attributes into their
 * member types in the binary policy. Parsed and printed only (no effect on access).
 */
export interface ExpandAttributeStmt extends Node { readonly kind: 'expandattribute'; readonly attributes: NameSet; readonly value: boolean }
/**
 * `auditdeny src tgt:classes perms;`: the denials to audit (the inverse of dontaudit;
 * checkpolicy stores it as dontaudit of the complement). Parsed and printed only.
 */
export interface AuditDenyRule extends Node {
  readonly kind: 'auditdeny';
  readonly sources: NameSet;
  readonly targets: NameSet;
  readonly classes: NameSet;
  readonly perms: NameSet;
}
/**
 * MLS: `range_transition src tgt[:classes] range;` (checkpolicy needs -M for it, and the
 * class list in a Xen policy, which has no class `process`). Parsed and printed only.
 */
export interface RangeTransition extends Node {
  readonly kind: 'range_transition';
  readonly sources: NameSet;
  readonly targets: NameSet;
  readonly classes?: NameSet;
  /** The MLS range exactly as written (e.g. `s0 - s0:c0`). */
  readonly range: string;
}
/**
 * `default_user classes source|target;` and likewise default_role and default_type: which
 * context a new object's user/role/type comes from. Parsed and printed only.
 */
export interface DefaultRule extends Node {
  readonly kind: 'default_user' | 'default_role' | 'default_type';
  readonly classes: NameSet;
  readonly object: 'source' | 'target';
}
/**
 * `default_range classes source|target low|high|low-high;` or `default_range classes glblub;`.
 * Parsed and printed only.
 */
export interface DefaultRange extends Node {
  readonly kind: 'default_range';
  readonly classes: NameSet;
  /** Absent for `glblub`. */
  readonly object?: 'source' | 'target';
  readonly range: 'low' | 'high' | 'low-high' | 'glblub';
}
/** `user u roles { r } [level l range r];` */
export interface UserDecl extends Node {
  readonly kind: 'user';
  readonly name: Name;
  readonly roles: NameSet;
  readonly level?: string;
  readonly range?: string;
}

// ---------------------------------------------------------------- constraints and conditionals

/** Constraint expressions: `u1 == u2`, `t1 == domain_type`, `r1 dom r2`, `not (…)`, `… and …`. */
export type ConstraintExpr =
  | { readonly op: 'not'; readonly operand: ConstraintExpr; readonly span: SourceSpan }
  | { readonly op: 'and' | 'or'; readonly left: ConstraintExpr; readonly right: ConstraintExpr; readonly span: SourceSpan }
  | {
      readonly op: '==' | '!=' | 'eq' | 'dom' | 'domby' | 'incomp';
      /** u1 u2 u3 r1 r2 r3 t1 t2 t3 l1 l2 h1 h2 */
      readonly left: string;
      /** Another operand keyword, or a set of names. */
      readonly right: string | NameSet;
      readonly span: SourceSpan;
    };

export interface Constrain extends Node {
  readonly kind: 'constrain' | 'mlsconstrain';
  readonly classes: NameSet;
  readonly perms: NameSet;
  readonly expr: ConstraintExpr;
}
export interface ValidateTrans extends Node { readonly kind: 'validatetrans' | 'mlsvalidatetrans'; readonly classes: NameSet; readonly expr: ConstraintExpr }

/** Boolean expressions of `if` blocks: `a`, `!a`, `a && b`, `a || b`, `a ^ b`, `a == b`, `a != b`. */
export type BoolExpr =
  | { readonly op: 'var'; readonly name: Name; readonly span: SourceSpan }
  | { readonly op: 'not'; readonly operand: BoolExpr; readonly span: SourceSpan }
  | { readonly op: '&&' | '||' | '^' | '==' | '!='; readonly left: BoolExpr; readonly right: BoolExpr; readonly span: SourceSpan };

/** `if (expr) { rules } [else { rules }]`: only AV (including auditdeny) and type rules may appear inside. */
export interface Conditional extends Node {
  readonly kind: 'if';
  readonly condition: BoolExpr;
  readonly then: readonly (AvRule | AuditDenyRule | TypeRule)[];
  readonly else: readonly (AvRule | AuditDenyRule | TypeRule)[];
}

// ---------------------------------------------------------------- labelling

/** `sid xen system_u:system_r:xen_t` */
export interface SidContext extends Node { readonly kind: 'sid-context'; readonly name: Name; readonly context: Context }

/** Xen object contexts: pirqcon, iomemcon, ioportcon, pcidevicecon (a value or a low-high range), devicetreecon (a path). */
export interface XenObjectContext extends Node {
  readonly kind: 'pirqcon' | 'iomemcon' | 'ioportcon' | 'pcidevicecon' | 'devicetreecon';
  /** Numbers as written (decimal or 0x hex); devicetreecon has `path` instead. */
  readonly low?: string;
  readonly high?: string;
  readonly path?: string;
  readonly context: Context;
}

export type Statement =
  | ClassDecl | SidDecl | CommonDecl | AccessVectorDecl | PolicyCap
  | SensitivityDecl | DominanceDecl | CategoryDecl | LevelDecl
  | AttributeDecl | TypeDecl | TypeAttributeStmt | TypeAliasStmt | BoolDecl
  | AvRule | TypeRule | RoleDecl | RoleAllow | RoleTransition | UserDecl
  | RoleAttributeDecl | RoleAttributeStmt | TypeBoundsStmt | PermissiveStmt | ExpandAttributeStmt
  | AuditDenyRule | RangeTransition | DefaultRule | DefaultRange
  | Constrain | ValidateTrans | Conditional
  | SidContext | XenObjectContext;

export interface PolicyAst {
  readonly file: string;
  readonly statements: readonly Statement[];
}
