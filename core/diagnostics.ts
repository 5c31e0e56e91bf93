// One catalog of every diagnostic vmipolicy reports, in the lowest layer (grammar/) so that
// every phase above can use it. Codes are stable: tests, SARIF and users' suppressions key
// on them, never on wording. Spans are offsets into the source text; they become
// line:column only at the edge (cli/render.ts, the manifest).

import { compareCodePoints } from './compare.js';

export type Severity = 'error' | 'warning' | 'info';

/** A half-open range [start, end) of UTF-16 offsets into one source file's text. */
export interface SourceSpan {
  readonly file: string;
  readonly start: number;
  readonly end: number;
}

export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span?: SourceSpan;
  /** What to do next: the nearest valid name, the allowed values, the line to add. */
  readonly help?: string;
}

interface DiagnosticTemplate {
  readonly code: string;
  readonly severity: Severity;
  /** `{0}`, `{1}`… are replaced by the arguments, in order. */
  readonly message: string;
}

function template(code: string, severity: Severity, message: string): DiagnosticTemplate {
  return { code, severity, message };
}

export const Messages = {
  // VP10xx — reading the spec file
  FileUnreadable: template('VP1001', 'error', 'cannot read {0}: {1}'),
  NotUtf8: template('VP1002', 'error', 'the spec is not valid UTF-8 (first bad byte at offset {0})'),
  FileTooLarge: template('VP1003', 'error', '{0} is {1} bytes; vmipolicy reads {2} of at most {3} bytes'),
  NotRegularFile: template('VP1004', 'error', 'cannot read {0} {1}: it is {2}, not a regular file'),
  YamlSyntax: template('VP1010', 'error', 'YAML syntax error: {0}'),
  DuplicateKey: template('VP1011', 'error', 'duplicate key "{0}"'),
  AliasNotAllowed: template('VP1012', 'error', 'YAML anchors and aliases are not allowed in a spec'),
  MultipleDocuments: template('VP1013', 'error', 'a spec is one YAML document; found {0}'),
  EmptySpec: template('VP1014', 'error', 'the spec is empty'),
  NonStringKey: template('VP1015', 'error', 'mapping keys must be plain strings'),
  TabIndent: template('VP1016', 'error', 'a tab indents this line: YAML indents with spaces only'),
  // VP11xx — JSON Schema
  UnknownField: template('VP1101', 'error', 'unknown field "{0}" in {1}'),
  WrongType: template('VP1102', 'error', '{0} must be {1}'),
  MissingField: template('VP1103', 'error', '{0} is missing the required field "{1}"'),
  NotAllowedValue: template('VP1104', 'error', '{0} must be one of: {1}'),
  UnsafeName: template('VP1105', 'error', '{0} "{1}" is not a safe name: {2}'),
  SchemaViolation: template('VP1106', 'error', '{0} {1}'),
  // VP12xx — meaning
  UnsupportedXen: template('VP1201', 'error', 'Xen {0} is not supported; vmipolicy knows {1}'),
  DuplicateName: template('VP1202', 'error', 'the domain name "{0}" is declared twice (first at {1})'),
  DuplicateType: template('VP1203', 'error', 'the type "{0}" is used by both "{1}" and "{2}"'),
  UnknownTarget: template('VP1204', 'error', 'introspector "{0}" targets "{1}", which is not a declared target'),
  TargetsItself: template('VP1205', 'error', 'introspector "{0}" lists itself as a target'),
  BuiltinType: template('VP1206', 'error', 'the type "{0}" is one of Xen\'s built-in types'),
  UnknownCapability: template('VP1207', 'error', 'unknown capability "{0}"'),
  CapabilityGuestKind: template('VP1208', 'error', '{0} cannot be granted on {1} target "{2}": {3}'),
  GuestKindRelease: template('VP1209', 'error', '{0} guests need Xen {1} or later; the spec says Xen {2}'),
  MissingPrerequisite: template('VP1210', 'error', '{0} {1} {2}, which introspector "{3}" does not declare'),
  ReservedName: template('VP1211', 'error', '{0} "{1}" is reserved: {2}'),
  DuplicateListEntry: template('VP1213', 'error', '"{0}" is listed twice in {1}'),
  DomainIsBoth: template('VP1214', 'error', '"{0}" is declared both as an introspector and as a target'),
  ForeignMapRefused: template('VP1215', 'error', '{0} cannot work from {1} introspector "{2}": {3}'),
  ScaleLimit: template('VP1217', 'error', 'the spec has {0} {1}; the limit is {2}'),
  ToolNeedsCapability: template('VP1216', 'error', 'tool {0} cannot work for introspector "{1}" without one of {2}: {3}'),
  // VP2xxx — warnings: the output is valid, but the user should know
  CannotBeReadOnly: template('VP2001', 'warning', '{0} is {1} introspector: Xen demands mmu:map_write on {2} for every foreign map it makes, so FLASK cannot confine it to reading'),
  Altp2mMixedOnly: template('VP2002', 'warning', 'Xen {0} has only the mixed altp2m mode: target "{1}" can drive its own altp2m views'),
  UnwatchedTarget: template('VP2003', 'warning', 'target "{0}" is not watched by any introspector'),
  BranchMeansFirstRelease: template('VP2005', 'info', 'xen: "{0}" means Xen {0}.0; from {1}, {2}'),
  ToolImpliesCapability: template('VP2006', 'info', 'tool {0} adds {1} to introspector "{2}": {3}'),
  WholeTargetWritable: template('VP2004', 'warning', '{0} give{1} "{2}" mmu:map_write on all of {3}: the vm_event ring page is mapped read-write and FLASK checks map_write per domain, not per page, so "{2}" may write any page of {3}'),
  // VP30xx — the policy language (policy.conf, .te after m4)
  PolicySyntax: template('VP3001', 'error', 'syntax error: {0}'),
  PolicyUnexpectedCharacter: template('VP3002', 'error', 'unexpected character "{0}"'),
  PolicyUnterminatedString: template('VP3003', 'error', 'unterminated string'),
  PolicyBadLineMarker: template('VP3004', 'error', 'malformed #line marker: {0}'),
  PolicyNotInConditional: template('VP3005', 'error', '{0} is not allowed inside an if block; only allow, auditallow, dontaudit, auditdeny and type rules are'),
  PolicyM4Failed: template('VP3006', 'error', 'm4 failed on {0}: {1}'),
  PolicyTreeIncomplete: template('VP3007', 'error', 'not a Xen policy tree: {0} is missing'),
  PolicySuspicious: template('VP3008', 'warning', '{0}'),
  PolicyWildcardNotAllowed: template('VP3009', 'error', '"{0}" is not allowed in {1} (checkpolicy: {0} not allowed in this type of rule)'),
  PolicyClassWildcard: template('VP3010', 'error', '"{0}" is not a class (checkpolicy: unknown class {0})'),
  // VP3020–VP3029 — expanding an untrusted policy tree: nothing outside it is read, nothing runs
  PolicyTreeEscape: template('VP3020', 'error', '{0} leads outside the policy tree (to {1}): m4 is given only the tree\'s own regular files'),
  PolicyM4BuiltinDisabled: template('VP3021', 'error', 'the m4 builtin "{0}" is disabled: expanding a policy tree runs no command and reads or writes no file but the tree\'s own'),
  // VP3030–VP3039 — binary policies (checkpolicy -t Xen output, /boot/xenpolicy-*)
  BinaryPolicyMalformed: template('VP3030', 'error', '{0} is not a readable Xen binary policy: at byte {1} (0x{2}), expected {3}'),
  BinaryPolicyUnwritable: template('VP3031', 'error', 'cannot write {0} as a binary policy: {1}'),
  // VP31xx — xl domain config files
  XlSyntax: template('VP3101', 'error', 'xl config syntax error: {0}'),
  XlUnterminatedString: template('VP3102', 'error', 'unterminated string'),
  XlDuplicateKey: template('VP3103', 'warning', '"{0}" is set twice; xl uses the last value'),
  XlBadLabel: template('VP3104', 'error', '{0} "{1}" is not a security context (user:role:type, with :level for MLS policies)'),
  XlWrongValueType: template('VP3105', 'error', '{0} must be {1}'),
  // VP32xx — `xenstore-ls -p` output
  XenstoreLsSyntax: template('VP3201', 'error', 'cannot read this xenstore-ls -p line: {0}'),
  XenstoreLsBadPerm: template('VP3202', 'error', 'bad permission "{0}": expected r, w, b or n followed by a domid'),
  XenstoreLsIndent: template('VP3203', 'error', 'indentation does not match any parent node'),
  XenstoreLsBadNodeName: template('VP3204', 'error', 'xenstored never creates the node name "{0}": it holds the character {1}'),
  XenstoreLsPathTooLong: template('VP3205', 'error', 'this node\'s path is {0} characters long; xenstored accepts at most {1}'),
  // VP33xx — the policy model (what checkpolicy would also refuse)
  ModelUnknownType: template('VP3301', 'error', 'unknown type or attribute "{0}"'),
  ModelUnknownClass: template('VP3302', 'error', 'unknown class "{0}"'),
  ModelUnknownPermission: template('VP3303', 'error', '"{0}" is not a permission of class {1}'),
  ModelDuplicateDeclaration: template('VP3304', 'error', '{0} "{1}" is declared twice'),
  ModelUnknownRole: template('VP3305', 'error', 'unknown role "{0}"'),
  ModelUnknownBoolean: template('VP3306', 'error', 'unknown boolean "{0}"'),
  ModelUnknownCommon: template('VP3307', 'error', 'unknown common "{0}"'),
  ModelAliasTaken: template('VP3308', 'error', 'duplicate declaration of alias "{0}": it is already {1}'),
  ModelUnknownSid: template('VP3309', 'error', 'initial SID "{0}" is not declared'),
  ModelUnknownUser: template('VP3310', 'error', 'unknown user "{0}"'),
  ModelNotAType: template('VP3311', 'error', '"{0}" is an attribute, not a type'),
  ModelInvalidContext: template('VP3312', 'error', 'invalid security context: {0}'),
  ModelDeclaredLater: template('VP3314', 'error', '"{0}" is used before its declaration: checkpolicy reads type and attribute declarations in order'),
  ModelNotAnAttribute: template('VP3315', 'error', '"{0}" is a type, not an attribute'),
  ModelConflictingTypeRules: template('VP3316', 'error', 'conflicting {0} rules for {1}: one gives {2}, this one {3} (checkpolicy refuses a policy with both)'),
  ModelMlsIncomplete: template('VP3313', 'error', 'the MLS section has no {0}: checkpolicy -M needs sensitivities, a dominance statement, levels and at least one mlsconstrain or mlsvalidatetrans'),
  // VP34xx — the checker's inputs (spec against a given policy, xl labels, xenstore dumps)
  CheckExtraPolicy: template('VP3401', 'error', '{0} can only be added to a Xen policy tree (the first --policy), not to a policy.conf'),
  CheckBaseFallback: template('VP3402', 'warning', 'no Xen policy tree given: module "{0}" is checked inside vmipolicy\'s standalone host base for Xen {1}, not Xen\'s own stock policy'),
  CheckXenstoreKind: template('VP3403', 'error', '{0} is neither `xenstore-ls -p` output nor a xenstore-acl.sh written by vmipolicy'),
  CheckModuleName: template('VP3404', 'error', 'cannot add {0} to a Xen tree: a module file is named <name>.te with name matching [a-z][a-z0-9_]*'),
  CheckReleaseMismatch: template('VP3405', 'warning', 'the policy {0} declares the classes and permissions of {1}, not of Xen {2} as the spec says (classes that differ: {3}): the check holds for that policy, not for a Xen {2} hypervisor'),
  // VP36xx — Xen's console log (`xl dmesg`): avc lines read back
  AvcMalformed: template('VP3601', 'warning', 'this avc line is not one Xen prints ({0}); it is left out'),
  AvcGuestLine: template('VP3602', 'warning', 'domain {0} printed an avc line on its own console: a guest\'s text is not Xen\'s audit, and such lines are left out'),
  AvcReleaseFormat: template('VP3603', 'warning', 'this avc line is in the format of Xen {0}, but the spec says Xen {1}: classes and permissions are read as Xen {1} names them'),
  AvcUnknownPermission: template('VP3604', 'warning', '{0}: the line is left out'),
  // VP40xx — the VMI core: memory sources, paging, guest profiles
  SnapshotUnreadable: template('VP4001', 'error', 'cannot read snapshot {0}: {1}'),
  SnapshotMalformed: template('VP4002', 'error', '{0} is not a usable memory snapshot: {1}'),
  ProfileUnreadable: template('VP4010', 'error', 'cannot read guest profile {0}: {1}'),
  ProfileInvalid: template('VP4011', 'error', 'guest profile {0}: {1}'),
  // VP41xx — the simulated Xen host: xenstore script interpreter, domains
  XsScriptForbidden: template('VP4101', 'error', '{0} is not allowed in a xenstore ACL script'),
  XsScriptUnknownCommand: template('VP4102', 'error', 'unknown command "{0}": an ACL script only sets its own PATH and LC_ALL, resolves domids and runs xenstore-chmod'),
  XsScriptNotEmitted: template('VP4103', 'error', 'this line is not what vmipolicy emits: {0}'),
  XsScriptUndefinedVariable: template('VP4104', 'error', '"{0}" is used before it is set'),
  XsScriptUnterminatedQuote: template('VP4105', 'error', 'unterminated quote'),
  XsScriptOption: template('VP4106', 'error', '"{0}" would be read by xenstore-chmod as an option'),
  XsScriptNoSetEu: template('VP4107', 'error', 'a command runs before "set -eu"'),
  XsScriptDomainNotRunning: template('VP4110', 'error', "domain '{0}' is not running (xl domid failed)"),
  XsScriptBadDomid: template('VP4111', 'error', "'xl domid {0}' printed '{1}', not a domid"),
  XsScriptChmodFailed: template('VP4112', 'error', 'xenstore-chmod {0} failed: {1}'),
  XsDumpNotApplied: template('VP4113', 'warning', 'the ACL of {0} could not be applied: {1}'),
  // VP50xx — the privilege diff: its inputs (git revisions, kinds of file)
  DiffBadGitRef: template('VP5001', 'error', '"{0}" is not a usable git:REV:path reference: {1}'),
  DiffGitFailed: template('VP5002', 'error', 'cannot read {0} from git: {1}'),
  DiffInputUnreadable: template('VP5003', 'error', 'cannot diff {0}: {1}'),
  DiffGitTooLarge: template('VP5004', 'error', 'refusing to read {0} from git: {1} is {2} bytes, over the limit of {3}'),
  // VP9xxx — the output directory
  OutputNotOurs: template('VP9001', 'error', 'refusing to replace {0}: it exists and was not written by vmipolicy (no manifest.json of ours)'),
  OutputFailed: template('VP9002', 'error', 'could not write {0}: {1}'),
  OutputSymlink: template('VP9003', 'error', 'refusing to write {0}: {1} is a symbolic link'),
  OutputRecovered: template('VP9004', 'warning', 'an earlier run writing {0} was interrupted: {1}'),
  OutputLeftover: template('VP9005', 'error', 'cannot recover {0} from an interrupted run: {1}'),
  CliUsage: template('VP9010', 'error', '{0}'),
  SelftestBoot: template('VP9011', 'error', 'cannot boot the simulated host: {0}'),
} as const satisfies Record<string, DiagnosticTemplate>;

export type MessageName = keyof typeof Messages;

export function diagnostic(
  name: MessageName,
  args: readonly (string | number)[],
  span?: SourceSpan,
  help?: string,
): Diagnostic {
  const t = Messages[name];
  const message = t.message.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)] ?? ''));
  return { code: t.code, severity: t.severity, message, ...(span ? { span } : {}), ...(help ? { help } : {}) };
}

/** VP1001 for a file that could not be read, with the system's reason (ENOENT, EACCES, …). */
export function fileUnreadable(path: string, error: unknown): Diagnostic {
  return diagnostic('FileUnreadable', [path, (error as NodeJS.ErrnoException).code ?? (error as Error).message]);
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Source order, then code: the order users read them in, and deterministic. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      compareCodePoints(a.span?.file ?? '', b.span?.file ?? '') ||
      (a.span?.start ?? -1) - (b.span?.start ?? -1) ||
      compareCodePoints(a.code, b.code) ||
      compareCodePoints(a.message, b.message),
  );
}
