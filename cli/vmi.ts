// `vmipolicy vmi translate|read|ps`: the embedded VMI core on a real memory snapshot (a raw
// file or a QEMU ELF core). Exit 0 when the answer was found, 1 when the walk or the task
// list failed in the guest's memory, 2 for bad input (the message names the file or flag).

import type { Diagnostic } from '../core/diagnostics.js';
import { INPUT_KINDS, readInputText } from '../core/read-input.js';
import { terminalSafe } from '../core/terminal.js';
import type { PhysicalMemory } from '../vmi/memory/physical-memory.js';
import { openSnapshot } from '../vmi/memory/open-snapshot.js';
import { addressSpace, type AddressSpace } from '../vmi/paging/address-space.js';
import { isPagingMode, PAGING_MODES, type PagingMode } from '../vmi/paging/modes.js';
import { describeFailure, type Translation } from '../vmi/paging/translation.js';
import { hex, parseAddress } from '../vmi/paging/virtual-address.js';
import { parseLinuxProfile, type LinuxProfile } from '../vmi/guest/linux-profile.js';
import { describeListingFailure, listProcesses, type ProcessEntry } from '../vmi/guest/process-list.js';
import { formatOf, parseArgs } from './args.js';
import { EXIT_FINDINGS as EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, usageError, type Io } from './io.js';
import { recordDiagnostic, machineCommand } from './machine.js';
import { locateDiagnostic } from '../report/diagnostics.js';
/** A read prints what it read; a megabyte of hex dump is already more than anyone reads. */
const MAX_READ = 1 << 20;

const FLAGS = { values: ['--snapshot', '--dtb', '--mode', '--profile', '--address', '--length', '--format'] };

interface Target {
  readonly space: AddressSpace;
  readonly memory: PhysicalMemory;
  readonly format: string;
}

function vmiCommand(argv: readonly string[], io: Io): number {
  const args = parseArgs(argv, FLAGS);
  if (args.errors.length) return usageError(io, args.errors[0] as string);
  const [sub, ...extra] = args.positional;
  if (sub !== 'translate' && sub !== 'read' && sub !== 'ps') return usageError(io, `vmi takes translate, read or ps, not ${sub ?? 'nothing'}`);
  if (extra.length) return usageError(io, `unexpected argument ${extra[0]}`);
  const format = formatOf(args, ['text', 'json']);
  if ('error' in format) return usageError(io, format.error);
  const snapshot = args.flags.get('--snapshot');
  if (!snapshot) return usageError(io, `vmi ${sub} needs --snapshot FILE`);
  const dtbText = args.flags.get('--dtb');
  if (!dtbText) return usageError(io, `vmi ${sub} needs --dtb ADDR (the guest's CR3: its page-directory base)`);
  const dtb = parseAddress(dtbText);
  if (dtb === undefined) return usageError(io, `--dtb ${dtbText} is not an address (hex 0x… or decimal)`);
  const modeText = args.flags.get('--mode') ?? 'ia32e';
  if (!isPagingMode(modeText)) return usageError(io, `--mode must be one of ${PAGING_MODES.join(', ')}, not ${modeText}`);

  // Everything the subcommand needs from its flags is checked before the snapshot is opened.
  const request = subcommandInput(sub, args.flags, io);
  if (typeof request === 'number') return request;

  const opened = openSnapshot(snapshot);
  if (!opened.ok) return inputError(io, opened.diagnostic);
  try {
    const space = addressSpace(opened.memory, modeText as PagingMode, dtb);
    if (!space.ok) return usageError(io, `--dtb: ${space.problem}`);
    const target: Target = { space: space.space, memory: opened.memory, format: format.format };
    if (request.kind === 'translate') return translate(target, request.address, io);
    if (request.kind === 'read') return read(target, request.address, request.length, io);
    return ps(target, request.profile, io);
  } finally {
    opened.memory.close();
  }
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
  return listing.ok ? EXIT_OK : EXIT_NOT_FOUND;
}

function processJson(p: ProcessEntry): Record<string, unknown> {
  return { pid: p.pid, comm: p.comm, task: hex(p.task), mm: hex(p.mm), ...(p.pgd !== undefined ? { pgd: hex(p.pgd) } : {}), ...(p.dtb !== undefined ? { dtb: hex(p.dtb) } : {}) };
}

/** `runVmi` with its machine formats kept valid on exit 2 (cli/machine.ts). */
export const runVmi = machineCommand(['json'], vmiCommand);
