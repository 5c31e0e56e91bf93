// undeclared-target — no declared domain holds an introspection permission (anything a
// capability grants on a target, or a control edge; both sets are in checker/permissions.ts)
// on a domain that is not one of its declared targets. The labels of DOMID_IO and DOMID_XEN
// are no guests, but mapping their pages is device or hypervisor memory access: reported
// apart, named as such.

import { compareCodePoints } from '../../core/compare.js';
import type { Finding } from '../findings.js';
import { describeTypes, specLocation } from '../context.js';
import { typeIndexOf } from '../../policy/model/query.js';
import { domainTypes, pseudoDomains, ruleLocation, rulesFrom, writtenTargets } from '../effective.js';
import { accessKey, ownTypes } from '../intent.js';
import { isIntrospection } from '../permissions.js';
import { grantObjects, ruleGrants, sortedPerms } from './grants.js';
import type { CheckRule } from './rule.js';
import { findingText } from '../messages.js';

export const undeclaredTarget: CheckRule = {
  id: 'undeclared-target',
  summary: 'introspection permissions reach declared targets only',
  remedy: 'Remove the rule, or add the domain to the introspector\'s targets in the spec.',
  securitySeverity: 8.0,
  run(ctx) {
    const findings: Finding[] = [];
    const domains = domainTypes(ctx.model);
    const pseudo = pseudoDomains(ctx.model);
    const introspectorNamed = new Map(ctx.intent.introspectors.map((i) => [i.name, i]));
    for (const d of ctx.intent.domains) {
      const subject = typeIndexOf(ctx.model, d.type);
      if (subject === undefined) continue;
      const introspector = introspectorNamed.get(d.name);
      const allowed = new Set([...ownTypes(d), ...(introspector?.targets.flatMap((t) => [t.type]) ?? [])]);
      // What the domain needs is asked only for a permission that could be a finding: most
      // domains hold none, and making it for each of 10 000 was most of this rule's time.
      let needed: ReturnType<typeof ctx.intent.needed.get> | null = null;
      const undeclared = (o: number, cls: string, perm: string): boolean => {
        const name = ctx.model.types[o] as string;
        if (!domains.has(o) || allowed.has(name) || !isIntrospection(cls, perm)) return false;
        if (needed === null) needed = ctx.intent.needed.get(d.type);
        return !needed?.has(accessKey(name, cls, perm));
      };
      for (const rule of rulesFrom(ctx.model, subject)) {
        // A pseudo-domain is no guest to introspect, but mapping its pages is still memory
        // access nobody declared (device MMIO, Xen's heap): its own finding, called what it is.
        for (const g of [false, true].flatMap((onPseudo) => ruleGrants(ctx, subject, rule, (o, cls, perm) => pseudo.has(o) === onPseudo && undeclared(o, cls, perm)))) {
          const objects = grantObjects(g);
          const owner = objects.length === 1 ? pseudo.get(objects[0] as number) : undefined;
          const object = describeTypes(ctx.model, objects, writtenTargets(rule), rule.targets.count());
          const perms = sortedPerms(g.perms.keys());
          const at = ruleLocation(ctx.model, rule);
          findings.push({
            ruleId: 'undeclared-target',
            severity: 'error',
            message: owner
              ? findingText('UndeclaredPseudo', [d.type, d.role, d.name, owner.owns, object, owner.domid, g.cls, perms.join(' ')])
              : findingText('UndeclaredTarget', [d.type, d.role, d.name, object, g.cls, perms.join(' ')]),
            subject: d.type,
            object,
            objects: objects.map((o) => ctx.model.types[o] as string).sort(compareCodePoints),
            class: g.cls,
            perms,
            provenance: [specLocation(ctx, introspector?.span ?? d.span), at],
            ...(g.booleans ? { booleans: g.booleans } : {}),
            help: owner
              ? findingText('UndeclaredPseudoRemove', [at, owner.domid])
              : introspector
              ? findingText('UndeclaredRemoveOrDeclare', [at, d.name])
              : findingText('UndeclaredTargetRemove', [at]),
          });
        }
      }
    }
    return findings;
  },
};
