// The privilege diff as data: what every renderer (text, JSON, markdown, SARIF) and the
// `--fail-on new-access` gate read. Every change keeps the rules (file:line) or spec lines
// that justify it, on the side where the access exists. What the diff says in sentences (an
// analysis finding, a witness hop, a note) is a catalog id with arguments, prose only when
// rendered; the JSON renderer writes it as the prose (report/diff/json.ts).

import type { FindingText } from '../checker/messages.js';
import type { DiffText } from './messages.js';

/** A place in a file: a policy rule (through m4's #line markers) or a spec entry. */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
}

/** One rule (or spec entry) that grants some of the permissions of a change. */
export interface Justification {
  readonly side: 'old' | 'new';
  readonly perms: readonly string[];
  /** The policy rule; for a spec, the line of the generated policy that holds the grant. */
  readonly rule?: Location;
  /** The rule as written (printed from the AST), when there is one. */
  readonly statement?: string;
  /** For compiled specs: the spec line that asked for it, and why. */
  readonly spec?: Location;
  readonly why?: string;
  /** The boolean condition the rule is under ("bb", "!(bb)"); absent when unconditional. */
  readonly condition?: string;
}

/**
 * A boolean condition under which a permission is granted: "always", "never", or the
 * disjunction of the guards of the rules that grant it.
 */
export type ConditionText = string;

/** Effective permissions of one subject over one object in one class that differ. */
export interface AccessChange {
  readonly subject: string;
  readonly object: string;
  readonly cls: string;
  /** Granted by NEW in some boolean state in which OLD does not grant them. */
  readonly added: readonly string[];
  /** Granted by OLD in some boolean state in which NEW does not grant them. */
  readonly removed: readonly string[];
  /** For permissions granted only under booleans on either side: the old and new conditions. */
  readonly conditions: readonly { readonly perm: string; readonly old: ConditionText; readonly new: ConditionText }[];
  readonly rules: readonly Justification[];
  /**
   * Present when the listing is aggregated (more changed pairs than a review can read):
   * how many (subject, object) pairs have exactly this change — subject and object above
   * are the first of them — and a few of them as examples, sorted.
   */
  readonly pairs?: { readonly count: number; readonly examples: readonly { readonly subject: string; readonly object: string }[] };
}

/** The access a type gains on one side, summed: `permissive`, a relabelled object. */
export interface AccessGain {
  readonly subject: string;
  readonly object: string;
  readonly cls: string;
  readonly perms: readonly string[];
}

/** A type that became (added) or stopped being (removed) permissive. */
export interface PermissiveChange {
  readonly type: string;
  readonly at: Location;
  /**
   * For an added one: (object, class) where OLD denied the type some permission — Xen now
   * allows it (AVD_FLAGS_PERMISSIVE); the first few, and how many there are.
   */
  readonly gains: readonly AccessGain[];
  readonly gainCount: number;
}

/** A resource (pirq, iomem/ioport range, PCI device, device-tree path) or initial SID whose label changed. */
export interface ObjectLabelChange {
  readonly kind: 'sid' | 'pirqcon' | 'iomemcon' | 'ioportcon' | 'pcidevicecon' | 'devicetreecon';
  /** e.g. `iomem 0xfe000-0xfefff`, `sid domU`. */
  readonly resource: string;
  /** The type it is labelled with on each side (through the initial SID when no statement labels it). */
  readonly oldType?: string;
  readonly newType?: string;
  /** The statements that label it on each side (absent: the initial SID's context, or nothing). */
  readonly old?: StatementChange;
  readonly new?: StatementChange;
  /** Permissions some type holds on (or, for an initial SID, also as) the new label and did not on the old; the first few. */
  readonly gains: readonly AccessGain[];
  readonly gainCount: number;
}

export interface NamedChange<T> {
  readonly added: readonly T[];
  readonly removed: readonly T[];
}

export interface BooleanChange {
  readonly name: string;
  readonly old?: boolean;
  readonly new?: boolean;
}

export interface TransitionChange {
  readonly source: string;
  readonly target: string;
  readonly cls: string;
  /** The computed type before and after (absent: the default, no rule). */
  readonly old?: string;
  readonly new?: string;
  readonly rules: readonly Justification[];
  /** Present when the listing is aggregated: how many (source, target) pairs change alike (source and target are the first), with examples. */
  readonly pairs?: { readonly count: number; readonly examples: readonly { readonly subject: string; readonly object: string }[] };
}

export interface MembershipChange {
  readonly type: string;
  readonly joined: readonly string[];
  readonly left: readonly string[];
}

export interface RoleChange {
  readonly role: string;
  readonly addedTypes: readonly string[];
  readonly removedTypes: readonly string[];
}

export interface StatementChange {
  readonly text: string;
  readonly at: Location;
}

/** Differences between two policies (or two compiled specs' policies). */
export interface PolicyDelta {
  readonly types: NamedChange<string>;
  readonly attributes: NamedChange<string>;
  readonly memberships: readonly MembershipChange[];
  readonly booleans: readonly BooleanChange[];
  readonly roles: readonly RoleChange[];
  readonly constraints: NamedChange<StatementChange>;
  readonly transitions: readonly TransitionChange[];
  readonly access: readonly AccessChange[];
  /** `permissive T;` added or removed. */
  readonly permissive: NamedChange<PermissiveChange>;
  /** Resource labels (pirqcon, iomemcon, ioportcon, pcidevicecon, devicetreecon) and initial SIDs that changed. */
  readonly objectLabels: readonly ObjectLabelChange[];
  /**
   * Other statements the access decision or labelling reads — typebounds, role allow,
   * users, type aliases, role attributes, role_transition — compared as printed.
   */
  readonly statements: NamedChange<StatementChange>;
}

/** A permission on an object, as the capability catalog states it. */
export interface PermOn {
  readonly subject: string;
  readonly object: string;
  readonly cls: string;
  readonly perm: string;
}

export interface CapabilityChange {
  readonly introspector: string;
  readonly target: string;
  /** The target's type: permissions on it are shown without naming the object. */
  readonly targetType: string;
  /** The introspector's type: permissions it holds are shown without naming the subject. */
  readonly introspectorType: string;
  readonly capability: string;
  readonly change: 'gained' | 'lost' | 'changed';
  readonly added: readonly PermOn[];
  readonly removed: readonly PermOn[];
  /** The capability's spec entry: NEW's for gained/changed, OLD's for lost. */
  readonly spec?: Location;
  /**
   * Added permissions OLD already granted on the same pair through other capabilities, and
   * those capabilities: why adding write-memory next to memory-events (whose ring map needs
   * map_write on the whole target) is no new access.
   */
  readonly alreadyHeld?: { readonly perms: readonly PermOn[]; readonly by: readonly string[] };
}

export interface DomainSummary {
  readonly name: string;
  readonly role: 'introspector' | 'target';
  readonly type: string;
  readonly guest: string;
  readonly spec: Location;
}

export interface DomainFieldChange {
  readonly name: string;
  readonly field: 'role' | 'type' | 'guest' | 'lookup' | 'tool';
  readonly old: string;
  readonly new: string;
  readonly spec: Location;
}

export interface TargetChange {
  readonly introspector: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly spec: Location;
}

export interface LabelChange {
  readonly domain: string;
  readonly key: string;
  readonly old?: string;
  readonly new?: string;
}

export interface XenstoreChange {
  readonly node: string;
  /** The domain given (added) or denied (removed) read access. */
  readonly reader: string;
  readonly change: 'added' | 'removed';
  readonly why?: string;
  readonly spec?: Location;
}

export interface VocabularyChange {
  readonly cls: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** Differences stated in the spec's own terms (both sides are specs). */
export interface SpecDelta {
  readonly xen?: { readonly old: string; readonly new: string; readonly vocabulary: readonly VocabularyChange[] };
  readonly mode?: { readonly old: string; readonly new: string };
  readonly domains: NamedChange<DomainSummary>;
  readonly domainChanges: readonly DomainFieldChange[];
  readonly targets: readonly TargetChange[];
  readonly capabilities: readonly CapabilityChange[];
  readonly labels: readonly LabelChange[];
  readonly xenstore: readonly XenstoreChange[];
}

/** What one of the checker's analyses (escalation paths, information flows) found changed. */
export interface AnalysisDelta {
  readonly analysis: string;
  readonly added: readonly AnalysisItem[];
  readonly removed: readonly AnalysisItem[];
}

/**
 * A finding of an analysis on one side: what it says as the checker said it (a sentence of
 * checker/messages.ts, places as Location data), written as prose by each renderer.
 */
export interface AnalysisItem {
  readonly message: FindingText;
  readonly subject?: string;
  readonly object?: string;
  /** Each step of the witness (a WitnessStep of diff/messages.ts), with the rule behind it. */
  readonly witness?: readonly { readonly step: DiffText; readonly rule?: Location }[];
  readonly location?: Location;
}

export interface InputSummary {
  readonly label: string;
  readonly kind: 'spec' | 'policy';
}

export interface DiffReport {
  readonly old: InputSummary;
  readonly new: InputSummary;
  readonly spec?: SpecDelta;
  readonly policy: PolicyDelta;
  readonly analyses: readonly AnalysisDelta[];
  /** ACL changes between two `xenstore-ls -p` dumps (--xenstore-old/--xenstore-new). */
  readonly xenstore: readonly XenstoreChange[];
  /** What the diff did not evaluate (constraints, …): said, never silently skipped (diff/messages.ts Note*). */
  readonly notes: readonly DiffText[];
  /** NEW grants something OLD did not: the `--fail-on new-access` verdict. */
  readonly newAccess: boolean;
}
