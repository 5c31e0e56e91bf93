// label — every xl label names a type, role and user the policy declares, with the role
// authorised for the type and the user for the role (else `xl create` fails, or the domain
// silently runs as something else), and each declared domain runs with the type the spec gives it.

import type { Finding, Location } from '../findings.js';
import { specLocation } from '../context.js';
import { typeIndexOf } from '../../policy/model/query.js';
import type { CheckRule } from './rule.js';
import { findingText, type FindingText } from '../messages.js';

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
      const problem = (message: FindingText, help: FindingText, extra: Location[] = []): void => {
        findings.push({ ruleId: 'label', severity: 'error', message, subject, object: l.seclabel ?? '', perms: [], provenance: [l.at, ...(domain ? [specLocation(ctx, domain.typeSpan)] : []), ...extra], help });
      };
      if (l.seclabel === undefined) {
        if (domain) problem(findingText('LabelMissing', [subject, ctx.model.sidTypes.get('domU') ?? 'domU_t', domain.type]), findingText('LabelAdd', [domain.type]));
        continue;
      }
      if (!l.context) {
        problem(findingText('LabelNotContext', [l.seclabel, subject]), findingText('LabelWriteContext'));
        continue;
      }
      const { user, role, type } = l.context;
      const t = typeIndexOf(ctx.model, type);
      if (t === undefined) problem(findingText('LabelUnknownType', [subject, type]), findingText('LabelDeclareType'));
      const roleTypes = ctx.model.roles.get(role);
      if (role === 'object_r') problem(findingText('LabelObjectRole', [type, subject]), findingText('LabelDomainRole'));
      else if (!roleTypes) problem(findingText('LabelUnknownRole', [subject, role]), findingText('LabelDeclareRole'));
      else if (t !== undefined && !roleTypes.has(t)) problem(findingText('LabelRoleType', [role, type, subject]), findingText('LabelAddRoleType', [role, type]));
      const userRoles = ctx.model.users.get(user);
      if (!userRoles) problem(findingText('LabelUnknownUser', [subject, user]), findingText('LabelDeclareUser'));
      else if (roleTypes && !userRoles.has(role)) problem(findingText('LabelUserRole', [user, role, subject]), findingText('LabelAddUserRole', [role, user]));
      if (domain && domain.type !== type && typeIndexOf(ctx.model, domain.type) !== t) {
        problem(findingText('LabelWrongType', [subject, type, domain.type]), findingText('LabelSetType', [user, role, domain.type]));
      }
    }
    return findings;
  },
};
