// A guest profile built from the kernel's own files, so `vmi ps` needs nothing hand-written:
// the structure offsets from the kernel's BTF, init_task's address from its symbols.
//
// BTF comes from /sys/kernel/btf/vmlinux (the raw blob), a vmlinux ELF (its .BTF section, read
// alone: a vmlinux with debug information is hundreds of MiB), or a bzImage vmlinuz whose
// payload is gzip-compressed (inflated in memory, bounded, then read as a vmlinux). A vmlinuz
// compressed otherwise is refused naming the compressor — node has only zlib — with the way
// out (scripts/extract-vmlinux, or the BTF file of the running kernel).
// Symbols come from System.map or a /proc/kallsyms dump: "ADDRESS TYPE NAME" lines. System.map
// gives link-time addresses; a kernel booted with KASLR moved them, and only the guest's own
// kallsyms has the address it runs at.

import { closeSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { diagnostic, type Diagnostic } from '../../core/diagnostics.js';
import { openRegularFile, type InputKind } from '../../core/read-input.js';
import { readAt } from '../memory/file-reader.js';
import { findStruct, isBtf, memberOffset, parseBtf, type BtfType } from './btf.js';
import type { LinuxProfile } from './linux-profile.js';

/** A BTF blob, a vmlinux or a vmlinuz: read whole only up to this many bytes (a vmlinuz is ~10 MiB, BTF ~6 MiB). */
const KERNEL_KIND: InputKind = { noun: 'kernel file', maxBytes: Number.MAX_SAFE_INTEGER, unreadable: 'ProfileUnreadable' };
const MAX_BLOB = 256 * 1024 * 1024;
/** Section headers read from a vmlinux: it has a few dozen (thousands with -ffunction-sections). */
const MAX_SECTIONS = 1 << 16;

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
    else if (got >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) blob = btfSection(path, read, opened.size);
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
function btfSection(file: string, read: (offset: number, length: number) => Uint8Array, size: number): Read<Uint8Array> {
  const h = read(0, 64);
  const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const is64 = h[4] === 2;
  if (h[5] !== 1) return invalid(file, 'a big-endian ELF file: vmipolicy reads x86 kernels');
  const shoff = is64 ? Number(v.getBigUint64(0x28, true)) : v.getUint32(0x20, true);
  const shentsize = v.getUint16(is64 ? 0x3a : 0x2e, true);
  const shnum = v.getUint16(is64 ? 0x3c : 0x30, true);
  const shstrndx = v.getUint16(is64 ? 0x3e : 0x32, true);
  if (shnum === 0 || shnum > MAX_SECTIONS || shentsize < (is64 ? 64 : 40) || shoff + shnum * shentsize > size) return invalid(file, 'its section headers do not fit in the file');
  const table = read(shoff, shnum * shentsize);
  const t = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const section = (i: number): { name: number; offset: number; size: number } => {
    const at = i * shentsize;
    return is64
      ? { name: t.getUint32(at, true), offset: Number(t.getBigUint64(at + 0x18, true)), size: Number(t.getBigUint64(at + 0x20, true)) }
      : { name: t.getUint32(at, true), offset: t.getUint32(at + 0x10, true), size: t.getUint32(at + 0x14, true) };
  };
  const names = section(shstrndx);
  if (names.offset + names.size > size || names.size > MAX_BLOB) return invalid(file, 'its section name table does not fit in the file');
  const strtab = read(names.offset, names.size);
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const end = strtab.indexOf(0, s.name);
    if (String.fromCharCode(...strtab.subarray(s.name, end < 0 ? strtab.length : end)) !== '.BTF') continue;
    if (s.offset + s.size > size || s.size > MAX_BLOB) return invalid(file, 'its .BTF section does not fit in the file');
    return { ok: true, value: read(s.offset, s.size) };
  }
  return invalid(file, 'this vmlinux has no .BTF section (a kernel built without CONFIG_DEBUG_INFO_BTF)');
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

/** The listing's offsets from the kernel's structures, and init_task from its symbols. */
export function profileFromBtf(types: readonly (BtfType | undefined)[], symbols: string, files: { readonly btf: string; readonly symbols: string }): Read<LinuxProfile> {
  const task = findStruct(types, 'task_struct');
  const mm = findStruct(types, 'mm_struct');
  if (!task || !mm) return invalid(files.btf, `its BTF has no ${task ? 'mm_struct' : 'task_struct'}: is this a Linux kernel's?`);
  const offsets: Partial<Record<'tasks' | 'pid' | 'comm' | 'mm' | 'pgd', number>> = {};
  for (const [key, struct, member] of [['tasks', task, 'tasks'], ['pid', task, 'pid'], ['comm', task, 'comm'], ['mm', task, 'mm'], ['pgd', mm, 'pgd']] as const) {
    const offset = memberOffset(types, struct, member);
    if (offset === undefined) return invalid(files.btf, `${struct.name} has no member ${member}`);
    offsets[key] = offset;
  }
  const initTask = symbolAddress(symbols, 'init_task');
  if (initTask === undefined || initTask === 0n) return invalid(files.symbols, 'no address for init_task (a System.map or a kallsyms dump read as root lists it)');
  return { ok: true, value: { ...(offsets as Record<'tasks' | 'pid' | 'comm' | 'mm' | 'pgd', number>), initTask } };
}

