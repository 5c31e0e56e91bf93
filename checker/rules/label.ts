// label — every xl label names a type, role and user the policy declares, with the role
// authorised for the type and the user for the role (else `xl create` fails, or the domain
// silently runs as something else), and each declared domain runs with the type the spec gives it.

import type { Finding, Location } from '../findings.js';
import { specLocation } from '../context.js';
import { typeIndexOf } from '../../policy/model/query.js';
import type { CheckRule } from './rule.js';

export const label: CheckRule = {
  id: 'label',
  summary: 'every xl label is valid in the policy and gives each declared domain its declared type',
  remedy: 'Fix the xl seclabel= line so that it names the domain\'s declared user, role and type, as the compiled xl snippet does.',
  securitySeverity: 6.5,
  run(ctx) {
    const findings: Finding[] = [];
    const byName = new Map(ctx.intent.domains.map((d) => [d.name, d]));
    for (const l of ctx.xl) {
      const domain = l.name === undefined ? undefined : byName.get(l.name);
      const subject = l.name ?? l.file;
      const problem = (message: string, help: string, extra: Location[] = []): void => {
        findings.push({ ruleId: 'label', severity: 'error', message, subject, object: l.seclabel ?? '', perms: [], provenance: [l.at, ...(domain ? [specLocation(ctx, domain.typeSpan)] : []), ...extra], help });
      };
      if (l.seclabel === undefined) {
        if (domain) problem(`the xl config of "${subject}" sets no seclabel, so Xen labels it with the domU initial SID (${ctx.model.sidTypes.get('domU') ?? 'domU_t'}), not ${domain.type}`, `add seclabel = "system_u:system_r:${domain.type}"`);
        continue;
      }
      if (!l.context) {
        problem(`seclabel "${l.seclabel}" of "${subject}" is not a user:role:type context`, 'write it as user:role:type, e.g. system_u:system_r:my_t');
        continue;
      }
      const { user, role, type } = l.context;
      const t = typeIndexOf(ctx.model, type);
      if (t === undefined) problem(`seclabel of "${subject}" names type ${type}, which the policy does not declare`, 'declare the type in the policy, or fix the label');
      const roleTypes = ctx.model.roles.get(role);
      if (role === 'object_r') problem(`role object_r is not authorised for type ${type} (seclabel of "${subject}"): object_r labels objects, never a running domain`, 'use the role the policy gives domains, e.g. system_r');
      else if (!roleTypes) problem(`seclabel of "${subject}" names role ${role}, which the policy does not declare`, 'use system_r, or declare the role');
      else if (t !== undefined && !roleTypes.has(t)) problem(`role ${role} is not authorised for type ${type} (seclabel of "${subject}")`, `add: role ${role} types ${type};`);
      const userRoles = ctx.model.users.get(user);
      if (!userRoles) problem(`seclabel of "${subject}" names user ${user}, which the policy does not declare`, 'use system_u, or declare the user');
      else if (roleTypes && !userRoles.has(role)) problem(`user ${user} is not authorised for role ${role} (seclabel of "${subject}")`, `add ${role} to the roles of user ${user}`);
      if (domain && domain.type !== type && typeIndexOf(ctx.model, domain.type) !== t) {
        problem(`"${subject}" runs as ${type}, but the spec declares it as ${domain.type}`, `set seclabel = "${user}:${role}:${domain.type}", or fix the spec`);
      }
    }
    return findings;
  },
};
