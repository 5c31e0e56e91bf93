// SARIF 2.1.0 pieces shared by the check's report and the diff's: a physical location and the
// one-run log around a tool's rules and results. Both outputs then read the same way in code
// scanning UIs, and both validate against the same schema.

import { pathToFileURL } from 'node:url';
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
interface SarifPlace {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
  readonly text?: string;
}

/**
 * Where locations point. Code scanning shows a result only at a file of the repository it was
 * uploaded for, named relative to the checkout, and refuses a result with no location at all.
 * So, given a placement, a location names a file under `root` (written relative to it, with
 * the base id SRCROOT set to `root`), and a place that is no such file — compiled output that
 * was never written, a file outside the repository — is left out. Without a placement (a
 * library caller that only reads the document) file names are written as the report has them.
 */
export interface SarifPlacement {
  /** The absolute directory relative URIs are resolved against. */
  readonly root: string;
  /** The place's file as a '/'-separated path relative to root, or undefined when it is no file there. */
  readonly open: (file: string) => string | undefined;
}

const SRCROOT = 'SRCROOT';

/** Relative paths stay relative (SARIF resolves them against the checkout); separators become '/'. */
function toUri(file: string): string {
  return file.split(/[\\/]/).map(encodeURIComponent).join('/');
}

/** One location, or undefined when the placement cannot open its file. */
function sarifLocation(l: SarifPlace, placement: SarifPlacement | undefined): Record<string, unknown> | undefined {
  const path = placement ? placement.open(l.file) : l.file;
  if (path === undefined) return undefined;
  return {
    physicalLocation: {
      artifactLocation: { uri: toUri(path), ...(placement ? { uriBaseId: SRCROOT } : {}) },
      region: {
        startLine: Math.max(1, l.line),
        ...(l.column ? { startColumn: Math.max(1, l.column) } : {}),
        ...(l.text ? { snippet: { text: l.text } } : {}),
      },
    },
  };
}

/**
 * A result's `locations` (the first of `places` that can be opened, else `fallback`) and its
 * `relatedLocations` (the others that can, each with its message). A result always gets one
 * location: with nothing to open, the fallback is written as named.
 */
export function resultLocations(
  places: readonly { readonly place: SarifPlace; readonly message?: string }[],
  placement: SarifPlacement | undefined,
  fallback?: SarifPlace,
): { locations: Record<string, unknown>[]; relatedLocations?: Record<string, unknown>[] } {
  const opened = places.flatMap(({ place, message }) => {
    const location = sarifLocation(place, placement);
    return location ? [{ location, message }] : [];
  });
  const [first, ...rest] = opened;
  const primary = first?.location ?? (fallback ? (sarifLocation(fallback, placement) ?? sarifLocation(fallback, undefined)) : undefined);
  const related = rest.map((r, i) => ({ id: i + 1, ...r.location, ...(r.message ? { message: { text: r.message } } : {}) }));
  return { locations: primary ? [primary] : [], ...(related.length ? { relatedLocations: related } : {}) };
}

/** A code-flow step: its location when the placement can open it, and its message. */
export function flowLocation(place: SarifPlace | undefined, message: string, placement: SarifPlacement | undefined): Record<string, unknown> {
  const location = place ? sarifLocation(place, placement) : undefined;
  return { ...location, message: { text: message } };
}

/**
 * `partialFingerprints` for each result: its identity key (no line numbers, so unrelated edits
 * above it keep it), made unique in result order where two results share a key, since code
 * scanning merges the results of one fingerprint into one alert.
 */
/** Text without `:LINE` and `:LINE:COLUMN` references, so that a fingerprint does not move with lines. */
export function withoutPositions(text: string): string {
  return text.replace(/:\d+(?::\d+)?\b/g, '');
}

export function uniqueFingerprints(keys: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return keys.map((key) => {
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n === 1 ? key : `${key}#${n}`;
  });
}

interface SarifRule {
  readonly id: string;
  readonly text: string;
  readonly name?: string;
  /** A longer statement of what the rule proves. */
  readonly full?: string;
  /** What to do about a result of the rule. */
  readonly help?: string;
  readonly helpUri?: string;
  readonly level?: 'error' | 'warning' | 'note';
  /** GitHub's severity scale, 0.1–10 (9+ critical, 7+ high, 4+ medium). */
  readonly securitySeverity?: number;
}

/** The whole log: one run of vmipolicy with these rules and results. */
export function sarifLog(version: string, rules: readonly SarifRule[], results: readonly Record<string, unknown>[], properties?: Record<string, unknown>, placement?: SarifPlacement): string {
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
            ...(r.full ? { fullDescription: { text: r.full } } : {}),
            ...(r.help ? { help: { text: r.help } } : {}),
            ...(r.helpUri ? { helpUri: r.helpUri } : {}),
            ...(r.level ? { defaultConfiguration: { level: r.level } } : {}),
            ...(r.securitySeverity !== undefined ? { properties: { tags: ['security'], 'security-severity': r.securitySeverity.toFixed(1) } } : {}),
          })),
        },
      },
      ...(placement ? { originalUriBaseIds: { [SRCROOT]: { uri: directoryUri(placement.root) } } } : {}),
      results,
      ...(properties ? { properties } : {}),
    }],
  }, null, 2) + '\n';
}

/** An absolute directory as a file URI ending in '/', as originalUriBaseIds wants it. */
function directoryUri(dir: string): string {
  const href = pathToFileURL(dir).href;
  return href.endsWith('/') ? href : `${href}/`;
}

/**
 * One SARIF result per diagnostic: the VP code is the rule, placed where the input went wrong,
 * or at `fallback` (the file the command was given) when it has no file of its own.
 */
export function diagnosticsSarifResults(diagnostics: readonly SarifDiagnostic[], placement?: SarifPlacement, fallback?: string): Record<string, unknown>[] {
  const fingerprints = uniqueFingerprints(diagnostics.map((d) => `${d.code}/${d.file ?? ''}/${withoutPositions(d.message)}`));
  return diagnostics.map((d, i) => {
    const own = d.file !== undefined && d.file !== '' ? [{ place: { file: d.file, line: d.line ?? 1, ...(d.column ? { column: d.column } : {}) } }] : [];
    return {
      ruleId: d.code,
      level: d.severity === 'info' ? 'note' : d.severity,
      message: { text: d.help ? `${d.message}. ${d.help}` : d.message },
      ...resultLocations(own, placement, fallback !== undefined ? { file: fallback, line: 1 } : undefined),
      partialFingerprints: { vmipolicyDiagnostic: fingerprints[i] },
    };
  });
}

/** The reporting descriptors of the codes among `diagnostics`, in code order. */
export function diagnosticsSarifRules(diagnostics: readonly SarifDiagnostic[]): SarifRule[] {
  const codes = [...new Set(diagnostics.map((d) => d.code))].sort(compareCodePoints);
  return codes.map((code) => ({ id: code, text: `vmipolicy input diagnostic ${code}`, helpUri: 'https://github.com/vmipolicy/vmipolicy/blob/main/README.md' }));
}
