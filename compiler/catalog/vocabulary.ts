// The permission vocabulary of each supported Xen release (catalog §2, §2.1). Every
// permission vmipolicy emits is checked against it: a name that the hypervisor of the
// chosen release does not know would fail checkpolicy, or — worse — silently mean
// another bit after a policy is rebuilt against a different access_vectors.

import { compareCodePoints } from '../../grammar/compare.js';
import { RAW_VOCABULARY } from './xen-vocabulary.generated.js';
import { XEN_MACROS, type XenMacros } from './xen-macros.generated.js';

export const XEN_RELEASES = Object.keys(RAW_VOCABULARY).sort(compareReleases);
export type XenRelease = string;

export function compareReleases(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}

export function isSupportedRelease(v: string): boolean {
  return Object.prototype.hasOwnProperty.call(RAW_VOCABULARY, v);
}

/** True when `release` is `since` or newer. */
export function atLeast(release: XenRelease, since: string): boolean {
  return compareReleases(release, since) >= 0;
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
}

const cache = new Map<string, Vocabulary>();

export function vocabulary(release: XenRelease): Vocabulary {
  const hit = cache.get(release);
  if (hit) return hit;
  const raw = RAW_VOCABULARY[release];
  if (!raw) throw new Error(`internal: no vocabulary for Xen ${release}`);
  const bit = new Map<string, Map<string, number>>();
  for (const [cls, perms] of raw.accessVectors) bit.set(cls, new Map(perms.map((p, i) => [p, i])));
  const classIndex = new Map(raw.classes.map((c, i) => [c, i]));
  const v: Vocabulary = {
    release,
    classes: raw.classes,
    initialSids: raw.initialSids,
    accessVectors: raw.accessVectors,
    hasClass: (cls) => classIndex.has(cls),
    has: (cls, perm) => bit.get(cls)?.has(perm) ?? false,
    sortPerms: (cls, perms) => {
      const order = bit.get(cls);
      return [...new Set(perms)].sort((a, b) => (order?.get(a) ?? 1e9) - (order?.get(b) ?? 1e9) || compareCodePoints(a, b));
    },
    sortClasses: (classes) => [...new Set(classes)].sort((a, b) => (classIndex.get(a) ?? 1e9) - (classIndex.get(b) ?? 1e9)),
  };
  cache.set(release, v);
  return v;
}

/** The rule templates of Xen's own xen.if macros at that release. */
export function xenMacros(release: XenRelease): XenMacros {
  const m = XEN_MACROS[release];
  if (!m) throw new Error(`internal: no xen.if macros for Xen ${release}`);
  return m;
}
