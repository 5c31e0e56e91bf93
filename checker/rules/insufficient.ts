// insufficient — a declared capability whose permissions are not all granted, in every
// boolean state and past every constraint. The self-test would fail at that operation.

import type { Grant } from '../../compiler/ir.js';
import type { Finding, Location } from '../findings.js';
import type { Assignment } from '../../policy/booleans.js';
import { typeIndexOf } from '../../policy/model/query.js';
import { availability } from '../../policy/booleans.js';
import type { CheckContext } from '../context.js';
import { constraintBlocks, specLocation } from '../context.js';
import { grantingRules, ruleLocation } from '../effective.js';
import type { CheckRule } from './rule.js';
import { findingText, renderFindingText, type FindingText } from '../messages.js';

interface Missing {
  readonly grant: Grant;
  readonly object: string;
  readonly why: FindingText;
  readonly booleans?: Assignment;
  readonly rules: readonly Location[];
  /** What to do, when granting the permission is not the answer. */
  readonly help?: FindingText;
}

export const insufficient: CheckRule = {
  id: 'insufficient',
  summary: 'every permission a declared capability needs is granted, in every boolean state',
  remedy: 'Grant the missing permission, or drop the capability from the spec: the introspector\'s calls would fail on a real host.',
  securitySeverity: 3.0,
  run(ctx) {
    const findings: Finding[] = [];
    for (const s of ctx.intent.introspectors) {
      const subject = typeIndexOf(ctx.model, s.type);
      const needed = ctx.intent.needed.get(s.type);
      if (!needed) continue;
      const missing: Missing[] = [];
      for (const [key, grants] of needed) {
        const declared = grants.filter((g) => g.origin.kind === 'capability' || g.origin.kind === 'event-channel');
        if (!declared.length) continue;
        const [object, cls, perm] = key.split(' ') as [string, string, string];
        // Xen refuses a label whose type the policy lacks, so a domain declared with it
        // cannot even start: every permission its capabilities need is missing.
        const m = subject === undefined ? absentSubject(s.name, s.type) : check(ctx, subject, object, cls, perm);
        if (m) for (const grant of declared) missing.push({ grant, object, ...m });
      }
      findings.push(...group(ctx, s.type, missing));
    }
    // A target no introspector watches needs no permission, but Xen still refuses its label.
    const watched = new Set(ctx.intent.introspectors.flatMap((i) => i.targets.map((t) => t.name)));
    for (const t of ctx.intent.targets) {
      if (watched.has(t.name) || typeIndexOf(ctx.model, t.type) !== undefined) continue;
      findings.push({
        ruleId: 'insufficient',
        severity: 'error',
        message: findingText('InsufficientTargetType', [t.type, t.name]),
        subject: t.type,
        object: t.type,
        perms: [],
        provenance: [specLocation(ctx, t.typeSpan)],
        help: absentTypeHelp(t.type),
      });
    }
    return findings;
  },
};

function check(ctx: CheckContext, subject: number, object: string, cls: string, perm: string): Omit<Missing, 'grant' | 'object'> | undefined {
  const o = typeIndexOf(ctx.model, object);
  const c = ctx.model.classIndex.get(cls);
  const p = c === undefined ? undefined : ctx.model.classes[c]?.permIndex.get(perm);
  if (o === undefined) return { why: findingText('MissingType', [object]), rules: [], help: absentTypeHelp(object) };
  if (c === undefined || p === undefined) return { why: findingText('MissingPermission', [cls, perm]), rules: [] };
  const rules = grantingRules(ctx.model, subject, o, c, p);
  const avail = availability(ctx.model, rules.map((r) => r.guard));
  if (avail.never) return { why: findingText('MissingRule'), rules: [] };
  const locations = rules.map((r) => ruleLocation(ctx.model, r));
  if (!avail.always) return { why: findingText('MissingConditional'), ...(avail.deniedWhen ? { booleans: avail.deniedWhen } : {}), rules: locations };
  const denial = constraintBlocks(ctx, subject, o, cls, perm);
  if (denial) {
    const at: Location = { file: denial.at.file, line: denial.at.line, column: denial.at.column, kind: 'policy', text: denial.text };
    return { why: findingText('MissingConstraint', [at, denial.text]), rules: [...locations, at] };
  }
  return undefined;
}

function absentSubject(name: string, type: string): Omit<Missing, 'grant' | 'object'> {
  return { why: findingText('MissingIntrospectorType', [type, name]), rules: [], help: absentTypeHelp(type) };
}

function absentTypeHelp(type: string): FindingText {
  return findingText('InsufficientDeclareType', [type]);
}

/** One finding per (capability, object, class, reason): the permissions it lacks together. */
function group(ctx: CheckContext, subject: string, missing: readonly Missing[]): Finding[] {
  const groups = new Map<string, Missing[]>();
  for (const m of missing) {
    const origin = m.grant.origin;
    const cap = origin.kind === 'capability' ? origin.capability : 'vm_event channel';
    const key = [cap, m.object, m.grant.cls, renderFindingText(m.why), JSON.stringify(m.booleans ?? {})].join('\u0000');
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  return [...groups.values()].map((ms) => {
    const first = ms[0] as Missing;
    const origin = first.grant.origin;
    const cap = origin.kind === 'capability' ? `capability ${origin.capability}` : 'the vm_event channel';
    const perms = [...new Set(ms.map((m) => m.grant.perm))].sort();
    const span = 'span' in origin ? origin.span : undefined;
    return {
      ruleId: 'insufficient',
      severity: 'error',
      message: findingText('Insufficient', [subject, first.grant.cls, perms.join(' '), first.object, cap, first.why]),
      subject,
      object: first.object,
      class: first.grant.cls,
      perms,
      provenance: [...(span ? [specLocation(ctx, span)] : []), ...first.rules],
      ...(first.booleans ? { booleans: first.booleans } : {}),
      help: first.help ?? findingText('InsufficientGrant', [subject, first.object, first.grant.cls, perms.join(' ')]),
    } satisfies Finding;
  });
}
