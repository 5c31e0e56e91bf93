// The section headers and symbol table of a vmlinux (ELF32 for i386, ELF64 for x86-64, both
// little-endian), read through positioned reads so a vmlinux with debug information —
// hundreds of MiB — is never read whole. The layout is the System V gABI's: Elf32_Shdr /
// Elf64_Shdr at e_shoff, names in the e_shstrndx section; .symtab entries Elf32_Sym (16 bytes:
// name, value, size, info, other, shndx) or Elf64_Sym (24: name, info, other, shndx, value,
// size), names in the section its sh_link names. Every offset and size is checked against the
// file before it is read.

export type ReadBytes = (offset: number, length: number) => Uint8Array;

interface ElfSection {
  readonly name: string;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly entsize: number;
}

export interface KernelElf {
  readonly is64: boolean;
  readonly sections: readonly ElfSection[];
}

/** A vmlinux has a few dozen sections (thousands with -ffunction-sections). */
const MAX_SECTIONS = 1 << 16;
/** The largest section read whole (a symbol table or string table: a few MiB in a kernel). */
export const MAX_SECTION_READ = 256 * 1024 * 1024;
/** The section name table: a vmlinux's holds ~70 names in ~600 bytes. */
const MAX_NAME_TABLE = 1 << 20;
/** A section name longer than this is no name a linker wrote (and is cut, not spread whole onto the stack). */
const MAX_NAME = 256;
const SHT_NOBITS = 8;
const SHT_SYMTAB = 2;
const STT_OBJECT = 1;

export function isElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/** The sections of the ELF file `read` gives (`size` bytes), or what is wrong with its headers. */
export function kernelElf(read: ReadBytes, size: number): { readonly ok: true; readonly elf: KernelElf } | { readonly ok: false; readonly problem: string } {
  const h = read(0, 64);
  if (!isElf(h) || h.length < 52) return { ok: false, problem: 'not an ELF file' };
  if (h[4] !== 1 && h[4] !== 2) return { ok: false, problem: `ELF class ${h[4]} is neither ELF32 nor ELF64` };
  if (h[5] !== 1) return { ok: false, problem: 'a big-endian ELF file: vmipolicy reads x86 kernels' };
  const is64 = h[4] === 2;
  if (is64 && h.length < 64) return { ok: false, problem: 'its ELF64 header is cut off' };
  const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const shoff = is64 ? Number(v.getBigUint64(0x28, true)) : v.getUint32(0x20, true);
  const shentsize = v.getUint16(is64 ? 0x3a : 0x2e, true);
  const shnum = v.getUint16(is64 ? 0x3c : 0x30, true);
  const shstrndx = v.getUint16(is64 ? 0x3e : 0x32, true);
  if (shnum === 0 || shnum > MAX_SECTIONS || shentsize < (is64 ? 64 : 40) || shoff + shnum * shentsize > size) return { ok: false, problem: 'its section headers do not fit in the file' };
  const table = read(shoff, shnum * shentsize);
  if (table.length < shnum * shentsize) return { ok: false, problem: 'its section headers are cut off' };
  const t = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const raw = (i: number): Omit<ElfSection, 'name'> & { nameOff: number } => {
    const at = i * shentsize;
    return is64
      ? { nameOff: t.getUint32(at, true), type: t.getUint32(at + 4, true), offset: Number(t.getBigUint64(at + 0x18, true)), size: Number(t.getBigUint64(at + 0x20, true)), link: t.getUint32(at + 0x28, true), entsize: Number(t.getBigUint64(at + 0x38, true)) }
      : { nameOff: t.getUint32(at, true), type: t.getUint32(at + 4, true), offset: t.getUint32(at + 0x10, true), size: t.getUint32(at + 0x14, true), link: t.getUint32(at + 0x18, true), entsize: t.getUint32(at + 0x24, true) };
  };
  if (shstrndx >= shnum) return { ok: false, problem: `its section name table index ${shstrndx} is not one of its ${shnum} sections` };
  const names = raw(shstrndx);
  if (names.offset + names.size > size) return { ok: false, problem: 'its section name table does not fit in the file' };
  if (names.size > MAX_NAME_TABLE) return { ok: false, problem: `its section name table is ${names.size} bytes; a vmlinux's is a few hundred` };
  const strtab = read(names.offset, names.size);
  const sections: ElfSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const { nameOff, ...s } = raw(i);
    const end = strtab.indexOf(0, nameOff);
    const name = nameOff < strtab.length ? String.fromCharCode(...strtab.subarray(nameOff, Math.min(end < 0 ? strtab.length : end, nameOff + MAX_NAME))) : '';
    // A NOBITS section (.bss) occupies no file bytes: its offset and size say nothing to check.
    if (s.type !== SHT_NOBITS && s.offset + s.size > size) return { ok: false, problem: `its section ${name || i} (${s.size} bytes at ${s.offset}) does not fit in the file's ${size} bytes` };
    sections.push({ name, ...s });
  }
  return { ok: true, elf: { is64, sections } };
}

export function sectionNamed(elf: KernelElf, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name && s.type !== SHT_NOBITS);
}

/**
 * The value of the data object `symbol` in the ELF's .symtab (a vmlinux linked with its
 * symbols, as every -dbg package's is), undefined when there is no .symtab or no such object,
 * or what is wrong with the table.
 */
export function symtabObject(read: ReadBytes, elf: KernelElf, symbol: string): { readonly ok: true; readonly value: bigint | undefined } | { readonly ok: false; readonly problem: string } {
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return { ok: true, value: undefined };
  const strings = elf.sections[symtab.link];
  const entry = elf.is64 ? 24 : 16;
  if (!strings || strings.type === SHT_NOBITS) return { ok: false, problem: `its .symtab names string table ${symtab.link}, which it does not have` };
  if (symtab.size > MAX_SECTION_READ || strings.size > MAX_SECTION_READ) return { ok: false, problem: 'its symbol table is larger than 256 MiB' };
  const table = read(symtab.offset, symtab.size - (symtab.size % entry));
  const names = read(strings.offset, strings.size);
  const wanted = new TextEncoder().encode(symbol + '\0');
  const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
  for (let at = 0; at + entry <= table.length; at += entry) {
    const nameOff = v.getUint32(at, true);
    const info = table[at + (elf.is64 ? 4 : 12)] as number;
    if ((info & 0xf) !== STT_OBJECT || nameOff + wanted.length > names.length) continue;
    let same = true;
    for (let k = 0; k < wanted.length && same; k++) same = names[nameOff + k] === wanted[k];
    if (same) return { ok: true, value: elf.is64 ? v.getBigUint64(at + 8, true) : BigInt(v.getUint32(at + 4, true)) };
  }
  return { ok: true, value: undefined };
}
