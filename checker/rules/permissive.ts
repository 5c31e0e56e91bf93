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
function consequence(ctx: CheckContext, name: string): { readonly text: string; readonly spans: readonly Location[] } {
  const declared = ctx.intent.domains.filter((d) => d.type === name);
  const spans = declared.map((d) => specLocation(ctx, d.typeSpan));
  const introspectors = ctx.intent.introspectors.filter((i) => i.type !== name).map((i) => `"${i.name}"`);
  const watched = introspectors.length ? `, including introspector${introspectors.length > 1 ? 's' : ''} ${introspectors.join(', ')}` : '';
  if (declared.some((d) => d.role === 'introspector')) {
    return { text: `introspector ${declared.map((d) => `"${d.name}"`).join(', ')} holds every permission on every domain, declared target or not: no allow rule confines it, so excess, undeclared-target and cross-target-flow, which read the allow rules, prove nothing about it`, spans };
  }
  if (declared.length) {
    return { text: `target ${declared.map((d) => `"${d.name}"`).join(', ')} holds every permission on every domain${watched}: no allow rule confines it, so reverse-access and undeclared-target, which read the allow rules, prove nothing about it`, spans };
  }
  return { text: `any domain labelled ${name} holds every permission on every domain${watched}: no allow rule confines it`, spans };
}

function unconfinedDomain(ctx: CheckContext, type: number, name: string): Finding {
  const statements = permissiveLocations(ctx.model, type);
  const { text, spans } = consequence(ctx, name);
  const first = statements[0];
  return {
    ruleId: 'permissive',
    severity: 'error',
    message: `${name} is permissive${first ? ` (${first.file}:${first.line})` : ''}: Xen lets every denial of a domain running as ${name} through, so ${text}`,
    subject: name,
    object: '*',
    perms: [],
    provenance: [...spans, ...statements],
    help: `remove ${first ? `the statement at ${first.file}:${first.line}` : `permissive ${name};`}; to find what the domain needs, run it once in a test host and read its avc: denied lines`,
  };
}

function inertType(ctx: CheckContext, type: number, name: string): Finding {
  const statements = permissiveLocations(ctx.model, type);
  const first = statements[0];
  return {
    ruleId: 'permissive',
    severity: 'warning',
    message: `${name} is permissive${first ? ` (${first.file}:${first.line})` : ''}, but no domain can run as it (no role other than object_r holds it, or it is a derived _self/_target type), so Xen never consults it as a source`,
    subject: name,
    object: '*',
    perms: [],
    provenance: statements,
    help: `remove ${first ? `the statement at ${first.file}:${first.line}` : `permissive ${name};`}: a role given the type later would run unconfined`,
  };
}
