// The fuzz harness's fixed regression corpus: the attack shapes of the "sound and safe under
// hostile input" issue, each with inputs of its own, generated here (nothing is stored): an
// endless file (/dev/zero) and a FIFO nobody writes to as every input kind, boolean guards
// and attribute fan-outs that blow up naive evaluation, a 20 000-component xenstore path, an
// ELF core whose program-header count escapes to section 0, an absurd #line marker, a spec
// path with a newline, and control characters in every string field.

import { CASE_DIR_MARK, EXECUTED_MARKER, type Arg, type FuzzCase, type FuzzFile } from './fuzz-run.js';
import { DRAKVUF_POLICY, EXAMPLE_SPEC, SCRIPT_SEEDS, TE_SEEDS, tinyGuest, XENSTORE_DUMP_SEEDS, XL_SEEDS } from './fuzz-seeds.js';
import { XEN_TREE } from './fuzz-targets.js';

const file = (name: string): Arg => ({ file: name });
const text = (name: string, content: string | Uint8Array): FuzzFile => ({ name, content });
const regression = (shape: string, files: readonly FuzzFile[], argv: readonly Arg[], extra: Partial<FuzzCase> = {}): FuzzCase => ({ target: 'regression', shape, files, argv, ...extra });

/** Every input kind the CLI reads, each fed from the file `name` (whose extension some readers look at). */
function everyInputKind(kind: string, special: (name: string) => FuzzFile): FuzzCase[] {
  const tiny = tinyGuest();
  const g = [text('guest.raw', tiny.raw), text('profile.json', tiny.profile)];
  const spec = EXAMPLE_SPEC('tinyvmi');
  const drakvuf = EXAMPLE_SPEC('drakvuf');
  return [
    regression(`${kind} as the spec of compile`, [special('s.yaml')], ['compile', file('s.yaml'), '-o', file('out.d'), '--format', 'json']),
    regression(`${kind} as the spec of check`, [special('s.yaml')], ['check', file('s.yaml'), '--format', 'sarif']),
    regression(`${kind} as diff's OLD spec`, [special('s.yaml')], ['diff', file('s.yaml'), spec, '--format', 'json']),
    regression(`${kind} as the policy.conf of policy stats`, [special('p.conf')], ['policy', 'stats', file('p.conf')]),
    regression(`${kind} as the policy of check --policy`, [special('p.conf')], ['check', drakvuf, '--policy', file('p.conf'), '--format', 'json']),
    regression(`${kind} as diff's NEW policy`, [special('p.conf'), text('base.conf', DRAKVUF_POLICY)], ['diff', file('base.conf'), file('p.conf')]),
    regression(`${kind} as a .te module added to a Xen tree`, [special('zmod.te')], ['check', spec, '--xen', '4.17', '--policy', XEN_TREE, '--policy', file('zmod.te')]),
    regression(`${kind} as an xl config`, [special('g.cfg')], ['check', spec, '--xl', file('g.cfg'), '--format', 'json']),
    regression(`${kind} as a xenstore dump`, [special('x.dump')], ['check', spec, '--xenstore', file('x.dump')]),
    regression(`${kind} as diff's --xenstore-new`, [special('x.dump'), text('base.dump', XENSTORE_DUMP_SEEDS[0] as string)], ['diff', spec, spec, '--xenstore-old', file('base.dump'), '--xenstore-new', file('x.dump')]),
    regression(`${kind} as the guest profile`, [...g, special('p.json')], ['vmi', 'ps', '--snapshot', file('guest.raw'), '--dtb', '0x1000', '--profile', file('p.json')]),
    regression(`${kind} as the memory snapshot`, [...g, special('m.img')], ['vmi', 'read', '--snapshot', file('m.img'), '--dtb', '0x1000', '--address', '0xffff888000002000', '--format', 'json']),
  ];
}

function policyWith(statements: string): string {
  return DRAKVUF_POLICY.replace('\nrole system_r;\n', `\n${statements}\nrole system_r;\n`);
}

/** 24 booleans in one guard, mixing operators so no short cut applies. */
function booleanGuard(): string {
  const names = Array.from({ length: 24 }, (_, i) => `guard${i}`);
  const guard = names.map((n, i) => (i % 3 === 2 ? `!${n}` : n)).reduce((acc, n, i) => (i === 0 ? n : `(${acc} ${['||', '&&', '^'][i % 3]} ${n})`));
  return [...names.map((n, i) => `bool ${n} ${i % 2 === 0 ? 'true' : 'false'};`), `if (${guard}) { allow drakvuf_t dom0_t:domain { pause unpause }; } else { allow win10_t drakvuf_t:domain getdomaininfo; }`].join('\n');
}

/** 150 domain types in one attribute that may relabel to and from each other. */
function relabelFanOut(): string {
  const lines = ['attribute relabel_pool;'];
  for (let i = 0; i < 150; i++) lines.push(`type pool${i}_t, relabel_pool, domain_type;`);
  lines.push('allow relabel_pool relabel_pool:domain2 { relabelfrom relabelto relabelself };', 'allow relabel_pool relabel_pool:domain { transition setvcpucontext };', 'allow drakvuf_t relabel_pool:domain2 relabelto;', 'role system_r types relabel_pool;');
  return lines.join('\n');
}

function bigAttribute(): string {
  const lines = ['attribute crowd;'];
  for (let i = 0; i < 1500; i++) lines.push(`type crowd${i}_t, crowd, domain_type;`);
  lines.push('allow crowd crowd:event { bind send };', 'allow crowd crowd:grant { map_read copy };', 'role system_r types crowd;');
  return lines.join('\n');
}

/** An ELF core whose e_phnum is PN_XNUM (0xffff), sending readers to section 0's sh_info = 0xffffffff. */
function xnumElf(): Uint8Array {
  const bytes = Uint8Array.from(tinyGuest().elf);
  const v = new DataView(bytes.buffer);
  v.setUint16(56, 0xffff, true); // e_phnum = PN_XNUM
  v.setBigUint64(40, 0x300n, true); // e_shoff
  v.setUint16(58, 64, true); // e_shentsize
  v.setUint16(60, 0, true); // e_shnum: 0, the real count would be section 0's sh_size
  v.setUint32(0x300 + 44, 0xffffffff, true); // sh_info: the real program-header count
  return bytes;
}

/** A snapshot whose second task's comm holds a terminal escape and a bidi override. */
function hostileComm(): Uint8Array {
  const bytes = Uint8Array.from(tinyGuest().raw);
  bytes.set(new TextEncoder().encode('\x1b]0;pwn\x07\u202e\r'), 0x3000 + 0x300);
  return bytes;
}

const CONTROL = '\x1b[2J\x07\u202e\r\x00\x08';

/** A spec with control characters in every string field (one run reports every error). */
function controlSpec(): string {
  const c = JSON.stringify(CONTROL).slice(1, -1);
  return `vmipolicy: 1
xen: "4.19${c}"
policy:
  module: "vmi${c}"
  mode: "module${c}"
introspectors:
  - name: "mon${c}"
    type: "mon${c}_t"
    guest: "pv${c}"
    targets: ["web${c}"]
    capabilities: [domain-info, "read-memory${c}"]
    lookup: "name${c}"
    description: "monitor${c}"
targets:
  - name: web
    type: "web${c}_t"
    guest: hvm
    description: "web${c}"
"unknown${c}": 1
`;
}

export function regressionCases(): FuzzCase[] {
  const spec = EXAMPLE_SPEC('tinyvmi');
  const drakvuf = EXAMPLE_SPEC('drakvuf');
  const tiny = tinyGuest();
  const deepPath = '/' + Array.from({ length: 20_000 }, (_, i) => `c${i % 10}`).join('/');
  return [
    ...everyInputKind('/dev/zero', (name) => ({ name, link: '/dev/zero' })),
    ...everyInputKind('a FIFO', (name) => ({ name, fifo: true })),
    regression('24 booleans in one guard: check --policy', [text('p.conf', policyWith(booleanGuard()))], ['check', drakvuf, '--policy', file('p.conf'), '--format', 'json']),
    regression('24 booleans in one guard: policy query', [text('p.conf', policyWith(booleanGuard()))], ['policy', 'query', file('p.conf'), '-s', 'drakvuf_t', '--format', 'json']),
    regression('24 booleans in one guard: diff', [text('p.conf', policyWith(booleanGuard())), text('base.conf', DRAKVUF_POLICY)], ['diff', file('base.conf'), file('p.conf'), '--format', 'json']),
    regression('150 types + attribute relabel rules: check --policy', [text('p.conf', policyWith(relabelFanOut()))], ['check', drakvuf, '--policy', file('p.conf'), '--format', 'sarif']),
    regression('150 types + attribute relabel rules in a .te module of a Xen tree', [text('pool.te', relabelFanOut().replace(/drakvuf_t/g, 'dom0_t'))], ['check', spec, '--xen', '4.17', '--policy', XEN_TREE, '--policy', file('pool.te'), '--format', 'json']),
    regression('1500 types in one attribute: policy query -s ATTR', [text('p.conf', policyWith(bigAttribute()))], ['policy', 'query', file('p.conf'), '-s', 'crowd', '--format', 'json']),
    regression('a xenstore-ls line with 20 000 path components: check', [text('x.dump', (XENSTORE_DUMP_SEEDS[0] as string) + `${deepPath} = "v"   (n0,r1)\n`)], ['check', spec, '--xenstore', file('x.dump'), '--format', 'json']),
    regression('a xenstore-ls line with 20 000 path components: diff', [text('x.dump', `${deepPath} = ""   (n0)\n`), text('base.dump', XENSTORE_DUMP_SEEDS[0] as string)], ['diff', spec, spec, '--xenstore-old', file('base.dump'), '--xenstore-new', file('x.dump'), '--format', 'json']),
    regression('an ELF core with e_phnum=0xffff and sh_info 0xffffffff: ps', [text('core.elf', xnumElf()), text('profile.json', tiny.profile)], ['vmi', 'ps', '--snapshot', file('core.elf'), '--dtb', '0x1000', '--profile', file('profile.json')]),
    regression('an ELF core with e_phnum=0xffff and sh_info 0xffffffff: translate', [text('core.elf', xnumElf())], ['vmi', 'translate', '--snapshot', file('core.elf'), '--dtb', '0x1000', '--address', '0xffff888000003000', '--format', 'json']),
    regression('#line 123456789012345678901234 "x": policy stats', [text('p.conf', DRAKVUF_POLICY.replace('\nrole system_r;\n', '\n#line 123456789012345678901234 "x"\nallow drakvuf_t dom0_t:domain pause;\nrole system_r;\n'))], ['policy', 'stats', file('p.conf'), '--format', 'json']),
    regression('#line 123456789012345678901234 "x": check --policy', [text('p.conf', DRAKVUF_POLICY.replace('\nrole system_r;\n', '\n#line 123456789012345678901234 "x"\nallow drakvuf_t dom0_t:domain pause;\nrole system_r;\n'))], ['check', drakvuf, '--policy', file('p.conf')]),
    regression('#line 123456789012345678901234 "x" in a .te module', [text('line.te', `${TE_SEEDS[0] as string}\n#line 123456789012345678901234 "x\u202e"\nallow tinyvmi_t dom0_t:domain pause;\n`)], ['check', spec, '--xen', '4.17', '--policy', XEN_TREE, '--policy', file('line.te')]),
    regression('m4 commands in a .te module (syscmd, esyscmd, include of /dev/zero)', [text('cmd.te', `${TE_SEEDS[0] as string}\nsyscmd(\`touch ${CASE_DIR_MARK}/${EXECUTED_MARKER}')\nesyscmd(\`touch ${CASE_DIR_MARK}/${EXECUTED_MARKER}')\ninclude(\`/dev/zero')\n`)], ['check', spec, '--xen', '4.17', '--policy', XEN_TREE, '--policy', file('cmd.te'), '--format', 'json']),
    regression('shell commands in a xenstore-acl.sh', [text('acl.sh', `${SCRIPT_SEEDS[0] as string}\n"$XENSTORE_CHMOD" "/local/domain/$(touch ${CASE_DIR_MARK}/${EXECUTED_MARKER})" 'n0'\ntouch ${CASE_DIR_MARK}/${EXECUTED_MARKER}\n`)], ['check', spec, '--xenstore', file('acl.sh'), '--format', 'sarif']),
    regression('a git revision that is an option', [], ['diff', `git:--output=${EXECUTED_MARKER}:examples/tinyvmi/vmi.yaml`, spec, '--format', 'json'], { git: [{ name: 'examples/tinyvmi/vmi.yaml', content: 'vmipolicy: 1\n' }] }),
    regression('a spec path with a newline: compile', [text('sp\nec.yaml', 'vmipolicy: 1\nxen: "4.19"\npolicy: { module: vmi }\nintrospectors: []\ntargets: [\n')], ['compile', file('sp\nec.yaml'), '-o', file('out.d')]),
    regression('a spec path with a newline and an escape: check', [text('ne\nw\x1b[31m.yaml', 'vmipolicy: 1\nxen: "9.9"\n')], ['check', file('ne\nw\x1b[31m.yaml')]),
    regression('control characters in every string field of a spec: compile', [text('c.yaml', controlSpec())], ['compile', file('c.yaml'), '-o', file('out.d')]),
    regression('control characters in every string field of a spec: check --format json', [text('c.yaml', controlSpec())], ['check', file('c.yaml'), '--format', 'json']),
    regression('control characters in an xl config', [text('g.cfg', (XL_SEEDS[XL_SEEDS.length - 1] as string).replace('ubuntu_t"', `ubuntu_t${CONTROL}"`).replace('name = "ubuntu"', `name = "ubu${CONTROL}ntu"`))], ['check', spec, '--xl', file('g.cfg')]),
    regression('control characters in a xenstore dump value and path', [text('x.dump', (XENSTORE_DUMP_SEEDS[0] as string).replace('"tinyvmi"', `"tiny${CONTROL}vmi"`) + `/local/domain/1/da${CONTROL}ta = "x"   (n1)\n`)], ['check', spec, '--xenstore', file('x.dump')]),
    regression('control characters in a xenstore-acl.sh', [text('acl.sh', `#!/bin/sh\nXENSTORE_CHMOD=\${XENSTORE_CHMOD:-xenstore-chmod}\n"$XENSTORE_CHMOD" '/local/domain${CONTROL}' 'n0'\n`)], ['check', spec, '--xenstore', file('acl.sh')]),
    regression('control characters in a guest profile', [text('guest.raw', tiny.raw), text('p.json', `{"tasks":1,"pid":2,"comm":3,"mm":4,"pgd":5,"init_task":"0x10","${CONTROL}":1}`)], ['vmi', 'ps', '--snapshot', file('guest.raw'), '--dtb', '0x1000', '--profile', file('p.json')]),
    regression('control characters in a task name read from guest memory', [text('guest.raw', hostileComm()), text('profile.json', tiny.profile)], ['vmi', 'ps', '--snapshot', file('guest.raw'), '--dtb', '0x1000', '--profile', file('profile.json')]),
    regression('control characters in a policy identifier', [text('p.conf', DRAKVUF_POLICY.replace('allow drakvuf_t win10_t_channel:event create;', `allow drakvuf_t win10${CONTROL}_t:event create;`))], ['policy', 'stats', file('p.conf')]),
  ];
}
