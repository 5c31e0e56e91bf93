// SARIF as the tests judge it: the SARIF 2.1.0 schema (the published one, from
// @microsoft/jest-sarif), and what GitHub code scanning demands of an upload for a repository.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import AjvDraft04 from 'ajv-draft-04';

const require = createRequire(import.meta.url);
const SARIF_SCHEMA = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object;
const Ajv = AjvDraft04 as unknown as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
// The published schema has a pattern that is not a valid Unicode regular expression.
export const validateSarif = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false, validateFormats: false, logger: false }).compile(SARIF_SCHEMA);

interface ArtifactLocation { uri: string; uriBaseId?: string }
export interface SarifLocation { physicalLocation?: { artifactLocation: ArtifactLocation; region: { startLine: number } } }
export interface SarifResult {
  ruleId: string;
  locations: SarifLocation[];
  relatedLocations?: SarifLocation[];
  codeFlows?: { threadFlows: { locations: { location: SarifLocation }[] }[] }[];
  partialFingerprints?: Record<string, string>;
}
export interface SarifRun {
  originalUriBaseIds?: Record<string, { uri: string }>;
  tool: { driver: { rules: { id: string; shortDescription?: { text: string }; fullDescription?: { text: string }; help?: { text: string }; properties?: Record<string, unknown> }[] } };
  results: SarifResult[];
}

/** A result's locations, related locations and the code-flow steps that have a place. */
export function allLocations(r: SarifResult): SarifLocation[] {
  const steps = (r.codeFlows ?? []).flatMap((f) => f.threadFlows.flatMap((t) => t.locations.map((l) => l.location)));
  return [...r.locations, ...(r.relatedLocations ?? []), ...steps.filter((l) => l.physicalLocation)];
}

/**
 * Everything code scanning demands of a document uploaded for the repository at `root`: valid
 * SARIF 2.1.0; every location a file of the repository, relative to SRCROOT = root; exactly
 * one location per result (a result without one is refused); fingerprints unique (results
 * sharing one are merged into one alert).
 */
export function assertUploadable(text: string, root: string): SarifRun {
  const sarif = JSON.parse(text) as { runs: SarifRun[] };
  assert.equal(validateSarif(sarif), true, JSON.stringify(validateSarif.errors, null, 1));
  const run = sarif.runs[0] as SarifRun;
  assert.equal(run.originalUriBaseIds?.SRCROOT?.uri, `${pathToFileURL(root).href}/`);
  for (const r of run.results) {
    assert.equal(r.locations.length, 1, `${r.ruleId}: a result needs exactly one location`);
    for (const l of allLocations(r)) {
      const a = l.physicalLocation?.artifactLocation as ArtifactLocation;
      assert.equal(a.uriBaseId, 'SRCROOT', `${r.ruleId}: ${a.uri} is not relative to the root`);
      const file = join(root, ...a.uri.split('/').map(decodeURIComponent));
      assert.ok(existsSync(file), `${r.ruleId}: location ${a.uri} is no file of the repository`);
    }
  }
  const fingerprints = run.results.map((r) => JSON.stringify(r.partialFingerprints ?? null));
  assert.equal(new Set(fingerprints).size, fingerprints.length, 'two results share a fingerprint');
  return run;
}
