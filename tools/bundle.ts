// The executable as a bundle: dist/bin/vmipolicy.js, what package.json's "bin" runs, made by
// `npm run build` from the compiled dist/cli/bin.js with esbuild (a pinned devDependency).
//
// Why: start-up is most of a small run, and most of start-up was Node's module loader, not
// the work: `verify` of the tinyvmi example resolves, reads, compiles and links ~130 of our
// ES modules and ~70 CommonJS files of the `yaml` package, about a millisecond each. The
// bundle is the same code in a few files. Code splitting keeps the CLI's lazy loading: each
// command's `import()` (cli/main.ts) becomes a chunk of its own, so `--version` still loads
// none of the commands, and a command loads only the chunks it reaches.
//
// What it keeps as it is, so that the bundle behaves as the compiled tree does
// (test/bundle.test.ts runs both on the same commands and compares every byte):
// - every chunk sits in dist/bin/, at the depth of dist/compiler/ and the other compiled
//   directories, so paths made from `import.meta.url` (compiler/schema.ts's schema file)
//   name the same files;
// - packages that are loaded by a path rather than by a static import stay external and are
//   found in node_modules as before: chevrotain (its single-file build, by URL, see
//   policy/grammar/chevrotain.ts), ajv's runtime helpers (required by the generated schema
//   validator), Graphviz's WebAssembly (@viz-js/viz, loaded for SVG only); so do the
//   packages only the tests use. `yaml` is bundled: it is the ~70 files.
// - names are not minified: a stack trace of an internal error reads as the source does.
//
// Usage: node dist/tools/bundle.js

import { chmodSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** Where the bundle is written, and the file package.json's "bin" names. */
export const BUNDLE_DIR = resolve(ROOT, 'dist', 'bin');
export const BUNDLED_BIN = resolve(BUNDLE_DIR, 'vmipolicy.js');

/** Loaded from node_modules at run time (see the header), never copied into the bundle. */
const EXTERNAL = ['chevrotain', 'ajv', 'ajv/*', '@viz-js/viz', 'playwright-core', 'fast-check'];

/**
 * A bundled CommonJS file's `require()` of a Node built-in (yaml asks for `process` and
 * `buffer`) as an import of it: in an ES module output esbuild would otherwise keep it as a
 * call of `require`, which an ES module does not have (it throws "Dynamic require of …").
 */
const BUILTIN = new RegExp(`^(node:)?(${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`);
const commonJsBuiltins: Plugin = {
  name: 'commonjs-builtins',
  setup(b) {
    b.onResolve({ filter: BUILTIN }, (args) => (args.kind === 'require-call' ? { path: args.path.replace(/^node:/, ''), namespace: 'commonjs-builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'commonjs-builtin' }, (args) => ({ contents: `export * from 'node:${args.path}';`, loader: 'js' }));
  },
};

async function main(): Promise<void> {
  // Chunks are named by their content's hash: a rebuild must not leave the last build's behind.
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  const result = await build({
    entryPoints: { vmipolicy: resolve(ROOT, 'dist', 'cli', 'bin.js') },
    outdir: BUNDLE_DIR,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    // Whitespace and syntax only: less for V8 to scan at every start, names kept (see the header).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    plugins: [commonJsBuiltins],
    logLevel: 'warning',
  });
  if (result.errors.length) throw new Error(`esbuild: ${result.errors.map((e) => e.text).join('; ')}`);
  chmodSync(BUNDLED_BIN, 0o755);
}

await main();
