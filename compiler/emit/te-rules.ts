// Printing TE statements from IR pieces, shared by the module and standalone emitters.

import type { Vocabulary } from '../../catalog/vocabulary.js';
import type { Grant, Origin, TypeDecl, TypeTransition } from '../ir.js';
import { originKey } from '../lower.js';
import type { TextWriter } from './writer.js';

/** Grants merged into one allow statement: one (subject, object, class). */
interface AllowRule {
  readonly subject: string;
  readonly object: string;
  readonly cls: string;
  readonly perms: readonly string[];
  readonly grants: readonly Grant[];
}

export function ruleKey(subject: string, object: string, cls: string): string {
  return `${subject} ${object}:${cls}`;
}

/** Merges grants (already sorted) into allow rules, keeping first-seen order. */
export function mergeGrants(grants: readonly Grant[], vocab: Vocabulary): AllowRule[] {
  const groups = new Map<string, Grant[]>();
  // Grants of one rule mostly come one after another (a template line expands to a run of
  // permissions): a key is made only where the run changes, not once per permission.
  let run: Grant[] | undefined;
  let last: Grant | undefined;
  for (const g of grants) {
    if (!run || !last || g.subject !== last.subject || g.object !== last.object || g.cls !== last.cls) {
      const key = ruleKey(g.subject, g.object, g.cls);
      run = groups.get(key);
      if (!run) groups.set(key, (run = []));
    }
    run.push(g);
    last = g;
  }
  return [...groups.values()].map((list) => {
    const first = list[0] as Grant;
    return { subject: first.subject, object: first.object, cls: first.cls, perms: vocab.sortPerms(first.cls, list.map((g) => g.perm)), grants: list };
  });
}

function allowText(subject: string, object: string, cls: string, perms: readonly string[]): string {
  const set = perms.length === 1 ? (perms[0] as string) : `{ ${perms.join(' ')} }`;
  return `allow ${subject} ${object}:${cls} ${set};`;
}

/** Prints one allow; `markPrefix` names the section, so the manifest can find this line. */
export function printAllow(w: TextWriter, rule: AllowRule, markPrefix: string): void {
  if (w.marking) w.mark(markPrefix + ruleKey(rule.subject, rule.object, rule.cls));
  w.line(allowText(rule.subject, rule.object, rule.cls, rule.perms));
}

export function printTypes(w: TextWriter, types: readonly TypeDecl[]): void {
  for (const t of types) w.line(`type ${t.name}${t.attributes.length ? ', ' + t.attributes.join(', ') : ''};`);
}

export function printTransitions(w: TextWriter, transitions: readonly TypeTransition[]): void {
  for (const t of transitions) w.line(`type_transition ${t.source} ${t.target}:${t.cls} ${t.result};`);
}

/**
 * One comment line per reason a rule exists, e.g.
 * `# read-memory on ubuntu → map_read map_write (catalog B2 B4 B5)`. Reasons are grouped by origin so a
 * reviewer sees which declared capability each permission answers to.
 */
export function reasonComments(rule: AllowRule): string[] {
  const byOrigin = new Map<string, { origin: Origin; perms: string[] }>();
  for (const g of rule.grants) {
    const key = originKey(g.origin);
    const entry = byOrigin.get(key) ?? { origin: g.origin, perms: [] };
    if (!entry.perms.includes(g.perm)) entry.perms.push(g.perm);
    byOrigin.set(key, entry);
  }
  const reasons = [...byOrigin.values()];
  return reasons.map(({ origin, perms }) => {
    // A single reason for the whole rule needs no permission list: the rule below is it.
    const ordered = reasons.length === 1 ? '' : ' → ' + rule.perms.filter((p) => perms.includes(p)).join(' ');
    switch (origin.kind) {
      case 'capability': return `${origin.capability} on ${origin.target}${ordered} (catalog ${origin.catalog.join(' ')})`;
      case 'event-channel': return `vm_event channel with ${origin.target} for ${origin.capabilities.join(', ')}${ordered} (catalog ${origin.catalog.join(' ')})`;
      case 'xen-macro': return `${origin.macro}(${origin.args.join(', ')})${ordered}`;
      case 'domain-rule':
      case 'host-base': return `${origin.why}${ordered}`;
    }
  });
}
