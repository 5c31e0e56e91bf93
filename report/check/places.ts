// Where a finding's places are shown, decided once for every renderer that writes prose
// (report/check/text.ts, report/check/sarif.ts): a place the reader can open is written as
// it is; a policy rule, xl or xenstore line in a file the reader cannot open — the policy.conf
// a check compiles in memory and never writes — is written at the finding's spec line, the
// declaration the compiled rule comes from. Which files open is the caller's knowledge (the
// CLI's: cli/sarif-placement.ts onDisk); without it every file opens.

import type { Finding, Location } from '../../checker/findings.js';
import { atLine, type PlaceWriter } from '../../checker/messages.js';

interface FindingPlaces {
  /** The finding's spec declaration, where a place that cannot be opened is shown. */
  readonly spec?: Location;
  /** Whether `l` is shown at the spec line instead of its own. */
  readonly moved: (l: Location) => boolean;
  /** How the finding's prose writes a place: `file:line`, at the spec line when moved. */
  readonly place: PlaceWriter;
}

export function findingPlaces(f: Finding, opens: (file: string) => boolean = () => true): FindingPlaces {
  const spec = f.provenance.find((l) => l.kind === 'spec');
  const moved = (l: Location): boolean => spec !== undefined && l.kind !== 'spec' && !opens(l.file);
  return { ...(spec ? { spec } : {}), moved, place: (l) => atLine(moved(l) ? (spec as Location) : l) };
}
