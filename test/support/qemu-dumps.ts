// Test equipment: real memory dumps written by QEMU's `dump-guest-memory`, for differential
// tests of the dump readers. Our own writers (vmi/guest/snapshot-files.ts) only show that the
// readers agree with the writers; these files are QEMU's, byte for byte, in every format this
// QEMU writes (ELF, kdump compressed with zlib/LZO/snappy, Windows crash dump).
//
// The guest never runs: QEMU starts paused (-S), the generic loader device copies known
// patterns into guest RAM at machine reset, and QMP, spoken over stdio, dumps the paused guest
// once per format and quits. Everything is one spawnSync (~0.2 s); the result is cached under
// a directory keyed by the QEMU version and a hash of the harness parameters, and before it is
// handed out the patterns are read back from the ELF dumps at their physical addresses, so a
// test never gets a fixture that is wrong.
//
// Debian: apt-get install --no-install-recommends qemu-system-x86.

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, repoPath } from './env.js';
import { absolute, publishEntry, readEntry } from './cache-entry.js';

export interface QemuDumps {
  /** Guest-physical address → the bytes the harness put there (each a few pages of a recognisable pattern). */
  readonly patterns: readonly { readonly address: number; readonly bytes: Uint8Array }[];
  /** Guest RAM size in bytes. */
  readonly ramBytes: number;
  /** Paths of dumps of the same paused guest, one per format QEMU wrote successfully: keys among 'elf', 'kdump-zlib', 'kdump-lzo', 'kdump-snappy', 'kdump-raw-zlib' (only if this QEMU supports it), 'win-dmp' (only if supported), and 'elf-paging' when `paging: true` works. */
  readonly files: Readonly<Partial<Record<string, string>>>;
  /** Why a format is missing (QEMU's error text), per format name. */
  readonly missing: Readonly<Record<string, string>>;
}

const QEMU = 'qemu-system-x86_64';
const PAGE = 4096;
const RAM_MIB = 32;
const RAM_BYTES = RAM_MIB * 1024 * 1024;

/** A paused PC with nothing but RAM, firmware ROM and the loader blobs; QMP on stdin/stdout. */
const QEMU_ARGS: readonly string[] = [
  '-S', '-machine', 'pc', '-m', String(RAM_MIB), '-nodefaults', '-display', 'none', '-no-user-config', '-accel', 'tcg', '-qmp', 'stdio',
];

interface DumpRequest {
  /** The key in `files`/`missing`, also the QMP command id. */
  readonly name: string;
  readonly format: string;
  readonly paging: boolean;
}

/** Every format of QAPI's DumpGuestMemoryFormat we know of; the ones this QEMU lacks end up in `missing`. */
const DUMPS: readonly DumpRequest[] = [
  { name: 'elf', format: 'elf', paging: false },
  { name: 'kdump-zlib', format: 'kdump-zlib', paging: false },
  { name: 'kdump-lzo', format: 'kdump-lzo', paging: false },
  { name: 'kdump-snappy', format: 'kdump-snappy', paging: false },
  { name: 'kdump-raw-zlib', format: 'kdump-raw-zlib', paging: false },
  { name: 'win-dmp', format: 'win-dmp', paging: false },
  // The CPU never ran, so paging is off: QEMU then maps every RAM block virtual = physical.
  { name: 'elf-paging', format: 'elf', paging: true },
];

// ---------------------------------------------------------------- the patterns

/**
 * What a page of a pattern holds. 'noise' does not compress (a kdump writer stores it raw),
 * 'text' compresses well, 'zero' is a zero page between non-zero ones (kdump writes one shared
 * zero page for it), 'last-byte' is zero but for its last byte (a reader that tests a page for
 * zero by its first bytes gets it wrong).
 */
type PageKind = 'noise' | 'zero' | 'text' | 'last-byte';

/** One pattern low, one in the middle (not aligned beyond a page), one ending at the top of RAM. */
const LAYOUT: readonly { readonly address: number; readonly pages: readonly PageKind[] }[] = [
  { address: 0x100000, pages: ['noise', 'zero', 'text', 'last-byte'] },
  { address: RAM_BYTES / 2 + 3 * PAGE, pages: ['text', 'noise', 'noise'] },
  { address: RAM_BYTES - 3 * PAGE, pages: ['noise', 'text', 'last-byte'] },
];

/** Deterministic bytes from xorshift32, seeded by the page's address (never 0). */
function noise(seed: number): Uint8Array {
  const out = new Uint8Array(PAGE);
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < PAGE; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A line naming the page, repeated: compresses well, and a hexdump shows where it is. */
function text(address: number): Uint8Array {
  const line = `vmipolicy qemu-dumps page 0x${address.toString(16).padStart(8, '0')}\n`;
  return new TextEncoder().encode(line.repeat(Math.ceil(PAGE / line.length)).slice(0, PAGE));
}

function page(kind: PageKind, address: number): Uint8Array {
  switch (kind) {
    case 'noise':
      return noise(address);
    case 'text':
      return text(address);
    case 'zero':
      return new Uint8Array(PAGE);
    case 'last-byte': {
      const out = new Uint8Array(PAGE);
      out[PAGE - 1] = 0x5a;
      return out;
    }
  }
}

function buildPatterns(): QemuDumps['patterns'] {
  return LAYOUT.map(({ address, pages }) => {
    const bytes = new Uint8Array(pages.length * PAGE);
    pages.forEach((kind, i) => bytes.set(page(kind, address + i * PAGE), i * PAGE));
    return { address, bytes };
  });
}

// ---------------------------------------------------------------- running QEMU

interface QmpReply {
  readonly id?: string;
  readonly return?: unknown;
  readonly error?: { readonly class: string; readonly desc: string };
}

/** Where each dump went (file names relative to the cache entry) or why it did not. */
interface Outcome {
  readonly files: Record<string, string>;
  readonly missing: Record<string, string>;
}

function qemuVersion(): string {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  const line = r.stdout?.split('\n')[0]?.trim();
  if (r.status !== 0 || !line) throw new Error(`${QEMU} --version failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return line;
}

function loaderArgs(patterns: QemuDumps['patterns']): string[] {
  // force-raw: the generic loader would otherwise take a blob that happens to parse as ELF or uImage for one.
  return patterns.flatMap((p, i) => ['-device', `loader,file=pattern-${i}.bin,addr=0x${p.address.toString(16)},force-raw=on`]);
}

function dumpFileName(name: string): string {
  return `${name}.dump`;
}

/**
 * The QMP conversation, sent in one piece. Without the OOB capability QEMU suspends the monitor
 * after each command until it has run (monitor/qmp.c handle_qmp_command), reading one byte at a
 * time while not suspended (monitor/monitor.c monitor_can_read), so the end of stdin is seen only
 * after `quit`. A dump without `detach` runs to its end before it replies (dump/dump.c
 * qmp_dump_guest_memory), so no `query-dump` polling is needed.
 */
function qmpScript(dir: string): string {
  const commands: object[] = [{ execute: 'qmp_capabilities', id: 'qmp_capabilities' }];
  for (const d of DUMPS) {
    const protocol = `file:${join(dir, dumpFileName(d.name))}`;
    commands.push({ execute: 'dump-guest-memory', id: d.name, arguments: { paging: d.paging, protocol, format: d.format } });
  }
  commands.push({ execute: 'quit', id: 'quit' });
  return commands.map((c) => JSON.stringify(c)).join('\n') + '\n';
}

/** Replies by command id; greetings and events (no id) are dropped. */
function repliesById(stdout: string): Map<string, QmpReply> {
  const replies = new Map<string, QmpReply>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const reply = JSON.parse(line) as QmpReply;
    if (typeof reply.id === 'string') replies.set(reply.id, reply);
  }
  return replies;
}

function runQemu(dir: string, patterns: QemuDumps['patterns']): Map<string, QmpReply> {
  patterns.forEach((p, i) => writeFileSync(join(dir, `pattern-${i}.bin`), p.bytes));
  const args = [...QEMU_ARGS, ...loaderArgs(patterns)];
  const r = spawnSync(QEMU, args, { cwd: dir, input: qmpScript(dir), encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 });
  patterns.forEach((_, i) => rmSync(join(dir, `pattern-${i}.bin`), { force: true }));
  if (r.error || r.status !== 0) {
    throw new Error(`${QEMU} ${args.join(' ')} failed (${r.error?.message ?? r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`.slice(-4000));
  }
  const replies = repliesById(r.stdout);
  const negotiation = replies.get('qmp_capabilities');
  if (!negotiation || negotiation.error) throw new Error(`QMP capabilities negotiation failed:\n${r.stdout}`);
  return replies;
}

/** Sorts each dump into `files` or `missing`; a failed dump's (empty) file is removed. */
function outcomeOf(dir: string, replies: Map<string, QmpReply>): Outcome {
  const outcome: Outcome = { files: {}, missing: {} };
  for (const d of DUMPS) {
    const reply = replies.get(d.name);
    const path = join(dir, dumpFileName(d.name));
    const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    if (reply && 'return' in reply && size > 0) {
      outcome.files[d.name] = dumpFileName(d.name);
      continue;
    }
    rmSync(path, { force: true });
    outcome.missing[d.name] = reply?.error?.desc ?? (reply ? `QEMU replied success but wrote ${size} bytes` : 'QEMU sent no reply');
  }
  return outcome;
}

// ---------------------------------------------------------------- checking an ELF dump

interface LoadSegment {
  readonly offset: number;
  readonly paddr: number;
  readonly filesz: number;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const got = readSync(fd, buf, 0, length, position);
  if (got !== length) throw new Error(`short read: ${got} of ${length} bytes at ${position}`);
  return buf;
}

const PT_LOAD = 1;
const PN_XNUM = 0xffff;

/** The PT_LOAD segments of a little-endian ELF64 file (with e_phnum's PN_XNUM escape). */
function loadSegments(fd: number): LoadSegment[] {
  const eh = readAt(fd, 0, 64);
  if (eh.readUInt32BE(0) !== 0x7f454c46 || eh[4] !== 2 || eh[5] !== 1) throw new Error('not a little-endian ELF64 file');
  const phoff = Number(eh.readBigUInt64LE(0x20));
  const phentsize = eh.readUInt16LE(0x36);
  let phnum = eh.readUInt16LE(0x38);
  if (phnum === PN_XNUM) phnum = readAt(fd, Number(eh.readBigUInt64LE(0x28)), 64).readUInt32LE(0x2c);
  const segments: LoadSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = readAt(fd, phoff + i * phentsize, 56);
    if (ph.readUInt32LE(0) !== PT_LOAD) continue;
    segments.push({ offset: Number(ph.readBigUInt64LE(8)), paddr: Number(ph.readBigUInt64LE(24)), filesz: Number(ph.readBigUInt64LE(32)) });
  }
  return segments;
}

/** Throws unless every pattern lies whole inside one PT_LOAD segment of `path`, byte for byte. */
function verifyElf(path: string, patterns: QemuDumps['patterns']): void {
  const fd = openSync(path, 'r');
  try {
    const segments = loadSegments(fd);
    for (const { address, bytes } of patterns) {
      const where = `QEMU dump ${path}: the pattern at guest-physical 0x${address.toString(16)}`;
      const seg = segments.find((s) => s.paddr <= address && address + bytes.length <= s.paddr + s.filesz);
      if (!seg) throw new Error(`${where} is in no PT_LOAD segment`);
      const found = readAt(fd, seg.offset + (address - seg.paddr), bytes.length);
      const at = found.findIndex((b, i) => b !== bytes[i]);
      if (at >= 0) throw new Error(`${where} differs at +0x${at.toString(16)}: 0x${found[at]!.toString(16)} instead of 0x${bytes[at]!.toString(16)}`);
    }
  } finally {
    closeSync(fd);
  }
}

function verifyElfDumps(files: Readonly<Record<string, string>>, patterns: QemuDumps['patterns']): void {
  if (!files.elf) throw new Error('QEMU wrote no ELF dump, so the patterns cannot be checked');
  for (const d of DUMPS) {
    const path = files[d.name];
    if (d.format === 'elf' && path) verifyElf(path, patterns);
  }
}

// ---------------------------------------------------------------- the cache


function defaultCacheDir(): string {
  return process.env.VMIPOLICY_CACHE ?? repoPath('node_modules', '.cache', 'vmipolicy', 'qemu-dumps');
}

/** `qemu-<version>-<hash>`: the hash covers the full version line and everything the harness asks of QEMU. */
function cacheKey(version: string, patterns: QemuDumps['patterns']): string {
  const hash = createHash('sha256').update(version).update(JSON.stringify({ QEMU_ARGS, DUMPS, loader: loaderArgs(patterns) }));
  for (const p of patterns) hash.update(p.bytes);
  const short = /version (\S+)/.exec(version)?.[1] ?? 'unknown';
  return `qemu-${short.replace(/[^A-Za-z0-9.+-]/g, '_')}-${hash.digest('hex').slice(0, 16)}`;
}

const readOutcome = (entry: string): Outcome | undefined => readEntry<Outcome>(entry);

/**
 * Dumps into a fresh directory beside the entry, checks the ELF dumps, then renames it into
 * place; when another test process got there first, its entry is used and ours dropped.
 */
function build(cacheDir: string, entry: string, patterns: QemuDumps['patterns']): Outcome {
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'build-'));
  try {
    const outcome = outcomeOf(work, runQemu(work, patterns));
    verifyElfDumps(absolute(work, outcome.files), patterns);
    return publishEntry(work, entry, outcome);
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

const made = new Map<string, QemuDumps>();

/**
 * The dumps, built on first use into `cacheDir` (default $VMIPOLICY_CACHE, else
 * node_modules/.cache/vmipolicy/qemu-dumps) and reused while the QEMU version and the harness
 * parameters stay the same; `{ skip }` with the reason when QEMU is not installed. The ELF
 * dumps are checked against the patterns on every first call of a process, cached or not.
 */
export function qemuDumps(cacheDir = defaultCacheDir()): QemuDumps | { readonly skip: string } {
  if (!hasCommand(QEMU)) return { skip: `${QEMU} is not installed (Debian: apt-get install qemu-system-x86)` };
  const patterns = buildPatterns();
  const entry = join(cacheDir, cacheKey(qemuVersion(), patterns));
  const known = made.get(entry);
  if (known) return known;
  const outcome = readOutcome(entry) ?? build(cacheDir, entry, patterns);
  const files = absolute(entry, outcome.files);
  verifyElfDumps(files, patterns);
  const dumps: QemuDumps = { patterns, ramBytes: RAM_BYTES, files, missing: outcome.missing };
  made.set(entry, dumps);
  return dumps;
}
