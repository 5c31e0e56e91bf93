// The source lines behind a report's locations, for the HTML report's snippets
// (report/html/page.ts `Sources`). Only the command line reads files, so the renderer is
// handed a lookup. A name is opened only when the run itself read a file by that name (the
// spec, and `files`: the policy's sources on disk, the xl configs and xenstore input given),
// never because a `#line` marker names it — a policy could otherwise have the report quote
// any file on the machine. A name no file stands for is quoted from the policy text as m4
// expanded it, through the `#line` map (policy/grammar/lines.ts `physicalLineOf`), or from
// the compiled output held in memory.

import type { CompileResult } from '../compiler/compile.js';
import { INPUT_KINDS, readInputText } from '../core/read-input.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { Snippet, Sources } from '../report/html/page.js';

/** Lines shown before and after the one a location points at. */
const CONTEXT = 1;

export interface SourceInputs {
  readonly compiled?: CompileResult;
  readonly policy?: LoadedPolicy;
  readonly files?: ReadonlyMap<string, string>;
}

const splitLines = (text: string): string[] => text.split('\n').map((l) => l.replace(/\r$/, ''));

function around(lines: readonly string[], line: number, from?: string): Snippet | undefined {
  if (line < 1 || line > lines.length) return undefined;
  const first = Math.max(1, line - CONTEXT);
  const last = Math.min(lines.length, line + CONTEXT);
  return { first, lines: lines.slice(first - 1, last), line, ...(from ? { from } : {}) };
}

export function sourcesOf(inputs: SourceInputs): Sources {
  const cache = new Map<string, string[] | null>();
  const linesOf = (name: string): string[] | undefined => {
    if (!cache.has(name)) {
      let text: string | undefined;
      const source = inputs.compiled?.source;
      if (source && source.file === name) text = source.text;
      const path = inputs.files?.get(name);
      if (text === undefined && path !== undefined) {
        const read = readInputText(path, INPUT_KINDS.policy);
        if (read.ok) text = read.text;
      }
      if (text === undefined) text = inputs.compiled?.artifacts?.get(name);
      cache.set(name, text === undefined ? null : splitLines(text));
    }
    return cache.get(name) ?? undefined;
  };
  let expanded: string[] | undefined;
  return (file, line) => {
    const own = linesOf(file);
    if (own) return around(own, line);
    const policy = inputs.policy;
    const physical = policy?.lines.physicalLineOf(file, line);
    if (!policy || physical === undefined) return undefined;
    expanded ??= splitLines(policy.text);
    // Numbered as the expanded text's own lines, which `from` names.
    return around(expanded, physical, `as m4 expanded it: ${policy.file} line ${physical}`);
  };
}

/**
 * The snippets of `places` taken now, as a lookup that holds nothing else: verify's page
 * quotes its check after the self-test has run, and the check's inputs (the compiled output,
 * the policy and its parse) need not live through it. Any other place has no snippet.
 */
export function snippetsAt(sources: Sources, places: Iterable<{ readonly file: string; readonly line: number }>): Sources {
  const taken = new Map<string, Snippet | undefined>();
  const key = (file: string, line: number): string => `${line}:${file}`;
  for (const p of places) {
    const k = key(p.file, p.line);
    if (!taken.has(k)) taken.set(k, sources(p.file, p.line));
  }
  return (file, line) => taken.get(key(file, line));
}
