// excess — a permission granted to an introspector that no declared capability needs.
// Needed = exactly what the compiler grants for the spec (capabilities, the vm_event channel
// rules, the domain's own declare_domain rights and its channels with dom0). Power over
// anyone is an error; what every stock guest holds (talking over channels, version queries)
// is a warning, so a module inside Xen's stock policy can still be proven.

import type { Finding } from '../findings.js';
import type { CheckContext } from '../context.js';
import { describeTypes, specLocation } from '../context.js';
import { typeIndexOf } from '../../policy/model/query.js';
import { ruleLocation, rulesFrom, writtenTargets } from '../effective.js';
import { accessKey } from '../intent.js';
import { isBenign } from '../permissions.js';
import { grantObjects, ruleGrants, sortedPerms, type RuleGrant } from './grants.js';
import type { CheckRule } from './rule.js';
import { findingText } from '../messages.js';

export const excess: CheckRule = {
  id: 'excess',
  summary: 'every permission an introspector holds is needed by one of its declared capabilities',
  remedy: 'Remove the permission from the rule that grants it, or declare the capability that needs it (vmipolicy capabilities lists what each grants).',
  securitySeverity: 7.0,
  run(ctx) {
    const findings = new SameGrantFindings();
    for (const s of ctx.intent.introspectors) {
      const subject = typeIndexOf(ctx.model, s.type);
      if (subject === undefined) continue;
      const needed = ctx.intent.needed.get(s.type);
      const unneeded = (o: number, cls: string, perm: string): boolean => !needed?.has(accessKey(ctx.model.types[o] as string, cls, perm));
      for (const rule of rulesFrom(ctx.model, subject)) {
        for (const g of ruleGrants(ctx, subject, rule, unneeded)) {
          for (const benign of [false, true]) {
            const part = splitBy(g, (perm) => isBenign(g.cls, perm) === benign);
            if (part) findings.add(excessFinding(ctx, s.type, s.span, part, benign));
          }
        }
      }
    }
    return findings.all();
  },
};

/**
 * One finding per excess grant, however many rules write it: the same permissions on the
 * same objects granted in five places are one error whose provenance lists the five rules
 * (each must go).
 */
class SameGrantFindings {
  private readonly byGrant = new Map<string, Finding>();

  add(f: Finding): void {
    const key = JSON.stringify([f.severity, f.subject, f.objects, f.class, f.perms, f.booleans ?? null]);
    const seen = this.byGrant.get(key);
    if (!seen) {
      this.byGrant.set(key, f);
      return;
    }
    const rules = [...seen.provenance.slice(1), ...f.provenance.slice(1)];
    const distinct = rules.filter((r, i) => rules.findIndex((x) => x.file === r.file && x.line === r.line) === i);
    this.byGrant.set(key, {
      ...seen,
      provenance: [seen.provenance[0]!, ...distinct],
      help: seen.severity === 'warning' ? seen.help : findingText('ExcessRemoveEverywhere', [distinct]),
    });
  }

  all(): Finding[] {
    return [...this.byGrant.values()];
  }
}

function splitBy(g: RuleGrant, keep: (perm: string) => boolean): RuleGrant | undefined {
  const perms = new Map([...g.perms].filter(([p]) => keep(p)));
  return perms.size ? { ...g, perms } : undefined;
}

function excessFinding(ctx: CheckContext, subject: string, span: Parameters<typeof specLocation>[1], g: RuleGrant, benign: boolean): Finding {
  const objects = grantObjects(g);
  const object = describeTypes(ctx.model, objects, writtenTargets(g.rule), g.rule.targets.count());
  const perms = sortedPerms(g.perms.keys());
  const at = ruleLocation(ctx.model, g.rule);
  return {
    ruleId: 'excess',
    severity: benign ? 'warning' : 'error',
    message: findingText('Excess', [subject, g.cls, perms.join(' '), object]),
    subject,
    object,
    objects: objects.map((o) => ctx.model.types[o] as string).sort(),
    class: g.cls,
    perms,
    provenance: [specLocation(ctx, span), at],
    ...(g.booleans ? { booleans: g.booleans } : {}),
    help: findingText(benign ? 'ExcessHarmless' : 'ExcessRemove', [at]),
  };
}
