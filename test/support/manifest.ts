// A reader of manifest.json format 2 written from its README description, not from the
// emitter: each grant with its justifications spelt out in full (the shape format 1 wrote),
// so tests can ask what a grant is and why it is there without knowing the shared tables.

import assert from 'node:assert/strict';

/** One justification, its reason and origin looked up: format 1's justification. */
export interface DecodedJustification {
  readonly permissions: readonly string[];
  readonly rule: number;
  readonly kind: string;
  readonly [field: string]: unknown;
}

export interface DecodedGrant {
  readonly subject: string;
  readonly object: string;
  readonly class: string;
  readonly permissions: readonly string[];
  readonly justification: readonly DecodedJustification[];
}

interface Format2 {
  readonly format: number;
  readonly grants: Record<string, Record<string, Record<string, { permissions: string[]; justification: number[][] }>>>;
  readonly reasons: Record<string, unknown>[];
  readonly origins: (string | number)[][];
}

/** The full provenance of one origin (a row of `origins`) with its reason. */
function originOf(m: Format2, index: number): { readonly kind: string; readonly [field: string]: unknown } {
  const row = m.origins[index];
  assert.ok(row, `origin ${index} is not in the table of ${m.origins.length}`);
  const reason = m.reasons[row[0] as number] as Record<string, unknown> & { kind: string };
  assert.ok(reason, `reason ${String(row[0])} is not in the table of ${m.reasons.length}`);
  if (reason.kind === 'host-base') {
    assert.equal(row.length, 1, 'a host-base origin has no spec position nor names');
    return { kind: reason.kind, why: reason.why };
  }
  const spec = { line: row[1] as number, column: row[2] as number };
  const names = row.slice(3) as string[];
  switch (reason.kind) {
    case 'capability':
      return { kind: reason.kind, capability: reason.capability, introspector: names[0], target: names[1], catalog: reason.catalog, why: reason.why, spec };
    case 'event-channel':
      return { kind: reason.kind, capabilities: reason.capabilities, introspector: names[0], target: names[1], catalog: reason.catalog, why: reason.why, spec };
    case 'xen-macro':
      return { kind: reason.kind, macro: `${reason.macro as string}(${names.slice(1).join(', ')})`, domain: names[0], spec };
    case 'domain-rule':
      return { kind: reason.kind, domain: names[0], why: reason.why, spec };
    default:
      throw new Error(`unknown reason kind ${reason.kind}`);
  }
}

/** Every grant of a format 2 manifest, in the order written, justifications in full. */
export function manifestGrants(text: string): DecodedGrant[] {
  const m = JSON.parse(text) as Format2;
  assert.equal(m.format, 2);
  const out: DecodedGrant[] = [];
  for (const [subject, objects] of Object.entries(m.grants)) {
    for (const [object, classes] of Object.entries(objects)) {
      for (const [cls, g] of Object.entries(classes)) {
        const justification = g.justification.map(([origin, rule, ...positions]): DecodedJustification => {
          // No positions: the justification accounts for every permission of the grant.
          const permissions = positions.length === 0 ? g.permissions : positions.map((i) => g.permissions[i] as string);
          assert.ok(permissions.every((p) => p !== undefined), `${subject} ${object}:${cls}: a position past its permissions`);
          return { permissions, rule: rule as number, ...originOf(m, origin as number) };
        });
        out.push({ subject, object, class: cls, permissions: g.permissions, justification });
      }
    }
  }
  return out;
}
