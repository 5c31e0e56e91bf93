// Shared wording for the renderers: the verdict, counts, and one-line forms of changes,
// so text, markdown and SARIF say the same thing the same way.

import type { AccessChange, AccessGain, CapabilityChange, DiffReport, Justification, Location, PermOn, PolicyDelta } from './types.js';

interface Counts {
  readonly addedPerms: number;
  readonly addedEntries: number;
  readonly removedPerms: number;
  readonly removedEntries: number;
}

export function counts(r: DiffReport): Counts {
  let addedPerms = 0, addedEntries = 0, removedPerms = 0, removedEntries = 0;
  for (const c of r.policy.access) {
    const pairs = c.pairs?.count ?? 1;
    addedPerms += c.added.length * pairs;
    removedPerms += c.removed.length * pairs;
    if (c.added.length) addedEntries += pairs;
    if (c.removed.length) removedEntries += pairs;
  }
  return { addedPerms, addedEntries, removedPerms, removedEntries };
}

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

export function verdict(r: DiffReport): string {
  const c = counts(r);
  const widened = `${plural(c.addedPerms, 'permission')} added (${plural(c.addedEntries, 'subject/object/class triple')})`;
  const narrowed = `${plural(c.removedPerms, 'permission')} removed (${plural(c.removedEntries, 'subject/object/class triple')})`;
  const xs = (r.spec?.xenstore.filter((x) => x.change === 'added').length ?? 0) + r.xenstore.filter((x) => x.change === 'added').length;
  const an = r.analyses.reduce((n, a) => n + a.added.length, 0);
  const p = r.policy;
  const permissive = p.permissive.added.filter((x) => x.gainCount > 0).length;
  const relabelled = p.objectLabels.filter((l) => l.gainCount > 0).length;
  const extra = [
    xs ? plural(xs, 'new xenstore reader') : '', an ? plural(an, 'new analysis finding') : '',
    permissive ? plural(permissive, 'new permissive type') : '', relabelled ? plural(relabelled, 'relabelled object') + ' with new access' : '',
    p.transitions.length ? plural(p.transitions.length, 'changed type transition') : '',
  ].filter(Boolean).join(', ');
  return r.newAccess
    ? `NEW ACCESS: ${widened}${extra ? `; ${extra}` : ''}; ${narrowed}`
    : `no new access: ${narrowed}`;
}

export function loc(l: Location | undefined): string {
  if (!l) return '?';
  return `${l.file}:${l.line}${l.column ? `:${l.column}` : ''}`;
}

export function permList(ps: readonly string[]): string {
  return ps.length === 1 ? (ps[0] as string) : `{ ${ps.join(' ')} }`;
}

/**
 * `domain2:vm_event` for the introspector on its target; the object is named when it is
 * not the target (`domain:getdomaininfo on domxen_t`), the subject when it is not the
 * introspector (`ubuntu_t_channel → tinyvmi_t event:bind`).
 */
export function permOn(p: PermOn, c: { readonly targetType: string; readonly introspectorType: string }): string {
  const base = p.subject === c.introspectorType && p.object === c.targetType ? `${p.cls}:${p.perm}` : p.subject === c.introspectorType ? `${p.cls}:${p.perm} on ${p.object}` : `${p.subject} → ${p.object} ${p.cls}:${p.perm}`;
  return base;
}

export function capabilityLine(c: CapabilityChange): string {
  const perms = (ps: readonly PermOn[]): string => ps.map((p) => permOn(p, c)).join(', ');
  return capabilityChangeLine(c, perms) + alreadyHeldNote(c, perms);
}

/** Why a gained capability adds less than it grants: OLD already held some of it through others. */
function alreadyHeldNote(c: CapabilityChange, perms: (ps: readonly PermOn[]) => string): string {
  if (!c.alreadyHeld) return '';
  const by = c.alreadyHeld.by.join(', ');
  return c.alreadyHeld.perms.length === c.added.length
    ? ` — no new permission: OLD already granted all of it through ${by}`
    : ` — ${perms(c.alreadyHeld.perms)} already granted in OLD through ${by}`;
}

function capabilityChangeLine(c: CapabilityChange, perms: (ps: readonly PermOn[]) => string): string {
  switch (c.change) {
    case 'gained': return `${c.introspector} gains ${c.capability} on ${c.target} → ${perms(c.added) || '(no permissions on this release)'}`;
    case 'lost': return `${c.introspector} loses ${c.capability} on ${c.target} → ${perms(c.removed) || '(no permissions)'}`;
    case 'changed': return `${c.introspector}'s ${c.capability} on ${c.target} changes: ${[c.added.length ? `+ ${perms(c.added)}` : '', c.removed.length ? `- ${perms(c.removed)}` : ''].filter(Boolean).join('; ')}`;
  }
}

export function accessLine(c: AccessChange, which: 'added' | 'removed'): string {
  return `${c.subject} ${c.object}:${c.cls} ${permList(which === 'added' ? c.added : c.removed)}`;
}

export function justificationLine(j: Justification): string {
  const parts = [loc(j.rule)];
  if (j.spec) parts.push(`spec ${loc(j.spec)}`);
  if (j.why) parts.push(j.why);
  if (j.condition) parts.push(`if (${j.condition})`);
  return `${parts.join(' · ')}${j.statement ? `: ${j.statement}` : ''}`;
}

/** `+ s t:c perms`, with the aggregate's count and examples when there is one. */
export function pairsNote(c: AccessChange): string {
  if (!c.pairs) return '';
  const more = c.pairs.examples.slice(1);
  return ` (${c.pairs.count} subject/object pairs with this change${more.length ? `, e.g. ${more.map((e) => `${e.subject} ${e.object}`).join(', ')}` : ''})`;
}

export function gainLine(g: AccessGain): string {
  return `${g.subject} ${g.object}:${g.cls} ${permList(g.perms)}`;
}

/**
 * The declaration changes of a policy diff, a line each, as every report writes them: types,
 * attributes, memberships, booleans, roles, constraints and other statements, type transitions.
 */
export function declarationLines(p: PolicyDelta): string[] {
  const decl: string[] = [];
  for (const t of p.types.added) decl.push(`+ type ${t}`);
  for (const t of p.types.removed) decl.push(`- type ${t}`);
  for (const a of p.attributes.added) decl.push(`+ attribute ${a}`);
  for (const a of p.attributes.removed) decl.push(`- attribute ${a}`);
  for (const m of p.memberships) decl.push(`${m.type}: ${[m.joined.length ? `joins ${m.joined.join(', ')}` : '', m.left.length ? `leaves ${m.left.join(', ')}` : ''].filter(Boolean).join('; ')}`);
  for (const b of p.booleans) decl.push(`bool ${b.name}: ${b.old ?? '(none)'} → ${b.new ?? '(none)'}`);
  for (const role of p.roles) decl.push(`role ${role.role}: ${[role.addedTypes.length ? `+ ${role.addedTypes.join(' ')}` : '', role.removedTypes.length ? `- ${role.removedTypes.join(' ')}` : ''].filter(Boolean).join('; ')}`);
  for (const c of p.constraints.added) decl.push(`+ ${c.text} (${loc(c.at)})`);
  for (const c of p.constraints.removed) decl.push(`- ${c.text} (${loc(c.at)})`);
  for (const c of p.statements.added) decl.push(`+ ${c.text} (${loc(c.at)})`);
  for (const c of p.statements.removed) decl.push(`- ${c.text} (${loc(c.at)})`);
  for (const t of p.transitions) decl.push(`transition ${t.source} ${t.target}:${t.cls}: ${t.old ?? '(default)'} → ${t.new ?? '(default)'}${t.rules.map((j) => ` [${j.side.toUpperCase()} ${loc(j.rule)}]`).join('')}${t.pairs ? ` (${t.pairs.count} source/target pairs with this change)` : ''}`);
  return decl;
}
