// The spec schema's validator is generated ahead of time (compiler/schema-validator.generated.ts,
// by tools/generate-schema-validator.ts). It must be what the generator makes of today's schema,
// and it must judge every document — valid specs, broken ones, arbitrary JSON — exactly as a
// validator ajv compiles from the schema at run time with the same options: the same verdict
// and the same errors (keyword, paths, params, message, schema and parentSchema, which
// compiler/schema.ts reads "allowed here" lists from).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { SPEC_SCHEMA, SPEC_SCHEMA_AJV_OPTIONS } from '../compiler/schema.js';
import { validateSpec as generated } from '../compiler/schema-validator.generated.js';
import { firstDifference } from '../tools/generate-catalog.js';
import { generateSchemaValidator, SCHEMA_VALIDATOR_FILE } from '../tools/generate-schema-validator.js';
import { specArbitrary } from './support/arbitrary.js';
import { EXAMPLES, repoPath } from './support/env.js';

const RANDOM_RUNS = Number(process.env.VMIPOLICY_RANDOM_RUNS ?? 200);

const runtime: ValidateFunction = new Ajv2020(SPEC_SCHEMA_AJV_OPTIONS).compile(SPEC_SCHEMA);
const standalone = generated as unknown as ValidateFunction;

/** What a validator says of a document. */
function verdict(validate: ValidateFunction, data: unknown): unknown {
  const ok = validate(data);
  return { ok, errors: validate.errors ?? null };
}

function assertSameVerdict(data: unknown): void {
  // Each validator gets its own copy: ajv may fill in defaults (it does not with these
  // options, and a difference there would be a difference too).
  const copy = (): unknown => (data === undefined ? undefined : structuredClone(data));
  assert.deepEqual(verdict(standalone, copy()), verdict(runtime, copy()), JSON.stringify(data));
}

/** A JSON path into a document: object keys and array indices. */
type Path = readonly (string | number)[];

function paths(v: unknown, at: Path = []): Path[] {
  if (v === null || typeof v !== 'object') return [at];
  const children = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return [at, ...children.flatMap(([k, x]) => paths(x, [...at, k]))];
}

/** The document with the value at `path` replaced (`undefined`: the key removed, or the item). */
function replaced(v: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(v)) {
    const out = [...v];
    if (rest.length === 0 && value === undefined) out.splice(head as number, 1);
    else out[head as number] = replaced(v[head as number], rest, value);
    return out;
  }
  const out = { ...(v as Record<string, unknown>) };
  if (rest.length === 0 && value === undefined) delete out[head as string];
  else out[head as string] = replaced(out[head as string], rest, value);
  return out;
}

describe('the generated spec validator', () => {
  it('is what the generator makes of schema/spec-v1.schema.json', () => {
    const committed = readFileSync(repoPath(SCHEMA_VALIDATOR_FILE), 'utf8');
    const difference = firstDifference(committed, generateSchemaValidator(SPEC_SCHEMA), SCHEMA_VALIDATOR_FILE, 'regenerated (npm run generate:schema)');
    if (difference !== undefined) assert.fail(`the committed validator is stale:\n${difference}`);
  });

  it('judges the examples as ajv does at run time', () => {
    for (const example of EXAMPLES) {
      const spec: unknown = parse(readFileSync(repoPath('examples', example, 'vmi.yaml'), 'utf8'));
      assert.equal(standalone(structuredClone(spec)), true, example);
      assertSameVerdict(spec);
    }
  });

  it('judges hand-picked broken specs as ajv does, every error kind included', () => {
    const spec = parse(readFileSync(repoPath('examples', 'tinyvmi', 'vmi.yaml'), 'utf8')) as Record<string, unknown>;
    const broken: unknown[] = [
      undefined, null, 42, 'spec', [], {},
      { ...spec, extra: 1 },                                             // additionalProperties
      replaced(spec, ['xen'], '4.7'),                                    // pattern
      replaced(spec, ['xen'], 4.19),                                     // type
      replaced(spec, ['vmipolicy'], 2),                                  // const
      replaced(spec, ['policy', 'module'], 'Bad-Name'),                  // pattern
      replaced(spec, ['policy', 'mode'], 'both'),                        // enum
      replaced(spec, ['introspectors'], []),                             // minItems
      replaced(spec, ['introspectors', 0, 'capabilities', 0], 'x-ray'),  // enum inside $ref
      replaced(spec, ['introspectors', 0, 'targets'], ['a', 'a']),       // uniqueItems
      replaced(spec, ['targets', 0, 'name'], undefined),                 // required
      replaced(spec, ['targets', 0, 'description'], 'x'.repeat(501)),    // maxLength
      replaced(spec, ['targets', 0, 'description'], '\u{1F600}'.repeat(300)), // maxLength counts code points
    ];
    for (const doc of broken) assertSameVerdict(doc);
  });

  it('judges random valid specs, and the same specs broken at a random place, as ajv does', () => {
    const anyValue = fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('pv', 'hvm', 'read-memory', 'a_t', '4.19', 'x.vm', ''));
    fc.assert(
      fc.property(specArbitrary(), fc.nat(), anyValue, (spec, at, value) => {
        assertSameVerdict(spec);
        const all = paths(spec);
        assertSameVerdict(replaced(spec, all[at % all.length] as Path, value));
      }),
      { numRuns: RANDOM_RUNS },
    );
  });

  it('judges arbitrary JSON as ajv does', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (doc) => assertSameVerdict(doc)), { numRuns: RANDOM_RUNS });
  });
});
