// The xenstore a host has before vmipolicy's script runs: the nodes libxl writes for each
// domain, with libxl's ACLs. The self-test boots on it, and `check` applies the compiled
// xenstore-acl.sh to it to prove the ACLs the script leaves behind.

import { createHash } from 'node:crypto';
import { Xenstore } from './store.js';

/** A domain as xenstore knows it. */
interface XenstoreDomain {
  readonly domid: number;
  readonly name: string;
}

/** A v4-shaped UUID from a domain name: same name, same UUID. */
export function uuidOf(name: string): string {
  const h = createHash('sha256').update(`vmipolicy uuid ${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface LaidNode {
  readonly path: string;
  readonly value: string;
  readonly perms: readonly string[];
}

/**
 * The nodes libxl__domain_make (tools/libs/light/libxl_create.c) writes for a domain:
 * /local/domain/<id> and /vm/<uuid> with roperm = n0 r<id>, their children inheriting it;
 * dom0's own entry; the parents created by dom0 and left n0 (unreadable by unprivileged
 * domains).
 */
export function libxlNodes(domains: readonly XenstoreDomain[], uuids: ReadonlyMap<number, string>): LaidNode[] {
  const nodes: LaidNode[] = [
    { path: '/local', value: '', perms: ['n0'] },
    { path: '/local/domain', value: '', perms: ['n0'] },
    { path: '/local/domain/0', value: '', perms: ['n0'] },
    { path: '/local/domain/0/name', value: 'Domain-0', perms: ['n0'] },
    { path: '/vm', value: '', perms: ['n0'] },
  ];
  for (const d of domains) {
    const own = ['n0', `r${d.domid}`];
    const dir = `/local/domain/${d.domid}`;
    const vm = `/vm/${uuids.get(d.domid) as string}`;
    nodes.push(
      { path: dir, value: '', perms: own },
      { path: `${dir}/name`, value: d.name, perms: own },
      { path: `${dir}/vm`, value: vm, perms: own },
      { path: `${dir}/domid`, value: String(d.domid), perms: own },
      { path: `${dir}/memory`, value: '', perms: own },
      { path: `${dir}/memory/target`, value: '1048576', perms: own },
      { path: `${dir}/data`, value: '', perms: [`n${d.domid}`] },
      { path: vm, value: '', perms: own },
      { path: `${vm}/name`, value: d.name, perms: own },
      { path: `${vm}/uuid`, value: uuids.get(d.domid) as string, perms: own },
    );
  }
  return nodes;
}

export function layOutXenstore(domains: readonly XenstoreDomain[], uuids: ReadonlyMap<number, string>): Xenstore {
  // Introduce first: xenstored honours an ACL entry only for a domain that exists when it is set.
  const store = new Xenstore({ domains: domains.map((d) => d.domid) });
  for (const n of libxlNodes(domains, uuids)) {
    const made = store.createAsDom0(n.path, n.value, n.perms);
    if (!made.ok) throw new Error(`laying out xenstore: ${n.path}: ${made.error}`);
  }
  return store;
}

/** libxl's layout for these domains (dom0 besides), each with the UUID its name gives. */
export function libxlXenstore(domains: readonly XenstoreDomain[]): Xenstore {
  return layOutXenstore(domains, new Map(domains.map((d) => [d.domid, uuidOf(d.name)])));
}
