// The line Xen's access vector cache prints for an audited decision (xen/xsm/flask/avc.c
// avc_audit), both ways: written by the simulated host's AVC, read back from `xl dmesg`.
//
//   avc:  denied  { map_read map_write } for source=d2 target=d1 scontext=… tcontext=… tclass=mmu
//
// What avc_audit prints, in order:
// * "avc:  denied " or "avc:  granted ", then avc_dump_av: " {", " perm" for each audited bit
//   (a bit with no name as " 0x…" after the names), " }" — " null" when none;
// * " for ", the domains: from Xen 4.17 (commit "xsm/flask: adjust print messages to use %pd")
//   "source=%pd target=%pd " (target left out when it is the source) or "current=%pd " when the
//   hook passed no audit data; up to 4.16 "domid=%d target=%d ", "domid=%d ", "target=%d ";
// * what the hook audited beside them: "device=%#lx ", "irq=%d ", "range=%#lx-%#lx ",
//   "pte=%#lx mfn=%#lx ", "dtdevice=%s ";
// * avc_dump_query: "scontext=…" (or "ssid=%d" for a SID without a context), " tcontext=…"
//   (or " tsid=%d"), " tclass=…".
// On the console every line starts with "(XEN) " (printk), or "(dN) " when domain N wrote it
// to its own console (guest_printk in xen/drivers/char/console.c), then the timestamp when
// console_timestamps is set. A guest can print any text, including an avc line: only the
// hypervisor's lines are read as avc lines.

/** Xen's special domain ids, as `%pd` prints them (xen/common/vsprintf.c). */
export const DOMID_IO = 0x7ff1;
export const DOMID_XEN = 0x7ff2;
const DOMID_COW = 0x7ff3;
const DOMID_INVALID = 0x7ff4;
const DOMID_IDLE = 0x7fff;

const SPECIAL_DOMIDS: ReadonlyMap<number, string> = new Map([[DOMID_IO, '[IO]'], [DOMID_XEN, '[XEN]'], [DOMID_COW, '[COW]'], [DOMID_INVALID, '[INVALID]'], [DOMID_IDLE, '[IDLE]']]);
const SPECIAL_BY_NAME: ReadonlyMap<string, number> = new Map([...SPECIAL_DOMIDS].map(([id, name]) => [name, id]));

/** `%pd`: d0, d7, d[XEN], d[IO], d[IDLE] … */
export function formatDomid(domid: number): string {
  return `d${SPECIAL_DOMIDS.get(domid) ?? String(domid)}`;
}

/**
 * What avc_audit prints before the contexts. Xen fills sdom/tdom in domain_has_perm and the
 * event-channel interdomain hook; elsewhere (audit data NULL) it prints the current domain.
 */
export interface AuditData {
  /** The calling domain (current->domain). */
  readonly current: number;
  readonly sdom?: number;
  readonly tdom?: number;
}

interface AvcLineParts {
  readonly word: 'denied' | 'granted';
  /** In permission bit order. */
  readonly perms: readonly string[];
  readonly audit: AuditData;
  readonly scontext: string;
  readonly tcontext: string;
  readonly cls: string;
  /** Whether each SID had a context (else Xen prints ssid=N / tsid=N). */
  readonly contextsKnown?: readonly [boolean, boolean];
}

/** One avc_audit line, with the domains as the release prints them (`style`, default 4.17's). */
export function formatAvcLine(p: AvcLineParts, style: AvcLineStyle = 'pd'): string {
  const av = p.perms.length === 0 ? ' null' : ` {${p.perms.map((x) => ` ${x}`).join('')} }`;
  const [sKnown, tKnown] = p.contextsKnown ?? [true, true];
  const s = sKnown ? `scontext=${p.scontext}` : p.scontext;
  const t = tKnown ? ` tcontext=${p.tcontext}` : ` ${p.tcontext}`;
  return `avc:  ${p.word} ${av} for ${style === 'pd' ? domainsPd(p.audit) : domainsDomid(p.audit)}${s}${t} tclass=${p.cls}`;
}

/** From 4.17: "source=%pd ", "target=%pd " unless it is the source; "current=%pd " without audit data. */
function domainsPd(a: AuditData): string {
  if (a.sdom === undefined && a.tdom === undefined) return `current=${formatDomid(a.current)} `;
  let who = '';
  if (a.sdom !== undefined) who += `source=${formatDomid(a.sdom)} `;
  if (a.tdom !== undefined && a.tdom !== a.sdom) who += `target=${formatDomid(a.tdom)} `;
  return who;
}

/** Up to 4.16: "domid=%d target=%d " for two domains, "domid=%d " or "target=%d " for one. */
function domainsDomid(a: AuditData): string {
  if (a.sdom === undefined && a.tdom === undefined) return `domid=${a.current} `;
  if (a.sdom !== undefined && a.tdom !== undefined && a.sdom !== a.tdom) return `domid=${a.sdom} target=${a.tdom} `;
  return a.sdom !== undefined ? `domid=${a.sdom} ` : `target=${a.tdom} `;
}

/** Which avc_audit printed the domains: `pd` from Xen 4.17, `domid` up to 4.16. */
export type AvcLineStyle = 'pd' | 'domid';

/** A security context or, when the SID had none, its number. */
export type AuditedContext = { readonly context: string } | { readonly sid: number };

/** One avc line read back, with the domids as numbers (DOMID_XEN for d[XEN]). */
export interface AvcRecord {
  readonly word: 'denied' | 'granted';
  /** Permission names as printed; a bit without a name stays "0x…". */
  readonly perms: readonly string[];
  readonly style: AvcLineStyle;
  /** The domain the check was made for (source=, domid=, or current=). */
  readonly source?: number;
  /** The domain checked against, when the hook named one other than the source. */
  readonly target?: number;
  /** device=, irq=, range=, pte= mfn=, dtdevice=: as printed. */
  readonly detail: readonly string[];
  readonly scontext: AuditedContext;
  readonly tcontext: AuditedContext;
  readonly tclass: string;
}

type AvcLineRead =
  | { readonly kind: 'record'; readonly record: AvcRecord; readonly column: number }
  /** Printed by a guest on its own console: not Xen's. */
  | { readonly kind: 'guest'; readonly domid: number; readonly column: number }
  | { readonly kind: 'malformed'; readonly reason: string; readonly column: number }
  | { readonly kind: 'other' };

const AVC_MARK = /avc:[ \t]+(denied|granted)\b/;
const CONSOLE_ORIGIN = /\((XEN|d(\d+))\)/;
const BODY = /^avc:[ \t]+(denied|granted)[ \t]+(?:\{([^{}]*)\}|null)[ \t]+for[ \t]+(.*?)[ \t]*\b(scontext=(\S+)|ssid=(\d+))[ \t]+(tcontext=(\S+)|tsid=(\d+))[ \t]+tclass=(\S+)[ \t]*$/;
const PERM = /^(?:[A-Za-z_][A-Za-z0-9_]*|0x[0-9a-f]+)$/;
const DOMID_PD = /^d(?:(\d{1,5})|(\[[A-Z]+\]))$/;
const DOMID_NUMBER = /^\d{1,5}$/;
const DETAIL_KEYS = new Set(['device', 'irq', 'range', 'pte', 'mfn', 'dtdevice']);

/**
 * Reads one console line. `column` is the 0-based offset of "avc:" in the line. Lines that
 * hold no avc mark are `other`; a mark Xen could not have printed is `malformed`, with why.
 */
export function readAvcLine(line: string): AvcLineRead {
  const mark = AVC_MARK.exec(line);
  if (!mark) return { kind: 'other' };
  const column = mark.index;
  const origin = CONSOLE_ORIGIN.exec(line.slice(0, column));
  if (origin?.[2] !== undefined) return { kind: 'guest', domid: Number(origin[2]), column };
  const body = BODY.exec(line.slice(column).replace(/\r$/, ''));
  if (!body) return { kind: 'malformed', reason: 'expected "avc:  denied  { … } for … scontext=… tcontext=… tclass=…"', column };
  const perms = (body[2] ?? '').trim().split(/[ \t]+/).filter(Boolean);
  const badPerm = perms.find((p) => !PERM.test(p));
  if (badPerm !== undefined) return { kind: 'malformed', reason: `"${badPerm}" is not a permission name`, column };
  if (body[2] !== undefined && perms.length === 0) return { kind: 'malformed', reason: 'an empty { } (Xen prints "null" for no permission)', column };
  const who = readDomains(body[3] ?? '');
  if ('reason' in who) return { kind: 'malformed', reason: who.reason, column };
  const context = (text: string | undefined, sid: string | undefined): AuditedContext => (text !== undefined ? { context: text } : { sid: Number(sid) });
  return {
    kind: 'record',
    column,
    record: {
      word: body[1] as 'denied' | 'granted',
      perms,
      ...who,
      scontext: context(body[5], body[6]),
      tcontext: context(body[8], body[9]),
      tclass: body[10] as string,
    },
  };
}

type Domains = Pick<AvcRecord, 'style' | 'source' | 'target' | 'detail'>;

/** The "key=value " run between " for " and the contexts. */
function readDomains(text: string): Domains | { readonly reason: string } {
  let style: AvcLineStyle | undefined;
  let source: number | undefined;
  let target: number | undefined;
  const detail: string[] = [];
  for (const token of text.split(/[ \t]+/).filter(Boolean)) {
    const eq = token.indexOf('=');
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = token.slice(eq + 1);
    if (DETAIL_KEYS.has(key)) {
      detail.push(token);
      continue;
    }
    const tokenStyle: AvcLineStyle | undefined = key === 'source' || key === 'current' ? 'pd' : key === 'domid' ? 'domid' : key === 'target' ? (value.startsWith('d') ? 'pd' : 'domid') : undefined;
    if (tokenStyle === undefined) return { reason: `"${token}" is not something avc_audit prints before the contexts` };
    if (style !== undefined && style !== tokenStyle) return { reason: `"${token}" mixes the domain formats of Xen up to 4.16 and from 4.17` };
    style = tokenStyle;
    const domid = tokenStyle === 'pd' ? pdDomid(value) : DOMID_NUMBER.test(value) ? Number(value) : undefined;
    if (domid === undefined) return { reason: `"${value}" is not a domain id` };
    if (key === 'target') target = domid;
    else source = domid;
  }
  return { style: style ?? 'pd', ...(source !== undefined ? { source } : {}), ...(target !== undefined ? { target } : {}), detail };
}

function pdDomid(text: string): number | undefined {
  const m = DOMID_PD.exec(text);
  if (!m) return undefined;
  return m[1] !== undefined ? Number(m[1]) : SPECIAL_BY_NAME.get(m[2] as string);
}

/** The type of a `user:role:type[:level]` context, or undefined when it is not one. */
export function contextType(context: string): string | undefined {
  const parts = context.split(':');
  return parts.length >= 3 && parts[2] ? parts[2] : undefined;
}
