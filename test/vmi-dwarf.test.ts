// `vmi profile --dwarf`: structure layouts from a vmlinux's DWARF, for the kernels without BTF
// (Debian's i386 ones). First on DWARF written here in every encoding gcc and the standard allow
// for what the reader needs — versions 4 and 5, the 32- and 64-bit formats, 4- and 8-byte
// addresses, names as strp, line_strp, strx1 or inline strings, locations as data1, udata,
// implicit_const or a DWARF 2 DW_OP_plus_uconst block, forms met through DW_FORM_indirect, a
// forward declaration before the definition, an anonymous union reached through a typedef —
// inside ELF32 and ELF64 files; and cut or changed anywhere, where it must answer VP4011 or a
// profile, never throw, in bounded time. Then on the real thing (test/support/kernel-debug.ts:
// Debian's -dbg packages of the kernels the QEMU guests boot): every member offset and the
// size of a score of kernel structs as pahole reads them from the whole vmlinux; on amd64 the
// same layouts as the kernel's own BTF (copied out of the running guest); and the profile
// `vmi profile --dwarf` makes, with init_task from the vmlinux's symbol table or the System.map.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseBtf } from '../vmi/guest/btf.js';
import { dwarfStructLayouts, type DwarfSections } from '../vmi/guest/dwarf.js';
import { btfLayouts, profileFromLayouts, readKernelDwarf } from '../vmi/guest/kernel-profile.js';
import { parseLinuxProfile } from '../vmi/guest/linux-profile.js';
import { kernelElf } from '../vmi/guest/kernel-elf.js';
import type { StructLayout } from '../vmi/guest/struct-layout.js';
import { DIFFERENTIAL_STRUCTS, kernelDebugFor, type DebugFlavour } from './support/kernel-debug.js';
import { linuxGuestFor } from './support/qemu-linux.js';
import { repoPath } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8' });

// ------------------------------------------------------------- DWARF written here

interface Encoding {
  readonly version: 4 | 5;
  readonly offsetSize: 4 | 8;
  readonly addressSize: 4 | 8;
  readonly names: 'strp' | 'string' | 'strx1' | 'line_strp';
  readonly locations: 'data1' | 'udata' | 'implicit_const' | 'block1';
  /** Member names through DW_FORM_indirect. */
  readonly indirect: boolean;
}

interface Offsets {
  readonly tasks: number;
  readonly pid: number;
  readonly comm: number;
  readonly mm: number;
  readonly pgd: number;
  /** Where mm_struct's anonymous union sits. */
  readonly anon: number;
}

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
};
const le = (n: number, size: number): number[] => Array.from({ length: size }, (_, i) => Number((BigInt(n) >> BigInt(8 * i)) & 0xffn));

/** .debug_info, .debug_abbrev and the string sections of one unit defining task_struct and mm_struct at `o`. */
function syntheticDwarf(e: Encoding, o: Offsets): { info: Uint8Array; abbrev: Uint8Array; str: Uint8Array; lineStr: Uint8Array; strOffsets: Uint8Array } {
  const str: number[] = [0];
  const lineStr: number[] = [0];
  const strx: number[] = [];
  const names = new Map<string, number>();
  const nameForm = { strp: 0x0e, string: 0x08, strx1: 0x25, line_strp: 0x1f }[e.names];
  const nameBytes = (name: string): number[] => {
    const bytes = [...new TextEncoder().encode(name), 0];
    if (e.names === 'string') return bytes;
    if (e.names === 'strx1') {
      if (!names.has(name)) {
        names.set(name, strx.length);
        strx.push(str.length);
        str.push(...bytes);
      }
      return [names.get(name) as number];
    }
    const table = e.names === 'strp' ? str : lineStr;
    const at = table.length;
    table.push(...bytes);
    return le(at, e.offsetSize);
  };
  const locForm = { data1: 0x0b, udata: 0x0f, implicit_const: 0x21, block1: 0x0a }[e.locations];
  const abbrev: number[] = [];
  const abbr = (code: number, tag: number, children: boolean, specs: [number, number, number?][]): void => {
    abbrev.push(...uleb(code), ...uleb(tag), children ? 1 : 0);
    for (const [at, form, implicit] of specs) {
      abbrev.push(...uleb(at), ...uleb(form));
      if (form === 0x21) abbrev.push(...sleb(implicit ?? 0));
    }
    abbrev.push(0, 0);
  };
  const memberName: [number, number] = [0x03, e.indirect ? 0x16 : nameForm];
  abbr(1, 0x11, true, e.names === 'strx1' ? [[0x72, 0x17], [0x25, 0x08]] : [[0x25, 0x08]]); // compile_unit: str_offsets_base, producer
  abbr(2, 0x24, false, [[0x03, nameForm], [0x0b, 0x0b], [0x3e, 0x0b]]); // base_type: name, byte_size, encoding
  abbr(3, 0x17, true, [[0x0b, 0x05]]); // anonymous union_type: byte_size data2
  abbr(4, 0x0d, false, [memberName, [0x49, 0x13]]); // union member: name, type
  abbr(5, 0x16, false, [[0x03, nameForm], [0x49, 0x13]]); // typedef
  abbr(6, 0x13, false, [[0x03, nameForm], [0x3c, 0x19]]); // declaration
  abbr(7, 0x13, true, [[0x03, nameForm], [0x0b, 0x05]]); // struct: name, byte_size
  // Members: each with its own abbreviation when the location is an implicit constant.
  const memberAbbrevs = new Map<number, number>();
  let nextCode = 8;
  const memberAbbrev = (location: number, anonymous: boolean): number => {
    const key = e.locations === 'implicit_const' ? location * 2 + (anonymous ? 1 : 0) : anonymous ? 1 : 0;
    let code = memberAbbrevs.get(key);
    if (code === undefined) {
      code = nextCode++;
      memberAbbrevs.set(key, code);
      abbr(code, 0x0d, false, [...(anonymous ? [] : [memberName]), [0x49, 0x13], [0x38, locForm, location]]);
    }
    return code;
  };
  // A bitfield of 3 bits starting 5 bits into the byte at `tasks`: DWARF 5 says so with
  // DW_AT_data_bit_offset, DWARF 4 with a 4-byte storage unit and DW_AT_bit_offset from its top.
  const bitfieldCode = nextCode++;
  abbr(bitfieldCode, 0x0d, false, e.version === 5 ? [memberName, [0x49, 0x13], [0x0d, 0x0b], [0x6b, 0x0f]] : [memberName, [0x49, 0x13], [0x0b, 0x0b], [0x0d, 0x0b], [0x0c, 0x0b], [0x38, 0x0f]]);
  const body: number[] = [];
  const unitHeader = e.version === 5 ? 2 + 1 + 1 + e.offsetSize : 2 + e.offsetSize + 1;
  const lengthField = e.offsetSize === 8 ? 12 : 4;
  const here = (): number => lengthField + unitHeader + body.length;
  const name = (n: string): number[] => (e.indirect ? [...uleb(nameForm), ...nameBytes(n)] : nameBytes(n));
  const plainName = (n: string): number[] => nameBytes(n);
  const location = (v: number): number[] => ({ data1: [v], udata: uleb(v), implicit_const: [], block1: [1 + uleb(v).length, 0x23, ...uleb(v)] })[e.locations];
  body.push(1, ...(e.names === 'strx1' ? le(e.offsetSize === 8 ? 16 : 8, e.offsetSize) : []), ...new TextEncoder().encode('GNU C11 test'), 0);
  const int = here();
  body.push(2, ...plainName('int'), 4, 5);
  const union = here();
  body.push(3, ...le(8, 2));
  body.push(4, ...name('pgd'), ...le(int, 4));
  body.push(4, ...name('pgd_alias'), ...le(int, 4));
  body.push(0);
  const typedef = here();
  body.push(5, ...plainName('anon_t'), ...le(union, 4));
  body.push(6, ...plainName('task_struct'));
  for (const [struct, members] of [
    ['mm_struct', [['', o.anon, typedef], ['mmap_base', 0, int]]],
    ['task_struct', [['tasks', o.tasks, int], ['pid', o.pid, int], ['comm', o.comm, int], ['mm', o.mm, int]]],
  ] as const) {
    body.push(7, ...plainName(struct), ...le(0x2000, 2));
    for (const [n, at, type] of members) {
      body.push(...uleb(memberAbbrev(at, n === '')), ...(n === '' ? [] : name(n)), ...le(type, 4), ...location(at));
    }
    if (struct === 'task_struct') {
      body.push(...uleb(bitfieldCode), ...name('bits'), ...le(int, 4));
      body.push(...(e.version === 5 ? [3, ...uleb(o.tasks * 8 + 5)] : [4, 3, 32 - 5 - 3, ...uleb(o.tasks)]));
    }
    body.push(0);
  }
  body.push(0);
  abbrev.push(0);
  const header = e.version === 5 ? [...le(5, 2), 1, e.addressSize, ...le(0, e.offsetSize)] : [...le(4, 2), ...le(0, e.offsetSize), e.addressSize];
  const length = header.length + body.length;
  const info = [...(e.offsetSize === 8 ? [0xff, 0xff, 0xff, 0xff, ...le(length, 8)] : le(length, 4)), ...header, ...body];
  const strOffsets = [...le(e.offsetSize === 8 ? 0xffffffff : 0, 4), ...(e.offsetSize === 8 ? le(0, 8) : []), ...le(5, 2), 0, 0].slice(0, e.offsetSize === 8 ? 16 : 8);
  for (const s of strx) strOffsets.push(...le(s, e.offsetSize));
  return { info: Uint8Array.from(info), abbrev: Uint8Array.from(abbrev), str: Uint8Array.from(str), lineStr: Uint8Array.from(lineStr), strOffsets: Uint8Array.from(strOffsets) };
}

const sectionsOf = (d: ReturnType<typeof syntheticDwarf>): DwarfSections => ({
  info: { size: d.info.length, read: (offset, length) => d.info.subarray(offset, offset + length) },
  abbrev: d.abbrev,
  str: d.str,
  lineStr: d.lineStr,
  strOffsets: d.strOffsets,
});

/** An ELF (class by `is64`, EM_386 or EM_X86_64) holding the sections, and a .symtab with init_task. */
function elfWith(is64: boolean, d: ReturnType<typeof syntheticDwarf>, initTask: bigint): Uint8Array {
  const strtab = new TextEncoder().encode('\0init_task\0');
  const sym = new Uint8Array(is64 ? 48 : 32);
  const sv = new DataView(sym.buffer);
  const entry = is64 ? 24 : 16;
  sv.setUint32(entry, 1, true);
  if (is64) {
    sym[entry + 4] = 0x11; // STB_GLOBAL, STT_OBJECT
    sv.setBigUint64(entry + 8, initTask, true);
  } else {
    sv.setUint32(entry + 4, Number(initTask), true);
    sym[entry + 12] = 0x11;
  }
  const sections: [string, number, Uint8Array][] = [
    ['.debug_info', 1, d.info], ['.debug_abbrev', 1, d.abbrev], ['.debug_str', 1, d.str], ['.debug_line_str', 1, d.lineStr], ['.debug_str_offsets', 1, d.strOffsets],
    ['.symtab', 2, sym], ['.strtab', 3, strtab],
  ];
  let shstr = '\0';
  const nameAt: number[] = [];
  for (const [n] of sections) {
    nameAt.push(shstr.length);
    shstr += n + '\0';
  }
  const shstrAt = shstr.length;
  shstr += '.shstrtab\0';
  const all: [number, number, Uint8Array][] = [...sections.map(([, type, bytes], i) => [nameAt[i] as number, type, bytes] as [number, number, Uint8Array]), [shstrAt, 3, new TextEncoder().encode(shstr)]];
  const ehsize = is64 ? 64 : 52;
  const shentsize = is64 ? 64 : 40;
  let at = ehsize;
  const offsets = all.map(([, , b]) => {
    const o = at;
    at += b.length;
    return o;
  });
  const shoff = at;
  const out = new Uint8Array(shoff + (all.length + 1) * shentsize);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  v.setUint16(16, 2, true);
  v.setUint16(18, is64 ? 62 : 3, true);
  if (is64) {
    v.setBigUint64(0x28, BigInt(shoff), true);
    v.setUint16(0x3a, shentsize, true);
    v.setUint16(0x3c, all.length + 1, true);
    v.setUint16(0x3e, all.length, true);
  } else {
    v.setUint32(0x20, shoff, true);
    v.setUint16(0x2e, shentsize, true);
    v.setUint16(0x30, all.length + 1, true);
    v.setUint16(0x32, all.length, true);
  }
  all.forEach(([name, type, bytes], i) => {
    out.set(bytes, offsets[i] as number);
    const h = shoff + (i + 1) * shentsize;
    v.setUint32(h, name, true);
    v.setUint32(h + 4, type, true);
    if (is64) {
      v.setBigUint64(h + 0x18, BigInt(offsets[i] as number), true);
      v.setBigUint64(h + 0x20, BigInt(bytes.length), true);
      if (type === 2) v.setUint32(h + 0x28, 7, true);
    } else {
      v.setUint32(h + 0x10, offsets[i] as number, true);
      v.setUint32(h + 0x14, bytes.length, true);
      if (type === 2) v.setUint32(h + 0x18, 7, true);
    }
  });
  return out;
}

const encodings = fc.record({
  version: fc.constantFrom(4 as const, 5 as const),
  offsetSize: fc.constantFrom(4 as const, 8 as const),
  addressSize: fc.constantFrom(4 as const, 8 as const),
  names: fc.constantFrom('strp' as const, 'string' as const, 'strx1' as const, 'line_strp' as const),
  locations: fc.constantFrom('data1' as const, 'udata' as const, 'implicit_const' as const, 'block1' as const),
  indirect: fc.boolean(),
});
// data1 holds offsets below 256; the others any.
const offsetsFor = (e: Encoding): fc.Arbitrary<Offsets> => {
  const max = e.locations === 'data1' ? 255 : 0x1fff;
  return fc.record({ tasks: fc.nat(max), pid: fc.nat(max), comm: fc.nat(max), mm: fc.nat(max), pgd: fc.nat(7), anon: fc.nat(max - 8) });
};

describe('DWARF written here', () => {
  it('a struct whose anonymous members are itself, over and over: a bounded layout, in DWARF and BTF alike', () => {
    // One unit: the CU, then `struct task_struct` (byte_size 8) with 40 unnamed members whose type is that struct.
    const abbrev = Uint8Array.from([1, 0x11, 1, 0, 0, 2, 0x13, 1, 0x03, 0x08, 0x0b, 0x0b, 0, 0, 3, 0x0d, 0, 0x49, 0x13, 0x38, 0x0b, 0, 0, 0]);
    const header = 4 + 2 + 1 + 1 + 4;
    const structAt = header + 1;
    const body = [1, 2, ...new TextEncoder().encode('task_struct'), 0, 8, ...Array.from({ length: 40 }, () => [3, ...le(structAt, 4), 0]).flat(), 0, 0];
    const info = Uint8Array.from([...le(header - 4 + body.length, 4), ...le(5, 2), 1, 4, ...le(0, 4), ...body]);
    const started = Date.now();
    const r = dwarfStructLayouts({ info: { size: info.length, read: (o, n) => info.subarray(o, o + n) }, abbrev }, ['task_struct']);
    assert.ok(r.ok, r.ok ? '' : r.problem);
    assert.equal(r.structs.get('task_struct')?.members.length, 40);
    const types = [undefined, { kind: 4, name: 'task_struct', size: 8, members: Array.from({ length: 40 }, () => ({ name: '', type: 1, bitOffset: 0 })) }];
    assert.equal(btfLayouts(types).structs.get('task_struct')?.members.length, 40);
    assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
  });

  it('every encoding gives the layouts it encodes, and the profile from them', () => {
    fc.assert(
      fc.property(encodings.chain((e) => fc.tuple(fc.constant(e), offsetsFor(e))), ([e, o]) => {
        const d = syntheticDwarf(e, { ...o, pgd: 0 });
        const r = dwarfStructLayouts(sectionsOf(d), ['task_struct', 'mm_struct']);
        assert.ok(r.ok, r.ok ? '' : r.problem);
        const p = profileFromLayouts({ structs: r.structs }, 'c1c694c0 D init_task\n', { types: 'vmlinux', symbols: 'System.map' });
        assert.ok(p.ok, p.ok ? '' : p.diagnostic.message);
        assert.deepEqual(p.value, { tasks: o.tasks, pid: o.pid, comm: o.comm, mm: o.mm, pgd: o.anon, initTask: 0xc1c694c0n });
        assert.equal(r.structs.get('mm_struct')?.members[0]?.embedded?.members.map((m) => m.name).join(), 'pgd,pgd_alias', 'the anonymous union through its typedef');
        assert.equal(r.units, 1);
        assert.equal(r.structs.get('task_struct')?.members.find((m) => m.name === 'bits')?.bitOffset, o.tasks * 8 + 5, 'the bitfield\'s first bit');
      }),
      { numRuns: 300 },
    );
  });

  it('a vmlinux ELF32 or ELF64: vmi profile --dwarf takes init_task from its .symtab, or from --symbols', () => {
    withTempDir((dir) => {
      for (const is64 of [false, true]) {
        const e: Encoding = { version: 5, offsetSize: 4, addressSize: is64 ? 8 : 4, names: 'strp', locations: 'data1', indirect: false };
        const o = { tasks: 0xc8, pid: 0x54, comm: 0x84, mm: 0xf0, pgd: 0, anon: 0x1c };
        const file = join(dir, `vmlinux${is64 ? 64 : 32}`);
        const initTask = is64 ? 0xffffffff82a12940n : 0xc1c694c0n;
        writeFileSync(file, elfWith(is64, syntheticDwarf(e, o), initTask));
        const made = cli(['vmi', 'profile', '--dwarf', file]);
        assert.equal(made.status, 0, made.stderr);
        const parsed = parseLinuxProfile(made.stdout, 'p');
        assert.ok(parsed.ok);
        assert.deepEqual(parsed.profile, { tasks: 0xc8, pid: 0x54, comm: 0x84, mm: 0xf0, pgd: 0x1c, initTask });
        writeFileSync(join(dir, 'map'), 'c0000000 T _text\nc2000000 D init_task\n');
        const withMap = cli(['vmi', 'profile', '--dwarf', file, '--symbols', join(dir, 'map')]);
        assert.match(withMap.stdout, /"init_task": "0xc2000000"/);
      }
      const e: Encoding = { version: 4, offsetSize: 8, addressSize: 8, names: 'string', locations: 'block1', indirect: false };
      writeFileSync(join(dir, 'no-init-task'), elfWith(true, syntheticDwarf(e, { tasks: 1, pid: 2, comm: 3, mm: 4, pgd: 0, anon: 5 }), 0n));
      const noInitTask = cli(['vmi', 'profile', '--dwarf', join(dir, 'no-init-task')]);
      assert.equal(noInitTask.status, 2);
      assert.match(noInitTask.stderr, /VP4011 .*no-init-task: no init_task in its symbol table: give --symbols/);
      const both = cli(['vmi', 'profile', '--dwarf', 'a', '--btf', 'b']);
      assert.equal(both.status, 2);
      writeFileSync(join(dir, 'not-elf'), 'hello');
      const notElf = cli(['vmi', 'profile', '--dwarf', join(dir, 'not-elf')]);
      assert.equal(notElf.status, 2);
      assert.match(notElf.stderr, /VP4011 .*not-elf: not a vmlinux ELF/);
    });
  });

  it('a section name table of 512 KiB without a NUL, or of 2 MiB: VP4011 or layouts, never a throw', () => {
    const e: Encoding = { version: 5, offsetSize: 4, addressSize: 4, names: 'strp', locations: 'data1', indirect: false };
    const elf = elfWith(false, syntheticDwarf(e, { tasks: 0xc8, pid: 0x54, comm: 0x84, mm: 0xf0, pgd: 0, anon: 0x1c }), 0xc1c694c0n);
    withTempDir((dir) => {
      for (const size of [512 << 10, 2 << 20]) {
        // The last section header is .shstrtab's: point it at a block of 'A's appended to the file.
        const out = new Uint8Array(elf.length + size).fill(0x41);
        out.set(elf);
        const v = new DataView(out.buffer);
        const shoff = v.getUint32(0x20, true);
        const last = shoff + (v.getUint16(0x30, true) - 1) * 40;
        v.setUint32(last + 0x10, elf.length, true);
        v.setUint32(last + 0x14, size, true);
        writeFileSync(join(dir, 'vmlinux'), out);
        const r = readKernelDwarf(join(dir, 'vmlinux'));
        assert.ok(!r.ok && r.diagnostic.code === 'VP4011', r.ok ? 'read' : r.diagnostic.message);
      }
    });
  });

  it('any cut or changed bytes of the DWARF or of the ELF around it: VP4011 or layouts, never a throw, in bounded time', () => {
    const e: Encoding = { version: 5, offsetSize: 4, addressSize: 4, names: 'strp', locations: 'data1', indirect: true };
    const d = syntheticDwarf(e, { tasks: 0xc8, pid: 0x54, comm: 0x84, mm: 0xf0, pgd: 0, anon: 0x1c });
    const which = fc.constantFrom('info' as const, 'abbrev' as const, 'str' as const);
    fc.assert(
      fc.property(which, fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (section, cut, flips) => {
        const bytes = d[section].slice(0, 1 + (cut % d[section].length));
        for (const [at, b] of flips) bytes[at % bytes.length] = b;
        const started = Date.now();
        const r = dwarfStructLayouts(sectionsOf({ ...d, [section]: bytes }), ['task_struct', 'mm_struct']);
        assert.ok(Date.now() - started < 1000);
        if (!r.ok) assert.match(r.problem, /offset 0x[0-9a-f]+|version|address size|form/);
      }),
      { numRuns: 1500 },
    );
    withTempDir((dir) => {
      const elf = elfWith(false, d, 0xc1c694c0n);
      const file = join(dir, 'vmlinux');
      fc.assert(
        fc.property(fc.nat(elf.length), fc.array(fc.tuple(fc.nat(elf.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }), (cut, flips) => {
          const bytes = elf.slice(0, Math.max(cut, 1));
          for (const [at, b] of flips) if (at < bytes.length) bytes[at] = b;
          writeFileSync(file, bytes);
          const r = readKernelDwarf(file);
          if (!r.ok) assert.equal(r.diagnostic.code, 'VP4011');
        }),
        { numRuns: 400 },
      );
    });
  });
});

// ------------------------------------------------------------- Debian's kernels

/** pahole's listing as (member → byte offset), top level and through anonymous structs and unions; bitfields apart; and the size. */
function paholeLayout(listing: string): { size: number; members: Map<string, number>; bitfields: Set<string> } {
  const members = new Map<string, number>();
  const bitfields = new Set<string>();
  const open: Map<string, number>[] = [];
  for (const raw of listing.split('\n')) {
    const line = raw.replace(/\s*__attribute__\(\(__aligned__\(\d+\)\)\)/g, '').trim();
    if (/^(struct|union)\b.*\{$/.test(line)) {
      open.push(new Map());
      continue;
    }
    if (line.startsWith('}')) {
      const inner = open.pop();
      // An inline type's members belong to it when the member is named (`} name; /* offset size */`,
      // itself a member of the enclosing struct), to the enclosing struct when it is anonymous.
      const named = /^\}\s*([A-Za-z_]\w*)(?:\[\d*\])*;\s+\/\*\s+(\d+)\s+\d+\s+\*\/$/.exec(line);
      const parent = open.length > 0 ? open[open.length - 1]! : members;
      if (named) parent.set(named[1]!, Number(named[2]));
      else if (inner) for (const [n, o] of inner) parent.set(n, o);
      continue;
    }
    const bit = /([A-Za-z_]\w*):\d+;\s+\/\*/.exec(line);
    if (bit) {
      bitfields.add(bit[1]!);
      continue;
    }
    const m = /(?:\(\*\s*([A-Za-z_]\w*)\)\(.*\)|([A-Za-z_]\w*)(?:\[\d*\])*);\s+\/\*\s+(\d+)\s+\d+\s+\*\/$/.exec(line);
    if (m && open.length > 0) open[open.length - 1]!.set((m[1] ?? m[2])!, Number(m[3]));
  }
  const size = Number(/\/\* size: (\d+),/.exec(listing)?.[1]);
  return { size, members, bitfields };
}

/** Every member reachable by name (through anonymous members), as byte offsets; bit offsets for those not on a byte. */
function flatten(layout: StructLayout, base = 0, out = new Map<string, number>()): Map<string, number> {
  for (const m of layout.members) {
    if (m.name === '' && m.embedded) flatten(m.embedded, base + m.bitOffset, out);
    else if (m.name !== '' && !out.has(m.name)) out.set(m.name, base + m.bitOffset);
  }
  return out;
}

const DEBUG_FLAVOURS: readonly DebugFlavour[] = ['686-pae', '686', 'amd64'];

describe('Debian kernels\' DWARF against pahole', () => {
  for (const flavour of DEBUG_FLAVOURS) {
    it(`${flavour}: every member offset and size of ${DIFFERENTIAL_STRUCTS.length} structs as pahole reads the whole vmlinux`, (t) => {
      const dbg = kernelDebugFor(t, flavour);
      if (!dbg) return;
      const started = Date.now();
      const read = readKernelDwarf(dbg.vmlinux, DIFFERENTIAL_STRUCTS);
      const ms = Date.now() - started;
      assert.ok(read.ok, read.ok ? '' : read.diagnostic.message);
      let compared = 0;
      for (const name of DIFFERENTIAL_STRUCTS) {
        const ours = read.value.structs.get(name);
        assert.ok(ours, `no struct ${name}`);
        const theirs = paholeLayout(dbg.pahole[name]!);
        assert.equal(ours.size, theirs.size, `sizeof(struct ${name})`);
        const flat = flatten(ours);
        const bytes = new Map([...flat].filter(([n, bits]) => !theirs.bitfields.has(n) && bits % 8 === 0).map(([n, bits]) => [n, bits / 8]));
        assert.ok(theirs.members.size > 0, `pahole listed no member of ${name}`);
        assert.deepEqual(Object.fromEntries([...bytes].sort()), Object.fromEntries([...theirs.members].sort()), `struct ${name}`);
        compared += theirs.members.size;
      }
      const s = dbg.slice;
      console.log(
        `# ${dbg.package} ${dbg.version}: ${compared} member offsets and ${DIFFERENTIAL_STRUCTS.length} sizes as pahole's, read in ${ms} ms from ${s.units} units (${s.debugInfoKept} of .debug_info's ${s.debugInfoBytes} bytes; slice ${s.sliceBytes} of the vmlinux's ${s.vmlinuxBytes} bytes; download ${dbg.timings.downloadMs} ms, unpack ${dbg.timings.unpackMs} ms, slice and pahole ${dbg.timings.sliceMs} ms when built)`,
      );
    });
  }

  it('686-pae: the real units before task_struct, cut and changed at random: VP4011-style faults or layouts, never a throw, in bounded time', (t) => {
    const dbg = kernelDebugFor(t, '686-pae');
    if (!dbg) return;
    const file = readFileSync(dbg.vmlinux);
    const read = (offset: number, length: number): Uint8Array => file.subarray(offset, offset + length);
    const elf = kernelElf(read, file.length);
    assert.ok(elf.ok);
    const section = (name: string): Uint8Array => {
      const s = elf.elf.sections.find((x) => x.name === name);
      assert.ok(s, name);
      return read(s.offset, s.size);
    };
    const whole = readKernelDwarf(dbg.vmlinux);
    assert.ok(whole.ok);
    // The units read to find task_struct and mm_struct: gcc 12's DWARF 5, every form it uses.
    const info = section('.debug_info').slice(0, whole.value.debugInfo!.bytesRead);
    const abbrev = section('.debug_abbrev');
    const str = section('.debug_str');
    const lineStr = section('.debug_line_str');
    fc.assert(
      fc.property(fc.nat(info.length - 1), fc.array(fc.tuple(fc.nat(info.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), (cut, flips) => {
        const bytes = info.slice(0, cut + 1);
        for (const [at, b] of flips) if (at < bytes.length) bytes[at] = b;
        const started = Date.now();
        const r = dwarfStructLayouts({ info: { size: bytes.length, read: (o, n) => bytes.subarray(o, o + n) }, abbrev, str, lineStr }, ['task_struct', 'mm_struct']);
        assert.ok(Date.now() - started < 2000);
        if (!r.ok) assert.match(r.problem, /offset 0x[0-9a-f]+|version|address size|form/);
      }),
      { numRuns: 500 },
    );
  });

  it('amd64: task_struct and mm_struct from DWARF are what the kernel\'s own BTF says, member by member', (t) => {
    const dbg = kernelDebugFor(t, 'amd64');
    if (!dbg) return;
    const guest = linuxGuestFor(t, 'amd64');
    if (!guest?.btf) return;
    const btf = parseBtf(readFileSync(guest.btf));
    assert.ok(btf.ok);
    const fromBtf = btfLayouts(btf.types).structs;
    const fromDwarf = readKernelDwarf(dbg.vmlinux);
    assert.ok(fromDwarf.ok);
    for (const name of ['task_struct', 'mm_struct']) {
      const a = fromDwarf.value.structs.get(name);
      const b = fromBtf.get(name);
      assert.ok(a && b);
      assert.equal(a.size, b.size, name);
      assert.deepEqual(Object.fromEntries(flatten(a)), Object.fromEntries(flatten(b)), name);
    }
  });

  for (const flavour of DEBUG_FLAVOURS) {
    it(`${flavour}: vmi profile --dwarf gives the same profile from the vmlinux's own .symtab as with its System.map`, (t) => {
      const dbg = kernelDebugFor(t, flavour);
      if (!dbg) return;
      const own = cli(['vmi', 'profile', '--dwarf', dbg.vmlinux]);
      assert.equal(own.status, 0, own.stderr);
      const withMap = cli(['vmi', 'profile', '--dwarf', dbg.vmlinux, '--symbols', dbg.systemMap]);
      assert.equal(withMap.status, 0, withMap.stderr);
      assert.equal(own.stdout, withMap.stdout);
      const initTask = /^([0-9a-f]+) D init_task$/m.exec(readFileSync(dbg.systemMap, 'utf8'))?.[1];
      assert.match(own.stdout, new RegExp(`"init_task": "0x${initTask}"`));
    });
  }
});
