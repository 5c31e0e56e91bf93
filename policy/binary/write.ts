// Writing the binary policy Xen loads, byte for byte as Debian's `checkpolicy -t Xen -c N`
// (SELinux 3.4) writes it for the same policy.conf, so a host can be built without checkpolicy.
//
// checkpolicy parses into a base policydb, `expand_module()` (libsepol src/expand.c) copies it
// into a kernel policydb, and `policydb_write()` (src/write.c) writes that. The bytes depend on
// three orders libsepol never sorts, which this module reproduces rather than approximates:
// - Symbol tables are hash tables (src/hashtab.c) written bucket by bucket: a name's bucket is
//   `symhash()` (src/symtab.c) masked by the table size, a bucket is kept in strcmp order, and a
//   table doubles from its `symtab_sizes[]` size (src/policydb.c) until it holds as many slots
//   as names (`hashtab_check_resize`). So a table's order is a pure function of its names.
// - Type, role, user and boolean *values* are given by `expand_module()` in the order it walks
//   the base policy's tables (`type_copy_callback` … `bool_copy_callback`): that same bucket
//   order, not declaration order. Classes, commons, permissions, categories keep their
//   declaration values (`class_copy_callback` copies `s.value`).
// - The avtabs have 2^20 slots (`avtab_alloc(MAX_AVTAB_SIZE)` in expand.c, MAX_AVTAB_HASH_BITS
//   in avtab.h); a key's slot is `avtab_hash()` (a murmur3 mix of class, target, source, in
//   src/avtab.c), and `avtab_insert_nonunique` keeps a slot sorted by (source, target, class),
//   equal keys of different kinds in insertion order. `avtab_write()` walks slot by slot.
// Lists are written as libsepol built them: initial SIDs and constraints are prepended as
// declared (checkpolicy's `define_initial_sid`, `define_constraint`), conditional rule lists
// are prepended as their keys are first met (`find_avtab_node`), Xen device contexts appended.
// MLS: sensitivities take their dominance position, categories their declaration order, and
// range transitions are one more hash table (`rangetr_hash` in src/policydb.c).
// Verified byte for byte against checkpolicy by test/binary-write.test.ts.
//
// What the writer does not do is refuse a policy checkpolicy would refuse for its meaning
// (neverallow violations, conflicting type_transitions): the checker proves those; this module
// turns a policy that parsed and resolved into bytes, and refuses (WriteError with the span)
// only what it cannot write as checkpolicy would (named type transitions, which Xen policies
// never have), and an MLS policy without `mls` (as checkpolicy without -M does).

import type { SourceSpan } from '../../core/diagnostics.js';
import { compareCodePoints } from '../../core/compare.js';
import type { BoolExpr, Conditional, Constrain, ConstraintExpr, Context, Name, NameSet, PolicyAst, Statement, ValidateTrans } from '../grammar/ast.js';
import {
  AVTAB, CEXPR, COND, POLICYDB_MAGIC, VERSION_CONSTRAINT_NAMES, VERSION_DEFAULT_TYPE, VERSION_FILENAME_TRANS, VERSION_NEW_OBJECT_DEFAULTS,
  VERSION_ROLETRANS, VERSION_XEN_DEVICETREE, XEN_POLICY_VERSIONS, XEN_TARGET,
} from './read.js';

export class WriteError extends Error {
  constructor(readonly span: SourceSpan | undefined, message: string) {
    super(message);
  }
}

export interface WriteOptions {
  /** 24 or 30 (libsepol's only Xen entries in policydb_compat[]); default 30 like checkpolicy. */
  readonly version?: number;
  /** checkpolicy's -M: when given, it must agree with whether the policy declares sensitivities. */
  readonly mls?: boolean;
}

/** policydb.c symtab_sizes[]: commons, classes, roles, types, users, bools, levels, cats. */
const SIZE = { commons: 2, classes: 32, roles: 16, types: 512, users: 128, bools: 16, levels: 16, cats: 16 } as const;
/** PERM_SYMTAB_SIZE: a class's permission table never grows (at most 32 permissions). */
const PERM_TABLE = 32;
const AVTAB_MASK = (1 << 20) - 1;
/** libsepol 3.4 src/polcaps.c polcap_names[]: a capability's bit is its index. */
const POLICY_CAPABILITIES = ['network_peer_controls', 'open_perms', 'extended_socket_class', 'always_check_network', 'cgroup_seclabel', 'nnp_nosuid_transition', 'genfs_seclabel_symlinks', 'ioctl_skip_cloexec'];

// ---------------------------------------------------------------- libsepol's hash orders

/** symtab.c symhash(): rotate left by 4, xor each byte; masked by the table size. */
export function symhash(name: string, size: number): number {
  let v = 0;
  for (let i = 0; i < name.length; i++) v = (((v << 4) | (v >>> 28)) ^ name.charCodeAt(i)) >>> 0;
  return v & (size - 1);
}

/** hashtab_check_resize(): doubled until the table has at least one slot per entry. */
export function tableSize(initial: number, entries: number): number {
  let size = initial;
  while (size < entries) size *= 2;
  return size;
}

/** The order hashtab_map() visits `names`: bucket, then strcmp within a bucket. */
export function hashOrder(names: readonly string[], initial: number): string[] {
  const size = tableSize(initial, names.length);
  return names
    .map((n) => [symhash(n, size), n] as const)
    .sort((a, b) => a[0] - b[0] || compareCodePoints(a[1], b[1]))
    .map(([, n]) => n);
}

/** avtab.c avtab_hash(): murmur3's mix of class, target, source and its finaliser. */
export function avtabHash(source: number, target: number, cls: number, mask = AVTAB_MASK): number {
  let hash = 0;
  const mix = (input: number): void => {
    let v = Math.imul(input, 0xcc9e2d51);
    v = (v << 15) | (v >>> 17);
    v = Math.imul(v, 0x1b873593);
    hash ^= v;
    hash = (hash << 13) | (hash >>> 19);
    hash = (Math.imul(hash, 5) + 0xe6546b64) | 0;
  };
  mix(cls);
  mix(target);
  mix(source);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) & mask;
}

// ---------------------------------------------------------------- the byte sink

class Out {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }

  u32(...vs: number[]): void {
    this.room(4 * vs.length);
    for (const v of vs) {
      this.view.setUint32(this.length, v >>> 0, true);
      this.length += 4;
    }
  }

  u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.length, v, true);
    this.length += 8;
  }

  text(s: string): void {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.length++] = s.charCodeAt(i) & 0xff;
  }

  /** ebitmap_write(): MAPSIZE 64, the high bit, then one (start, 64-bit map) per non-empty node. */
  ebitmap(bits: Iterable<number>): void {
    const nodes = new Map<number, [number, number]>();
    for (const b of bits) {
      const start = b - (b % 64);
      const node = nodes.get(start) ?? [0, 0];
      const off = b % 64;
      if (off < 32) node[0] = (node[0] | (1 << off)) >>> 0;
      else node[1] = (node[1] | (1 << (off - 32))) >>> 0;
      nodes.set(start, node);
    }
    const starts = [...nodes.keys()].sort((a, b) => a - b);
    this.u32(64, starts.length ? (starts.at(-1) as number) + 64 : 0, starts.length);
    for (const s of starts) {
      const [lo, hi] = nodes.get(s) as [number, number];
      this.u32(s, lo, hi);
    }
  }

  /** mls_write_level(): the sensitivity and the category bits. */
  level(l: Level): void {
    this.u32(l.sens);
    this.ebitmap(l.cats);
  }

  /**
   * mls_write_range_helper(): one level when low equals high, else both. A non-MLS policy
   * writes it too, with the empty level (sensitivity 0).
   */
  range(r: MlsRange): void {
    const eq = r.low.sens === r.high.sens && r.low.cats.join() === r.high.cats.join();
    this.u32(...(eq ? [1, r.low.sens] : [2, r.low.sens, r.high.sens]));
    this.ebitmap(r.low.cats);
    if (!eq) this.ebitmap(r.high.cats);
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

// ---------------------------------------------------------------- the kernel policydb

/** An MLS level: sensitivity value, category bits (value - 1), ascending. */
interface Level { readonly sens: number; readonly cats: readonly number[] }
interface MlsRange { readonly low: Level; readonly high: Level }
const NO_LEVEL: Level = { sens: 0, cats: [] };
const NO_RANGE: MlsRange = { low: NO_LEVEL, high: NO_LEVEL };
/** constraint.h: the level pairs an MLS constraint compares (CEXPR_L1L2 … CEXPR_L2H2). */
const LEVEL_PAIRS: Record<string, number> = { 'l1 l2': CEXPR.l1l2, 'l1 h2': CEXPR.l1h2, 'h1 l2': CEXPR.h1l2, 'h1 h2': CEXPR.h1h2, 'l1 h1': CEXPR.l1h1, 'l2 h2': CEXPR.l2h2 };
/** policydb.c: the range_tr table's first size (it grows like the symbol tables). */
const RANGETR_SIZE = 256;

interface ClassInfo {
  readonly name: string;
  readonly value: number;
  common?: string;
  /** Own permissions → value (after the common's). */
  readonly perms: Map<string, number>;
  declared: boolean;
  /** Prepended as declared (define_constraint). */
  readonly constraints: { perms: number; expr: number[][]; names: (ConstraintNames | undefined)[] }[];
  readonly validatetrans: { perms: number; expr: number[][]; names: (ConstraintNames | undefined)[] }[];
  readonly defaults: { user: number; role: number; range: number; type: number };
}

/**
 * A CEXPR_NAMES node's sets: the names' bits (types expanded from attributes, roles from role
 * attributes), and from version 29 the types as written (`type_names`, mapped by
 * constraint_node_clone: attributes stay).
 */
interface ConstraintNames { readonly bits: readonly number[]; readonly written: readonly number[] }

interface AvKey { s: number; t: number; c: number; spec: number }
interface AvNode extends AvKey {
  /** The kind and the owning conditional list, as the avtab tells nodes apart. */
  readonly k: number;
  data: number;
  readonly seq: number;
}

/** A hash of an avtab key for the writer's own lookup tables (not libsepol's slot order): murmur3's mix of the four words. */
function mixKey(s: number, t: number, c: number, k: number): number {
  let h = 0;
  for (const input of [s, t, c, k]) {
    let v = Math.imul(input, 0xcc9e2d51);
    v = (v << 15) | (v >>> 17);
    h ^= Math.imul(v, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const SPEC: Record<string, number> = {
  allow: AVTAB.allowed, auditallow: AVTAB.auditallow, dontaudit: AVTAB.auditdeny, auditdeny: AVTAB.auditdeny,
  type_transition: AVTAB.transition, type_member: AVTAB.member, type_change: AVTAB.change,
};

/** An avtab as libsepol keeps it: nodes found by key; written in slot, then key, then insertion order. */
class Avtab {
  private readonly all: AvNode[] = [];
  /**
   * Open addressing over `all` (index + 1; 0 is empty), by (source, target, class, kind and
   * owner), and over the first node of each (source, target, class, kind). A large host
   * needs millions of lookups (a type_transition per monitor and domain type); Maps keyed by
   * strings or by 48-bit numbers were measured 5–10 times slower here.
   */
  private slots: Int32Array = new Int32Array(1 << 10);
  private firstSlots: Int32Array = new Int32Array(1 << 10);
  /** Indexes + 1 of the first nodes, in insertion order. */
  private readonly firsts: number[] = [];
  /** Whether the last `node()` made the node it returned. */
  created = false;

  /** `owner` tells apart the nodes that conditionals keep for one key (avtab_insert_nonunique). */
  node(s: number, t: number, c: number, spec: number, init: number, owner = 0): AvNode {
    const k = spec + owner * 65536;
    const i = this.find(this.slots, s, t, c, k, false);
    const at = this.slots[i] as number;
    this.created = at === 0;
    if (at !== 0) return this.all[at - 1] as AvNode;
    const node: AvNode = { s, t, c, spec, k, data: init, seq: this.all.length };
    this.all.push(node);
    this.slots[i] = this.all.length;
    if (this.all.length * 2 > this.slots.length) this.slots = this.rehash(this.slots.length * 2, this.all.map((_, i) => i + 1), false);
    const j = this.find(this.firstSlots, s, t, c, spec, true);
    if (this.firstSlots[j] === 0) {
      this.firstSlots[j] = this.all.length;
      this.firsts.push(this.all.length);
      if (this.firsts.length * 2 > this.firstSlots.length) this.firstSlots = this.rehash(this.firstSlots.length * 2, this.firsts, true);
    }
    return node;
  }

  get(s: number, t: number, c: number, spec: number): AvNode | undefined {
    const at = this.firstSlots[this.find(this.firstSlots, s, t, c, spec, true)] as number;
    return at === 0 ? undefined : this.all[at - 1];
  }

  /** The slot holding the key, or the empty slot where it would go (linear probing). */
  private find(slots: Int32Array, s: number, t: number, c: number, k: number, bySpec: boolean): number {
    const mask = slots.length - 1;
    for (let i = mixKey(s, t, c, k) & mask; ; i = (i + 1) & mask) {
      const at = slots[i] as number;
      if (at === 0) return i;
      const n = this.all[at - 1] as AvNode;
      if (n.s === s && n.t === t && n.c === c && (bySpec ? n.spec : n.k) === k) return i;
    }
  }

  /**
   * A table twice the size, filled in insertion order: filled in the old table's slot order,
   * linear probing would pile each run of neighbours onto the next (quadratic).
   */
  private rehash(size: number, entries: readonly number[], bySpec: boolean): Int32Array {
    const slots = new Int32Array(size);
    const mask = slots.length - 1;
    for (const at of entries) {
      const n = this.all[at - 1] as AvNode;
      let i = mixKey(n.s, n.t, n.c, bySpec ? n.spec : n.k) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = at;
    }
    return slots;
  }

  get size(): number {
    return this.all.length;
  }

  /** avtab_write()'s order: slot, then (source, target, class), then insertion. */
  ordered(): AvNode[] {
    // slot (20 bits), source, target (16 bits each): one exact 52-bit number per node.
    const primary = new Float64Array(this.all.length);
    this.all.forEach((n, i) => { primary[i] = avtabHash(n.s, n.t, n.c) * 2 ** 32 + n.s * 65536 + n.t; });
    const index = Array.from(this.all.keys());
    index.sort((i, j) => (primary[i] as number) - (primary[j] as number) || (this.all[i] as AvNode).c - (this.all[j] as AvNode).c || i - j);
    return index.map((i) => this.all[i] as AvNode);
  }
}

interface CondNode {
  /** Postfix [kind, boolean value] as written. */
  readonly expr: [number, number][];
  readonly key: string;
  state: boolean;
  /** Prepended as their nodes are created (find_avtab_node). */
  readonly trueList: AvNode[];
  readonly falseList: AvNode[];
}

/**
 * Builds the binary policy checkpolicy would write for `ast` (a policy that parsed without
 * errors). Throws WriteError, with the statement's span, for what cannot be written.
 */
export function writeBinaryPolicy(ast: PolicyAst, options: WriteOptions = {}): Uint8Array {
  const version = options.version ?? 30;
  if (!XEN_POLICY_VERSIONS.includes(version)) throw new WriteError(undefined, `policy version ${version}: libsepol writes Xen policies at version ${XEN_POLICY_VERSIONS.join(' or ')} only`);
  const mls = ast.statements.some((s) => s.kind === 'sensitivity');
  if (options.mls !== undefined && options.mls !== mls) throw new WriteError(undefined, options.mls ? 'an MLS binary asked for, but the policy declares no sensitivities (checkpolicy -M refuses it too)' : 'the policy is MLS (it declares sensitivities): checkpolicy needs -M, the writer --mls');
  return new Builder(ast.statements, version, mls).write();
}

class Builder {
  private readonly commons = new Map<string, { value: number; perms: Map<string, number> }>();
  private readonly classes = new Map<string, ClassInfo>();
  /** Base type table: name → kind; attributes' members; aliases → primary. */
  private readonly typeKind = new Map<string, 'type' | 'attribute' | 'alias'>();
  private readonly aliasOf = new Map<string, string>();
  private readonly members = new Map<string, Set<string>>();
  private readonly roleTypes = new Map<string, NameSet[]>();
  /** Role attributes and the roles in each (`role r, ra;`, `roleattribute r ra;`). */
  private readonly roleAttrs = new Map<string, Set<string>>();
  /** typebounds: bounded type → its bounding type. */
  private readonly bounds = new Map<string, string>();
  /** Attributes `expandattribute … true` names: expanded in AV rules too (TYPE_FLAGS_EXPAND_ATTR_TRUE). */
  private readonly expandTrue = new Set<string>();
  private readonly users = new Map<string, Statement & { kind: 'user' }>();
  private readonly bools = new Map<string, boolean>();
  private readonly sids: string[] = [];
  private readonly sidContexts = new Map<string, Context>();
  private readonly policyCaps: Name[] = [];
  private readonly permissive: string[] = [];
  private readonly roleAllows: { sources: NameSet; targets: NameSet }[] = [];
  private readonly roleTransitions: (Statement & { kind: 'role_transition' })[] = [];
  /** MLS: sensitivities (and aliases), their dominance values and `level` categories; categories. */
  private readonly sens = new Map<string, { alias: boolean; primary: string }>();
  private readonly sensValue = new Map<string, number>();
  private readonly sensCats = new Map<string, readonly number[]>();
  private readonly cats = new Map<string, { alias: boolean; value: number }>();
  private readonly rangeTransitions: (Statement & { kind: 'range_transition' })[] = [];
  private readonly devices: (Statement & { kind: 'pirqcon' | 'iomemcon' | 'ioportcon' | 'pcidevicecon' | 'devicetreecon' })[] = [];

  // Kernel values, given by expand_module's walk of the base tables.
  private readonly typeValue = new Map<string, number>();
  private readonly typeNames: string[] = [];
  private readonly roleValue = new Map<string, number>([['object_r', 1]]);
  private readonly userValue = new Map<string, number>();
  private readonly boolValue = new Map<string, number>();

  private readonly avtab = new Avtab();
  private readonly condAvtab = new Avtab();
  private readonly conds: CondNode[] = [];
  /** A number for each conditional rule list (the parse_context find_avtab_node compares). */
  private readonly lists = new Map<AvNode[], number>();

  constructor(private readonly statements: readonly Statement[], private readonly version: number, private readonly mls: boolean) {}

  private fail(span: SourceSpan | undefined, message: string): never {
    throw new WriteError(span, message);
  }

  write(): Uint8Array {
    this.declare();
    this.number();
    this.rules();
    return this.emit();
  }

  // ------------------------------------------------------------ declarations (the base policy)

  private declare(): void {
    const classOrder: string[] = [];
    for (const s of this.statements) {
      switch (s.kind) {
        case 'class-decl':
          classOrder.push(s.name.name);
          this.classes.set(s.name.name, { name: s.name.name, value: classOrder.length, perms: new Map(), declared: false, constraints: [], validatetrans: [], defaults: { user: 0, role: 0, range: 0, type: 0 } });
          break;
        case 'sid-decl': this.sids.push(s.name.name); break;
        case 'common': this.commons.set(s.name.name, { value: this.commons.size + 1, perms: new Map(s.perms.map((p, i) => [p.name, i + 1])) }); break;
        case 'access-vector': {
          const cls = this.cls(s.cls);
          const inherited = s.inherits ? this.commons.get(s.inherits.name) : undefined;
          if (s.inherits && !inherited) this.fail(s.inherits.span, `unknown common ${s.inherits.name}`);
          if (s.inherits) cls.common = s.inherits.name;
          const base = inherited?.perms.size ?? 0;
          s.perms.forEach((p, i) => cls.perms.set(p.name, base + i + 1));
          cls.declared = true;
          break;
        }
        case 'policycap': this.policyCaps.push(s.name); break;
        case 'sensitivity':
          this.sens.set(s.name.name, { alias: false, primary: s.name.name });
          for (const a of s.aliases) this.sens.set(a.name, { alias: true, primary: s.name.name });
          break;
        case 'dominance': s.order.forEach((n, i) => this.sensValue.set(this.sensPrimary(n), i + 1)); break;
        case 'category': {
          const value = [...this.cats.values()].filter((c) => !c.alias).length + 1;
          this.cats.set(s.name.name, { alias: false, value });
          for (const a of s.aliases) this.cats.set(a.name, { alias: true, value });
          break;
        }
        case 'level': {
          const l = this.parseLevel(s.level, s.span);
          const sens = [...this.sensValue].find(([, v]) => v === l.sens)?.[0] as string;
          this.sensCats.set(sens, l.cats);
          break;
        }
        case 'range_transition': this.rangeTransitions.push(s); break;
        case 'attribute': this.typeKind.set(s.name.name, 'attribute'); this.members.set(s.name.name, new Set()); break;
        case 'type':
          this.typeKind.set(s.name.name, 'type');
          for (const a of s.aliases) { this.typeKind.set(a.name, 'alias'); this.aliasOf.set(a.name, s.name.name); }
          for (const a of s.attributes) this.join(s.name.name, a);
          break;
        case 'typeattribute': for (const a of s.attributes) this.join(this.primary(s.type), a); break;
        case 'typealias': for (const a of s.aliases) { this.typeKind.set(a.name, 'alias'); this.aliasOf.set(a.name, this.primary(s.type)); } break;
        case 'bool': this.bools.set(s.name.name, s.value); break;
        case 'role': {
          const list = this.roleTypes.get(s.name.name) ?? [];
          if (s.types) list.push(s.types);
          this.roleTypes.set(s.name.name, list);
          for (const a of s.attributes ?? []) this.joinRole(s.name.name, a);
          break;
        }
        case 'attribute_role':
          this.roleAttrs.set(s.name.name, new Set());
          if (!this.roleTypes.has(s.name.name)) this.roleTypes.set(s.name.name, []);
          break;
        case 'roleattribute': for (const a of s.attributes) this.joinRole(s.role.name, a); break;
        case 'typebounds': for (const b of s.bounded) this.bounds.set(this.primary(b), this.primary(s.bounding)); break;
        case 'expandattribute':
          for (const a of s.attributes.names) {
            if (s.value) this.expandTrue.add(a.name);
            else this.expandTrue.delete(a.name);
          }
          break;
        case 'permissive': this.permissive.push(s.type.name); break;
        case 'user': this.users.set(s.name.name, s); break;
        case 'role-allow': this.roleAllows.push(s); break;
        case 'role_transition': this.roleTransitions.push(s); break;
        case 'sid-context': this.sidContexts.set(s.name.name, s.context); break;
        case 'pirqcon': case 'iomemcon': case 'ioportcon': case 'pcidevicecon': case 'devicetreecon':
          this.devices.push(s);
          break;
        default: break;
      }
    }
  }

  private sensPrimary(n: Name): string {
    const s = this.sens.get(n.name);
    if (!s) this.fail(n.span, `unknown sensitivity ${n.name}`);
    return s.primary;
  }

  /** A level as written (`s0`, `s1:c0.c3,c7`): the sensitivity's value and the category bits. */
  private parseLevel(text: string, span: SourceSpan): Level {
    const [sensName = '', catText] = text.trim().split(':').map((x) => x.trim());
    const s = this.sens.get(sensName);
    if (!s) this.fail(span, `unknown sensitivity ${sensName}`);
    const sens = this.sensValue.get(s.primary);
    if (sens === undefined) this.fail(span, `sensitivity ${sensName} is not in the dominance`);
    const bits = new Set<number>();
    for (const part of catText ? catText.split(',') : []) {
      const [a = '', b] = part.split('.').map((x) => x.trim());
      const lo = this.cats.get(a)?.value;
      const hi = b === undefined ? lo : this.cats.get(b)?.value;
      if (lo === undefined || hi === undefined) this.fail(span, `unknown category in ${part}`);
      for (let v = lo; v <= hi; v++) bits.add(v - 1);
    }
    return { sens, cats: [...bits].sort((x, y) => x - y) };
  }

  /** A range as written (`low - high`, or one level for both). */
  private parseRange(text: string | undefined, span: SourceSpan): MlsRange {
    if (!this.mls) return NO_RANGE;
    if (text === undefined) this.fail(span, 'an MLS policy needs a level or range here');
    const [low = '', high] = text.split('-');
    const l = this.parseLevel(low, span);
    return { low: l, high: high === undefined ? l : this.parseLevel(high, span) };
  }

  private cls(name: Name): ClassInfo {
    const c = this.classes.get(name.name);
    if (!c) this.fail(name.span, `unknown class ${name.name}`);
    return c;
  }

  private primary(name: Name): string {
    const kind = this.typeKind.get(name.name);
    if (!kind) this.fail(name.span, `unknown type ${name.name}`);
    return this.aliasOf.get(name.name) ?? name.name;
  }

  private joinRole(role: string, attr: Name): void {
    const m = this.roleAttrs.get(attr.name);
    if (!m) this.fail(attr.span, `unknown role attribute ${attr.name}`);
    m.add(role);
  }

  /** role_set_expand(): role values, a role attribute standing for its roles. */
  private roleSet(names: readonly Name[]): number[] {
    const out = new Set<number>();
    for (const n of names) {
      const v = this.roleValue.get(n.name);
      if (v === undefined) this.fail(n.span, `unknown role ${n.name}`);
      const members = this.roleAttrs.get(n.name);
      if (members) for (const r of members) out.add(this.roleValue.get(r) as number);
      else out.add(v);
    }
    return [...out].sort((a, b) => a - b);
  }

  private join(type: string, attr: Name): void {
    const m = this.members.get(attr.name);
    if (!m) this.fail(attr.span, `unknown attribute ${attr.name}`);
    m.add(type);
  }

  // ------------------------------------------------------------ values, as expand_module gives them

  private number(): void {
    const typeOrder = hashOrder([...this.typeKind.keys()], SIZE.types);
    for (const name of typeOrder) {
      if (this.typeKind.get(name) === 'alias') continue;
      this.typeNames.push(name);
      this.typeValue.set(name, this.typeNames.length);
    }
    for (const [alias, primary] of this.aliasOf) this.typeValue.set(alias, this.typeValue.get(primary) as number);
    this.attributeFlags = new Uint8Array(this.typeNames.length + 1);
    this.typeNames.forEach((n, i) => { if (this.typeKind.get(n) === 'attribute') this.attributeFlags[i + 1] = 1; });
    this.plainTypes = this.typeNames.map((_, i) => i + 1).filter((v) => !this.isAttribute(v));
    for (const name of hashOrder(['object_r', ...[...this.roleTypes.keys()].filter((r) => r !== 'object_r')], SIZE.roles)) {
      if (!this.roleValue.has(name)) this.roleValue.set(name, this.roleValue.size + 1);
    }
    for (const name of hashOrder([...this.users.keys()], SIZE.users)) this.userValue.set(name, this.userValue.size + 1);
    for (const name of hashOrder([...this.bools.keys()], SIZE.bools)) this.boolValue.set(name, this.boolValue.size + 1);
  }

  /** By type value: whether it is an attribute (filled by `number()`). */
  private attributeFlags = new Uint8Array(0);
  /** Every type value that is not an attribute, ascending (what `*` and `~` range over). */
  private plainTypes: number[] = [];

  private isAttribute(value: number): boolean {
    return this.attributeFlags[value] === 1;
  }

  /** Kernel values of an attribute's member types. */
  private membersOf(attr: string): number[] {
    return [...(this.members.get(attr) ?? [])].map((t) => this.typeValue.get(t) as number);
  }

  /**
   * type_set_expand(): the kernel type values of a set. Attributes stay as themselves unless
   * `expand` (type rules, `self` rules) or the set has exclusions, `*` or `~`.
   */
  private typeSet(set: NameSet, alwaysExpand: boolean): { values: number[]; self: boolean } {
    const names = set.names;
    const include = new Set<number>();
    const exclude = new Set<number>();
    let self = false;
    const expand = alwaysExpand || set.star || set.complement || names.some((n) => n.excluded);
    for (const n of names) {
      if (n.name === 'self' && !n.excluded) { self = true; continue; }
      const v = this.typeValue.get(n.name);
      if (v === undefined) this.fail(n.span, `unknown type or attribute ${n.name}`);
      const attr = this.isAttribute(v);
      const target = n.excluded ? exclude : include;
      if (attr && (expand || n.excluded || this.expandTrue.has(n.name))) for (const m of this.membersOf(this.typeNames[v - 1] as string)) target.add(m);
      else target.add(v);
    }
    const all = this.plainTypes;
    let values: number[];
    if (set.star) values = all.filter((v) => !exclude.has(v));
    else {
      values = [...include].filter((v) => !exclude.has(v));
      if (set.complement) {
        const have = new Set(values);
        values = all.filter((v) => !have.has(v));
      }
    }
    return { values: values.sort((a, b) => a - b), self };
  }

  private classSet(set: NameSet): ClassInfo[] {
    let picked = set.names.filter((n) => !n.excluded).map((n) => this.cls(n));
    if (set.star) picked = [...this.classes.values()];
    const excluded = new Set(set.names.filter((n) => n.excluded).map((n) => this.cls(n).name));
    if (set.complement) {
      const listed = new Set(picked.map((c) => c.name));
      picked = [...this.classes.values()].filter((c) => !listed.has(c.name));
    }
    return [...new Map(picked.filter((c) => !excluded.has(c.name)).map((c) => [c.value, c])).values()].sort((a, b) => a.value - b.value);
  }

  private permCount(c: ClassInfo): number {
    return (c.common ? this.commons.get(c.common)?.perms.size ?? 0 : 0) + c.perms.size;
  }

  /**
   * Permission bits. In AV rules `*` and `~` take all 32 bits (define_te_avtab_helper sets
   * ~0U and complements the word); in constraints only the class's own (`masked`, as
   * define_constraint's PERMISSION_MASK).
   */
  private permBits(c: ClassInfo, set: NameSet, masked = false): number {
    const n = this.permCount(c);
    const all = !masked || n >= 32 ? 0xffffffff : (1 << n) - 1;
    if (set.star) return all >>> 0;
    let bits = 0;
    for (const p of set.names) {
      const v = c.perms.get(p.name) ?? (c.common ? this.commons.get(c.common)?.perms.get(p.name) : undefined);
      if (v === undefined) this.fail(p.span, `permission ${p.name} is not in class ${c.name}`);
      bits |= 1 << (v - 1);
    }
    return (set.complement ? ~bits & all : bits) >>> 0;
  }

  // ------------------------------------------------------------ rules (copy_and_expand_avrule_block)

  private rules(): void {
    for (const s of this.statements) {
      if (s.kind === 'allow' || s.kind === 'auditallow' || s.kind === 'dontaudit' || s.kind === 'auditdeny'
        || s.kind === 'type_transition' || s.kind === 'type_member' || s.kind === 'type_change') this.rule(s, this.avtab, undefined, false);
    }
    this.conditionals();
    for (const s of this.statements) {
      if (s.kind === 'constrain' || s.kind === 'validatetrans' || s.kind === 'mlsconstrain' || s.kind === 'mlsvalidatetrans') this.constraint(s);
      else if (s.kind === 'default_user' || s.kind === 'default_role' || s.kind === 'default_type') {
        for (const c of this.classSet(s.classes)) c.defaults[s.kind === 'default_user' ? 'user' : s.kind === 'default_role' ? 'role' : 'type'] = s.object === 'source' ? 1 : 2;
      } else if (s.kind === 'default_range') {
        const code = s.range === 'glblub' ? 7 : (s.object === 'target' ? 3 : 0) + (s.range === 'low' ? 1 : s.range === 'high' ? 2 : 3);
        for (const c of this.classSet(s.classes)) c.defaults.range = code;
      }
    }
  }

  /** One AV or type rule into `table` (expand_rule_helper); `list` collects new conditional nodes. */
  private rule(s: Statement, table: Avtab, list: AvNode[] | undefined, enabled: boolean, other?: AvNode[]): void {
    if (s.kind !== 'allow' && s.kind !== 'auditallow' && s.kind !== 'dontaudit' && s.kind !== 'auditdeny'
      && s.kind !== 'type_transition' && s.kind !== 'type_member' && s.kind !== 'type_change') return;
    const typeRule = s.kind.startsWith('type_');
    if (typeRule && 'objectName' in s && s.objectName !== undefined) this.fail(s.span, 'a named type transition: Xen policies have none and the binary writer does not write them');
    const hasSelf = s.targets.names.some((n) => n.name === 'self' && !n.excluded);
    const src = this.typeSet(s.sources, typeRule || hasSelf).values;
    const tgt = this.typeSet(s.targets, typeRule || hasSelf).values;
    const spec = SPEC[s.kind] as number;
    for (const c of this.classSet(s.classes)) {
      let data: number;
      if (s.kind === 'type_transition' || s.kind === 'type_member' || s.kind === 'type_change') {
        const v = this.typeValue.get(s.result.name);
        if (v === undefined) this.fail(s.result.span, `unknown type ${s.result.name}`);
        data = v;
      } else if ('perms' in s) data = this.permBits(c, s.perms);
      else continue;
      const cls = c.value;
      const keySpec = spec | (enabled ? AVTAB.enabled : 0);
      const put = (st: number, tt: number): void => {
        if (typeRule) {
          // expand_terule_helper: an existing transition for the key (anywhere but the other
          // branch of this conditional) wins; libsepol reports a conflict if it differs.
          // (Unconditional nodes never carry AVTAB_ENABLED.)
          if (this.avtab.get(st, tt, cls, spec)) return;
          const inCond = this.condAvtab.size === 0 ? undefined : this.condAvtab.get(st, tt, cls, spec | AVTAB.enabled) ?? this.condAvtab.get(st, tt, cls, spec);
          if (inCond && (!list || (!list.includes(inCond) && !other?.includes(inCond)))) return;
          if (inCond && list?.includes(inCond)) return;
        }
        const node = this.find(table, st, tt, cls, keySpec, list, spec);
        const created = table.created;
        // dontaudit clears its permissions from the audit mask, auditdeny keeps only its own
        // (expand_avrule_helper: AVRULE_DONTAUDIT &= ~data, AVRULE_AUDITDENY &= data).
        if (s.kind === 'dontaudit') node.data = (node.data & ~data) >>> 0;
        else if (s.kind === 'auditdeny') node.data = (node.data & data) >>> 0;
        else if (typeRule) node.data = data;
        else node.data = (node.data | data) >>> 0;
        if (created && list) list.unshift(node);
      };
      for (const st of src) {
        if (hasSelf) put(st, st);
        for (const tt of tgt) put(st, tt);
      }
    }
  }

  /** find_avtab_node(): the node of this key (and conditional list), created empty if new. */
  private find(table: Avtab, st: number, tt: number, cls: number, keySpec: number, list: AvNode[] | undefined, spec: number): AvNode {
    const init = spec === AVTAB.auditdeny ? 0xffffffff : 0;
    if (!list) return table.node(st, tt, cls, keySpec, init);
    // A conditional list finds its own node of a key (node->parse_context == cond); a key
    // another conditional (or branch) also has gets a node of its own.
    let owner = this.lists.get(list);
    if (owner === undefined) this.lists.set(list, (owner = this.lists.size + 1));
    return table.node(st, tt, cls, keySpec, init, owner);
  }

  /**
   * The conditionals as checkpolicy and expand_module() build them: a branch's rules are
   * prepended as parsed (`define_cond_pol_list`), an expression that ends in `!` loses it and
   * swaps its branches (`cond_normalize_expr`), an `if` with only an `else` is first inverted
   * (`define_conditional`), and an `if` whose expression equals an earlier one's (same booleans,
   * same truth table: `cond_expr_equal`) appends its rules to that node's. Nodes are listed
   * newest first (`cond_node_search` prepends). Each list then has its type rules moved to the
   * front, last first (`cond_optimize`).
   */
  private conditionals(): void {
    type Rule = Conditional['then'][number];
    const nodes: { node: CondNode; rules: [Rule[], Rule[]] }[] = [];
    for (const s of this.statements) {
      if (s.kind !== 'if') continue;
      let t: Rule[] = [...s.then].reverse();
      let f: Rule[] = [...s.else].reverse();
      if (t.length === 0 && f.length === 0) continue;
      const expr: [number, number][] = [];
      this.boolExpr(s.condition, expr);
      if (t.length === 0) {
        expr.push([COND.not, 0]);
        [t, f] = [f, []];
      }
      if (expr.length > 1 && expr.at(-1)?.[0] === COND.not) {
        expr.pop();
        [t, f] = [f, t];
      }
      const key = this.condKey(expr);
      const old = nodes.find((n) => n.node.key === key);
      if (old) {
        old.rules[0].push(...t);
        old.rules[1].push(...f);
        continue;
      }
      const node: CondNode = { expr, key, state: this.evaluate(expr), trueList: [], falseList: [] };
      nodes.push({ node, rules: [t, f] });
      this.conds.unshift(node);
    }
    for (const { node, rules } of nodes) {
      for (const r of rules[0]) this.rule(r, this.condAvtab, node.trueList, node.state, node.falseList);
      for (const r of rules[1]) this.rule(r, this.condAvtab, node.falseList, !node.state, node.trueList);
      for (const list of [node.trueList, node.falseList]) {
        const typeRules = list.filter((n) => n.spec & (AVTAB.transition | AVTAB.member | AVTAB.change)).reverse();
        const av = list.filter((n) => !(n.spec & (AVTAB.transition | AVTAB.member | AVTAB.change)));
        list.splice(0, list.length, ...typeRules, ...av);
      }
    }
  }

  /** cond_expr_equal(): up to COND_MAX_BOOLS booleans compare by truth table, more by form. */
  private condKey(expr: readonly [number, number][]): string {
    const ids: number[] = [];
    for (const [k, b] of expr) if (k === COND.bool && !ids.includes(b)) ids.push(b);
    if (ids.length > 5) return `form ${expr.map((e) => e.join(':')).join(' ')}`;
    let table = 0n;
    for (let test = 0; test < 1 << ids.length; test++) {
      const states = new Map(ids.map((b, j) => [b, (test & (1 << j)) !== 0]));
      if (this.evaluate(expr, states)) table |= 1n << BigInt(test);
    }
    return `bools ${[...ids].sort((a, b) => a - b).join(',')} table ${table}`;
  }

  private boolExpr(e: BoolExpr, out: [number, number][]): void {
    switch (e.op) {
      case 'var': {
        const v = this.boolValue.get(e.name.name);
        if (v === undefined) this.fail(e.name.span, `unknown boolean ${e.name.name}`);
        out.push([COND.bool, v]);
        return;
      }
      case 'not': this.boolExpr(e.operand, out); out.push([COND.not, 0]); return;
      default: {
        this.boolExpr(e.left, out);
        this.boolExpr(e.right, out);
        const op = { '&&': COND.and, '||': COND.or, '^': COND.xor, '==': COND.eq, '!=': COND.neq }[e.op];
        out.push([op, 0]);
      }
    }
  }

  /** cond_evaluate_expr() with the booleans' declared states. */
  private evaluate(expr: readonly [number, number][], states = new Map([...this.boolValue].map(([n, v]) => [v, this.bools.get(n) as boolean]))): boolean {
    const stack: boolean[] = [];
    for (const [kind, b] of expr) {
      if (kind === COND.bool) { stack.push(states.get(b) as boolean); continue; }
      if (kind === COND.not) { stack.push(!stack.pop()); continue; }
      const r = stack.pop() as boolean;
      const l = stack.pop() as boolean;
      stack.push(kind === COND.and ? l && r : kind === COND.or ? l || r : kind === COND.xor ? l !== r : kind === COND.eq ? l === r : l !== r);
    }
    return stack.pop() as boolean;
  }

  private constraint(s: Constrain | ValidateTrans): void {
    const expr: number[][] = [];
    const names: (ConstraintNames | undefined)[] = [];
    this.cexpr(s.expr, expr, names);
    for (const c of this.classSet(s.classes)) {
      const perms = s.kind === 'constrain' || s.kind === 'mlsconstrain' ? this.permBits(c, s.perms, true) : 0;
      (s.kind === 'constrain' || s.kind === 'mlsconstrain' ? c.constraints : c.validatetrans).unshift({ perms, expr, names });
    }
  }

  /** define_cexpr(): postfix nodes [type, attr, op] and, for CEXPR_NAMES, the bits. */
  private cexpr(e: ConstraintExpr, out: number[][], names: (ConstraintNames | undefined)[]): void {
    if (e.op === 'not') { this.cexpr(e.operand, out, names); out.push([CEXPR.not, 0, 0]); names.push(undefined); return; }
    if (e.op === 'and' || e.op === 'or') {
      this.cexpr(e.left, out, names);
      this.cexpr(e.right, out, names);
      out.push([e.op === 'and' ? CEXPR.and : CEXPR.or, 0, 0]);
      names.push(undefined);
      return;
    }
    const leaf = e as Extract<ConstraintExpr, { readonly right: unknown; readonly left: string }>;
    const OPS: Record<string, number> = { '==': CEXPR.eq, eq: CEXPR.eq, '!=': CEXPR.neq, dom: CEXPR.dom, domby: CEXPR.domby, incomp: CEXPR.incomp };
    const op = OPS[leaf.op] as number;
    const kind = leaf.left.charAt(0);
    const which = leaf.left.slice(1);
    const base = kind === 'u' ? CEXPR.user : kind === 'r' ? CEXPR.role : kind === 't' ? CEXPR.type : 0;
    if (!base) {
      const pair = typeof leaf.right === 'string' ? LEVEL_PAIRS[`${leaf.left} ${leaf.right}`] : undefined;
      if (pair === undefined) this.fail(e.span, `constraint operands ${leaf.left} and ${typeof leaf.right === 'string' ? leaf.right : 'names'}: not a pair libsepol compares`);
      out.push([CEXPR.attr, pair, op]);
      names.push(undefined);
      return;
    }
    if (typeof leaf.right === 'string') {
      out.push([CEXPR.attr, base, op]);
      names.push(undefined);
      return;
    }
    const attr = base | (which === '2' ? CEXPR.target : which === '3' ? CEXPR.xtarget : 0);
    let bits: number[] = [];
    const written: number[] = [];
    if (kind === 't') {
      bits = this.typeSet(leaf.right, true).values.map((v) => v - 1);
      for (const n of leaf.right.names) if (!n.excluded && n.name !== 'self') written.push((this.typeValue.get(n.name) as number) - 1);
    } else if (kind === 'r') bits = this.roleSet(leaf.right.names).map((v) => v - 1);
    else {
      for (const n of leaf.right.names) {
        const v = this.userValue.get(n.name);
        if (v === undefined) this.fail(n.span, `unknown user ${n.name}`);
        bits.push(v - 1);
      }
    }
    out.push([CEXPR.names, attr, op]);
    names.push({ bits: [...new Set(bits)].sort((a, b) => a - b), written: [...new Set(written)].sort((a, b) => a - b) });
  }

  // ------------------------------------------------------------ policydb_write()

  private emit(): Uint8Array {
    const o = new Out();
    const v = this.version;
    o.u32(POLICYDB_MAGIC, XEN_TARGET.length);
    o.text(XEN_TARGET);
    o.u32(v, this.mls ? 1 : 0, 8, v >= VERSION_XEN_DEVICETREE ? 6 : 5);
    o.ebitmap(this.policyCaps.map((c) => {
      const bit = POLICY_CAPABILITIES.indexOf(c.name);
      if (bit < 0) this.fail(c.span, `policycap ${c.name}: not a capability libsepol 3.4 knows (${POLICY_CAPABILITIES.join(', ')})`);
      return bit;
    }));
    o.ebitmap(this.permissive.map((t) => this.typeValue.get(t) as number));

    // Commons.
    const commons = [...this.commons.keys()];
    o.u32(commons.length, commons.length);
    for (const name of hashOrder(commons, SIZE.commons)) {
      const m = this.commons.get(name) as { value: number; perms: Map<string, number> };
      o.u32(name.length, m.value, m.perms.size, m.perms.size);
      o.text(name);
      this.perms(o, m.perms);
    }
    // Classes.
    const classes = [...this.classes.keys()];
    o.u32(classes.length, classes.length);
    for (const name of hashOrder(classes, SIZE.classes)) {
      const c = this.classes.get(name) as ClassInfo;
      o.u32(name.length, c.common?.length ?? 0, c.value, this.permCount(c), c.perms.size, c.constraints.length);
      o.text(name);
      if (c.common) o.text(c.common);
      this.perms(o, c.perms);
      this.constraints(o, c.constraints);
      o.u32(c.validatetrans.length);
      this.constraints(o, c.validatetrans);
      if (v >= VERSION_NEW_OBJECT_DEFAULTS) o.u32(c.defaults.user, c.defaults.role, c.defaults.range);
      if (v >= VERSION_DEFAULT_TYPE) o.u32(c.defaults.type);
    }
    // Roles.
    // Role attributes have values but are not written (role_write, role_attr_uncount).
    const roles = [...this.roleValue.keys()];
    o.u32(roles.length, roles.length - this.roleAttrs.size);
    for (const name of hashOrder(roles, SIZE.roles)) {
      if (this.roleAttrs.has(name)) continue;
      const value = this.roleValue.get(name) as number;
      o.u32(name.length, value, 0);
      o.text(name);
      // object_r (roles_init() in policydb.c) dominates nothing and is written with no types.
      o.ebitmap(name === 'object_r' ? [] : [value - 1]);
      const types = new Set<number>();
      if (name !== 'object_r') {
        // role_fix_callback(): a role also has the types of every role attribute it is in.
        const from = [name, ...[...this.roleAttrs].filter(([, m]) => m.has(name)).map(([a]) => a)];
        for (const r of from) for (const set of this.roleTypes.get(r) ?? []) for (const t of this.typeSet(set, true).values) types.add(t - 1);
      }
      o.ebitmap(types);
    }
    // Types.
    const typeEntries = [...this.typeKind.keys()];
    o.u32(this.typeNames.length, typeEntries.length);
    for (const name of hashOrder(typeEntries, SIZE.types)) {
      const kind = this.typeKind.get(name);
      const props = kind === 'alias' ? 0 : kind === 'attribute' ? 3 : 1;
      const bound = kind === 'type' ? this.bounds.get(name) : undefined;
      o.u32(name.length, this.typeValue.get(name) as number, props, bound ? this.typeValue.get(bound) as number : 0);
      o.text(name);
    }
    // Users.
    const users = [...this.users.keys()];
    o.u32(users.length, users.length);
    for (const name of hashOrder(users, SIZE.users)) {
      const u = this.users.get(name) as Statement & { kind: 'user' };
      o.u32(name.length, this.userValue.get(name) as number, 0);
      o.text(name);
      o.ebitmap(this.roleSet(u.roles.names).map((r) => r - 1));
      o.range(this.parseRange(u.range, u.span));
      o.level(this.mls ? this.parseLevel(u.level ?? '', u.span) : NO_LEVEL);
    }
    // Booleans.
    const bools = [...this.bools.keys()];
    o.u32(bools.length, bools.length);
    for (const name of hashOrder(bools, SIZE.bools)) {
      o.u32(this.boolValue.get(name) as number, this.bools.get(name) ? 1 : 0, name.length);
      o.text(name);
    }
    // Sensitivities (aliases share their sensitivity's level) and categories; every entry
    // counts in nprim (sens_copy_callback and cats_copy_callback count aliases too).
    o.u32(this.sens.size, this.sens.size);
    for (const name of hashOrder([...this.sens.keys()], SIZE.levels)) {
      const s = this.sens.get(name) as { alias: boolean; primary: string };
      o.u32(name.length, s.alias ? 1 : 0);
      o.text(name);
      o.level({ sens: this.sensValue.get(s.primary) ?? 0, cats: this.sensCats.get(s.primary) ?? [] });
    }
    o.u32(this.cats.size, this.cats.size);
    for (const name of hashOrder([...this.cats.keys()], SIZE.cats)) {
      const k = this.cats.get(name) as { alias: boolean; value: number };
      o.u32(name.length, k.value, k.alias ? 1 : 0);
      o.text(name);
    }

    // The avtab.
    // An empty avtab is written as checkpolicy writes it, though libsepol's avtab_read (and
    // Xen) refuse to load one: the writer's promise is checkpolicy's bytes.
    o.u32(this.avtab.size);
    for (const n of this.avtab.ordered()) this.avItem(o, n);
    // Conditionals.
    o.u32(this.conds.length);
    for (const c of this.conds) {
      o.u32(c.state ? 1 : 0, c.expr.length);
      for (const [k, b] of c.expr) o.u32(k, b);
      for (const list of [c.trueList, c.falseList]) {
        o.u32(list.length);
        for (const n of list) this.avItem(o, n);
      }
    }
    // Role transitions and allows.
    // checkpolicy prepends each rule as parsed (append_role_trans, append_role_allow), so the
    // last comes first; copy_role_trans() and copy_role_allows() then append, per rule, roles ×
    // types × classes ascending, a repeated (role, type, class) or (role, new role) once.
    const rt: number[][] = [];
    const seenRt = new Set<string>();
    for (const s of [...this.roleTransitions].reverse()) {
      const newRole = this.roleValue.get(s.result.name);
      if (newRole === undefined) this.fail(s.result.span, `unknown role ${s.result.name}`);
      if (!s.classes) this.fail(s.span, 'a role_transition without classes: checkpolicy applies it to class process, which Xen has not');
      for (const r of this.roleSet(s.roles.names)) for (const t of this.typeSet(s.types, true).values) for (const c of this.classSet(s.classes)) {
        const id = `${r},${t},${c.value}`;
        if (seenRt.has(id)) continue;
        seenRt.add(id);
        rt.push([r, t, newRole, c.value]);
      }
    }
    // Before version 26 a role transition has no class: role_trans_write keeps only those of
    // class "process", which a Xen policy does not have (libsepol warns and discards the rest).
    const processClass = this.classes.get('process')?.value;
    const written = v >= VERSION_ROLETRANS ? rt : rt.filter((r) => r[3] === processClass).map((r) => r.slice(0, 3));
    o.u32(written.length);
    for (const r of written) o.u32(...r);
    const ra: [number, number][] = [];
    const seenRa = new Set<string>();
    for (const a of [...this.roleAllows].reverse()) for (const r of this.roleSet(a.sources.names)) for (const n of this.roleSet(a.targets.names)) {
      if (seenRa.has(`${r},${n}`)) continue;
      seenRa.add(`${r},${n}`);
      ra.push([r, n]);
    }
    o.u32(ra.length);
    for (const [a, b] of ra) o.u32(a, b);
    if (v >= VERSION_FILENAME_TRANS) o.u32(0);

    // Ocontexts: initial SIDs (prepended as declared, so last first), then Xen's devices.
    const isids = this.sids.map((name, i) => [name, i + 1] as const).filter(([name]) => this.sidContexts.has(name)).reverse();
    o.u32(isids.length);
    for (const [name, sid] of isids) {
      o.u32(sid);
      this.context(o, this.sidContexts.get(name) as Context);
    }
    const kinds = ['pirqcon', 'ioportcon', 'iomemcon', 'pcidevicecon', ...(v >= VERSION_XEN_DEVICETREE ? ['devicetreecon'] : [])];
    for (const kind of kinds) {
      const list = this.devices.filter((d) => d.kind === kind);
      o.u32(list.length);
      for (const d of list) {
        const lo = d.low !== undefined ? BigInt(d.low) : 0n;
        const hi = d.high !== undefined ? BigInt(d.high) : lo;
        if (kind === 'pirqcon' || kind === 'pcidevicecon') o.u32(Number(lo));
        else if (kind === 'ioportcon') o.u32(Number(lo), Number(hi));
        else if (kind === 'iomemcon') {
          if (v >= VERSION_XEN_DEVICETREE) { o.u64(lo); o.u64(hi); } else o.u32(Number(lo), Number(hi));
        } else { o.u32((d.path ?? '').length); o.text(d.path ?? ''); }
        this.context(o, d.context);
      }
    }
    o.u32(0); // genfs: none for Xen
    this.writeRangeTransitions(o);
    // type_attr_map: each type with the attributes it belongs to.
    const attrsOf = this.typeNames.map((_, i) => new Set([i]));
    for (const [attr, ms] of this.members) for (const t of ms) attrsOf[(this.typeValue.get(t) as number) - 1]?.add((this.typeValue.get(attr) as number) - 1);
    for (const bits of attrsOf) o.ebitmap(bits);
    return o.bytes();
  }

  /**
   * range_write(): the range_tr hash table (rangetr_hash: source + target << 3 + class << 5,
   * masked; a bucket in (source, target, class) order). Rules are prepended as parsed
   * (append_range_trans) and expanded per type and class; a key keeps its first range.
   */
  private writeRangeTransitions(o: Out): void {
    const entries = new Map<string, { s: number; t: number; c: number; range: MlsRange }>();
    for (const r of [...this.rangeTransitions].reverse()) {
      if (!r.classes) this.fail(r.span, 'a range_transition without classes: checkpolicy applies it to class process, which Xen has not');
      const range = this.parseRange(r.range, r.span);
      for (const st of this.typeSet(r.sources, true).values) for (const tt of this.typeSet(r.targets, true).values) for (const c of this.classSet(r.classes)) {
        const key = `${st},${tt},${c.value}`;
        if (!entries.has(key)) entries.set(key, { s: st, t: tt, c: c.value, range });
      }
    }
    const size = tableSize(RANGETR_SIZE, entries.size);
    const ordered = [...entries.values()].sort((a, b) => ((a.s + (a.t << 3) + (a.c << 5)) & (size - 1)) - ((b.s + (b.t << 3) + (b.c << 5)) & (size - 1)) || a.s - b.s || a.t - b.t || a.c - b.c);
    o.u32(ordered.length);
    for (const e of ordered) {
      o.u32(e.s, e.t, e.c);
      o.range(e.range);
    }
  }

  private perms(o: Out, perms: Map<string, number>): void {
    for (const p of hashOrder([...perms.keys()], PERM_TABLE)) {
      o.u32(p.length, perms.get(p) as number);
      o.text(p);
    }
  }

  private constraints(o: Out, list: ClassInfo['constraints']): void {
    for (const c of list) {
      o.u32(c.perms, c.expr.length);
      c.expr.forEach((node, i) => {
        o.u32(...node);
        const names = c.names[i];
        if (names) {
          o.ebitmap(names.bits);
          if (this.version >= VERSION_CONSTRAINT_NAMES) { o.ebitmap(names.written); o.ebitmap([]); o.u32(0); }
        }
      });
    }
  }

  private avItem(o: Out, n: AvNode): void {
    o.u16(n.s);
    o.u16(n.t);
    o.u16(n.c);
    o.u16(n.spec & 0xffff);
    o.u32(n.data);
  }

  private context(o: Out, c: Context): void {
    const user = this.userValue.get(c.user.name);
    const role = this.roleValue.get(c.role.name);
    const type = this.typeValue.get(c.type.name);
    if (user === undefined) this.fail(c.user.span, `unknown user ${c.user.name}`);
    if (role === undefined) this.fail(c.role.span, `unknown role ${c.role.name}`);
    if (type === undefined) this.fail(c.type.span, `unknown type ${c.type.name}`);
    o.u32(user, role, type);
    o.range(this.parseRange(c.range, c.span));
  }
}
