// A side of a policy diff reduced to what the diff reads: names, memberships, booleans,
// roles, constraints as written, and the rules translated into the shared universe. Once
// extracted, the side's parse tree and model can be dropped — only one whole policy needs
// to be in memory at a time (a 10 000-type host policy's AST is hundreds of MiB).

import type { PolicyAst } from '../../grammar/ast.js';
import { printStatement } from '../../grammar/printer.js';
import type { PolicyModel } from '../model/model.js';
import { translateRules, type SetInterner, type Side, type Universe, type URule } from './align.js';
import { translateTypeRules, type UTypeRule } from './transitions.js';
import type { StatementChange } from './types.js';

export interface PolicyInput {
  readonly model: PolicyModel;
  /** The parsed text: spans of rules point into it. */
  readonly text: string;
  readonly ast?: PolicyAst;
  readonly locate?: (offset: number) => { file: string; line: number; column: number };
}

export interface PolicyFacts {
  readonly types: readonly string[];
  readonly attributes: readonly string[];
  /** type → its attributes */
  readonly typeAttributes: ReadonlyMap<string, readonly string[]>;
  readonly booleans: ReadonlyMap<string, boolean>;
  /** role → its authorised types */
  readonly roles: ReadonlyMap<string, readonly string[]>;
  readonly constraints: readonly StatementChange[];
  readonly rules: readonly URule[];
  readonly typeRules: readonly UTypeRule[];
  readonly conditionalRules: boolean;
  readonly conditionalTypeRules: boolean;
  readonly constraintCount: number;
}

export function extractFacts(p: PolicyInput, side: Side, universe: Universe, interner: SetInterner): PolicyFacts {
  const m = p.model;
  return {
    types: [...m.types],
    attributes: [...m.attributes],
    typeAttributes: new Map(m.types.map((t, i) => [t, (m.typeAttributes[i] ?? []).map((a) => m.attributes[a] as string)])),
    booleans: new Map(m.booleans),
    roles: new Map([...m.roles].map(([r, set]) => [r, [...set].map((t) => m.types[t] as string)])),
    constraints: constraintsOf(p),
    rules: translateRules(m, p.text, side, universe, interner),
    typeRules: translateTypeRules(m, p.text, universe, interner),
    conditionalRules: m.avRules.some((r) => r.guard !== undefined),
    conditionalTypeRules: m.typeRules.some((r) => r.guard !== undefined),
    constraintCount: m.constraints.length,
  };
}

function constraintsOf(p: PolicyInput): StatementChange[] {
  if (!p.ast) return [];
  return p.ast.statements
    .filter((s) => s.kind === 'constrain' || s.kind === 'mlsconstrain' || s.kind === 'validatetrans' || s.kind === 'mlsvalidatetrans')
    .map((s) => {
      const at = p.locate ? p.locate(s.span.start) : { file: p.ast?.file ?? '?', line: 0, column: 0 };
      return { text: printStatement(s).join(' ').replace(/\s+/g, ' '), at: { file: at.file, line: at.line, column: at.column } };
    });
}
