// reverse-access — no target, nor any other domain the host does not trust, holds a
// permission over an introspector. Talking to it over event channels, grants or Argo is
// shown as a note (the introspector has to take part); anything else is an error.

import type { Finding } from '../findings.js';
import { describeTypes, specLocation } from '../context.js';
import { typeIndexOf } from '../../policy/model/query.js';
import { permNames, subjectTypes, ruleLocation, rulesOnto, writtenSources } from '../effective.js';
import { ownTypes } from '../intent.js';
import { isCommunication } from '../permissions.js';
import { availability } from '../../policy/booleans.js';
import type { CheckRule } from './rule.js';
import { findingText } from '../messages.js';

export const reverseAccess: CheckRule = {
  id: 'reverse-access',
  summary: 'no untrusted domain holds a permission over an introspector',
  remedy: 'Remove the rule that gives the untrusted domain power over the introspector; if it comes from an attribute, give the introspector a type outside it.',
  securitySeverity: 8.0,
  run(ctx) {
    const findings: Finding[] = [];
    const domains = subjectTypes(ctx.model);
    // How many declared domains run with each type, counted once: per introspector, a type
    // is another domain's when someone besides it has it.
    const declaredWith = new Map<number | undefined, number>();
    for (const d of ctx.intent.domains) {
      const t = typeIndexOf(ctx.model, d.type);
      declaredWith.set(t, (declaredWith.get(t) ?? 0) + 1);
    }
    for (const s of ctx.intent.introspectors) {
      const own = new Set(ownTypes(s).map((t) => typeIndexOf(ctx.model, t)).filter((t): t is number => t !== undefined));
      // A type the introspector shares with another declared domain still counts as that
      // domain's: sharing a label is exactly how a guest gets power over its watcher.
      const itsType = typeIndexOf(ctx.model, s.type);
      const others = { has: (t: number): boolean => (declaredWith.get(t) ?? 0) - (t === itsType ? 1 : 0) > 0 };
      for (const object of own) {
        for (const rule of rulesOnto(ctx.model, object)) {
          const avail = availability(ctx.model, [rule.guard]);
          if (avail.never) continue;
          const holders = [...rule.sources].filter((t) =>
            domains.has(t) && (!own.has(t) || others.has(t)) && !ctx.intent.trusted.has(ctx.model.types[t] as string) && (rule.targets.has(object) || (rule.self && t === object)));
          if (!holders.length) continue;
          const subject = describeTypes(ctx.model, holders, writtenSources(rule), rule.sources.count());
          for (const [ci] of rule.perms) {
            const cls = ctx.model.classes[ci]?.name as string;
            const perms = permNames(ctx.model, rule, ci).sort();
            for (const communication of [false, true]) {
              const part = perms.filter((p) => isCommunication(cls, p) === communication);
              if (!part.length) continue;
              const at = ruleLocation(ctx.model, rule);
              const objectName = ctx.model.types[object] as string;
              findings.push({
                ruleId: 'reverse-access',
                severity: communication ? 'note' : 'error',
                message: communication
                  ? findingText('ReverseReaches', [subject, s.name, objectName, cls, part.join(' ')])
                  : findingText('ReverseHolds', [subject, cls, part.join(' '), s.name, objectName]),
                subject,
                subjects: holders.map((t) => ctx.model.types[t] as string).sort(),
                object: objectName,
                class: cls,
                perms: part,
                provenance: [specLocation(ctx, s.span), at],
                ...(rule.guard && avail.grantedWhen ? { booleans: avail.grantedWhen } : {}),
                ...(communication ? {} : { help: findingText('ReverseRemove', [at]) }),
              });
            }
          }
        }
      }
    }
    return findings;
  },
};
