// Opening a snapshot file whatever its kind, recognised by its first bytes: an ELF core, a
// kdump-compressed dump (flattened or not), or else a raw image. A raw file that happens to
// start with one of these signatures is vanishingly unlikely: physical page 0 holds the
// real-mode IVT. Formats that are memory dumps vmipolicy does not read are refused by name
// rather than walked as raw memory.

import { closeSync } from 'node:fs';
import { diagnostic } from '../../core/diagnostics.js';
import type { CpuState } from './dump-notes.js';
import { readAt } from './file-reader.js';
import { isElfFile, openElfCore } from './elf-core.js';
import { kdumpForm, openKdump } from './kdump.js';
import { openRawSnapshot, openReadOnly, type FileSourceOptions, type OpenResult } from './raw-snapshot.js';

type SnapshotKind = 'raw' | 'elf' | 'kdump';

export type OpenedSnapshot = OpenResult & {
  readonly kind?: SnapshotKind;
  /** The vCPUs' control registers, when the dump carries them (QEMU's ELF and kdump notes). */
  readonly cpus?: readonly CpuState[];
  /** The dump's class (ELF, or the kdump header): a fallback for long mode where no vCPU note says. */
  readonly elfClass?: 32 | 64;
};

/** Signatures of memory formats that are not read, with what each is. */
const UNSUPPORTED: readonly { readonly magic: string; readonly what: string }[] = [
  { magic: 'PAGEDU64', what: 'a Windows crash dump (QEMU win-dmp): convert it with dump-guest-memory as ELF or kdump-zlib' },
  { magic: 'PAGEDUMP', what: 'a 32-bit Windows crash dump' },
  { magic: 'EMiL', what: 'a LiME memory image' },
  { magic: 'QEVM', what: 'a QEMU migration stream or savevm state, not a memory dump' },
];

export function openSnapshot(path: string, options: FileSourceOptions & { readonly kind?: SnapshotKind } = {}): OpenedSnapshot {
  const head = options.kind === undefined ? readHead(path) : undefined;
  if (options.kind === undefined && head === undefined) return openRawSnapshot(path, options); // lets the raw opener report why the file is unreadable
  const text = head ? String.fromCharCode(...head) : '';
  const unsupported = UNSUPPORTED.find((u) => text.startsWith(u.magic));
  if (unsupported) return { ok: false, diagnostic: diagnostic('SnapshotMalformed', [path, `it is ${unsupported.what}`]) };
  const form = head ? kdumpForm(head) : undefined;
  const kind: SnapshotKind = options.kind ?? (head && isElfFile(head) ? 'elf' : form ? 'kdump' : 'raw');
  if (kind === 'elf') return withKind(openElfCore(path, options), kind);
  if (kind === 'kdump') return withKind(openKdump(path, form ?? 'kdump', options), kind);
  return withKind(openRawSnapshot(path, options), kind);
}

function withKind<T extends OpenResult>(result: T, kind: SnapshotKind): T & { kind?: SnapshotKind } {
  return result.ok ? { ...result, kind } : result;
}

function readHead(path: string): Uint8Array | undefined {
  const opened = openReadOnly(path);
  if (!opened.ok) return undefined;
  const head = new Uint8Array(16);
  const got = readAt(opened.fd, head, 0, 16, 0);
  closeSync(opened.fd);
  return head.subarray(0, got);
}
