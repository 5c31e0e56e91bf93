// The diff as a pull-request comment: a verdict line, a table per introspector (spec
// changes in capability terms) or per subject (permissions), and the raw detail folded in a
// <details> block. GitHub caps a comment at 65 536 characters, so tables and the raw detail
// are cut with a note, never silently.

import { renderText } from './render-text.js';
import { counts, gainLine, loc, pairsNote, permList, permOn, verdict } from './summary.js';
import type { AccessChange, DiffReport } from './types.js';

const MAX_SUBJECT_TABLES = 40;
const MAX_ROWS = 60;
const MAX_RAW = 40_000;

/**
 * The one escape for every input-derived string (names, labels, file names from `#line`
 * markers, conditions, messages): what GitHub renders is the text as written, nothing it
 * would interpret. CommonMark lets a backslash escape any ASCII punctuation, so every one
 * is escaped — HTML tags, entities, links, images, emphasis, headings, lists, tables, code
 * spans and fences. GitHub's mentions (`@org/team`), issue references (`#12`) and extended
 * autolinks (`https://…`, `www.…`) are recognised in the rendered text, after escapes are
 * undone, so a WORD JOINER (U+2060, invisible) is put after `@`, `#` and `:` and inside
 * `www.` to break them. Line breaks and tabs become spaces (a cell is one line); other
 * control characters, and the bidirectional overrides that make text read other than it
 * is, become U+FFFD.
 */
export function md(s: string): string {
  let out = '';
  for (const ch of s.replace(/[\r\n\t]+/g, ' ').replace(UNPRINTABLE, '\uFFFD')) {
    if (ASCII_PUNCTUATION.test(ch)) out += `\\${ch}`;
    else out += ch;
    if (ch === '@' || ch === '#' || ch === ':') out += WORD_JOINER;
  }
  return out.replace(/(w)(w)(w)(\\\.)/gi, `$1$2$3${WORD_JOINER}$4`);
}

const WORD_JOINER = '\u2060';
const ASCII_PUNCTUATION = /^[!-/:-@[-`{-~]$/;
/** C0 and C1 controls, DEL, line/paragraph separators, bidirectional embeddings, overrides and isolates. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** An input-derived string in a monospace span; `<code>` rather than backticks, so the escapes above hold. */
function code(s: string): string {
  return `<code>${md(s)}</code>`;
}

export function renderMarkdown(r: DiffReport): string {
  const c = counts(r);
  const out: string[] = [
    `### vmipolicy diff: ${r.newAccess ? '⚠️ new access' : '✅ no new access'}`,
    '',
    `${code(r.old.label)} → ${code(r.new.label)}: ${md(verdict(r))}.`,
    '',
  ];
  const s = r.spec;
  if (s) {
    const general: string[] = [];
    if (s.xen) general.push(`- Xen ${md(s.xen.old)} → ${md(s.xen.new)} (permission vocabulary: ${s.xen.vocabulary.reduce((n, v) => n + v.added.length, 0)} added, ${s.xen.vocabulary.reduce((n, v) => n + v.removed.length, 0)} removed)`);
    if (s.mode) general.push(`- policy mode ${md(s.mode.old)} → ${md(s.mode.new)}`);
    for (const d of s.domains.added) general.push(`- new ${md(d.role)} ${code(d.name)} (${code(d.type)}, ${md(d.guest)})`);
    for (const d of s.domains.removed) general.push(`- removed ${md(d.role)} ${code(d.name)}`);
    for (const d of s.domainChanges) general.push(`- ${code(d.name)}: ${md(d.field)} ${code(d.old)} → ${code(d.new)}`);
    for (const l of s.labels) general.push(`- xl ${code(l.domain)}: ${code(l.key)} ${code(l.old ?? '(unset)')} → ${code(l.new ?? '(unset)')}`);
    for (const x of s.xenstore) general.push(`- xenstore ${code(x.node)}: ${x.change === 'added' ? '**adds**' : 'drops'} reader ${code(x.reader)}${x.why ? ` — ${md(x.why)}` : ''}`);
    if (general.length) out.push('#### Spec changes', '', ...general, '');
    const introspectors = [...new Set([...s.capabilities.map((x) => x.introspector), ...s.targets.map((t) => t.introspector)])].sort();
    for (const name of introspectors) {
      out.push(`#### Introspector ${code(name)}`, '', '| change | target | capability | permissions | spec |', '|---|---|---|---|---|');
      for (const t of s.targets.filter((x) => x.introspector === name)) {
        for (const a of t.added) out.push(`| ➕ target | ${code(a)} | | | ${code(loc(t.spec))} |`);
        for (const a of t.removed) out.push(`| ➖ target | ${code(a)} | | | |`);
      }
      for (const x of s.capabilities.filter((y) => y.introspector === name)) {
        const mark = x.change === 'gained' ? '➕ gains' : x.change === 'lost' ? '➖ loses' : '✏️ changes';
        const perms = [...x.added.map((p) => `+${permOn(p, x)}`), ...x.removed.map((p) => `−${permOn(p, x)}`)];
        const held = x.alreadyHeld ? ` (already granted in OLD through ${x.alreadyHeld.by.join(', ')}: ${x.alreadyHeld.perms.map((p) => permOn(p, x)).join(', ')})` : '';
        out.push(`| ${mark} | ${code(x.target)} | ${code(x.capability)} | ${md(perms.join(', ') + held) || '—'} | ${x.spec ? code(loc(x.spec)) : ''} |`);
      }
      out.push('');
    }
    if (s.capabilities.length === 0 && introspectors.length === 0) out.push('_No capability changes._', '');
  }
  const bySubject = new Map<string, AccessChange[]>();
  for (const a of r.policy.access) bySubject.set(a.subject, [...(bySubject.get(a.subject) ?? []), a]);
  if (bySubject.size) {
    out.push(`#### Permissions (${c.addedPerms} added, ${c.removedPerms} removed)`, '');
    let tables = 0;
    for (const [subject, rows] of bySubject) {
      if (tables++ === MAX_SUBJECT_TABLES) {
        out.push(`_…and ${bySubject.size - MAX_SUBJECT_TABLES} more subjects: see the raw detail or \`--format json\`._`, '');
        break;
      }
      out.push(`**${code(subject)}**`, '', '| object | class | added | removed | rule (NEW / OLD) |', '|---|---|---|---|---|');
      for (const a of rows.slice(0, MAX_ROWS)) {
        const rules = a.rules.map((j) => md(`${j.side === 'new' ? 'NEW' : 'OLD'} ${loc(j.rule)}${j.spec ? ` (spec ${loc(j.spec)})` : ''}${j.condition ? ` if (${j.condition})` : ''}`)).join('<br>');
        out.push(`| ${code(a.object)}${a.pairs ? md(pairsNote(a)) : ''} | ${code(a.cls)} | ${a.added.length ? code(permList(a.added)) : ''} | ${a.removed.length ? code(permList(a.removed)) : ''} | ${rules} |`);
      }
      if (rows.length > MAX_ROWS) out.push(`| _…${rows.length - MAX_ROWS} more_ | | | | |`);
      out.push('');
    }
  } else {
    out.push('_No permission changes._', '');
  }
  const p = r.policy;
  if (p.permissive.added.length || p.permissive.removed.length || p.objectLabels.length) {
    out.push('#### Permissive types and object labels', '');
    for (const x of p.permissive.added) out.push(`- ➕ permissive ${code(x.type)} (${code(loc(x.at))}): every denial is allowed — ${x.gainCount} object/class pairs, e.g. ${x.gains.map((g) => code(gainLine(g))).join(', ')}`);
    for (const x of p.permissive.removed) out.push(`- ➖ permissive ${code(x.type)}`);
    for (const l of p.objectLabels) {
      out.push(`- ${l.gainCount ? '➕' : '✏️'} ${code(l.resource)}: ${code(l.oldType ?? '(unlabelled)')} → ${code(l.newType ?? '(unlabelled)')}${l.gainCount ? ` — ${l.gainCount} new grants, e.g. ${l.gains.map((g) => code(gainLine(g))).join(', ')}` : ''}<br>OLD ${l.old ? code(`${loc(l.old.at)}: ${l.old.text}`) : '—'}<br>NEW ${l.new ? code(`${loc(l.new.at)}: ${l.new.text}`) : '—'}`);
    }
    out.push('');
  }
  if (r.xenstore.length) {
    out.push('#### xenstore ACLs (dumps)', '', '| node | domain | change | access |', '|---|---|---|---|');
    for (const x of r.xenstore) out.push(`| ${code(x.node)} | ${code(x.reader)} | ${x.change === 'added' ? '➕ gains' : '➖ loses'} | ${code(x.why ?? '')} |`);
    out.push('');
  }
  for (const a of r.analyses) {
    if (!a.added.length && !a.removed.length) continue;
    out.push(`#### ${md(a.analysis)}`, '', ...a.added.map((i) => `- ➕ ${md(i.message)}`), ...a.removed.map((i) => `- ➖ ${md(i.message)}`), '');
  }
  let raw = renderText(r);
  if (raw.length > MAX_RAW) raw = `${raw.slice(0, MAX_RAW)}\n… cut at ${MAX_RAW} characters; run vmipolicy diff locally for the rest\n`;
  // Line by line through the one escape (a code fence could be closed by the text it holds);
  // indentation as no-break spaces, which markdown does not read as an indented code block.
  const rawLines = raw.trimEnd().split('\n').map((l) => {
    const body = l.trimStart();
    return `${'\u00a0'.repeat(l.length - body.length)}${md(body)}<br>`;
  });
  out.push('<details><summary>Raw detail</summary>', '', ...rawLines, '', '</details>', '');
  if (r.notes.length) out.push(...r.notes.map((n) => `> ${md(n)}`), '');
  return out.join('\n');
}
