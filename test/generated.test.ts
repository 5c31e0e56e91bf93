// The two *.generated.ts catalog files must be what tools/generate-catalog.ts makes from Xen's
// sources: each release of the test corpus (../shared/corpus/xen-<v>/src, Xen's files at
// RELEASE-<v>.0) regenerates its own entry exactly, and with a clone of xen.git
// (VMIPOLICY_XEN_GIT) both whole files come out byte-identical. A deliberately altered input
// must change the output, so that these comparisons can fail at all.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { XEN_RELEASES } from '../catalog/vocabulary.js';
import { RAW_VOCABULARY } from '../catalog/xen-vocabulary.generated.js';
import { XEN_MACROS } from '../catalog/xen-macros.generated.js';
import {
  firstDifference, generateCatalog, gitReader, macrosOf, MACROS_FILE, main, readSources, releaseEntry, renderMacrosEntry,
  renderVocabularyEntry, treeReader, VOCABULARY_FILE, vocabularyOf, type XenSources,
} from '../tools/generate-catalog.js';
import { CORPUS_RELEASES, repoPath, requires, sharedPath } from './support/env.js';

/** The committed text of catalog/<name>. */
function committed(name: string): string {
  return readFileSync(repoPath('catalog', name), 'utf8');
}

/** A release's Xen source tree in the corpus, or undefined (the test skipped, reason printed). */
function corpusTree(t: TestContext, release: string): string | undefined {
  if (!requires(t, { shared: true })) return undefined;
  const tree = sharedPath('corpus', `xen-${release}`, 'src');
  if (existsSync(tree)) return tree;
  const reason = `the corpus has no Xen ${release} tree (${tree})`;
  console.log(`# skipped ${t.name}: ${reason}`);
  t.skip(reason);
  return undefined;
}

function assertSameText(expected: string, actual: string, expectedName: string, actualName: string): void {
  const difference = firstDifference(expected, actual, expectedName, actualName);
  if (difference !== undefined) assert.fail(`the generated text differs from the committed one:\n${difference}`);
}

describe('the generated catalog files match their generator', () => {
  for (const release of CORPUS_RELEASES) {
    it(`Xen ${release}: the entries regenerated from the corpus tree are the committed ones`, (t) => {
      const tree = corpusTree(t, release);
      if (!tree) return;
      const sources = readSources(release, treeReader(tree));
      const vocabulary = vocabularyOf(sources);
      const macros = macrosOf(sources.xenIf);
      assert.deepEqual(vocabulary, RAW_VOCABULARY[release]);
      assert.deepEqual(macros, XEN_MACROS[release]);
      const [committedVocabulary, committedMacros] = [releaseEntry(committed(VOCABULARY_FILE), release), releaseEntry(committed(MACROS_FILE), release)];
      assert.ok(committedVocabulary !== undefined && committedMacros !== undefined, `${release} has an entry in both files`);
      assertSameText(committedVocabulary, renderVocabularyEntry(release, vocabulary), `catalog/${VOCABULARY_FILE} (${release})`, `generated from ${tree}`);
      assertSameText(committedMacros, renderMacrosEntry(release, macros), `catalog/${MACROS_FILE} (${release})`, `generated from ${tree}`);
    });
  }

  it('both whole files regenerated from xen.git (VMIPOLICY_XEN_GIT) are byte-identical', (t) => {
    const git = process.env.VMIPOLICY_XEN_GIT;
    if (!git) {
      const reason = 'set VMIPOLICY_XEN_GIT to a clone of xen.git to regenerate both files from the RELEASE-<v>.0 tags';
      console.log(`# skipped ${t.name}: ${reason}`);
      t.skip(reason);
      return;
    }
    const read = gitReader(git);
    const generated = generateCatalog(new Map(XEN_RELEASES.map((r) => [r, readSources(r, read)] as const)));
    assertSameText(committed(VOCABULARY_FILE), generated.vocabulary, `catalog/${VOCABULARY_FILE}`, `generated from ${git}`);
    assertSameText(committed(MACROS_FILE), generated.macros, `catalog/${MACROS_FILE}`, `generated from ${git}`);
  });
});

// A release small enough to read: two classes, one macro of each kind the files hold.
const TINY: XenSources = {
  securityClasses: '# FLASK\nclass xen\nclass domain   # the domains\n',
  initialSids: 'sid xen\nsid dom0\n',
  accessVectors: 'class xen\n{\n# XENPF_settime\n    settime\n    readconsole\n}\n\nclass domain { pause unpause }\n',
  xenIf: [
    '# Macro definitions for FLASK policy',
    "define(`declare_domain_common', `",
    '\tallow $1 $2:domain pause;',
    "')",
    "define(`declare_domain', `",
    "\ttype $1, domain_type`'ifelse(`$#', `1', `', `,shift($@)');",
    '\tdeclare_domain_common($1, $1_self)',
    "')",
    "define(`create_domain_common', `",
    '\tallow $1 $2:domain { pause\n\t\t\tunpause };',
    "')",
    "define(`manage_domain', `",
    '\tallow $1 domxen_t:domain getdomaininfo;',
    "')",
    "define(`create_channel', `",
    '\tallow $1 $3:event { create send status };',
    '\tallow $3 $2:event { bind };',
    "')",
    "define(`domain_comms', `",
    '\tcreate_channel($1, $2, $1_channel)',
    '\tallow $1 $2:grant { map_read map_read copy };',
    "')",
    '',
  ].join('\n'),
};

describe('the generator reads what Xen writes, and a changed input changes its output', () => {
  it('a small release: names in file order, m4 quotes and comments, calls of other macros not expanded', () => {
    assert.equal(renderVocabularyEntry('9.9', vocabularyOf(TINY)), [
      "  '9.9': {",
      "    classes: ['xen', 'domain'],",
      "    initialSids: ['xen', 'dom0'],",
      '    accessVectors: [',
      "      ['xen', ['settime', 'readconsole']],",
      "      ['domain', ['pause', 'unpause']],",
      '    ],',
      '  },',
      '',
    ].join('\n'));
    assert.deepEqual(macrosOf(TINY.xenIf), {
      declareDomainCommon: [['$1', '$2', 'domain', ['pause']]],
      createDomainCommon: [['$1', '$2', 'domain', ['pause', 'unpause']]],
      manageDomain: [['$1', 'domxen_t', 'domain', ['getdomaininfo']]],
      domainComms: [['$1', '$2', 'grant', ['map_read', 'copy']]],
      createChannel: [['$1', '$3', 'event', ['create', 'send', 'status']], ['$3', '$2', 'event', ['bind']]],
    });
  });

  it('an extra permission in access_vectors or xen.if changes the generated entry, and the comparison says where', () => {
    const altered: XenSources = {
      ...TINY,
      accessVectors: TINY.accessVectors.replace('pause unpause }', 'pause unpause introspect }'),
      xenIf: TINY.xenIf.replace('domxen_t:domain getdomaininfo;', 'domxen_t:domain { getdomaininfo pause };'),
    };
    const before = generateCatalog(new Map([['9.9', TINY]]));
    const after = generateCatalog(new Map([['9.9', altered]]));
    assert.notEqual(after.vocabulary, before.vocabulary);
    assert.notEqual(after.macros, before.macros);
    assert.match(firstDifference(before.vocabulary, after.vocabulary, 'a', 'b') ?? '', /^-\s+\['domain', \['pause', 'unpause'\]\],\n\+\s+\['domain', \['pause', 'unpause', 'introspect'\]\],$/m);
    assert.match(firstDifference(before.macros, after.macros, 'a', 'b') ?? '', /^\+.*\['getdomaininfo', 'pause'\]/m);
  });

  it('what the generator does not understand is an error, not a silent omission', () => {
    assert.throws(() => vocabularyOf({ ...TINY, accessVectors: 'common file { read }\n' }), /expected "class"/);
    assert.throws(() => macrosOf(TINY.xenIf.replace('allow $1 domxen_t', 'allow { $1 $2 } domxen_t')), /unsupported allow rule/);
    assert.throws(() => macrosOf(TINY.xenIf.replace("define(`manage_domain'", "define(`manage_domains'")), /does not define manage_domain/);
    assert.throws(() => macrosOf(`${TINY.xenIf}ifdef(\`x', \`y')\n`), /unexpected top-level text/);
  });

  it('Xen 4.17 with a permission appended to a class in access_vectors no longer matches the committed entry', (t) => {
    const tree = corpusTree(t, '4.17');
    if (!tree) return;
    const sources = readSources('4.17', treeReader(tree));
    const altered = { ...sources, accessVectors: sources.accessVectors.replace(/class argo\s*\{/, '$&\n    introspect') };
    assert.notEqual(altered.accessVectors, sources.accessVectors);
    const entry = releaseEntry(committed(VOCABULARY_FILE), '4.17');
    assert.equal(renderVocabularyEntry('4.17', vocabularyOf(sources)), entry);
    const difference = firstDifference(entry ?? '', renderVocabularyEntry('4.17', vocabularyOf(altered)), 'committed', 'altered');
    assert.match(difference ?? '', /^\+\s+\['argo', \['introspect', 'enable',/m);
  });

  it('--check exits 1 naming the first difference, 0 when identical, and writes nothing', (t) => {
    const tree = corpusTree(t, '4.17');
    if (!tree) return;
    const catalog = mkdtempSync(join(tmpdir(), 'vmipolicy-generate-'));
    try {
      const said: string[] = [];
      const output = { out: (s: string) => void said.push(s), err: (s: string) => void said.push(s) };
      const args = ['--tree', `4.17=${tree}`, '--releases', '4.17', '--catalog', catalog];
      assert.equal(main(args, {}, output), 0, 'writes both files');
      const written = readFileSync(join(catalog, VOCABULARY_FILE), 'utf8');
      assert.equal(main([...args, '--check'], {}, output), 0);
      writeFileSync(join(catalog, VOCABULARY_FILE), written.replace("'settime', ", ''));
      said.length = 0;
      assert.equal(main([...args, '--check'], {}, output), 1);
      assert.match(said.join(''), /first difference at line \d+ @@\n(?: .*\n)*-\s+\['xen', \['tbufcontrol',.*\n\+\s+\['xen', \['settime', 'tbufcontrol',/);
      assert.notEqual(readFileSync(join(catalog, VOCABULARY_FILE), 'utf8'), written, '--check leaves the file alone');
      assert.equal(main(['--releases', '4.17', '--catalog', catalog, '--check'], {}, output), 2, 'no source: an error');
      assert.match(said.join(''), /no source for Xen 4\.17/);
    } finally {
      rmSync(catalog, { recursive: true, force: true });
    }
  });
});
