// vmipolicy as a library: every operation of the command line, returning data (reports and
// placed diagnostics), never text; the renderers the CLI uses are here too, for a caller
// that wants the same text, JSON, SARIF or markdown. `import { verify } from 'vmipolicy'`.

// Operations
export { compileSpec, type CompileOutcome } from './compile.js';
export { checkSpec, checkDeployed, type CheckOptions, type CheckOutcome, type CheckFailure, type CheckPhase } from './check.js';
export { selftest, verify, type SelftestOptions, type SelftestOutcome, type VerifyOutcome, type VerifyStage, type VerifyHooks } from './selftest.js';
export { diff, type DiffOptions, type DiffOutcome } from './diff.js';
export { readPolicy, type PolicyOutcome } from './policy.js';
export { explain, type ExplainOutcome, type LogInput } from './explain.js';
export { EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, type ExitCode, type Failure } from './exit.js';
export type { SpecInput } from './spec-input.js';

// Results
export type { Diagnostic, Severity, SourceSpan } from '../core/diagnostics.js';
export type { Located, Placement, PlacedDiagnostic } from '../core/located.js';
export type { CheckReport } from '../checker/check.js';
export { RULE_IDS, type Finding, type FindingSeverity, type RuleId } from '../checker/findings.js';
export { FindingMessages, renderFindingText, atLine, type FindingText, type FindingArg, type FindingMessageId, type PlaceWriter } from '../checker/messages.js';
export type { SelftestReport, SelftestProgress } from '../vmi/selftest/selftest.js';
export type { DiffReport } from '../diff/types.js';
export { DiffMessages, renderDiffText, type DiffText, type DiffMessageId } from '../diff/messages.js';
export type { ExplainReport, Denial, Explanation, Candidate } from '../explain/explain.js';
export type { LoadedPolicy } from '../policy/load.js';
export type { CompileOptions, CompileResult } from '../compiler/compile.js';
export type { IR } from '../compiler/ir.js';
export type { Spec } from '../compiler/spec.js';

// Asking a loaded policy
export { policyStats, queryAccess, queryRules, type RuleMatch } from '../policy/model/query.js';

// Rendering, as the command line does
export { renderPlaced, locatePlaced, summary, type LocatedDiagnostic, type RenderStyle } from '../report/diagnostics.js';
export { reportText as checkText, verdictLine, type TextOptions as CheckTextOptions } from '../report/check/text.js';
export { reportJson as checkJson } from '../report/check/json.js';
export { reportSarif as checkSarif } from '../report/check/sarif.js';
export { reportDot as checkDot } from '../report/check/dot.js';
export { renderText as diffText } from '../report/diff/text.js';
export { renderJson as diffJson } from '../report/diff/json.js';
export { renderMarkdown as diffMarkdown, COMMENT_BUDGET } from '../report/diff/markdown.js';
export { renderSarif as diffSarif } from '../report/diff/sarif.js';
export type { SarifPlacement } from '../report/sarif.js';
export { selftestText, selftestJson, selftestVerdictLine } from '../report/selftest.js';
export { explainText, explainMarkdown, explainDocument, explainVerdictLine } from '../report/explain.js';

// The catalog: capabilities, tool profiles, Xen releases, the spec's schema
export { CAPABILITIES, CAPABILITY_NAMES, capability, type CapabilityDef, type GuestKind } from '../catalog/capabilities.js';
export { capabilityGrants, TOOL_NAMES, toolProfile, type ToolName, type ToolProfile } from '../catalog/tools.js';
export { XEN_RELEASES } from '../catalog/vocabulary.js';
export { SPEC_SCHEMA, SPEC_SCHEMA_URL } from '../compiler/schema.js';
export { VERSION } from '../compiler/version.js';
export { DEFAULT_SCALE_LIMITS, scaleOf, type ScaleLimits, type SpecScale } from '../compiler/scale.js';
