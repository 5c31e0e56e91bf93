// Diagnostics at the command line's edge: each is rendered on stderr for people
// (report/diagnostics.ts) and recorded for the JSON, SARIF or markdown document a machine
// reads (cli/machine.ts), placed the same way.

import type { Diagnostic } from '../core/diagnostics.js';
import type { PlacedDiagnostic } from '../core/located.js';
import type { SourceText } from '../core/source.js';
import { locatePlaced, placedIn, renderPlaced } from '../report/diagnostics.js';
import type { Io } from './io.js';
import { recordDiagnostic } from './machine.js';

/** The one exit for a diagnostic about the input: on stderr, and recorded for machine formats. */
export function reportPlaced(io: Io, p: PlacedDiagnostic): void {
  if (!io.quiet || p.diagnostic.severity === 'error') io.stderr(renderPlaced(p, { colour: io.colour === true }) + '\n');
  recordDiagnostic(io, locatePlaced(p));
}

export function reportAll(io: Io, diagnostics: readonly PlacedDiagnostic[]): void {
  for (const p of diagnostics) reportPlaced(io, p);
}

/** reportPlaced for a diagnostic whose span may be in `source`. */
export function reportSourceDiagnostic(io: Io, d: Diagnostic, source: SourceText | undefined): void {
  reportPlaced(io, placedIn(d, source));
}
