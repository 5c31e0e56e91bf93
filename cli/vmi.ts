// `vmipolicy vmi translate|read|ps`: the embedded VMI core on a real memory snapshot (a raw
// file, or a QEMU ELF or kdump dump). Exit 0 when the answer was found, 1 when the walk or
// the task list failed in the guest's memory, 2 for bad input (the message names the file or
// flag; a profile that does not fit the guest is bad input too).

import type { Diagnostic } from '../core/diagnostics.js';
import { INPUT_KINDS, readInputText } from '../core/read-input.js';
import { terminalSafe } from '../core/terminal.js';
import type { PhysicalMemory } from '../vmi/memory/physical-memory.js';
import { openSnapshot, type OpenedSnapshot } from '../vmi/memory/open-snapshot.js';
import { addressSpace, type AddressSpace } from '../vmi/paging/address-space.js';
import { kptiKernelHalf } from '../vmi/paging/kpti.js';
import { isPagingMode, pagingFromRegisters, PAGING_MODES, type PagingMode } from '../vmi/paging/modes.js';
import { describeFailure, type Translation } from '../vmi/paging/translation.js';
import { hex, parseAddress } from '../vmi/paging/virtual-address.js';
import { parseLinuxProfile, profileJson, type LinuxProfile } from '../vmi/guest/linux-profile.js';
import { profileFromBtf, profileFromLayouts, readKernelBtf, readKernelDwarf } from '../vmi/guest/kernel-profile.js';
import { describeListingFailure, listProcesses, type ProcessEntry } from '../vmi/guest/process-list.js';
import { formatOf, parseArgs } from './args.js';
import { EXIT_FINDINGS as EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, recordDiagnostic, usageError, type Io } from './io.js';
import { machineCommand } from './machine.js';
import { locateDiagnostic } from '../report/diagnostics.js';
/** A read prints what it read; a megabyte of hex dump is already more than anyone reads. */
const MAX_READ = 1 << 20;

const FLAGS = { values: ['--snapshot', '--dtb', '--mode', '--profile', '--address', '--length', '--format', '--btf', '--dwarf', '--symbols', '--vcpu'], booleans: ['--strict-pdpte'] };

interface Target {
  readonly space: AddressSpace;
  readonly memory: PhysicalMemory;
  readonly format: string;
}

function vmiCommand(argv: readonly string[], io: Io): number {
  const args = parseArgs(argv, FLAGS);
  if (args.errors.length) return usageError(io, args.errors[0] as string);
  const [sub, ...extra] = args.positional;
  if (sub === 'profile') {
    if (extra.length) return usageError(io, `unexpected argument ${extra[0]}`);
    return profile(args.flags, io);
  }
  if (sub !== 'translate' && sub !== 'read' && sub !== 'ps') return usageError(io, `vmi takes translate, read, ps or profile, not ${sub ?? 'nothing'}`);
  if (extra.length) return usageError(io, `unexpected argument ${extra[0]}`);
  const format = formatOf(args, ['text', 'json']);
  if ('error' in format) return usageError(io, format.error);
  const snapshot = args.flags.get('--snapshot');
  if (!snapshot) return usageError(io, `vmi ${sub} needs --snapshot FILE`);
  const dtbText = args.flags.get('--dtb');
  const dtbGiven = dtbText === undefined ? undefined : parseAddress(dtbText);
  if (dtbText !== undefined && dtbGiven === undefined) return usageError(io, `--dtb ${dtbText} is not an address (hex 0x… or decimal)`);
  const modeText = args.flags.get('--mode');
  if (modeText !== undefined && !isPagingMode(modeText)) return usageError(io, `--mode must be one of ${PAGING_MODES.join(', ')}, not ${modeText}`);
  const vcpuText = args.flags.get('--vcpu') ?? '0';
  if (!/^(0|[1-9][0-9]{0,3})$/.test(vcpuText)) return usageError(io, `--vcpu must be a vCPU number from 0 to 9999, not ${vcpuText}`);
  if (dtbText !== undefined && args.flags.has('--vcpu')) return usageError(io, '--vcpu chooses whose CR3 to use; with --dtb there is none to choose');

  // Everything the subcommand needs from its flags is checked before the snapshot is opened.
  const request = subcommandInput(sub, args.flags, io);
  if (typeof request === 'number') return request;

  const opened = openSnapshot(snapshot);
  if (!opened.ok) return inputError(io, opened.diagnostic);
  const paging = pagingOf(opened, dtbGiven, modeText as PagingMode | undefined, Number(vcpuText));
  if ('problem' in paging) {
    opened.memory.close();
    return usageError(io, paging.problem);
  }
  if (paging.from) io.stderr(`vmipolicy: ${paging.from}\n`);
  const dtb = paging.dtb;
  try {
    const options = { strictPdpte: args.flags.has('--strict-pdpte') };
    const space = addressSpace(opened.memory, paging.mode, dtb, options);
    if (!space.ok) return usageError(io, `--dtb: ${space.problem}`);
    let walked = space.space;
    // A dump's CR3 caught on the user half of a KPTI pair maps almost none of the kernel: for a
    // kernel address (init_task for ps) the kernel half is used where the tables show it. A
    // --dtb given is always used as given.
    if (paging.from) {
      const probe = request.kind === 'ps' ? request.profile.initTask : request.address;
      const kernel = kptiKernelHalf(opened.memory, paging.mode, dtb, probe, options);
      if (kernel) {
        io.stderr(`vmipolicy: CR3 ${hex(dtb)} is the user half of a KPTI page-table pair (bit 12 set: the vCPU ran user code, whose tables map little of the kernel); ${hex(probe)} is not mapped there, so its kernel half --dtb ${hex(kernel.dtb)} is used\n`);
        walked = kernel.space;
      }
    }
    const target: Target = { space: walked, memory: opened.memory, format: format.format };
    const code = request.kind === 'translate' ? translate(target, request.address, io) : request.kind === 'read' ? read(target, request.address, request.length, io) : ps(target, request.profile, io);
    if (walked.toleratedPdptes > 0) {
      io.stderr(`vmipolicy: note: ${walked.toleratedPdptes} walk${walked.toleratedPdptes === 1 ? '' : 's'} went through a PAE PDPTE with bits set that Intel reserves (QEMU's TCG sets Accessed there); read as LibVMI reads it — --strict-pdpte refuses it as a CPU would\n`);
    }
    return code;
  } finally {
    opened.memory.close();
  }
}

/**
 * The paging mode and page-directory base: the flags where given, else what the dump's first
 * vCPU was running with (QEMU's CPU state note), said on stderr so the user sees where they came from.
 */
function pagingOf(opened: OpenedSnapshot, dtb: bigint | undefined, mode: PagingMode | undefined, vcpu: number): { readonly mode: PagingMode; readonly dtb: bigint; readonly from?: string } | { readonly problem: string } {
  if (dtb !== undefined) return { mode: mode ?? 'ia32e', dtb };
  const cpus = opened.cpus ?? [];
  if (cpus.length === 0 || opened.elfClass === undefined) return { problem: `this ${opened.kind ?? 'raw'} snapshot carries no vCPU state: give --dtb ADDR (the guest's CR3: its page-directory base) and --mode` };
  const cpu = cpus[vcpu];
  if (!cpu) return { problem: `--vcpu ${vcpu}: the dump holds the state of ${cpus.length} vCPU${cpus.length === 1 ? '' : 's'} (0 to ${cpus.length - 1})` };
  // Long mode from the vCPU's own note where the dump has it; the dump's class is only a fallback.
  const fromCpu = pagingFromRegisters(cpu.cr0, cpu.cr3, cpu.cr4, cpu.longMode ?? opened.elfClass === 64);
  if ('problem' in fromCpu) return { problem: `vCPU ${vcpu} of the dump: ${fromCpu.problem}; give --dtb and --mode` };
  if (mode !== undefined && mode !== fromCpu.mode) return { problem: `--mode ${mode}, but vCPU ${vcpu} of the dump runs ${fromCpu.mode} paging: give --dtb too to walk another way` };
  return { ...fromCpu, from: `--dtb ${hex(fromCpu.dtb)} --mode ${fromCpu.mode}: from vCPU ${vcpu} of the dump (CR3 0x${cpu.cr3.toString(16)}, CR4 0x${cpu.cr4.toString(16)})` };
}

/**
 * `vmi profile --btf FILE --symbols FILE` or `vmi profile --dwarf VMLINUX [--symbols FILE]`: the
 * profile `ps` takes, on stdout, from the kernel's own files. A vmlinux with DWARF (a -dbg
 * package's) carries its symbol table, so --symbols is needed there only to override it.
 */
function profile(flags: ReadonlyMap<string, string>, io: Io): number {
  const btf = flags.get('--btf');
  const dwarf = flags.get('--dwarf');
  const symbols = flags.get('--symbols');
  if (btf && dwarf) return usageError(io, 'vmi profile takes the kernel\'s types from --btf or from --dwarf, not both');
  if (!dwarf && (!btf || !symbols)) return usageError(io, 'vmi profile needs --btf FILE (/sys/kernel/btf/vmlinux, a vmlinux or a gzip vmlinuz) and --symbols FILE (System.map or a kallsyms dump), or --dwarf VMLINUX (a vmlinux with debug information, from the kernel\'s -dbg package) and optionally --symbols FILE');
  let text: string | undefined;
  if (symbols) {
    const read = readInputText(symbols, INPUT_KINDS.symbols);
    if (!read.ok) return inputError(io, read.diagnostic);
    text = read.text;
  }
  let built;
  if (dwarf) {
    const layouts = readKernelDwarf(dwarf);
    if (!layouts.ok) return inputError(io, layouts.diagnostic);
    built = profileFromLayouts(layouts.value, text, { types: dwarf, ...(symbols ? { symbols } : {}) });
  } else {
    const types = readKernelBtf(btf as string);
    if (!types.ok) return inputError(io, types.diagnostic);
    built = profileFromBtf(types.value, text as string, { btf: btf as string, symbols: symbols as string });
  }
  if (!built.ok) return inputError(io, built.diagnostic);
  io.stdout(profileJson(built.value));
  return EXIT_OK;
}

type Request =
  | { kind: 'translate'; address: bigint }
  | { kind: 'read'; address: bigint; length: number }
  | { kind: 'ps'; profile: LinuxProfile };

function subcommandInput(sub: 'translate' | 'read' | 'ps', flags: ReadonlyMap<string, string>, io: Io): Request | number {
  if (sub === 'ps') {
    const path = flags.get('--profile');
    if (!path) return usageError(io, 'vmi ps needs --profile JSON (offsets of tasks, pid, comm, mm, pgd and the address of init_task)');
    const read = readInputText(path, INPUT_KINDS.profile);
    if (!read.ok) return inputError(io, read.diagnostic);
    const parsed = parseLinuxProfile(read.text, path);
    return parsed.ok ? { kind: 'ps', profile: parsed.profile } : inputError(io, parsed.diagnostic);
  }
  const addressText = flags.get('--address');
  if (!addressText) return usageError(io, `vmi ${sub} needs --address VA`);
  const address = parseAddress(addressText);
  if (address === undefined) return usageError(io, `--address ${addressText} is not a 64-bit address (hex 0x… or decimal)`);
  if (sub === 'translate') return { kind: 'translate', address };
  const lengthText = flags.get('--length') ?? '256';
  const length = parseAddress(lengthText);
  if (length === undefined || length === 0n || length > BigInt(MAX_READ)) return usageError(io, `--length must be between 1 and ${MAX_READ}, not ${lengthText}`);
  return { kind: 'read', address, length: Number(length) };
}

function inputError(io: Io, d: Diagnostic): number {
  io.stderr(`vmipolicy: ${d.code} ${terminalSafe(d.message)}\n`);
  recordDiagnostic(io, locateDiagnostic(d, undefined));
  return EXIT_USAGE;
}

function translate({ space, format }: Target, address: bigint, io: Io): number {
  const t = space.translate(address);
  if (format === 'json') {
    io.stdout(JSON.stringify(translationJson(t), null, 2) + '\n');
  } else if (t.ok) {
    const bits = (['rw', 'us', 'nx', 'ps'] as const).filter((b) => t.flags[b]);
    io.stdout(`${hex(t.virtual)} -> ${hex(t.physical)}  (${pageSizeName(t.pageSize)} page, level-${t.level} entry; present${bits.map((b) => ' ' + b).join('')})\n`);
  } else {
    io.stderr(`vmipolicy: ${describeFailure(t)}\n`);
  }
  return t.ok ? EXIT_OK : EXIT_NOT_FOUND;
}

function translationJson(t: Translation): Record<string, unknown> {
  if (t.ok) return { ok: true, virtual: hex(t.virtual), physical: hex(t.physical), pageSize: t.pageSize, level: t.level, flags: t.flags };
  return t.reason === 'non-canonical'
    ? { ok: false, reason: t.reason, virtual: hex(t.virtual) }
    : { ok: false, reason: t.reason, virtual: hex(t.virtual), level: t.level, address: hex(t.address) };
}

function pageSizeName(size: number): string {
  return size >= 1 << 30 ? `${size / 2 ** 30} GiB` : size >= 1 << 20 ? `${size / 2 ** 20} MiB` : `${size / 1024} KiB`;
}

function read({ space, format }: Target, address: bigint, length: number, io: Io): number {
  const r = space.readVirtual(address, length);
  if (!r.ok) {
    if (format === 'json') io.stdout(JSON.stringify({ ...translationJson(r), bytesRead: r.bytesRead }, null, 2) + '\n');
    else io.stderr(`vmipolicy: read stopped after ${r.bytesRead} of ${length} bytes: ${describeFailure(r)}\n`);
    return EXIT_NOT_FOUND;
  }
  if (format === 'json') io.stdout(JSON.stringify({ ok: true, virtual: hex(address), length, hex: Buffer.from(r.bytes).toString('hex') }, null, 2) + '\n');
  else io.stdout(hexDump(address, r.bytes));
  return EXIT_OK;
}

/** `xxd`-style lines: address, 16 bytes in hex, printable ASCII. */
export function hexDump(start: bigint, bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hexes = [...row].map((b) => b.toString(16).padStart(2, '0'));
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(start + BigInt(i)).toString(16).padStart(16, '0')}: ${hexes.join(' ').padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n') + '\n';
}

function ps({ space, format }: Target, profile: LinuxProfile, io: Io): number {
  const listing = listProcesses(space, profile);
  if (format === 'json') {
    io.stdout(JSON.stringify({ ok: listing.ok, processes: listing.processes.map(processJson), ...(listing.ok ? {} : { error: describeListingFailure(listing) }) }, null, 2) + '\n');
  } else {
    for (const p of listing.processes) {
      // comm is whatever the guest wrote there: a hostile guest can put an ESC sequence in it.
      io.stdout(`[${String(p.pid).padStart(5)}] ${terminalSafe(p.comm)} (struct addr:${p.task.toString(16)}${p.dtb !== undefined ? `, dtb:${hex(p.dtb)}` : ''})\n`);
    }
    if (!listing.ok) io.stderr(`vmipolicy: ${describeListingFailure(listing)}\n`);
  }
  // A profile that does not fit the guest is bad input; a list that breaks in memory is a finding.
  return listing.ok ? EXIT_OK : listing.reason === 'wrong-profile' ? EXIT_USAGE : EXIT_NOT_FOUND;
}

function processJson(p: ProcessEntry): Record<string, unknown> {
  return { pid: p.pid, comm: p.comm, task: hex(p.task), mm: hex(p.mm), ...(p.pgd !== undefined ? { pgd: hex(p.pgd) } : {}), ...(p.dtb !== undefined ? { dtb: hex(p.dtb) } : {}) };
}

/** `runVmi` with its machine formats kept valid on exit 2 (cli/machine.ts). */
export const runVmi = machineCommand(['json'], vmiCommand);
