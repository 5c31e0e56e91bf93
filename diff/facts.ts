// A side of a policy diff reduced to what the diff reads: names, memberships, booleans,
// roles, constraints as written, and the rules translated into the shared universe. Once
// extracted, the side's parse tree and model can be dropped — only one whole policy needs
// to be in memory at a time (a 10 000-type host policy's AST is hundreds of MiB).

import type { PolicyAst, Statement } from '../policy/grammar/ast.js';
import { printStatement } from '../policy/grammar/printer.js';
import type { PolicyModel } from '../policy/model/model.js';
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
  /** Resource labels and initial SID contexts (labels.ts). */
  readonly labels: readonly LabelStatement[];
  /** Statements the decision or labelling reads beyond rules and constraints (see PolicyDelta.statements). */
  readonly otherStatements: readonly StatementChange[];
}

/** `sid NAME CONTEXT` or a Xen object context, reduced to what labels what. */
export interface LabelStatement {
  readonly kind: 'sid' | 'pirqcon' | 'iomemcon' | 'ioportcon' | 'pcidevicecon' | 'devicetreecon';
  /** The SID name or the device-tree path. */
  readonly name?: string;
  readonly low?: bigint;
  readonly high?: bigint;
  readonly type: string;
  readonly written: StatementChange;
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
    labels: labelsOf(p),
    otherStatements: printedOf(p, OTHER_KINDS),
  };
}

/** What the decision or labelling reads beyond TE rules and constraints (facts of the model are diffed elsewhere). */
const OTHER_KINDS: ReadonlySet<Statement['kind']> = new Set(['typebounds', 'role-allow', 'user', 'typealias', 'roleattribute', 'attribute_role', 'role_transition', 'permissive']);

function written(p: PolicyInput, s: Statement): StatementChange {
  const at = p.locate ? p.locate(s.span.start) : { file: p.ast?.file ?? '?', line: 0, column: 0 };
  return { text: printStatement(s).join(' ').replace(/\s+/g, ' '), at: { file: at.file, line: at.line, column: at.column } };
}

function printedOf(p: PolicyInput, kinds: ReadonlySet<Statement['kind']>): StatementChange[] {
  return p.ast ? p.ast.statements.filter((s) => kinds.has(s.kind)).map((s) => written(p, s)) : [];
}

/** Numbers as checkpolicy reads them: decimal, or hex with 0x (strtoull base 0 would take octal too; Xen's policies write neither). */
function number(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  try {
    return BigInt(text);
  } catch {
    return undefined;
  }
}

function labelsOf(p: PolicyInput): LabelStatement[] {
  const out: LabelStatement[] = [];
  for (const s of p.ast?.statements ?? []) {
    if (s.kind === 'sid-context') out.push({ kind: 'sid', name: s.name.name, type: s.context.type.name, written: written(p, s) });
    else if (s.kind === 'devicetreecon') out.push({ kind: s.kind, ...(s.path !== undefined ? { name: s.path } : {}), type: s.context.type.name, written: written(p, s) });
    else if (s.kind === 'pirqcon' || s.kind === 'iomemcon' || s.kind === 'ioportcon' || s.kind === 'pcidevicecon') {
      const low = number(s.low);
      const high = s.high !== undefined ? number(s.high) : low;
      if (low !== undefined && high !== undefined) out.push({ kind: s.kind, low, high, type: s.context.type.name, written: written(p, s) });
    }
  }
  return out;
}

function constraintsOf(p: PolicyInput): StatementChange[] {
  return printedOf(p, new Set(['constrain', 'mlsconstrain', 'validatetrans', 'mlsvalidatetrans']));
}
