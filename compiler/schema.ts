// Phase 2: structural validation against the published JSON Schema (the same file editors
// use through `# yaml-language-server: $schema=`), with every ajv error turned into a
// positioned diagnostic that says what is allowed instead.
//
// The validator is ajv's standalone code for the schema, generated ahead of time into
// schema-validator.generated.ts by tools/generate-schema-validator.ts: compiling the schema
// at start-up (and loading ajv's compiler to do it) was ~0.1 s of every run.
// test/schema-validator.test.ts checks that regenerating changes nothing and that the
// generated validator and one ajv compiles at run time give the same errors.

import { readFileSync } from 'node:fs';
import type { ErrorObject, Options, ValidateFunction } from 'ajv/dist/2020.js';
import { diagnostic, type Diagnostic } from '../core/diagnostics.js';
import type { JsonPath, LoadedSpec } from './load.js';
import { DOMAIN_NAME_PATTERN, DOMAIN_NAME_RULE, MODULE_NAME_PATTERN, MODULE_NAME_RULE, nearest, TYPE_NAME_PATTERN, TYPE_NAME_RULE } from './names.js';
import { validateSpec as generatedValidator } from './schema-validator.generated.js';
import { nearestRelease, XEN_RELEASES } from '../catalog/vocabulary.js';

export const SPEC_SCHEMA_URL = new URL('../../schema/spec-v1.schema.json', import.meta.url);
export const SPEC_SCHEMA: Record<string, unknown> = JSON.parse(readFileSync(SPEC_SCHEMA_URL, 'utf8')) as Record<string, unknown>;

/**
 * How ajv compiles the schema, for the generator and the test. verbose: errors carry
 * parentSchema, from which "allowed here" lists are read.
 */
export const SPEC_SCHEMA_AJV_OPTIONS: Readonly<Options> = { allErrors: true, strict: true, verbose: true };

// The generated module is plain JavaScript (type-checking off); its one export is an ajv
// validate function.
const validateSpec = generatedValidator as unknown as ValidateFunction;

const PATTERN_RULES: Readonly<Record<string, { what: string; rule: string }>> = {
  [DOMAIN_NAME_PATTERN]: { what: 'domain name', rule: DOMAIN_NAME_RULE },
  [TYPE_NAME_PATTERN]: { what: 'type', rule: TYPE_NAME_RULE },
  [MODULE_NAME_PATTERN]: { what: 'module name', rule: MODULE_NAME_RULE },
};

function parsePointer(pointer: string): JsonPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

/** `introspectors[0].capabilities[2]` — how users read a location in their spec. */
function describePath(path: JsonPath): string {
  if (path.length === 0) return 'the spec';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
}

function typeWord(t: unknown): string {
  switch (t) {
    case 'array': return 'a list';
    case 'object': return 'a mapping';
    case 'string': return 'a string';
    case 'integer': return 'a whole number';
    default: return show(t);
  }
}

export function validateAgainstSchema(spec: LoadedSpec): Diagnostic[] {
  if (validateSpec(spec.value)) return [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of validateSpec.errors ?? []) {
    const d = toDiagnostic(e, spec);
    if (!d) continue;
    const key = `${d.code}|${d.span?.start}|${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

function toDiagnostic(e: ErrorObject, spec: LoadedSpec): Diagnostic | undefined {
  const path = parsePointer(e.instancePath);
  const where = describePath(path);
  const value = valueAt(spec.value, path);
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String((e.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys((e.parentSchema as { properties?: Record<string, unknown> }).properties ?? {});
      const near = nearest(field, allowed);
      return diagnostic('UnknownField', [field, where], spec.locate([...path, field], 'key'),
        near ? `did you mean "${near}"? Allowed here: ${allowed.join(', ')}` : `allowed here: ${allowed.join(', ')}`);
    }
    case 'required': {
      const field = String((e.params as { missingProperty: string }).missingProperty);
      return diagnostic('MissingField', [where, field], spec.locate(path), `add "${field}:"`);
    }
    case 'type':
      return diagnostic('WrongType', [where, typeWord((e.params as { type: unknown }).type)], spec.locate(path));
    case 'enum': {
      const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(show);
      const got = show(value);
      const near = (path.length === 1 && path[0] === 'xen' ? nearestRelease(got, allowed) : undefined) ?? nearest(got, allowed);
      const help = near ? `did you mean "${near}"?` : undefined;
      if (path.length === 1 && path[0] === 'xen') {
        return diagnostic('UnsupportedXen', [got, allowed.join(', ')], spec.locate(path), help ?? 'write the release as a quoted string, e.g. xen: "4.19"');
      }
      if (path[path.length - 2] === 'capabilities') {
        return diagnostic('UnknownCapability', [got], spec.locate(path), `${help ? help + ' ' : ''}Capabilities: ${allowed.join(', ')}`);
      }
      return diagnostic('NotAllowedValue', [where, allowed.join(', ')], spec.locate(path), help);
    }
    case 'const':
      return diagnostic('NotAllowedValue', [where, show((e.params as { allowedValue: unknown }).allowedValue)], spec.locate(path));
    case 'pattern': {
      if (path.length === 1 && path[0] === 'xen') {
        const got = show(value);
        const near = nearestRelease(got) ?? nearest(got, XEN_RELEASES);
        return diagnostic('UnsupportedXen', [got, XEN_RELEASES.join(', ')], spec.locate(path),
          `${near ? `did you mean "${near}"? ` : ''}write a branch or a point release as a quoted string, e.g. xen: "4.19" or xen: "4.17.7"`);
      }
      const rule = PATTERN_RULES[String((e.params as { pattern: string }).pattern)];
      return diagnostic('UnsafeName', [rule?.what ?? where, show(value), rule?.rule ?? e.message ?? ''], spec.locate(path));
    }
    case 'uniqueItems': {
      const { i, j } = e.params as { i: number; j: number };
      const second = Math.max(i, j);
      return diagnostic('DuplicateListEntry', [show(valueAt(spec.value, [...path, second])), where], spec.locate([...path, second]), 'remove the repeated entry');
    }
    case 'minItems':
      return diagnostic('SchemaViolation', [where, 'must not be empty'], spec.locate(path));
    case 'maxLength':
      return diagnostic('SchemaViolation', [where, `must be at most ${String((e.params as { limit: number }).limit)} characters`], spec.locate(path));
    case '$ref':
      return undefined;
    default:
      return diagnostic('SchemaViolation', [where, e.message ?? e.keyword], spec.locate(path));
  }
}

function valueAt(root: unknown, path: JsonPath): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}
