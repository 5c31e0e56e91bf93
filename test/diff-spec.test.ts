// The privilege diff on specs: each kind of change — capability, target, guest kind, Xen
// release — with the exact expected report (capability terms first, then the raw
// permissions with their policy and spec lines). The expected texts were reviewed against
// the capability table (catalog/capabilities.ts: the hypercall and Xen hook behind every
// grant) when they were pinned.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { renderText } from '../report/diff/text.js';
import type { DiffReport } from '../diff/types.js';
import { diffSpecTexts } from './support/diff.js';
import { MINIMAL_SPEC } from './support/specs.js';

// The base spec and one changed copy per kind of change: the spec lines the expected
// reports cite (new.yaml:9:46 …) are MINIMAL_SPEC's.
const WITH_REGISTERS = MINIMAL_SPEC.replace('[domain-info, read-memory]', '[domain-info, read-memory, read-registers]');
const SPECS: Record<string, string> = {
  'base': MINIMAL_SPEC,
  'cap': MINIMAL_SPEC.replace('[domain-info, read-memory]', '[domain-info, read-memory, pause]'),
  'tgt': `${MINIMAL_SPEC.replace('targets: [web]', 'targets: [web, db]')}  - name: db\n    guest: pv\n`,
  'b2': WITH_REGISTERS,
  'b2pv': WITH_REGISTERS.replace('  - name: web\n    guest: hvm', '  - name: web\n    guest: pv'),
  'mon-hvm': MINIMAL_SPEC.replace('  - name: mon\n    guest: pv', '  - name: mon\n    guest: hvm'),
  'x411': MINIMAL_SPEC.replace('xen: "4.19.6"', 'xen: "4.11"'),
};

function diffSpecs(a: string, b: string): DiffReport {
  return diffSpecTexts(SPECS[a] as string, SPECS[b] as string);
}

const CASES: { name: string; old: string; new: string; newAccess: boolean; expected: string }[] = [
  {
    name: "adding a capability", old: 'base', new: 'cap', newAccess: true,
    expected: `vmipolicy diff old.yaml → new.yaml
NEW ACCESS: 2 permissions added (1 subject/object/class triple); 0 permissions removed (0 subject/object/class triples)

Spec changes:
  mon gains pause on web → domain:pause, domain:unpause (new.yaml:9:46)

Permissions:
  + mon_t web_t:domain { pause unpause }
      NEW vmi.te:46 · spec new.yaml:9:46 · capability pause
`,
  },
  {
    name: "removing a capability", old: 'cap', new: 'base', newAccess: false,
    expected: `vmipolicy diff old.yaml → new.yaml
no new access: 2 permissions removed (1 subject/object/class triple)

Spec changes:
  mon loses pause on web → domain:pause, domain:unpause (old.yaml:9:46)

Permissions:
  - mon_t web_t:domain { pause unpause }
      OLD vmi.te:46 · spec old.yaml:9:46 · capability pause
`,
  },
  {
    name: "adding a target (a new domain)", old: 'base', new: 'tgt', newAccess: true,
    expected: `vmipolicy diff old.yaml → new.yaml
NEW ACCESS: 88 permissions added (18 subject/object/class triples); 0 permissions removed (0 subject/object/class triples)

Spec changes:
  new target db (db_t, pv) at new.yaml:13:5
  mon now targets db (new.yaml:6:5)
  mon gains domain-info on db → domain:getaddrsize, domain:getdomaininfo, mmu:stat, domain:getdomaininfo on domxen_t (new.yaml:9:20)
  mon gains read-memory on db → mmu:map_read (new.yaml:9:33)
  xl db: seclabel (unset) → "system_u:system_r:db_t"

Permissions:
  + db_t db_t_channel:event { create send status }
      NEW vmi.te:32 · spec new.yaml:13:5 · domain_comms(dom0_t, db_t)
  + db_t db_t_self:domain2 get_vnumainfo
      NEW vmi.te:15 · spec new.yaml:13:5 · declare_domain(db_t)
  + db_t db_t_self:grant { query setup }
      NEW vmi.te:15 · spec new.yaml:13:5 · declare_domain(db_t)
  + db_t db_t_self:hvm { altp2mhvm_op getparam setparam }
      NEW vmi.te:15 · spec new.yaml:13:5 · declare_domain(db_t)
  + db_t db_t_self:mmu { adjust map_read map_write mmuext_op physmap pinpage stat updatemp }
      NEW vmi.te:15 · spec new.yaml:13:5 · declare_domain(db_t)
  + db_t dom0_t:grant { copy map_read map_write unmap }
      NEW vmi.te:32 · spec new.yaml:13:5 · domain_comms(dom0_t, db_t)
  + db_t_channel dom0_t:event bind
      NEW vmi.te:32 · spec new.yaml:13:5 · domain_comms(dom0_t, db_t)
  + dom0_t db_t:domain { create destroy getaddrsize getaffinity getdomaininfo getpagingmempool getpodtarget getscheduler getvcpucontext getvcpuinfo hypercall max_vcpus pause resume set_misc_info setaddrsize setaffinity setdomainhandle setdomainmaxmem setpagingmempool setpodtarget settime setvcpucontext shutdown trigger unpause }
      NEW vmi.te:30 · spec new.yaml:13:5 · create_domain(dom0_t, db_t)
      NEW vmi.te:31 · spec new.yaml:13:5 · manage_domain(dom0_t, db_t)
  + dom0_t db_t:domain2 { cacheflush get_cpu_policy get_vnumainfo psr_alloc psr_cmt_op resource_map set_cpu_policy set_vnumainfo setclaim setscheduler settsc soft_reset }
      NEW vmi.te:30 · spec new.yaml:13:5 · create_domain(dom0_t, db_t)
      NEW vmi.te:31 · spec new.yaml:13:5 · manage_domain(dom0_t, db_t)
  + dom0_t db_t:grant { copy map_read map_write setup unmap }
      NEW vmi.te:32 · spec new.yaml:13:5 · domain_comms(dom0_t, db_t)
      NEW vmi.te:30 · spec new.yaml:13:5 · create_domain(dom0_t, db_t)
  + dom0_t db_t:hvm { altp2mhvm altp2mhvm_op dm getparam hvmctl sethvmc setparam }
      NEW vmi.te:30 · spec new.yaml:13:5 · create_domain(dom0_t, db_t)
  + dom0_t db_t:mmu { adjust map_read map_write memorymap mmuext_op physmap pinpage updatemp }
      NEW vmi.te:30 · spec new.yaml:13:5 · create_domain(dom0_t, db_t)
  + dom0_t db_t:security check_context
      NEW vmi.te:30 · spec new.yaml:13:5 · create_domain(dom0_t, db_t)
  + dom0_t db_t:shadow enable
      NEW vmi.te:30 · spec new.yaml:13:5 · create_domain(dom0_t, db_t)
  + dom0_t db_t_channel:event create
      NEW vmi.te:30 · spec new.yaml:13:5 · create_domain(dom0_t, db_t)
  + dom0_t_channel db_t:event bind
      NEW vmi.te:32 · spec new.yaml:13:5 · domain_comms(dom0_t, db_t)
  + mon_t db_t:domain { getaddrsize getdomaininfo }
      NEW vmi.te:49 · spec new.yaml:9:20 · capability domain-info
  + mon_t db_t:mmu { map_read stat }
      NEW vmi.te:53 · spec new.yaml:9:33 · capability read-memory
      NEW vmi.te:53 · spec new.yaml:9:20 · capability domain-info

Declarations:
  + type db_t
  + type db_t_channel
  + type db_t_self
`,
  },
  {
    name: "removing a target", old: 'tgt', new: 'base', newAccess: false,
    expected: `vmipolicy diff old.yaml → new.yaml
no new access: 88 permissions removed (18 subject/object/class triples)

Spec changes:
  removed target db (db_t, pv)
  mon no longer targets db
  mon loses domain-info on db → domain:getaddrsize, domain:getdomaininfo, mmu:stat, domain:getdomaininfo on domxen_t (old.yaml:9:20)
  mon loses read-memory on db → mmu:map_read (old.yaml:9:33)
  xl db: seclabel "system_u:system_r:db_t" → (unset)

Permissions:
  - db_t db_t_channel:event { create send status }
      OLD vmi.te:32 · spec old.yaml:13:5 · domain_comms(dom0_t, db_t)
  - db_t db_t_self:domain2 get_vnumainfo
      OLD vmi.te:15 · spec old.yaml:13:5 · declare_domain(db_t)
  - db_t db_t_self:grant { query setup }
      OLD vmi.te:15 · spec old.yaml:13:5 · declare_domain(db_t)
  - db_t db_t_self:hvm { altp2mhvm_op getparam setparam }
      OLD vmi.te:15 · spec old.yaml:13:5 · declare_domain(db_t)
  - db_t db_t_self:mmu { adjust map_read map_write mmuext_op physmap pinpage stat updatemp }
      OLD vmi.te:15 · spec old.yaml:13:5 · declare_domain(db_t)
  - db_t dom0_t:grant { copy map_read map_write unmap }
      OLD vmi.te:32 · spec old.yaml:13:5 · domain_comms(dom0_t, db_t)
  - db_t_channel dom0_t:event bind
      OLD vmi.te:32 · spec old.yaml:13:5 · domain_comms(dom0_t, db_t)
  - dom0_t db_t:domain { create destroy getaddrsize getaffinity getdomaininfo getpagingmempool getpodtarget getscheduler getvcpucontext getvcpuinfo hypercall max_vcpus pause resume set_misc_info setaddrsize setaffinity setdomainhandle setdomainmaxmem setpagingmempool setpodtarget settime setvcpucontext shutdown trigger unpause }
      OLD vmi.te:30 · spec old.yaml:13:5 · create_domain(dom0_t, db_t)
      OLD vmi.te:31 · spec old.yaml:13:5 · manage_domain(dom0_t, db_t)
  - dom0_t db_t:domain2 { cacheflush get_cpu_policy get_vnumainfo psr_alloc psr_cmt_op resource_map set_cpu_policy set_vnumainfo setclaim setscheduler settsc soft_reset }
      OLD vmi.te:30 · spec old.yaml:13:5 · create_domain(dom0_t, db_t)
      OLD vmi.te:31 · spec old.yaml:13:5 · manage_domain(dom0_t, db_t)
  - dom0_t db_t:grant { copy map_read map_write setup unmap }
      OLD vmi.te:32 · spec old.yaml:13:5 · domain_comms(dom0_t, db_t)
      OLD vmi.te:30 · spec old.yaml:13:5 · create_domain(dom0_t, db_t)
  - dom0_t db_t:hvm { altp2mhvm altp2mhvm_op dm getparam hvmctl sethvmc setparam }
      OLD vmi.te:30 · spec old.yaml:13:5 · create_domain(dom0_t, db_t)
  - dom0_t db_t:mmu { adjust map_read map_write memorymap mmuext_op physmap pinpage updatemp }
      OLD vmi.te:30 · spec old.yaml:13:5 · create_domain(dom0_t, db_t)
  - dom0_t db_t:security check_context
      OLD vmi.te:30 · spec old.yaml:13:5 · create_domain(dom0_t, db_t)
  - dom0_t db_t:shadow enable
      OLD vmi.te:30 · spec old.yaml:13:5 · create_domain(dom0_t, db_t)
  - dom0_t db_t_channel:event create
      OLD vmi.te:30 · spec old.yaml:13:5 · create_domain(dom0_t, db_t)
  - dom0_t_channel db_t:event bind
      OLD vmi.te:32 · spec old.yaml:13:5 · domain_comms(dom0_t, db_t)
  - mon_t db_t:domain { getaddrsize getdomaininfo }
      OLD vmi.te:49 · spec old.yaml:9:20 · capability domain-info
  - mon_t db_t:mmu { map_read stat }
      OLD vmi.te:53 · spec old.yaml:9:33 · capability read-memory
      OLD vmi.te:53 · spec old.yaml:9:20 · capability domain-info

Declarations:
  - type db_t
  - type db_t_channel
  - type db_t_self
`,
  },
  {
    name: "changing a target's guest kind (hvm → pv)", old: 'b2', new: 'b2pv', newAccess: true,
    expected: `vmipolicy diff old.yaml → new.yaml
NEW ACCESS: 2 permissions added (1 subject/object/class triple); 1 permission removed (1 subject/object/class triple)

Spec changes:
  web: guest hvm → pv at new.yaml:11:5
  mon's domain-info on web changes: + domain:getaddrsize (new.yaml:9:20)
  mon's read-registers on web changes: + domain:getvcpucontext; - hvm:gethvmc (new.yaml:9:46)

Permissions:
  + mon_t web_t:domain { getaddrsize getvcpucontext }
      NEW vmi.te:47 · spec new.yaml:9:46 · capability read-registers
      NEW vmi.te:47 · spec new.yaml:9:20 · capability domain-info
  - mon_t web_t:hvm gethvmc
      OLD vmi.te:48 · spec old.yaml:9:46 · capability read-registers
`,
  },
  {
    name: "changing the introspector's guest kind (pv → hvm)", old: 'base', new: 'mon-hvm', newAccess: true,
    expected: `vmipolicy diff old.yaml → new.yaml
NEW ACCESS: 1 permission added (1 subject/object/class triple); 0 permissions removed (0 subject/object/class triples)

Spec changes:
  mon: guest pv → hvm at new.yaml:6:5
  mon's read-memory on web changes: + mmu:physmap on mon_t_self, mmu:map_write (new.yaml:9:33)
  xl mon: altp2m (unset) → "disabled"
  xl mon: nestedhvm (unset) → 0

Permissions:
  + mon_t web_t:mmu map_write
      NEW vmi.te:52 · spec new.yaml:9:33 · capability read-memory
`,
  },
  {
    name: "changing the Xen release (4.19.6 → 4.11)", old: 'base', new: 'x411', newAccess: true,
    expected: `vmipolicy diff old.yaml → new.yaml
NEW ACCESS: 8 permissions added (4 subject/object/class triples); 9 permissions removed (5 subject/object/class triples)

Spec changes:
  Xen 4.19.6 → 4.11
    class argo: - enable register_any_source register_single_source send
    class domain: - getpagingmempool setpagingmempool
    class domain2: + set_cpuid set_gnttab_limits set_max_evtchn; - get_cpu_policy set_cpu_policy
    class hvm: + nested
    class xen: + tmem_control tmem_op; - hypfs_op
    class xen2: + set_parameter; - get_dom0_console
  mon's domain-info on web changes: - domain:getdomaininfo on domxen_t (new.yaml:9:20)

Permissions:
  - dom0_t mon_t:domain { getpagingmempool setpagingmempool }
      OLD vmi.te:27 · spec old.yaml:6:5 · create_domain(dom0_t, mon_t)
      OLD vmi.te:28 · spec old.yaml:6:5 · manage_domain(dom0_t, mon_t)
  + dom0_t mon_t:domain2 { set_cpuid set_gnttab_limits set_max_evtchn }
      NEW vmi.te:27 · spec new.yaml:6:5 · create_domain(dom0_t, mon_t)
  - dom0_t mon_t:domain2 { get_cpu_policy set_cpu_policy }
      OLD vmi.te:27 · spec old.yaml:6:5 · create_domain(dom0_t, mon_t)
  + dom0_t mon_t:hvm nested
      NEW vmi.te:27 · spec new.yaml:6:5 · create_domain(dom0_t, mon_t)
  - dom0_t web_t:domain { getpagingmempool setpagingmempool }
      OLD vmi.te:30 · spec old.yaml:11:5 · create_domain(dom0_t, web_t)
      OLD vmi.te:31 · spec old.yaml:11:5 · manage_domain(dom0_t, web_t)
  + dom0_t web_t:domain2 { set_cpuid set_gnttab_limits set_max_evtchn }
      NEW vmi.te:30 · spec new.yaml:11:5 · create_domain(dom0_t, web_t)
  - dom0_t web_t:domain2 { get_cpu_policy set_cpu_policy }
      OLD vmi.te:30 · spec old.yaml:11:5 · create_domain(dom0_t, web_t)
  + dom0_t web_t:hvm nested
      NEW vmi.te:30 · spec new.yaml:11:5 · create_domain(dom0_t, web_t)
  - mon_t domxen_t:domain getdomaininfo
      OLD vmi.te:42 · spec old.yaml:9:20 · capability domain-info
`,
  },
];

describe('diff: specs, each kind of change', () => {
  for (const c of CASES) {
    it(`${c.name}: the exact report`, () => {
      const r = diffSpecs(c.old, c.new);
      assert.equal(renderText(r), c.expected);
      assert.equal(r.newAccess, c.newAccess);
    });
  }

  it('a spec against itself: empty', () => {
    for (const n of Object.keys(SPECS)) {
      const r = diffSpecs(n, n);
      assert.deepEqual(r.policy.access, []);
      assert.deepEqual(r.spec?.capabilities, []);
      assert.equal(r.newAccess, false);
    }
  });

  it('capability changes are structured data: introspector, target, capability, permissions, spec line', () => {
    const r = diffSpecs('base', 'cap');
    assert.deepEqual(r.spec?.capabilities, [{
      introspector: 'mon', target: 'web', targetType: 'web_t', introspectorType: 'mon_t', capability: 'pause', change: 'gained',
      added: [{ subject: 'mon_t', object: 'web_t', cls: 'domain', perm: 'pause' }, { subject: 'mon_t', object: 'web_t', cls: 'domain', perm: 'unpause' }],
      removed: [], spec: { file: 'new.yaml', line: 9, column: 46 },
    }]);
  });

  it('a capability whose permissions OLD already held says so, and names the capabilities that held them', () => {
    const events = MINIMAL_SPEC.replace(/capabilities: \[([^\]]*)\]/, 'capabilities: [$1, memory-events]');
    const withWrite = events.replace(/capabilities: \[([^\]]*)\]/, 'capabilities: [$1, write-memory]');
    const r = diffSpecTexts(events, withWrite);
    assert.equal(r.newAccess, false);
    const gained = r.spec?.capabilities.find((c) => c.capability === 'write-memory');
    assert.ok(gained?.alreadyHeld, JSON.stringify(r.spec?.capabilities));
    assert.deepEqual(gained.alreadyHeld.by, ['memory-events', 'read-memory']);
    assert.equal(gained.alreadyHeld.perms.length, gained.added.length);
    assert.match(renderText(r), /gains write-memory on web → .* — no new permission: OLD already granted all of it through memory-events, read-memory/);
    // A capability that brings new permissions has no such note.
    assert.equal(diffSpecs('base', 'cap').spec?.capabilities[0]?.alreadyHeld, undefined);
  });

  it('adding and removing a target mirror each other', () => {
    const a = diffSpecs('base', 'tgt');
    const b = diffSpecs('tgt', 'base');
    const flat = (r: DiffReport, which: 'added' | 'removed') => r.policy.access.flatMap((c) => c[which].map((p) => `${c.subject} ${c.object}:${c.cls} ${p}`)).sort();
    assert.deepEqual(flat(a, 'added'), flat(b, 'removed'));
    assert.deepEqual(flat(a, 'removed'), flat(b, 'added'));
  });
});
