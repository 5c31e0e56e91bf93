// The PolicyModel: a whole Xen FLASK policy as data the checker, the diff and the simulated
// security server query. Names are interned to indices; type sets and permission sets are
// bitsets; every rule keeps the statement and source position that wrote it. Rules stay
// symbolic (source set × target set): expansion happens per query, never up front.

import type { AvRule, AvRuleKind, BoolExpr, ConstraintExpr, RoleTransition, TypeRule, TypeRuleKind } from '../grammar/ast.js';
import type { BitSet, IndexSet } from './bitset.js';

/** Where a statement was written: the original file and line, through m4's #line markers. */
export interface Provenance {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface ClassInfo {
  readonly name: string;
  readonly index: number;
  /** Permissions in bit order (common first, then the class's own, as checkpolicy numbers them). */
  readonly perms: readonly string[];
  readonly permIndex: ReadonlyMap<string, number>;
}

export interface Guard {
  readonly expr: BoolExpr;
  /** true: the rule is in the `if` branch; false: in the `else` branch. */
  readonly branch: boolean;
}

export interface ModelAvRule {
  readonly kind: AvRuleKind;
  readonly sources: IndexSet;
  readonly targets: IndexSet;
  /** The target set named `self`: the rule also applies from each source to itself. */
  readonly self: boolean;
  /** class index → permission bitset */
  readonly perms: ReadonlyMap<number, BitSet>;
  readonly guard?: Guard;
  readonly statement: AvRule;
  readonly at: Provenance;
}

export interface ModelTypeRule {
  readonly kind: TypeRuleKind;
  readonly sources: IndexSet;
  readonly targets: IndexSet;
  readonly self: boolean;
  readonly classes: readonly number[];
  readonly result: number;
  readonly objectName?: string;
  readonly guard?: Guard;
  readonly statement: TypeRule;
  readonly at: Provenance;
}

export interface ModelConstraint {
  readonly kind: 'constrain' | 'mlsconstrain' | 'validatetrans' | 'mlsvalidatetrans';
  readonly classes: readonly number[];
  /** class index → permissions the constraint restricts (empty for validatetrans). */
  readonly perms: ReadonlyMap<number, BitSet>;
  readonly expr: ConstraintExpr;
  readonly at: Provenance;
}

/** `role_transition roles types:classes result;`, kept as data (role attributes expanded). */
export interface ModelRoleTransition {
  /** The roles the rule applies to, role attributes replaced by their member roles. */
  readonly roles: readonly string[];
  readonly types: IndexSet;
  /** Class indices; empty for the legacy form (class `process`, which Xen has not). */
  readonly classes: readonly number[];
  readonly result: string;
  readonly statement: RoleTransition;
  readonly at: Provenance;
}

// Parsed but not in the model (no effect on what the checker asks): expandattribute,
// auditdeny, range_transition and the default_user/role/type/range statements.
export interface PolicyModel {
  readonly classes: readonly ClassInfo[];
  readonly classIndex: ReadonlyMap<string, number>;
  readonly commons: ReadonlyMap<string, readonly string[]>;
  readonly initialSids: readonly string[];
  /** Types (not attributes), by index; aliases resolve through typeIndex. */
  readonly types: readonly string[];
  readonly typeIndex: ReadonlyMap<string, number>;
  readonly aliases: ReadonlyMap<string, number>;
  readonly attributes: readonly string[];
  readonly attributeIndex: ReadonlyMap<string, number>;
  /** attribute index → its member types */
  readonly attributeMembers: readonly BitSet[];
  /** type index → attribute indices */
  readonly typeAttributes: readonly (readonly number[])[];
  readonly booleans: ReadonlyMap<string, boolean>;
  readonly avRules: readonly ModelAvRule[];
  readonly typeRules: readonly ModelTypeRule[];
  /**
   * role → authorised types. Roles only: a role attribute's types (`role ra types t;`)
   * are given to each of its member roles, and the attribute itself is not a key.
   */
  readonly roles: ReadonlyMap<string, IndexSet>;
  /** role attribute (`attribute_role`) → its member roles (`role r, ra;`, `roleattribute r ra;`) */
  readonly roleAttributes: ReadonlyMap<string, ReadonlySet<string>>;
  readonly roleTransitions: readonly ModelRoleTransition[];
  /** Type indices of permissive domains (`permissive t;`). */
  readonly permissive: ReadonlySet<number>;
  /** Where each permissive type was made so: its `permissive` statements, in policy order. */
  readonly permissiveAt: ReadonlyMap<number, readonly Provenance[]>;
  /** `typebounds parent child;`: bounded (child) type index → bounding (parent) type index. */
  readonly typebounds: ReadonlyMap<number, number>;
  /** user → authorised roles */
  readonly users: ReadonlyMap<string, ReadonlySet<string>>;
  readonly constraints: readonly ModelConstraint[];
  /** Initial SID → its context's type, as `sid NAME user:role:type` says. */
  readonly sidTypes: ReadonlyMap<string, string>;
}

/** A rule as an access decision reads it: all but the statement it was written as. */
export type DecisionAvRule = Omit<ModelAvRule, 'statement'>;
export type DecisionTypeRule = Omit<ModelTypeRule, 'statement'>;
type DecisionRoleTransition = Omit<ModelRoleTransition, 'statement'>;

/**
 * What an access decision (policy/model/access.ts) and the simulated security server read of
 * a policy: the model without the statements behind its rules — positions stay, for
 * provenance. Every PolicyModel is one. The simulated host holds this form for a whole
 * self-test: through the statements, the model would keep the parse tree of the policy alive
 * with it, and on a host of 10 000 domains that tree is as large as the rest of the model.
 */
export interface DecisionModel extends Omit<PolicyModel, 'avRules' | 'typeRules' | 'roleTransitions'> {
  readonly avRules: readonly DecisionAvRule[];
  readonly typeRules: readonly DecisionTypeRule[];
  readonly roleTransitions: readonly DecisionRoleTransition[];
}

const withoutStatement = <R extends { readonly statement: unknown }>({ statement: _statement, ...rule }: R): Omit<R, 'statement'> => rule;

/** The model as decisions read it, sharing everything but the rules' statements. */
export function decisionModel(model: PolicyModel): DecisionModel {
  return {
    ...model,
    avRules: model.avRules.map(withoutStatement),
    typeRules: model.typeRules.map(withoutStatement),
    roleTransitions: model.roleTransitions.map(withoutStatement),
  };
}
