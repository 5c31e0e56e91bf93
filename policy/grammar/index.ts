// The policy language: parse policy.conf (or a .te module after m4) into the AST, and map
// offsets back to the files m4 read.

export type * from './ast.js';
export { LineMap, MAX_MARKER_LINE } from './lines.js';
export { MAX_LINE_BYTES, MAX_NESTING, parsePolicy, type ParsedPolicy } from './parse.js';
