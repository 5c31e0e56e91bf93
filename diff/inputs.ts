// What OLD and NEW are: a spec (.yaml/.yml), a policy.conf, a Xen policy tree, or any of
// them at a git revision. Reading is the only I/O of the diff; everything after is pure.

import { existsSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileUnreadable, diagnostic, type Diagnostic } from '../core/diagnostics.js';
import { INPUT_KINDS, readInputFile } from '../core/read-input.js';
import type { LineMap } from '../policy/grammar/lines.js';
import { loadPolicy, policyFromBytes, type LoadedPolicy, type PolicyLoad } from '../policy/load.js';
import { isGitRef, parseGitRef, readGitObject } from './git.js';

export type DiffInput =
  | { readonly kind: 'spec'; readonly label: string; readonly file: string; readonly content: Uint8Array }
  | { readonly kind: 'policy'; readonly label: string; readonly policy: LoadedPolicy };

export interface InputRead {
  readonly input?: DiffInput;
  readonly diagnostics: Diagnostic[];
  /** The policy text whose offsets the diagnostics' spans refer to, when one was parsed. */
  readonly parsed?: { readonly text: string; readonly lines: LineMap };
}

export function isSpecPath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** A policy read by policy/load.ts (file, tree or text), as one side of the diff. */
function fromPolicyLoad(label: string, load: PolicyLoad): InputRead {
  if (!load.policy) return { diagnostics: load.diagnostics, ...(load.parsed ? { parsed: load.parsed } : {}) };
  return { input: { kind: 'policy', label, policy: load.policy }, diagnostics: load.diagnostics, ...(load.parsed ? { parsed: load.parsed } : {}) };
}

export function readInput(arg: string, cwd: string): InputRead {
  if (isGitRef(arg)) return readFromGit(arg, cwd);
  const path = resolve(cwd, arg);
  if (!existsSync(path)) return { diagnostics: [diagnostic('DiffInputUnreadable', [arg, 'no such file or directory'], undefined, 'give a spec (.yaml), a policy.conf, a Xen policy tree, or git:REV:path')] };
  let directory: boolean;
  try {
    directory = statSync(path).isDirectory();
  } catch (e) {
    return { diagnostics: [fileUnreadable(arg, e)] };
  }
  if (directory) return fromPolicyLoad(arg, loadPolicy(path));
  if (isSpecPath(arg)) {
    const read = readInputFile(path, INPUT_KINDS.spec);
    return read.ok ? { input: { kind: 'spec', label: arg, file: arg, content: read.bytes }, diagnostics: [] } : { diagnostics: [read.diagnostic] };
  }
  return fromPolicyLoad(arg, loadPolicy(path));
}

function readFromGit(arg: string, cwd: string): InputRead {
  const ref = parseGitRef(arg);
  if ('code' in ref) return { diagnostics: [ref] };
  const obj = readGitObject(ref, cwd, arg);
  if ('code' in obj) return { diagnostics: [obj] };
  if (obj.kind === 'tree') {
    try {
      return fromPolicyLoad(arg, loadPolicy(obj.dir));
    } finally {
      rmSync(obj.root, { recursive: true, force: true });
    }
  }
  if (isSpecPath(ref.path)) return { input: { kind: 'spec', label: arg, file: arg, content: obj.content }, diagnostics: [] };
  return fromPolicyLoad(arg, policyFromBytes(arg, obj.content));
}
