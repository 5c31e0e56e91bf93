// Where tests find the repository, ../shared (corpus and oracle tools) and the real tools,
// and how they skip when those are absent: always with the reason printed; and a missing
// tool under CI=true fails, since .ci/run installs them all.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { compile, type CompileOptions, type CompileResult } from '../../compiler/index.js';

/** Tests run from dist/test/…; the repository root is three levels up from this file. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const SHARED = process.env.VMIPOLICY_SHARED ?? resolve(REPO_ROOT, '..', 'shared');
export const CORPUS_RELEASES = ['4.11', '4.17', '4.22'] as const;
export const EXAMPLES = ['tinyvmi', 'drakvuf', 'multi-tenant'] as const;

export function repoPath(...parts: string[]): string {
  return resolve(REPO_ROOT, ...parts);
}

export function sharedPath(...parts: string[]): string {
  return resolve(SHARED, ...parts);
}

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Needs {
  readonly shared?: boolean;
  readonly commands?: readonly string[];
}

function missingShared(needs: Needs): string | undefined {
  return needs.shared && !existsSync(sharedPath('corpus')) ? `../shared is absent (looked in ${SHARED}; set VMIPOLICY_SHARED)` : undefined;
}

function missingCommand(needs: Needs): string | undefined {
  const absent = (needs.commands ?? []).find((c) => !hasCommand(c));
  return absent ? `${absent} is not installed (.ci/run installs it)` : undefined;
}

/**
 * Skips the test, printing why, when ../shared or a tool it needs is absent. In CI a missing
 * tool fails the test instead: .ci/run installs every tool, so its absence is a broken CI
 * script, not a reason to pass. Returns true when the test may proceed.
 */
export function requires(t: TestContext, needs: Needs): boolean {
  const shared = missingShared(needs);
  const command = shared ? undefined : missingCommand(needs);
  if (command && process.env.CI) throw new Error(`CI must provide what this test needs: ${command}`);
  const reason = shared ?? command;
  if (!reason) return true;
  console.log(`# skipped ${t.name}: ${reason}`);
  t.skip(reason);
  return false;
}

export function compileFile(relPath: string, options: CompileOptions = {}): CompileResult {
  return compile({ file: relPath, content: readFileSync(repoPath(relPath)) }, options);
}

export function compileText(text: string, options: CompileOptions = {}, file = 'spec.yaml'): CompileResult {
  return compile({ file, content: text }, options);
}

/**
 * An example compiled for another release. Before Xen 4.19 an HVM/PVH introspector cannot map
 * its targets' frames (VP1215), so there the example's translated introspectors run as PV, which
 * keeps every capability of the example in the test (the printed note says so).
 */
export function compileExampleAt(example: string, xen: string, mode: 'module' | 'standalone'): CompileResult {
  const relPath = `examples/${example}/vmi.yaml`;
  const first = compileFile(relPath, { xen, mode });
  if (!first.diagnostics.some((d) => d.code === 'VP1215')) return first;
  const spec = parseYaml(readFileSync(repoPath(relPath), 'utf8')) as { introspectors: { guest: string }[] };
  for (const i of spec.introspectors) i.guest = 'pv';
  console.log(`# ${example} at Xen ${xen}: its HVM/PVH introspectors run as PV (VP1215 before 4.19)`);
  return compile({ file: relPath, content: stringifyYaml(spec) }, { xen, mode });
}

/** The artifacts of a compile that must succeed. */
export function artifactsOf(result: CompileResult): ReadonlyMap<string, string> {
  if (!result.artifacts) {
    throw new Error(`compile failed:\n${result.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n')}`);
  }
  return result.artifacts;
}
