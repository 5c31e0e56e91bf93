// Test equipment: a real Debian Linux kernel, booted under QEMU (TCG, no KVM), that says what it
// knows about itself and is then paused and dumped, so the VMI core, which lists processes from a
// memory dump, can be compared with what the guest itself printed. The sibling harness
// (qemu-dumps.ts) shows the dump readers read QEMU's files right; this one shows that what they
// read is a real kernel's task list, with the BTF and symbols that kernel came with.
//
// The kernel is Debian's current linux-image-6.1.0-*-<flavour>, named by the
// linux-image-<flavour> metapackage, for one of four flavours (KERNEL_FLAVOURS): amd64 (the
// default; 4-level IA-32e paging, under qemu-system-x86_64 -cpu qemu64), amd64-la57 (the same
// kernel on -cpu qemu64,+la57: 5-level paging), amd64-pti (the same kernel on
// -cpu qemu64,vendor=GenuineIntel, which Linux deems open to Meltdown, so it turns KPTI on; the
// guest keeps one more process, vmitest-spin, looping in user mode, so the pause finds CR3 on
// the user half of its page-table pair), and i386's 686-pae (PAE paging) and 686 (32-bit
// paging), both under qemu-system-i386 -cpu qemu32. The kernel and the
// flavour's busybox-static (busybox-static:i386 for i386) are fetched with `apt-get download`
// into the cache and unpacked there (only boot/ of the kernel, only bin/busybox of busybox),
// never installed. The initramfs is an uncompressed newc cpio written here: busybox, the applet
// links /init uses and /init itself (guestInit below). The guest starts a few long-running
// processes with distinctive names, copies /sys/kernel/btf/vmlinux and /proc/kallsyms (read as
// root, so with real addresses) out through a second serial port backed by a host file, prints
// its kernel release, the sizes and SHA-256 of the two files and, last, the pid and comm of
// every /proc/[0-9]* to the console (ttyS0), then `VMITEST-READY`, and waits without creating
// another process. The host watches the console for that line, then over QMP stops the guest,
// dumps it with dump-guest-memory (ELF, ELF with paging (-p) and kdump-zlib), saves its RAM raw
// with pmemsave (all 128 MiB from guest-physical 0: file offset = guest-physical address, no
// vCPU state; 0.1-0.4 s and 128 MiB more per guest) and quits.
//
// Debian's i386 kernels (6.1.0-57) are built without CONFIG_DEBUG_INFO_BTF and without
// CONFIG_KALLSYMS_ALL: their guests have no /sys/kernel/btf/vmlinux (the guest says
// VMITEST-NO-BTF and LinuxGuestDumps.btf is absent), and their kallsyms lists text symbols only
// (no init_task, no swapper_pg_dir). What QEMU 7.2 writes for them (see inspectDumps): an ELF
// dump with e_machine EM_386 but ELFCLASS64 — QEMU picks ELFCLASS64 for a non-long-mode vCPU
// when a guest-physical block's exclusive end exceeds UINT_MAX, and the PC BIOS ROM ends at
// exactly 4 GiB — and a kdump file with DiskDumpHeader64 (utsname.machine "i686"); the vCPU's
// NT_PRSTATUS is QEMU's 32-bit x86_elf_prstatus (144 bytes, not 336), in both files.
//
// Booting needs QMP replies interleaved with console output, which one spawnSync cannot do, so
// linuxGuestDumps() (synchronous, like qemuDumps()) runs this very module as a child Node
// process (`node qemu-linux.js boot <request>`, see driveQemu) that drives QEMU and exits.
//
// Everything is cached under a directory keyed by the flavour, the kernel package version, the
// QEMU version and a hash of the harness parameters (QEMU arguments, kernel command line, /init,
// busybox version, the dumps asked for; adding the raw dump changed every key); a build happens
// in a fresh directory that is renamed into place only after it is verified: the BTF (where
// there is one) and kallsyms copies have the size and SHA-256 the guest printed, the BTF its
// magic, the process listing is whole and has the distinctive names, KASLR is off (_text at its
// link address), the ELF dump's class and machine are what QEMU writes for the flavour, and the
// QEMU CPU note gives the flavour's paging mode: on amd64 long mode with a CR3 whose table's
// kernel half is init_top_pgt's (for amd64-pti: the guest says "Mitigation: PTI", CR3 has
// bit 12 set, and the table 4 KiB below it is the one with init_top_pgt's kernel half, which
// the user table at CR3 lacks), init_task in the ELF dump where kallsyms says, holding
// "swapper/0"; on i386 protected mode, CR4.PAE set (686-pae) or clear (686), and CR3's tables,
// walked here, mapping _text to 16 MiB. The kdump file must carry the same note, under the
// disk_dump_header of the ELF dump's class, and the raw file must be all the guest's RAM: the
// ELF dump's PT_LOADs below 128 MiB byte for byte at their guest-physical offsets, the others
// firmware below 4 GiB. A cold build takes ~30 s on 2 cores for amd64 (~5 s
// downloads, ~11 s boot, ~11 s copying 8 MB out through the emulated UART, ~1 s dumps; ~40 s
// when two test processes build at once) and ~19 s for each i386 flavour (~5-6 s downloading
// the 52 MB kernel package and busybox, ~9-11 s boot with a 1.5 MB kallsyms and no BTF to copy,
// <1 s dumps; measured with other work keeping the load at ~4.7), ~29 s for amd64-pti (its
// packages already there: the boot, slower with the spinning process, and the copy), a cached
// call ~0.1 s.
//
// Debian (bookworm), as root:
//   dpkg --add-architecture i386                      (only for 686-pae and 686: apt-cache must
//                                                      know linux-image-686-pae and busybox-static:i386;
//                                                      nothing i386 is installed)
//   apt-get update                                    (apt-cache must know linux-image-<flavour>)
//   apt-get install --no-install-recommends qemu-system-x86   (qemu-system-x86_64 and qemu-system-i386)
// and, used as they come with every Debian system: apt-cache and apt-get (package apt), dpkg-deb
// (dpkg), tar, sh. The kernel packages and busybox-static are downloaded, not installed; cpio is
// not needed. The harness does not add the i386 architecture itself (that is the machine's
// configuration, .ci/run's job): without it an i386 flavour skips, saying what to run.

import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, repoPath, requires } from './env.js';
import type { TestContext } from 'node:test';
import { absolute, publishEntry, readEntry } from './cache-entry.js';

export interface LinuxGuestDumps {
  readonly flavour: KernelFlavour;
  /** `uname -r` as the guest printed it. */
  readonly kernelRelease: string;
  /** Dumps of the paused guest: by dump-guest-memory's format name (elf-paging: ELF with -p), and `raw` (pmemsave of all its RAM; no vCPU state). */
  readonly files: Readonly<Partial<Record<DumpName, string>>>;
  /**
   * Path of a copy of the guest's /sys/kernel/btf/vmlinux; absent when the guest has none
   * (Debian's i386 kernels, 686-pae and 686, are built without CONFIG_DEBUG_INFO_BTF).
   */
  readonly btf?: string;
  /**
   * Path of the guest's /proc/kallsyms, read as root in the guest (real addresses). Debian's
   * i386 kernels are built without CONFIG_KALLSYMS_ALL: text symbols only, no init_task.
   */
  readonly kallsyms: string;
  /** Path of the package's /boot/System.map-*, when it is a real one (Debian ships an 83-byte stub pointing at the -dbg package; then this is absent). */
  readonly systemMap?: string;
  /**
   * What the guest printed from /proc/[0-9]*\/comm just before it was paused, in the order of
   * its /proc glob. Not quite task_struct.comm: for a workqueue worker the kernel appends
   * "-<workqueue>" or "+<workqueue>" (kworker/0:1-events_long; the task's comm is kworker/0:1),
   * and the idle task (pid 0, init_task, "swapper/0") has no /proc entry. Kernel workers may
   * come and go in the few hundred milliseconds between the listing and the pause.
   */
  readonly processes: readonly { readonly pid: number; readonly comm: string }[];
  /** What the dumps say about the guest's CR3 and paging mode, and how to read it from them. */
  readonly cr3Note: string;
  /** What the guest's /sys/devices/system/cpu/vulnerabilities/meltdown said ("Not affected", "Mitigation: PTI"). */
  readonly meltdown: string;
}

/** Debian's kernel flavours the harness boots: x86-64, and i386 with PAE or with 32-bit paging. */
export type KernelFlavour = 'amd64' | 'amd64-la57' | 'amd64-pti' | '686-pae' | '686';

export const KERNEL_FLAVOURS: readonly KernelFlavour[] = ['amd64', 'amd64-la57', 'amd64-pti', '686-pae', '686'];

interface Flavour {
  /** Debian architecture of the kernel and busybox packages. */
  readonly arch: 'amd64' | 'i386';
  readonly qemu: string;
  /** QEMU's -cpu. */
  readonly cpu: string;
  /** The metapackage that names the current kernel package (linux-image-<flavour>). */
  readonly meta: string;
  /** The kernel's virtual base of the image (__START_KERNEL_map on x86-64, PAGE_OFFSET on i386): an image address minus it is physical. */
  readonly imageBase: bigint;
  /** The paging mode the kernel runs. */
  readonly paging: 'ia32e' | 'la57' | 'pae' | 'legacy';
  /**
   * The kernel isolates its page tables (KPTI) and the guest keeps a process busy in user mode,
   * so the pause catches the vCPU on the user half: CR3 bit 12 set, the kernel's tables 4 KiB below.
   */
  readonly pti?: true;
}

/**
 * qemu64 has AMD's vendor, no LA57 and no PCID. qemu32 (family 6, GenuineIntel, no long mode)
 * has PAE, PSE, PGE and CMOV, all that Debian's 686-pae asks; 686 ignores its PAE and runs
 * 32-bit paging. Both i386 kernels are linked at PAGE_OFFSET 0xc0000000 (VMSPLIT_3G) +
 * PHYSICAL_START 0x1000000.
 */
const FLAVOURS: Readonly<Record<KernelFlavour, Flavour>> = {
  amd64: { arch: 'amd64', qemu: 'qemu-system-x86_64', cpu: 'qemu64', meta: 'linux-image-amd64', imageBase: 0xffffffff80000000n, paging: 'ia32e' },
  // The same kernel on a CPU with LA57: Debian's is built with CONFIG_X86_5LEVEL and runs 5-level paging.
  'amd64-la57': { arch: 'amd64', qemu: 'qemu-system-x86_64', cpu: 'qemu64,+la57', meta: 'linux-image-amd64', imageBase: 0xffffffff80000000n, paging: 'la57' },
  // The same kernel on qemu64 with Intel's vendor: Linux's cpu_vuln_whitelist exempts AMD (and
  // so qemu64, whose vendor is AMD) from Meltdown, not an Intel family 15 CPU without
  // ARCH_CAPABILITIES.RDCL_NO, so it turns page-table isolation on by itself (pti=auto). TCG
  // offers no PCID, so CR3 carries no PCID bits.
  'amd64-pti': { arch: 'amd64', qemu: 'qemu-system-x86_64', cpu: 'qemu64,vendor=GenuineIntel', meta: 'linux-image-amd64', imageBase: 0xffffffff80000000n, paging: 'ia32e', pti: true },
  '686-pae': { arch: 'i386', qemu: 'qemu-system-i386', cpu: 'qemu32', meta: 'linux-image-686-pae', imageBase: 0xc0000000n, paging: 'pae' },
  '686': { arch: 'i386', qemu: 'qemu-system-i386', cpu: 'qemu32', meta: 'linux-image-686', imageBase: 0xc0000000n, paging: 'legacy' },
};

/** The QEMU system emulator a flavour boots under. */
export function linuxGuestQemu(flavour: KernelFlavour): string {
  return FLAVOURS[flavour].qemu;
}

const RAM_MIB = 128;
/** Seconds from QEMU's start to VMITEST-READY before the boot is given up. */
const BOOT_TIMEOUT_S = 180;
const KERNEL_CMDLINE = 'console=ttyS0 nokaslr panic=-1 quiet';
/** The static busybox. */
const BUSYBOX = 'busybox-static';

/** Under nokaslr the kernel image is linked and loaded at its base + CONFIG_PHYSICAL_START (16 MiB in every flavour). */
const PHYSICAL_START = 0x1000000n;

/** Names the guest runs long-lived processes under; the kernel keeps 15 bytes of a comm. */
const DISTINCTIVE = ['vmitest-alpha', 'vmitest-beta', 'vmitest-gamma-long-name'] as const;
/** A comm the guest gives a subshell by writing /proc/self/comm: not an executable's name, and with a space. */
const RENAMED = 'vmitest delta';

/** The comms the guest's listing must show: exec'd names cut to 15 bytes, and the renamed subshell. */
const EXPECTED_COMMS: readonly string[] = [...DISTINCTIVE.map((n) => n.slice(0, 15)), RENAMED];

/**
 * The guest's /init. `exec -a sleep /bin/NAME` runs busybox's sleep applet (busybox goes by
 * argv[0]) from a link whose name becomes the comm (the kernel takes it from the path). The
 * files leave by ttyS1 in raw mode, then the fd is closed, which waits until the UART has sent
 * everything. The listing comes last and uses only shell builtins, so no process is created
 * after it; `wait` then blocks for good (the sleeps never end), and the fifo read is a fallback
 * that also creates nothing.
 *
 * `btf`: 'required' copies /sys/kernel/btf/vmlinux (amd64; this text is the one the amd64
 * cache key has always hashed), 'if-present' copies it when the kernel has it and otherwise
 * says `VMITEST-NO-BTF` (Debian's i386 kernels are built without CONFIG_DEBUG_INFO_BTF).
 */
function guestInit(btf: 'required' | 'if-present', spin = false): string {
  const copy =
    btf === 'required'
      ? { take: 'cp /sys/kernel/btf/vmlinux /tmp/btf\n', each: 'btf kallsyms', send: 'cat /tmp/btf /tmp/kallsyms >&3', drop: 'rm /tmp/btf /tmp/kallsyms' }
      : {
          take: `if [ -e /sys/kernel/btf/vmlinux ]; then
  cp /sys/kernel/btf/vmlinux /tmp/btf
  files='btf kallsyms'
else
  echo "VMITEST-NO-BTF /sys/kernel/btf/vmlinux is absent"
  files=kallsyms
fi
`,
          each: '$files',
          send: 'for f in $files; do cat /tmp/$f; done >&3',
          drop: 'for f in $files; do rm /tmp/$f; done',
        };
  return `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkfifo /tmp/never
${DISTINCTIVE.map((n) => `(exec -a sleep /bin/${n} 999999999) &`).join('\n')}
(printf %s '${RENAMED}' > /proc/self/comm; read -r x < /tmp/never) &
echo "VMITEST-UNAME $(uname -r)"
echo "VMITEST-MELTDOWN $(cat /sys/devices/system/cpu/vulnerabilities/meltdown)"
${copy.take}cat /proc/kallsyms > /tmp/kallsyms
for f in ${copy.each}; do
  set -- $(sha256sum < /tmp/$f)
  echo "VMITEST-FILE $f $(wc -c < /tmp/$f) $1"
done
exec 3<>/dev/ttyS1
stty raw -echo <&3
${copy.send}
exec 3>&-
${copy.drop}
${spin ? `(printf %s '${SPINNER}' > /proc/self/comm; while :; do :; done) &
until IFS= read -r c < /proc/$!/comm && [ "$c" = '${SPINNER}' ]; do :; done
` : ''}n=0
for d in /proc/[0-9]*; do
  IFS= read -r c < "$d/comm" || continue
  echo "VMITEST-PROC \${d#/proc/} $c"
  n=$((n + 1))
done
echo "VMITEST-PROCESSES $n"
echo VMITEST-READY
wait
while :; do read -r x < /tmp/never; done
`;
}

/**
 * The comm of the process a KPTI guest keeps busy in user mode (a subshell looping on the `:`
 * builtin, started just before the listing, so it is listed and forks nothing after). The
 * subshell names itself once it runs; until then its comm is its parent's (`init`), so /init
 * waits for the new name before it lists: with one vCPU the parent may otherwise get there
 * first, and the listing would say `init` for a task whose comm the pause finds renamed.
 */
const SPINNER = 'vmitest-spin';

/** Applets /init runs, as links to /bin/busybox. */
const APPLETS = ['sh', 'mount', 'mkfifo', 'uname', 'cat', 'cp', 'sha256sum', 'wc', 'stty', 'rm'] as const;

/** A one-vCPU PC (the flavour's CPU) with the console and the transfer port on host files, QMP on stdin/stdout. */
function qemuArgs(flavour: Flavour, kernel: string, initrd: string): string[] {
  return [
    '-machine', 'pc', '-accel', 'tcg', '-cpu', flavour.cpu, '-smp', '1', '-m', String(RAM_MIB),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', kernel, '-initrd', initrd, '-append', KERNEL_CMDLINE,
    '-chardev', `file,id=console,path=${CONSOLE}`, '-serial', 'chardev:console',
    '-chardev', `file,id=xfer,path=${XFER}`, '-device', 'isa-serial,chardev=xfer,index=1',
    '-qmp', 'stdio',
  ];
}

/**
 * The dumps of the paused guest: ELF, ELF with paging (`-p`: one PT_LOAD per virtual mapping of
 * the guest's page tables, so one physical range appears in several overlapping segments) and
 * kdump-zlib.
 */
const DUMPS = [
  { name: 'elf', format: 'elf', paging: false },
  { name: 'elf-paging', format: 'elf', paging: true },
  { name: 'kdump-zlib', format: 'kdump-zlib', paging: false },
] as const;

/**
 * The raw dump: the guest's RAM as it is, file offset = guest-physical address, written by QMP
 * `pmemsave` (qmp_pmemsave, softmmu/cpus.c in QEMU 7.2, copies `size` bytes from guest-physical
 * `val` with cpu_physical_memory_read, through the system memory's address space). On the pc machine all of a 128 MiB guest's RAM
 * lies below the PCI hole (pc_init1 in hw/i386/pc_piix.c puts RAM above 4 GiB only past
 * 0xe0000000, or 3 GiB), so [0, RAM_MIB MiB) is all of it; inspectDumps checks that against the
 * ELF dump's PT_LOADs, byte for byte. It carries no vCPU state: a reader needs --dtb and --mode.
 */
const RAW_DUMP = { name: 'raw', command: 'pmemsave', bytes: RAM_MIB << 20 } as const;

/** The dumps' names, as LinuxGuestDumps.files has them. */
type DumpName = (typeof DUMPS)[number]['name'] | typeof RAW_DUMP.name;

const CONSOLE = 'console.log';
const XFER = 'xfer.bin';
const INITRD = 'initramfs.cpio';
const BTF = 'btf';
const KALLSYMS = 'kallsyms';

function dumpFileName(name: string): string {
  return `${name}.dump`;
}

// ---------------------------------------------------------------- running tools

function run(cmd: string, args: readonly string[], options: { cwd?: string; timeout?: number } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, killSignal: 'SIGKILL', ...options });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? r.status ?? r.signal}):\n${r.stderr}`.slice(-4000));
  }
  return r.stdout;
}

function qemuVersion(qemu: string): string {
  const line = run(qemu, ['--version']).split('\n')[0]?.trim();
  if (!line) throw new Error(`${qemu} --version printed nothing`);
  return line;
}

// ---------------------------------------------------------------- Debian packages

interface DebianPackages {
  /** e.g. linux-image-6.1.0-57-amd64 */
  readonly kernel: string;
  readonly kernelVersion: string;
  readonly busyboxVersion: string;
}

const APT_LISTS = '/var/lib/apt/lists';
const RESOLVED = 'apt-resolved.json';

/** Names, sizes and times of apt's package lists: while they stay, so does what apt-cache answers. */
function aptListsFingerprint(): string | undefined {
  if (!existsSync(APT_LISTS)) return undefined;
  const hash = createHash('sha256');
  for (const name of readdirSync(APT_LISTS).sort()) {
    const s = statSync(join(APT_LISTS, name), { throwIfNoEntry: false });
    if (s?.isFile()) hash.update(`${name}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/** The fields of the first record of `show` for `pkg` on `arch` (apt-cache show prints one blank-line-separated record per package and architecture). */
function fieldsOf(show: string, pkg: string, arch: string): Map<string, string> {
  for (const record of show.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const m of record.matchAll(/^([A-Za-z-]+): (.*)$/gm)) fields.set(m[1]!, m[2]!);
    if (fields.get('Package') === pkg && fields.get('Architecture') === arch) return fields;
  }
  return new Map();
}

/**
 * The kernel package linux-image-<flavour> depends on and its version, and the candidate
 * version of busybox-static for the flavour's architecture. apt-cache takes ~0.7 s here (no
 * binary cache in a Docker-style apt), so the answer is kept beside the entries, keyed by a
 * fingerprint of apt's lists (apt-resolved.json for amd64, apt-resolved-<flavour>.json for the others).
 */
function resolvePackages(cacheDir: string, name: KernelFlavour): DebianPackages | string {
  const flavour = FLAVOURS[name];
  const fingerprint = aptListsFingerprint();
  const memoName = name === 'amd64' ? RESOLVED : RESOLVED.replace(/\.json$/, `-${name}.json`);
  const memo = join(cacheDir, memoName);
  if (fingerprint && existsSync(memo)) {
    const known = JSON.parse(readFileSync(memo, 'utf8')) as DebianPackages & { fingerprint: string };
    if (known.fingerprint === fingerprint) return { kernel: known.kernel, kernelVersion: known.kernelVersion, busyboxVersion: known.busyboxVersion };
  }
  const busybox = flavour.arch === 'amd64' ? BUSYBOX : `${BUSYBOX}:${flavour.arch}`;
  const show = spawnSync('apt-cache', ['show', '--no-all-versions', flavour.meta, busybox], { encoding: 'utf8', maxBuffer: 16 << 20 }).stdout ?? '';
  const depends = fieldsOf(show, flavour.meta, flavour.arch).get('Depends') ?? '';
  // The kernel package's own flavour suffix (amd64, 686-pae, 686): amd64-la57 boots amd64's.
  const suffix = flavour.meta.replace(/^linux-image-/, '');
  const kernel = new RegExp(`(linux-image-[0-9][^\\s,(]*-${suffix}) \\(= ([^)\\s]+)\\)`).exec(depends);
  const busyboxVersion = fieldsOf(show, BUSYBOX, flavour.arch).get('Version');
  if (!kernel || !busyboxVersion) {
    const what = kernel ? busybox : `${flavour.meta} depending on one kernel package`;
    const how = flavour.arch === 'amd64' ? 'run apt-get update' : `run dpkg --add-architecture ${flavour.arch} && apt-get update`;
    return `apt-cache knows no ${what} (${how})`;
  }
  const resolved: DebianPackages = { kernel: kernel[1]!, kernelVersion: kernel[2]!, busyboxVersion };
  if (fingerprint) {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = join(cacheDir, `${memoName}.${process.pid}`);
    writeFileSync(tmp, JSON.stringify({ ...resolved, fingerprint }, null, 2) + '\n');
    renameSync(tmp, memo);
  }
  return resolved;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9.+-]/g, '_');
}

/**
 * `pkg=version` downloaded into a fresh directory, the `members` of its data unpacked there
 * (dpkg-deb --fsys-tarfile | tar, so the kernel's 400 MB of modules are never written), the
 * .deb removed, and the directory renamed to `pkg-<pkg>_<version>`; its path. `pkg` may name
 * a foreign architecture (busybox-static:i386).
 */
function unpackedPackage(cacheDir: string, pkg: string, version: string, members: readonly string[]): string {
  const dir = join(cacheDir, `pkg-${safeName(`${pkg}_${version}`)}`);
  if (existsSync(dir)) return dir;
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'download-'));
  try {
    // As root apt-get downloads unsandboxed into a directory _apt cannot write; it says so on stderr and goes on.
    run('apt-get', ['download', '-q', `${pkg}=${version}`], { cwd: work, timeout: 300_000 });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg}=${version} left no .deb in ${work}`);
    const script = 'deb=$1 dir=$2; shift 2; dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" "$@"';
    run('sh', ['-c', script, 'sh', join(work, deb), work, ...members], { timeout: 300_000 });
    rmSync(join(work, deb));
    const absent = members.filter((m) => !existsSync(join(work, m)));
    if (absent.length > 0) throw new Error(`${deb} unpacked without ${absent.join(', ')}`);
    try {
      renameSync(work, dir);
    } catch (e) {
      if (!existsSync(dir)) throw e;
      rmSync(work, { recursive: true, force: true });
    }
    return dir;
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

function kernelDir(cacheDir: string, packages: DebianPackages): string {
  return join(cacheDir, `pkg-${safeName(`${packages.kernel}_${packages.kernelVersion}`)}`);
}

function releaseOf(kernelPackage: string): string {
  return kernelPackage.replace(/^linux-image-/, '');
}

function vmlinuzOf(dir: string, pkg: string): string {
  const vmlinuz = join(dir, 'boot', `vmlinuz-${releaseOf(pkg)}`);
  if (!existsSync(vmlinuz)) throw new Error(`${pkg} has no boot/vmlinuz-${releaseOf(pkg)}`);
  return vmlinuz;
}

/** The package's System.map when it has real symbols (init_task); Debian's is a stub naming the -dbg package. */
function systemMapOf(dir: string, pkg: string): string | undefined {
  const map = join(dir, 'boot', `System.map-${releaseOf(pkg)}`);
  return existsSync(map) && / init_task$/m.test(readFileSync(map, 'utf8')) ? map : undefined;
}

// ---------------------------------------------------------------- the initramfs

interface CpioEntry {
  readonly name: string;
  readonly mode: number;
  readonly data?: Uint8Array;
  readonly rdev?: readonly [number, number];
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** An uncompressed "newc" cpio archive (the initramfs format of the kernel's Documentation/driver-api/early-userspace/buffer-format.rst). */
function newcArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  const push = (b: Buffer): void => {
    parts.push(b);
    length += b.length;
  };
  const pad = (): void => push(Buffer.alloc((4 - (length % 4)) % 4));
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  const all = [...entries, { name: 'TRAILER!!!', mode: 0 }];
  all.forEach((e, i) => {
    const data = e.data ?? new Uint8Array(0);
    const isDir = (e.mode & 0o170000) === S_IFDIR;
    const fields = [i + 1, e.mode, 0, 0, isDir ? 2 : 1, 0, data.length, 0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, Buffer.byteLength(e.name) + 1, 0];
    push(Buffer.from(`070701${fields.map(hex).join('')}${e.name}\0`, 'latin1'));
    pad();
    push(Buffer.from(data));
    pad();
  });
  return Buffer.concat(parts, length);
}

function initramfs(busybox: Uint8Array, init: string): Buffer {
  const link = (name: string): CpioEntry => ({ name: `bin/${name}`, mode: S_IFLNK | 0o777, data: Buffer.from('busybox') });
  return newcArchive([
    ...['bin', 'dev', 'proc', 'sys', 'tmp'].map((name) => ({ name, mode: S_IFDIR | 0o755 })),
    // Opened by the kernel for init's stdin/stdout/stderr before /init mounts devtmpfs.
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: busybox },
    ...APPLETS.map(link),
    ...DISTINCTIVE.map(link),
    { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(init) },
  ]);
}

// ---------------------------------------------------------------- driving QEMU (child process)

interface BootRequest {
  /** qemu-system-x86_64 or qemu-system-i386. */
  readonly qemu: string;
  readonly dir: string;
  readonly args: readonly string[];
  readonly timeoutMs: number;
  /**
   * Pause the vCPU in user mode with a KPTI user-half CR3 (bit 12 set): the guest's spinner
   * runs in user mode almost all the time, but a pause can land in the kernel (a timer tick,
   * the console), so the pause is retried until QEMU's `info registers` shows the user half.
   */
  readonly userHalf?: boolean;
}

/** Pauses tried before the user half is given up (the dump's own check then says what it holds). */
const USER_HALF_TRIES = 50;

interface BootReport {
  readonly readyMs: number;
  /** Pauses it took to catch the user half (userHalf only). */
  readonly pauses?: number;
  readonly dumpMs: Record<string, number>;
  readonly errors: Record<string, string>;
}

interface QmpReply {
  readonly id?: string;
  readonly event?: string;
  readonly return?: unknown;
  readonly error?: { readonly class: string; readonly desc: string };
}

/**
 * Starts QEMU, waits for VMITEST-READY on the console file, then over QMP: stop, one
 * dump-guest-memory per format (each replies when its file is written), quit. QEMU is killed on
 * any failure, so no guest outlives the child; its report is the last line of stdout.
 */
async function driveQemu(request: BootRequest): Promise<BootReport> {
  const started = Date.now();
  const qemu = spawn(request.qemu, request.args, { cwd: request.dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  qemu.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<string>((done) => qemu.on('exit', (code, signal) => done(`${request.qemu} exited (${code ?? signal})`)));
  const waiting = new Map<string, (r: QmpReply) => void>();
  let greeted: () => void = () => {};
  const greeting = new Promise<void>((done) => (greeted = done));
  let buffered = '';
  qemu.stdout.setEncoding('utf8').on('data', (s: string) => {
    buffered += s;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const reply = JSON.parse(line) as QmpReply & { QMP?: unknown };
      if (reply.QMP) greeted();
      if (reply.id !== undefined) waiting.get(reply.id)?.(reply);
    }
  });
  const consoleTail = (): string => {
    const path = join(request.dir, CONSOLE);
    return existsSync(path) ? readFileSync(path, 'latin1').slice(-3000) : '(no console output)';
  };
  const failure = async (why: Promise<string>): Promise<never> => {
    const reason = await why;
    throw new Error(`${reason}\n--- stderr:\n${stderr.slice(-2000)}\n--- console:\n${consoleTail()}`);
  };
  const deadline = (ms: number, what: string): Promise<string> => new Promise((done) => setTimeout(() => done(`timed out after ${ms / 1000} s ${what}`), ms).unref());
  let nextId = 0;
  const execute = (command: string, args?: object): Promise<QmpReply> => {
    const id = `${command}-${nextId++}`;
    const reply = new Promise<QmpReply>((done) => waiting.set(id, done));
    qemu.stdin.write(JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id }) + '\n');
    return Promise.race([reply, failure(exited)]);
  };
  /** Whether the paused vCPU's CR3 (QEMU's `info registers`) is a KPTI user half: bit 12 set. */
  const onUserHalf = async (): Promise<boolean> => {
    const r = await execute('human-monitor-command', { 'command-line': 'info registers' });
    const cr3 = /\bCR3=([0-9a-f]+)/i.exec(typeof r.return === 'string' ? r.return : '')?.[1];
    return cr3 !== undefined && (BigInt(`0x${cr3}`) & 0x1000n) !== 0n;
  };
  try {
    await Promise.race([greeting, failure(exited), failure(deadline(30_000, 'waiting for the QMP greeting'))]);
    const caps = await execute('qmp_capabilities');
    if (caps.error) throw new Error(`qmp_capabilities: ${caps.error.desc}`);
    const ready = new Promise<void>((done) => {
      const poll = setInterval(() => {
        const path = join(request.dir, CONSOLE);
        if (existsSync(path) && /^VMITEST-READY\r?$/m.test(readFileSync(path, 'latin1'))) {
          clearInterval(poll);
          done();
        }
      }, 100);
      void exited.then(() => clearInterval(poll));
    });
    await Promise.race([ready, failure(exited), failure(deadline(request.timeoutMs, 'waiting for VMITEST-READY on the guest console'))]);
    const readyMs = Date.now() - started;
    const stop = await execute('stop');
    if (stop.error) throw new Error(`stop: ${stop.error.desc}`);
    let pauses = 1;
    while (request.userHalf && pauses < USER_HALF_TRIES && !(await onUserHalf())) {
      const cont = await execute('cont');
      if (cont.error) throw new Error(`cont: ${cont.error.desc}`);
      await new Promise((done) => setTimeout(done, 20 + 7 * pauses));
      const again = await execute('stop');
      if (again.error) throw new Error(`stop: ${again.error.desc}`);
      pauses++;
    }
    const report: BootReport = { readyMs, dumpMs: {}, errors: {}, ...(request.userHalf ? { pauses } : {}) };
    for (const d of DUMPS) {
      const t = Date.now();
      const reply = await execute('dump-guest-memory', { paging: d.paging, protocol: `file:${join(request.dir, dumpFileName(d.name))}`, format: d.format });
      report.dumpMs[d.name] = Date.now() - t;
      if (reply.error) report.errors[d.name] = reply.error.desc;
    }
    const t = Date.now();
    const raw = await execute(RAW_DUMP.command, { val: 0, size: RAW_DUMP.bytes, filename: join(request.dir, dumpFileName(RAW_DUMP.name)) });
    report.dumpMs[RAW_DUMP.name] = Date.now() - t;
    if (raw.error) report.errors[RAW_DUMP.name] = raw.error.desc;
    // QEMU may be gone before its reply to quit is read: wait for the exit, not the reply.
    qemu.stdin.write(JSON.stringify({ execute: 'quit' }) + '\n');
    await Promise.race([exited, failure(deadline(30_000, 'waiting for QEMU to quit'))]);
    return report;
  } finally {
    if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
    qemu.stdin.destroy();
  }
}

const THIS_FILE = fileURLToPath(import.meta.url);

if (process.argv[1] && resolve(process.argv[1]) === THIS_FILE && process.argv[2] === 'boot') {
  driveQemu(JSON.parse(process.argv[3] ?? '{}') as BootRequest).then(
    (report) => console.log(JSON.stringify(report)),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exitCode = 1;
    },
  );
}

function boot(request: BootRequest): BootReport {
  const out = run(process.execPath, [THIS_FILE, 'boot', JSON.stringify(request)], { timeout: request.timeoutMs + 120_000 });
  return JSON.parse(out.trim().split('\n').pop() ?? '') as BootReport;
}

// ---------------------------------------------------------------- what the guest said

interface GuestFile {
  readonly size: number;
  readonly sha256: string;
}

interface ConsoleFacts {
  readonly kernelRelease: string;
  readonly meltdown: string;
  /** No btf when the guest said VMITEST-NO-BTF (its kernel has no /sys/kernel/btf/vmlinux). */
  readonly files: { readonly btf?: GuestFile; readonly kallsyms: GuestFile };
  readonly processes: { pid: number; comm: string }[];
}

/** The VMITEST- lines of the console (kernel messages around them are skipped), checked for completeness. */
function consoleFacts(text: string): ConsoleFacts {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const one = (key: string): string => {
    const found = lines.filter((l) => l.startsWith(`VMITEST-${key} `)).map((l) => l.slice(key.length + 9));
    if (found.length !== 1) throw new Error(`the guest console has ${found.length} VMITEST-${key} lines, not one`);
    return found[0]!;
  };
  const said: Partial<Record<typeof BTF | typeof KALLSYMS, GuestFile>> = {};
  for (const l of lines) {
    const m = /^VMITEST-FILE (\S+) (\d+) ([0-9a-f]{64})$/.exec(l);
    if (m && (m[1] === BTF || m[1] === KALLSYMS)) said[m[1]] = { size: Number(m[2]), sha256: m[3]! };
  }
  const noBtf = lines.some((l) => l.startsWith('VMITEST-NO-BTF '));
  if (noBtf && said.btf) throw new Error('the guest console says both VMITEST-NO-BTF and VMITEST-FILE btf');
  if ((!said.btf && !noBtf) || !said.kallsyms) throw new Error('the guest console lacks a VMITEST-FILE line for btf or kallsyms');
  const files = { ...(said.btf ? { btf: said.btf } : {}), kallsyms: said.kallsyms };
  const processes: { pid: number; comm: string }[] = [];
  for (const l of lines) {
    const m = /^VMITEST-PROC (\d+) (.*)$/.exec(l);
    if (m) processes.push({ pid: Number(m[1]), comm: m[2]! });
  }
  const count = Number(one('PROCESSES'));
  if (processes.length !== count) throw new Error(`the guest listed ${count} processes but the console shows ${processes.length} VMITEST-PROC lines`);
  if (!processes.some((p) => p.pid === 1)) throw new Error('the guest listing lacks pid 1');
  const absent = EXPECTED_COMMS.filter((c) => !processes.some((p) => p.comm === c));
  if (absent.length > 0) throw new Error(`the guest listing lacks ${absent.map((c) => JSON.stringify(c)).join(', ')}`);
  return { kernelRelease: one('UNAME'), meltdown: one('MELTDOWN'), files, processes };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Cuts the transfer file into the BTF (when the guest had one) and kallsyms copies, which must be what the guest hashed. */
function splitTransfer(dir: string, facts: ConsoleFacts): void {
  const xfer = readFileSync(join(dir, XFER));
  const { btf, kallsyms } = facts.files;
  const btfSize = btf?.size ?? 0;
  if (xfer.length !== btfSize + kallsyms.size) throw new Error(`${XFER}: ${xfer.length} bytes arrived, the guest sent ${btfSize} + ${kallsyms.size}`);
  if (btf) writeFileSync(join(dir, BTF), xfer.subarray(0, btfSize));
  writeFileSync(join(dir, KALLSYMS), xfer.subarray(btfSize));
  rmSync(join(dir, XFER));
}

function verifyGuestFiles(entry: string, files: ConsoleFacts['files']): void {
  for (const name of [BTF, KALLSYMS] as const) {
    const want = files[name];
    if (!want) continue;
    const bytes = readFileSync(join(entry, name));
    if (bytes.length !== want.size || sha256(bytes) !== want.sha256) {
      throw new Error(`${join(entry, name)}: ${bytes.length} bytes, sha256 ${sha256(bytes)}; the guest had ${want.size} bytes, sha256 ${want.sha256}`);
    }
    if (name === BTF && (bytes[0] !== 0x9f || bytes[1] !== 0xeb)) throw new Error(`${join(entry, name)} does not start with the BTF magic 9f eb`);
  }
}

/** Address of each name in a kallsyms/System.map text ("ADDR TYPE NAME [module]"), first occurrence. */
function symbols(text: string, names: readonly string[]): Map<string, bigint> {
  const wanted = new Set(names);
  const found = new Map<string, bigint>();
  for (const m of text.matchAll(/^([0-9a-f]+) \S (\S+)$/gm)) {
    if (wanted.has(m[2]!) && !found.has(m[2]!)) found.set(m[2]!, BigInt(`0x${m[1]}`));
  }
  return found;
}

// ---------------------------------------------------------------- reading the ELF dump

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const got = readSync(fd, buf, 0, length, position);
  if (got !== length) throw new Error(`short read: ${got} of ${length} bytes at ${position}`);
  return buf;
}

interface ElfDump {
  /** ELFCLASS32 or ELFCLASS64: QEMU writes 64 for a vCPU in long mode (or memory above 4 GiB), else 32. */
  readonly elfClass: 32 | 64;
  /** e_machine: EM_X86_64 (62) or EM_386 (3). */
  readonly machine: number;
  readonly loads: readonly { readonly offset: number; readonly paddr: number; readonly filesz: number }[];
  readonly notes: readonly { readonly name: string; readonly type: number; readonly desc: Buffer }[];
}

const PT_LOAD = 1;
const PT_NOTE = 4;
const PN_XNUM = 0xffff;

/** PT_LOAD segments and the notes of the PT_NOTE segments of a little-endian ELF64 or ELF32 core. */
function readElfDump(fd: number): ElfDump {
  const eh = readAt(fd, 0, 64);
  if (eh.readUInt32BE(0) !== 0x7f454c46 || (eh[4] !== 1 && eh[4] !== 2) || eh[5] !== 1) throw new Error('not a little-endian ELF file');
  const is64 = eh[4] === 2;
  // The ELF64 and ELF32 headers differ only in the width of addresses and offsets.
  const word = (b: Buffer, at64: number, at32: number): number => (is64 ? Number(b.readBigUInt64LE(at64)) : b.readUInt32LE(at32));
  const phoff = word(eh, 0x20, 0x1c);
  const phentsize = eh.readUInt16LE(is64 ? 0x36 : 0x2a);
  let phnum = eh.readUInt16LE(is64 ? 0x38 : 0x2c);
  if (phnum === PN_XNUM) phnum = readAt(fd, word(eh, 0x28, 0x20), 64).readUInt32LE(is64 ? 0x2c : 0x1c);
  const loads: ElfDump['loads'][number][] = [];
  const notes: ElfDump['notes'][number][] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = readAt(fd, phoff + i * phentsize, is64 ? 56 : 32);
    const type = ph.readUInt32LE(0);
    const offset = word(ph, 8, 4);
    const filesz = word(ph, 32, 16);
    if (type === PT_LOAD) loads.push({ offset, paddr: word(ph, 24, 12), filesz });
    if (type !== PT_NOTE) continue;
    const area = readAt(fd, offset, filesz);
    for (let at = 0; at + 12 <= area.length; ) {
      const namesz = area.readUInt32LE(at);
      const descsz = area.readUInt32LE(at + 4);
      const descAt = at + 12 + Math.ceil(namesz / 4) * 4;
      const name = area.toString('latin1', at + 12, at + 12 + namesz).replace(/\0+$/, '');
      notes.push({ name, type: area.readUInt32LE(at + 8), desc: area.subarray(descAt, descAt + descsz) });
      at = descAt + Math.ceil(descsz / 4) * 4;
    }
  }
  return { elfClass: is64 ? 64 : 32, machine: eh.readUInt16LE(0x12), loads, notes };
}

function readPhysical(fd: number, dump: ElfDump, address: number, length: number): Buffer | undefined {
  const seg = dump.loads.find((s) => s.paddr <= address && address + length <= s.paddr + s.filesz);
  return seg ? readAt(fd, seg.offset + (address - seg.paddr), length) : undefined;
}

/** Where the PC's firmware ROMs lie: the BIOS image is mapped to end at 4 GiB (pc_system_firmware_init, hw/i386/pc_sysfw.c). */
const FIRMWARE_BELOW_4G = 0xff000000;
/** How much of the two files is compared at a time. */
const COMPARE_CHUNK = 4 << 20;

/**
 * The raw dump against the ELF dump of the same pause: RAW_DUMP.bytes long; every PT_LOAD of the
 * ELF dump (QEMU writes one per block of guest RAM or ROM, guest_phys_blocks_append in
 * softmmu/memory_mapping.c) either lies in [0, RAM) — and the raw file holds the same bytes at
 * the same offset (compared when `compare`, as the entry is built) — or is firmware ending at
 * 4 GiB; so the raw file is all the guest's RAM, offset = guest-physical address.
 */
function rawFacts(raw: string, elfFile: string, fd: number, dump: ElfDump, compare: boolean): string {
  const size = statSync(raw).size;
  if (size !== RAW_DUMP.bytes) throw new Error(`${raw}: ${size} bytes, not the ${RAW_DUMP.bytes} of RAM ${RAW_DUMP.command} was asked for`);
  const inRam = dump.loads.filter((l) => l.paddr + l.filesz <= size);
  const elsewhere = dump.loads.filter((l) => l.paddr + l.filesz > size);
  const stray = elsewhere.find((l) => l.paddr < FIRMWARE_BELOW_4G || l.paddr + l.filesz > 2 ** 32);
  if (stray) throw new Error(`${elfFile}: PT_LOAD ${hex(stray.paddr)}+${hex(stray.filesz)} is guest memory outside [0, ${hex(size)}) and not firmware below 4 GiB: the raw dump of [0, ${hex(size)}) is not all of the guest's RAM`);
  const rfd = openSync(raw, 'r');
  let compared = 0;
  try {
    for (const l of compare ? inRam : []) {
      for (let done = 0; done < l.filesz; done += COMPARE_CHUNK) {
        const length = Math.min(COMPARE_CHUNK, l.filesz - done);
        if (!readAt(rfd, l.paddr + done, length).equals(readAt(fd, l.offset + done, length))) throw new Error(`${raw}: the bytes at ${hex(l.paddr + done)}(+${hex(length)}) differ from the ELF dump's at that guest-physical address`);
      }
      compared += l.filesz;
    }
  } finally {
    closeSync(rfd);
  }
  return `The raw dump (${RAW_DUMP.command} 0 ${hex(size)}) is the guest's RAM, file offset = guest-physical address: its ${hex(size)} bytes match the ELF dump's ${inRam.length} PT_LOAD${inRam.length === 1 ? '' : 's'} below ${hex(size)} (${compare ? `${hex(compared)} bytes compared` : 'compared when the entry was built'}), and the ELF dump's other PT_LOAD${elsewhere.length === 1 ? ' is' : 's are'} firmware (${elsewhere.map((l) => `${hex(l.paddr)}+${hex(l.filesz)}`).join(', ')}), not RAM. It carries no vCPU state: --dtb and --mode must be given.`;
}

/** QEMUCPUState (target/i386/arch_dump.c): version, size, 16 registers, rip at 136, rflags, cs (flags at 160), …, cr[0..4] at 392. */
const QEMU_RIP = 136;
const QEMU_CS_FLAGS = 160;
const QEMU_CR = 392;
const DESC_L = 1 << 21;
const KDUMP_SIGNATURE = 'KDUMP   ';
/**
 * QEMU 7.2 writes kdump files in makedumpfile's flattened form: a 4 KiB header starting
 * "makedumpfile", then records of (offset, size) as big-endian int64 and the bytes, the first at
 * offset 0 being the disk_dump_header. Newer QEMUs can write the plain form.
 */
const FLATTENED_SIGNATURE = 'makedumpfile';
const FLATTENED_HEADER = 4096;

/** The start (up to 512 bytes) of the kdump disk_dump_header, from a plain or a flattened file; empty when neither form is there. */
function kdumpHeader(fd: number, size: number): Buffer {
  const start = readAt(fd, 0, 16);
  if (!start.toString('latin1').startsWith(FLATTENED_SIGNATURE)) return readAt(fd, 0, Math.min(512, size));
  const record = readAt(fd, FLATTENED_HEADER, 16);
  if (record.readBigInt64BE(0) !== 0n) return Buffer.alloc(0);
  return readAt(fd, FLATTENED_HEADER + 16, Math.min(512, Number(record.readBigInt64BE(8))));
}

/**
 * Which disk_dump_header QEMU wrote (include/sysemu/dump.h): after signature, header_version
 * and the 390-byte utsname comes a struct timeval, 16 bytes and 8-aligned in DiskDumpHeader64
 * (status at 424, block_size at 428), two u32 in DiskDumpHeader32 (status at 412, block_size
 * at 416). QEMU writes the 32-bit one when the ELF class of the dump is 32.
 */
function kdumpHeaderVariant(head: Buffer): 32 | 64 | undefined {
  const blockSizeAt = (at: number): boolean => head.length >= at + 4 && head.readUInt32LE(at) === 4096;
  if (blockSizeAt(428) && !blockSizeAt(416)) return 64;
  if (blockSizeAt(416) && !blockSizeAt(428)) return 32;
  return undefined;
}

/** The text symbol at or below `address`, as name+0xoffset. */
function textSymbolOf(kallsyms: string, address: bigint): string {
  let best: { name: string; at: bigint } | undefined;
  for (const m of kallsyms.matchAll(/^([0-9a-f]{8}|[0-9a-f]{16}) [tT] (\S+)$/gm)) {
    const at = BigInt(`0x${m[1]}`);
    if (at <= address && (!best || at > best.at)) best = { name: m[2]!, at };
  }
  return best ? `${best.name}+0x${(address - best.at).toString(16)}` : `0x${address.toString(16)}`;
}

/** How far into a kdump file its note area lies: after the 4 KiB flattened header, the disk_dump_header and the kdump sub-header. */
const KDUMP_NOTES_WITHIN = 1 << 20;

const NT_PRSTATUS = 1;
const EM_386 = 3;
const EM_X86_64 = 62;

const hex = (v: bigint | number | undefined): string => (v === undefined ? '?' : `0x${v.toString(16)}`);

interface DumpView {
  readonly file: string;
  /** Bytes at a guest-physical address (the ELF dump's PT_LOAD segments). */
  readonly at: (address: number, length: number) => Buffer;
  readonly cpu: Buffer;
  readonly cpuCount: number;
  readonly kallsyms: string;
  readonly sym: ReadonlyMap<string, bigint>;
  /** Guest-physical address of a kernel-image symbol. */
  readonly phys: (name: string) => number;
  readonly meltdown: string;
}

/**
 * Checks the dumps against kallsyms (_text at its link address; on x86-64 init_task holds
 * "swapper/0" at its image address minus __START_KERNEL_map and phys_base reads 0), the ELF
 * class and machine, the vCPU's state in their QEMU notes (the flavour's paging mode; the kdump
 * file carries the ELF dump's note, byte for byte, under the disk_dump_header of the ELF
 * dump's class) and CR3's table, and says what it found.
 */
function inspectDumps(name: KernelFlavour, files: LinuxGuestDumps['files'], kallsyms: string, meltdown: string, compareRaw: boolean): string {
  const flavour = FLAVOURS[name];
  const sym = symbols(kallsyms, ['_text', 'init_task', 'init_top_pgt', 'page_offset_base', 'phys_base']);
  const text = sym.get('_text');
  const link = flavour.imageBase + PHYSICAL_START;
  if (text !== link) throw new Error(`kallsyms puts _text at ${hex(text)}, not ${hex(link)}: KASLR is on or the address is hidden`);
  const phys = (symbol: string): number => {
    const v = sym.get(symbol);
    if (v === undefined) throw new Error(`kallsyms has no ${symbol}`);
    return Number(v - flavour.imageBase);
  };
  const longMode = flavour.paging === 'ia32e' || flavour.paging === 'la57';
  if (!files.elf) throw new Error('QEMU wrote no ELF dump');
  const fd = openSync(files.elf, 'r');
  let cpu: Buffer;
  let facts: string[];
  let elfClass: 32 | 64;
  try {
    const dump = readElfDump(fd);
    // QEMU's cpu_get_dump_info (target/i386/arch_dump.c): EM_X86_64 and ELFCLASS64 for a vCPU
    // with EFER.LMA; otherwise EM_386, and ELFCLASS64 still when a guest-physical block's end
    // (exclusive) is above UINT_MAX — which the PC BIOS ROM, mapped up to exactly 4 GiB, always is.
    const beyond4G = dump.loads.filter((l) => l.paddr + l.filesz > 0xffffffff);
    elfClass = longMode || beyond4G.length > 0 ? 64 : 32;
    if (dump.elfClass !== elfClass || dump.machine !== (longMode ? EM_X86_64 : EM_386)) throw new Error(`${files.elf}: ELFCLASS${dump.elfClass}, e_machine ${dump.machine}; a ${name} guest's dump with ${beyond4G.length} PT_LOAD ending above 4 GiB - 1 should be ELFCLASS${elfClass}, ${longMode ? 'EM_X86_64' : 'EM_386'}`);
    const whyClass = longMode
      ? 'the vCPU is in long mode'
      : elfClass === 64
        ? `the vCPU is not in long mode, but QEMU chooses ELFCLASS64 when a guest-physical block ends above 0xffffffff, and it compares the block's exclusive end: the BIOS ROM PT_LOAD ${beyond4G.map((l) => `${hex(l.paddr)}+${hex(l.filesz)}`).join(', ')} ends at 0x100000000. So a 32-bit PC guest's dump is ELFCLASS64 with e_machine EM_386, and its class says nothing about the paging mode`
        : 'the vCPU is not in long mode and all memory lies below 4 GiB';
    const at = (address: number, length: number): Buffer => {
      const bytes = readPhysical(fd, dump, address, length);
      if (!bytes) throw new Error(`${files.elf}: guest-physical 0x${address.toString(16)} (+${length}) is in no PT_LOAD segment`);
      return bytes;
    };
    const cpus = dump.notes.filter((n) => n.name === 'QEMU' && n.type === 0 && n.desc.length >= QEMU_CR + 40);
    if (!cpus[0]) throw new Error(`${files.elf} carries no QEMU CPU state note`);
    cpu = cpus[0].desc;
    const prstatus = dump.notes.find((n) => n.name === 'CORE' && n.type === NT_PRSTATUS);
    // QEMU writes the 64-bit prstatus exactly when it writes EM_X86_64: for a vCPU with EFER.LMA.
    if (prstatus?.desc.length !== (longMode ? 336 : 144)) throw new Error(`${files.elf}: NT_PRSTATUS of ${prstatus?.desc.length ?? 'no'} bytes, not the ${longMode ? 336 : 144} QEMU writes for a ${longMode ? '64' : '32'}-bit vCPU`);
    const view: DumpView = { file: files.elf, at, cpu, cpuCount: cpus.length, kallsyms, sym, phys, meltdown };
    facts = [
      `The ELF dump is ELFCLASS${dump.elfClass}, e_machine ${longMode ? 'EM_X86_64' : 'EM_386'} (${whyClass}).`,
      `Both dumps carry, per vCPU, an NT_PRSTATUS note ("CORE": general registers, no CR3; here ${prstatus?.desc.length ?? '?'} bytes, QEMU's ${prstatus?.desc.length === 336 ? 'x86_64_elf_prstatus, written for a vCPU with EFER.LMA' : prstatus?.desc.length === 144 ? 'x86_elf_prstatus (32-bit registers), written for a vCPU without EFER.LMA' : 'unknown layout'}) and a "QEMU" note of type 0 holding QEMUCPUState (here version ${cpu.readUInt32LE(0)}, ${cpu.readUInt32LE(4)} bytes; rip at byte 136, cs.flags at 160, cr[0..4] at 392, 64-bit fields whatever the guest): the ELF dump in its PT_NOTE segment, the kdump file in the note area its sub-header's offset_note/size_note point to (QEMU 7.2 writes kdump flattened: a 4 KiB "makedumpfile" header, then big-endian (offset, size) records).`,
      ...(longMode ? longModeFacts(view, flavour.pti === true) : protectedModeFacts(view, flavour.paging === 'pae')),
    ];
    if (!files.raw) throw new Error(`QEMU wrote no raw dump (${RAW_DUMP.command})`);
    facts.push(rawFacts(files.raw, files.elf, fd, dump, compareRaw));
  } finally {
    closeSync(fd);
  }
  const kdump = files['kdump-zlib'];
  if (!kdump) throw new Error('QEMU wrote no kdump-zlib dump');
  const kfd = openSync(kdump, 'r');
  try {
    const size = statSync(kdump).size;
    const header = kdumpHeader(kfd, size);
    if (header.toString('latin1', 0, 8) !== KDUMP_SIGNATURE) throw new Error(`${kdump} has no "${KDUMP_SIGNATURE}" header, flattened or plain`);
    const variant = kdumpHeaderVariant(header);
    if (variant !== elfClass) throw new Error(`${kdump}: the disk_dump_header is ${variant ? `DiskDumpHeader${variant}` : 'neither DiskDumpHeader32 nor DiskDumpHeader64 (no block_size 4096 at byte 416 or 428)'}, not DiskDumpHeader${elfClass} as the ELF dump's class says`);
    const head = Buffer.alloc(Math.min(KDUMP_NOTES_WITHIN, size));
    readSync(kfd, head, 0, head.length, 0);
    if (!head.includes(cpu)) throw new Error(`${kdump} lacks the QEMU CPU state note of the ELF dump in its first ${KDUMP_NOTES_WITHIN} bytes`);
    const machine = header.toString('latin1', 12 + 4 * 65, 12 + 5 * 65).replace(/\0.*$/s, '');
    facts.push(`The kdump file's disk_dump_header is DiskDumpHeader${variant} (header_version ${header.readUInt32LE(8)}, utsname.machine "${machine}", block_size 4096 at byte ${variant === 64 ? 428 : 416}) and holds the ELF dump's QEMU note byte for byte.`);
  } finally {
    closeSync(kfd);
  }
  return facts.join('\n');
}

/** x86-64: long mode with paging, CR3's table's kernel half is init_top_pgt's, phys_base 0, init_task holds swapper/0. */
function longModeFacts({ file, at, cpu, cpuCount, kallsyms, sym, phys, meltdown }: DumpView, pti: boolean): string[] {
  const u64 = (name: string): bigint => at(phys(name), 8).readBigUInt64LE(0);
  if (!at(phys('init_task'), 16384).includes('swapper/0\0')) throw new Error(`${file}: no "swapper/0" within 16 KiB of init_task at guest-physical ${hex(phys('init_task'))}`);
  if (u64('phys_base') !== 0n) throw new Error(`${file}: phys_base reads ${hex(u64('phys_base'))}, not 0`);
  const cr = (n: number): bigint => cpu.readBigUInt64LE(QEMU_CR + n * 8);
  const [cr0, cr3, cr4] = [cr(0), cr(3), cr(4)];
  const longMode = (cpu.readUInt32LE(QEMU_CS_FLAGS) & DESC_L) !== 0;
  if (!(cr0 & (1n << 31n)) || !(cr4 & (1n << 5n)) || !longMode) throw new Error(`${file}: the vCPU is not in long mode with paging (CR0 ${hex(cr0)}, CR4 ${hex(cr4)})`);
  const la57 = (cr4 & (1n << 12n)) !== 0n;
  const pcid = (cr4 & (1n << 17n)) !== 0n;
  const top = phys('init_top_pgt');
  // Under KPTI (arch/x86/mm/pti.c) each PGD is an 8 KiB pair: the kernel's tables, then the
  // user's, and CR3 in user mode points at the second (PTI_USER_PGTABLE_BIT, bit 12).
  const user = (cr3 & 0x1000n) !== 0n;
  if (pti && (!/Mitigation: PTI/.test(meltdown) || !user)) throw new Error(`${file}: a KPTI guest caught on the user half was wanted; the guest says meltdown "${meltdown}", and CR3 ${hex(cr3)} has bit 12 ${user ? 'set' : 'clear'}`);
  const pgd = Number(cr3 & 0x000ffffffffff000n) - (pti ? 0x1000 : 0);
  // PGD entries 256..511 map the kernel half; every mm copies them from init_top_pgt.
  if (!at(pgd, 4096).subarray(2048).equals(at(top, 4096).subarray(2048))) throw new Error(`${file}: the kernel half of ${pti ? "the kernel tables 4 KiB below CR3's" : "CR3's table"} at ${hex(pgd)} is not init_top_pgt's`);
  if (pti && at(pgd + 0x1000, 4096).subarray(2048).equals(at(top, 4096).subarray(2048))) throw new Error(`${file}: the user tables at CR3 map the kernel half as init_top_pgt does: no isolation`);
  const rip = cpu.readBigUInt64LE(QEMU_RIP);
  return [
    ...(pti ? [`KPTI: the guest says "${meltdown}" and the vCPU was paused in user mode (rip ${hex(rip)}): CR3 ${hex(cr3)} has bit 12 set, the user half of the process's 8 KiB PGD pair; its kernel half, 4 KiB below at ${hex(pgd)}, has init_top_pgt's kernel entries and the user half has not.`] : []),
    `Here (${cpuCount} vCPU, stopped at rip ${hex(rip)} = ${textSymbolOf(kallsyms, rip)}): CR0 ${hex(cr0)}, CR3 ${hex(cr3)}, CR4 ${hex(cr4)}. CR0.PG, CR4.PAE and CS.L set, CR4.LA57 ${la57 ? 'set' : 'clear'} => ${la57 ? '5' : '4'}-level IA-32e paging (EFER is not in the note; CS.L of the 64-bit code segment stands for EFER.LMA); CR4.PCIDE ${pcid ? 'set: CR3 bits 0-11 are a PCID' : 'clear'}.`,
    `${pti ? 'The kernel tables' : "CR3's table"} at ${hex(pgd)} ${pti ? 'are' : 'is'} ${pgd === top ? 'init_top_pgt (swapper_pg_dir, init_mm)' : `not init_top_pgt (x86-64's swapper_pg_dir, at ${hex(top)}) but ${pti ? "the running process's" : "as an idle vCPU keeps the last user mm's tables (lazy TLB), a process's"}, whose kernel half (PGD entries 256-511) is init_top_pgt's, checked`}; ${pti ? 'they, not the user tables at CR3, translate kernel data' : 'either translates kernel addresses'}. The guest says meltdown: "${meltdown}" (${/PTI/.test(meltdown) ? 'PTI on: a user-mode CR3 has bit 12 set and maps little of the kernel' : 'so no PTI: every CR3 maps the whole kernel'}).`,
    `nokaslr holds: _text ${hex(sym.get('_text'))} (its link address), phys_base 0, so a kernel-image address minus ${hex(FLAVOURS.amd64.imageBase)} is physical (init_task ${hex(sym.get('init_task'))} at ${hex(phys('init_task'))}, init_top_pgt at ${hex(top)}); the direct map starts at page_offset_base = ${hex(u64('page_offset_base'))}.`,
  ];
}

/** PAE PDPTE bits the SDM reserves (must be 0): R/W, U/S, A, D, PS, G — QEMU's TCG sets A. */
const PDPTE_RESERVED: readonly (readonly [number, string])[] = [[1, 'R/W'], [2, 'U/S'], [5, 'A'], [6, 'D'], [7, 'PS'], [8, 'G']];

/**
 * i386: protected mode (CS.L clear) with paging, CR4.PAE as the flavour has it, and CR3's tables
 * map _text to PHYSICAL_START (walked here by hand: PAE's PDPT → PD → PT or 2 MiB page, or
 * 32-bit paging's PD → PT or 4 MiB page).
 */
function protectedModeFacts({ file, at, cpu, cpuCount, kallsyms, sym, phys, meltdown }: DumpView, pae: boolean): string[] {
  const cr = (n: number): bigint => cpu.readBigUInt64LE(QEMU_CR + n * 8);
  const [cr0, cr3, cr4] = [cr(0), cr(3), cr(4)];
  const csL = (cpu.readUInt32LE(QEMU_CS_FLAGS) & DESC_L) !== 0;
  if (!(cr0 & (1n << 31n)) || csL) throw new Error(`${file}: the vCPU is not in protected mode with paging (CR0 ${hex(cr0)}, CS.L ${csL ? 'set' : 'clear'})`);
  const hasPae = (cr4 & (1n << 5n)) !== 0n;
  if (hasPae !== pae) throw new Error(`${file}: CR4 ${hex(cr4)} has PAE ${hasPae ? 'set' : 'clear'}, but the kernel runs ${pae ? 'PAE' : '32-bit'} paging`);
  const pse = (cr4 & (1n << 4n)) !== 0n;
  const text = sym.get('_text')!;
  const va = Number(text);
  const walk: string[] = [];
  let physical: number;
  let pdptes = '';
  if (pae) {
    const pdpt = Number(cr3 & 0xffffffe0n);
    const entries = [0, 1, 2, 3].map((i) => at(pdpt + i * 8, 8).readBigUInt64LE(0));
    pdptes = entries
      .map((e, i) => {
        const reserved = PDPTE_RESERVED.filter(([bit]) => (e & (1n << BigInt(bit))) !== 0n).map(([, n]) => n);
        return `PDPTE${i} ${hex(e)}${reserved.length ? ` (reserved bits set: ${reserved.join(', ')})` : ''}`;
      })
      .join(', ');
    const pdpte = entries[(va >>> 30) & 3]!;
    if (!(pdpte & 1n)) throw new Error(`${file}: PDPTE ${(va >>> 30) & 3} of CR3's table at ${hex(pdpt)} is not present (${hex(pdpte)})`);
    const pd = Number(pdpte & 0x000ffffffffff000n);
    const pde = at(pd + ((va >>> 21) & 0x1ff) * 8, 8).readBigUInt64LE(0);
    walk.push(`PDPTE ${hex(pdpte)}`, `PDE ${hex(pde)}`);
    if (!(pde & 1n)) throw new Error(`${file}: _text's PDE is not present (${hex(pde)})`);
    if (pde & 0x80n) {
      physical = Number(pde & 0x000fffffffe00000n) + (va & 0x1fffff);
    } else {
      const pte = at(Number(pde & 0x000ffffffffff000n) + ((va >>> 12) & 0x1ff) * 8, 8).readBigUInt64LE(0);
      walk.push(`PTE ${hex(pte)}`);
      if (!(pte & 1n)) throw new Error(`${file}: _text's PTE is not present (${hex(pte)})`);
      physical = Number(pte & 0x000ffffffffff000n) + (va & 0xfff);
    }
  } else {
    const pd = Number(cr3 & 0xfffff000n);
    const pde = at(pd + (va >>> 22) * 4, 4).readUInt32LE(0);
    walk.push(`PDE ${hex(pde)}`);
    if (!(pde & 1)) throw new Error(`${file}: _text's PDE is not present (${hex(pde)})`);
    if (pse && pde & 0x80) {
      physical = (pde & 0xffc00000) + (va & 0x3fffff);
    } else {
      const pte = at((pde & 0xfffff000) + ((va >>> 12) & 0x3ff) * 4, 4).readUInt32LE(0);
      walk.push(`PTE ${hex(pte)}`);
      if (!(pte & 1)) throw new Error(`${file}: _text's PTE is not present (${hex(pte)})`);
      physical = (pte & 0xfffff000) + (va & 0xfff);
    }
  }
  if (physical !== Number(PHYSICAL_START)) throw new Error(`${file}: CR3 ${hex(cr3)} maps _text ${hex(text)} to ${hex(physical)}, not ${hex(PHYSICAL_START)}`);
  const rip = cpu.readBigUInt64LE(QEMU_RIP);
  const initTask = sym.get('init_task');
  if (initTask !== undefined && !at(phys('init_task'), 16384).includes('swapper/0\0')) throw new Error(`${file}: no "swapper/0" within 16 KiB of init_task at guest-physical ${hex(phys('init_task'))}`);
  return [
    `Here (${cpuCount} vCPU, stopped at eip ${hex(rip)} = ${textSymbolOf(kallsyms, rip)}): CR0 ${hex(cr0)}, CR3 ${hex(cr3)}, CR4 ${hex(cr4)}. CR0.PG set, no long mode (EM_386 and the 32-bit prstatus, which QEMU writes for a vCPU without EFER.LMA; CS.L clear), CR4.PAE ${pae ? 'set => PAE paging: CR3 bits 31:5 are the PDPT' : 'clear => 32-bit paging: CR3 bits 31:12 are the page directory'}; CR4.PSE ${pse ? 'set' : 'clear'}.`,
    `CR3's tables map _text ${hex(text)} to ${hex(physical)} (${walk.join(' → ')}), so a kernel-image address minus PAGE_OFFSET ${hex(FLAVOURS['686'].imageBase)} is physical.${pae ? ` The PDPT holds ${pdptes}.` : ''} The guest says meltdown: "${meltdown}".`,
    initTask !== undefined
      ? `init_task ${hex(initTask)} at guest-physical ${hex(phys('init_task'))} holds "swapper/0".`
      : `kallsyms has no init_task: this kernel is built without CONFIG_KALLSYMS_ALL, so its /proc/kallsyms (${kallsyms.split('\n').filter((l) => l).length} lines) lists text symbols (t, T, W) and little else: no init_task, no swapper_pg_dir.`,
  ];
}

// ---------------------------------------------------------------- the cache

interface Outcome {
  readonly kernelRelease: string;
  readonly kernelPackage: string;
  readonly kernelVersion: string;
  readonly busyboxVersion: string;
  readonly qemu: string;
  readonly files: Record<string, string>;
  readonly guestFiles: ConsoleFacts['files'];
  readonly processes: ConsoleFacts['processes'];
  readonly meltdown: string;
  readonly timings: Record<string, number>;
  readonly boot: BootReport;
}

function defaultCacheDir(): string {
  return process.env.VMIPOLICY_CACHE ?? repoPath('node_modules', '.cache', 'vmipolicy', 'qemu-linux');
}

/**
 * `linux-<kernel version>-qemu-<version>-<hash>` for amd64, `linux-<flavour>-<kernel version>-…`
 * for the others: the hash covers everything the harness asks of the guest and QEMU, the dumps
 * included (RAW_DUMP made every entry written before it stale).
 */
function cacheKey(name: KernelFlavour, packages: DebianPackages, version: string): string {
  const params = { packages, version, args: qemuArgs(FLAVOURS[name], 'vmlinuz', INITRD), GUEST_INIT: guestInitOf(name), APPLETS, DISTINCTIVE, DUMPS, RAW_DUMP };
  const hash = createHash('sha256')
    .update(JSON.stringify(name === 'amd64' ? params : { ...params, flavour: name }))
    .digest('hex')
    .slice(0, 16);
  const short = /version (\S+)/.exec(version)?.[1] ?? 'unknown';
  return `linux-${name === 'amd64' ? '' : `${name}-`}${safeName(packages.kernelVersion)}-qemu-${safeName(short)}-${hash}`;
}

/** amd64's kernel has BTF and its /init has always required it; the i386 kernels have none. */
function guestInitOf(name: KernelFlavour): string {
  return guestInit(name === 'amd64' ? 'required' : 'if-present', FLAVOURS[name].pti === true);
}

const readOutcome = (entry: string): Outcome | undefined => readEntry<Outcome>(entry);

/**
 * Downloads what is missing, boots the guest in a fresh directory beside the entry, checks what
 * came out, then renames the directory into place; when another test process got there first,
 * its entry is used and ours dropped.
 */
function build(name: KernelFlavour, cacheDir: string, entry: string, packages: DebianPackages, qemu: string): Outcome {
  const flavour = FLAVOURS[name];
  const t0 = Date.now();
  const kernel = unpackedPackage(cacheDir, packages.kernel, packages.kernelVersion, ['./boot']);
  const busybox = flavour.arch === 'amd64' ? BUSYBOX : `${BUSYBOX}:${flavour.arch}`;
  const busyboxDir = unpackedPackage(cacheDir, busybox, packages.busyboxVersion, ['./bin/busybox']);
  const t1 = Date.now();
  const work = mkdtempSync(join(cacheDir, 'build-'));
  try {
    writeFileSync(join(work, INITRD), initramfs(readFileSync(join(busyboxDir, 'bin', 'busybox')), guestInitOf(name)));
    const report = boot({ qemu: flavour.qemu, dir: work, args: qemuArgs(flavour, vmlinuzOf(kernel, packages.kernel), INITRD), timeoutMs: BOOT_TIMEOUT_S * 1000, ...(flavour.pti ? { userHalf: true } : {}) });
    const t2 = Date.now();
    const facts = consoleFacts(readFileSync(join(work, CONSOLE), 'latin1'));
    splitTransfer(work, facts);
    const files: Record<string, string> = {};
    for (const d of DUMPS) {
      if (report.errors[d.name]) throw new Error(`dump-guest-memory format ${d.format}: ${report.errors[d.name]}`);
      files[d.name] = dumpFileName(d.name);
    }
    if (report.errors[RAW_DUMP.name]) throw new Error(`${RAW_DUMP.command}: ${report.errors[RAW_DUMP.name]}`);
    files[RAW_DUMP.name] = dumpFileName(RAW_DUMP.name);
    const outcome: Outcome = {
      kernelRelease: facts.kernelRelease,
      kernelPackage: packages.kernel,
      kernelVersion: packages.kernelVersion,
      busyboxVersion: packages.busyboxVersion,
      qemu,
      files,
      guestFiles: facts.files,
      processes: facts.processes,
      meltdown: facts.meltdown,
      timings: { packagesMs: t1 - t0, bootAndDumpMs: t2 - t1 },
      boot: report,
    };
    verify(name, work, outcome, true);
    return publishEntry(work, entry, outcome);
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Every check a fixture passes before a test sees it; returns the CR3 note. `built`: the entry
 * was just built, so the raw dump is compared with the ELF dump byte for byte (~0.3 s; a cached
 * entry's files do not change, so later calls check only its size).
 */
function verify(name: KernelFlavour, entry: string, outcome: Outcome, built = false): string {
  verifyGuestFiles(entry, outcome.guestFiles);
  if (outcome.kernelRelease !== releaseOf(outcome.kernelPackage)) {
    throw new Error(`the guest runs ${outcome.kernelRelease}, not the kernel of ${outcome.kernelPackage}`);
  }
  return inspectDumps(name, absolute(entry, outcome.files), readFileSync(join(entry, KALLSYMS), 'latin1'), outcome.meltdown, built);
}

const made = new Map<string, LinuxGuestDumps>();

/**
 * The dumps of the paused Debian guest and what it said, for one kernel flavour (default amd64),
 * built on first use into `cacheDir` (default $VMIPOLICY_CACHE, else
 * node_modules/.cache/vmipolicy/qemu-linux) and reused while the kernel package, QEMU and the
 * harness parameters stay the same; `{ skip }` with the reason when QEMU, apt or dpkg-deb is
 * missing or apt knows no kernel (for i386: no i386 architecture in dpkg, see the top of this
 * file). Checked on every first call of a process, cached or not.
 */
export function linuxGuestDumps(name: KernelFlavour = 'amd64', cacheDir = defaultCacheDir()): LinuxGuestDumps | { readonly skip: string } {
  const flavour = FLAVOURS[name];
  if (!hasCommand(flavour.qemu)) return { skip: `${flavour.qemu} is not installed (Debian: apt-get install qemu-system-x86)` };
  for (const tool of ['apt-cache', 'apt-get', 'dpkg-deb', 'tar']) {
    if (!hasCommand(tool)) return { skip: `${tool} is not installed (the guest kernel and busybox come from Debian's packages)` };
  }
  const packages = resolvePackages(cacheDir, name);
  if (typeof packages === 'string') return { skip: packages };
  const qemu = qemuVersion(flavour.qemu);
  const entry = join(cacheDir, cacheKey(name, packages, qemu));
  const known = made.get(entry);
  if (known) return known;
  const outcome = readOutcome(entry) ?? build(name, cacheDir, entry, packages, qemu);
  const cr3Note = verify(name, entry, outcome);
  const systemMap = systemMapOf(kernelDir(cacheDir, packages), packages.kernel);
  const dumps: LinuxGuestDumps = {
    flavour: name,
    kernelRelease: outcome.kernelRelease,
    files: absolute(entry, outcome.files),
    ...(outcome.guestFiles.btf ? { btf: join(entry, BTF) } : {}),
    kallsyms: join(entry, KALLSYMS),
    ...(systemMap ? { systemMap } : {}),
    processes: outcome.processes,
    cr3Note,
    meltdown: outcome.meltdown,
  };
  made.set(entry, dumps);
  return dumps;
}

/**
 * The flavour's guest for a test, or undefined when the test was skipped, the reason printed:
 * QEMU or dpkg-deb missing (a failure in CI, which installs them), or no kernel to be had.
 */
export function linuxGuestFor(t: TestContext, flavour: KernelFlavour): LinuxGuestDumps | undefined {
  if (!requires(t, { commands: [linuxGuestQemu(flavour), 'dpkg-deb'] })) return undefined;
  const guest = linuxGuestDumps(flavour);
  if (!('skip' in guest)) return guest;
  console.log(`# skipped ${t.name}: ${guest.skip}`);
  t.skip(guest.skip);
  return undefined;
}

/**
 * The Debian kernel package a flavour boots (linux-image-<release>-<flavour>), its version and
 * architecture, and the cache directory its guest lives in — for the -dbg package of the same
 * build (kernel-debug.ts) — or why there is none (as linuxGuestDumps says it).
 */
export function linuxKernelPackage(name: KernelFlavour, cacheDir = defaultCacheDir()): { readonly kernel: string; readonly version: string; readonly arch: 'amd64' | 'i386'; readonly cacheDir: string } | { readonly skip: string } {
  for (const tool of ['apt-cache', 'apt-get', 'dpkg-deb', 'tar']) {
    if (!hasCommand(tool)) return { skip: `${tool} is not installed (the kernel packages come from Debian)` };
  }
  const packages = resolvePackages(cacheDir, name);
  if (typeof packages === 'string') return { skip: packages };
  return { kernel: packages.kernel, version: packages.kernelVersion, arch: FLAVOURS[name].arch, cacheDir };
}
