// The standalone policy.conf: one complete Xen FLASK policy that `checkpolicy -t Xen`
// compiles on its own — the release's classes, initial SIDs and access vectors, Xen's
// pseudo-domain types, dom0 as administrator, the spec's domains and their rules.

import { allOf, ATTRIBUTES, DOM0_DEVICE_ADMIN, DOM0_SELF, INITIAL_SID_CONTEXTS, known, NEVERALLOW_RESOURCE_USE, RESOURCE_TYPES } from '../../catalog/host-base.js';
import { DOMXEN_INFOLIST_CHECK, hasChange, xenMacros } from '../../catalog/vocabulary.js';
import type { Grant, IR, Origin } from '../ir.js';
import { DOM0_CHANNEL, DOM0_TYPE, DOMXEN_TYPE, sortGrants } from '../lower.js';
import { header, macrosByDomain, printDomainRules, printIntrospection, printRoles, section } from './module.js';
import { mergeGrants, printAllow, printMacroUse, printTransitions, printTypes, reasonComments } from './te-rules.js';
import { TextWriter, type PrintedPolicy, type WriterOptions } from './writer.js';

export function hostGrants(ir: IR): Grant[] {
  const v = ir.vocabulary;
  const out: Grant[] = [];
  const grant = (subject: string, object: string, cls: string, perms: readonly string[], why: string): void => {
    const origin: Origin = { kind: 'host-base', why };
    for (const perm of perms) out.push({ subject, object, cls, perm, origin });
  };
  const admin = 'dom0 administers the host';
  for (const cls of ['xen', 'xen2', 'version']) if (v.hasClass(cls)) grant(DOM0_TYPE, 'xen_t', cls, allOf(v, cls), admin);
  grant(DOM0_TYPE, 'xen_t', 'mmu', known(v, 'mmu', ['memorymap']), admin);
  grant(DOM0_TYPE, 'xen_t', 'resource', known(v, 'resource', ['setup']), admin);
  grant(DOM0_TYPE, 'security_t', 'security', allOf(v, 'security'), 'dom0 manages the security server (load_policy, setenforce, setbool…)');
  for (const [cls, perms] of Object.entries(DOM0_SELF)) grant(DOM0_TYPE, DOM0_TYPE, cls, known(v, cls, perms), 'dom0 on itself (dom0.te)');
  const m = xenMacros(v.release);
  for (const [s, o, cls, perms] of m.declareDomainCommon) {
    grant(s === '$1' ? DOM0_TYPE : s, o === '$2' ? DOM0_TYPE : o, cls, perms, 'dom0 on itself (declare_singleton_domain)');
  }
  for (const r of RESOURCE_TYPES) {
    grant(DOM0_TYPE, r, 'resource', known(v, 'resource', DOM0_DEVICE_ADMIN), 'dom0 administers devices (admin_device)');
    grant(DOM0_TYPE, r, 'hvm', known(v, 'hvm', ['bind_irq']), 'dom0 administers devices (admin_device)');
  }
  grant(DOM0_TYPE, DOM0_TYPE, 'mmu', known(v, 'mmu', ['exchange']), 'dom0 uses devices (use_device_noiommu)');
  grant(DOM0_TYPE, 'domio_t', 'mmu', known(v, 'mmu', ['map_read', 'map_write']), 'dom0 uses devices (use_device_noiommu)');
  if (hasChange(v.release, DOMXEN_INFOLIST_CHECK)) {
    grant(DOM0_TYPE, DOMXEN_TYPE, 'domain', ['getdomaininfo'], 'dom0 lists domains: XEN_SYSCTL_getdomaininfolist checks DOMID_XEN (XSA-499)');
  }
  for (const r of RESOURCE_TYPES) grant('xen_t', r, 'resource', known(v, 'resource', ['remove_irq', 'remove_ioport', 'remove_iomem']), 'the hypervisor tears down a dying domain\'s resources');
  const self = 'dom0 talks to itself (domain_comms(dom0_t, dom0_t))';
  grant(DOM0_TYPE, DOM0_CHANNEL, 'event', ['create', 'send', 'status'], self);
  grant(DOM0_CHANNEL, DOM0_TYPE, 'event', ['bind'], self);
  grant(DOM0_TYPE, DOM0_TYPE, 'grant', known(v, 'grant', ['map_read', 'map_write', 'copy', 'unmap']), self);
  if (v.initialSids.includes('xenboot')) {
    grant('xenboot_t', DOM0_TYPE, 'domain', ['create'], 'the hypervisor builds dom0 (xen_build_domain)');
    grant('xenboot_t', DOM0_CHANNEL, 'event', ['create'], 'the hypervisor builds dom0 (xen_build_domain)');
  }
  return sortGrants(out, v);
}

export function emitStandalone(ir: IR, options: WriterOptions = {}): PrintedPolicy {
  const v = ir.vocabulary;
  const w = new TextWriter(options);
  header(w, ir, 'policy.conf (standalone)');
  w.comment('');
  w.comment('Build: checkpolicy -t Xen -c 30 policy.conf -o xenpolicy   (then boot Xen with it, or xl loadpolicy)');
  w.comment('This policy runs dom0 and the domains above only: an unlabeled domain gets domU_t, which nothing may create.');

  section(w, `Security classes, initial SIDs and access vectors of Xen ${v.release}`, 'Bit order matters: a binary policy only fits the hypervisor whose access_vectors it was built with.');
  for (const c of v.classes) w.line(`class ${c}`);
  w.line();
  for (const s of v.initialSids) w.line(`sid ${s}`);
  for (const [cls, perms] of v.accessVectors) {
    w.line();
    w.line(`class ${cls}`);
    w.line('{');
    for (const p of perms) w.line(`\t${p}`);
    w.line('}');
  }

  section(w, 'Attributes and Xen\'s own types');
  for (const a of ATTRIBUTES) w.line(`attribute ${a};`);
  w.line();
  const pseudo = [
    ...(v.initialSids.includes('xenboot') ? [{ name: 'xenboot_t', attributes: ['xen_type'] }] : []),
    { name: 'xen_t', attributes: ['xen_type'] },
    { name: 'domio_t', attributes: ['xen_type'] },
    { name: 'domxen_t', attributes: ['xen_type'] },
    { name: 'unlabeled_t', attributes: ['xen_type'] },
    { name: 'security_t', attributes: ['xen_type'] },
    ...RESOURCE_TYPES.map((r) => ({ name: r, attributes: ['resource_type'] })),
    { name: DOM0_TYPE, attributes: ['domain_type'] },
    { name: DOM0_CHANNEL, attributes: ['event_type'] },
    { name: 'domU_t', attributes: ['domain_type'] },
    { name: 'dm_dom_t', attributes: ['domain_type'] },
  ];
  printTypes(w, pseudo);
  printTransitions(w, [{ source: DOM0_TYPE, target: 'domain_type', cls: 'event', result: DOM0_CHANNEL }]);

  section(w, 'The host: dom0 administers Xen, the security server and devices');
  for (const rule of mergeGrants(hostGrants(ir), v)) {
    for (const c of reasonComments(rule)) w.comment(c);
    printAllow(w, rule);
  }

  section(w, 'Domain types', 'Expanded equivalents of Xen\'s declare_domain, create_domain, manage_domain and', 'domain_comms(dom0_t, …) at this release: each domain as Xen\'s domU_t, nothing more.');
  const macros = macrosByDomain(ir);
  for (const d of ir.domains) {
    w.line();
    w.comment(`${d.role} "${d.name}" (${d.guest} guest)`);
    for (const m of macros.get(d.name) ?? []) {
      w.comment(`${m.macro}(${m.args.join(', ')})`);
      printTypes(w, m.types);
      printTransitions(w, m.transitions);
      printMacroUse(w, m, v);
    }
  }
  w.line();
  printDomainRules(w, ir);
  printIntrospection(w, ir);

  section(w, 'Roles, users and constraints');
  w.line('role system_r;');
  w.line('role system_r types { xen_type domain_type };');
  printRoles(w, ir);
  w.line();
  w.comment('Every domain type must be a domain_type, every channel an event_type (as in Xen\'s xen.te).');
  w.line('neverallow * ~domain_type:domain { create transition };');
  w.line(`neverallow * ~resource_type:resource { ${known(v, 'resource', NEVERALLOW_RESOURCE_USE).join(' ')} };`);
  w.line('neverallow ~event_type *:event bind;');
  w.line('neverallow * ~event_type:event { create send status };');
  w.line();
  w.line('user system_u roles { system_r };');

  section(w, 'Labels of the initial SIDs');
  for (const s of v.initialSids) {
    const ctx = INITIAL_SID_CONTEXTS[s];
    if (!ctx) throw new Error(`internal: no context for initial SID ${s}`);
    w.line(`sid ${s} system_u:${ctx[0]}:${ctx[1]}`);
  }
  return w.finish();
}
