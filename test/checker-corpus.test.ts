// The checker on real inputs: the examples are proven on every supported release (standalone)
// and inside Xen's own stock policy (module, corpus trees); Xen's stock policy with dom0
// declared as a memory-reading introspector of domU_t shows what dom0 holds beyond that and
// its escalation edges, with rules and lines; a Mini-OS setup where monitor and guest share
// domU_t fails with shared-label and reverse-access. And the permissions the checker reasons
// over equal sesearch's on the checkpolicy binary.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { XEN_RELEASES, compile } from '../compiler/index.js';
import { compareReleases } from '../catalog/vocabulary.js';
import { loadPolicy, policyFromText } from '../policy/load.js';
import { runChecks } from '../checker/check.js';
import { rulesFrom, objectsOf } from '../checker/effective.js';
import type { PolicyModel } from '../policy/model/model.js';
import { compileExampleAt, CORPUS_RELEASES, EXAMPLES, repoPath, requires, sharedPath } from './support/env.js';
import { DOM0_SPEC } from './support/specs.js';
import { checkpolicy, sesearchExpanded, withTempDir } from './support/oracles.js';
import { compileStandalone } from './support/checker.js';

const example = (name: string): string => repoPath('examples', name, 'vmi.yaml');

describe('the examples are proven', () => {
  it('standalone, on every supported Xen release', () => {
    let n = 0;
    const skipped: string[] = [];
    for (const name of EXAMPLES) {
      for (const xen of XEN_RELEASES) {
        const r = compile({ file: example(name), content: readFileSync(example(name)) }, { xen, mode: 'standalone' });
        if (!r.ir) {
          // Only two reasons are expected, both tested elsewhere: a PVH domain before Xen 4.10
          // (VP1209), and a PVH/HVM introspector's foreign maps before Xen 4.19 (VP1215).
          const codes = new Set(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code));
          assert.ok([...codes].every((c) => c === 'VP1209' || c === 'VP1215'), `${name} on ${xen}: ${[...codes].join(' ')}`);
          skipped.push(`${name}@${xen}`);
          continue;
        }
        const p = policyFromText('policy.conf', r.artifacts!.get('policy.conf')!).policy!;
        const report = runChecks({ ir: r.ir, spec: r.source!, model: p.model, policyName: 'policy.conf' });
        assert.equal(report.proven, true, `${name} on ${xen}:\n${report.findings.filter((f) => f.severity === 'error').map((f) => f.message).join('\n')}`);
        n++;
      }
    }
    console.log(`${n} example × release standalone policies proven; not compilable (PVH before 4.10, PVH monitor before 4.19): ${skipped.join(', ')}`);
    assert.equal(n + skipped.length, EXAMPLES.length * XEN_RELEASES.length);
    const drakvufRefused = XEN_RELEASES.filter((x) => compareReleases(x, '4.19') < 0).map((x) => `drakvuf@${x}`);
    assert.deepEqual(skipped, [...drakvufRefused, 'multi-tenant@4.8', 'multi-tenant@4.9']);
  });

  for (const release of CORPUS_RELEASES) {
    it(`as modules inside Xen ${release}'s stock policy`, (t) => {
      if (!requires(t, { shared: true, commands: ['m4'] })) return;
      for (const name of EXAMPLES) {
        const r = compileExampleAt(name, release, 'module');
        assert.ok(r.ir, name);
        const te = r.artifacts!.get(`${r.spec!.module}.te`)!;
        const p = loadPolicy(sharedPath('corpus', `xen-${release}`, 'src'), { extraModules: [{ name: r.spec!.module, te }] }).policy;
        assert.ok(p);
        const report = runChecks({ ir: r.ir, spec: r.source!, model: p.model, policyName: 'tree' });
        assert.equal(report.proven, true, `${name}:\n${report.findings.filter((f) => f.severity === 'error').map((f) => f.message).join('\n')}`);
        // The stock rules every guest gets are shown, not hidden: warnings citing modules/guest_features.te.
        assert.ok(report.findings.some((f) => f.ruleId === 'excess' && f.severity === 'warning' && f.provenance.some((l) => l.file === 'modules/guest_features.te')));
      }
    });
  }
});


describe("Xen's stock policy, with dom0 declared as a memory-reading introspector of domU_t", () => {
  for (const release of CORPUS_RELEASES) {
    it(`Xen ${release}: dom0 holds far more, and reaches the policy and other domains`, (t) => {
      if (!requires(t, { shared: true })) return;
      const r = compile({ file: 'dom0.yaml', content: DOM0_SPEC(release) }, { deployed: true });
      assert.ok(r.ir, JSON.stringify(r.diagnostics));
      const p = loadPolicy(sharedPath('corpus', `xen-${release}`, 'policy.conf')).policy!;
      const report = runChecks({ ir: r.ir, spec: r.source!, model: p.model, policyName: 'policy.conf' });
      assert.equal(report.proven, false);
      const excess = report.findings.filter((f) => f.ruleId === 'excess' && f.severity === 'error');
      assert.ok(excess.length > 50, `dom0 holds a great deal beyond read-memory: ${excess.length}`);
      // Writes to the declared target, and control of it, are beyond "read memory".
      assert.ok(excess.some((f) => f.object === 'domU_t' && f.class === 'mmu' && f.perms.includes('map_write')));
      assert.ok(excess.some((f) => f.object === 'domU_t' && f.class === 'domain' && f.perms.includes('setvcpucontext')));
      for (const f of excess) {
        const rule = f.provenance.find((l) => l.kind === 'policy');
        assert.ok(rule && rule.line > 0 && rule.text?.startsWith('allow'), 'every finding names the rule and its line');
      }
      const escalation = report.findings.filter((f) => f.ruleId === 'escalation');
      assert.ok(escalation.some((f) => f.object === 'security policy'), 'dom0 can rewrite the policy');
      assert.ok(escalation.some((f) => f.object === 'dm_dom_t'), 'dom0 controls device-model domains');
      for (const f of escalation) assert.ok(f.witness && f.witness.paths.length > 0 && f.witness.paths.every((p) => p.every((h) => h.rules.length > 0)));
      console.log(`Xen ${release}: ${excess.length} excess errors, ${escalation.length} escalation findings for dom0`);
    });
  }
});

describe('the published Mini-OS VMI setup (monitor and guest both domU_t)', () => {
  it('fails with shared-label and reverse-access', (t) => {
    if (!requires(t, { shared: true, commands: ['m4'] })) return;
    const spec = DOM0_SPEC('4.17')
      .replace('name: Domain-0\n    type: dom0_t', 'name: tinyvmi\n    type: domU_t')
      .replace('capabilities: [domain-info, read-memory]', 'capabilities: [domain-info, read-memory, read-registers, pause]');
    const r = compile({ file: 'minios.yaml', content: spec }, { deployed: true });
    assert.ok(r.ir, JSON.stringify(r.diagnostics));
    const te = [
      'allow domU_t domU_t:mmu { map_read map_write pageinfo stat };',
      'allow domU_t domU_t:domain { getdomaininfo pause unpause getvcpucontext };',
      'allow domU_t domU_t:hvm { gethvmc getparam };',
      'allow domU_t domxen_t:domain getdomaininfo;',
      '',
    ].join('\n');
    const p = loadPolicy(sharedPath('corpus', 'xen-4.17', 'src'), { extraModules: [{ name: 'minios_vmi', te }] }).policy!;
    const report = runChecks({ ir: r.ir, spec: r.source!, model: p.model, policyName: 'tree' });
    assert.equal(report.proven, false);
    const shared = report.findings.filter((f) => f.ruleId === 'shared-label' && f.severity === 'error');
    assert.ok(shared.some((f) => f.subject === 'domU_t' && f.provenance.filter((l) => l.kind === 'spec').length === 2), 'both declarations are cited');
    const reverse = report.findings.filter((f) => f.ruleId === 'reverse-access' && f.severity === 'error');
    assert.ok(reverse.some((f) => f.provenance.some((l) => l.file === 'modules/minios_vmi.te' && l.line === 2)), 'the guest can map its monitor: minios_vmi.te:2');
  });
});

/** What the checker reasons over for one subject: every (s, o, class, perm) of rulesFrom. */
function ours(model: PolicyModel, subject: string): Set<string> {
  const s = model.typeIndex.get(subject)!;
  const out = new Set<string>();
  for (const r of rulesFrom(model, s)) for (const o of objectsOf(r, s)) for (const [ci, bits] of r.perms) {
    const c = model.classes[ci]!;
    for (const p of bits) out.add(`${subject} ${model.types[o]}:${c.name} ${c.perms[p]}`);
  }
  return out;
}

describe('differential: the permissions the checker reasons over equal sesearch -A on the checkpolicy binary', () => {
  it('for every declared domain of every example (standalone)', (t) => {
    if (!requires(t, { commands: ['checkpolicy', 'sesearch', 'seinfo'] })) return;
    let compared = 0;
    for (const name of EXAMPLES) {
      const c = compileStandalone(readFileSync(example(name), 'utf8'), example(name));
      const model = policyFromText('policy.conf', c.policyText).policy!.model;
      withTempDir((dir) => {
        const built = checkpolicy(dir, c.policyText);
        assert.ok(built.ok, built.output);
        for (const d of c.ir!.domains) {
          assert.deepEqual([...ours(model, d.type)].sort(), [...sesearchExpanded(built.binary, model.attributes, d.type)].sort(), `${name}: ${d.type}`);
          compared++;
        }
      });
    }
    assert.ok(compared >= 7);
  });

  it('for dom0_t and domU_t in the corpus policies', (t) => {
    if (!requires(t, { shared: true, commands: ['checkpolicy', 'sesearch', 'seinfo'] })) return;
    for (const release of CORPUS_RELEASES) {
      const text = readFileSync(sharedPath('corpus', `xen-${release}`, 'policy.conf'), 'utf8');
      const model = policyFromText('policy.conf', text).policy!.model;
      withTempDir((dir) => {
        const built = checkpolicy(dir, text);
        assert.ok(built.ok, built.output);
        for (const subject of ['dom0_t', 'domU_t']) {
          const theirs = sesearchExpanded(built.binary, model.attributes, subject);
          assert.ok(theirs.size > 20);
          assert.deepEqual([...ours(model, subject)].sort(), [...theirs].sort(), `${release}: ${subject}`);
        }
      });
    }
  });
});
