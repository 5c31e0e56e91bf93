// Reading a policy for the checker, the diff and `vmipolicy policy …`: a policy.conf file,
// an unexpanded Xen policy tree expanded with real m4 the way Xen's Makefile does, or a
// binary policy (`checkpolicy -t Xen` output), told apart by its content — the policydb
// magic, which the reader then wants followed by the "XenFlask" target — never by its name. The result carries the text, the
// AST, the LineMap (so positions name the user's own files, or a binary's tables) and the
// model.

import { statSync } from 'node:fs';
import type { PolicyAst } from './grammar/ast.js';
import { fileUnreadable, hasErrors, type Diagnostic } from '../core/diagnostics.js';
import { INPUT_KINDS, readInputFile } from '../core/read-input.js';
import { diagnostic } from '../core/diagnostics.js';
import { BinaryPolicyError, isBinaryPolicy, readBinaryPolicy } from './binary/read.js';
import { decompile } from './binary/decompile.js';
import { parsePolicy } from './grammar/parse.js';
import type { LineMap } from './grammar/lines.js';
import { expandXenPolicyTree, type XenExtraModule } from '../formats/xen-tree.js';
import { buildModel } from './model/build.js';
import type { PolicyModel } from './model/model.js';

export interface LoadedPolicy {
  readonly file: string;
  readonly text: string;
  readonly ast: PolicyAst;
  readonly lines: LineMap;
  readonly model: PolicyModel;
  /**
   * The files on disk behind the file names of the policy's positions: each name a position
   * can carry, and the path that opens it (a tree's sources, or the policy.conf read). A
   * policy made in memory (our compiled output) has none.
   */
  readonly files: ReadonlyMap<string, string>;
}

export interface PolicyLoad {
  readonly policy?: LoadedPolicy;
  /** The parsed text and its LineMap, whenever parsing was reached: to place diagnostics. */
  readonly parsed?: { readonly text: string; readonly lines: LineMap };
  readonly diagnostics: Diagnostic[];
}

export interface LoadPolicyOptions {
  /** For a Xen tree: modules to add as a user would (modules/<name>.te and "<name> = on"). */
  readonly extraModules?: readonly XenExtraModule[];
}

export function loadPolicy(path: string, options: LoadPolicyOptions = {}): PolicyLoad {
  let file = path;
  let text: string | undefined;
  let bytes: Uint8Array | undefined;
  let files: ReadonlyMap<string, string> = new Map([[path, path]]);
  // Only reading is under this catch: a fault of ours further on is not "cannot read".
  try {
    if (statSync(path).isDirectory()) {
      const expanded = expandXenPolicyTree({ tree: path, ...(options.extraModules ? { extraModules: options.extraModules } : {}) });
      if (expanded.text === undefined) return { diagnostics: expanded.diagnostics };
      file = expanded.file;
      text = expanded.text;
      files = expanded.files ?? new Map();
    } else {
      const read = readInputFile(path, INPUT_KINDS.policy);
      if (!read.ok) return { diagnostics: [read.diagnostic] };
      bytes = read.bytes;
    }
  } catch (e) {
    return { diagnostics: [fileUnreadable(path, e)] };
  }
  return bytes ? policyFromBytes(path, bytes, files) : policyFromText(file, text ?? '', files);
}

/**
 * A policy file's bytes, whatever it is: a Xen binary policy, else policy.conf text (UTF-8,
 * invalid bytes becoming U+FFFD, as every text input is read).
 */
export function policyFromBytes(file: string, bytes: Uint8Array, files: ReadonlyMap<string, string> = new Map()): PolicyLoad {
  if (!isBinaryPolicy(bytes)) return policyFromText(file, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), files);
  return policyFromBinary(file, bytes);
}

/**
 * A Xen binary policy: read (policy/binary/read.ts), written back as the policy.conf
 * statements it holds (policy/binary/decompile.ts), and parsed like any policy. Its
 * positions name the binary's tables (`xenpolicy#avtab:17`), which no file on disk holds:
 * `files` is empty, so nothing tries to show them as source lines.
 */
function policyFromBinary(file: string, bytes: Uint8Array): PolicyLoad {
  let text: string;
  try {
    text = decompile(readBinaryPolicy(bytes), file).text;
  } catch (e) {
    if (!(e instanceof BinaryPolicyError)) throw e;
    return { diagnostics: [diagnostic('BinaryPolicyMalformed', [file, e.offset, e.offset.toString(16), e.expected], undefined, 'give the file checkpolicy -t Xen wrote, whole (a copy cut short or changed in transit is refused)')] };
  }
  return policyFromText(file, text);
}

/** A policy.conf already in memory (our compiled standalone policy, an expanded tree). */
export function policyFromText(file: string, text: string, files: ReadonlyMap<string, string> = new Map()): PolicyLoad {
  const parsed = parsePolicy(file, text);
  const where = { text, lines: parsed.lines };
  if (hasErrors(parsed.diagnostics)) return { parsed: where, diagnostics: parsed.diagnostics };
  const built = buildModel(parsed.ast, (offset) => parsed.lines.locate(offset));
  const diagnostics = [...parsed.diagnostics, ...built.diagnostics];
  if (hasErrors(diagnostics)) return { parsed: where, diagnostics };
  return { policy: { file, text, ast: parsed.ast, lines: parsed.lines, model: built.model, files }, parsed: where, diagnostics };
}
