// Reading the binary policy Xen loads (`checkpolicy -t Xen -c N`, /boot/xenpolicy-*): the
// kernel policydb format as libsepol's `policydb_read()` (src/policydb.c) reads it, with the
// avtab of src/avtab.c (`avtab_read_item`), the conditional lists of src/conditional.c
// (`cond_read_list`), the bitmaps of src/ebitmap.c (`ebitmap_read`) and the MLS levels and
// ranges of `mls_read_level`/`mls_read_range_helper`. Only what libsepol accepts for the Xen
// target is read: `policydb_compat[]` holds two Xen entries, versions 24
// (POLICYDB_VERSION_BOUNDARY, ocontexts ISID…PCIDEVICE) and 30
// (POLICYDB_VERSION_XEN_DEVICETREE, plus DEVICETREE and 64-bit iomem ranges), so
// `checkpolicy -t Xen -c N` writes nothing else ("compatibility lookup failed" for any other N).
//
// The file is hostile input. Every count is checked against the bytes left before anything
// is built for it (each counted item takes at least 4 bytes, so a count larger than a
// quarter of the remaining bytes cannot be honest), every value that indexes a table is
// checked against that table, and nesting is bounded (constraint expressions to libsepol's
// CEXPR_MAXDEPTH, conditional expressions to COND_EXPR_MAXDEPTH). Any problem ends the read
// with a BinaryPolicyError naming the byte offset and what was expected there; no other
// exception escapes `readBinaryPolicy`. Memory stays linear in the file size.

/** SELINUX_MAGIC, the kernel policydb's first word (POLICYDB_MAGIC in policydb.h). */
export const POLICYDB_MAGIC = 0xf97cff8c;
/** The target string of a Xen policy (POLICYDB_XEN_STRING). */
export const XEN_TARGET = 'XenFlask';
/** The versions libsepol's policydb_compat[] accepts for the Xen target. */
export const XEN_POLICY_VERSIONS: readonly number[] = [24, 30];

export const VERSION_ROLETRANS = 26;
export const VERSION_FILENAME_TRANS = 25;
export const VERSION_NEW_OBJECT_DEFAULTS = 27;
export const VERSION_DEFAULT_TYPE = 28;
export const VERSION_CONSTRAINT_NAMES = 29;
export const VERSION_XEN_DEVICETREE = 30;
/** SYM_NUM: commons, classes, roles, types, users, booleans, sensitivities, categories. */
const SYM_NUM = 8;
/** PERM_SYMTAB_SIZE: a class (or common) has at most 32 permissions, one bit each. */
const PERM_SYMTAB_SIZE = 32;
/** policydb.h POLICYDB_STRING_MAX_LENGTH. */
const TARGET_STRING_MAX = 32;
/** constraint.h CEXPR_MAXDEPTH and conditional.h COND_EXPR_MAXDEPTH. */
const CEXPR_MAXDEPTH = 5;
const COND_EXPR_MAXDEPTH = 10;
/** checkpolicy's identifiers (policy_scan.l), as policy/grammar/tokens.ts reads them. */
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/;
/** The highest initial SID number read (Xen's initial_sids lists 13). */
const MAX_INITIAL_SID = 1024;
/** A name longer than this is no symbol checkpolicy wrote (its lexer reads far shorter ones). */
const NAME_MAX = 1 << 16;

/** avtab.h: the `specified` bits of an avtab key. */
export const AVTAB = {
  allowed: 0x0001, auditallow: 0x0002, auditdeny: 0x0004,
  transition: 0x0010, member: 0x0020, change: 0x0040,
  xperms: 0x0100 | 0x0200 | 0x0400 | 0x0800,
  enabled: 0x8000,
} as const;

/** constraint.h expression node types, attributes and operators. */
export const CEXPR = {
  not: 1, and: 2, or: 3, attr: 4, names: 5,
  user: 1, role: 2, type: 4, target: 8, xtarget: 16,
  l1l2: 32, l1h2: 64, h1l2: 128, h1h2: 256, l1h1: 512, l2h2: 1024,
  eq: 1, neq: 2, dom: 3, domby: 4, incomp: 5,
} as const;

/** conditional.h expression node types (COND_BOOL … COND_NEQ). */
export const COND = { bool: 1, not: 2, or: 3, and: 4, xor: 5, eq: 6, neq: 7 } as const;

export class BinaryPolicyError extends Error {
  constructor(readonly offset: number, readonly expected: string) {
    super(`at byte ${offset}: ${expected}`);
  }
}

export interface Level {
  readonly sens: number;
  /** Category values - 1 (bit numbers), ascending. */
  readonly cats: readonly number[];
}
export interface Range { readonly low: Level; readonly high: Level }
export interface BinaryContext { readonly user: number; readonly role: number; readonly type: number; readonly range: Range }

interface Perm { readonly name: string; readonly value: number }
interface BinaryCommon { readonly name: string; readonly value: number; readonly perms: readonly Perm[] }
interface ConstraintNode {
  readonly type: number;
  readonly attr: number;
  readonly op: number;
  /** CEXPR_NAMES: value - 1 of each named user, role or type, ascending. */
  readonly names?: readonly number[];
}
export interface BinaryConstraint {
  /** Permission bits (validatetrans: 0). */
  readonly perms: number;
  /** Reverse Polish, as written. */
  readonly expr: readonly ConstraintNode[];
  readonly offset: number;
}
interface BinaryClass {
  readonly name: string;
  readonly value: number;
  readonly common?: string;
  readonly perms: readonly Perm[];
  readonly constraints: readonly BinaryConstraint[];
  readonly validatetrans: readonly BinaryConstraint[];
  readonly defaults: { readonly user: number; readonly role: number; readonly range: number; readonly type: number };
}
interface BinaryRole { readonly name: string; readonly value: number; readonly bounds: number; readonly types: readonly number[] }
interface BinaryType {
  readonly name: string;
  readonly value: number;
  /** False for an alias: its value is its primary type's. */
  readonly primary: boolean;
  readonly attribute: boolean;
  readonly bounds: number;
}
interface BinaryUser { readonly name: string; readonly value: number; readonly roles: readonly number[]; readonly range: Range; readonly defaultLevel: Level }
interface BinaryBool { readonly name: string; readonly value: number; readonly state: boolean }
interface BinarySensitivity { readonly name: string; readonly alias: boolean; readonly level: Level }
interface BinaryCategory { readonly name: string; readonly value: number; readonly alias: boolean }
interface AvtabEntry {
  readonly source: number;
  readonly target: number;
  readonly cls: number;
  readonly specified: number;
  /** Permission bits (AV entries) or the new type's value (type entries). */
  readonly data: number;
  readonly offset: number;
}
interface CondNode {
  readonly state: boolean;
  /** Reverse Polish [kind, boolean value]. */
  readonly expr: readonly (readonly [number, number])[];
  readonly whenTrue: readonly AvtabEntry[];
  readonly whenFalse: readonly AvtabEntry[];
  readonly offset: number;
}
interface RoleTrans { readonly role: number; readonly type: number; readonly newRole: number; readonly cls: number; readonly offset: number }
interface RoleAllow { readonly role: number; readonly newRole: number; readonly offset: number }
interface FilenameTrans { readonly name: string; readonly source: number; readonly target: number; readonly cls: number; readonly result: number; readonly offset: number }
interface RangeTrans { readonly source: number; readonly target: number; readonly cls: number; readonly range: Range; readonly offset: number }
interface Ocontext<T> { readonly key: T; readonly context: BinaryContext; readonly offset: number }

export interface BinaryPolicy {
  readonly version: number;
  readonly mls: boolean;
  readonly handleUnknown: number;
  readonly policyCaps: readonly number[];
  /** Type values of permissive types (the permissive_map's bits are type values). */
  readonly permissive: readonly number[];
  readonly commons: readonly BinaryCommon[];
  readonly classes: readonly BinaryClass[];
  readonly roles: readonly BinaryRole[];
  readonly types: readonly BinaryType[];
  readonly users: readonly BinaryUser[];
  readonly bools: readonly BinaryBool[];
  readonly sensitivities: readonly BinarySensitivity[];
  readonly categories: readonly BinaryCategory[];
  /** Numbers of symbols per table (nprim): values run 1 … nprim. */
  readonly counts: { readonly classes: number; readonly roles: number; readonly types: number; readonly users: number; readonly bools: number; readonly sensitivities: number; readonly categories: number };
  readonly avtab: readonly AvtabEntry[];
  readonly conditionals: readonly CondNode[];
  readonly roleTransitions: readonly RoleTrans[];
  readonly roleAllows: readonly RoleAllow[];
  readonly filenameTransitions: readonly FilenameTrans[];
  readonly initialSids: readonly Ocontext<number>[];
  readonly pirqs: readonly Ocontext<number>[];
  readonly ioports: readonly Ocontext<readonly [number, number]>[];
  /** 64-bit from version 30: bigints, printed as written. */
  readonly iomems: readonly Ocontext<readonly [bigint, bigint]>[];
  readonly pciDevices: readonly Ocontext<number>[];
  readonly deviceTrees: readonly Ocontext<string>[];
  readonly rangeTransitions: readonly RangeTrans[];
  /** type value - 1 → attribute values - 1 it belongs to (type_attr_map, self excluded). */
  readonly typeAttributes: readonly (readonly number[])[];
}

/**
 * Whether bytes begin as a binary policy: SELINUX_MAGIC. Such a file goes to the reader even
 * when its target string is not "XenFlask" (an SELinux policy, a damaged one), so that it is
 * refused as the binary it is, with the offset, and not parsed as policy text.
 */
export function isBinaryPolicy(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true) === POLICYDB_MAGIC;
}

/** Bytes outside printable ASCII as \xNN: a message never carries a control character. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A cursor over the file that refuses to read past its end or to trust a count. */
class Cursor {
  private readonly view: DataView;
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.bytes.length - this.pos;
  }

  fail(expected: string, at = this.pos): never {
    throw new BinaryPolicyError(at, expected);
  }

  need(n: number, what: string): void {
    if (n > this.left) this.fail(`${what}: ${n} bytes needed, ${this.left} left (the file is truncated)`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /**
   * A count of items that each take at least `minBytes`: more than the rest of the file
   * could hold is refused before anything is allocated for them.
   */
  count(what: string, minBytes: number): number {
    const at = this.pos;
    const n = this.u32(`the number of ${what}`);
    if (n * minBytes > this.left) this.fail(`at most ${Math.floor(this.left / minBytes)} ${what} (each takes at least ${minBytes} bytes, and ${this.left} are left), not ${n}`, at);
    return n;
  }

  /**
   * A symbol name of `len` bytes (str_read), which must be an identifier as checkpolicy's
   * scanner reads one (and policy/grammar/tokens.ts): the names are written back into policy
   * text, so a `;`, `{` or `#` in one must not become syntax there.
   */
  name(len: number, what: string): string {
    const at = this.pos;
    if (len === 0 || len > NAME_MAX) this.fail(`${what}: a name length of 1 to ${NAME_MAX}, not ${len}`, at - 4);
    this.need(len, what);
    const name = Buffer.from(this.bytes.subarray(this.pos, this.pos + len)).toString('latin1');
    if (!IDENTIFIER.test(name)) this.fail(`${what}: a name made of letters, digits, "_", "-" and inner dots, not "${printable(name.length > 40 ? `${name.slice(0, 40)}…` : name)}"`);
    this.pos += len;
    return name;
  }

  /** A devicetreecon path: any bytes but NUL, quote and newline (it is printed in quotes). */
  path(len: number, what: string): string {
    const at = this.pos;
    if (len === 0 || len > NAME_MAX) this.fail(`${what}: a length of 1 to ${NAME_MAX}, not ${len}`, at - 4);
    this.need(len, what);
    const raw = this.bytes.subarray(this.pos, this.pos + len);
    for (const b of raw) if (b < 0x20 || b >= 0x7f || b === 0x22) this.fail(`${what}: printable characters, not byte 0x${b.toString(16).padStart(2, '0')}`, this.pos + raw.indexOf(b));
    this.pos += len;
    return Buffer.from(raw).toString('latin1');
  }

  /**
   * An ebitmap (ebitmap_read): MAPSIZE 64, a high bit that is a multiple of it, then `count`
   * nodes of (start bit, 64-bit map) in ascending order, none empty, all below the high bit.
   * Returns the set bits; `limit` bounds them (the table the bits index), so a bitmap cannot
   * name more than the file's own tables hold.
   */
  ebitmap(what: string, limit: number): number[] {
    const at = this.pos;
    const mapsize = this.u32(`${what}: the map size`);
    if (mapsize !== 64) this.fail(`${what}: a map size of 64, not ${mapsize}`, at);
    const highbit = this.u32(`${what}: the high bit`);
    const n = this.count(`nodes of ${what}`, 12);
    if (highbit % 64 !== 0) this.fail(`${what}: a high bit that is a multiple of 64, not ${highbit}`, at + 4);
    if (highbit === 0) {
      if (n !== 0) this.fail(`${what}: no nodes in an empty bitmap`, at + 8);
      return [];
    }
    if (n === 0) this.fail(`${what}: nodes for a high bit of ${highbit}`, at + 8);
    const bits: number[] = [];
    let last = -1;
    for (let i = 0; i < n; i++) {
      const nodeAt = this.pos;
      const start = this.u32(`${what}: a node's start bit`);
      if (start % 64 !== 0 || start > highbit - 64 || start <= last) this.fail(`${what}: a node start bit that is a multiple of 64, ascending and below the high bit ${highbit}, not ${start}`, nodeAt);
      last = start;
      const lo = this.u32(`${what}: a node's map`);
      const hi = this.u32(`${what}: a node's map`);
      if (lo === 0 && hi === 0) this.fail(`${what}: a node with at least one bit set`, nodeAt + 4);
      for (let b = 0; b < 64; b++) {
        const word = b < 32 ? lo : hi;
        if (((word >>> (b & 31)) & 1) === 0) continue;
        const bit = start + b;
        if (bit >= limit) this.fail(`${what}: bits below ${limit} (the size of the table they index), not bit ${bit}`, nodeAt);
        bits.push(bit);
      }
    }
    return bits;
  }
}

const FAR = 2 ** 31;

/**
 * Reads a whole Xen binary policy, or throws a BinaryPolicyError with the offset where the
 * file stops being one. A well-formed file leaves no bytes unread.
 */
export function readBinaryPolicy(bytes: Uint8Array): BinaryPolicy {
  // No catch-all here: any other exception is a fault of the reader, and the fuzz property
  // (test/binary-policy.test.ts) must see it as one.
  return readAll(new Cursor(bytes));
}

function readAll(c: Cursor): BinaryPolicy {
  const magic = c.u32('the magic number');
  if (magic !== POLICYDB_MAGIC) c.fail(`the policydb magic number 0xf97cff8c, not 0x${magic.toString(16).padStart(8, '0')}`, 0);
  const len = c.u32('the length of the target string');
  if (len === 0 || len > TARGET_STRING_MAX) c.fail(`a target string length of 1 to ${TARGET_STRING_MAX}, not ${len}`, 4);
  const target = c.path(len, 'the target string');
  if (target !== XEN_TARGET) c.fail(`the target string "${XEN_TARGET}" (a Xen policy), not "${target}"`, 8);
  const versionAt = c.pos;
  const version = c.u32('the policy version');
  if (!XEN_POLICY_VERSIONS.includes(version)) c.fail(`a Xen policy version (${XEN_POLICY_VERSIONS.join(' or ')}: libsepol's policydb_compat[] has no other for Xen), not ${version}`, versionAt);
  const config = c.u32('the config flags');
  const symNum = c.u32('the number of symbol tables');
  const oconNum = c.u32('the number of ocontext tables');
  const wantOcon = version >= VERSION_XEN_DEVICETREE ? 6 : 5;
  if (symNum !== SYM_NUM || oconNum !== wantOcon) c.fail(`table sizes (${SYM_NUM},${wantOcon}) for version ${version}, not (${symNum},${oconNum})`, versionAt + 8);

  // The tables are read before their sizes are known; each read's bounds come from nprim.
  const policyCaps = c.ebitmap('the policy capabilities', 64);
  const permissiveAt = c.pos;
  const permissiveBits = c.ebitmap('the permissive map', FAR);

  const counts = { commons: 0, classes: 0, roles: 0, types: 0, users: 0, bools: 0, sensitivities: 0, categories: 0 };
  const commons: BinaryCommon[] = [];
  const classes: BinaryClass[] = [];
  const roles: BinaryRole[] = [];
  const types: BinaryType[] = [];
  const users: BinaryUser[] = [];
  const bools: BinaryBool[] = [];
  const sensitivities: BinarySensitivity[] = [];
  const categories: BinaryCategory[] = [];
  const tableNames = ['commons', 'classes', 'roles', 'types', 'users', 'booleans', 'sensitivities', 'categories'] as const;
  // Types come after roles and users after types in the file, but roles and users name types
  // and roles: their bitmaps are bounded by FAR here and checked against nprim afterwards.
  for (let i = 0; i < SYM_NUM; i++) {
    const what = tableNames[i] as string;
    const nprimAt = c.pos;
    const nprim = c.u32(`the number of ${what}`);
    if (nprim > c.left) c.fail(`a number of ${what} the rest of the file can hold, not ${nprim}`, nprimAt);
    const nel = c.count(`${what} entries`, 8);
    if (nel > 0 && nprim === 0) c.fail(`no ${what} entries when the table has no symbols`, nprimAt + 4);
    const key = Object.keys(counts)[i] as keyof typeof counts;
    counts[key] = nprim;
    for (let j = 0; j < nel; j++) {
      const at = c.pos;
      switch (i) {
        case 0: commons.push(readCommon(c)); break;
        case 1: classes.push(readClass(c, commons, version)); break;
        case 2: roles.push(readRole(c)); break;
        case 3: types.push(readType(c)); break;
        case 4: users.push(readUser(c)); break;
        case 5: bools.push(readBool(c)); break;
        case 6: sensitivities.push(readSensitivity(c)); break;
        default: categories.push(readCategory(c)); break;
      }
      const last = [commons, classes, roles, types, users, bools, sensitivities, categories][i]?.at(-1) as { value?: number; name: string };
      if (last.value !== undefined && (last.value < 1 || last.value > nprim)) c.fail(`${what}: a value from 1 to ${nprim}, not ${last.value} (for "${last.name}")`, at);
    }
  }
  checkUnique(c, classes, 'class');
  checkUnique(c, types.filter((t) => t.primary), 'type');
  checkUnique(c, roles, 'role');
  checkUnique(c, users, 'user');
  checkUnique(c, bools, 'boolean');
  checkUnique(c, categories.filter((k) => !k.alias), 'category');
  for (const p of permissiveBits) if (p < 1 || p > counts.types) c.fail(`the permissive map: type values from 1 to ${counts.types}, not ${p}`, permissiveAt);
  for (const r of roles) {
    for (const t of r.types) if (t >= counts.types) c.fail(`role ${r.name}: types below ${counts.types}, not bit ${t}`);
    if (r.bounds > counts.roles) c.fail(`role ${r.name}: a bounding role of at most ${counts.roles}, not ${r.bounds}`);
  }
  for (const u of users) for (const r of u.roles) if (r >= counts.roles) c.fail(`user ${u.name}: roles below ${counts.roles}, not bit ${r}`);
  for (const t of types) if (t.bounds > counts.types) c.fail(`type ${t.name}: a bounding type of at most ${counts.types}, not ${t.bounds}`);
  for (const cl of classes) {
    for (const cons of [...cl.constraints, ...cl.validatetrans]) {
      for (const n of cons.expr) {
        if (!n.names) continue;
        const kind = n.attr & (CEXPR.user | CEXPR.role | CEXPR.type);
        const limit = kind === CEXPR.user ? counts.users : kind === CEXPR.role ? counts.roles : counts.types;
        for (const v of n.names) if (v >= limit) c.fail(`a constraint of class ${cl.name}: names below ${limit}, not bit ${v}`, cons.offset);
      }
    }
  }

  const value = (what: string, limit: number, at: number) => (v: number): number => {
    if (v < 1 || v > limit) c.fail(`${what}: a value from 1 to ${limit}, not ${v}`, at);
    return v;
  };
  const classPerms = new Map(classes.map((k) => [k.value, k.perms.length + (k.common ? (commons.find((m) => m.name === k.common)?.perms.length ?? 0) : 0)]));

  // te_avtab: a count that must not be zero (avtab_read: "table is empty"), then the entries.
  const readEntry = (what: string): AvtabEntry => {
    const at = c.pos;
    const source = value(`${what}: the source type`, counts.types, at)(c.u16(`${what}: the source type`));
    const target = value(`${what}: the target type`, counts.types, at + 2)(c.u16(`${what}: the target type`));
    const cls = value(`${what}: the class`, counts.classes, at + 4)(c.u16(`${what}: the class`));
    const specified = c.u16(`${what}: the rule kind`);
    const kind = specified & ~AVTAB.enabled;
    const known = [AVTAB.allowed, AVTAB.auditallow, AVTAB.auditdeny, AVTAB.transition, AVTAB.member, AVTAB.change];
    if (specified & AVTAB.xperms) c.fail(`${what}: no extended-permission rule (Xen policies have none: libsepol writes them only for SELinux)`, at + 6);
    if (!known.includes(kind as never)) c.fail(`${what}: exactly one rule kind of allow, auditallow, auditdeny, type_transition, type_member or type_change, not 0x${specified.toString(16)}`, at + 6);
    const data = c.u32(`${what}: the rule's data`);
    if (kind & (AVTAB.transition | AVTAB.member | AVTAB.change)) value(`${what}: the new type`, counts.types, at + 8)(data);
    else {
      const n = classPerms.get(cls) ?? 0;
      // auditdeny stores the permissions still audited: the bits above the class's own are set too.
      if (kind !== AVTAB.auditdeny && n < 32 && data >>> n !== 0) c.fail(`${what}: permission bits of class ${cls}'s ${n} permissions, not 0x${data.toString(16)}`, at + 8);
    }
    return { source, target, cls, specified, data, offset: at };
  };
  const avtabAt = c.pos;
  const nAvtab = c.count('avtab entries', 12);
  if (nAvtab === 0) c.fail('a non-empty avtab: this policy has no allow, dontaudit or type rule, and libsepol\'s avtab_read (like Xen\'s) refuses to load it', avtabAt);
  const avtab: AvtabEntry[] = [];
  for (let i = 0; i < nAvtab; i++) avtab.push(readEntry(`avtab entry ${i + 1}`));

  const conditionals: CondNode[] = [];
  const nCond = c.count('conditionals', 12);
  for (let i = 0; i < nCond; i++) {
    const at = c.pos;
    const state = c.u32(`conditional ${i + 1}: its state`);
    if (state > 1) c.fail(`conditional ${i + 1}: a state of 0 or 1, not ${state}`, at);
    const nExpr = c.count(`conditional ${i + 1}: expression nodes`, 8);
    const expr: [number, number][] = [];
    let depth = 0;
    for (let j = 0; j < nExpr; j++) {
      const nodeAt = c.pos;
      const kind = c.u32('a conditional expression node');
      const b = c.u32('a conditional expression node');
      if (kind < COND.bool || kind > COND.neq) c.fail(`conditional ${i + 1}: an expression operator from 1 to 7, not ${kind}`, nodeAt);
      if (kind === COND.bool) {
        value(`conditional ${i + 1}: a boolean`, counts.bools, nodeAt + 4)(b);
        if (++depth > COND_EXPR_MAXDEPTH) c.fail(`conditional ${i + 1}: an expression at most ${COND_EXPR_MAXDEPTH} deep`, nodeAt);
      } else if (kind === COND.not) {
        if (depth < 1) c.fail(`conditional ${i + 1}: an operand for "not"`, nodeAt);
      } else {
        if (depth < 2) c.fail(`conditional ${i + 1}: two operands for a binary operator`, nodeAt);
        depth--;
      }
      expr.push([kind, b]);
    }
    if (depth !== 1) c.fail(`conditional ${i + 1}: an expression that leaves one value, not ${depth}`, at + 4);
    const list = (branch: string): AvtabEntry[] => {
      const n = c.count(`conditional ${i + 1}: ${branch} rules`, 12);
      const out: AvtabEntry[] = [];
      for (let k = 0; k < n; k++) out.push(readEntry(`conditional ${i + 1} ${branch} rule ${k + 1}`));
      return out;
    };
    const whenTrue = list('true');
    const whenFalse = list('false');
    conditionals.push({ state: state === 1, expr, whenTrue, whenFalse, offset: at });
  }

  const roleTransitions: RoleTrans[] = [];
  const nRoleTrans = c.count('role transitions', 12);
  for (let i = 0; i < nRoleTrans; i++) {
    const at = c.pos;
    const role = value('a role transition: the role', counts.roles, at)(c.u32('a role transition'));
    const type = value('a role transition: the type', counts.types, at + 4)(c.u32('a role transition'));
    const newRole = value('a role transition: the new role', counts.roles, at + 8)(c.u32('a role transition'));
    // Before version 26 (POLICYDB_VERSION_ROLETRANS) the class is the process class: Xen's "domain".
    const cls = version >= VERSION_ROLETRANS ? value('a role transition: the class', counts.classes, at + 12)(c.u32('a role transition')) : 0;
    roleTransitions.push({ role, type, newRole, cls, offset: at });
  }
  const roleAllows: RoleAllow[] = [];
  const nRoleAllow = c.count('role allow rules', 8);
  for (let i = 0; i < nRoleAllow; i++) {
    const at = c.pos;
    const role = value('a role allow rule: the role', counts.roles, at)(c.u32('a role allow rule'));
    const newRole = value('a role allow rule: the new role', counts.roles, at + 4)(c.u32('a role allow rule'));
    roleAllows.push({ role, newRole, offset: at });
  }
  const filenameTransitions: FilenameTrans[] = [];
  if (version >= VERSION_FILENAME_TRANS) {
    // Before version 33 (POLICYDB_VERSION_COMP_FTRANS) one entry per rule: name, then four values.
    const n = c.count('filename transitions', 20);
    for (let i = 0; i < n; i++) {
      const at = c.pos;
      const name = c.path(c.u32('a filename transition: the name length'), 'a filename transition: the name');
      const vAt = c.pos;
      const source = value('a filename transition: the source type', counts.types, vAt)(c.u32('a filename transition'));
      const target = value('a filename transition: the target type', counts.types, vAt + 4)(c.u32('a filename transition'));
      const cls = value('a filename transition: the class', counts.classes, vAt + 8)(c.u32('a filename transition'));
      const result = value('a filename transition: the new type', counts.types, vAt + 12)(c.u32('a filename transition'));
      filenameTransitions.push({ name, source, target, cls, result, offset: at });
    }
  }

  // ocontexts (ocontext_read_xen): ISID, PIRQ, IOPORT, IOMEM, PCIDEVICE[, DEVICETREE].
  const context = (what: string): BinaryContext => {
    const at = c.pos;
    const user = value(`${what}: the user`, counts.users, at)(c.u32(`${what}: the context`));
    const role = value(`${what}: the role`, counts.roles, at + 4)(c.u32(`${what}: the context`));
    const type = value(`${what}: the type`, counts.types, at + 8)(c.u32(`${what}: the context`));
    return { user, role, type, range: readRange(c, `${what}: the MLS range`) };
  };
  const initialSids: Ocontext<number>[] = [];
  const pirqs: Ocontext<number>[] = [];
  const ioports: Ocontext<readonly [number, number]>[] = [];
  const iomems: Ocontext<readonly [bigint, bigint]>[] = [];
  const pciDevices: Ocontext<number>[] = [];
  const deviceTrees: Ocontext<string>[] = [];
  for (let i = 0; i < wantOcon; i++) {
    const n = c.count('ocontexts', 16);
    for (let j = 0; j < n; j++) {
      const at = c.pos;
      switch (i) {
        case 0: {
          const sid = c.u32('an initial SID');
          // checkpolicy numbers SIDs by their `sid` declarations and Xen hard-codes about a dozen
          // (SECINITSID_*): a number past MAX_INITIAL_SID is no Xen policy's, and would make the
          // reader declare that many SIDs to keep the numbering.
          if (sid === 0 || sid > MAX_INITIAL_SID) c.fail(`an initial SID number from 1 to ${MAX_INITIAL_SID}, not ${sid}`, at);
          initialSids.push({ key: sid, context: context(`initial SID ${sid}`), offset: at });
          break;
        }
        case 1: pirqs.push({ key: c.u32('a pirq'), context: context('a pirqcon'), offset: at }); break;
        case 2: {
          const lo = c.u32('an ioport range');
          const hi = c.u32('an ioport range');
          ioports.push({ key: [lo, hi], context: context('an ioportcon'), offset: at });
          break;
        }
        case 3: {
          const range: [bigint, bigint] = version >= VERSION_XEN_DEVICETREE
            ? [c.u64('an iomem range'), c.u64('an iomem range')]
            : [BigInt(c.u32('an iomem range')), BigInt(c.u32('an iomem range'))];
          iomems.push({ key: range, context: context('an iomemcon'), offset: at });
          break;
        }
        case 4: pciDevices.push({ key: c.u32('a PCI device'), context: context('a pcidevicecon'), offset: at }); break;
        default: deviceTrees.push({ key: c.path(c.u32('a device tree path length'), 'a device tree path'), context: context('a devicetreecon'), offset: at }); break;
      }
    }
  }
  const genfsAt = c.pos;
  if (c.u32('the number of genfs entries') !== 0) c.fail('no genfs entries (a Xen policy labels no file systems)', genfsAt);

  const rangeTransitions: RangeTrans[] = [];
  const nRange = c.count('range transitions', 24);
  for (let i = 0; i < nRange; i++) {
    const at = c.pos;
    const source = value('a range transition: the source type', counts.types, at)(c.u32('a range transition'));
    const target = value('a range transition: the target type', counts.types, at + 4)(c.u32('a range transition'));
    const cls = value('a range transition: the class', counts.classes, at + 8)(c.u32('a range transition'));
    rangeTransitions.push({ source, target, cls, range: readRange(c, 'a range transition: the range'), offset: at });
  }

  // type_attr_map: one bitmap per type value, the attributes a type is in.
  const typeAttributes: number[][] = [];
  const attributeValues = new Set(types.filter((t) => t.attribute).map((t) => t.value));
  for (let i = 0; i < counts.types; i++) {
    const at = c.pos;
    const bits = c.ebitmap(`the attributes of type value ${i + 1}`, counts.types).filter((b) => b !== i);
    if (attributeValues.has(i + 1) && bits.length > 0) c.fail(`attribute value ${i + 1}: no attributes of its own (libsepol: "Invalid to have type attributes associated with an attribute")`, at);
    for (const b of bits) if (!attributeValues.has(b + 1)) c.fail(`type value ${i + 1}: attributes only, not value ${b + 1}`, at);
    typeAttributes.push(bits);
  }
  if (c.left !== 0) c.fail(`the end of the policy, not ${c.left} more bytes`);

  if (config & 1) {
    // MLS: every level names a declared sensitivity and categories below nprim.
    const levelOk = (l: Level, what: string): void => {
      if (l.sens < 1 || l.sens > counts.sensitivities) c.fail(`${what}: a sensitivity from 1 to ${counts.sensitivities}, not ${l.sens}`);
      for (const k of l.cats) if (k >= counts.categories) c.fail(`${what}: categories below ${counts.categories}, not bit ${k}`);
    };
    for (const u of users) for (const l of [u.range.low, u.range.high, u.defaultLevel]) levelOk(l, `user ${u.name}`);
    for (const s of sensitivities) levelOk(s.level, `sensitivity ${s.name}`);
    for (const o of [...initialSids, ...pirqs, ...ioports, ...iomems, ...pciDevices, ...deviceTrees]) for (const l of [o.context.range.low, o.context.range.high]) levelOk(l, 'a context');
    for (const r of rangeTransitions) for (const l of [r.range.low, r.range.high]) levelOk(l, 'a range transition');
  }

  // Symbols are written in hash-table order; their values are the declaration order.
  const byValue = <T extends { value: number }>(xs: T[]): T[] => xs.sort((a, b) => a.value - b.value);
  byValue(commons);
  byValue(classes);
  byValue(roles);
  types.sort((a, b) => a.value - b.value || Number(b.primary) - Number(a.primary) || (a.name < b.name ? -1 : 1));
  byValue(users);
  byValue(bools);
  byValue(categories);
  sensitivities.sort((a, b) => a.level.sens - b.level.sens || Number(a.alias) - Number(b.alias) || (a.name < b.name ? -1 : 1));
  return {
    version, mls: (config & 1) !== 0, handleUnknown: config & 6, policyCaps, permissive: permissiveBits,
    commons, classes, roles, types, users, bools, sensitivities, categories,
    counts: { classes: counts.classes, roles: counts.roles, types: counts.types, users: counts.users, bools: counts.bools, sensitivities: counts.sensitivities, categories: counts.categories },
    avtab, conditionals, roleTransitions, roleAllows, filenameTransitions,
    initialSids, pirqs, ioports, iomems, pciDevices, deviceTrees, rangeTransitions, typeAttributes,
  };
}

function checkUnique(c: Cursor, items: readonly { name: string; value: number }[], what: string): void {
  const names = new Set<string>();
  const values = new Set<number>();
  for (const i of items) {
    if (names.has(i.name)) c.fail(`${what} names that are unique, not "${i.name}" twice`);
    if (values.has(i.value)) c.fail(`${what} values that are unique, not ${i.value} twice (for "${i.name}")`);
    names.add(i.name);
    values.add(i.value);
  }
}

/** perm_read: (length, value) then the name; values 1 … nprim. */
function readPerms(c: Cursor, n: number, nprim: number, owner: string): Perm[] {
  const perms: Perm[] = [];
  for (let i = 0; i < n; i++) {
    const at = c.pos;
    const len = c.u32(`a permission of ${owner}`);
    const value = c.u32(`a permission of ${owner}`);
    const name = c.name(len, `a permission of ${owner}`);
    if (value < 1 || value > nprim) c.fail(`permission ${name} of ${owner}: a value from 1 to ${nprim}, not ${value}`, at + 4);
    if (perms.some((p) => p.value === value || p.name === name)) c.fail(`permission ${name} of ${owner}: a value and a name no other permission has`, at);
    perms.push({ name, value });
  }
  return perms.sort((a, b) => a.value - b.value);
}

function readCommon(c: Cursor): BinaryCommon {
  const len = c.u32('a common');
  const value = c.u32('a common');
  const nprimAt = c.pos;
  const nprim = c.u32('a common');
  const nel = c.count('permissions of a common', 8);
  const name = c.name(len, 'a common\'s name');
  if (nprim > PERM_SYMTAB_SIZE || nel > nprim) c.fail(`common ${name}: at most ${PERM_SYMTAB_SIZE} permissions (and no more entries than permissions), not ${nprim} (${nel} entries)`, nprimAt);
  return { name, value, perms: readPerms(c, nel, nprim, `common ${name}`) };
}

function readClass(c: Cursor, commons: readonly BinaryCommon[], version: number): BinaryClass {
  const at = c.pos;
  const len = c.u32('a class');
  const len2 = c.u32('a class');
  const value = c.u32('a class');
  const nprim = c.u32('a class');
  const nel = c.count('permissions of a class', 8);
  const ncons = c.count('constraints of a class', 8);
  const name = c.name(len, 'a class\'s name');
  if (value > 0xffff) c.fail(`class ${name}: a value below 65536 (avtab keys are 16-bit), not ${value}`, at + 8);
  let common: BinaryCommon | undefined;
  if (len2) {
    const commonName = c.name(len2, `the common of class ${name}`);
    common = commons.find((m) => m.name === commonName);
    if (!common) c.fail(`class ${name}: a common declared before it, not "${commonName}"`);
  }
  const own = nprim;
  if (own > PERM_SYMTAB_SIZE || nel > own) c.fail(`class ${name}: at most ${PERM_SYMTAB_SIZE} permissions, not ${own} (${nel} entries)`, at + 12);
  const perms = readPerms(c, nel, own, `class ${name}`);
  // A class's own permissions are numbered after its common's (class_read checks nothing
  // more; checkpolicy numbers them so, and the avtab bits rely on it).
  const inherited = common?.perms.length ?? 0;
  for (const p of perms) if (p.value <= inherited) c.fail(`permission ${p.name} of class ${name}: a value above the ${inherited} of common ${common?.name}, not ${p.value}`);
  const constraints = readConstraints(c, ncons, false, version, `class ${name}`);
  const nvt = c.count(`validatetrans rules of class ${name}`, 8);
  const validatetrans = readConstraints(c, nvt, true, version, `class ${name}`);
  const defaults = { user: 0, role: 0, range: 0, type: 0 };
  if (version >= VERSION_NEW_OBJECT_DEFAULTS) {
    defaults.user = c.u32(`the default_user of class ${name}`);
    defaults.role = c.u32(`the default_role of class ${name}`);
    defaults.range = c.u32(`the default_range of class ${name}`);
  }
  if (version >= VERSION_DEFAULT_TYPE) defaults.type = c.u32(`the default_type of class ${name}`);
  if (defaults.user > 2 || defaults.role > 2 || defaults.type > 2 || defaults.range > 7) c.fail(`class ${name}: default_user/role/type of 0 to 2 and default_range of 0 to 7`);
  return { name, value, ...(common ? { common: common.name } : {}), perms, constraints, validatetrans, defaults };
}

/** read_cons_helper: permission bits, then the expression in reverse Polish, depth-checked. */
function readConstraints(c: Cursor, n: number, validatetrans: boolean, version: number, owner: string): BinaryConstraint[] {
  const out: BinaryConstraint[] = [];
  for (let i = 0; i < n; i++) {
    const at = c.pos;
    const perms = c.u32(`a constraint of ${owner}`);
    const nexpr = c.count(`expression nodes of a constraint of ${owner}`, 12);
    const expr: ConstraintNode[] = [];
    let depth = 0;
    for (let j = 0; j < nexpr; j++) {
      const nodeAt = c.pos;
      const type = c.u32('a constraint expression node');
      const attr = c.u32('a constraint expression node');
      const op = c.u32('a constraint expression node');
      const bad = (why: string): never => c.fail(`a constraint of ${owner}: ${why}`, nodeAt);
      switch (type) {
        case CEXPR.not: if (depth < 1) bad('an operand for "not"'); expr.push({ type, attr, op }); break;
        case CEXPR.and:
        case CEXPR.or: if (depth < 2) bad('two operands for "and"/"or"'); depth--; expr.push({ type, attr, op }); break;
        case CEXPR.attr:
        case CEXPR.names: {
          if (++depth > CEXPR_MAXDEPTH) bad(`an expression at most ${CEXPR_MAXDEPTH} deep`);
          if (op < CEXPR.eq || op > CEXPR.incomp) bad(`an operator from 1 to 5, not ${op}`);
          if (!validatetrans && attr & CEXPR.xtarget) bad('no third (x) operand outside validatetrans');
          const operand = attr & ~(CEXPR.target | CEXPR.xtarget);
          const valid = [CEXPR.user, CEXPR.role, CEXPR.type, CEXPR.l1l2, CEXPR.l1h2, CEXPR.h1l2, CEXPR.h1h2, CEXPR.l1h1, CEXPR.l2h2] as number[];
          if (!valid.includes(operand)) bad(`one operand kind, not 0x${attr.toString(16)}`);
          if (type === CEXPR.names) {
            if (operand > CEXPR.type) bad('names compared with a user, role or type');
            const names = c.ebitmap('a constraint\'s names', FAR);
            // From version 29 (POLICYDB_VERSION_CONSTRAINT_NAMES) the names as written follow:
            // a type_set (types, negated types, flags). The expanded `names` decide; this is provenance.
            if (version >= VERSION_CONSTRAINT_NAMES) {
              c.ebitmap('a constraint\'s written types', FAR);
              c.ebitmap('a constraint\'s written negated types', FAR);
              c.u32('a constraint\'s written type flags');
            }
            expr.push({ type, attr, op, names });
          } else expr.push({ type, attr, op });
          break;
        }
        default: bad(`an expression node type from 1 to 5, not ${type}`);
      }
    }
    if (depth !== 1) c.fail(`a constraint of ${owner}: an expression that leaves one value, not ${depth}`, at + 4);
    out.push({ perms: validatetrans ? 0 : perms, expr, offset: at });
  }
  return out;
}

function readRole(c: Cursor): BinaryRole {
  const len = c.u32('a role');
  const value = c.u32('a role');
  const bounds = c.u32('a role');
  const name = c.name(len, 'a role\'s name');
  c.ebitmap(`the roles role ${name} dominates`, FAR);
  const types = c.ebitmap(`the types of role ${name}`, FAR);
  if (name === 'object_r' && value !== 1) c.fail(`object_r: the role value 1, not ${value}`);
  return { name, value, bounds, types };
}

function readType(c: Cursor): BinaryType {
  const len = c.u32('a type');
  const value = c.u32('a type');
  const properties = c.u32('a type');
  const bounds = c.u32('a type');
  const name = c.name(len, 'a type\'s name');
  // Reserved in checkpolicy (define_type: "'self' is a reserved type name"); written back as a
  // rule's target it would mean the source type.
  if (name === 'self') c.fail('a type name other than the reserved "self"');
  if (properties & ~3) c.fail(`type ${name}: the properties primary (1) and attribute (2) only, not 0x${properties.toString(16)}`);
  const attribute = (properties & 2) !== 0;
  const primary = (properties & 1) !== 0;
  if (attribute && !primary) c.fail(`attribute ${name}: an attribute is primary`);
  return { name, value, primary, attribute, bounds };
}

function readUser(c: Cursor): BinaryUser {
  const len = c.u32('a user');
  const value = c.u32('a user');
  c.u32('a user');
  const name = c.name(len, 'a user\'s name');
  const roles = c.ebitmap(`the roles of user ${name}`, FAR);
  const range = readRange(c, `the range of user ${name}`);
  const defaultLevel = readLevel(c, `the default level of user ${name}`);
  return { name, value, roles, range, defaultLevel };
}

function readBool(c: Cursor): BinaryBool {
  const value = c.u32('a boolean');
  const stateAt = c.pos;
  const state = c.u32('a boolean');
  const len = c.u32('a boolean');
  const name = c.name(len, 'a boolean\'s name');
  if (state > 1) c.fail(`boolean ${name}: a state of 0 or 1, not ${state}`, stateAt);
  return { name, value, state: state === 1 };
}

function readSensitivity(c: Cursor): BinarySensitivity {
  const len = c.u32('a sensitivity');
  const alias = c.u32('a sensitivity');
  const name = c.name(len, 'a sensitivity\'s name');
  if (alias > 1) c.fail(`sensitivity ${name}: an alias flag of 0 or 1, not ${alias}`);
  return { name, alias: alias === 1, level: readLevel(c, `the level of sensitivity ${name}`) };
}

function readCategory(c: Cursor): BinaryCategory {
  const len = c.u32('a category');
  const value = c.u32('a category');
  const alias = c.u32('a category');
  const name = c.name(len, 'a category\'s name');
  if (alias > 1) c.fail(`category ${name}: an alias flag of 0 or 1, not ${alias}`);
  return { name, value, alias: alias === 1 };
}

function readLevel(c: Cursor, what: string): Level {
  const sens = c.u32(what);
  return { sens, cats: c.ebitmap(`${what}: categories`, FAR) };
}

/** mls_read_range_helper: one or two sensitivities, then one or two category bitmaps. */
function readRange(c: Cursor, what: string): Range {
  const at = c.pos;
  const items = c.u32(`${what}: the number of levels`);
  if (items < 1 || items > 2) c.fail(`${what}: 1 or 2 levels, not ${items}`, at);
  const lowSens = c.u32(what);
  const highSens = items > 1 ? c.u32(what) : lowSens;
  const lowCats = c.ebitmap(`${what}: low categories`, FAR);
  const highCats = items > 1 ? c.ebitmap(`${what}: high categories`, FAR) : lowCats;
  return { low: { sens: lowSens, cats: lowCats }, high: { sens: highSens, cats: highCats } };
}
