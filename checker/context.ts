// Everything a proof rule reads, in one value: the model, the intent, the spec's text (to
// turn spans into lines at the edge) and the optional deployment inputs. Rules are pure
// functions of it.

import type { SourceSpan } from '../core/diagnostics.js';
import { positionAt, type SourceText } from '../core/source.js';
import type { PolicyModel } from '../policy/model/model.js';
import type { Intent } from './intent.js';
import type { Location } from './findings.js';
import type { SecurityContext, XlLabel } from './inputs.js';
import type { XenstoreState } from './inputs.js';
import { domainTypes } from './effective.js';
import { constraintDenial, type ConstraintDenial } from '../policy/constraints.js';

export interface CheckOptions {
  /** How many minimal witness paths to list per finding. */
  readonly maxPaths: number;
  /** How many hops a witness path may have. */
  readonly maxDepth: number;
}

export const DEFAULT_CHECK_OPTIONS: CheckOptions = { maxPaths: 8, maxDepth: 6 };

export interface CheckContext {
  readonly model: PolicyModel;
  readonly intent: Intent;
  readonly spec: SourceText;
  /** The xl labels the domains really run with (`--xl`, or the compiled snippets). */
  readonly xl: readonly XlLabel[];
  /** A xenstore to check, when one was given (`--xenstore`) or planned by the compiler. */
  readonly xenstore?: XenstoreState;
  readonly options: CheckOptions;
}

export function specLocation(ctx: CheckContext, span: SourceSpan): Location {
  const p = positionAt(ctx.spec, span.start);
  return { file: span.file, line: p.line, column: p.column, kind: 'spec' };
}

/** Names for a set of types, short enough for a message: all of them, or a count and the first few. */
export function describeTypes(model: PolicyModel, types: readonly number[], written?: string, total?: number): string {
  if (written !== undefined && total !== undefined && types.length === total && total > 1) return `${written} (${total} types)`;
  const names = types.map((t) => model.types[t] as string).sort();
  return names.length <= 4 ? names.join(', ') : `${names.length} types (${names.slice(0, 3).join(', ')}, …)`;
}

/**
 * Constraints decide whether an allow takes effect. Domains run as system_u:system_r
 * unless their xl label says otherwise; the objects they act on carry the labels Xen
 * gives them (a domain's own context, or object_r for channels and derived types).
 */
export function constraintBlocks(ctx: CheckContext, subject: number, object: number, cls: string, perm: string): ConstraintDenial | undefined {
  if (ctx.model.constraints.length === 0) return undefined;
  return constraintDenial(ctx.model, contextOf(ctx, subject), contextOf(ctx, object), cls, perm);
}

const labelsByType = new WeakMap<CheckContext, ReadonlyMap<string, SecurityContext>>();

function contextOf(ctx: CheckContext, type: number): SecurityContext {
  const name = ctx.model.types[type] as string;
  let labels = labelsByType.get(ctx);
  if (!labels) {
    const byType = new Map<string, SecurityContext>();
    // The first label naming a type wins, as a search in file order would find it.
    for (const l of ctx.xl) if (l.context && !byType.has(l.context.type)) byType.set(l.context.type, l.context);
    labelsByType.set(ctx, (labels = byType));
  }
  const label = labels.get(name);
  if (label) return label;
  const isDomain = domainTypes(ctx.model).has(type);
  return { user: 'system_u', role: isDomain ? 'system_r' : 'object_r', type: name };
}
