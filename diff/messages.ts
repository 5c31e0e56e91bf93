// The catalog of the sentences the diff says in its own voice, beside the checker's
// (checker/messages.ts, whose sentences the diff's analysis items carry as they are): a hop of
// a witness path and the notes on what a diff did not compare. The report holds an id and its
// arguments; text, markdown, SARIF, HTML and JSON write the prose when they render
// (`renderDiffText`, filled by the checker catalog's `fillTemplate`, so a place or a nested
// finding sentence is written one way everywhere). Ids are stable for tests and library
// users; wording may change.

import { atLine, fillTemplate, type FindingArg, type PlaceWriter } from '../checker/messages.js';

export const DiffMessages = {
  /** A hop of a witness path: from —via→ to. */
  WitnessStep: '{0} —{1}→ {2}',
  // notes: what the diff counted, and how
  NoteTransitions: "a changed type_transition changes the type Xen gives a new domain's _self, a device model target or an event channel: counted as new access",
  NoteBounds: 'typebounds dropped or moved for {0}: what the bound masked is no longer masked; counted as new access',
  NotePermissive: 'a permissive type is allowed every permission it is denied (AVD_FLAGS_PERMISSIVE): its pairs are not listed one by one',
  NoteConstraintsSkipped: 'constraints are not evaluated ({0} in OLD, {1} in NEW): permissions are type enforcement; changed constraints are listed',
  NoteConditionalRules: 'a permission a conditional rule grants counts as granted in the boolean states that enable it; changes show the old and new conditions',
  NoteConditionalTransitions: 'conditional type_transition rules are evaluated with the booleans at their declared defaults',
  NoteConstraintsOneContext: 'constraints are evaluated with every type in the context {0}',
  NoteConstraintsXenContexts: "constraints are evaluated with domains as system_u:system_r:TYPE (the label vmipolicy's xl snippets give) and other types as system_u:object_r:TYPE; --constraints-as USER:ROLE puts every type in one context",
  NoteStandalone: 'a spec facing a policy is compiled standalone: the complete policy vmipolicy would emit',
} as const satisfies Record<string, string>;

export type DiffMessageId = keyof typeof DiffMessages;

/** A sentence of the diff's catalog with its arguments. */
export interface DiffText {
  readonly id: DiffMessageId;
  readonly args: readonly FindingArg[];
}

export function diffText(id: DiffMessageId, args: readonly FindingArg[] = []): DiffText {
  return { id, args };
}

/** The prose of `t`, each place written by `place`. */
export function renderDiffText(t: DiffText, place: PlaceWriter = atLine): string {
  return fillTemplate(DiffMessages[t.id], t.args, place);
}
