// undeclared-target — no declared domain holds an introspection permission (anything a
// capability grants on a target, or a control edge of catalog §5) on a domain that is not
// one of its declared targets.

import type { Finding } from '../findings.js';
import { describeTypes, specLocation } from '../context.js';
import { typeIndexOf } from '../model/query.js';
import { domainTypes, ruleLocation, rulesFrom, writtenTargets } from '../effective.js';
import { accessKey, ownTypes } from '../intent.js';
import { isIntrospection } from '../permissions.js';
import { grantObjects, ruleGrants, sortedPerms } from './grants.js';
import type { CheckRule } from './rule.js';

export const undeclaredTarget: CheckRule = {
  id: 'undeclared-target',
  summary: 'introspection permissions reach declared targets only',
  run(ctx) {
    const findings: Finding[] = [];
    const domains = domainTypes(ctx.model);
    for (const d of ctx.intent.domains) {
      const subject = typeIndexOf(ctx.model, d.type);
      if (subject === undefined) continue;
      const introspector = ctx.intent.introspectors.find((i) => i.name === d.name);
      const allowed = new Set([...ownTypes(d), ...(introspector?.targets.flatMap((t) => [t.type]) ?? [])]);
      const needed = ctx.intent.needed.get(d.type);
      const undeclared = (o: number, cls: string, perm: string): boolean => {
        const name = ctx.model.types[o] as string;
        return domains.has(o) && !allowed.has(name) && isIntrospection(cls, perm) && !needed?.has(accessKey(name, cls, perm));
      };
      for (const rule of rulesFrom(ctx.model, subject)) {
        for (const g of ruleGrants(ctx, subject, rule, undeclared)) {
          const objects = grantObjects(g);
          const object = describeTypes(ctx.model, objects, writtenTargets(rule), rule.targets.count());
          const perms = sortedPerms(g.perms.keys());
          const at = ruleLocation(ctx.model, rule);
          findings.push({
            ruleId: 'undeclared-target',
            severity: 'error',
            message: `${d.type} (${d.role} "${d.name}") can introspect ${object}, which it does not declare as a target: ${g.cls}:{ ${perms.join(' ')} }`,
            subject: d.type,
            object,
            objects: objects.map((o) => ctx.model.types[o] as string).sort(),
            class: g.cls,
            perms,
            provenance: [specLocation(ctx, introspector?.span ?? d.span), at],
            ...(g.booleans ? { booleans: g.booleans } : {}),
            help: introspector
              ? `remove the rule at ${at.file}:${at.line}, or add the domain to the targets of "${d.name}"`
              : `a target introspects nothing: remove the rule at ${at.file}:${at.line}`,
          });
        }
      }
    }
    return findings;
  },
};
