// The permission vocabulary of each supported Xen release: the classes, initial SIDs and
// permissions of xen/xsm/flask/policy/{security_classes,initial_sids,access_vectors} at its
// RELEASE-x.y.0 tag (xen-vocabulary.generated.ts), bits in declaration order. Every
// permission vmipolicy emits is checked against it: a name that the hypervisor of the
// chosen release does not know would fail checkpolicy, or — worse — silently mean
// another bit after a policy is rebuilt against a different access_vectors.

import { compareCodePoints } from '../core/compare.js';
import { RAW_VOCABULARY } from './xen-vocabulary.generated.js';
import { XEN_MACROS, type XenMacros } from './xen-macros.generated.js';

/** The supported release branches ("4.8" … "4.22"); a spec may also name a point release of one ("4.17.7"). */
export const XEN_RELEASES = Object.keys(RAW_VOCABULARY).sort(compareReleases);
/** A branch ("4.17", meaning its first release, 4.17.0) or a point release ("4.17.7"). */
export type XenRelease = string;

/** What a spec's `xen` may say: a supported branch, optionally with a point release (Xen tags them RELEASE-4.17.7). */
export const XEN_RELEASE_PATTERN = `^(${XEN_RELEASES.map((r) => r.replace('.', '\\.')).join('|')})(\\.(0|[1-9][0-9]{0,2}))?$`;
const RELEASE_SYNTAX = /^(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/;

/** Compares releases component by component; a branch is its first release ("4.17" = "4.17.0"). */
export function compareReleases(a: string, b: string): number {
  const [am = 0, an = 0, ap = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0, bp = 0] = b.split('.').map(Number);
  return am - bm || an - bn || ap - bp;
}

/**
 * The known release nearest `wanted` in version order — the same major with the closest
 * minor, ties to the older — so "4.23" suggests 4.22, not the similarly spelt 4.13; undefined
 * when `wanted` is no version (the caller may fall back to spelling).
 */
export function nearestRelease(wanted: string, releases: readonly string[] = XEN_RELEASES): string | undefined {
  const v = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(wanted);
  if (!v) return undefined;
  const [major, minor] = [Number(v[1]), Number(v[2])];
  const distance = (r: string): number => {
    const [rm = 0, rn = 0] = r.split('.').map(Number);
    return Math.abs(rm - major) * 1000 + Math.abs(rn - minor);
  };
  return [...releases].sort(compareReleases).reduce<string | undefined>((best, r) => (best === undefined || distance(r) < distance(best) ? r : best), undefined);
}

/** "4.17.7" → "4.17": the branch whose access_vectors and example policy a release has (point releases change neither). */
export function branchOf(release: XenRelease): string {
  const m = RELEASE_SYNTAX.exec(release);
  return m ? `${Number(m[1])}.${Number(m[2])}` : release;
}

export function isSupportedRelease(v: string): boolean {
  return new RegExp(XEN_RELEASE_PATTERN).test(v);
}

/**
 * A hypervisor change that landed in a new branch and was backported to stable branches in
 * point releases: which release of each branch has it (a branch not listed has it from
 * `since` on, if at all).
 */
interface BackportedChange {
  readonly what: string;
  /** The first release of the newest branch with it, e.g. "4.22.0". */
  readonly since: string;
  /** Per older branch, the first point release with the backport, e.g. { "4.17": "4.17.7" }. */
  readonly backports: Readonly<Record<string, string>>;
}

/** Whether `release` has the change. A bare branch means its first release ("4.17" = 4.17.0). */
export function hasChange(release: XenRelease, change: BackportedChange): boolean {
  const backport = change.backports[branchOf(release)];
  return backport !== undefined ? atLeast(release, backport) : atLeast(release, change.since);
}

/** The point release that brings the change to a bare branch that lacks it in its first release, if any. */
export function laterPointReleaseWith(release: XenRelease, change: BackportedChange): string | undefined {
  if (release !== branchOf(release) || hasChange(release, change)) return undefined;
  return change.backports[release];
}

/**
 * XSA-499: XEN_SYSCTL_getdomaininfolist first checks domain:getdomaininfo on DOMID_XEN
 * (flask_sysctl → flask_getdomaininfo(dom_xen), xen/xsm/flask/hooks.c). In 4.22.0, and
 * backported in these point releases (each the first tag whose hooks.c has the check).
 */
export const DOMXEN_INFOLIST_CHECK: BackportedChange = {
  what: 'XEN_SYSCTL_getdomaininfolist also checks domain:getdomaininfo on domxen_t (XSA-499)',
  since: '4.22.0',
  backports: { '4.17': '4.17.7', '4.18': '4.18.6', '4.19': '4.19.6', '4.20': '4.20.4', '4.21': '4.21.2' },
};

/** Every backported change the catalog models: the compiler notes each one a bare branch misses. */
export const BACKPORTED_CHANGES: readonly BackportedChange[] = [DOMXEN_INFOLIST_CHECK];

/** True when `release` is `since` or newer. */
export function atLeast(release: XenRelease, since: string): boolean {
  return compareReleases(release, since) >= 0;
}

/**
 * How avc_audit (xen/xsm/flask/avc.c) prints the domains of an avc line: "domid=%d target=%d"
 * up to 4.16, "source=%pd target=%pd" (d7, d[XEN]) from 4.17 — commit 6cecffc7a6 "xsm/flask:
 * adjust print messages to use %pd", first in RELEASE-4.17.0.
 */
export function avcLineStyle(release: XenRelease): 'domid' | 'pd' {
  return atLeast(release, '4.17') ? 'pd' : 'domid';
}

export interface Vocabulary {
  readonly release: XenRelease;
  readonly classes: readonly string[];
  readonly initialSids: readonly string[];
  readonly accessVectors: readonly (readonly [string, readonly string[]])[];
  hasClass(cls: string): boolean;
  has(cls: string, perm: string): boolean;
  /** Sorts permissions of one class into bit order (the order Xen's access_vectors lists them). */
  sortPerms(cls: string, perms: Iterable<string>): string[];
  /** Sorts class names into security_classes order. */
  sortClasses(classes: Iterable<string>): string[];
  /**
   * Permissions of one class as bits of its access vector (bit i: its i-th permission), a
   * set of them in one number; undefined when one is not the class's.
   */
  permBits(cls: string, perms: Iterable<string>): number | undefined;
  /** The permissions whose bits are set, in bit order (permBits's inverse). */
  permsOfBits(cls: string, bits: number): string[];
}

const cache = new Map<string, Vocabulary>();

/** Whether every permission is the class's and each comes after the one before it (so none twice). */
function inBitOrder(perms: readonly string[], order: ReadonlyMap<string, number>): boolean {
  let last = -1;
  for (const p of perms) {
    const at = order.get(p);
    if (at === undefined || at <= last) return false;
    last = at;
  }
  return true;
}

export function vocabulary(release: XenRelease): Vocabulary {
  const hit = cache.get(release);
  if (hit) return hit;
  const raw = RAW_VOCABULARY[branchOf(release)];
  if (!raw) throw new Error(`internal: no vocabulary for Xen ${release}`);
  const bit = new Map<string, Map<string, number>>();
  for (const [cls, perms] of raw.accessVectors) bit.set(cls, new Map(perms.map((p, i) => [p, i])));
  const classIndex = new Map(raw.classes.map((c, i) => [c, i]));
  const vectors = new Map<string, readonly string[]>(raw.accessVectors);
  const v: Vocabulary = {
    release,
    classes: raw.classes,
    initialSids: raw.initialSids,
    accessVectors: raw.accessVectors,
    hasClass: (cls) => classIndex.has(cls),
    has: (cls, perm) => bit.get(cls)?.has(perm) ?? false,
    sortPerms: (cls, perms) => {
      const order = bit.get(cls);
      // Most lists come in bit order already (a template line, a rule's run): a copy, not a sort.
      if (Array.isArray(perms) && order && inBitOrder(perms as readonly string[], order)) return perms.slice() as string[];
      return [...new Set(perms)].sort((a, b) => (order?.get(a) ?? 1e9) - (order?.get(b) ?? 1e9) || compareCodePoints(a, b));
    },
    sortClasses: (classes) => [...new Set(classes)].sort((a, b) => (classIndex.get(a) ?? 1e9) - (classIndex.get(b) ?? 1e9)),
    permBits: (cls, perms) => {
      const order = bit.get(cls);
      // 32 bits at most, as an av_decision's vectors hold.
      if (!order || order.size > 32) return undefined;
      let bits = 0;
      for (const p of perms) {
        const at = order.get(p);
        if (at === undefined) return undefined;
        bits |= 1 << at;
      }
      return bits >>> 0;
    },
    permsOfBits: (cls, bits) => {
      const names = vectors.get(cls) ?? [];
      const out: string[] = [];
      for (let i = 0; i < names.length && i < 32; i++) if (bits & (1 << i)) out.push(names[i] as string);
      return out;
    },
  };
  cache.set(release, v);
  return v;
}

/** The rule templates of Xen's own xen.if macros at that release. */
export function xenMacros(release: XenRelease): XenMacros {
  const m = XEN_MACROS[branchOf(release)];
  if (!m) throw new Error(`internal: no xen.if macros for Xen ${release}`);
  return m;
}
