// permissive — no domain runs unconfined. `permissive t;` compiles (checkpolicy accepts it)
// and Xen then enforces none of t's denials: security_compute_av (xen/xsm/flask/ss/services.c)
// flags every decision whose source type is in the permissive map, and avc_has_perm
// (xen/xsm/flask/avc.c) lets a flagged denial through (policy/model/access.ts
// requestAllowed). Such a domain holds every permission on every object whatever the allow
// rules say, so the rules that read the allow rules cannot confine it; this rule is where
// that is reported — one error per type a domain can run with, naming the declared domains
// whose proofs it voids. (The privilege graph gives it an edge to the policy itself, so
// escalation also follows chains that pass through it.)

import { compareCodePoints } from '../../core/compare.js';
import type { Finding, Location } from '../findings.js';
import type { CheckContext } from '../context.js';
import { specLocation } from '../context.js';
import { permissiveLocations, subjectTypes } from '../effective.js';
import { typeIndexOf } from '../../policy/model/query.js';
import type { CheckRule } from './rule.js';
import { findingText, type FindingText } from '../messages.js';

export const permissive: CheckRule = {
  id: 'permissive',
  summary: 'no domain type is permissive (Xen enforces none of a permissive type\'s denials)',
  remedy: 'Remove the permissive statement; to find what the domain needs, run it once on a test host and read its avc: denied lines.',
  securitySeverity: 9.0,
  run(ctx) {
    const subjects = subjectTypes(ctx.model);
    const byName = [...ctx.model.permissive].map((t) => ctx.model.types[t] as string).sort(compareCodePoints);
    return byName.map((name) => {
      const t = typeIndexOf(ctx.model, name) as number;
      return subjects.has(t) ? unconfinedDomain(ctx, t, name) : inertType(ctx, t, name);
    });
  },
};

/** What a domain running unconfined as `name` voids: its own proofs, or its power over the introspectors. */
function consequence(ctx: CheckContext, name: string): { readonly text: FindingText; readonly spans: readonly Location[] } {
  const declared = ctx.intent.domains.filter((d) => d.type === name);
  const spans = declared.map((d) => specLocation(ctx, d.typeSpan));
  const introspectors = ctx.intent.introspectors.filter((i) => i.type !== name).map((i) => `"${i.name}"`);
  const watched = introspectors.length ? `, including introspector${introspectors.length > 1 ? 's' : ''} ${introspectors.join(', ')}` : '';
  if (declared.some((d) => d.role === 'introspector')) {
    return { text: findingText('PermissiveIntrospector', [declared.map((d) => `"${d.name}"`).join(', ')]), spans };
  }
  if (declared.length) {
    return { text: findingText('PermissiveTarget', [declared.map((d) => `"${d.name}"`).join(', '), watched]), spans };
  }
  return { text: findingText('PermissiveAny', [name, watched]), spans };
}

function unconfinedDomain(ctx: CheckContext, type: number, name: string): Finding {
  const statements = permissiveLocations(ctx.model, type);
  const { text, spans } = consequence(ctx, name);
  const first = statements[0];
  return {
    ruleId: 'permissive',
    severity: 'error',
    message: findingText('PermissiveDomain', [name, first, text]),
    subject: name,
    object: '*',
    perms: [],
    provenance: [...spans, ...statements],
    help: findingText('PermissiveDomainRemove', [first]),
  };
}

function inertType(ctx: CheckContext, type: number, name: string): Finding {
  const statements = permissiveLocations(ctx.model, type);
  const first = statements[0];
  return {
    ruleId: 'permissive',
    severity: 'warning',
    message: findingText('PermissiveInert', [name, first]),
    subject: name,
    object: '*',
    perms: [],
    provenance: statements,
    help: findingText('PermissiveInertRemove', [first]),
  };
}
