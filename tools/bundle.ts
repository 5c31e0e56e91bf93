// The executable as a bundle: dist/bin/vmipolicy.js, what package.json's "bin" runs, made by
// `npm run build` from the compiled dist/cli/bin.js with esbuild (a pinned devDependency).
//
// Why: start-up is most of a small run, and most of start-up was Node's module loader, not
// the work: `verify` of the tinyvmi example resolves, reads, compiles and links ~130 of our
// ES modules and ~70 CommonJS files of the `yaml` package, about a millisecond each. The
// bundle keeps the CLI's lazy loading: the entry is cli/bin.ts and cli/main.ts with what
// they import statically, and each module cli/main.ts imports when a command runs
// (`import('./selftest.js')`, …) is a file of its own holding all it needs, so `--version`
// loads one file and `verify` two (see splitAtMain for why not esbuild's code splitting).
// A module two such files use is in both; cli/main.ts hands a command only plain data (its
// arguments, an Io), never an object whose class the command would test.
//
// What it keeps as it is, so that the bundle behaves as the compiled tree does
// (test/bundle.test.ts runs both on the same commands and compares every byte):
// - every file sits in dist/bin/, at the depth of dist/compiler/ and the other compiled
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
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import * as grammarChevrotain from '../policy/grammar/chevrotain.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** Where the bundle is written, and the file package.json's "bin" names. */
export const BUNDLE_DIR = resolve(ROOT, 'dist', 'bin');
export const BUNDLED_BIN = resolve(BUNDLE_DIR, 'vmipolicy.js');

/** Loaded from node_modules at run time (see the header), never copied into the bundle. */
const EXTERNAL = ['ajv', 'ajv/*', '@viz-js/viz', 'playwright-core', 'fast-check'];

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

/** policy/grammar/chevrotain.ts as compiled: in the bundle, the module chevrotainInside writes. */
const CHEVROTAIN_MODULE = resolve(ROOT, 'dist', 'policy', 'grammar', 'chevrotain.js');

/**
 * chevrotain inside the bundle: policy/grammar/chevrotain.ts loads chevrotain's single-file
 * build by URL (an `import()` esbuild cannot follow), so here that module is replaced by one
 * that re-exports the same names from the same file statically, for esbuild to bundle and to keep
 * only what the grammar uses of it. Same file, same release (test/grammar-startup.test.ts checks it is the
 * pinned one); the bundle then loads no file of chevrotain's at run time.
 */
const chevrotainInside: Plugin = {
  name: 'chevrotain-inside',
  setup(b) {
    b.onLoad({ filter: /[\\/]chevrotain\.js$/ }, (args) => {
      if (args.path !== CHEVROTAIN_MODULE) return undefined;
      // chevrotain's names the module exports, each from the file. Not CHEVROTAIN_BUNDLE, the
      // file's URL, which only the test reads: here it would be a path of the building
      // machine, and a bundled module that imported it would fail the build.
      const { CHEVROTAIN_BUNDLE, ...used } = grammarChevrotain;
      const file = fileURLToPath(CHEVROTAIN_BUNDLE);
      return { contents: `export { ${Object.keys(used).join(', ')} } from ${JSON.stringify(file)};\n`, loader: 'js', resolveDir: dirname(file) };
    });
  },
};

/** What every build shares: one format, one target, the same externals and built-ins. */
const COMMON = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // Whitespace and syntax only: less for V8 to scan at every start, names kept (see the header).
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
} as const;

/**
 * Worker threads' entry files, each bundled whole as a file of dist/bin/ of the same name: a
 * command starts one by `new URL('./NAME.js', import.meta.url)`, which names the file beside
 * it in dist/cli/ as in dist/bin/.
 */
const WORKERS: ReadonlyMap<string, string> = new Map([['write-files-worker.js', resolve(ROOT, 'dist', 'cli', 'write-files-worker.js')]]);

/** cli/main.ts: its `import()`s are where the bundle splits (see splitAtMain). */
const MAIN = resolve(ROOT, 'dist', 'cli', 'main.js');

/**
 * Leaves cli/main.ts's `import()`s out of the entry's bundle, each as an import of the file of
 * dist/bin/ of the same name, and collects what they name (file name → module) for the
 * second build. One file per command rather than esbuild's code splitting: splitting cuts the
 * code every command shares into chunks by which commands share it, and `verify` then loads
 * some forty files where it needs one.
 */
function splitAtMain(targets: Map<string, string>): Plugin {
  return {
    name: 'split-at-main',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        if (args.kind !== 'dynamic-import' || args.importer !== MAIN) return undefined;
        const module = resolve(dirname(args.importer), args.path);
        const file = basename(module);
        const known = targets.get(file);
        if (known !== undefined && known !== module) throw new Error(`two modules load lazily as ${file}: ${known} and ${module}`);
        targets.set(file, module);
        return { path: `./${file}`, external: true };
      });
    },
  };
}

async function main(): Promise<void> {
  // A rebuild must not leave a file of the last build behind (test/bundle.test.ts checks).
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  const lazy = new Map<string, string>();
  const entry = await build({ ...COMMON, entryPoints: { vmipolicy: resolve(ROOT, 'dist', 'cli', 'bin.js') }, outdir: BUNDLE_DIR, entryNames: '[name]', plugins: [splitAtMain(lazy), commonJsBuiltins] });
  if (lazy.size === 0) throw new Error('cli/main.js loads no command lazily: has it changed?');
  // Each lazily loaded module with everything it imports, whole: a command is one file.
  const commands = await build({ ...COMMON, entryPoints: Object.fromEntries([...lazy, ...WORKERS].map(([file, module]) => [file.replace(/\.js$/, ''), module])), outdir: BUNDLE_DIR, entryNames: '[name]', plugins: [commonJsBuiltins, chevrotainInside] });
  const errors = [...entry.errors, ...commands.errors];
  if (errors.length) throw new Error(`esbuild: ${errors.map((e) => e.text).join('; ')}`);
  chmodSync(BUNDLED_BIN, 0o755);
}

await main();
