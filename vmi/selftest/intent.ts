// What the spec grants, in the terms the hypercall table checks: for an introspector and a
// target, the set of (object, class, permission) its declared capabilities need (from the
// capability catalog, never from the policy under test — the policy is what is being
// tested). From that set, every operation of the table is either one the introspector may
// perform on the target, or one it was not granted: the self-test's expectations.

import { capability, type GuestKind } from '../../catalog/capabilities.js';
import { capabilityGrants, isToolName, type ToolName } from '../../catalog/tools.js';
import type { Manifest } from '../host/domains.js';
import { OPERATIONS, type CallContext, type CheckSpec } from '../host/hypercalls-table.js';

export interface IntrospectorIntent {
  readonly name: string;
  readonly kind: GuestKind;
  readonly targets: readonly string[];
  readonly capabilities: readonly string[];
  readonly lookup: 'name' | 'domid';
  /** The tool profile whose calls the self-test makes (`custom`: the capabilities as declared). */
  readonly tool: ToolName;
}

/** The introspectors of a compiled spec, as its manifest declares them. */
export function introspectorsOf(manifest: Manifest): IntrospectorIntent[] {
  const kindOf = new Map(manifest.domains.map((d) => [d.name, d.guest]));
  return manifest.introspectors.map((i) => ({
    name: i.name,
    kind: kindOf.get(i.name) ?? 'pv',
    targets: i.targets,
    capabilities: i.capabilities,
    lookup: i.lookup === 'name' ? 'name' : 'domid',
    tool: isToolName(i.tool) ? i.tool : 'custom',
  }));
}

/** "object cls perm" keys: object is target, self or domxen (ObjectRole, catalog/capabilities.ts). */
type GrantedSet = ReadonlySet<string>;

const key = (object: string, cls: string, perm: string): string => `${object} ${cls} ${perm}`;

export interface PairIntent {
  readonly granted: GrantedSet;
  /** Some declared capability needs the vm_event channel (its four rules: compiler/lower.ts eventChannelGrants). */
  readonly eventChannel: boolean;
}

/** What the declared capabilities grant the introspector over one target of `targetKind`. */
export function pairIntent(xen: string, introspector: IntrospectorIntent, targetKind: GuestKind): PairIntent {
  const granted = new Set<string>();
  let eventChannel = false;
  for (const name of introspector.capabilities) {
    const cap = capability(name);
    if (!cap || !cap.targetKinds.includes(targetKind)) continue;
    eventChannel ||= cap.eventChannel;
    for (const g of capabilityGrants(cap, { xen, introspector: introspector.kind, target: targetKind }, introspector.tool)) {
      for (const p of g.perms) granted.add(key(g.object, g.cls, p));
    }
  }
  return { granted, eventChannel };
}

/** The FLASK permissions an operation-table row asks for that the intent does not grant. */
export function missingFor(rowId: string, ctx: CallContext, intent: PairIntent): string[] {
  const row = OPERATIONS.get(rowId);
  if (!row) return [];
  const missing: string[] = [];
  for (const c of row.checks(ctx)) {
    if (c.via === 'domain') {
      if (c.object === 'dom0') missing.push(...c.perms.map((p) => `${c.cls}:${p} on dom0`));
      else for (const p of c.perms) if (!intent.granted.has(key(c.object, c.cls, p))) missing.push(`${c.cls}:${p} on ${objectName(c.object)}`);
    } else if (!intent.eventChannel) {
      missing.push(`event channel (${c.via})`);
    }
  }
  return missing;
}

/** Whether a row acts on the other domain at all (rows checked only on the caller itself are not). */
export function actsOnTarget(rowId: string, ctx: CallContext): boolean {
  return (OPERATIONS.get(rowId)?.checks(ctx) ?? []).some((c: CheckSpec) => c.via !== 'domain' || c.object === 'target');
}

function objectName(object: 'target' | 'self' | 'domxen'): string {
  return object === 'target' ? 'the target' : object === 'self' ? 'itself (S_self)' : 'DOMID_XEN';
}
