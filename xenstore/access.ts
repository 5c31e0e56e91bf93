// xenstored's rules for nodes and their ACLs, stated once: what an ACL says (its letters and
// domids, as xenstore-ls and xenstore-chmod spell them), who may read or write a node
// (perm_for_conn), and which paths xenstored accepts (is_valid_nodename). The checker's
// xenstore rule, the diff of dumps, the dump reader and the simulated xenstored all ask here.

export type XsPermLetter = 'r' | 'w' | 'b' | 'n';

export interface XsPermEntry {
  readonly letter: XsPermLetter;
  readonly domid: number;
}

export interface XsPerms {
  /** The first entry's domid: the owner, who always has full access. */
  readonly owner: number;
  /** The first entry's letter: the access of every domain not listed in `entries`. */
  readonly default: XsPermLetter;
  /** The entries after the first, in order (xenstored uses the first that matches). */
  readonly entries: readonly XsPermEntry[];
}

/** What a domain may do on a node: everything as its owner, or one entry's letter. */
export type XsAccess = XsPermLetter | 'owner';

/**
 * C xenstored's perm_for_conn (xenstored_core.c) over one ACL: the owner (first entry) has
 * full access, otherwise the first later entry that names the domain decides, otherwise the
 * first entry's letter. `names` says whether an entry's domid is the caller (the simulated
 * daemon also matches a SET_TARGET's target); privilege (dom0) is the caller's business.
 * The one statement of the rule: the checker, the diff of dumps and the simulated xenstored
 * all decide with it.
 */
export function xsAccessFor(perms: XsPerms, names: (domid: number) => boolean): XsAccess {
  if (names(perms.owner)) return 'owner';
  return perms.entries.find((e) => names(e.domid))?.letter ?? perms.default;
}

export const xsCanRead = (a: XsAccess): boolean => a === 'owner' || a === 'r' || a === 'b';
export const xsCanWrite = (a: XsAccess): boolean => a === 'owner' || a === 'w' || a === 'b';

/** The ACL as xenstore-ls and xenstore-chmod spell it, e.g. "n0,r5". */
export function formatXsPerms(perms: XsPerms): string {
  return [`${perms.default}${perms.owner}`, ...perms.entries.map((e) => `${e.letter}${e.domid}`)].join(',');
}

/**
 * XENSTORE_REL_PATH_MAX (xen/include/public/io/xs_wire.h): the longest path xenstored
 * accepts, counted after "/local/domain/<domid>/" (xenstored's -M quota can only lower it).
 */
export const XENSTORE_REL_PATH_MAX = 2048;

/** Why xenstored would refuse a path, or undefined when it accepts it. */
type NodePathProblem =
  | { readonly kind: 'form' }
  /** `index`: the first character outside valid_chars's set (a UTF-16 offset into the path). */
  | { readonly kind: 'character'; readonly index: number }
  | { readonly kind: 'length'; readonly length: number; readonly limit: number };

/**
 * C xenstored's is_valid_nodename (tools/xenstore/xenstored_core.c in 4.17; canonicalize in
 * tools/xenstored/core.c since 4.19): absolute, no trailing "/" (but "/" itself), no "//",
 * only the characters of valid_chars — A-Z a-z 0-9 - / _ @, the set oxenstored's
 * Store.Path.char_is_valid allows too — and at most XENSTORE_REL_PATH_MAX characters after a
 * "/local/domain/<domid>/" prefix (sscanf "%5u/" with %n), counting from "/" otherwise.
 * The characters are checked before the length (xenstored checks the length first; the
 * answer is the same), so the length is in bytes, as strlen counts it.
 */
export function nodePathProblem(path: string): NodePathProblem | undefined {
  if (!path.startsWith('/') || (path.endsWith('/') && path !== '/') || path.includes('//')) return { kind: 'form' };
  const bad = /[^A-Za-z0-9\-/_@]/.exec(path);
  if (bad) return { kind: 'character', index: bad.index };
  const local = /^\/local\/domain\/([+-]?[0-9]+)\//.exec(path);
  const localOffset = local && (local[1] as string).length <= 5 ? local[0].length : 0;
  const limit = localOffset + XENSTORE_REL_PATH_MAX;
  return path.length > limit ? { kind: 'length', length: path.length, limit } : undefined;
}

export function isValidNodename(path: string): boolean {
  return nodePathProblem(path) === undefined;
}
