// Valid inputs of every format the CLI reads, which the fuzz harness mutates: the examples'
// specs and their golden outputs (policy.conf, .te modules, xl snippets, xenstore scripts),
// and, made here, a `xenstore-ls -f -p` dump of libxl's layout, xl configs with the usual
// keys, and a tiny x86-64 guest (4-level page tables, a three-task Linux-like task list) as a
// raw snapshot, an ELF core and its profile — a few hundred KiB, unlike the self-test's
// 32 MiB guests, so each mutated snapshot stays under the harness's 1 MB limit.

import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryImage } from '../../vmi/memory/memory-image.js';
import { PAGE_SIZE } from '../../vmi/memory/physical-memory.js';
import { PageTableBuilder } from '../../vmi/guest/page-table-builder.js';
import { profileJson, type LinuxProfile } from '../../vmi/guest/linux-profile.js';
import { writeElfCore, writeRawSnapshot } from '../../vmi/guest/snapshot-files.js';
import { libxlXenstore } from '../../xenstore/libxl-layout.js';
import { toXenstoreLs } from '../../xenstore/store.js';
import { EXAMPLES, repoPath } from './env.js';
import { MINIMAL_SPEC } from './specs.js';
import { minimalPolicy } from './policies.js';

const read = (...parts: string[]): string => readFileSync(repoPath(...parts), 'utf8');

export const SPEC_SEEDS: readonly string[] = [...EXAMPLES.map((e) => read('examples', e, 'vmi.yaml')), MINIMAL_SPEC];
export const EXAMPLE_SPEC = (name: (typeof EXAMPLES)[number]): string => repoPath('examples', name, 'vmi.yaml');

/** The drakvuf example's complete policy.conf: checked against examples/drakvuf/vmi.yaml. */
export const DRAKVUF_POLICY = read('test', 'golden', 'drakvuf', 'policy.conf');
export const POLICY_SEEDS: readonly string[] = [DRAKVUF_POLICY, minimalPolicy({ te: 'allow xen_t b_t:domain create;\nif (bb) { allow b_t xen_t:xen settime; }' })];

export const TE_SEEDS: readonly string[] = [read('test', 'golden', 'tinyvmi', 'vmi.te'), read('test', 'golden', 'multi-tenant', 'tenants_vmi.te')];

function goldenFiles(sub: string, suffix: string): string[] {
  const out: string[] = [];
  for (const e of EXAMPLES) {
    const dir = repoPath('test', 'golden', e, sub);
    for (const f of readdirSync(dir).filter((f) => f.endsWith(suffix)).sort()) out.push(readFileSync(join(dir, f), 'utf8'));
  }
  return out;
}

/** An xl config with the keys a real one has (libxlutil's syntax: strings, lists, numbers). */
const FULL_XL = `# a guest's xl config
name = "ubuntu"
type = "hvm"
memory = 2048
maxmem = 0x1000
vcpus = 2
disk = [ 'format=raw, vdev=xvda, access=rw, target=/dev/vg/ubuntu' ]
vif = [ "mac=00:16:3e:00:00:01,bridge=xenbr0", ]
on_crash = 'restart'
seclabel = "system_u:system_r:ubuntu_t"
altp2m = "external"
`;
export const XL_SEEDS: readonly string[] = [...goldenFiles('xl', '.cfg'), FULL_XL];

export const SCRIPT_SEEDS: readonly string[] = EXAMPLES.map((e) => read('test', 'golden', e, 'xenstore-acl.sh'));

/** `xenstore-ls -f -p /` of libxl's layout for the tinyvmi example's two domains; and the same tree printed without -f (indented names). */
function layoutDumps(): string[] {
  const full = toXenstoreLs(libxlXenstore([{ domid: 1, name: 'tinyvmi' }, { domid: 2, name: 'ubuntu' }]));
  const indented = full.replace(/^(\S+) = /gm, (_, path: string) => {
    const parts = path.split('/').filter(Boolean);
    return `${' '.repeat(parts.length - 1)}${parts[parts.length - 1] ?? ''} = `;
  });
  return [full, indented];
}
export const XENSTORE_DUMP_SEEDS: readonly string[] = layoutDumps();

// ---------------------------------------------------------------- a tiny guest

export interface TinyGuest {
  readonly raw: Uint8Array;
  readonly elf: Uint8Array;
  readonly profile: string;
  readonly dtb: bigint;
  /** A mapped kernel virtual address (init_task) and a data page. */
  readonly addresses: readonly bigint[];
  /** [start, end) of the page-table frames in physical memory: where byte edits matter most. */
  readonly tables: readonly [number, number];
}

const DIRECT_MAP = 0xffff888000000000n;
const KERNEL_RW = { rw: true, us: false, nx: true };
const TINY_BYTES = 256 * 1024;
const TINY_PROFILE = { tasks: 0x100, pid: 0x200, comm: 0x300, mm: 0x180, pgd: 0x50 } as const;

function tinyGuestImage(): { image: MemoryImage; dtb: number; profile: LinuxProfile; tablesEnd: number } {
  const image = new MemoryImage(TINY_BYTES);
  let next = PAGE_SIZE;
  const allocate = (): number => { const at = next; next += PAGE_SIZE; return at; };
  const kernel = new PageTableBuilder(image, 4, allocate);
  // Page tables first (low frames), then task structs and an mm, then the whole RAM direct-mapped.
  const tasks = [allocate(), allocate(), allocate()];
  const mm = allocate();
  for (let at = 0; at < TINY_BYTES; at += PAGE_SIZE) kernel.map(DIRECT_MAP + BigInt(at), at, PAGE_SIZE, KERNEL_RW);
  const va = (physical: number): bigint => DIRECT_MAP + BigInt(physical);
  const comms = ['swapper/0', 'init', 'sh'];
  tasks.forEach((task, i) => {
    const nextTask = tasks[(i + 1) % tasks.length] as number;
    const prevTask = tasks[(i + tasks.length - 1) % tasks.length] as number;
    image.writeU64(task + TINY_PROFILE.tasks, va(nextTask) + BigInt(TINY_PROFILE.tasks));
    image.writeU64(task + TINY_PROFILE.tasks + 8, va(prevTask) + BigInt(TINY_PROFILE.tasks));
    image.writeU32(task + TINY_PROFILE.pid, i);
    image.write(task + TINY_PROFILE.comm, new TextEncoder().encode((comms[i] as string).padEnd(16, '\0')));
    image.writeU64(task + TINY_PROFILE.mm, i === 0 ? 0n : va(mm));
  });
  image.writeU64(mm + TINY_PROFILE.pgd, va(kernel.root));
  return { image, dtb: kernel.root, profile: { ...TINY_PROFILE, initTask: va(tasks[0] as number) }, tablesEnd: next };
}

let tiny: TinyGuest | undefined;

/** The tiny guest's snapshots and profile (made once; the files are read back into memory). */
export function tinyGuest(): TinyGuest {
  if (tiny) return tiny;
  const { image, dtb, profile, tablesEnd } = tinyGuestImage();
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-fuzz-seed-'));
  try {
    writeRawSnapshot(image, join(dir, 'g.raw'));
    writeElfCore(image, join(dir, 'g.elf'));
    tiny = {
      raw: new Uint8Array(readFileSync(join(dir, 'g.raw'))),
      elf: new Uint8Array(readFileSync(join(dir, 'g.elf'))),
      profile: profileJson(profile),
      dtb: BigInt(dtb),
      addresses: [profile.initTask, DIRECT_MAP + 0x20000n],
      tables: [PAGE_SIZE, tablesEnd],
    };
    return tiny;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
