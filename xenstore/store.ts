// The simulated host's xenstore: an in-memory tree with the permission semantics of the C
// xenstored that Debian runs (Xen 4.17, tools/xenstore/xenstored_core.c and
// xenstored_domain.c). Every operation takes the calling domid and answers what
// the daemon answers on the wire: a value, or an error name (EACCES, ENOENT, EINVAL, EPERM,
// ENOSPC). Deterministic and synchronous; nothing here touches the outside world.
//
// The rules, with where they live in the daemon:
// * A node's ACL is a list of entries; the first names the owner and, by its letter, the
//   access of every domain not listed later (perm_for_conn). The owner, and a privileged
//   caller (dom0 and --priv-domid in 4.17: domain_is_unprivileged), get read, write and
//   "owner" (the right to set the ACL). A caller that dom0 SET_TARGETed at a domain also
//   matches that domain's entries and ownership.
// * Reads, listings and GET_PERMS check only the node itself; parents only choose the error
//   code: a missing or forbidden node whose nearest existing ancestor does not grant the
//   access asked for answers EACCES, so existence does not leak (errno_from_parents).
// * Writing a missing node creates it and any missing ancestors, each copying its parent's
//   ACL; a node an unprivileged domain creates is owned by that domain (construct_node).
// * ACL entries for domains that do not exist when the entry is set are marked "ignore" for
//   good (domain_alloc_permrefs); so are entries whose domain is younger than the node
//   (domain_adjust_node_perms, by generation counts): a recycled domid inherits nothing.
//   GET_PERMS still lists ignored entries.
// * Only the owner or a privileged caller may SET_PERMS; an unprivileged owner may not hand
//   the node to another domain (EPERM). Unprivileged callers may set at most 5 entries and
//   write records of under 2048 bytes (the daemon's default quotas; ENOSPC).
// Not modelled: transactions, watches, the per-domain node-count and memory quotas (1000
// nodes, 2.5 MB: far beyond what the self-test writes), domains going away (keep_orphans),
// and Xen ≥ 4.19's DOMID_ANY entries.

import { parseXenstoreLs, walkXsNodes } from './ls-format.js';
import { formatXsPerms, isValidNodename, xsAccessFor, type XsPermLetter, type XsPerms } from './access.js';
import { diagnostic, type Diagnostic } from '../core/diagnostics.js';

type XsErrno = 'EACCES' | 'ENOENT' | 'EINVAL' | 'EPERM' | 'ENOSPC';

/** The daemon's answer: a value, or the error name it sends (xsd_errors in xs_wire.h). */
export type XsResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: XsErrno };

interface XenstoreOptions {
  /** Domains that exist (and are introduced) from the start; dom0 always does. */
  readonly domains?: Iterable<number>;
  /** xenstored --priv-domid: privileged besides dom0 (4.17 keeps dom0 privileged too). */
  readonly privDomid?: number;
}

/** A node as dom0 sees it with `xenstore-ls -f -p`. */
interface XsNodeState {
  readonly path: string;
  readonly value: string;
  readonly perms: XsPerms;
  readonly children: readonly string[];
}

// ---------------------------------------------------------------- permissions

const PERM_NONE = 0;
const PERM_READ = 1;
const PERM_WRITE = 2;
const PERM_OWNER = 8;
const PERM_ALL = PERM_READ | PERM_WRITE | PERM_OWNER;

const LETTER_BITS: Readonly<Record<XsPermLetter, number>> = { n: PERM_NONE, r: PERM_READ, w: PERM_WRITE, b: PERM_READ | PERM_WRITE };

/** One ACL entry as the daemon stores it: the domid is an unsigned 32-bit number. */
interface StoredPerm {
  readonly letter: XsPermLetter;
  readonly id: number;
  /** XS_PERM_IGNORE: the domain did not exist when the entry was set, or is younger than the node. */
  readonly ignored: boolean;
}

interface StoredNode {
  value: string;
  perms: readonly StoredPerm[];
  /** Child names in creation order: the order XS_DIRECTORY returns them in. */
  children: string[];
  /** The global generation count at the node's last change (transaction.c access_node). */
  generation: number;
}

const DEFAULT_PERMS_QUOTA = 5; // quota_nb_perms_per_node
const ENTRY_SIZE_QUOTA = 2048; // quota_max_entry_size
const RECORD_HEADER_SIZE = 24; // sizeof(struct xs_tdb_record_hdr), padded to 8
const PERM_RECORD_SIZE = 8; // sizeof(struct xs_permissions)
const SPECIAL_NODES = ['@introduceDomain', '@releaseDomain'] as const;

const ok = <T>(value: T): XsResult<T> => ({ ok: true, value });
const fail = (error: XsErrno): { ok: false; error: XsErrno } => ({ ok: false, error });

/**
 * strtol(s, &end, 0) as xs_strings_to_perms uses it, reduced to the unsigned int the daemon
 * stores: leading space, a sign, 0x/0 prefixes; undefined when no digit or trailing junk.
 */
function parseWireDomid(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const digits = m[2]!;
  const magnitude = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits.startsWith('0') ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  // strtol clamps to the 64-bit long range; the assignment to unsigned int keeps 32 bits.
  const LONG_MAX = (1n << 63n) - 1n;
  const signed = m[1] === '-' ? -(magnitude > LONG_MAX + 1n ? LONG_MAX + 1n : magnitude) : magnitude > LONG_MAX ? LONG_MAX : magnitude;
  return Number(BigInt.asUintN(32, signed));
}

/** One wire permission string ("r5", "n0", …) as xs_strings_to_perms reads it. */
export function parseWirePerm(text: string): { letter: XsPermLetter; id: number } | undefined {
  const letter = text[0];
  if (letter !== 'r' && letter !== 'w' && letter !== 'b' && letter !== 'n') return undefined;
  const id = parseWireDomid(text.slice(1));
  return id === undefined ? undefined : { letter, id };
}

/** xs_perm_to_string: the domid printed as a signed int. */
function permString(p: StoredPerm): string {
  return `${p.letter}${p.id | 0}`;
}

function toXsPerms(perms: readonly StoredPerm[]): XsPerms {
  const [owner, ...rest] = perms;
  return {
    owner: owner!.id | 0,
    default: owner!.letter,
    entries: rest.map((p) => ({ letter: p.letter, domid: p.id | 0 })),
  };
}

// ---------------------------------------------------------------- paths

/**
 * is_valid_nodename: absolute, no trailing or double slash, short enough, plain characters.
 * One rule with the xenstore-ls reader, which refuses dumps holding names the daemon never
 * creates.
 */
export { isValidNodename };

/** get_parent: "/a/b" → "/a", "/a" → "/", "/" → "/". */
function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The strict ancestors of a path, nearest first, ending with "/". */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let p = path; p !== '/'; ) {
    p = parentPath(p);
    out.push(p);
  }
  return out;
}

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

// ---------------------------------------------------------------- the store

interface DomainState {
  /** The global generation count when the domain came into being (alloc_domain). */
  readonly generation: number;
  /** SET_TARGET: this domain also acts for that one. */
  target?: number;
}

export class Xenstore {
  private readonly nodes = new Map<string, StoredNode>();
  private readonly domains = new Map<number, DomainState>();
  private readonly special = new Map<string, readonly StoredPerm[]>();
  /** storedAcl's answers, valid until a domain is introduced (which may un-ignore an entry). */
  private readonly acls = new Map<string, readonly StoredPerm[] | 'EINVAL' | 'ENOENT'>();
  private readonly privDomid: number;
  private generation = 0;

  constructor(options: XenstoreOptions = {}) {
    this.privDomid = options.privDomid ?? 0;
    // setup_structure: "/", "/tool" and "/tool/xenstored", owned by dom0 with no default access.
    const dom0Only: readonly StoredPerm[] = [{ letter: 'n', id: 0, ignored: false }];
    this.nodes.set('/', { value: '', perms: dom0Only, children: ['tool'], generation: ++this.generation });
    this.nodes.set('/tool', { value: '', perms: dom0Only, children: ['xenstored'], generation: ++this.generation });
    this.nodes.set('/tool/xenstored', { value: '', perms: dom0Only, children: [], generation: ++this.generation });
    for (const name of SPECIAL_NODES) this.special.set(name, dom0Only);
    this.addDomain(0);
    for (const d of options.domains ?? []) this.addDomain(d);
  }

  // ------------------------------------------------------------ domains

  /** A domain comes into being: ACL entries set from now on for its domid count. */
  addDomain(domid: number): void {
    if (!Number.isInteger(domid) || domid < 0 || domid > 0x7fef) throw new RangeError(`not a domid: ${domid}`);
    if (!this.domains.has(domid)) {
      this.domains.set(domid, { generation: this.generation });
      this.acls.clear();
    }
  }

  hasDomain(domid: number): boolean {
    return this.domains.has(domid);
  }

  isPrivileged(domid: number): boolean {
    return domid === 0 || domid === this.privDomid;
  }

  /** XS_SET_TARGET (privileged only): `domid` gets the rights of `target` (a device model's stubdomain). */
  setTarget(caller: number, domid: number, target: number): XsResult<null> {
    this.callerState(caller);
    if (!this.isPrivileged(caller)) return fail('EACCES');
    const d = this.domains.get(domid);
    if (!d || !this.domains.has(target)) return fail('ENOENT');
    d.target = target;
    return ok(null);
  }

  // ------------------------------------------------------------ the wire operations

  read(caller: number, path: string): XsResult<string> {
    const got = this.getNode(caller, path, PERM_READ);
    return got.ok ? ok(got.value.node.value) : got;
  }

  /** XS_DIRECTORY: every child name, whatever the children's own ACLs. */
  directory(caller: number, path: string): XsResult<readonly string[]> {
    const got = this.getNode(caller, path, PERM_READ);
    return got.ok ? ok([...got.value.node.children]) : got;
  }

  /** XS_GET_PERMS: the ACL, ignored entries included, as the daemon prints it. */
  getPerms(caller: number, path: string): XsResult<readonly string[]> {
    const got = this.getNode(caller, path, PERM_READ);
    return got.ok ? ok(got.value.node.perms.map(permString)) : got;
  }

  write(caller: number, path: string, value: string): XsResult<null> {
    const got = this.getNode(caller, path, PERM_WRITE);
    if (got.ok) {
      const { node } = got.value;
      if (this.overQuota(caller, () => [node.perms.length, utf8Length(value), childrenLength(node.children)])) return fail('ENOSPC');
      this.touch(node);
      node.value = value;
      return ok(null);
    }
    return got.error === 'ENOENT' ? this.create(caller, this.canonicalize(caller, path), value) : got;
  }

  /** XS_MKDIR: an existing node the caller may write is left alone. */
  mkdir(caller: number, path: string): XsResult<null> {
    const got = this.getNode(caller, path, PERM_WRITE);
    if (got.ok) return ok(null);
    return got.error === 'ENOENT' ? this.create(caller, this.canonicalize(caller, path), '') : got;
  }

  /** XS_RM: the node and its whole subtree, whatever the children's ACLs. */
  rm(caller: number, path: string): XsResult<null> {
    const got = this.getNode(caller, path, PERM_WRITE);
    if (!got.ok) {
      // Removing what is not there is fine when its parent exists (do_rm).
      if (got.error !== 'ENOENT') return got;
      return this.nodes.has(parentPath(this.canonicalize(caller, path))) ? ok(null) : fail('ENOENT');
    }
    const { name } = got.value;
    if (name === '/') return fail('EINVAL');
    this.deleteSubtree(name);
    const parentName = parentPath(name);
    const parent = this.nodes.get(parentName)!;
    this.touch(parent);
    parent.children = parent.children.filter((c) => c !== baseName(name));
    return ok(null);
  }

  /**
   * dom0 writing a new node under an existing parent and then setting its ACL — `write(0, …)`
   * followed by `setPerms(0, …)` — leaving the store exactly as those two would, generation
   * counts included, without the checks a privileged caller always passes: laying out the
   * 100 000 nodes libxl writes for a host of 10 000 domains goes through here. Anything
   * else (an existing node, a missing parent, a path or an ACL the daemon refuses) is the
   * two wire operations themselves, with their answers.
   */
  createAsDom0(path: string, value: string, perms: readonly string[]): XsResult<null> {
    const parent = this.nodes.get(parentPath(path));
    const stored = perms.length > 0 ? this.storedAcl(perms) : 'EINVAL';
    if (!parent || this.nodes.has(path) || path === '/' || !isValidNodename(path) || typeof stored === 'string') {
      const written = this.write(0, path, value);
      return written.ok ? this.setPerms(0, path, perms) : written;
    }
    // create_node: the parent is touched and gains the child, which copies the parent's ACL.
    this.touch(parent);
    parent.children.push(baseName(path));
    const node: StoredNode = { value, perms: parent.perms, children: [], generation: ++this.generation };
    this.nodes.set(path, node);
    // do_set_perms: the node is touched, then takes the new ACL (domain_alloc_permrefs).
    this.touch(node);
    node.perms = stored;
    return ok(null);
  }

  /**
   * The ACL SET_PERMS stores for these wire strings (at least one), or why it refuses them:
   * EINVAL for an entry it cannot read, ENOENT when the owner does not exist. An entry for a
   * domain that does not exist is ignored for good (domain_alloc_permrefs). One array per
   * distinct list while the domains stay the same (ACLs are never changed in place, only
   * replaced), so a domain's nine layout nodes share one.
   */
  private storedAcl(perms: readonly string[]): readonly StoredPerm[] | 'EINVAL' | 'ENOENT' {
    const key = JSON.stringify(perms);
    let stored = this.acls.get(key);
    if (stored === undefined) {
      const parsed = perms.map(parseWirePerm);
      if (parsed.some((p) => p === undefined)) stored = 'EINVAL';
      else {
        const acl = parsed.map((p) => ({ ...p!, ignored: !this.domains.has(p!.id) }));
        stored = acl[0]!.ignored ? 'ENOENT' : acl;
      }
      this.acls.set(key, stored);
    }
    return stored;
  }

  /** XS_SET_PERMS with the wire strings, owner first ("n0", "r5", …). */
  setPerms(caller: number, path: string, perms: readonly string[]): XsResult<null> {
    this.callerState(caller);
    if (perms.length < 1) return fail('EINVAL');
    if (!this.isPrivileged(caller) && perms.length > DEFAULT_PERMS_QUOTA) return fail('ENOSPC');
    const stored = this.storedAcl(perms);
    if (typeof stored === 'string') return fail(stored);

    if (path.startsWith('@')) return this.setSpecialPerms(caller, path, stored);

    const got = this.getNode(caller, path, PERM_WRITE | PERM_OWNER);
    if (!got.ok) return got;
    const { node } = got.value;
    if (!this.isPrivileged(caller) && stored[0]!.id !== node.perms[0]!.id) return fail('EPERM');
    if (this.overQuota(caller, () => [stored.length, utf8Length(node.value), childrenLength(node.children)])) return fail('ENOSPC');
    this.touch(node);
    node.perms = stored;
    return ok(null);
  }

  // ------------------------------------------------------------ inspection (no permission check)

  /** Every node, depth first in child order, as dom0 sees it. */
  *nodeStates(): Generator<XsNodeState> {
    const stack = ['/'];
    for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
      const state = this.nodeState(path)!;
      yield state;
      for (let i = state.children.length - 1; i >= 0; i--) stack.push(childPath(path, state.children[i]!));
    }
  }

  nodeState(path: string): XsNodeState | undefined {
    const node = this.nodes.get(path);
    if (!node) return undefined;
    return { path, value: node.value, perms: toXsPerms(this.adjusted(node)), children: [...node.children] };
  }

  /** The ACL of @introduceDomain / @releaseDomain (who may watch them). */
  specialPerms(name: (typeof SPECIAL_NODES)[number]): XsPerms {
    return toXsPerms(this.special.get(name)!);
  }

  /** Whether `caller` may read `path` (what a lookup needs), without the error detail. */
  canRead(caller: number, path: string): boolean {
    return this.getNode(caller, path, PERM_READ).ok;
  }

  /** Whether `caller` may write `path`; an absent node counts as writable if it could be created. */
  canWrite(caller: number, path: string): boolean {
    const got = this.getNode(caller, path, PERM_WRITE);
    return got.ok || got.error === 'ENOENT';
  }

  // ------------------------------------------------------------ internals

  private callerState(caller: number): DomainState {
    const d = this.domains.get(caller);
    if (!d) throw new RangeError(`domain ${caller} does not exist on this host; addDomain it first`);
    return d;
  }

  /**
   * perm_for_conn (4.17): privileged callers get everything; otherwise xsAccessFor decides
   * over the entries domain_adjust_node_perms left (a SET_TARGET caller also matches its target).
   */
  private permFor(caller: number, perms: readonly StoredPerm[]): number {
    if (this.isPrivileged(caller)) return PERM_ALL;
    const target = this.callerState(caller).target;
    const access = xsAccessFor(toXsPerms(perms.filter((p, i) => i === 0 || !p.ignored)), (id) => id === caller || (target !== undefined && id === target));
    return access === 'owner' ? PERM_ALL : LETTER_BITS[access];
  }

  /** domain_adjust_node_perms: entries for domains gone or younger than the node are ignored. */
  private adjusted(node: StoredNode): readonly StoredPerm[] {
    // The node's own array when nothing changes (nearly always): a host's 100 000 nodes are
    // read through here, and a copy of each ACL per read was most of the store's garbage.
    let out: StoredPerm[] | undefined;
    for (let i = 1; i < node.perms.length; i++) {
      const p = node.perms[i] as StoredPerm;
      if (p.ignored) continue;
      const d = this.domains.get(p.id);
      if (d && d.generation <= node.generation) continue;
      out ??= [...node.perms];
      out[i] = { ...p, ignored: true };
    }
    return out ?? node.perms;
  }

  /** canonicalize: a relative path is below the caller's /local/domain/<id>. */
  private canonicalize(caller: number, path: string): string {
    return path.startsWith('/') || path.startsWith('@') ? path : `/local/domain/${caller}/${path}`;
  }

  /**
   * get_node: the node if the caller has all of `perm` on it. Otherwise EACCES, or ENOENT
   * when it is missing, unless the nearest existing ancestor grants none of `perm`: then
   * EACCES as well (errno_from_parents).
   */
  private getNode(caller: number, path: string, perm: number): XsResult<{ name: string; node: StoredNode }> {
    this.callerState(caller);
    const name = this.canonicalize(caller, path);
    if (!isValidNodename(name)) return fail('EINVAL');
    const node = this.nodes.get(name);
    if (node) {
      if ((this.permFor(caller, this.adjusted(node)) & perm) === perm) return ok({ name, node });
      return fail('EACCES');
    }
    const nearest = ancestors(name).find((p) => this.nodes.has(p))!;
    return this.permFor(caller, this.adjusted(this.nodes.get(nearest)!)) & perm ? fail('ENOENT') : fail('EACCES');
  }

  /** Marks a node changed: its ignored entries are kept as ignored, and it gets a new generation. */
  private touch(node: StoredNode): void {
    node.perms = this.adjusted(node);
    node.generation = ++this.generation;
  }

  /**
   * write_node_raw's quota: an unprivileged caller's record must stay under 2048 bytes. The
   * sizes are asked for only then: a privileged caller writing under a directory of 10 000
   * children must not pay for measuring them on every write.
   */
  private overQuota(caller: number, sizes: () => readonly [nperms: number, datalen: number, childlen: number]): boolean {
    if (this.isPrivileged(caller)) return false;
    const [nperms, datalen, childlen] = sizes();
    return RECORD_HEADER_SIZE + PERM_RECORD_SIZE * nperms + datalen + childlen >= ENTRY_SIZE_QUOTA;
  }

  /**
   * create_node: the node and every missing ancestor, each copying its parent's ACL, owned
   * by an unprivileged creator. All or nothing: a quota failure leaves the store as it was.
   */
  private create(caller: number, name: string, value: string): XsResult<null> {
    const missing = [name, ...ancestors(name)].filter((p) => !this.nodes.has(p)).reverse();
    const topParentName = parentPath(missing[0]!);
    const topParent = this.nodes.get(topParentName)!;
    let perms = this.adjusted(topParent);
    const planned: { path: string; perms: readonly StoredPerm[] }[] = [];
    for (const path of missing) {
      perms = this.isPrivileged(caller) ? perms : [{ ...perms[0]!, id: caller }, ...perms.slice(1)];
      planned.push({ path, perms });
    }
    // Quota checks, bottom up as the daemon writes: the new nodes, then the existing parent.
    const sizes = planned.map((p, i): readonly [number, number, number] =>
      i === planned.length - 1 ? [p.perms.length, utf8Length(value), 0] : [p.perms.length, 0, utf8Length(baseName(planned[i + 1]!.path)) + 1],
    );
    const parentSize = (): readonly [number, number, number] => [topParent.perms.length, utf8Length(topParent.value), childrenLength([...topParent.children, baseName(missing[0]!)])];
    if ([...sizes.map((size) => () => size), parentSize].some((size) => this.overQuota(caller, size))) return fail('ENOSPC');

    this.touch(topParent);
    topParent.children.push(baseName(missing[0]!));
    planned.forEach((p, i) => {
      const next = planned[i + 1];
      this.nodes.set(p.path, {
        value: next ? '' : value,
        perms: p.perms,
        children: next ? [baseName(next.path)] : [],
        generation: ++this.generation,
      });
    });
    return ok(null);
  }

  private deleteSubtree(name: string): void {
    const node = this.nodes.get(name);
    if (!node) return;
    for (const child of node.children) this.deleteSubtree(childPath(name, child));
    this.nodes.delete(name);
    ++this.generation;
  }

  /** set_perms_special: only @introduceDomain and @releaseDomain, by whoever owns them. */
  private setSpecialPerms(caller: number, name: string, perms: readonly StoredPerm[]): XsResult<null> {
    const current = this.special.get(name);
    if (!current) return fail('EINVAL');
    if ((this.permFor(caller, current) & (PERM_WRITE | PERM_OWNER)) !== (PERM_WRITE | PERM_OWNER)) return fail('EACCES');
    this.special.set(name, perms);
    return ok(null);
  }
}

function childrenLength(children: readonly string[]): number {
  return children.reduce((sum, c) => sum + utf8Length(c) + 1, 0);
}

// ---------------------------------------------------------------- xenstore-ls -f -p

/** sanitise_value (xs_lib.c): printable ASCII as is; \t \n \r \\; bytes below 010 as \ooo, others \xHH. */
export function sanitiseValue(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte >= 0x20 && byte <= 0x7e && byte !== 0x5c) out += String.fromCharCode(byte);
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte < 0o10) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** What `xenstore-ls -f -p /` prints as dom0: every node below the root, one line each. */
export function toXenstoreLs(store: Xenstore): string {
  const lines: string[] = [];
  for (const n of store.nodeStates()) {
    if (n.path === '/') continue;
    lines.push(`${n.path} = "${sanitiseValue(n.value)}"   (${formatXsPerms(n.perms)})`);
  }
  return lines.map((l) => `${l}\n`).join('');
}

interface FromXenstoreLsResult {
  readonly store: Xenstore;
  readonly diagnostics: Diagnostic[];
}

/**
 * A store holding what a `xenstore-ls -p` (or `-f -p`) dump shows, as dom0 would rebuild it:
 * each node written, then its ACL set. Nodes without printed perms inherit their parent's,
 * as a fresh write would; values the listing cut short are kept cut. The domains must be
 * given: ACL entries for others are ignored, as on a real host.
 */
export function fromXenstoreLs(file: string, text: string, options: XenstoreOptions = {}): FromXenstoreLsResult {
  const parsed = parseXenstoreLs(file, text);
  const store = new Xenstore(options);
  const diagnostics = [...parsed.diagnostics];
  for (const node of walkXsNodes(parsed.result.root)) {
    store.write(0, node.path, node.value ?? '');
    if (!node.perms) continue;
    const set = store.setPerms(0, node.path, formatXsPerms(node.perms).split(','));
    // ENOENT: the owner is not one of the given domains, and xenstored refuses such an ACL.
    if (!set.ok) diagnostics.push(diagnostic('XsDumpNotApplied', [node.path, set.error], node.span, 'pass every domain of the dump in options.domains'));
  }
  return { store, diagnostics };
}
