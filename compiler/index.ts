// The library entry point: everything the CLI uses is public here.
export { compile, validateSpec, emitAll, type CompileInput, type CompileOptions, type CompileResult, type CheckedSpec } from './compile.js';
export { Messages, hasErrors, sortDiagnostics, type Diagnostic, type Severity, type SourceSpan } from '../core/diagnostics.js';
export { positionAt, sourceText, type Position, type SourceText } from '../core/source.js';
export { CAPABILITIES, CAPABILITY_NAMES, capability, type CapabilityDef, type GuestKind } from '../catalog/capabilities.js';
export { capabilityGrants, TOOL_NAMES, toolProfile, type ToolName, type ToolProfile } from '../catalog/tools.js';
export { XEN_RELEASES, vocabulary, xenMacros, type Vocabulary } from '../catalog/vocabulary.js';
export { lower } from './lower.js';
export { SPEC_SCHEMA, SPEC_SCHEMA_URL } from './schema.js';
export { MAX_SPEC_BYTES } from './load.js';
export { DEFAULT_SCALE_LIMITS, SCALE_LIMIT_FLAGS, scaleOf, type ScaleLimits, type SpecScale } from './scale.js';
export { VERSION } from './version.js';
export type { IR, Grant, Origin, DomainIR } from './ir.js';
export type { Spec } from './spec.js';
