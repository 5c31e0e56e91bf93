// The fuzz targets: for every input format the CLI reads, a fast-check arbitrary of whole
// cases — the input files (near-valid seeds mutated, or built by a structure-aware
// generator) and the command line that feeds them to the real CLI entry, with the output
// formats it offers. A case is a pure function of its seed, so any failure replays.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { Arg, FuzzCase, FuzzFile } from './fuzz-run.js';
import { BIDI_STRINGS, CONTROL_STRINGS, hostileString, LIMIT_NUMBERS, mutatedBytes, mutatedInput } from './fuzz-mutate.js';
import { DRAKVUF_POLICY, EXAMPLE_SPEC, POLICY_SEEDS, SCRIPT_SEEDS, SPEC_SEEDS, TE_SEEDS, tinyGuest, XENSTORE_DUMP_SEEDS, XL_SEEDS } from './fuzz-seeds.js';
import { specArbitrary, type SpecObject } from './arbitrary.js';
import { sharedPath } from './env.js';

export interface FuzzTarget {
  readonly name: string;
  /** Why the target cannot run here, if it cannot (printed as the skip reason). */
  readonly unavailable?: () => string | undefined;
  readonly cases: fc.Arbitrary<FuzzCase>;
}

const file = (name: string): Arg => ({ file: name });
const text = (name: string, content: string | Uint8Array): FuzzFile => ({ name, content });

/** The corpus tree a .te module is added to (check --policy TREE --policy NAME.te). */
export const XEN_TREE = sharedPath('corpus', 'xen-4.17', 'src');
const treeMissing = (): string | undefined => (existsSync(XEN_TREE) ? undefined : `${XEN_TREE} is absent (../shared)`);

// ---------------------------------------------------------------- specs

/** A spec command for a spec file: compile (into a fresh dir), check or verify, in each of its formats. */
const specCommand: fc.Arbitrary<(spec: Arg) => Arg[]> = fc.oneof(
  fc.constantFrom('text', 'json').map((f) => (spec: Arg): Arg[] => ['compile', spec, '-o', file('out.d'), '--format', f]),
  fc.constantFrom('text', 'json', 'sarif', 'dot').map((f) => (spec: Arg): Arg[] => ['check', spec, '--format', f]),
  fc.constantFrom('text', 'json').map((f) => (spec: Arg): Arg[] => ['verify', spec, '--format', f]),
  fc.constant((spec: Arg): Arg[] => ['diff', EXAMPLE_SPEC('tinyvmi'), spec, '--format', 'json']),
);

const mutatedSpec: fc.Arbitrary<FuzzCase> = fc.tuple(mutatedInput(SPEC_SEEDS), specCommand).map(([m, cmd]) => ({
  target: 'spec-mutated', shape: m.note, files: [text('spec.yaml', m.text)], argv: cmd(file('spec.yaml')),
}));

/** Strings a spec's string fields may be given: control and bidi characters, long names, limits. */
const hostileField = fc.oneof(
  hostileString,
  fc.tuple(fc.constantFrom('web', 'mon_t', 'vmi'), fc.constantFrom(...CONTROL_STRINGS, ...BIDI_STRINGS)).map(([a, b]) => a + b + a),
  fc.constantFrom(...LIMIT_NUMBERS),
  fc.constantFrom('a'.repeat(65), 'x'.repeat(10_000) + '_t', 'Domain-0', 'dom0_t', '0', '-rf', '../../etc'),
);

/** A valid random spec, then one string field (or a capability, a release) replaced by a hostile string, plus fan-out. */
const structuredSpec: fc.Arbitrary<FuzzCase> = fc
  .tuple(specArbitrary(), fc.nat(), hostileField, fc.constantFrom(1, 1, 50, 400), specCommand)
  .map(([spec, pick, value, fanOut, cmd]) => {
    const s = structuredClone(spec) as SpecObject & { targets: Record<string, unknown>[]; introspectors: Record<string, unknown>[] };
    // Fan-out: many targets, every introspector watching all of them.
    for (let i = 1; i < fanOut; i++) s.targets.push({ name: `fan-${i}`, guest: 'hvm' });
    if (fanOut > 1) for (const m of s.introspectors) m.targets = s.targets.map((t) => t.name);
    const slots: ((v: string) => void)[] = [
      (v) => { (s.targets[0] as Record<string, unknown>).name = v; },
      (v) => { (s.targets[0] as Record<string, unknown>).type = v; },
      (v) => { (s.targets[0] as Record<string, unknown>).description = v; },
      (v) => { (s.introspectors[0] as Record<string, unknown>).name = v; },
      (v) => { (s.introspectors[0] as Record<string, unknown>).type = v; },
      (v) => { ((s.introspectors[0] as Record<string, unknown>).capabilities as string[]).push(v); },
      (v) => { ((s.introspectors[0] as Record<string, unknown>).targets as string[]).push(v); },
      (v) => { s.policy.module = v; },
      (v) => { s.xen = v; },
      (v) => { (s.policy as Record<string, unknown>).mode = v; },
      (v) => { (s as unknown as Record<string, unknown>)[v] = v; },
    ];
    (slots[pick % slots.length] as (v: string) => void)(value);
    return { target: 'spec-structured', shape: `slot ${pick % slots.length}, fan-out ${fanOut}`, files: [text('spec.yaml', stringify(s))], argv: cmd(file('spec.yaml')) };
  });

// ---------------------------------------------------------------- policy.conf

/** Statements that stress a policy reader: attribute fan-outs, boolean-heavy guards, relabel chains. */
const policyStatements = fc.record({
  types: fc.constantFrom(0, 10, 150, 1500),
  booleans: fc.constantFrom(0, 3, 16, 24),
  relabel: fc.boolean(),
  op: fc.constantFrom('&&', '||', '^', '==', '!='),
}).map(({ types, booleans, relabel, op }) => {
  const lines = ['attribute fz_attr;'];
  for (let i = 0; i < types; i++) lines.push(`type fz${i}_t, fz_attr, domain_type;`);
  lines.push('allow fz_attr fz_attr:domain { getdomaininfo pause };');
  if (relabel) lines.push('allow fz_attr fz_attr:domain2 { relabelfrom relabelto relabelself };', 'allow fz_attr fz_attr:domain transition;');
  for (let i = 0; i < booleans; i++) lines.push(`bool fzb${i} false;`);
  if (booleans) {
    const guard = Array.from({ length: booleans }, (_, i) => `fzb${i}`).join(` ${op} `);
    lines.push(`if (${guard}) { allow fz_attr dom0_t:domain { setvcpucontext }; } else { allow dom0_t fz_attr:domain pause; }`);
  }
  lines.push(`role system_r types fz_attr;`);
  return { text: lines.join('\n') + '\n', note: `${types} types in an attribute, ${booleans} booleans joined by ${op}${relabel ? ', relabel rules' : ''}` };
});

/** The drakvuf policy with generated statements placed in its TE section (before the roles). */
const structuredPolicy = policyStatements.map(({ text: stmts, note }) => ({ text: DRAKVUF_POLICY.replace('\nrole system_r;\n', `\n${stmts}role system_r;\n`), note }));

const anyPolicy = fc.oneof(mutatedInput(POLICY_SEEDS), structuredPolicy);

const policyCommand: fc.Arbitrary<(p: Arg) => Arg[]> = fc.oneof(
  fc.constantFrom('text', 'json').map((f) => (p: Arg): Arg[] => ['policy', 'stats', p, '--format', f]),
  fc.tuple(fc.constantFrom('drakvuf_t', 'fz_attr', 'domain_type', 'xen_t'), fc.constantFrom('text', 'json')).map(([s, f]) => (p: Arg): Arg[] => ['policy', 'query', p, '-s', s, '--format', f]),
  fc.constantFrom('text', 'json', 'sarif').map((f) => (p: Arg): Arg[] => ['check', EXAMPLE_SPEC('drakvuf'), '--policy', p, '--format', f]),
  fc.tuple(fc.constantFrom('text', 'json', 'markdown', 'sarif'), fc.boolean()).map(([f, swap]) => (p: Arg): Arg[] => ['diff', ...(swap ? [p, file('base.conf')] : [file('base.conf'), p]), '--format', f, '--fail-on', 'new-access']),
);

const policyCases: fc.Arbitrary<FuzzCase> = fc.tuple(anyPolicy, policyCommand).map(([p, cmd]) => ({
  target: 'policy-conf', shape: p.note, files: [text('policy.conf', p.text), text('base.conf', DRAKVUF_POLICY)], argv: cmd(file('policy.conf')),
}));

// ---------------------------------------------------------------- binary policies

let binaries: Uint8Array[] | undefined;
/** DRAKVUF's policy.conf through checkpolicy -t Xen at versions 30 and 24 (built once, at the first case). */
function binarySeeds(): Uint8Array[] {
  if (binaries) return binaries;
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-fuzz-bin-'));
  try {
    writeFileSync(join(dir, 'policy.conf'), DRAKVUF_POLICY);
    binaries = [30, 24].map((v) => {
      const out = join(dir, `xenpolicy-${v}`);
      const r = spawnSync('checkpolicy', ['-t', 'Xen', '-c', String(v), join(dir, 'policy.conf'), '-o', out], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`checkpolicy -c ${v}: ${r.stderr}`);
      return Uint8Array.from(readFileSync(out));
    });
    return binaries;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const checkpolicyMissing = (): string | undefined => (spawnSync('checkpolicy', ['-V']).status === 0 ? undefined : 'checkpolicy is not installed');

/** Every command that reads a policy, on a mutated binary. */
const binaryCommand = fc.constantFrom(
  (f: Arg): Arg[] => ['policy', 'stats', f, '--format', 'json'],
  (f: Arg): Arg[] => ['policy', 'query', f, '-s', 'dom0_t', '--format', 'text'],
  (f: Arg): Arg[] => ['check', EXAMPLE_SPEC('drakvuf'), '--policy', f, '--format', 'json'],
  (f: Arg): Arg[] => ['diff', file('base.conf'), f, '--format', 'json'],
);

/** Mostly mutated (nearly every edit makes the file unreadable: VP3030), sometimes whole, so the readable path is fuzzed too. */
const binaryBytes = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null).chain(() => mutatedBytes(binarySeeds())) },
  { weight: 1, arbitrary: fc.nat(1).map((i) => ({ bytes: binarySeeds()[i] as Uint8Array, note: `seed ${i}, unchanged` })) },
);

const binaryCases: fc.Arbitrary<FuzzCase> = fc.tuple(binaryBytes, binaryCommand).map(([b, cmd]) => ({
  target: 'binary-policy', shape: b.note, files: [text('xenpolicy', b.bytes), text('base.conf', DRAKVUF_POLICY)], argv: cmd(file('xenpolicy')),
}));

// ---------------------------------------------------------------- .te modules in a Xen tree

const teCases: fc.Arbitrary<FuzzCase> = fc.tuple(fc.oneof(mutatedInput(TE_SEEDS), policyStatements), fc.constantFrom('text', 'json', 'sarif')).map(([m, f]) => ({
  target: 'te-module', shape: m.note, files: [text('fzmod.te', m.text)],
  argv: ['check', EXAMPLE_SPEC('tinyvmi'), '--xen', '4.17', '--policy', XEN_TREE, '--policy', file('fzmod.te'), '--format', f],
}));

// ---------------------------------------------------------------- xl configs

const xlCases: fc.Arbitrary<FuzzCase> = fc.tuple(mutatedInput(XL_SEEDS), fc.constantFrom('text', 'json', 'sarif')).map(([m, f]) => ({
  target: 'xl-config', shape: m.note, files: [text('guest.cfg', m.text)],
  argv: ['check', EXAMPLE_SPEC('tinyvmi'), '--xl', file('guest.cfg'), '--format', f],
}));

// ---------------------------------------------------------------- xenstore dumps and scripts

const xenstoreCommand: fc.Arbitrary<(x: Arg) => Arg[]> = fc.oneof(
  fc.constantFrom('text', 'json', 'sarif').map((f) => (x: Arg): Arg[] => ['check', EXAMPLE_SPEC('tinyvmi'), '--xenstore', x, '--format', f]),
  fc.constantFrom('text', 'json').map((f) => (x: Arg): Arg[] => ['diff', EXAMPLE_SPEC('tinyvmi'), EXAMPLE_SPEC('tinyvmi'), '--xenstore-old', file('base.dump'), '--xenstore-new', x, '--format', f]),
);

/** Dump lines a structure-aware generator adds: deep paths, hostile perms, controls in values. */
const dumpLines = fc.record({
  depth: fc.constantFrom(1, 64, 5000),
  perms: fc.constantFrom('n0', 'r1', 'n0,r2147483648', 'b-1', 'n0,' + 'r1,'.repeat(5000) + 'r2', 'x0', 'n', ''),
  value: fc.constantFrom('v', '\\x1b[31m', '\x1b[31m', 'a"  (n0)', '\\', '\u202e'),
}).map(({ depth, perms, value }) => ({ text: `/${Array.from({ length: depth }, (_, i) => `p${i}`).join('/')} = "${value}"   (${perms})\n`, note: `path depth ${depth}, perms ${perms.slice(0, 20)}` }));

const dumpCases: fc.Arbitrary<FuzzCase> = fc.tuple(fc.oneof(mutatedInput(XENSTORE_DUMP_SEEDS), dumpLines.map((l) => ({ text: (XENSTORE_DUMP_SEEDS[0] as string) + l.text, note: l.note }))), xenstoreCommand).map(([m, cmd]) => ({
  target: 'xenstore-dump', shape: m.note, files: [text('host.dump', m.text), text('base.dump', XENSTORE_DUMP_SEEDS[0] as string)], argv: cmd(file('host.dump')),
}));

const scriptCases: fc.Arbitrary<FuzzCase> = fc.tuple(mutatedInput(SCRIPT_SEEDS), fc.constantFrom('text', 'json', 'sarif')).map(([m, f]) => ({
  target: 'xenstore-script', shape: m.note, files: [text('acl.sh', m.text)],
  argv: ['check', EXAMPLE_SPEC('tinyvmi'), '--xenstore', file('acl.sh'), '--format', f],
}));

// ---------------------------------------------------------------- snapshots and profiles

const vmiCommand = fc.record({
  sub: fc.constantFrom('ps', 'read', 'translate'),
  mode: fc.constantFrom('ia32e', 'ia32e', 'la57', 'pae', 'legacy'),
  address: fc.oneof(fc.constantFrom(0, 1), fc.constantFrom(...LIMIT_NUMBERS.filter((n) => /^(0x)?[0-9a-f]+$/.test(n)))),
  length: fc.constantFrom('16', '4096', '65536', '1048576', '1048576', '0'),
  format: fc.constantFrom('text', 'json'),
});

function vmiArgv(c: { sub: string; mode: string; address: number | string; length: string; format: string }, snapshot: Arg, profile: Arg, dtb: string): Arg[] {
  const g = tinyGuest();
  const address = typeof c.address === 'number' ? '0x' + (g.addresses[c.address] as bigint).toString(16) : c.address;
  const common: Arg[] = ['vmi', c.sub, '--snapshot', snapshot, '--dtb', dtb, '--mode', c.mode, '--format', c.format];
  if (c.sub === 'ps') return [...common, '--profile', profile];
  if (c.sub === 'read') return [...common, '--address', address, '--length', c.length];
  return [...common, '--address', address];
}

/** ELF header fields a hostile core sets: program-header count and place, entry size, the PN_XNUM escape through section 0's sh_info. */
const hostileElf = fc.record({
  phnum: fc.constantFrom(0, 1, 0xffff, 0x8000),
  phoff: fc.constantFrom(64n, 0n, 0xfffffffffffffff0n, 0x7fffffffn),
  phentsize: fc.constantFrom(56, 0, 1, 0xffff),
  shinfo: fc.constantFrom(0, 0xffffffff, 0x10000),
  segment: fc.record({ offset: fc.constantFrom(0n, 0xffffffffffffffffn, 0x1000n), filesz: fc.constantFrom(0n, 0xffffffffffffffffn, 0x40000n, 0x8000000000000000n), paddr: fc.constantFrom(0n, 0xfffffffffffff000n, 0x1000n) }),
}).map(({ phnum, phoff, phentsize, shinfo, segment }) => {
  const bytes = Uint8Array.from(tinyGuest().elf);
  const v = new DataView(bytes.buffer);
  v.setBigUint64(32, phoff, true);
  v.setUint16(54, phentsize, true);
  v.setUint16(56, phnum, true);
  // A section header table at 0x200 (inside the header page) with one entry: sh_info holds the real phnum.
  v.setBigUint64(40, 0x200n, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, 1, true);
  v.setUint32(0x200 + 44, shinfo, true);
  // The first PT_LOAD (after the PT_NOTE) gets hostile numbers.
  const load = 64 + 56;
  v.setBigUint64(load + 8, segment.offset, true);
  v.setBigUint64(load + 24, segment.paddr, true);
  v.setBigUint64(load + 32, segment.filesz, true);
  return { bytes, note: `ELF e_phnum=${phnum} e_phoff=0x${phoff.toString(16)} e_phentsize=${phentsize} sh_info=0x${shinfo.toString(16)} p_offset=0x${segment.offset.toString(16)} p_filesz=0x${segment.filesz.toString(16)}` };
});

const snapshotBytes = fc.oneof(
  fc.constant(null).chain(() => mutatedBytes([tinyGuest().raw], tinyGuest().tables)),
  fc.constant(null).chain(() => mutatedBytes([tinyGuest().elf], [0, 0x200])),
  fc.constant(null).chain(() => mutatedBytes([tinyGuest().elf].map((e) => e), [0x1000 + tinyGuest().tables[0], 0x1000 + tinyGuest().tables[1]])),
  hostileElf,
);

const snapshotCases: fc.Arbitrary<FuzzCase> = fc.tuple(snapshotBytes, vmiCommand, fc.constantFrom('0x1000', '0x1000', '0x1000', '0x1000', '0', '0xfffffffffffff000')).map(([s, c, dtb]) => ({
  target: 'snapshot', shape: `${s.note}; vmi ${c.sub} --mode ${c.mode}`, files: [text('guest.img', s.bytes), text('profile.json', tinyGuest().profile)],
  argv: vmiArgv(c, file('guest.img'), file('profile.json'), dtb),
}));

const profileCases: fc.Arbitrary<FuzzCase> = fc.tuple(fc.constant(null).chain(() => mutatedInput([tinyGuest().profile])), fc.constantFrom('text', 'json'), fc.boolean()).map(([m, format, elf]) => ({
  target: 'guest-profile', shape: m.note, files: [text('guest.img', elf ? tinyGuest().elf : tinyGuest().raw), text('profile.json', m.text)],
  argv: ['vmi', 'ps', '--snapshot', file('guest.img'), '--dtb', '0x1000', '--profile', file('profile.json'), '--format', format],
}));

// ---------------------------------------------------------------- diff with git inputs

const gitRef = fc.constantFrom('HEAD', 'HEAD~1', '--output=x', '-c', 'HEAD:', '@{-1}', 'refs/heads/../../x', 'a'.repeat(300), 'HEAD\u202e', 'HEAD\x1b[31m');
const gitCases: fc.Arbitrary<FuzzCase> = fc.tuple(mutatedInput(SPEC_SEEDS), gitRef, fc.constantFrom('examples/tinyvmi/vmi.yaml', 'policy.conf', '../../etc/passwd', 'examples/', 'missing.yaml'), fc.constantFrom('text', 'json', 'markdown')).map(([m, ref, path, f]) => ({
  target: 'git-diff', shape: `git:${ref}:${path} vs ${m.note}`,
  git: [{ name: 'examples/tinyvmi/vmi.yaml', content: SPEC_SEEDS[0] as string }, { name: 'policy.conf', content: DRAKVUF_POLICY }],
  files: [text('new.yaml', m.text)],
  argv: ['diff', `git:${ref}:${path}`, file('new.yaml'), '--format', f],
}));

// ---------------------------------------------------------------- flags at their limits

const flagCases: fc.Arbitrary<FuzzCase> = fc.tuple(
  fc.constantFrom('--max-paths', '--max-depth', '--rules', '--trusted', '--xen', '--mode', '--format', '--memory-mib', '--data-pages'),
  fc.oneof(fc.constantFrom(...LIMIT_NUMBERS), hostileString),
  fc.constantFrom('check', 'verify', 'selftest'),
).map(([flag, value, command]) => ({
  target: 'flags', shape: `${command} ${flag} ${JSON.stringify(value)}`, files: [],
  argv: [command, EXAMPLE_SPEC('tinyvmi'), flag, value, ...(command === 'check' ? ['--format', 'json'] : [])],
}));

export const TARGETS: readonly FuzzTarget[] = [
  { name: 'spec-mutated', cases: mutatedSpec },
  { name: 'spec-structured', cases: structuredSpec },
  { name: 'policy-conf', cases: policyCases },
  { name: 'te-module', cases: teCases, unavailable: treeMissing },
  { name: 'binary-policy', cases: binaryCases, unavailable: checkpolicyMissing },
  { name: 'xl-config', cases: xlCases },
  { name: 'xenstore-dump', cases: dumpCases },
  { name: 'xenstore-script', cases: scriptCases },
  { name: 'snapshot', cases: snapshotCases },
  { name: 'guest-profile', cases: profileCases },
  { name: 'git-diff', cases: gitCases },
  { name: 'flags', cases: flagCases },
];

