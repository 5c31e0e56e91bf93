// A guest profile built from the kernel's own files, so `vmi ps` needs nothing hand-written:
// the structure offsets from the kernel's BTF or, for a kernel built without it (Debian's
// i386 ones), from the DWARF of its -dbg package's vmlinux; init_task's address from its
// symbols. Both type readers give the same layout model (struct-layout.ts), and the profile is
// built from it one way.
//
// BTF comes from /sys/kernel/btf/vmlinux (the raw blob), a vmlinux ELF (its .BTF section, read
// alone: a vmlinux with debug information is hundreds of MiB), or a bzImage vmlinuz whose
// payload is gzip-compressed (inflated in memory, bounded, then read as a vmlinux). A vmlinuz
// compressed otherwise is refused naming the compressor — node has only zlib — with the way
// out (scripts/extract-vmlinux, or the BTF file of the running kernel).
// DWARF is read from a vmlinux ELF: its section headers, .debug_abbrev and the string sections
// whole (a few MiB), and .debug_info one unit at a time until task_struct and mm_struct are
// defined — the first few units of a kernel (dwarf.ts).
// Symbols come from System.map or a /proc/kallsyms dump: "ADDRESS TYPE NAME" lines. System.map
// gives link-time addresses; a kernel booted with KASLR moved them, and only the guest's own
// kallsyms has the address it runs at. Without them, a vmlinux's own .symtab (every -dbg
// vmlinux has one) gives init_task's link-time address.

import { closeSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { diagnostic, type Diagnostic } from '../../core/diagnostics.js';
import { openRegularFile, type InputKind } from '../../core/read-input.js';
import { readAt } from '../memory/file-reader.js';
import { btfLayout, findStruct, isBtf, parseBtf, type BtfType } from './btf.js';
import { dwarfStructLayouts } from './dwarf.js';
import { isElf, kernelElf, MAX_SECTION_READ, sectionNamed, symtabObject, type KernelElf, type ReadBytes } from './kernel-elf.js';
import type { LinuxProfile } from './linux-profile.js';
import { layoutOffset, type StructLayout } from './struct-layout.js';

/** A BTF blob, a vmlinux or a vmlinuz: read whole only up to this many bytes (a vmlinuz is ~10 MiB, BTF ~6 MiB). */
const KERNEL_KIND: InputKind = { noun: 'kernel file', maxBytes: Number.MAX_SAFE_INTEGER, unreadable: 'ProfileUnreadable' };
const MAX_BLOB = MAX_SECTION_READ;

type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly diagnostic: Diagnostic };

const invalid = (file: string, problem: string): { ok: false; diagnostic: Diagnostic } => ({ ok: false, diagnostic: diagnostic('ProfileInvalid', [file, problem]) });

/** The compressors a bzImage payload may use (arch/x86/boot/compressed), by their magic. */
const COMPRESSORS: readonly { readonly name: string; readonly magic: readonly number[] }[] = [
  { name: 'gzip', magic: [0x1f, 0x8b, 0x08] },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68] },
  { name: 'lzma', magic: [0x5d, 0x00, 0x00] },
  { name: 'lz4', magic: [0x02, 0x21, 0x4c, 0x18] },
];

/** The BTF types of a kernel file of any of the three kinds. */
export function readKernelBtf(path: string): Read<readonly (BtfType | undefined)[]> {
  const opened = openRegularFile(path, KERNEL_KIND);
  if (!opened.ok) return opened;
  try {
    const head = new Uint8Array(0x210);
    const got = readAt(opened.fd, head, 0, head.length, 0);
    const read = (offset: number, length: number): Uint8Array => {
      const out = new Uint8Array(Math.max(0, Math.min(length, opened.size - offset)));
      return out.subarray(0, readAt(opened.fd, out, 0, out.length, offset));
    };
    let blob: Read<Uint8Array>;
    if (isBtf(head)) blob = opened.size > MAX_BLOB ? invalid(path, 'a BTF file larger than 256 MiB') : { ok: true, value: read(0, opened.size) };
    else if (got >= 4 && isElf(head)) blob = btfSection(path, read, opened.size);
    else if (got >= 0x206 && String.fromCharCode(...head.subarray(0x202, 0x206)) === 'HdrS') blob = fromBzImage(path, opened.size > MAX_BLOB ? new Uint8Array(0) : read(0, opened.size));
    else blob = invalid(path, 'neither BTF (/sys/kernel/btf/vmlinux), a vmlinux ELF nor a bzImage vmlinuz');
    if (!blob.ok) return blob;
    const parsed = parseBtf(blob.value);
    return parsed.ok ? { ok: true, value: parsed.types } : invalid(path, `its BTF is unreadable: ${parsed.problem}`);
  } finally {
    closeSync(opened.fd);
  }
}

/** The .BTF section of an ELF64 or ELF32 little-endian vmlinux, read alone. */
function btfSection(file: string, read: ReadBytes, size: number): Read<Uint8Array> {
  const elf = kernelElf(read, size);
  if (!elf.ok) return invalid(file, elf.problem);
  const s = sectionNamed(elf.elf, '.BTF');
  if (!s) return invalid(file, 'this vmlinux has no .BTF section (a kernel built without CONFIG_DEBUG_INFO_BTF)');
  if (s.size > MAX_BLOB) return invalid(file, 'its .BTF section is larger than 256 MiB');
  return { ok: true, value: read(s.offset, s.size) };
}

/** The vmlinux inside a bzImage: the first compressed payload found, inflated when it is gzip. */
function fromBzImage(file: string, image: Uint8Array): Read<Uint8Array> {
  if (image.length === 0) return invalid(file, 'a vmlinuz larger than 256 MiB');
  const setupSectors = image[0x1f1] || 4;
  const payloadFrom = (setupSectors + 1) * 512;
  let first: { name: string; at: number } | undefined;
  for (const c of COMPRESSORS) {
    const at = indexOf(image, c.magic, payloadFrom);
    if (at >= 0 && (!first || at < first.at)) first = { name: c.name, at };
  }
  if (!first) return invalid(file, 'no compressed kernel found in this vmlinuz');
  if (first.name !== 'gzip') return invalid(file, `this vmlinuz is compressed with ${first.name}; vmipolicy inflates only gzip. Extract the vmlinux (the kernel's scripts/extract-vmlinux) or give /sys/kernel/btf/vmlinux of a running kernel`);
  let vmlinux: Uint8Array;
  try {
    vmlinux = gunzipSync(image.subarray(first.at), { maxOutputLength: MAX_BLOB, finishFlush: 2 });
  } catch (e) {
    return invalid(file, `its gzip payload does not inflate: ${(e as Error).message}`);
  }
  return btfSection(file, (offset, length) => vmlinux.subarray(offset, offset + length), vmlinux.length);
}

function indexOf(bytes: Uint8Array, magic: readonly number[], from: number): number {
  outer: for (let i = from; i + magic.length <= bytes.length; i++) {
    for (let k = 0; k < magic.length; k++) if (bytes[i + k] !== magic[k]) continue outer;
    return i;
  }
  return -1;
}

/** The address of `symbol` in System.map or kallsyms text, or undefined. */
export function symbolAddress(text: string, symbol: string): bigint | undefined {
  for (const line of text.split('\n')) {
    const [address, type, name] = line.trim().split(/\s+/);
    if (name === symbol && type !== undefined && /^[0-9a-fA-F]{1,16}$/.test(address ?? '')) return BigInt(`0x${address}`);
  }
  return undefined;
}

/** The structures a profile reads members of. */
const PROFILE_STRUCTS = ['task_struct', 'mm_struct'] as const;

/** What a kernel file says about itself: the layouts of the structures asked for and, from its own symbol table, init_task. */
interface KernelLayouts {
  readonly structs: ReadonlyMap<string, StructLayout>;
  /** init_task's link-time address from the vmlinux's .symtab, when it has one. */
  readonly initTask?: bigint;
  /** How much of .debug_info was read (DWARF only), and in how many units. */
  readonly debugInfo?: { readonly bytesRead: number; readonly size: number; readonly units: number };
}

/** The layouts of `wanted` from a vmlinux's DWARF, and init_task from its .symtab. */
export function readKernelDwarf(path: string, wanted: readonly string[] = PROFILE_STRUCTS): Read<KernelLayouts> {
  const opened = openRegularFile(path, KERNEL_KIND);
  if (!opened.ok) return opened;
  try {
    const read: ReadBytes = (offset, length) => {
      const out = new Uint8Array(Math.max(0, Math.min(length, opened.size - offset)));
      return out.subarray(0, readAt(opened.fd, out, 0, out.length, offset));
    };
    const parsed = kernelElf(read, opened.size);
    if (!parsed.ok) return invalid(path, parsed.problem === 'not an ELF file' ? 'not a vmlinux ELF (DWARF is read from the vmlinux of the kernel\'s -dbg package, usr/lib/debug/boot/vmlinux-RELEASE)' : parsed.problem);
    const elf = parsed.elf;
    const info = sectionNamed(elf, '.debug_info');
    const abbrev = sectionNamed(elf, '.debug_abbrev');
    if (!info || !abbrev) return invalid(path, `this vmlinux has no ${info ? '.debug_abbrev' : '.debug_info'} section (a kernel built without CONFIG_DEBUG_INFO, or stripped: take the vmlinux of its -dbg package)`);
    const whole = (name: string): Read<Uint8Array | undefined> => {
      const s = sectionNamed(elf, name);
      if (!s) return { ok: true, value: undefined };
      return s.size > MAX_BLOB ? invalid(path, `its ${name} section is larger than 256 MiB`) : { ok: true, value: read(s.offset, s.size) };
    };
    const [abbrevBytes, str, lineStr, strOffsets] = ['.debug_abbrev', '.debug_str', '.debug_line_str', '.debug_str_offsets'].map(whole) as [Read<Uint8Array | undefined>, Read<Uint8Array | undefined>, Read<Uint8Array | undefined>, Read<Uint8Array | undefined>];
    for (const r of [abbrevBytes, str, lineStr, strOffsets]) if (!r.ok) return r;
    const value = (r: Read<Uint8Array | undefined>): Uint8Array | undefined => (r.ok ? r.value : undefined);
    const layouts = dwarfStructLayouts(
      {
        info: { size: info.size, read: (offset, length) => read(info.offset + offset, Math.min(length, info.size - offset)) },
        abbrev: value(abbrevBytes) as Uint8Array,
        ...(value(str) ? { str: value(str) } : {}),
        ...(value(lineStr) ? { lineStr: value(lineStr) } : {}),
        ...(value(strOffsets) ? { strOffsets: value(strOffsets) } : {}),
      },
      wanted,
    );
    if (!layouts.ok) return invalid(path, `its DWARF is unreadable: ${layouts.problem}`);
    const initTask = ownInitTask(path, read, elf);
    if (!initTask.ok) return initTask;
    return {
      ok: true,
      value: { structs: layouts.structs, ...(initTask.value !== undefined ? { initTask: initTask.value } : {}), debugInfo: { bytesRead: layouts.infoBytesRead, size: info.size, units: layouts.units } },
    };
  } finally {
    closeSync(opened.fd);
  }
}

function ownInitTask(path: string, read: ReadBytes, elf: KernelElf): Read<bigint | undefined> {
  const found = symtabObject(read, elf, 'init_task');
  return found.ok ? { ok: true, value: found.value } : invalid(path, found.problem);
}

/** The BTF types' layouts of the profile's structures, in the model DWARF gives too. */
export function btfLayouts(types: readonly (BtfType | undefined)[]): KernelLayouts {
  const structs = new Map<string, StructLayout>();
  for (const name of PROFILE_STRUCTS) {
    const t = findStruct(types, name);
    if (t) structs.set(name, btfLayout(types, t));
  }
  return { structs };
}

/** The listing's offsets from the kernel's structures (BTF). */
export function profileFromBtf(types: readonly (BtfType | undefined)[], symbols: string, files: { readonly btf: string; readonly symbols: string }): Read<LinuxProfile> {
  return profileFromLayouts(btfLayouts(types), symbols, { types: files.btf, symbols: files.symbols });
}

/**
 * The listing's offsets from the kernel's structure layouts (from BTF or DWARF), and init_task
 * from its symbols: the System.map or kallsyms text when given, else the vmlinux's own .symtab.
 */
export function profileFromLayouts(kernel: KernelLayouts, symbols: string | undefined, files: { readonly types: string; readonly symbols?: string }): Read<LinuxProfile> {
  const task = kernel.structs.get('task_struct');
  const mm = kernel.structs.get('mm_struct');
  if (!task || !mm) return invalid(files.types, `its types define no ${task ? 'mm_struct' : 'task_struct'}: is this a Linux kernel's?`);
  const offsets: Partial<Record<'tasks' | 'pid' | 'comm' | 'mm' | 'pgd', number>> = {};
  for (const [key, struct, member] of [['tasks', task, 'tasks'], ['pid', task, 'pid'], ['comm', task, 'comm'], ['mm', task, 'mm'], ['pgd', mm, 'pgd']] as const) {
    const offset = layoutOffset(struct, member);
    if (offset === undefined) return invalid(files.types, `${struct.name} has no member ${member}`);
    offsets[key] = offset;
  }
  const initTask = symbols !== undefined ? symbolAddress(symbols, 'init_task') : kernel.initTask;
  if (initTask === undefined || initTask === 0n) {
    return symbols !== undefined
      ? invalid(files.symbols ?? files.types, 'no address for init_task (a System.map or a kallsyms dump read as root lists it)')
      : invalid(files.types, 'no init_task in its symbol table: give --symbols (the System.map or a kallsyms dump read as root)');
  }
  return { ok: true, value: { ...(offsets as Record<'tasks' | 'pid' | 'comm' | 'mm' | 'pgd', number>), initTask } };
}
