// The per-release data vmipolicy was built from Xen's tags must match Xen's own files in
// ../shared/corpus (4.11, 4.17, 4.22): classes, initial SIDs, permissions in bit order, and
// the xen.if macro rules. And the published schema must agree with the code.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CAPABILITY_NAMES, SPEC_SCHEMA, vocabulary, xenMacros } from '../compiler/index.js';
import { XEN_RELEASE_PATTERN } from '../catalog/vocabulary.js';
import { DOMAIN_NAME_PATTERN, MODULE_NAME_PATTERN, TYPE_NAME_PATTERN } from '../compiler/names.js';
import { CORPUS_RELEASES, requires, sharedPath } from './support/env.js';

function words(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, ''))
    .join(' ')
    .replace(/[{}]/g, ' $& ')
    .split(/\s+/)
    .filter(Boolean);
}

function flaskFile(release: string, name: string): string {
  return sharedPath('corpus', `xen-${release}`, 'src', 'xen', 'xsm', 'flask', 'policy', name);
}

/** access_vectors as [class, perms][] in file order. */
function accessVectors(release: string): [string, string[]][] {
  const t = words(flaskFile(release, 'access_vectors'));
  const out: [string, string[]][] = [];
  for (let i = 0; i < t.length; ) {
    assert.equal(t[i], 'class');
    const cls = t[i + 1] as string;
    i += 3;
    const perms: string[] = [];
    while (t[i] !== '}') perms.push(t[i++] as string);
    i++;
    out.push([cls, perms]);
  }
  return out;
}

/** The allow rules inside one xen.if macro, as [subject, object, class, perms]. */
function macroRules(release: string, macro: string): [string, string, string, string[]][] {
  const src = readFileSync(sharedPath('corpus', `xen-${release}`, 'src', 'tools', 'flask', 'policy', 'modules', 'xen.if'), 'utf8');
  const start = src.indexOf('define(`' + macro + "'");
  assert.ok(start >= 0, `${macro} in xen.if ${release}`);
  const body = src.slice(start, src.indexOf("\n')", start)).replace(/#.*$/gm, '');
  return [...body.matchAll(/allow\s+(\S+)\s+(\S+?)\s*:\s*(\w+)\s*(\{[^}]*\}|\w+)\s*;/g)].map((m) => [
    m[1] as string, m[2] as string, m[3] as string, (m[4] as string).replace(/[{}]/g, ' ').trim().split(/\s+/),
  ]);
}

describe('Xen vocabulary matches the corpus', () => {
  for (const release of CORPUS_RELEASES) {
    it(`Xen ${release}: classes, initial SIDs, access vectors`, (t) => {
      if (!requires(t, { shared: true })) return;
      const v = vocabulary(release);
      assert.deepEqual(v.classes, words(flaskFile(release, 'security_classes')).filter((w) => w !== 'class'));
      assert.deepEqual(v.initialSids, words(flaskFile(release, 'initial_sids')).filter((w) => w !== 'sid'));
      assert.deepEqual(v.accessVectors.map(([c, p]) => [c, [...p]]), accessVectors(release));
    });

    it(`Xen ${release}: xen.if macro rules`, (t) => {
      if (!requires(t, { shared: true })) return;
      const m = xenMacros(release);
      const asPlain = (rules: readonly (readonly [string, string, string, readonly string[]])[]): unknown => rules.map(([s, o, c, p]) => [s, o, c, [...p]]);
      assert.deepEqual(asPlain(m.declareDomainCommon), macroRules(release, 'declare_domain_common'));
      assert.deepEqual(asPlain(m.createDomainCommon), macroRules(release, 'create_domain_common'));
      assert.deepEqual(asPlain(m.manageDomain), macroRules(release, 'manage_domain'));
      assert.deepEqual(asPlain(m.domainComms), macroRules(release, 'domain_comms'));
      assert.deepEqual(asPlain(m.createChannel), macroRules(release, 'create_channel'));
    });
  }

  it('the changes between releases of xen/xsm/flask/policy/access_vectors hold', () => {
    assert.ok(!vocabulary('4.8').has('hvm', 'dm') && vocabulary('4.9').has('hvm', 'dm'));
    assert.ok(!vocabulary('4.10').has('domain2', 'resource_map') && vocabulary('4.11').has('domain2', 'resource_map'));
    assert.ok(!vocabulary('4.11').hasClass('argo') && vocabulary('4.12').hasClass('argo'));
    assert.ok(!vocabulary('4.16').has('domain', 'getpagingmempool') && vocabulary('4.17').has('domain', 'getpagingmempool'));
    assert.ok(vocabulary('4.21').has('xen', 'privprofile') && !vocabulary('4.22').has('xen', 'privprofile'));
  });
});

describe('the published JSON Schema agrees with the code', () => {
  const defs = SPEC_SCHEMA.$defs as Record<string, { enum?: string[]; pattern?: string }>;
  const props = SPEC_SCHEMA.properties as Record<string, { enum?: string[]; properties?: Record<string, { pattern?: string }> }>;
  it('capabilities, releases and name patterns', () => {
    assert.deepEqual(defs.capability?.enum, [...CAPABILITY_NAMES]);
    assert.equal((props.xen as { pattern?: string } | undefined)?.pattern, XEN_RELEASE_PATTERN);
    assert.equal(defs.domainName?.pattern, DOMAIN_NAME_PATTERN);
    assert.equal(defs.typeName?.pattern, TYPE_NAME_PATTERN);
    assert.equal(props.policy?.properties?.module?.pattern, MODULE_NAME_PATTERN);
    assert.equal(SPEC_SCHEMA.$schema, 'https://json-schema.org/draft/2020-12/schema');
  });
});

describe('permissions as bits of their class (Vocabulary.permBits, permsOfBits)', () => {
  // What the manifest keeps of a printed rule: the round trip must give the sorted set back.
  const v = vocabulary('4.22');
  it('any list of a class\'s permissions, in any order and with repeats, comes back as sortPerms gives it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...v.accessVectors).chain(([cls, perms]) => fc.tuple(fc.constant(cls), fc.array(fc.constantFrom(...perms), { maxLength: 40 }))),
        ([cls, perms]) => {
          const bits = v.permBits(cls, perms);
          assert.notEqual(bits, undefined);
          assert.deepEqual(v.permsOfBits(cls, bits as number), v.sortPerms(cls, perms));
        },
      ),
    );
  });

  it('a permission the class lacks, or a class the release lacks, has no bits', () => {
    assert.equal(v.permBits('mmu', ['map_read', 'no_such_permission']), undefined);
    assert.equal(v.permBits('no_such_class', []), undefined);
    const [cls, perms] = v.accessVectors.find(([, p]) => p.length >= 32) ?? v.accessVectors[0]!;
    assert.deepEqual(v.permsOfBits(cls, v.permBits(cls, perms) as number), [...perms], `${cls}: every bit, the highest too`);
  });
});
