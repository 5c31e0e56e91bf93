// The policy language: parse policy.conf (or a .te module after m4) into the AST, and map
// offsets back to the files m4 read.

export type * from './ast.js';
export { LineMap, MAX_MARKER_LINE, type OriginalPosition } from './lines.js';
export { MAX_LINE_BYTES, MAX_NESTING, MAX_OPERATORS, parsePolicy, sectionOrder, type ParsedPolicy, type Placed } from './parse.js';
export { STATEMENT_DESCRIPTIONS } from './visitor.js';
