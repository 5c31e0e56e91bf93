// Explained denials as text (grouped by what to do, each with the spec change or the finding,
// the hooks behind it and the log lines that printed it), JSON (the same data, with line and
// column) and markdown (for a PR comment or a ticket). The sentences are made once
// (`advice`) and escaped per format: every name in them came from the log or the spec.

import type { Located } from '../core/located.js';
import type { SourceSpan } from '../core/diagnostics.js';
import { terminalSafe as safe } from '../core/terminal.js';
import type { Origin } from '../compiler/ir.js';
import { concernsSpec, EXPLANATION_ORDER, type Candidate, type Denial, type Explanation, type ExplanationKind, type ExplainReport, type Party, type DeployedAnswer } from '../explain/explain.js';
import { COMMENT_BUDGET } from './diff/markdown.js';
import { md } from './markdown.js';

/** Turns a span of the log or the spec into line and column (undefined: neither text has it). */
type Locate = (span: SourceSpan) => Located | undefined;

const HEADINGS: Readonly<Record<ExplanationKind, string>> = {
  'no-capability': 'no capability needs it',
  'missing-capability': 'a capability is missing',
  'not-a-target': 'not a target of the introspector',
  'granted': 'the spec grants it: the deployed policy or labels differ',
  'outside-spec': 'outside the spec',
};

export function explainVerdictLine(r: ExplainReport): string {
  const n = r.denials.length;
  const act = r.denials.filter(concernsSpec).length;
  const lines = `${r.totals.deniedLines} denied avc line${r.totals.deniedLines === 1 ? '' : 's'}`;
  if (n === 0) return `explain: no denials (${lines} of ${r.totals.lines} lines read)`;
  return `explain: ${n} distinct denial${n === 1 ? '' : 's'} from ${lines} — ${act === 0 ? 'none concerns the spec' : `${act} concern${act === 1 ? 's' : ''} the spec`}`;
}

const where = (locate: Locate, span: SourceSpan | undefined): string => {
  const at = span && locate(span);
  return at ? `${at.file}:${at.line}:${at.column}` : '';
};

/** The sentences that say what the denial means and what to do, plain (the caller escapes them). */
function advice(d: Denial, locate: Locate): { readonly verdict: string; readonly next?: string; readonly because: readonly string[] } {
  const x = d.explanation;
  const perm = `${d.cls}:${d.perm}`;
  switch (x.kind) {
    case 'no-capability':
      return { verdict: x.why, next: `do not grant it: find out why ${name(d.subject)} asks for it`, because: [] };
    case 'missing-capability': {
      const [first] = x.candidates;
      const on = x.target ? ` on ${x.target}` : x.object === 'self' ? ' on itself' : x.object === 'domxen' ? ' on DOMID_XEN' : '';
      return {
        verdict: `${x.introspector} lacks ${first ? first.capability : 'a capability'}${on}`,
        next: `add ${addList(first)} to the capabilities of ${x.introspector}${at(where(locate, x.spec))}${others(x.candidates)}`,
        because: becauseLines(first),
      };
    }
    case 'not-a-target': {
      const [first] = x.candidates;
      const what = x.target ?? name(d.object);
      return {
        verdict: x.declared ? `${what} is not a target of ${x.introspector}` : `${x.introspector} reached ${name(d.object)}, which is no domain of the spec`,
        next: `if ${x.introspector} should watch it, ${x.declared ? `add ${what} to its targets` : 'declare that domain as a target'}${at(where(locate, x.spec))} with ${addList(first)}${others(x.candidates)}; otherwise ${x.introspector} is reaching beyond its targets`,
        because: becauseLines(first),
      };
    }
    case 'granted':
      return {
        verdict: `the spec grants ${perm}, yet Xen denied it`,
        next: 'the policy Xen enforces is not the one compiled from this spec, or a domain\'s seclabel is not the spec\'s: load the compiled policy (xl loadpolicy) and compare with `vmipolicy check SPEC --policy <deployed policy>`',
        because: x.origins.map((o) => originLine(o, locate)),
      };
    case 'outside-spec':
      return { verdict: x.why, because: [] };
  }
}

const at = (place: string): string => (place ? ` (${place})` : '');

function addList(c: Candidate | undefined): string {
  if (!c) return 'a capability';
  return c.alsoAdd.length === 0 ? c.capability : `${c.capability} (and ${c.alsoAdd.join(', ')}, which it requires)`;
}

function others(candidates: readonly Candidate[]): string {
  const rest = candidates.slice(1).map((c) => c.capability);
  return rest.length === 0 ? '' : ` — or, granting more, ${rest.join(', ')}`;
}

function becauseLines(c: Candidate | undefined): string[] {
  return c ? c.needs.map((n) => `${c.capability} holds it for ${n.catalog.join(', ')}: ${n.why}`) : [];
}

function originLine(o: Origin, locate: Locate): string {
  switch (o.kind) {
    case 'capability': return `capability ${o.capability} of ${o.introspector} on ${o.target}${at(where(locate, o.span))}: ${o.why}`;
    case 'event-channel': return `the vm_event channel of ${o.introspector} with ${o.target}${at(where(locate, o.span))}: ${o.why}`;
    case 'xen-macro': return `${o.macro}(${o.args.join(', ')}) for ${o.domain}${at(where(locate, o.span))}`;
    case 'domain-rule': return `${o.why}${at(where(locate, o.span))}`;
    case 'host-base': return o.why;
  }
}

const DEPLOYED: Readonly<Record<DeployedAnswer, string>> = {
  allowed: 'the deployed policy allows it now: the log is older than the policy loaded, or a boolean differed',
  te: 'the deployed policy denies it too: no allow rule grants it',
  constraint: 'the deployed policy denies it too: a constraint refuses it',
  rbac: 'the deployed policy denies it too: the role may not have the type',
  bounds: 'the deployed policy denies it too: typebounds cut it',
  unknown: 'the deployed policy cannot decide it: it lacks the type, class or permission, or the line printed a SID',
};

/** The deployed policy's answer, as a sentence, when one was given. */
function deployedLine(d: Denial): string | undefined {
  return d.deployed === undefined ? undefined : DEPLOYED[d.deployed];
}

/** "log lines 34, 35 and 4 more (d1→d2)": the log is named once, in the heading. */
function occurrenceLine(d: Denial, locate: Locate): string {
  const lines = d.occurrences.map((o) => locate(o.span)?.line).filter((n): n is number => n !== undefined);
  const more = d.count > lines.length ? ` and ${d.count - lines.length} more` : '';
  return `log line${d.count === 1 ? '' : 's'} ${lines.join(', ')}${more}${d.domids.length ? ` (${d.domids.join(', ')})` : ''}`;
}

/** A side of a denial by its spec domain, else its type, else the context as printed. */
const name = (p: Party): string => p.domain ?? p.type ?? p.context;
const party = (d: Denial): string => `${name(d.subject)} → ${name(d.object)}`;

function grouped(r: ExplainReport): [ExplanationKind, Denial[]][] {
  return EXPLANATION_ORDER.map((k) => [k, r.denials.filter((d) => d.explanation.kind === k)] as [ExplanationKind, Denial[]]).filter(([, ds]) => ds.length > 0);
}

export function explainText(r: ExplainReport, locate: Locate): string {
  const out: string[] = [`${safe(r.log)} read against ${safe(r.spec)} (Xen ${safe(r.xen)}): ${r.totals.avcLines} avc lines of ${r.totals.lines} (${r.totals.grantedLines} granted, ${r.totals.guestLines} from guests' consoles left out)`, ''];
  for (const [kind, denials] of grouped(r)) {
    out.push(`${HEADINGS[kind]} (${denials.length})`);
    for (const d of denials) {
      const a = advice(d, locate);
      out.push(`  ${safe(party(d))}  ${safe(d.cls)}:${safe(d.perm)}`);
      out.push(`    ${safe(a.verdict)}`);
      if (a.next) out.push(`    → ${safe(a.next)}`);
      for (const b of a.because) out.push(`      ${safe(b)}`);
      const deployed = deployedLine(d);
      if (deployed) out.push(`    ${deployed}`);
      out.push(`    ${safe(occurrenceLine(d, locate))}`);
    }
    out.push('');
  }
  out.push(explainVerdictLine(r));
  return out.join('\n') + '\n';
}

/**
 * For a ticket or a pull-request comment: within `budget` UTF-8 bytes (GitHub refuses a comment
 * over 65 536 characters), denials in order of urgency, and when they do not all fit, how many
 * were left out and where the rest is.
 */
export function explainMarkdown(r: ExplainReport, locate: Locate, budget = COMMENT_BUDGET): string {
  const head = [`### vmipolicy explain: ${md(r.log)}`, '', `Read against ${md(r.spec)} (Xen ${md(r.xen)}): ${r.totals.avcLines} avc lines, ${r.denials.length} distinct denials.`, ''];
  const tail = ['', md(explainVerdictLine(r))];
  let used = Buffer.byteLength(head.join('\n') + tail.join('\n')) + 200;
  const body: string[] = [];
  let shown = 0;
  outer: for (const [kind, denials] of grouped(r)) {
    const heading = [`#### ${md(HEADINGS[kind])} (${denials.length})`, ''];
    used += Buffer.byteLength(heading.join('\n')) + 2;
    if (used > budget) break;
    body.push(...heading);
    for (const d of denials) {
      const a = advice(d, locate);
      const item = [
        `- **${md(party(d))}** <code>${md(`${d.cls}:${d.perm}`)}</code>: ${md(a.verdict)}${a.next ? `. ${md(a.next)}` : ''}`,
        ...a.because.map((b) => `  - ${md(b)}`),
        ...(d.deployed ? [`  - ${md(deployedLine(d) as string)}`] : []),
        `  - ${md(occurrenceLine(d, locate))}`,
      ];
      const size = Buffer.byteLength(item.join('\n')) + 1;
      if (used + size > budget) break outer;
      used += size;
      body.push(...item);
      shown++;
    }
    body.push('');
  }
  const left = r.denials.length - shown;
  const note = left > 0 ? [`_${left} more distinct denial${left === 1 ? '' : 's'} left out to fit one comment: \`vmipolicy explain --format json\` lists them all._`] : [];
  return [...head, ...body, ...note, ...tail].join('\n') + '\n';
}

/** The report as data, every span as file, line and column. */
export function explainDocument(r: ExplainReport, locate: Locate, diagnostics: readonly object[] = []): Record<string, unknown> {
  const place = (span: SourceSpan | undefined): Located | null => (span && locate(span)) ?? null;
  const explanation = (x: Explanation): Record<string, unknown> => {
    switch (x.kind) {
      case 'granted': return { kind: x.kind, origins: x.origins.map((o) => ({ ...o, ...('span' in o ? { span: place(o.span) } : {}) })) };
      case 'missing-capability':
      case 'not-a-target': return { ...x, spec: place(x.spec) };
      default: return { ...x };
    }
  };
  return {
    log: r.log,
    spec: r.spec,
    xen: r.xen,
    totals: r.totals,
    denials: r.denials.map((d) => ({
      subject: d.subject,
      object: d.object,
      class: d.cls,
      permission: d.perm,
      count: d.count,
      occurrences: d.occurrences.map((o) => ({ at: place(o.span), ...(o.source !== undefined ? { source: o.source } : {}), ...(o.target !== undefined ? { target: o.target } : {}) })),
      domids: d.domids,
      advice: advice(d, locate),
      ...(d.deployed ? { deployed: d.deployed } : {}),
      explanation: explanation(d.explanation),
    })),
    diagnostics,
  };
}
