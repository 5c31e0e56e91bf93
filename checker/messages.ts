// One catalog of every sentence a finding says, as core/diagnostics.ts is for diagnostics:
// a finding carries a message id and its arguments — names, counts, and places as Location
// data — and a renderer (report/check/*, report/html/*, report/diff/*) turns them into prose
// (fillTemplate, which the diff's own catalog diff/messages.ts shares). So no `file:line` is
// written before the renderer knows where the file is: a place in compiled output never
// written can be shown at its spec line instead (report/check/text.ts).
// Ids are stable for tests and for readers of the JSON; wording may change.

import type { Location, RuleId } from './findings.js';

/** A sentence of the catalog with its arguments; a fragment (a reason, a place) may be one too. */
export interface FindingText {
  readonly id: FindingMessageId;
  readonly args: readonly FindingArg[];
}

/**
 * An argument: text and counts as they are; a Location, written as the renderer places it;
 * several Locations, comma-separated; a nested sentence; undefined, a place unknown ('?').
 */
export type FindingArg = string | number | Location | readonly Location[] | FindingText | undefined;

interface FindingTemplate {
  /** The proof rule whose findings say it. */
  readonly rule: RuleId;
  /** `{0}`, `{1}`… are replaced by the arguments, in order. */
  readonly text: string;
}

function template(rule: RuleId, text: string): FindingTemplate {
  return { rule, text };
}

const GRANT_OR_DECLARE = 'or declare the capability that needs it (vmipolicy capabilities lists what each grants)';

export const FindingMessages = {
  // excess
  Excess: template('excess', '{0} holds {1}:{ {2} } on {3}, which no declared capability needs'),
  ExcessHarmless: template('excess', "harmless: it gives no power over another domain (Xen's example policy gives every guest as much); granted at {0}"),
  ExcessRemove: template('excess', `remove it from {0}, ${GRANT_OR_DECLARE}`),
  ExcessRemoveEverywhere: template('excess', `remove it from every rule that grants it ({0}), ${GRANT_OR_DECLARE}`),
  // insufficient: the finding, then each reason a permission is missing, then what to do
  Insufficient: template('insufficient', '{0} lacks {1}:{ {2} } on {3}, which {4} needs: {5}'),
  InsufficientTargetType: template('insufficient', 'the policy has no type {0} (the type of target "{1}"): xl cannot start the domain with that label'),
  MissingType: template('insufficient', 'the policy has no type {0}'),
  MissingIntrospectorType: template('insufficient', 'the policy has no type {0} (the type of introspector "{1}")'),
  MissingPermission: template('insufficient', 'the policy has no permission {0}:{1}'),
  MissingRule: template('insufficient', 'no allow rule grants it'),
  MissingConditional: template('insufficient', 'only a conditional rule grants it, and its boolean can be off'),
  MissingConstraint: template('insufficient', 'a constraint denies it ({0}: {1})'),
  InsufficientDeclareType: template('insufficient', "declare {0} in the policy (load the module vmipolicy compile writes), or set the spec's type: to a type the policy has"),
  InsufficientGrant: template('insufficient', 'grant it: allow {0} {1}:{2} { {3} }; (vmipolicy compile writes it for you)'),
  // undeclared-target
  UndeclaredTarget: template('undeclared-target', '{0} ({1} "{2}") can introspect {3}, which it does not declare as a target: {4}:{ {5} }'),
  UndeclaredPseudo: template('undeclared-target', '{0} ({1} "{2}") can access {3} through {4}, the label of {5} (not a guest), which its declaration does not need: {6}:{ {7} }'),
  UndeclaredRemoveOrDeclare: template('undeclared-target', 'remove the rule at {0}, or add the domain to the targets of "{1}"'),
  UndeclaredTargetRemove: template('undeclared-target', 'a target introspects nothing: remove the rule at {0}'),
  UndeclaredPseudoRemove: template('undeclared-target', "remove the rule at {0}: no VMI capability maps {1}'s pages (device passthrough is the host policy's business: use_device_iommu)"),
  // reverse-access
  ReverseHolds: template('reverse-access', '{0} holds {1}:{ {2} } over introspector "{3}" ({4}): a watched guest can act on its watcher'),
  ReverseReaches: template('reverse-access', '{0} can reach introspector "{1}" ({2}) over {3}:{ {4} }; the introspector must treat what arrives as hostile'),
  ReverseRemove: template('reverse-access', 'remove the rule at {0}; if it comes from an attribute, give the introspector a type outside it'),
  // shared-label
  SharedType: template('shared-label', '{0} share the type {1}: every right of one is a right of the others'),
  SharedTypeWithIntrospector: template('shared-label', '{0} share the type {1}: every right of one is a right of the others, so the watched guest holds whatever its introspector holds'),
  SharedTypeOwn: template('shared-label', 'give each domain a type of its own (vmipolicy compile derives one from the name when `type:` is left out)'),
  SpreadingRule: template('shared-label', 'the rule that gives "{0}" {1} rights on its targets also gives them {2}'),
  SpreadingRuleOwnTypes: template('shared-label', "name the introspector's and targets' own types in the rule at {0} instead of attributes"),
  // escalation
  Escalation: template('escalation', '{0} ({1} "{2}") can reach {3} in {4}: {5}{6}'),
  EscalationBreak: template('escalation', "break the chain: remove one hop's rule (the first is at {0})"),
  // cross-target-flow
  Flow: template('cross-target-flow', 'data can flow from {0} to {1} through introspector "{2}": it reads {0} ({3}:{4}) and writes {1} ({5}:{6})'),
  FlowPairs: template('cross-target-flow', 'data can flow from {0} to {1} through introspector "{2}" ({3} pairs, e.g. {4}): it reads them ({5}:{6}) and writes them ({7}:{8})'),
  FlowDeclared: template('cross-target-flow', 'data can flow between the {0} targets of introspector "{1}" ({2}): it reads {3} and writes {4} of them with its declared capabilities'),
  FlowRemove: template('cross-target-flow', 'remove the write ({0}) or the read ({1})'),
  FlowDeclaredPv: template('cross-target-flow', 'declared: the introspector may write what it watches; give each tenant its own introspector to keep them apart'),
  FlowDeclaredHvm: template('cross-target-flow', 'Xen checks map_write for every foreign map by an HVM/PVH introspector; run it as PV to confine it to reading, or give each target its own introspector'),
  // xenstore-acl
  XenstoreForeignOwner: template('xenstore-acl', "domain {0}{1} owns {2}, in domain {3}'s subtree: the owner has full access and can change the ACL (the result of a recursive xenstore-chmod naming it first)"),
  XenstoreGiveBack: template('xenstore-acl', 'give the node back: xenstore-chmod {0} n0 …, never -r with another domain first'),
  XenstoreOpenDefault: template('xenstore-acl', '{0} gives every domain "{1}" by default'),
  XenstoreFirstEntry: template('xenstore-acl', 'make the first entry n<owner>, and list each reader explicitly'),
  XenstoreNotRunning: template('xenstore-acl', 'introspector "{0}" is not running in this xenstore dump (no /local/domain/<id>/name = "{0}"), so its access cannot be checked'),
  XenstoreCannotRead: template('xenstore-acl', 'introspector "{0}" (domain {1}) cannot read {2}, which its lookup by name needs'),
  XenstoreChmod: template('xenstore-acl', 'xenstore-chmod {0} n0 r{1} (vmipolicy compile writes this into xenstore-acl.sh)'),
  XenstoreBeyondLookup: template('xenstore-acl', 'introspector "{0}" (domain {1}) can {2} {3}, beyond what its lookup by {4} needs'),
  XenstoreRemoveEntries: template('xenstore-acl', "remove domain {0}'s entries from {1}"),
  // label
  LabelMissing: template('label', 'the xl config of "{0}" sets no seclabel, so Xen labels it with the domU initial SID ({1}), not {2}'),
  LabelAdd: template('label', 'add seclabel = "system_u:system_r:{0}"'),
  LabelNotContext: template('label', 'seclabel "{0}" of "{1}" is not a user:role:type context'),
  LabelWriteContext: template('label', 'write it as user:role:type, e.g. system_u:system_r:my_t'),
  LabelUnknownType: template('label', 'seclabel of "{0}" names type {1}, which the policy does not declare'),
  LabelDeclareType: template('label', 'declare the type in the policy, or fix the label'),
  LabelObjectRole: template('label', 'role object_r is not authorised for type {0} (seclabel of "{1}"): object_r labels objects, never a running domain'),
  LabelDomainRole: template('label', 'use the role the policy gives domains, e.g. system_r'),
  LabelUnknownRole: template('label', 'seclabel of "{0}" names role {1}, which the policy does not declare'),
  LabelDeclareRole: template('label', 'use system_r, or declare the role'),
  LabelRoleType: template('label', 'role {0} is not authorised for type {1} (seclabel of "{2}")'),
  LabelAddRoleType: template('label', 'add: role {0} types {1};'),
  LabelUnknownUser: template('label', 'seclabel of "{0}" names user {1}, which the policy does not declare'),
  LabelDeclareUser: template('label', 'use system_u, or declare the user'),
  LabelUserRole: template('label', 'user {0} is not authorised for role {1} (seclabel of "{2}")'),
  LabelAddUserRole: template('label', 'add {0} to the roles of user {1}'),
  LabelWrongType: template('label', '"{0}" runs as {1}, but the spec declares it as {2}'),
  LabelSetType: template('label', 'set seclabel = "{0}:{1}:{2}", or fix the spec'),
  // neverallow
  Neverallow: template('neverallow', '{0} allows {1} {2}:{ {3} } on {4}{5}, which the neverallow at {6} forbids'),
  NeverallowRemove: template('neverallow', 'remove those permissions from the allow rule at {0}'),
  // permissive
  PermissiveDomain: template('permissive', '{0} is permissive ({1}): Xen lets every denial of a domain running as {0} through, so {2}'),
  PermissiveDomainRemove: template('permissive', 'remove the statement at {0}; to find what the domain needs, run it once in a test host and read its avc: denied lines'),
  PermissiveIntrospector: template('permissive', 'introspector {0} holds every permission on every domain, declared target or not: no allow rule confines it, so excess, undeclared-target and cross-target-flow, which read the allow rules, prove nothing about it'),
  PermissiveTarget: template('permissive', 'target {0} holds every permission on every domain{1}: no allow rule confines it, so reverse-access and undeclared-target, which read the allow rules, prove nothing about it'),
  PermissiveAny: template('permissive', 'any domain labelled {0} holds every permission on every domain{1}: no allow rule confines it'),
  PermissiveInert: template('permissive', '{0} is permissive ({1}), but no domain can run as it (no role other than object_r holds it, or it is a derived _self/_target type), so Xen never consults it as a source'),
  PermissiveInertRemove: template('permissive', 'remove the statement at {0}: a role given the type later would run unconfined'),
} as const satisfies Record<string, FindingTemplate>;

export type FindingMessageId = keyof typeof FindingMessages;

/** A sentence of the catalog with its arguments (as `diagnostic()` builds one). */
export function findingText(id: FindingMessageId, args: readonly FindingArg[] = []): FindingText {
  return { id, args };
}

/** How a renderer writes a place in prose. */
export type PlaceWriter = (l: Location) => string;

/** A place as the reader opens it: `file:line` (the column is in the provenance lines). */
export const atLine: PlaceWriter = (l) => `${l.file}:${l.line}`;

/** A place without its position: what stays when lines move (SARIF fingerprints, the diff's keys). */
export const fileOnly: PlaceWriter = (l) => l.file;

function isText(arg: FindingArg): arg is FindingText {
  return typeof arg === 'object' && !Array.isArray(arg) && 'id' in (arg as object);
}

/** The prose of `t`, each place written by `place`. */
export function renderFindingText(t: FindingText, place: PlaceWriter = atLine): string {
  return fillTemplate(FindingMessages[t.id].text, t.args, place);
}

/**
 * A catalog template with its `{0}`, `{1}`… replaced by `args`, each place written by `place`:
 * the one way a sentence of any catalog (this one, the diff's diff/messages.ts) becomes prose.
 */
export function fillTemplate(text: string, args: readonly FindingArg[], place: PlaceWriter): string {
  const arg = (a: FindingArg): string => {
    if (a === undefined) return '?';
    if (typeof a === 'string' || typeof a === 'number') return String(a);
    if (Array.isArray(a)) return (a as readonly Location[]).map(place).join(', ');
    return isText(a) ? renderFindingText(a, place) : place(a as Location);
  };
  return text.replace(/\{(\d+)\}/g, (_, i: string) => arg(args[Number(i)]));
}
