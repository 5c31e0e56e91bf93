// shared-label — every introspector, and every tenant's target, has a type of its own; and
// no rule that grants introspection rights covers more subjects or objects than declared
// (an attribute rule spreads a right to every member, present and future).

import type { Finding } from '../findings.js';
import type { DomainIntent } from '../intent.js';
import { describeTypes, specLocation } from '../context.js';
import { typeIndexOf } from '../../policy/model/query.js';
import { domainTypes, permNames, subjectTypes, ruleLocation, rulesFrom, writtenSources, writtenTargets } from '../effective.js';
import { ownTypes } from '../intent.js';
import { isIntrospection } from '../permissions.js';
import { availability } from '../../policy/booleans.js';
import type { CheckContext } from '../context.js';
import type { CheckRule } from './rule.js';
import { findingText } from '../messages.js';

export const sharedLabel: CheckRule = {
  id: 'shared-label',
  summary: 'introspectors and tenants have types of their own, and no rule spreads introspection rights beyond the declared domains',
  remedy: 'Give each introspector and each tenant a type of its own, and name those types in the rules instead of attributes.',
  securitySeverity: 7.5,
  run(ctx) {
    return [...sharedTypes(ctx), ...spreadingRules(ctx)];
  },
};

function watchers(ctx: CheckContext, d: DomainIntent): string[] {
  return ctx.intent.introspectors.filter((i) => i.targets.some((t) => t.name === d.name)).map((i) => i.name);
}

function sharedTypes(ctx: CheckContext): Finding[] {
  const byType = new Map<string, DomainIntent[]>();
  for (const d of ctx.intent.domains) byType.set(d.type, [...(byType.get(d.type) ?? []), d]);
  const findings: Finding[] = [];
  for (const [type, ds] of byType) {
    if (ds.length < 2) continue;
    const introspectors = ds.filter((d) => d.role === 'introspector');
    // Targets watched by the same single introspector share one tenant: a warning only.
    const tenants = new Set(ds.filter((d) => d.role === 'target').map((d) => watchers(ctx, d).sort().join(',')));
    const error = introspectors.length > 0 || tenants.size > 1;
    const names = ds.map((d) => `${d.role} "${d.name}"`).join(', ');
    findings.push({
      ruleId: 'shared-label',
      severity: error ? 'error' : 'warning',
      message: findingText(introspectors.length && ds.some((d) => d.role === 'target') ? 'SharedTypeWithIntrospector' : 'SharedType', [names, type]),
      subject: type,
      object: type,
      perms: [],
      provenance: ds.map((d) => specLocation(ctx, d.typeSpan)),
      help: findingText('SharedTypeOwn'),
    });
  }
  return findings;
}

/** Introspection rules from a declared introspector onto its targets that also cover undeclared types. */
function spreadingRules(ctx: CheckContext): Finding[] {
  const findings: Finding[] = [];
  const domains = domainTypes(ctx.model);
  const subjects = subjectTypes(ctx.model);
  const seen = new Set<string>();
  for (const s of ctx.intent.introspectors) {
    const subject = typeIndexOf(ctx.model, s.type);
    if (subject === undefined) continue;
    const own = new Set(ownTypes(s));
    const declaredTargets = new Set(s.targets.map((t) => t.type));
    const targetIdx = s.targets.map((t) => typeIndexOf(ctx.model, t.type)).filter((t): t is number => t !== undefined);
    for (const rule of rulesFrom(ctx.model, subject)) {
      if (availability(ctx.model, [rule.guard]).never) continue;
      if (!targetIdx.some((t) => rule.targets.has(t))) continue;
      const classes = [...rule.perms.keys()].filter((ci) => {
        const cls = ctx.model.classes[ci]?.name as string;
        return permNames(ctx.model, rule, ci).some((p) => isIntrospection(cls, p));
      });
      if (!classes.length) continue;
      const extraSubjects = [...rule.sources].filter((t) => subjects.has(t) && !own.has(ctx.model.types[t] as string) && !ctx.intent.trusted.has(ctx.model.types[t] as string));
      const extraObjects = [...rule.targets].filter((t) => domains.has(t) && !declaredTargets.has(ctx.model.types[t] as string) && !own.has(ctx.model.types[t] as string));
      if (!extraSubjects.length && !extraObjects.length) continue;
      const key = `${rule.at.file}:${rule.at.line}:${rule.at.column}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const at = ruleLocation(ctx.model, rule);
      const parts = [
        ...(extraSubjects.length ? [`to ${describeTypes(ctx.model, extraSubjects, writtenSources(rule), rule.sources.count())} besides "${s.name}"`] : []),
        ...(extraObjects.length ? [`over ${describeTypes(ctx.model, extraObjects, writtenTargets(rule), rule.targets.count())} besides the declared targets`] : []),
      ];
      const cls = classes.map((ci) => ctx.model.classes[ci]?.name as string).sort();
      findings.push({
        ruleId: 'shared-label',
        severity: 'error',
        message: findingText('SpreadingRule', [s.name, cls.join(', '), parts.join(' and ')]),
        subject: writtenSources(rule),
        object: writtenTargets(rule),
        class: cls.join(','),
        perms: cls.flatMap((c) => permNames(ctx.model, rule, ctx.model.classIndex.get(c) as number)).sort(),
        provenance: [specLocation(ctx, s.span), at],
        help: findingText('SpreadingRuleOwnTypes', [at]),
      });
    }
  }
  return findings;
}
