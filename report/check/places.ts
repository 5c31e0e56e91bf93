// Where a finding's places are shown in prose: a place in a file the user has is written as
// it is; a policy rule, xl or xenstore line of compiled output the check read from memory and
// never wrote (api/check.ts CheckOutcome.unwritten: the policy.conf, the module compiled into
// a --xen-tree, xl snippets and xenstore-acl.sh of the spec) is written at the finding's spec
// line, the declaration it was compiled from — as SARIF locates such a finding
// (report/check/sarif.ts). Not "every file that is not on disk": a deployed policy's #line
// markers may name sources the reader has elsewhere, and those keep their names.

import type { Finding, Location } from '../../checker/findings.js';
import { atLine, type PlaceWriter } from '../../checker/messages.js';

interface FindingPlaces {
  /** The finding's spec declaration, where a place that cannot be opened is shown. */
  readonly spec?: Location;
  /** Whether `l` is shown at the spec line instead of its own (it is in compiled output never written). */
  readonly moved: (l: Location) => boolean;
  /** How the finding's prose writes a place: `file:line`, at the spec line when moved. */
  readonly place: PlaceWriter;
}

export function findingPlaces(f: Finding, unwritten: (file: string) => boolean = () => false): FindingPlaces {
  const spec = f.provenance.find((l) => l.kind === 'spec');
  const moved = (l: Location): boolean => spec !== undefined && l.kind !== 'spec' && unwritten(l.file);
  return { ...(spec ? { spec } : {}), moved, place: (l) => atLine(moved(l) ? (spec as Location) : l) };
}
