// Test equipment: the DWARF of the very kernel build the QEMU guests boot (qemu-linux.ts), from
// Debian's linux-image-<release>-<flavour>-dbg package, for `vmi profile --dwarf` and its
// differential test against pahole. Debian's i386 kernels have no BTF, so this is where their
// profile comes from.
//
// The package is big (768 MB for 686-pae, 859 MB for amd64; apt-get download took 7-13 s here,
// at ~150 MB/s) and its vmlinux bigger once unpacked (317 MB for 686-pae, 633 MB for amd64);
// a cold build of the three flavours' material takes ~70 s in all. So the cache keeps
// neither. What it keeps, per package version: a *slice* of the vmlinux — an ELF of the same
// class and machine holding, byte for byte, the vmlinux's .debug_abbrev, .debug_str,
// .debug_line_str (and .debug_str_offsets where there is one), .symtab and .strtab, and the
// first units of .debug_info, through the one where the last of DIFFERENTIAL_STRUCTS is
// defined (units are self-contained: their references are unit-relative, so a prefix of whole
// units is valid DWARF) — ~25 MB; the package's real System.map (the linux-image package ships
// an 83-byte stub naming the -dbg package); and pahole's listing of each DIFFERENTIAL_STRUCT
// read from the *whole* vmlinux. The build checks that pahole lists every one of those structs
// the same from the slice as from the whole vmlinux, so what the tests read is what the whole
// vmlinux says. Only the vmlinux and System.map are unpacked: `dpkg-deb --fsys-tarfile | tar
// --occurrence` stops reading the package's xz stream once both are out (they come first in
// the archive), 5-9 s instead of ~29 s for the whole stream.
//
// Where the slice is cut comes from our own reader (how far it read to find the structs); the
// pahole comparison above is what makes that safe to trust.

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { readKernelDwarf } from '../../vmi/guest/kernel-profile.js';
import { kernelElf, type ReadBytes } from '../../vmi/guest/kernel-elf.js';
import { readAt } from '../../vmi/memory/file-reader.js';
import { publishEntry, readEntry } from './cache-entry.js';
import { hasCommand, requires } from './env.js';
import { linuxKernelPackage } from './qemu-linux.js';

/** Structs whose layouts the differential test compares with pahole: the profile's two and the ones around a process. */
export const DIFFERENTIAL_STRUCTS = [
  'task_struct', 'mm_struct', 'list_head', 'cred', 'files_struct', 'fs_struct', 'signal_struct', 'sighand_struct', 'vm_area_struct',
  'nsproxy', 'pid', 'inode', 'dentry', 'file', 'super_block', 'sched_entity', 'thread_struct', 'kobject', 'page',
] as const;

/** The flavours with a -dbg package of their own (amd64-la57 boots amd64's kernel). */
export type DebugFlavour = 'amd64' | '686-pae' | '686';

export interface KernelDebug {
  readonly flavour: DebugFlavour;
  /** linux-image-<release>-<flavour>-dbg */
  readonly package: string;
  readonly version: string;
  readonly release: string;
  /** The slice of the package's vmlinux (see the top of this file). */
  readonly vmlinux: string;
  /** The package's usr/lib/debug/boot/System.map-<release>. */
  readonly systemMap: string;
  /** `pahole -C NAME` of the whole vmlinux, for each of DIFFERENTIAL_STRUCTS. */
  readonly pahole: Readonly<Record<string, string>>;
  /** What the slice keeps of the vmlinux. */
  readonly slice: { readonly vmlinuxBytes: number; readonly sliceBytes: number; readonly debugInfoBytes: number; readonly debugInfoKept: number; readonly units: number };
  readonly timings: { readonly downloadMs: number; readonly unpackMs: number; readonly sliceMs: number };
}

type Outcome = Omit<KernelDebug, 'vmlinux' | 'systemMap'>;

const SLICE = 'vmlinux-slice';
const SYSTEM_MAP = 'System.map';
/** Sections the slice keeps whole; .debug_info is cut. */
const KEPT = ['.debug_abbrev', '.debug_str', '.debug_line_str', '.debug_str_offsets', '.symtab', '.strtab'];

function run(cmd: string, args: readonly string[], options: { cwd?: string; timeout?: number } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, killSignal: 'SIGKILL', ...options });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? r.status ?? r.signal}):\n${r.stderr}`.slice(-4000));
  return r.stdout;
}

const safeName = (s: string): string => s.replace(/[^A-Za-z0-9.+-]/g, '_');

/**
 * The flavour's -dbg material, built into the QEMU harness's cache on first use; undefined when
 * the test was skipped (the reason printed): no apt/dpkg-deb/pahole (a failure in CI), or apt
 * knows no kernel for the flavour.
 */
export function kernelDebugFor(t: TestContext, flavour: DebugFlavour): KernelDebug | undefined {
  if (!requires(t, { commands: ['dpkg-deb', 'pahole'] })) return undefined;
  const pkg = linuxKernelPackage(flavour);
  if ('skip' in pkg) {
    console.log(`# skipped ${t.name}: ${pkg.skip}`);
    t.skip(pkg.skip);
    return undefined;
  }
  const dbg = `${pkg.kernel}-dbg`;
  const hash = createHash('sha256').update(JSON.stringify({ DIFFERENTIAL_STRUCTS, KEPT })).digest('hex').slice(0, 12);
  const entry = join(pkg.cacheDir, `dbg-${safeName(`${dbg}_${pkg.version}`)}-${hash}`);
  const outcome = readEntry<Outcome>(entry) ?? build(flavour, pkg.cacheDir, entry, dbg, pkg.version, pkg.arch);
  return { ...outcome, vmlinux: join(entry, SLICE), systemMap: join(entry, SYSTEM_MAP) };
}

function build(flavour: DebugFlavour, cacheDir: string, entry: string, dbg: string, version: string, arch: string): Outcome {
  if (!hasCommand('pahole')) throw new Error('pahole is needed to check the vmlinux slice');
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'dbg-build-'));
  try {
    const t0 = Date.now();
    run('apt-get', ['download', '-q', `${dbg}${arch === 'amd64' ? '' : `:${arch}`}=${version}`], { cwd: work, timeout: 900_000 });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${dbg}=${version} left no .deb`);
    const t1 = Date.now();
    const release = dbg.replace(/^linux-image-/, '').replace(/-dbg$/, '');
    const members = [`./usr/lib/debug/boot/vmlinux-${release}`, `./usr/lib/debug/boot/System.map-${release}`];
    // tar exits once both members are out; dpkg-deb then dies of SIGPIPE, which is expected.
    spawnSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --occurrence "$3" "$4"', 'sh', join(work, deb), work, ...members], { timeout: 600_000, stdio: 'ignore' });
    rmSync(join(work, deb));
    const [vmlinux, map] = members.map((m) => join(work, m)) as [string, string];
    for (const m of [vmlinux, map]) if (!existsSync(m)) throw new Error(`${deb} unpacked without ${m}`);
    const t2 = Date.now();

    const pahole: Record<string, string> = {};
    for (const s of DIFFERENTIAL_STRUCTS) pahole[s] = run('pahole', ['-C', s, vmlinux]);
    const missing = DIFFERENTIAL_STRUCTS.filter((s) => !pahole[s]?.startsWith(`struct ${s} {`));
    if (missing.length) throw new Error(`pahole lists no ${missing.join(', ')} in ${vmlinux}`);
    const layouts = readKernelDwarf(vmlinux, DIFFERENTIAL_STRUCTS);
    if (!layouts.ok) throw new Error(layouts.diagnostic.message);
    const info = layouts.value.debugInfo!;
    const slice = join(work, SLICE);
    writeSlice(vmlinux, slice, info.bytesRead);
    for (const s of DIFFERENTIAL_STRUCTS) {
      if (run('pahole', ['-C', s, slice]) !== pahole[s]) throw new Error(`pahole lists struct ${s} differently from the slice than from the whole vmlinux`);
    }
    const vmlinuxBytes = statSync(vmlinux).size;
    writeFileSync(join(work, SYSTEM_MAP), readFileSync(map));
    rmSync(join(work, 'usr'), { recursive: true, force: true });
    const outcome: Outcome = {
      flavour,
      package: dbg,
      version,
      release,
      pahole,
      slice: { vmlinuxBytes, sliceBytes: statSync(slice).size, debugInfoBytes: info.size, debugInfoKept: info.bytesRead, units: info.units },
      timings: { downloadMs: t1 - t0, unpackMs: t2 - t1, sliceMs: Date.now() - t2 },
    };
    return publishEntry(work, entry, outcome);
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Writes an ELF of `vmlinux`'s class and machine holding the KEPT sections whole and the first
 * `infoBytes` of .debug_info, each section header copied from the vmlinux with its offset, size
 * and (for .symtab) link made right; no program headers.
 */
function writeSlice(vmlinux: string, out: string, infoBytes: number): void {
  const fd = openSync(vmlinux, 'r');
  try {
    const size = statSync(vmlinux).size;
    const read: ReadBytes = (offset, length) => {
      const b = new Uint8Array(length);
      return b.subarray(0, readAt(fd, b, 0, length, offset));
    };
    const parsed = kernelElf(read, size);
    if (!parsed.ok) throw new Error(parsed.problem);
    const { is64, sections } = parsed.elf;
    const ehdr = read(0, is64 ? 64 : 52);
    const hv = new DataView(ehdr.buffer, ehdr.byteOffset);
    const shoff = is64 ? Number(hv.getBigUint64(0x28, true)) : hv.getUint32(0x20, true);
    const shentsize = hv.getUint16(is64 ? 0x3a : 0x2e, true);
    const chosen = ['.debug_info', ...KEPT].map((name) => ({ name, index: sections.findIndex((s) => s.name === name) })).filter((c) => c.index >= 0);
    const names = ['', ...chosen.map((c) => c.name), '.shstrtab'];
    const nameOff = new Map<string, number>();
    let shstr = '';
    for (const n of names) {
      nameOff.set(n, shstr.length);
      shstr += n + '\0';
    }
    const parts: Uint8Array[] = [];
    let at = ehdr.length;
    const place = (bytes: Uint8Array): number => {
      const pad = (8 - (at % 8)) % 8;
      parts.push(new Uint8Array(pad), bytes);
      at += pad;
      const offset = at;
      at += bytes.length;
      return offset;
    };
    const headers: Uint8Array[] = [new Uint8Array(shentsize)];
    const strtabIndex = chosen.findIndex((c) => c.name === '.strtab') + 1;
    for (const c of chosen) {
      const s = sections[c.index]!;
      const data = read(s.offset, c.name === '.debug_info' ? infoBytes : s.size);
      const offset = place(data);
      const h = read(shoff + c.index * shentsize, shentsize).slice();
      const v = new DataView(h.buffer);
      v.setUint32(0, nameOff.get(c.name)!, true);
      if (is64) {
        v.setBigUint64(0x10, 0n, true);
        v.setBigUint64(0x18, BigInt(offset), true);
        v.setBigUint64(0x20, BigInt(data.length), true);
      } else {
        v.setUint32(0x0c, 0, true);
        v.setUint32(0x10, offset, true);
        v.setUint32(0x14, data.length, true);
      }
      if (c.name === '.symtab') v.setUint32(is64 ? 0x28 : 0x18, strtabIndex, true);
      headers.push(h);
    }
    const shstrBytes = new TextEncoder().encode(shstr);
    const shstrOffset = place(shstrBytes);
    const sh = new Uint8Array(shentsize);
    const sv = new DataView(sh.buffer);
    sv.setUint32(0, nameOff.get('.shstrtab')!, true);
    sv.setUint32(4, 3, true); // SHT_STRTAB
    if (is64) {
      sv.setBigUint64(0x18, BigInt(shstrOffset), true);
      sv.setBigUint64(0x20, BigInt(shstrBytes.length), true);
      sv.setBigUint64(0x30, 1n, true);
    } else {
      sv.setUint32(0x10, shstrOffset, true);
      sv.setUint32(0x14, shstrBytes.length, true);
      sv.setUint32(0x20, 1, true);
    }
    headers.push(sh);
    const tableAt = place(new Uint8Array(0));
    const header = ehdr.slice();
    const v = new DataView(header.buffer);
    if (is64) {
      v.setBigUint64(0x18, 0n, true);
      v.setBigUint64(0x20, 0n, true);
      v.setBigUint64(0x28, BigInt(tableAt), true);
      v.setUint16(0x36, 0, true);
      v.setUint16(0x38, 0, true);
      v.setUint16(0x3c, headers.length, true);
      v.setUint16(0x3e, headers.length - 1, true);
    } else {
      v.setUint32(0x18, 0, true);
      v.setUint32(0x1c, 0, true);
      v.setUint32(0x20, tableAt, true);
      v.setUint16(0x2a, 0, true);
      v.setUint16(0x2c, 0, true);
      v.setUint16(0x30, headers.length, true);
      v.setUint16(0x32, headers.length - 1, true);
    }
    const outFd = openSync(out, 'w');
    try {
      for (const p of [header, ...parts, ...headers]) writeFileSync(outFd, p);
    } finally {
      closeSync(outFd);
    }
  } finally {
    closeSync(fd);
  }
}
