// `diff --format html`: the verdict (new access or not), then what changed in the order a
// reviewer weighs it — capability-level changes first, then new escalations and flows, then
// permissions with each side's rule (and the boolean condition it is under), then
// permissive types, object labels, xenstore and declarations. Wording is the text report's
// (diff/summary.ts), every input string through the one escape.

import { capabilityLine, counts, declarationLines, gainLine, loc, pairsNote, permList, verdict } from '../../diff/summary.js';
import type { AccessChange, DiffReport, Justification } from '../../diff/types.js';
import { html } from './escape.js';
import { banner, locationHtml, NO_SOURCES, page, table, type Sources } from './page.js';
import { renderFindingText } from '../../checker/messages.js';
import { renderDiffText } from '../../diff/messages.js';

const code = (s: string): string => `<code>${html(s)}</code>`;

function section(id: string, title: string, body: readonly string[]): string {
  return body.length ? `<section aria-labelledby="${id}"><h2 id="${id}">${html(title)}</h2>${body.join('\n')}</section>` : '';
}

export function diffHtml(r: DiffReport, sources: Sources = NO_SOURCES): string {
  const c = counts(r);
  const headline = r.newAccess ? 'NEW ACCESS' : 'NO NEW ACCESS';
  const parts = [
    banner(!r.newAccess, headline, [`${r.old.label} → ${r.new.label}`, verdict(r)],
      table(['', 'added', 'removed'], [
        ['permissions', String(c.addedPerms), String(c.removedPerms)],
        ['subject/object/class triples', String(c.addedEntries), String(c.removedEntries)],
      ], 'Permission counts')),
  ];
  if (r.notes.length) parts.push(section('vp-notes', 'What the diff did not compare', [`<ul>${r.notes.map((n) => `<li>${html(renderDiffText(n))}</li>`).join('')}</ul>`]));
  if (r.spec) parts.push(specSection(r.spec, sources));
  parts.push(section('vp-analyses', 'New escalations and flows', r.analyses.filter((a) => a.added.length || a.removed.length).map((a) => {
    const items = [
      ...a.added.map((i) => `<li><span class="vp-added">+ new</span> ${html(renderFindingText(i.message))}${i.witness ? `<ol class="vp-path">${i.witness.map((w) => `<li>${html(renderDiffText(w.step))}${w.rule ? ` <span class="vp-from">${html(loc(w.rule))}</span>` : ''}</li>`).join('')}</ol>` : ''}${i.location ? locationHtml(i.location, sources) : ''}</li>`),
      ...a.removed.map((i) => `<li><span class="vp-removed">− gone</span> ${html(renderFindingText(i.message))}</li>`),
    ];
    return `<h3>${html(a.analysis)}</h3><ul>${items.join('')}</ul>`;
  })));
  parts.push(permissionsSection(r));
  parts.push(permissiveSection(r));
  parts.push(section('vp-xenstore', 'xenstore ACLs (dumps)', r.xenstore.length ? [table(['node', 'domain', 'change', 'access'], r.xenstore.map((x) => [code(x.node), code(x.reader), x.change === 'added' ? '<span class="vp-added">gains</span>' : '<span class="vp-removed">loses</span>', html(x.why ?? '')]))] : []));
  parts.push(declarationsSection(r));
  return page(`vmipolicy diff: ${headline} — ${r.old.label} → ${r.new.label}`, parts.filter(Boolean).join('\n'));
}

function specSection(s: NonNullable<DiffReport['spec']>, sources: Sources): string {
  const general: string[] = [];
  if (s.xen) general.push(`Xen ${html(s.xen.old)} → ${html(s.xen.new)}${s.xen.vocabulary.map((v) => ` · class ${code(v.cls)}${v.added.length ? ` + ${code(v.added.join(' '))}` : ''}${v.removed.length ? ` − ${code(v.removed.join(' '))}` : ''}`).join('')}`);
  if (s.mode) general.push(`policy mode ${html(s.mode.old)} → ${html(s.mode.new)}`);
  for (const d of s.domains.added) general.push(`<span class="vp-added">new</span> ${html(d.role)} ${code(d.name)} (${code(d.type)}, ${html(d.guest)}) at ${code(loc(d.spec))}`);
  for (const d of s.domains.removed) general.push(`<span class="vp-removed">removed</span> ${html(d.role)} ${code(d.name)} (${code(d.type)}, ${html(d.guest)})`);
  for (const d of s.domainChanges) general.push(`${code(d.name)}: ${html(d.field)} ${code(d.old)} → ${code(d.new)} at ${code(loc(d.spec))}`);
  for (const t of s.targets) {
    if (t.added.length) general.push(`${code(t.introspector)} <span class="vp-added">now targets</span> ${t.added.map(code).join(', ')} (${code(loc(t.spec))})`);
    if (t.removed.length) general.push(`${code(t.introspector)} <span class="vp-removed">no longer targets</span> ${t.removed.map(code).join(', ')}`);
  }
  for (const l of s.labels) general.push(`xl ${code(l.domain)}: ${code(l.key)} ${code(l.old ?? '(unset)')} → ${code(l.new ?? '(unset)')}`);
  for (const x of s.xenstore) general.push(`xenstore ${code(x.node)}: ${x.change === 'added' ? '<span class="vp-added">adds</span>' : '<span class="vp-removed">drops</span>'} reader ${code(x.reader)}${x.why ? ` — ${html(x.why)}` : ''}`);
  const body: string[] = [];
  body.push(s.capabilities.length
    ? table(['change', 'introspector', 'capability', 'target', 'what it means', 'spec'], s.capabilities.map((x) => [
      x.change === 'gained' ? '<span class="vp-added">gains</span>' : x.change === 'lost' ? '<span class="vp-removed">loses</span>' : 'changes',
      code(x.introspector), code(x.capability), code(x.target), html(capabilityLine(x)), x.spec ? code(loc(x.spec)) : '',
    ]))
    : '<p>No capability changes.</p>');
  for (const x of s.capabilities) if (x.spec && x.change !== 'lost') {
    const snippet = sources(x.spec.file, x.spec.line);
    if (snippet) body.push(`<details><summary>${html(`${x.introspector} ${x.capability} on ${x.target}`)}: the spec line</summary>${locationHtml({ ...x.spec, kind: 'spec' }, sources)}</details>`);
  }
  if (general.length) body.push('<h3>Other spec changes</h3>', `<ul>${general.map((g) => `<li>${g}</li>`).join('')}</ul>`);
  return section('vp-capabilities', 'Capability changes', body);
}

function ruleCell(rules: readonly Justification[], side: 'old' | 'new'): string {
  return rules.filter((j) => j.side === side).map((j) => {
    const bits = [j.rule ? code(loc(j.rule)) : '', j.spec ? `spec ${code(loc(j.spec))}` : '', j.why ? html(j.why) : '', j.condition ? `if ${code(`(${j.condition})`)}` : ''].filter(Boolean).join(' · ');
    return `${bits}${j.statement ? `<br>${code(j.statement)}` : ''}`;
  }).join('<hr>');
}

function permissionsSection(r: DiffReport): string {
  const bySubject = new Map<string, AccessChange[]>();
  for (const a of r.policy.access) bySubject.set(a.subject, [...(bySubject.get(a.subject) ?? []), a]);
  const c = counts(r);
  if (!bySubject.size) return section('vp-permissions', 'Permissions', ['<p>No permission changes.</p>']);
  const body = [...bySubject].map(([subject, rows]) => {
    const added = rows.reduce((n, a) => n + a.added.length, 0);
    const removed = rows.reduce((n, a) => n + a.removed.length, 0);
    return `<details${added ? ' open' : ''}><summary>${code(subject)}: ${added} added, ${removed} removed</summary>${table(['object', 'class', 'added', 'removed', 'conditions', 'NEW rule', 'OLD rule'], rows.map((a) => [
      `${code(a.object)}${a.pairs ? html(pairsNote(a)) : ''}`,
      code(a.cls),
      a.added.length ? `<span class="vp-added">${code(permList(a.added))}</span>` : '',
      a.removed.length ? `<span class="vp-removed">${code(permList(a.removed))}</span>` : '',
      a.conditions.map((k) => `${code(k.perm)}: when ${code(k.old)} → when ${code(k.new)}`).join('<br>'),
      ruleCell(a.rules, 'new'),
      ruleCell(a.rules, 'old'),
    ]))}</details>`;
  });
  return section('vp-permissions', `Permissions (${c.addedPerms} added, ${c.removedPerms} removed)`, body);
}

function permissiveSection(r: DiffReport): string {
  const p = r.policy;
  const items: string[] = [];
  for (const x of p.permissive.added) items.push(`<li><span class="vp-added">+ permissive</span> ${code(x.type)} (${code(loc(x.at))}): every denial is allowed — ${x.gainCount} object/class pairs${x.gains.length ? `, e.g. ${x.gains.map((g) => code(gainLine(g))).join(', ')}` : ''}</li>`);
  for (const x of p.permissive.removed) items.push(`<li><span class="vp-removed">− permissive</span> ${code(x.type)}</li>`);
  for (const l of p.objectLabels) {
    items.push(`<li>${code(l.resource)}: ${code(l.oldType ?? '(unlabelled)')} → ${code(l.newType ?? '(unlabelled)')}${l.gainCount ? ` — <span class="vp-added">${l.gainCount} new grants</span>, e.g. ${l.gains.map((g) => code(gainLine(g))).join(', ')}` : ''}<br>OLD ${l.old ? code(`${loc(l.old.at)}: ${l.old.text}`) : '—'}<br>NEW ${l.new ? code(`${loc(l.new.at)}: ${l.new.text}`) : '—'}</li>`);
  }
  return section('vp-permissive', 'Permissive types and object labels', items.length ? [`<ul>${items.join('')}</ul>`] : []);
}

function declarationsSection(r: DiffReport): string {
  const d = declarationLines(r.policy);
  return section('vp-declarations', 'Declarations', d.length ? [`<ul>${d.map((x) => `<li><code>${html(x)}</code></li>`).join('')}</ul>`] : []);
}
