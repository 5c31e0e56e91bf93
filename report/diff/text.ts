// The diff as text for a terminal: verdict first, then spec-level changes in capability
// terms, then raw permissions (each with its rules), declarations, analyses and notes.

import { accessLine, capabilityLine, declarationLines, gainLine, justificationLine, loc, pairsNote, verdict } from '../../diff/summary.js';
import type { DiffReport } from '../../diff/types.js';
import { terminalSafe } from '../../core/terminal.js';
import { renderFindingText } from '../../checker/messages.js';
import { renderDiffText } from '../../diff/messages.js';

export function renderText(r: DiffReport): string {
  const out: string[] = [`vmipolicy diff ${r.old.label} → ${r.new.label}`, verdict(r), ''];
  const section = (title: string, lines: string[]): void => {
    if (lines.length) out.push(`${title}:`, ...lines.map((l) => `  ${l}`), '');
  };
  const s = r.spec;
  if (s) {
    const lines: string[] = [];
    if (s.xen) {
      lines.push(`Xen ${s.xen.old} → ${s.xen.new}`);
      for (const v of s.xen.vocabulary) lines.push(`  class ${v.cls}: ${[v.added.length ? `+ ${v.added.join(' ')}` : '', v.removed.length ? `- ${v.removed.join(' ')}` : ''].filter(Boolean).join('; ')}`);
    }
    if (s.mode) lines.push(`policy mode ${s.mode.old} → ${s.mode.new}`);
    for (const d of s.domains.added) lines.push(`new ${d.role} ${d.name} (${d.type}, ${d.guest}) at ${loc(d.spec)}`);
    for (const d of s.domains.removed) lines.push(`removed ${d.role} ${d.name} (${d.type}, ${d.guest})`);
    for (const d of s.domainChanges) lines.push(`${d.name}: ${d.field} ${d.old} → ${d.new} at ${loc(d.spec)}`);
    for (const t of s.targets) {
      if (t.added.length) lines.push(`${t.introspector} now targets ${t.added.join(', ')} (${loc(t.spec)})`);
      if (t.removed.length) lines.push(`${t.introspector} no longer targets ${t.removed.join(', ')}`);
    }
    for (const c of s.capabilities) lines.push(`${capabilityLine(c)}${c.spec ? ` (${loc(c.spec)})` : ''}`);
    for (const l of s.labels) lines.push(`xl ${l.domain}: ${l.key} ${l.old ?? '(unset)'} → ${l.new ?? '(unset)'}`);
    for (const x of s.xenstore) lines.push(`xenstore ${x.node}: ${x.change === 'added' ? 'adds' : 'drops'} reader ${x.reader}${x.why ? ` — ${x.why}` : ''}${x.spec ? ` (${loc(x.spec)})` : ''}`);
    section('Spec changes', lines);
  }
  const p = r.policy;
  const access: string[] = [];
  for (const c of p.access) {
    // Each direction with the rules of the side where the access exists.
    for (const [which, mark, side] of [['added', '+', 'new'], ['removed', '-', 'old']] as const) {
      if (!c[which].length) continue;
      access.push(`${mark} ${accessLine(c, which)}${pairsNote(c)}`);
      for (const k of c.conditions) if (c[which].includes(k.perm)) access.push(`    ${k.perm}: when ${k.old} → when ${k.new}`);
      for (const j of c.rules) if (j.side === side) access.push(`    ${side.toUpperCase()} ${justificationLine(j)}`);
    }
  }
  section('Permissions', access);
  const beyond: string[] = [];
  for (const x of p.permissive.added) {
    beyond.push(`+ permissive ${x.type} (${loc(x.at)}): Xen allows every denial of ${x.type} — ${x.gainCount} object/class pairs OLD denied something`);
    for (const g of x.gains) beyond.push(`    + ${gainLine(g)}`);
  }
  for (const x of p.permissive.removed) beyond.push(`- permissive ${x.type} (${loc(x.at)})`);
  for (const l of p.objectLabels) {
    beyond.push(`${l.gainCount ? '+' : '~'} ${l.resource}: ${l.oldType ?? '(unlabelled)'} → ${l.newType ?? '(unlabelled)'}${l.gainCount ? ` — ${l.gainCount} new grants` : ''}`);
    beyond.push(`    OLD ${l.old ? `${loc(l.old.at)}: ${l.old.text}` : '(no statement)'}`);
    beyond.push(`    NEW ${l.new ? `${loc(l.new.at)}: ${l.new.text}` : '(no statement)'}`);
    for (const g of l.gains) beyond.push(`    + ${gainLine(g)}`);
  }
  section('Permissive types and object labels', beyond);
  section('Declarations', declarationLines(r.policy));
  for (const a of r.analyses) {
    section(`${a.analysis}`, [
      ...a.added.map((i) => `+ ${renderFindingText(i.message)}${i.witness ? ` via ${i.witness.map((w) => `${renderDiffText(w.step)}${w.rule ? ` [${loc(w.rule)}]` : ''}`).join(' → ')}` : ''}`),
      ...a.removed.map((i) => `- ${renderFindingText(i.message)}`),
    ]);
  }
  section('xenstore (dumps)', r.xenstore.map((x) => `${x.change === 'added' ? '+' : '-'} ${x.node}: ${x.reader} ${x.why ?? ''}`.trimEnd()));
  section('Notes', r.notes.map((n) => renderDiffText(n)));
  // Labels, type names, #line file names and rule texts all come from the inputs: each line
  // is escaped whole (the fixed words around them hold nothing terminalSafe changes), and a
  // newline inside an input string stays inside its line as "\n".
  return out.map(terminalSafe).join('\n').replace(/\n+$/, '') + '\n';
}
