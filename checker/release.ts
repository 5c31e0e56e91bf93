// Which Xen release a policy was written for, read from the policy itself: the classes and
// permissions its security_classes and access_vectors declare are the hypervisor's own
// (xen/xsm/flask/policy/security_classes and access_vectors, compiled into Xen as
// flask/include/av_permissions.h), so a policy built from one release's tree names — and
// numbers — the permissions of that release. A spec checked inside another release's tree
// is proven for that tree, not for the hypervisor the spec names.

import { diagnostic, type Diagnostic } from '../core/diagnostics.js';
import { branchOf, nearestRelease, vocabulary, XEN_RELEASES, type XenRelease } from '../catalog/vocabulary.js';
import type { PolicyModel } from '../policy/model/model.js';

/** The supported releases whose class and permission vocabulary is exactly the policy's. */
export function releasesMatching(model: PolicyModel): string[] {
  const own = new Map(model.classes.map((c) => [c.name, c.perms.join(' ')]));
  return XEN_RELEASES.filter((r) => {
    const v = vocabulary(r);
    return v.accessVectors.length === own.size && v.accessVectors.every(([cls, perms]) => own.get(cls) === perms.join(' '));
  });
}

/** VP3405 when the policy's vocabulary is not that of `release`'s branch; undefined when it is. */
export function releaseMismatch(model: PolicyModel, release: XenRelease, policyName: string): Diagnostic | undefined {
  const matching = releasesMatching(model);
  if (matching.includes(branchOf(release))) return undefined;
  const v = vocabulary(release);
  const own = new Map(model.classes.map((c) => [c.name, new Set(c.perms)]));
  const differing = v.accessVectors.filter(([cls, perms]) => {
    const theirs = own.get(cls);
    return !theirs || theirs.size !== perms.length || perms.some((p) => !theirs.has(p));
  }).map(([cls]) => cls);
  const extra = [...own.keys()].filter((cls) => !v.hasClass(cls));
  const what = matching.length ? `Xen ${matching.join(', ')}` : 'no release vmipolicy knows';
  return diagnostic('CheckReleaseMismatch', [policyName, what, release, [...differing, ...extra].join(', ') || 'their permission order'], undefined,
    matching.length ? `give a tree of Xen ${branchOf(release)}, or set xen: "${nearestRelease(release, matching)}" in the spec if that is the release the host runs` : `give a tree of Xen ${branchOf(release)}`);
}
