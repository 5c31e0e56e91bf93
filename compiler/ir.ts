// The intermediate representation: every type, transition and permission the artifacts
// will contain, each permission with the origin that justifies it. Emitters only print
// the IR; the manifest is the IR's grants with their origins made portable.

import type { GuestKind } from '../catalog/capabilities.js';
import type { Vocabulary } from '../catalog/vocabulary.js';
import type { SourceSpan } from '../core/diagnostics.js';
import type { Spec } from './spec.js';

/**
 * Why a permission is in the policy. `id`: a small number unique among the origins of one IR,
 * given by lower() (an origin made elsewhere, such as the standalone host base's, has none),
 * so that a reader can keep what it learns of each origin in an array rather than a map.
 * Two origins with ids never say the same (reason, place in the spec, names): lower() makes
 * one per reason each use of a capability or macro has.
 */
export type Origin = OriginFacts & { readonly id?: number };

type OriginFacts =
  | {
      readonly kind: 'capability';
      readonly capability: string;
      readonly introspector: string;
      readonly target: string;
      readonly catalog: readonly string[];
      readonly why: string;
      /** The capability's entry in the spec. */
      readonly span: SourceSpan;
    }
  | {
      readonly kind: 'event-channel';
      readonly introspector: string;
      readonly target: string;
      readonly capabilities: readonly string[];
      readonly catalog: readonly string[];
      readonly why: string;
      readonly span: SourceSpan;
    }
  | {
      /** The same rules as one of Xen's xen.if macros at the spec's release. */
      readonly kind: 'xen-macro';
      readonly macro: XenMacroName;
      readonly args: readonly string[];
      readonly domain: string;
      readonly span: SourceSpan;
    }
  | {
      /** A plain rule that comes with a domain, outside any xen.if macro. */
      readonly kind: 'domain-rule';
      readonly domain: string;
      readonly why: string;
      readonly span: SourceSpan;
    }
  | {
      /** Standalone mode only: the host base (dom0, pseudo-domains) a complete policy needs. */
      readonly kind: 'host-base';
      readonly why: string;
    };

export type XenMacroName = 'declare_domain' | 'create_domain' | 'manage_domain' | 'domain_comms' | 'domain_event_comms';

/** One permission, atomically: merged into allow rules only when printed. */
export interface Grant {
  readonly subject: string;
  readonly object: string;
  readonly cls: string;
  readonly perm: string;
  readonly origin: Origin;
}

export interface TypeDecl {
  readonly name: string;
  readonly attributes: readonly string[];
}

export interface TypeTransition {
  readonly source: string;
  readonly target: string;
  readonly cls: string;
  readonly result: string;
}

export interface DomainIR {
  readonly role: 'introspector' | 'target';
  readonly name: string;
  readonly type: string;
  readonly self: string;
  readonly channel: string;
  readonly guest: GuestKind;
  readonly span: SourceSpan;
}

/**
 * A macro's rules for any domain: subject and object each a name, or the index of one of the
 * domain's names in MacroUse.slots. One object per macro and release, shared by all its uses,
 * so a reader can work out what the rules make once per macro rather than once per domain.
 */
export interface MacroTemplate {
  readonly rules: readonly (readonly [string | number, string | number, string, readonly string[]])[];
}

/** A use of a xen.if macro for one of our domains, with its expansion. */
export interface MacroUse {
  readonly macro: XenMacroName;
  readonly args: readonly string[];
  readonly domain: string;
  readonly types: readonly TypeDecl[];
  readonly transitions: readonly TypeTransition[];
  /** The expansion: `template` with `slots` (the domain's type, _self and _channel types), all with `origin`. */
  readonly template: MacroTemplate;
  readonly slots: readonly string[];
  readonly origin: Origin;
  /** The expansion's permissions, made anew at each read (equal, not the same objects). */
  readonly grants: readonly Grant[];
}

export interface XlSettingIR {
  readonly key: string;
  readonly value: string;
  readonly why: string;
}

export interface XlFileIR {
  readonly domain: DomainIR;
  readonly settings: readonly XlSettingIR[];
}

/** One xenstore node whose ACL vmipolicy sets: owner dom0, default none, these readers. */
export interface XenstoreNodeIR {
  /** `/local/domain` or the name node of one domain. */
  readonly node: { readonly kind: 'local-domain' } | { readonly kind: 'name'; readonly domain: string };
  /** Readers libxl already grants (restored by the revoke script). */
  readonly baseReaders: readonly string[];
  /** Readers vmipolicy adds, with the lookup that needs each. */
  readonly addedReaders: readonly { readonly domain: string; readonly why: string; readonly span: SourceSpan }[];
}

export interface IR {
  readonly spec: Spec;
  readonly vocabulary: Vocabulary;
  readonly domains: readonly DomainIR[];
  readonly macroUses: readonly MacroUse[];
  /** Plain rules that come with domains (dom0 mapping an introspector's grants). */
  readonly domainRules: readonly Grant[];
  /** Introspection grants: capabilities and the vm_event channel rules. */
  readonly vmiGrants: readonly Grant[];
  readonly xl: readonly XlFileIR[];
  readonly xenstore: readonly XenstoreNodeIR[];
}
