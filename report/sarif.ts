// SARIF 2.1.0 pieces shared by the check's report and the diff's: a physical location and the
// one-run log around a tool's rules and results. Both outputs then read the same way in code
// scanning UIs, and both validate against the same schema.

import { compareCodePoints } from '../core/compare.js';

/** A diagnostic about the input, placed in the user's file (1-based) when it has a span. */
export interface SarifDiagnostic {
  readonly code: string;
  readonly severity: 'error' | 'warning' | 'info' | 'note';
  readonly message: string;
  readonly help?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}

/** A place in a file, 1-based; `text` becomes the region's snippet. */
export interface SarifPlace {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
  readonly text?: string;
}

/** Relative paths stay relative (SARIF resolves them against the checkout); separators become '/'. */
function toUri(file: string): string {
  return file.split(/[\\/]/).map(encodeURIComponent).join('/');
}

export function sarifLocation(l: SarifPlace, message?: string): Record<string, unknown> {
  return {
    physicalLocation: {
      artifactLocation: { uri: toUri(l.file) },
      region: {
        startLine: Math.max(1, l.line),
        ...(l.column ? { startColumn: Math.max(1, l.column) } : {}),
        ...(l.text ? { snippet: { text: l.text } } : {}),
      },
    },
    ...(message ? { message: { text: message } } : {}),
  };
}

export interface SarifRule {
  readonly id: string;
  readonly text: string;
  readonly name?: string;
  readonly helpUri?: string;
  readonly level?: 'error' | 'warning' | 'note';
}

/** The whole log: one run of vmipolicy with these rules and results. */
export function sarifLog(version: string, rules: readonly SarifRule[], results: readonly Record<string, unknown>[], properties?: Record<string, unknown>): string {
  return JSON.stringify({
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'vmipolicy',
          version,
          informationUri: 'https://github.com/vmipolicy/vmipolicy',
          rules: rules.map((r) => ({
            id: r.id,
            ...(r.name ? { name: r.name } : {}),
            shortDescription: { text: r.text },
            ...(r.helpUri ? { helpUri: r.helpUri } : {}),
            ...(r.level ? { defaultConfiguration: { level: r.level } } : {}),
          })),
        },
      },
      results,
      ...(properties ? { properties } : {}),
    }],
  }, null, 2) + '\n';
}

/** One SARIF result per diagnostic: the VP code is the rule, placed where the input went wrong. */
export function diagnosticsSarifResults(diagnostics: readonly SarifDiagnostic[]): Record<string, unknown>[] {
  return diagnostics.map((d) => ({
    ruleId: d.code,
    level: d.severity === 'info' ? 'note' : d.severity,
    message: { text: d.help ? `${d.message}. ${d.help}` : d.message },
    locations: d.file !== undefined && d.file !== '' ? [sarifLocation({ file: d.file, line: d.line ?? 1, ...(d.column ? { column: d.column } : {}) })] : [],
  }));
}

/** The reporting descriptors of the codes among `diagnostics`, in code order. */
export function diagnosticsSarifRules(diagnostics: readonly SarifDiagnostic[]): SarifRule[] {
  const codes = [...new Set(diagnostics.map((d) => d.code))].sort(compareCodePoints);
  return codes.map((code) => ({ id: code, text: `vmipolicy input diagnostic ${code}`, helpUri: 'https://github.com/vmipolicy/vmipolicy/blob/main/README.md' }));
}
