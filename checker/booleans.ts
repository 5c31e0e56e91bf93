// When is a permission granted? A policy is proven only if it holds in every boolean state,
// so each question is answered over all assignments of the booleans the relevant rules'
// guards mention — usually one or two, never the whole policy's booleans at once.

import type { BoolExpr } from '../grammar/ast.js';
import type { Guard, PolicyModel } from './model/model.js';
import { guardHolds } from './model/query.js';

export type Assignment = Readonly<Record<string, boolean>>;

export interface Availability {
  /** Granted in every boolean state. */
  readonly always: boolean;
  /** Granted in no boolean state (every granting rule's guard is unsatisfiable). */
  readonly never: boolean;
  /** A state in which it is granted (only the booleans that matter), when one exists and it is not unconditional. */
  readonly grantedWhen?: Assignment;
  /** A state in which it is not granted, when one exists. */
  readonly deniedWhen?: Assignment;
}

/** Beyond this many distinct booleans in one question the search stops at the declared defaults. */
const MAX_VARIABLES = 16;

function variables(expr: BoolExpr, out: Set<string>): void {
  if (expr.op === 'var') out.add(expr.name.name);
  else if (expr.op === 'not') variables(expr.operand, out);
  else {
    variables(expr.left, out);
    variables(expr.right, out);
  }
}

/** Availability of something granted by any one of these guards (undefined = an unconditional rule). */
export function availability(model: PolicyModel, guards: readonly (Guard | undefined)[]): Availability {
  if (guards.length === 0) return { always: false, never: true };
  if (guards.some((g) => g === undefined)) return { always: true, never: false };
  const names = new Set<string>();
  for (const g of guards) variables((g as Guard).expr, names);
  const vars = [...names].sort();
  const states = vars.length <= MAX_VARIABLES ? enumerate(vars) : [Object.fromEntries(vars.map((v) => [v, model.booleans.get(v) ?? false]))];
  let grantedWhen: Assignment | undefined;
  let deniedWhen: Assignment | undefined;
  for (const state of states) {
    const map = new Map(Object.entries(state));
    const granted = guards.some((g) => guardHolds(g, map));
    if (granted) grantedWhen ??= state;
    else deniedWhen ??= state;
    if (grantedWhen && deniedWhen) break;
  }
  return {
    always: deniedWhen === undefined,
    never: grantedWhen === undefined,
    ...(grantedWhen ? { grantedWhen } : {}),
    ...(deniedWhen ? { deniedWhen } : {}),
  };
}

function* enumerate(vars: readonly string[]): Generator<Assignment> {
  for (let bits = 0; bits < 1 << vars.length; bits++) {
    yield Object.fromEntries(vars.map((v, i) => [v, ((bits >> i) & 1) === 1]));
  }
}
