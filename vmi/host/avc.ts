// The access vector cache in front of the security server, as xen/xsm/flask/avc.c behaves:
// decisions cached per (ssid, tsid, class); a denial in permissive mode (or for a permissive
// source type) is allowed and the requested permissions are added to the cached entry, so it
// is logged once; every audited decision is printed in Xen's own format (avc_audit), which
// audit2allow users recognise:
//   avc:  denied  { map_read map_write } for source=d1 target=d2 scontext=… tcontext=… tclass=mmu

import { BitSet } from '../../policy/model/bitset.js';
import { requestAllowed, type AccessDecision } from '../../policy/model/access.js';
import type { SecurityServer } from './security-server.js';
import { formatAvcLine, type AuditData, type AvcLineStyle } from '../../formats/avc-line.js';

export interface AvcCheck {
  readonly ssid: number;
  readonly tsid: number;
  readonly cls: string;
  readonly requested: readonly string[];
  readonly denied: readonly string[];
  /** The call's outcome: false only when enforcing refused it (-EACCES). */
  readonly allowed: boolean;
  /** Denied but let through: permissive mode or a permissive source type. */
  readonly permissive: boolean;
  /** The line avc_audit printed, if any. */
  readonly line?: string;
  /** The security server's decision behind it (provenance: rules, constraints). */
  readonly decision?: AccessDecision;
  readonly error?: string;
}

interface CacheEntry {
  readonly decision: AccessDecision;
  /** The allowed bits, widened by permissive grants (avc_update_node). */
  readonly allowed: BitSet;
}

interface AvcOptions {
  /** flask_enforcing; default true. */
  readonly enforcing?: boolean;
  /** The release's format of the domains in a line (catalog/vocabulary.ts avcLineStyle); default 4.17's. */
  readonly style?: AvcLineStyle;
  /** Receives every line avc_audit prints (also kept in `log`). */
  readonly onLog?: (line: string) => void;
}

/** xen/xsm/flask/avc.c avc_cache_threshold (AVC_DEF_CACHE_THRESHOLD): decisions held before avc_alloc_node reclaims … */
export const AVC_CACHE_THRESHOLD = 512;
/** … AVC_CACHE_RECLAIM of them at a time. */
const AVC_CACHE_RECLAIM = 16;

/** Audit lines `Avc.log` keeps at least (and at most twice as many). */
export const AVC_LOG_KEPT = 4096;

export class Avc {
  enforcing: boolean;
  /**
   * The latest audit lines, in order: at least the last AVC_LOG_KEPT, as Xen's console ring
   * keeps the latest output (a self-test of thousands of domains prints millions of lines).
   */
  readonly log: string[] = [];
  /** Every audit line printed so far, kept or not. */
  logged = 0;
  hits = 0;
  misses = 0;
  private readonly cache = new Map<string, CacheEntry>();
  private seqno: number;

  constructor(
    readonly server: SecurityServer,
    private readonly options: AvcOptions = {},
  ) {
    this.enforcing = options.enforcing ?? true;
    this.seqno = server.seqno;
  }

  /**
   * avc_reclaim_node: past AVC_CACHE_THRESHOLD entries, AVC_CACHE_RECLAIM of them go (here
   * the oldest; Xen takes them slot by slot). A reclaimed decision is computed again on its
   * next check — and a permissive grant added to it is forgotten, as in Xen. Without the
   * bound, a host of thousands of domains would cache millions of decisions.
   */
  private reclaim(): void {
    let n = 0;
    for (const key of this.cache.keys()) {
      if (n++ >= AVC_CACHE_RECLAIM) break;
      this.cache.delete(key);
    }
  }

  /** Decisions cached now. */
  get cached(): number {
    return this.cache.size;
  }

  /** avc_ss_reset: drop every cached decision. */
  flush(): void {
    this.cache.clear();
  }

  setEnforcing(on: boolean): void {
    // flask_security_setenforce resets the AVC when the mode changes.
    if (on !== this.enforcing) this.flush();
    this.enforcing = on;
  }

  /** avc_has_perm: check, audit, and answer as Xen would (allowed, or -EACCES when enforcing). */
  hasPerm(ssid: number, tsid: number, cls: string, perms: string | readonly string[], audit: AuditData): AvcCheck {
    const check = this.hasPermNoAudit(ssid, tsid, cls, typeof perms === 'string' ? [perms] : perms);
    const line = this.audit(check, audit);
    if (line === undefined) return check;
    this.log.push(line);
    this.logged++;
    if (this.log.length >= 2 * AVC_LOG_KEPT) this.log.splice(0, AVC_LOG_KEPT);
    this.options.onLog?.(line);
    return { ...check, line };
  }

  /** avc_has_perm_noaudit. */
  hasPermNoAudit(ssid: number, tsid: number, cls: string, requested: readonly string[]): AvcCheck {
    if (this.server.seqno !== this.seqno) {
      this.flush();
      this.seqno = this.server.seqno;
    }
    const key = `${ssid} ${tsid} ${cls}`;
    let entry = this.cache.get(key);
    if (entry) this.hits++;
    else {
      this.misses++;
      const decision = this.server.computeAv(ssid, tsid, cls);
      if ('error' in decision && !('classPerms' in decision)) {
        return { ssid, tsid, cls, requested, denied: [...requested], allowed: false, permissive: false, error: decision.error };
      }
      entry = { decision, allowed: new BitSet(decision.classPerms.length, decision.allowedBits.words.slice()) };
      this.cache.set(key, entry);
      if (this.cache.size > AVC_CACHE_THRESHOLD) this.reclaim();
    }
    const { decision } = entry;
    const unknown = requested.filter((p) => !decision.classPerms.includes(p));
    if (unknown.length > 0) {
      // Xen's hooks only ask for permissions the class has; a name outside it is our bug.
      return { ssid, tsid, cls, requested, denied: [...requested], allowed: false, permissive: false, decision, error: `class ${cls} has no permission ${unknown.join(', ')}` };
    }
    const denied = requested.filter((p) => !entry.allowed.has(decision.classPerms.indexOf(p)));
    const allowed = requestAllowed(decision, denied, this.enforcing);
    // Let through despite a denial: avc_update_node adds the request to the cached entry.
    const permissive = allowed && denied.length > 0;
    if (permissive) for (const p of requested) entry.allowed.add(decision.classPerms.indexOf(p));
    return { ssid, tsid, cls, requested, denied, allowed, permissive, decision };
  }

  /** avc_audit: the line Xen prints for this check, or undefined when nothing is audited. */
  private audit(check: AvcCheck, audit: AuditData): string | undefined {
    const d = check.decision;
    if (!d) return undefined;
    const bit = (p: string): number => d.classPerms.indexOf(p);
    let audited: readonly string[];
    let word: 'denied' | 'granted';
    if (check.denied.length > 0) {
      // dontaudit: silent unless at least one denied permission is audited.
      if (!check.denied.some((p) => d.auditDenyBits.has(bit(p)))) return undefined;
      audited = check.denied;
      word = 'denied';
    } else {
      if (!check.requested.some((p) => d.auditAllowBits.has(bit(p)))) return undefined;
      audited = check.requested;
      word = 'granted';
    }
    const s = this.server.contextString(check.ssid);
    const t = this.server.contextString(check.tsid);
    return formatAvcLine({
      word,
      perms: [...audited].sort((a, b) => bit(a) - bit(b)),
      audit,
      scontext: s ?? `ssid=${check.ssid}`,
      tcontext: t ?? `tsid=${check.tsid}`,
      contextsKnown: [s !== undefined, t !== undefined],
      cls: check.cls,
    }, this.options.style);
  }
}
