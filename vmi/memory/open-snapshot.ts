// Opening a snapshot file whatever its kind: an ELF core (recognised by its magic number)
// or a raw image. A raw file that happens to start with "\x7fELF" is vanishingly unlikely:
// physical page 0 holds the real-mode IVT, not an ELF header.

import { readAt } from './file-reader.js';
import { isElfFile, openElfCore } from './elf-core.js';
import { openRawSnapshot, openReadOnly, type FileSourceOptions, type OpenResult } from './raw-snapshot.js';
import { closeSync } from 'node:fs';

type SnapshotKind = 'raw' | 'elf';

export function openSnapshot(path: string, options: FileSourceOptions & { readonly kind?: SnapshotKind } = {}): OpenResult & { kind?: SnapshotKind } {
  const kind = options.kind ?? sniffKind(path);
  if (kind === undefined) return openRawSnapshot(path, options); // lets the raw opener report why the file is unreadable
  const result = kind === 'elf' ? openElfCore(path, options) : openRawSnapshot(path, options);
  return result.ok ? { ...result, kind } : result;
}

function sniffKind(path: string): SnapshotKind | undefined {
  const opened = openReadOnly(path);
  if (!opened.ok) return undefined;
  const head = new Uint8Array(4);
  const got = readAt(opened.fd, head, 0, 4, 0);
  closeSync(opened.fd);
  return got === 4 && isElfFile(head) ? 'elf' : 'raw';
}
