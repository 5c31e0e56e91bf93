// chevrotain, loaded from the single-file ES module build its package ships
// (lib/chevrotain.mjs, listed in the package's "files"), not from its `exports` entry.
//
// Why: the `exports` entry (lib/src/api.js) is chevrotain's compiled source tree, which
// imports lodash-es module by module — about 700 files for Node's ES module loader to
// resolve, read, compile and link, measured at 250–430 ms of a `verify` run that needs
// ~20 ms of parsing. The bundle is the same release (chevrotain's build inlines lodash-es
// into it with esbuild) in one file, and imports in ~10 ms. It is not reachable through
// the package's `exports` map, so it is found next to the entry Node resolves.
//
// Every runtime value of chevrotain the policy grammar uses comes from here, so tokens,
// lexer and parser share one copy of its classes (token categories and `tokenMatcher`
// compare token types created by the same copy). Types still come from 'chevrotain'
// itself: the bundle has no declarations. test/grammar-startup.test.ts checks that the
// bundle is the release package.json pins and exports the same names as the entry.

import type * as Chevrotain from 'chevrotain';

/** lib/chevrotain.mjs, beside the entry lib/src/api.js that the package exports. */
export const CHEVROTAIN_BUNDLE = new URL('../chevrotain.mjs', import.meta.resolve('chevrotain'));

const chevrotain = (await import(CHEVROTAIN_BUNDLE.href)) as typeof Chevrotain;

export const { createToken, CstParser, EOF, Lexer, tokenMatcher } = chevrotain;
