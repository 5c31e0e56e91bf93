// DWARF, the debug information of a vmlinux built with CONFIG_DEBUG_INFO (Debian's -dbg
// packages): read just far enough to give the structure layouts a guest profile needs, for the
// kernels that carry no BTF (Debian's i386 ones). The format is the DWARF 4 and 5 standards'
// (section 7), as gcc 12 writes it:
//   .debug_info   units, each a header — unit_length (4 bytes, or 0xffffffff then 8: the
//                 64-bit format, whose section offsets are 8 bytes), version (2 to 5), then
//                 for 5 unit_type, address_size, debug_abbrev_offset, and for 2-4
//                 debug_abbrev_offset, address_size — then a tree of DIEs: an abbreviation
//                 code (ULEB128; 0 ends a list of children) and the attribute values its
//                 abbreviation lists, each encoded as its form says;
//   .debug_abbrev per unit a table of abbreviations: code, tag, has-children, then (attribute,
//                 form) pairs ending in (0, 0), DW_FORM_implicit_const carrying its value here;
//   .debug_str, .debug_line_str  NUL-terminated strings that DW_FORM_strp / line_strp point
//                 into; .debug_str_offsets the table DW_FORM_strx* index from the unit's
//                 DW_AT_str_offsets_base.
// A struct is a DW_TAG_structure_type (a union DW_TAG_union_type) with DW_AT_name and
// DW_AT_byte_size and no DW_AT_declaration; its DW_TAG_member children give DW_AT_name,
// DW_AT_type and DW_AT_data_member_location (a constant, or DWARF 2's DW_OP_plus_uconst
// expression) or DW_AT_data_bit_offset (DWARF 4-5 bitfields; DWARF 2-4's DW_AT_bit_offset,
// counted from the storage unit's most significant bit, is turned into the same). An unnamed member's type, followed through typedefs
// and qualifiers, is the anonymous struct or union it embeds.
//
// Every form is decoded or skipped by its size, so a DIE that is not needed is passed over
// exactly; a form this reader does not know stops it with its number rather than misreading
// what follows. Units are read one at a time and parsing stops when every wanted struct has
// been found (a kernel's first units, init/main.c among them, define task_struct and
// mm_struct). Every read is bounds-checked against its unit or section; a fault is a typed
// answer naming the .debug_info or .debug_abbrev offset, never an exception.

import { MAX_EMBEDDED, MAX_EMBEDDING, type EmbeddingBudget, type LayoutMember, type StructLayout } from './struct-layout.js';

export interface DwarfSections {
  /** .debug_info: its size, and a positioned read (it is ~150 MiB in an i386 vmlinux). */
  readonly info: { readonly size: number; readonly read: (offset: number, length: number) => Uint8Array };
  readonly abbrev: Uint8Array;
  readonly str?: Uint8Array;
  readonly lineStr?: Uint8Array;
  readonly strOffsets?: Uint8Array;
}

type DwarfLayouts =
  | { readonly ok: true; readonly structs: ReadonlyMap<string, StructLayout>; readonly infoBytesRead: number; readonly units: number }
  | { readonly ok: false; readonly problem: string };

/** A unit larger than this is not one a compiler wrote (the kernel's largest are a few MiB). */
const MAX_UNIT = 256 * 1024 * 1024;
/** DIE nesting: C needs a dozen levels; deeper is a malformed tree. */
const MAX_DEPTH = 1024;
/** Attributes in one abbreviation (gcc uses at most a few dozen). */
const MAX_ATTRIBUTES = 1024;
/** A NUL-terminated string longer than this is not a name. */
const MAX_STRING = 1 << 16;

// Tags, attributes and forms (DWARF 5, section 7.5; the GNU extensions binutils knows).
const TAG_MEMBER = 0x0d;
const TAG_STRUCT = 0x13;
const TAG_TYPEDEF = 0x16;
const TAG_UNION = 0x17;
const TAG_CONST = 0x26;
const TAG_VOLATILE = 0x35;
const TAG_RESTRICT = 0x37;
const TAG_ATOMIC = 0x47;
const AT_NAME = 0x03;
const AT_BYTE_SIZE = 0x0b;
const AT_BIT_OFFSET = 0x0c;
const AT_BIT_SIZE = 0x0d;
const AT_DATA_MEMBER_LOCATION = 0x38;
const AT_DECLARATION = 0x3c;
const AT_TYPE = 0x49;
const AT_DATA_BIT_OFFSET = 0x6b;
const AT_STR_OFFSETS_BASE = 0x72;
const OP_PLUS_UCONST = 0x23;

const enum Form {
  addr = 0x01, block2 = 0x03, block4 = 0x04, data2 = 0x05, data4 = 0x06, data8 = 0x07, string = 0x08, block = 0x09, block1 = 0x0a,
  data1 = 0x0b, flag = 0x0c, sdata = 0x0d, strp = 0x0e, udata = 0x0f, refAddr = 0x10, ref1 = 0x11, ref2 = 0x12, ref4 = 0x13, ref8 = 0x14,
  refUdata = 0x15, indirect = 0x16, secOffset = 0x17, exprloc = 0x18, flagPresent = 0x19, strx = 0x1a, addrx = 0x1b, refSup4 = 0x1c,
  strpSup = 0x1d, data16 = 0x1e, lineStrp = 0x1f, refSig8 = 0x20, implicitConst = 0x21, loclistx = 0x22, rnglistx = 0x23, refSup8 = 0x24,
  strx1 = 0x25, strx2 = 0x26, strx3 = 0x27, strx4 = 0x28, addrx1 = 0x29, addrx2 = 0x2a, addrx3 = 0x2b, addrx4 = 0x2c,
  gnuAddrIndex = 0x1f01, gnuStrIndex = 0x1f02, gnuRefAlt = 0x1f20, gnuStrpAlt = 0x1f21,
}

interface Abbrev {
  readonly tag: number;
  readonly children: boolean;
  /** attribute, form, implicit_const value, flattened. */
  readonly specs: readonly number[];
}

/** Thrown inside the reader only, and turned into `{ ok: false }` at its edge. */
class DwarfFault extends Error {}

const fault = (problem: string): never => {
  throw new DwarfFault(problem);
};

const hex = (n: number): string => `0x${n.toString(16)}`;

/** A bounds-checked little-endian reader over one unit or section. */
class Cursor {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
    /** Where byte 0 of `bytes` is in its section, and the section's name, for messages. */
    private readonly base: number,
    private readonly section: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  where(at = this.pos): string {
    return `${this.section} offset ${hex(this.base + at)}`;
  }
  need(n: number): number {
    const at = this.pos;
    if (!(n >= 0) || at + n > this.end) fault(`${n} bytes at ${this.where(at)} run past the end of what holds them (at ${this.where(this.end)})`);
    this.pos = at + n;
    return at;
  }
  u8(): number {
    return this.bytes[this.need(1)] as number;
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  u24(): number {
    const at = this.need(3);
    return (this.bytes[at] as number) | ((this.bytes[at + 1] as number) << 8) | ((this.bytes[at + 2] as number) << 16);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  /** A u64 as a number; values beyond 2^53 (never an offset or size here) become Infinity. */
  u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  }
  uleb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      // Past 2^53 the value is no offset or size: keep consuming bytes, report Infinity.
      result = scale > 2 ** 53 ? Infinity : result + (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return result;
    }
  }
  sleb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      result = scale > 2 ** 53 ? result : result + (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return b & 0x40 && scale <= 2 ** 53 ? result - scale : result;
    }
  }
  skip(n: number): void {
    if (!Number.isFinite(n)) fault(`a block of impossible length at ${this.where()}`);
    this.need(n);
  }
  cstring(): number {
    const at = this.pos;
    const stop = this.bytes.indexOf(0, at);
    if (stop < 0 || stop >= this.end) fault(`the string at ${this.where(at)} has no terminating NUL`);
    this.pos = stop + 1;
    return at;
  }
}

/** An attribute's value: a number (constants, offsets, flags), or for a name where its bytes are. */
type NameRef = { readonly in: Uint8Array; readonly at: number } | undefined;

interface RawStruct {
  readonly name: NameRef;
  readonly tag: number;
  readonly size: number | undefined;
  readonly declaration: boolean;
  readonly members: RawMember[];
}

interface RawMember {
  readonly name: NameRef;
  /** Bits, or undefined when its location is not a constant this reader evaluates. */
  readonly bitOffset: number | undefined;
  /** The absolute .debug_info offset of its type, or undefined. */
  readonly type: number | undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

function nameOf(ref: NameRef): string {
  if (!ref) return '';
  const stop = ref.in.indexOf(0, ref.at);
  const end = stop < 0 ? ref.in.length : Math.min(stop, ref.at + MAX_STRING);
  return decoder.decode(ref.in.subarray(ref.at, end));
}

function nameIs(ref: NameRef, wanted: Uint8Array): boolean {
  if (!ref) return false;
  if (ref.at + wanted.length > ref.in.length) return false;
  for (let k = 0; k < wanted.length; k++) if (ref.in[ref.at + k] !== wanted[k]) return false;
  return true;
}

/** The abbreviation table at `offset` of .debug_abbrev. */
function abbrevTable(section: Uint8Array, offset: number): Map<number, Abbrev> {
  if (offset >= section.length) fault(`a unit's abbreviation table offset ${hex(offset)} is beyond .debug_abbrev's ${section.length} bytes`);
  const c = new Cursor(section, offset, section.length, 0, '.debug_abbrev');
  const table = new Map<number, Abbrev>();
  for (;;) {
    const code = c.uleb();
    if (code === 0) return table;
    const tag = c.uleb();
    const children = c.u8() !== 0;
    const specs: number[] = [];
    for (;;) {
      const at = c.uleb();
      const form = c.uleb();
      if (at === 0 && form === 0) break;
      if (specs.length >= MAX_ATTRIBUTES * 3) fault(`abbreviation ${code} at ${c.where()} has more than ${MAX_ATTRIBUTES} attributes`);
      specs.push(at, form, form === Form.implicitConst ? c.sleb() : 0);
    }
    if (table.has(code)) fault(`abbreviation code ${code} appears twice in the table at .debug_abbrev offset ${hex(offset)}`);
    table.set(code, { tag, children: children, specs });
  }
}

interface Unit {
  readonly start: number;
  readonly version: number;
  readonly offsetSize: 4 | 8;
  readonly addressSize: number;
  strOffsetsBase: number | undefined;
}

/**
 * The layouts of the structs named in `wanted`, from the first unit that defines each, reading
 * units in order and stopping once all are found. A struct no unit defines is simply absent.
 */
export function dwarfStructLayouts(sections: DwarfSections, wanted: readonly string[]): DwarfLayouts {
  try {
    return readLayouts(sections, wanted);
  } catch (e) {
    if (e instanceof DwarfFault) return { ok: false, problem: e.message };
    throw e;
  }
}

function readLayouts(sections: DwarfSections, wanted: readonly string[]): DwarfLayouts {
  const missing = new Map(wanted.map((w) => [w, new TextEncoder().encode(w + '\0')]));
  const structs = new Map<string, StructLayout>();
  const abbrevs = new Map<number, Map<number, Abbrev>>();
  const info = sections.info;
  let at = 0;
  let units = 0;
  while (at < info.size && missing.size > 0) {
    const head = info.read(at, 12);
    const h = new Cursor(head, 0, head.length, at, '.debug_info');
    const length32 = h.u32();
    if (length32 >= 0xfffffff0 && length32 !== 0xffffffff) fault(`the unit at .debug_info offset ${hex(at)} has reserved length ${hex(length32)}`);
    const offsetSize = length32 === 0xffffffff ? 8 : 4;
    const length = offsetSize === 8 ? h.u64() : length32;
    const total = (offsetSize === 8 ? 12 : 4) + length;
    if (length > MAX_UNIT || at + total > info.size) fault(`the unit at .debug_info offset ${hex(at)} claims ${length} bytes; ${info.size - at} remain in the section`);
    const bytes = info.read(at, total);
    if (bytes.length < total) fault(`the unit at .debug_info offset ${hex(at)} is cut off (${bytes.length} of ${total} bytes)`);
    readUnit(new Cursor(bytes, offsetSize === 8 ? 12 : 4, total, at, '.debug_info'), at, offsetSize, sections, abbrevs, missing, structs);
    units++;
    at += total;
  }
  return { ok: true, structs, infoBytesRead: at, units };
}

function readUnit(c: Cursor, start: number, offsetSize: 4 | 8, sections: DwarfSections, abbrevs: Map<number, Map<number, Abbrev>>, missing: Map<string, Uint8Array>, found: Map<string, StructLayout>): void {
  const version = c.u16();
  if (version < 2 || version > 5) fault(`the unit at .debug_info offset ${hex(start)} has DWARF version ${version}; this reader knows 2 to 5`);
  let abbrevOffset: number;
  let addressSize: number;
  if (version === 5) {
    const unitType = c.u8();
    addressSize = c.u8();
    abbrevOffset = offsetSize === 8 ? c.u64() : c.u32();
    // DW_UT_compile 1 and DW_UT_partial 3 hold the DIEs; type units (2, 6) carry a signature and
    // type offset, skeleton and split units (4, 5) a dwo_id: skip those headers' extra fields.
    if (unitType === 2 || unitType === 6) c.skip(8 + offsetSize);
    else if (unitType === 4 || unitType === 5) c.skip(8);
    else if (unitType !== 1 && unitType !== 3) return;
  } else {
    abbrevOffset = offsetSize === 8 ? c.u64() : c.u32();
    addressSize = c.u8();
  }
  if (addressSize !== 2 && addressSize !== 4 && addressSize !== 8) fault(`the unit at .debug_info offset ${hex(start)} has address size ${addressSize}`);
  let table = abbrevs.get(abbrevOffset);
  if (!table) {
    table = abbrevTable(sections.abbrev, abbrevOffset);
    abbrevs.set(abbrevOffset, table);
  }
  const unit: Unit = { start, version, offsetSize, addressSize, strOffsetsBase: undefined };
  const structs = new Map<number, RawStruct>();
  const aliases = new Map<number, number>();
  /** The struct each open level's children belong to (undefined: not a struct). */
  const parents: (RawStruct | undefined)[] = [];
  let first = true;
  while (c.pos < c.end) {
    const dieOffset = start + c.pos;
    const code = c.uleb();
    if (code === 0) {
      parents.pop();
      continue;
    }
    const abbrev = table.get(code);
    if (!abbrev) fault(`the DIE at .debug_info offset ${hex(dieOffset)} uses abbreviation ${code}, which its table at .debug_abbrev offset ${hex(abbrevOffset)} does not define`);
    const a = abbrev as Abbrev;
    const keep = a.tag === TAG_STRUCT || a.tag === TAG_UNION || a.tag === TAG_MEMBER || a.tag === TAG_TYPEDEF || a.tag === TAG_CONST || a.tag === TAG_VOLATILE || a.tag === TAG_RESTRICT || a.tag === TAG_ATOMIC;
    let name: NameRef;
    let size: number | undefined;
    let declaration = false;
    let type: number | undefined;
    let location: number | undefined;
    let locationKnown = true;
    let bitOffset: number | undefined;
    let legacyBitOffset: number | undefined;
    let bitSize: number | undefined;
    const specs = a.specs;
    for (let i = 0; i < specs.length; i += 3) {
      const attr = specs[i] as number;
      let form = specs[i + 1] as number;
      if (form === Form.indirect) {
        form = c.uleb();
        if (form === Form.indirect || form === Form.implicitConst) fault(`DW_FORM_indirect names form ${hex(form)} at ${c.where()}`);
      }
      if (!keep && !(first && attr === AT_STR_OFFSETS_BASE)) {
        skipForm(c, form, unit);
        continue;
      }
      switch (attr) {
        case AT_NAME: name = readName(c, form, unit, sections); break;
        case AT_BYTE_SIZE: size = readConstant(c, form, specs[i + 2] as number, unit); break;
        case AT_DECLARATION: declaration = readConstant(c, form, specs[i + 2] as number, unit) !== 0; break;
        case AT_TYPE: type = readRef(c, form, unit); break;
        case AT_DATA_MEMBER_LOCATION: {
          location = readLocation(c, form, specs[i + 2] as number, unit);
          locationKnown = location !== undefined;
          break;
        }
        case AT_DATA_BIT_OFFSET: bitOffset = readConstant(c, form, specs[i + 2] as number, unit); break;
        case AT_BIT_OFFSET: legacyBitOffset = readConstant(c, form, specs[i + 2] as number, unit); break;
        case AT_BIT_SIZE: bitSize = readConstant(c, form, specs[i + 2] as number, unit); break;
        case AT_STR_OFFSETS_BASE: unit.strOffsetsBase = readConstant(c, form, specs[i + 2] as number, unit); break;
        default: skipForm(c, form, unit);
      }
    }
    first = false;
    const parent = parents.length > 0 ? parents[parents.length - 1] : undefined;
    let opened: RawStruct | undefined;
    if (a.tag === TAG_STRUCT || a.tag === TAG_UNION) {
      opened = { name, tag: a.tag, size, declaration, members: [] };
      structs.set(dieOffset, opened);
    } else if (a.tag === TAG_MEMBER && parent) {
      let bits = bitOffset !== undefined ? bitOffset : !locationKnown ? undefined : location !== undefined ? location * 8 : 0;
      // DWARF 2-4 bitfields: DW_AT_bit_offset counts from the most significant bit of a storage
      // unit of DW_AT_byte_size bytes at the member's location; on a little-endian target the
      // field starts (byte_size * 8 - bit_offset - bit_size) bits into that unit.
      if (bitOffset === undefined && bits !== undefined && legacyBitOffset !== undefined && bitSize !== undefined && size !== undefined) {
        const from = size * 8 - legacyBitOffset - bitSize;
        bits = from >= 0 && Number.isFinite(from) ? bits + from : undefined;
      }
      parent.members.push({ name, bitOffset: bits, type });
    } else if (keep && a.tag !== TAG_MEMBER && type !== undefined) {
      aliases.set(dieOffset, type);
    }
    if (a.children) {
      if (parents.length >= MAX_DEPTH) fault(`DIEs nest deeper than ${MAX_DEPTH} levels at .debug_info offset ${hex(dieOffset)}`);
      parents.push(opened);
    }
  }
  for (const [wanted, bytes] of missing) {
    for (const s of structs.values()) {
      if (s.tag !== TAG_STRUCT || s.declaration || s.size === undefined || !nameIs(s.name, bytes)) continue;
      found.set(wanted, layoutOf(s, structs, aliases, 0));
      missing.delete(wanted);
      break;
    }
  }
}

/** The layout of `s`, its unnamed members' types resolved (through typedefs and qualifiers) within the unit. */
function layoutOf(s: RawStruct, structs: ReadonlyMap<number, RawStruct>, aliases: ReadonlyMap<number, number>, depth: number, budget: EmbeddingBudget = { left: MAX_EMBEDDED }): StructLayout {
  const members: LayoutMember[] = [];
  for (const m of s.members) {
    // A member at a location this reader does not evaluate (a location list) is left out
    // rather than given a wrong offset; the profile then says the member is missing.
    if (m.bitOffset === undefined) continue;
    const name = nameOf(m.name);
    let embedded: StructLayout | undefined;
    if (name === '' && m.type !== undefined && depth < MAX_EMBEDDING && budget.left > 0) {
      let type: number | undefined = m.type;
      for (let hops = 0; type !== undefined && !structs.has(type) && hops < 16; hops++) type = aliases.get(type);
      const inner = type === undefined ? undefined : structs.get(type);
      if (inner) {
        budget.left--;
        embedded = layoutOf(inner, structs, aliases, depth + 1, budget);
      }
    }
    members.push({ name, bitOffset: m.bitOffset, ...(embedded ? { embedded } : {}) });
  }
  return { name: nameOf(s.name), size: s.size ?? 0, members };
}

function offsetField(c: Cursor, unit: Unit): number {
  return unit.offsetSize === 8 ? c.u64() : c.u32();
}

/** Where a name attribute's string is, whichever string form holds it. */
function readName(c: Cursor, form: number, unit: Unit, sections: DwarfSections): NameRef {
  const inSection = (section: Uint8Array | undefined, label: string, offset: number): NameRef => {
    if (!section || offset >= section.length) fault(`a name at ${c.where()} points to ${label} offset ${hex(offset)}, beyond its ${section?.length ?? 0} bytes`);
    return { in: section as Uint8Array, at: offset };
  };
  switch (form) {
    case Form.string: return { in: c.bytes, at: c.cstring() };
    case Form.strp: return inSection(sections.str, '.debug_str', offsetField(c, unit));
    case Form.lineStrp: return inSection(sections.lineStr, '.debug_line_str', offsetField(c, unit));
    case Form.strx: case Form.gnuStrIndex: return strx(c, c.uleb(), unit, sections);
    case Form.strx1: return strx(c, c.u8(), unit, sections);
    case Form.strx2: return strx(c, c.u16(), unit, sections);
    case Form.strx3: return strx(c, c.u24(), unit, sections);
    case Form.strx4: return strx(c, c.u32(), unit, sections);
    default:
      // A name in another file (DW_FORM_strp_sup, GNU_strp_alt: dwz) is not readable here.
      skipForm(c, form, unit);
      return undefined;
  }
}

function strx(c: Cursor, index: number, unit: Unit, sections: DwarfSections): NameRef {
  const table = sections.strOffsets;
  // Without DW_AT_str_offsets_base, DWARF 5's first table starts after its 8- or 16-byte header.
  const base = unit.strOffsetsBase ?? (unit.offsetSize === 8 ? 16 : 8);
  const at = base + index * unit.offsetSize;
  if (!table || !Number.isFinite(at) || at + unit.offsetSize > table.length) fault(`string index ${index} at ${c.where()} is beyond .debug_str_offsets (${table?.length ?? 0} bytes, base ${hex(base)})`);
  const t = new Cursor(table as Uint8Array, at, (table as Uint8Array).length, 0, '.debug_str_offsets');
  const offset = offsetField(t, unit);
  if (!sections.str || offset >= sections.str.length) fault(`string index ${index} at ${c.where()} points to .debug_str offset ${hex(offset)}, beyond its ${sections.str?.length ?? 0} bytes`);
  return { in: sections.str as Uint8Array, at: offset };
}

/** A constant-class value (or a flag); undefined for a form that is not one. */
function readConstant(c: Cursor, form: number, implicit: number, unit: Unit): number | undefined {
  switch (form) {
    case Form.data1: case Form.flag: return c.u8();
    case Form.data2: return c.u16();
    case Form.data4: return c.u32();
    case Form.data8: return c.u64();
    case Form.udata: return c.uleb();
    case Form.sdata: return c.sleb();
    case Form.implicitConst: return implicit;
    case Form.flagPresent: return 1;
    default:
      skipForm(c, form, unit);
      return undefined;
  }
}

/** DW_AT_data_member_location: a constant, or a DWARF 2 expression that is one DW_OP_plus_uconst. */
function readLocation(c: Cursor, form: number, implicit: number, unit: Unit): number | undefined {
  if (form === Form.exprloc || form === Form.block1 || form === Form.block || form === Form.block2 || form === Form.block4) {
    const length = form === Form.block1 ? c.u8() : form === Form.block2 ? c.u16() : form === Form.block4 ? c.u32() : c.uleb();
    const end = c.pos + length;
    c.skip(length);
    const e = new Cursor(c.bytes, end - length, end, 0, '.debug_info');
    if (length === 0 || e.u8() !== OP_PLUS_UCONST) return undefined;
    const value = e.uleb();
    return e.pos === end && Number.isFinite(value) ? value : undefined;
  }
  if (form === Form.secOffset || form === Form.loclistx) {
    skipForm(c, form, unit);
    return undefined;
  }
  const value = readConstant(c, form, implicit, unit);
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** A reference as an absolute .debug_info offset; undefined when it points elsewhere (a type unit, a supplementary file). */
function readRef(c: Cursor, form: number, unit: Unit): number | undefined {
  switch (form) {
    case Form.ref1: return unit.start + c.u8();
    case Form.ref2: return unit.start + c.u16();
    case Form.ref4: return unit.start + c.u32();
    case Form.ref8: return unit.start + c.u64();
    case Form.refUdata: return unit.start + c.uleb();
    case Form.refAddr: return unit.version === 2 ? (unit.addressSize === 8 ? c.u64() : c.u32()) : offsetField(c, unit);
    default:
      skipForm(c, form, unit);
      return undefined;
  }
}

/** Passes over one attribute value of `form`. */
function skipForm(c: Cursor, form: number, unit: Unit): void {
  switch (form) {
    case Form.flagPresent: case Form.implicitConst: return;
    case Form.data1: case Form.ref1: case Form.flag: case Form.strx1: case Form.addrx1: c.skip(1); return;
    case Form.data2: case Form.ref2: case Form.strx2: case Form.addrx2: c.skip(2); return;
    case Form.strx3: case Form.addrx3: c.skip(3); return;
    case Form.data4: case Form.ref4: case Form.refSup4: case Form.strx4: case Form.addrx4: c.skip(4); return;
    case Form.data8: case Form.ref8: case Form.refSig8: case Form.refSup8: c.skip(8); return;
    case Form.data16: c.skip(16); return;
    case Form.addr: c.skip(unit.addressSize); return;
    case Form.refAddr: c.skip(unit.version === 2 ? unit.addressSize : unit.offsetSize); return;
    case Form.strp: case Form.lineStrp: case Form.secOffset: case Form.strpSup: case Form.gnuRefAlt: case Form.gnuStrpAlt: c.skip(unit.offsetSize); return;
    case Form.udata: case Form.refUdata: case Form.strx: case Form.addrx: case Form.loclistx: case Form.rnglistx: case Form.gnuAddrIndex: case Form.gnuStrIndex: c.uleb(); return;
    case Form.sdata: c.sleb(); return;
    case Form.string: c.cstring(); return;
    case Form.block1: c.skip(c.u8()); return;
    case Form.block2: c.skip(c.u16()); return;
    case Form.block4: c.skip(c.u32()); return;
    case Form.block: case Form.exprloc: c.skip(c.uleb()); return;
    case Form.indirect: {
      const inner = c.uleb();
      if (inner === Form.indirect || inner === Form.implicitConst) fault(`DW_FORM_indirect names form ${hex(inner)} at ${c.where()}`);
      skipForm(c, inner, unit);
      return;
    }
    default: fault(`attribute form ${hex(form)} at ${c.where()} is not one DWARF 2-5 or GNU defines`);
  }
}
