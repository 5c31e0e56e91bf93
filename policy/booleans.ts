// When is a permission granted? A policy is proven only if it holds in every boolean state,
// so each question — is something granted by any one of these rules? — is answered exactly,
// for any number of booleans, on the decision diagram of the disjunction of the rules'
// guards (policy/bdd.ts): granted always iff it is TRUE, never iff it is FALSE, and a
// state either way is one path of the diagram or of its negation.

import type { Guard, PolicyModel } from './model/model.js';
import { Bdd, FALSE, TRUE, type BddNode } from './bdd.js';

export type Assignment = Readonly<Record<string, boolean>>;

interface Availability {
  /** Granted in every boolean state. */
  readonly always: boolean;
  /** Granted in no boolean state (every granting rule's guard is unsatisfiable). */
  readonly never: boolean;
  /** A state in which it is granted (only the booleans that matter), when one exists and it is not unconditional. */
  readonly grantedWhen?: Assignment;
  /** A state in which it is not granted (only the booleans that matter), when one exists. */
  readonly deniedWhen?: Assignment;
}

interface GuardDiagrams {
  readonly bdd: Bdd;
  /** Each guard's diagram, built once: the `else` branch of an `if` is its negation. */
  readonly byGuard: WeakMap<Guard, BddNode>;
}

/** One manager per model, so a guard shared by many questions is built once. */
const diagrams = new WeakMap<PolicyModel, GuardDiagrams>();

function diagramsOf(model: PolicyModel): GuardDiagrams {
  let d = diagrams.get(model);
  if (!d) diagrams.set(model, (d = { bdd: new Bdd(), byGuard: new WeakMap() }));
  return d;
}

function guardNode(d: GuardDiagrams, guard: Guard): BddNode {
  let n = d.byGuard.get(guard);
  if (n === undefined) {
    const expr = d.bdd.fromExpr(guard.expr);
    n = guard.branch ? expr : d.bdd.not(expr);
    d.byGuard.set(guard, n);
  }
  return n;
}

/** Availability of something granted by any one of these guards (undefined = an unconditional rule). */
export function availability(model: PolicyModel, guards: readonly (Guard | undefined)[]): Availability {
  if (guards.length === 0) return { always: false, never: true, deniedWhen: {} };
  if (guards.some((g) => g === undefined)) return { always: true, never: false };
  const d = diagramsOf(model);
  let granted: BddNode = FALSE;
  for (const g of guards as readonly Guard[]) {
    granted = d.bdd.or(granted, guardNode(d, g));
    if (granted === TRUE) break;
  }
  if (granted === TRUE) return { always: true, never: false };
  if (granted === FALSE) return { always: false, never: true, deniedWhen: {} };
  return { always: false, never: false, grantedWhen: d.bdd.satisfying(granted) as Assignment, deniedWhen: d.bdd.satisfying(d.bdd.not(granted)) as Assignment };
}
