// xenstore-acl — the xenstore ACLs give each introspector exactly what its declared lookup
// needs (by name, LibVMI's xen_get_domainid_from_name in libvmi/driver/xen/xen.c lists
// /local/domain and reads each target's name node; by domid it needs nothing) and no more:
// no domain but dom0 and the domain itself owns a domain's nodes, no node is open to every
// domain, and no declared domain reads into another's subtree beyond that. Access follows
// C xenstored (tools/xenstore/xenstored_core.c perm_for_conn and get_node, Xen 4.17): the
// owner has full access, then the first matching entry, then the default; reads check only
// the node.

import { xsAccessFor, xsCanRead as canRead, xsCanWrite as canWrite, type XsAccess } from '../../xenstore/access.js';
import type { Finding } from '../findings.js';
import { specLocation } from '../context.js';
import type { XenstoreNodeAcl } from '../inputs.js';
import type { CheckRule } from './rule.js';
import { findingText } from '../messages.js';

const LOCAL_DOMAIN = '/local/domain';

/** The access C xenstored gives `domid` on a node (dom0 is privileged and always has all). */
function xenstoreAccess(node: XenstoreNodeAcl, domid: number): XsAccess {
  return domid === 0 ? 'owner' : xsAccessFor(node.perms, (id) => id === domid);
}

function subtreeOwner(path: string): number | undefined {
  const m = /^\/local\/domain\/(\d+)(\/|$)/.exec(path);
  return m ? Number(m[1]) : undefined;
}

export const xenstoreAcl: CheckRule = {
  id: 'xenstore-acl',
  summary: 'xenstore ACLs give each introspector what its lookup needs, and nothing broader',
  remedy: 'Apply the compiled xenstore-acl.sh (or set the node\'s ACL as it does): only the nodes the lookup needs, readable by the introspector, owned by dom0.',
  securitySeverity: 6.0,
  run(ctx) {
    const xs = ctx.xenstore;
    if (!xs) return [];
    const findings: Finding[] = [];
    const domidOf = new Map([...xs.names].map(([id, name]) => [name, id]));
    const push = (f: Omit<Finding, 'ruleId' | 'perms'> & { perms?: string[] }): void => {
      findings.push({ ruleId: 'xenstore-acl', perms: [], ...f });
    };
    const nodes = [...xs.nodes.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    // domid → the nodes it owns or has an entry on, in path order: one pass, so a host of
    // 10 000 domains costs its node count, not nodes × introspectors.
    const grantedTo = new Map<number, XenstoreNodeAcl[]>();
    for (const node of nodes) {
      for (const id of new Set([node.perms.owner, ...node.perms.entries.map((e) => e.domid)])) {
        const list = grantedTo.get(id);
        if (list) list.push(node);
        else grantedTo.set(id, [node]);
      }
    }

    for (const node of nodes) {
      const owner = node.perms.owner;
      const home = subtreeOwner(node.path);
      if (home !== undefined && owner !== 0 && owner !== home) {
        push({ severity: 'error', message: findingText('XenstoreForeignOwner', [owner, xs.names.has(owner) ? ` ("${xs.names.get(owner)}")` : '', node.path, home]), subject: String(owner), object: node.path, provenance: [node.at], help: findingText('XenstoreGiveBack', [node.path]) });
      }
      if (node.perms.default !== 'n' && (home !== undefined || node.path === LOCAL_DOMAIN)) {
        push({ severity: 'error', message: findingText('XenstoreOpenDefault', [node.path, node.perms.default]), subject: '*', object: node.path, perms: [node.perms.default], provenance: [node.at], help: findingText('XenstoreFirstEntry') });
      }
    }

    for (const s of ctx.intent.introspectors) {
      const domid = domidOf.get(s.name);
      if (domid === undefined) {
        push({ severity: 'warning', message: findingText('XenstoreNotRunning', [s.name]), subject: s.name, object: LOCAL_DOMAIN, provenance: [specLocation(ctx, s.nameSpan)] });
        continue;
      }
      const needs = new Set<string>();
      if (s.lookup === 'name') {
        needs.add(LOCAL_DOMAIN);
        for (const t of s.targets) {
          const tid = domidOf.get(t.name);
          if (tid !== undefined) needs.add(`${LOCAL_DOMAIN}/${tid}/name`);
        }
      }
      for (const path of [...needs].sort()) {
        const node = xs.nodes.get(path);
        if (!node || !canRead(xenstoreAccess(node, domid))) {
          push({ severity: 'error', message: findingText('XenstoreCannotRead', [s.name, domid, path]), subject: s.name, object: path, perms: ['r'], provenance: [specLocation(ctx, s.lookupSpan), ...(node ? [node.at] : [])], help: findingText('XenstoreChmod', [path, domid]) });
        }
      }
      // Beyond the need: per foreign subtree, every node the introspector owns or is listed
      // on. (Nodes open to every domain by default are the default check's findings above.)
      const extra = new Map<string, XenstoreNodeAcl[]>();
      for (const node of grantedTo.get(domid) ?? []) {
        const home = subtreeOwner(node.path);
        if (needs.has(node.path) || home === domid) continue;
        if (home === undefined && node.path !== LOCAL_DOMAIN) continue;
        const access = xenstoreAccess(node, domid);
        if (!canRead(access) && !canWrite(access)) continue;
        const key = home === undefined ? node.path : `${LOCAL_DOMAIN}/${home}`;
        extra.set(key, [...(extra.get(key) ?? []), node]);
      }
      for (const [subtree, hit] of extra) {
        const writes = hit.filter((n) => canWrite(xenstoreAccess(n, domid)));
        const first = hit[0] as XenstoreNodeAcl;
        push({
          severity: 'error',
          message: findingText('XenstoreBeyondLookup', [s.name, domid, writes.length ? 'write' : 'read', hit.length === 1 ? first.path : `${hit.length} nodes under ${subtree}`, s.lookup]),
          subject: s.name,
          object: hit.length === 1 ? first.path : subtree,
          perms: writes.length ? ['r', 'w'] : ['r'],
          provenance: [specLocation(ctx, s.lookupSpan), ...hit.slice(0, 5).map((n) => n.at)],
          help: findingText('XenstoreRemoveEntries', [domid, hit.length === 1 ? first.path : `the nodes under ${subtree}`]),
        });
      }
    }
    return findings;
  },
};
