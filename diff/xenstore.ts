// xenstore ACL changes between two `xenstore-ls -p` dumps (a live host before and after):
// per node, the access every domain gets. xenstored's rule: the owner (first entry) has
// full access, a domain listed later gets the first entry that names it, everyone else the
// first entry's letter (the default); dom0 is privileged and not compared. A domain whose
// access gains r or w on a node is a new grant.

import { parseXenstoreLs, walkXsNodes, type XsNode } from '../xenstore/ls-format.js';
import { xsAccessFor, xsCanRead as canRead, xsCanWrite as canWrite, type XsAccess, type XsPerms } from '../xenstore/access.js';
import type { Diagnostic } from '../core/diagnostics.js';
import { cmp } from './access.js';
import type { XenstoreChange } from './types.js';

const OTHERS = 'every other domain';

/** A domain's access; `undefined` stands for every domain the ACL does not name (the default). */
function accessOf(p: XsPerms, domid: number | undefined): XsAccess {
  return xsAccessFor(p, (id) => domid !== undefined && id === domid);
}

function nodes(root: XsNode): Map<string, XsPerms> {
  const out = new Map<string, XsPerms>();
  for (const n of walkXsNodes(root)) if (n.perms) out.set(n.path, n.perms);
  return out;
}

export function parseDump(file: string, text: string): { perms?: Map<string, XsPerms>; diagnostics: Diagnostic[] } {
  const r = parseXenstoreLs(file, text);
  return r.diagnostics.some((d) => d.severity === 'error') ? { diagnostics: r.diagnostics } : { perms: nodes(r.result.root), diagnostics: r.diagnostics };
}

/** Access changes per node and domain (including "every other domain"); nodes on one side only count as all-new or all-gone. */
export function diffXenstoreDumps(a: ReadonlyMap<string, XsPerms>, b: ReadonlyMap<string, XsPerms>): XenstoreChange[] {
  const out: XenstoreChange[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort(cmp)) {
    const pa = a.get(path);
    const pb = b.get(path);
    const domids = new Set<number>();
    for (const p of [pa, pb]) if (p) [p.owner, ...p.entries.map((e) => e.domid)].forEach((d) => domids.add(d));
    domids.delete(0);
    const who: (number | undefined)[] = [...[...domids].sort((x, y) => x - y), undefined];
    for (const d of who) {
      const x = pa ? accessOf(pa, d) : 'n';
      const y = pb ? accessOf(pb, d) : 'n';
      if (x === y) continue;
      const reader = d === undefined ? OTHERS : `dom${d}`;
      const gained = (canRead(y) && !canRead(x)) || (canWrite(y) && !canWrite(x));
      const lost = (canRead(x) && !canRead(y)) || (canWrite(x) && !canWrite(y));
      const why = `${x} → ${y}`;
      if (gained) out.push({ node: path, reader, change: 'added', why });
      if (lost) out.push({ node: path, reader, change: 'removed', why });
    }
  }
  return out;
}
