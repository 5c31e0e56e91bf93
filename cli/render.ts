// Diagnostics at the command line's edge: each is rendered on stderr for people
// (report/diagnostics.ts) and recorded for the JSON, SARIF or markdown document a machine
// reads (cli/machine.ts), placed the same way.

import type { Diagnostic } from '../core/diagnostics.js';
import type { PlacedDiagnostic } from '../core/located.js';
import type { SourceText } from '../core/source.js';
import { locatePlaced, placedIn, renderPlaced, type LocatedDiagnostic } from '../report/diagnostics.js';
import { terminalSafe } from '../core/terminal.js';
import { recordDiagnostic, type Io } from './io.js';

/**
 * The one exit for a diagnostic about the input: on stderr, and recorded for machine formats.
 * `alike`: where the same warning was met again, said in one line under it instead of repeated.
 */
function reportPlaced(io: Io, p: PlacedDiagnostic, alike: readonly LocatedDiagnostic[] = []): void {
  if (!io.quiet || p.diagnostic.severity === 'error') io.stderr(renderPlaced(p, { colour: io.colour === true }) + '\n' + alikeLine(alike));
  recordDiagnostic(io, locatePlaced(p));
}

/** Places listed in the line under a repeated warning; the rest are counted. */
const ALIKE_LISTED = 5;

function alikeLine(alike: readonly LocatedDiagnostic[]): string {
  if (alike.length === 0) return '';
  const places = alike.slice(0, ALIKE_LISTED).map((d) => `${d.file ?? '?'}${d.line !== undefined ? `:${d.line}:${d.column ?? 1}` : ''}`);
  const rest = alike.length - places.length;
  return `  and ${alike.length} more like this one: ${terminalSafe(places.join(', '))}${rest > 0 ? ` and ${rest} more` : ''}\n`;
}

/**
 * Every diagnostic, in order — except that a warning (or note) met again word for word, help
 * and file included, is shown once with a count and where else it was met (a log of a
 * thousand malformed avc lines is one warning on the terminal, not a thousand). Errors are
 * each shown: each is a mistake to put right. Machine formats still record every one.
 */
export function reportAll(io: Io, diagnostics: readonly PlacedDiagnostic[]): void {
  const first = new Map<string, number>();
  const alike = new Map<number, LocatedDiagnostic[]>();
  const repeat = new Set<number>();
  diagnostics.forEach((p, i) => {
    const d = p.diagnostic;
    if (d.severity === 'error') return;
    const key = JSON.stringify([d.severity, d.code, d.message, d.help ?? '', d.span?.file ?? '']);
    const at = first.get(key);
    if (at === undefined) return void first.set(key, i);
    repeat.add(i);
    alike.set(at, [...(alike.get(at) ?? []), locatePlaced(p)]);
  });
  diagnostics.forEach((p, i) => {
    if (repeat.has(i)) recordDiagnostic(io, locatePlaced(p));
    else reportPlaced(io, p, alike.get(i));
  });
}

/** reportPlaced for a diagnostic whose span may be in `source`. */
export function reportSourceDiagnostic(io: Io, d: Diagnostic, source: SourceText | undefined): void {
  reportPlaced(io, placedIn(d, source));
}
