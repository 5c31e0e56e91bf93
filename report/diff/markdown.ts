// The diff as a pull-request comment: a verdict line, a table per introspector (spec
// changes in capability terms) or per subject (permissions), and the raw detail folded in a
// <details> block. GitHub refuses a comment over 65 536 characters, so the whole comment has
// one budget (COMMENT_BUDGET, counted in UTF-8 bytes, which are never fewer than characters):
// sections go in by importance — verdict, capability changes, analyses such as new
// escalations, permissive types and object labels, xenstore, permissions, raw detail — and
// what does not fit is cut at a line with a note that counts what was left out and points to
// the JSON report, never silently.

import { renderText } from './text.js';
import { counts, gainLine, loc, pairsNote, permList, permOn, verdict } from '../../diff/summary.js';
import type { AccessChange, DiffReport } from '../../diff/types.js';
import { renderFindingText } from '../../checker/messages.js';
import { renderDiffText } from '../../diff/messages.js';
import { compareCodePoints } from '../../core/compare.js';
import { md } from '../markdown.js';

const MAX_SUBJECT_TABLES = 40;
const MAX_ROWS = 60;
const MAX_RAW = 40_000;
/** Well under GitHub's 65 536: room for a workflow's marker line and a header of its own. */
export const COMMENT_BUDGET = 60_000;

/** An input-derived string in a monospace span; `<code>` rather than backticks, so md's escapes (report/markdown.ts) hold. */
function code(s: string): string {
  return `<code>${md(s)}</code>`;
}

export function renderMarkdown(r: DiffReport, budget = COMMENT_BUDGET): string {
  const c = counts(r);
  const comment = new BudgetedComment(budget);
  comment.add('verdict', [
    `### vmipolicy diff: ${r.newAccess ? '⚠️ new access' : '✅ no new access'}`,
    '',
    `${code(r.old.label)} → ${code(r.new.label)}: ${md(verdict(r))}.`,
    '',
  ]);
  // Notes qualify the verdict (what the diff could not compare), so they come with it.
  if (r.notes.length) comment.add('notes', [...r.notes.map((n) => `> ${md(renderDiffText(n))}`), '']);
  if (r.spec) comment.add('capability changes', specLines(r.spec));
  comment.add('analyses', analysisLines(r));
  comment.add('permissive types and object labels', permissiveLines(r));
  comment.add('xenstore ACLs', xenstoreLines(r));
  comment.add(`permissions (${c.addedPerms} added, ${c.removedPerms} removed)`, permissionLines(r));
  comment.add('raw detail', rawLines(r), ['', '</details>', '']);
  return comment.text();
}

/**
 * Lines appended in order until the next would pass the budget; from then on each section
 * is only named in the closing note. A room is kept for that note, so it always fits.
 */
function bytes(line: string): number {
  return Buffer.byteLength(line, 'utf8') + 1;
}

class BudgetedComment {
  private readonly lines: string[] = [];
  private used = 0;
  private readonly cut: string[] = [];
  private static readonly NOTE_ROOM = 2_000;

  constructor(private readonly budget: number) {}

  /** `close` ends the section however much of it fitted (the end of a <details> block). */
  add(section: string, lines: readonly string[], close: readonly string[] = []): void {
    if (!lines.length) return;
    if (this.cut.length) {
      this.cut.push(`${section} (not shown)`);
      return;
    }
    const room = this.budget - BudgetedComment.NOTE_ROOM - close.reduce((n, l) => n + bytes(l), 0);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (this.used + bytes(line) > room) {
        this.cut.push(`${section} (cut after ${i} of ${lines.length} lines)`);
        // A table cut mid-way still ends before the note, which is a paragraph of its own.
        this.lines.push('', ...(i ? close : []));
        return;
      }
      this.lines.push(line);
      this.used += bytes(line);
    }
    this.lines.push(...close);
    this.used += close.reduce((n, l) => n + bytes(l), 0);
  }

  text(): string {
    if (this.cut.length) {
      this.lines.push(`_Cut to fit GitHub's comment limit: ${this.cut.map(md).join('; ')}. Everything is in the JSON report (\`vmipolicy diff --format json\`; upload it as an artifact)._`, '');
    }
    return this.lines.join('\n');
  }
}

function specLines(s: NonNullable<DiffReport['spec']>): string[] {
  const out: string[] = [];
  const general: string[] = [];
  if (s.xen) general.push(`- Xen ${md(s.xen.old)} → ${md(s.xen.new)} (permission vocabulary: ${s.xen.vocabulary.reduce((n, v) => n + v.added.length, 0)} added, ${s.xen.vocabulary.reduce((n, v) => n + v.removed.length, 0)} removed)`);
  if (s.mode) general.push(`- policy mode ${md(s.mode.old)} → ${md(s.mode.new)}`);
  for (const group of groupBy(s.domains.added, (d) => `${d.role} ${d.guest}`)) {
    const [first] = group as [(typeof group)[number]];
    if (group.length <= NAMED_IN_A_ROW) for (const d of group) general.push(`- new ${md(d.role)} ${code(d.name)} (${code(d.type)}, ${md(d.guest)})`);
    else general.push(`- ${group.length} new ${md(first.role)}s (${md(first.guest)}): ${group.slice(0, NAMED_IN_A_ROW).map((d) => code(d.name)).join(', ')} and ${group.length - NAMED_IN_A_ROW} more`);
  }
  for (const d of s.domains.removed) general.push(`- removed ${md(d.role)} ${code(d.name)}`);
  for (const d of s.domainChanges) general.push(`- ${code(d.name)}: ${md(d.field)} ${code(d.old)} → ${code(d.new)}`);
  // A new domain's first label is its type, already on its line above.
  const added = new Set(s.domains.added.map((d) => d.name));
  for (const l of s.labels.filter((x) => !(x.old === undefined && added.has(x.domain)))) general.push(`- xl ${code(l.domain)}: ${code(l.key)} ${code(l.old ?? '(unset)')} → ${code(l.new ?? '(unset)')}`);
  for (const x of s.xenstore) general.push(`- xenstore ${code(x.node)}: ${x.change === 'added' ? '**adds**' : 'drops'} reader ${code(x.reader)}${x.why ? ` — ${md(x.why)}` : ''}`);
  if (general.length) out.push('#### Spec changes', '', ...general, '');
  const introspectors = [...new Set([...s.capabilities.map((x) => x.introspector), ...s.targets.map((t) => t.introspector)])].sort(compareCodePoints);
  for (const name of introspectors) {
    out.push(`#### Introspector ${code(name)}`, '', '| change | target | capability | permissions | spec |', '|---|---|---|---|---|');
    // One row per change, listing every target it applies to: a fleet of new targets is a
    // few rows, not one per target and capability.
    const rows = new RowsByTarget();
    for (const t of s.targets.filter((x) => x.introspector === name)) {
      for (const a of t.added) rows.add(['➕ target', '', '', code(loc(t.spec))], a);
      for (const a of t.removed) rows.add(['➖ target', '', '', ''], a);
    }
    for (const x of s.capabilities.filter((y) => y.introspector === name)) {
      const mark = x.change === 'gained' ? '➕ gains' : x.change === 'lost' ? '➖ loses' : '✏️ changes';
      const perms = [...x.added.map((p) => `+${permOn(p, x)}`), ...x.removed.map((p) => `−${permOn(p, x)}`)];
      const held = x.alreadyHeld ? ` (already granted in OLD through ${x.alreadyHeld.by.join(', ')}: ${x.alreadyHeld.perms.map((p) => permOn(p, x)).join(', ')})` : '';
      rows.add([mark, code(x.capability), md(perms.join(', ') + held) || '—', x.spec ? code(loc(x.spec)) : ''], x.target);
    }
    out.push(...rows.lines(), '');
  }
  if (s.capabilities.length === 0 && introspectors.length === 0) out.push('_No capability changes._', '');
  return out;
}

/** How many names a row or list item shows before "and N more". */
const NAMED_IN_A_ROW = 8;

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

/** Table rows (change, capability, permissions, spec) keyed by their cells, each with its targets in first-seen order. */
class RowsByTarget {
  private readonly rows = new Map<string, { readonly cells: readonly string[]; readonly targets: string[] }>();

  add(cells: readonly [string, string, string, string], target: string): void {
    const key = cells.join('\u0000');
    const row = this.rows.get(key);
    if (row) row.targets.push(target);
    else this.rows.set(key, { cells, targets: [target] });
  }

  lines(): string[] {
    return [...this.rows.values()].map(({ cells: [mark, capability, perms, spec], targets }) => {
      const named = targets.slice(0, NAMED_IN_A_ROW).map(code).join(', ');
      const more = targets.length > NAMED_IN_A_ROW ? ` and ${targets.length - NAMED_IN_A_ROW} more (${targets.length} targets)` : '';
      return `| ${mark} | ${named}${more} | ${capability} | ${perms} | ${spec} |`;
    });
  }
}

function permissionLines(r: DiffReport): string[] {
  const out: string[] = [];
  const c = counts(r);
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
  return out;
}

function permissiveLines(r: DiffReport): string[] {
  const out: string[] = [];
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
  return out;
}

function xenstoreLines(r: DiffReport): string[] {
  const out: string[] = [];
  if (r.xenstore.length) {
    out.push('#### xenstore ACLs (dumps)', '', '| node | domain | change | access |', '|---|---|---|---|');
    for (const x of r.xenstore) out.push(`| ${code(x.node)} | ${code(x.reader)} | ${x.change === 'added' ? '➕ gains' : '➖ loses'} | ${code(x.why ?? '')} |`);
    out.push('');
  }
  return out;
}

function analysisLines(r: DiffReport): string[] {
  const out: string[] = [];
  for (const a of r.analyses) {
    if (!a.added.length && !a.removed.length) continue;
    out.push(`#### ${md(a.analysis)}`, '', ...a.added.map((i) => `- ➕ ${md(renderFindingText(i.message))}`), ...a.removed.map((i) => `- ➖ ${md(renderFindingText(i.message))}`), '');
  }
  return out;
}

/** The text report, line by line through the one escape, in a <details> block its caller closes. */
function rawLines(r: DiffReport): string[] {
  let raw = renderText(r);
  if (raw.length > MAX_RAW) raw = `${raw.slice(0, MAX_RAW)}\n… cut at ${MAX_RAW} characters; run vmipolicy diff locally for the rest\n`;
  // Line by line through the one escape (a code fence could be closed by the text it holds);
  // indentation as no-break spaces, which markdown does not read as an indented code block.
  const lines = raw.trimEnd().split('\n').map((l) => {
    const body = l.trimStart();
    return `${'\u00a0'.repeat(l.length - body.length)}${md(body)}<br>`;
  });
  return ['<details><summary>Raw detail</summary>', '', ...lines];
}
