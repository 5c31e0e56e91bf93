// The folder map is a stack: each folder imports only from folders below it (and from
// itself), and no module imports itself back through others. A newcomer reads the stack
// bottom-up and never meets a concept before the one it rests on.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { repoPath } from './support/env.js';

/** Bottom to top; folders on one level must not import each other. */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['catalog', 'formats', 'xenstore'],
  ['policy'],
  ['compiler'],
  ['checker'],
  ['diff', 'vmi', 'explain'],
  ['report'],
  ['api'],
  ['cli'],
];

const levelOf = new Map(LAYERS.flatMap((folders, level) => folders.map((f) => [f, level] as const)));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  readonly from: string;
  readonly to: string;
  /** `import type`: erased at run time, but still a dependency of the concept. */
  readonly typeOnly: boolean;
}

/** Every relative import and re-export of the product's modules, as repository paths. */
function productImports(): Import[] {
  const root = repoPath();
  const imports: Import[] = [];
  for (const folder of levelOf.keys()) {
    for (const file of sources(repoPath(folder))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(import|export)(\s+type\b)?[^;]*?\bfrom\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/gms)) {
        const spec = (m[3] ?? m[4]) as string;
        const to = relative(root, normalize(join(dirname(file), spec))).replace(/\.js$/, '.ts');
        imports.push({ from: relative(root, file), to, typeOnly: m[2] !== undefined });
      }
    }
  }
  return imports;
}

/** The import edges that go up or sideways between folders, as "from → to". */
export function layeringViolations(imports: readonly Import[]): string[] {
  const top = (path: string): string => path.split('/')[0] as string;
  return imports.filter((i) => {
    const a = top(i.from);
    const b = top(i.to);
    if (a === b) return false;
    const la = levelOf.get(a);
    const lb = levelOf.get(b);
    return la === undefined || lb === undefined || lb >= la;
  }).map((i) => `${i.from} → ${i.to}`);
}

/** Module cycles among run-time imports (Tarjan's strongly connected components). */
export function importCycles(imports: readonly Import[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const i of imports) {
    if (i.typeOnly) continue;
    graph.set(i.from, [...(graph.get(i.from) ?? []), i.to]);
  }
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

test('every product folder is in the stack, and every source folder is a product folder or test, bench, tools', () => {
  const known = new Set([...levelOf.keys(), 'test', 'bench', 'tools', 'node_modules', 'dist', 'docs', 'examples', 'schema']);
  const unknown = readdirSync(repoPath()).filter((name) => !name.startsWith('.') && statSync(repoPath(name)).isDirectory() && !known.has(name));
  assert.deepEqual(unknown, [], `folders outside the stack: add them to LAYERS (test/layering.test.ts) and to the README's map`);
});

test('imports only go down the stack', () => {
  const imports = productImports();
  assert.ok(imports.length > 300, `found only ${imports.length} imports: the scan is broken`);
  assert.deepEqual(layeringViolations(imports), []);
});

test('no module imports itself back through others', () => {
  assert.deepEqual(importCycles(productImports()), []);
});

test('the checks can fail: an upward import and a cycle are reported', () => {
  assert.deepEqual(layeringViolations([{ from: 'core/compare.ts', to: 'cli/main.ts', typeOnly: false }, { from: 'diff/diff.ts', to: 'vmi/host/host.ts', typeOnly: true }]), [
    'core/compare.ts → cli/main.ts',
    'diff/diff.ts → vmi/host/host.ts',
  ]);
  assert.deepEqual(importCycles([{ from: 'cli/a.ts', to: 'cli/b.ts', typeOnly: false }, { from: 'cli/b.ts', to: 'cli/a.ts', typeOnly: false }]), [['cli/a.ts', 'cli/b.ts']]);
});
