// The validated spec: what the rest of the compiler works from. Every field keeps the
// source span it came from, so that a grant can always say which spec line justifies it.

import type { SourceSpan } from '../core/diagnostics.js';
import type { GuestKind } from '../catalog/capabilities.js';
import type { XenRelease } from '../catalog/vocabulary.js';
import type { ToolName } from '../catalog/tools.js';

export type PolicyMode = 'module' | 'standalone';
export type Lookup = 'domid' | 'name';

export interface Named {
  readonly name: string;
  readonly span: SourceSpan;
}

export interface SpecDomain {
  readonly name: string;
  readonly type: string;
  readonly guest: GuestKind;
  /** The whole entry. */
  readonly span: SourceSpan;
  readonly nameSpan: SourceSpan;
  readonly typeSpan: SourceSpan;
}

export interface SpecIntrospector extends SpecDomain {
  readonly targets: readonly Named[];
  readonly capabilities: readonly Named[];
  readonly lookup: Lookup;
  readonly lookupSpan: SourceSpan;
  /** The tool profile (`custom` when the spec names none). */
  readonly tool: ToolName;
  readonly toolSpan: SourceSpan;
  /** Capabilities the tool profile added to the declared ones (also in `capabilities`, spanned at `tool:`). */
  readonly implied: readonly string[];
}

export type SpecTarget = SpecDomain;

export interface Spec {
  readonly file: string;
  readonly xen: XenRelease;
  readonly xenSpan: SourceSpan;
  readonly module: string;
  readonly moduleSpan: SourceSpan;
  readonly mode: PolicyMode;
  readonly introspectors: readonly SpecIntrospector[];
  readonly targets: readonly SpecTarget[];
}
