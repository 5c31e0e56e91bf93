// How the library is handed a spec: a path (read with the same size cap and checks as the
// command line), or a file name and its content already in memory.

import { INPUT_KINDS, readInputFile } from '../core/read-input.js';
import type { Diagnostic } from '../core/diagnostics.js';

export type SpecInput = string | { readonly file: string; readonly content: string | Uint8Array };

export function readSpec(spec: SpecInput): { readonly file: string; readonly content: string | Uint8Array } | { readonly diagnostic: Diagnostic } {
  if (typeof spec !== 'string') return spec;
  const read = readInputFile(spec, INPUT_KINDS.spec);
  return read.ok ? { file: spec, content: read.bytes } : { diagnostic: read.diagnostic };
}

/** How a spec is named in reports. */
export function specName(spec: SpecInput): string {
  return typeof spec === 'string' ? spec : spec.file;
}
