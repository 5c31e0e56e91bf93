// A deterministic synthetic x86-64 Linux-like guest in a MemoryImage: real page tables for a
// kernel (a 1 GiB-page direct map, 2 MiB-page kernel image, a vmalloc-style data region of
// 4 KiB pages on scattered frames followed by a guard hole), per-process address spaces with
// user mappings and holes, and a circular task list a profile describes. Same seed, same bytes.

import { MemoryImage, type RamRange } from '../memory/memory-image.js';
import { PAGE_SIZE } from '../memory/physical-memory.js';
import { FrameAllocator } from './frame-allocator.js';
import type { LinuxProfile } from './linux-profile.js';
import { PageTableBuilder } from './page-table-builder.js';
import { randomInt, seededRandom } from './prng.js';

interface SyntheticGuestOptions {
  readonly seed?: number;
  /** Guest RAM in bytes (default 64 MiB; at least 32 MiB for the kernel image at 16 MiB). */
  readonly memoryBytes?: number;
  readonly mode?: 'ia32e' | 'la57';
  /** Tasks in the task list, init_task (pid 0) included (default 8, at least 3). */
  readonly processes?: number;
  /** Consecutive 4 KiB pages in the data region (default 500: the benchmark's protocol). */
  readonly dataPages?: number;
}

interface SyntheticProcess {
  readonly pid: number;
  readonly comm: string;
  readonly task: bigint;
  /** The process's own page-directory base; absent for kernel threads. */
  readonly dtb?: number;
}

export interface SyntheticGuest {
  readonly image: MemoryImage;
  readonly mode: 'ia32e' | 'la57';
  /** The kernel's page-directory base (init_mm.pgd, physical). */
  readonly dtb: number;
  readonly profile: LinuxProfile;
  readonly processes: readonly SyntheticProcess[];
  readonly layout: GuestLayout;
  /** The data region: `pages` consecutive virtual pages at `va`, page i on frame `frames[i]`. */
  readonly data: { readonly va: bigint; readonly pages: number; readonly frames: readonly number[] };
  /** The expected content of data page i (for checks after a read). */
  dataPage(i: number): Uint8Array;
}

interface GuestLayout {
  readonly directMap: bigint;
  readonly kernelText: bigint;
  readonly kernelImagePhysical: number;
  readonly userText: bigint;
  readonly userHeap: bigint;
  readonly userStack: bigint;
}

/** Linux x86-64's addresses (Documentation/arch/x86/x86_64/mm.rst), 4- and 5-level. */
const LAYOUTS: Readonly<Record<'ia32e' | 'la57', GuestLayout>> = {
  ia32e: { directMap: 0xffff888000000000n, kernelText: 0xffffffff81000000n, kernelImagePhysical: 0x1000000, userText: 0x400000n, userHeap: 0x2000000n, userStack: 0x7ffffffde000n },
  la57: { directMap: 0xff11000000000000n, kernelText: 0xffffffff81000000n, kernelImagePhysical: 0x1000000, userText: 0x400000n, userHeap: 0x2000000n, userStack: 0xfffffffffde000n },
};
const VMALLOC: Readonly<Record<'ia32e' | 'la57', bigint>> = { ia32e: 0xffffc90000000000n, la57: 0xffa0000000000000n };

/** Offsets in the style of a 5.x/6.x x86-64 kernel; tests rely on nothing but the profile. */
const SYNTHETIC_PROFILE_OFFSETS = { tasks: 0x4c8, pid: 0x5c8, comm: 0x738, mm: 0x518, pgd: 0x50 } as const;
const TASK_STRUCT_BYTES = 0x1c00;
/** init_task's offset in the kernel image: in its data half, spanning two page boundaries. */
const INIT_TASK_OFFSET = 0x212940;
const KERNEL_IMAGE_BYTES = 4 << 20;
const COMMS = ['systemd-journal', 'sshd', 'bash', 'cron', 'rsyslogd', 'agetty', 'dbus-daemon', 'xenstored', 'qemu-dm', 'python3', 'nginx', 'postgres'];

const GiB = 1073741824 as const;
const MiB2 = 2097152 as const;
const KERNEL_RX = { rw: false, us: false, nx: false };
const KERNEL_RW = { rw: true, us: false, nx: true };
const USER_RX = { rw: false, us: true, nx: false };
const USER_RW = { rw: true, us: true, nx: true };

/** The RAM ranges of a PC with `size` bytes: everything except the 640 KiB–1 MiB legacy hole. */
function pcRamRanges(size: number): RamRange[] {
  return [{ start: 0, end: 0xa0000 }, { start: 0x100000, end: size }];
}

export function buildSyntheticGuest(options: SyntheticGuestOptions = {}): SyntheticGuest {
  const seed = options.seed ?? 1;
  const mode = options.mode ?? 'ia32e';
  const memoryBytes = Math.max(32 << 20, options.memoryBytes ?? 64 << 20);
  const taskCount = Math.max(3, options.processes ?? 8);
  const dataPages = Math.max(1, options.dataPages ?? 500);
  const layout = LAYOUTS[mode];
  const random = seededRandom(seed);
  const image = new MemoryImage(memoryBytes, pcRamRanges(memoryBytes));
  const kernelImage = { start: layout.kernelImagePhysical, end: layout.kernelImagePhysical + KERNEL_IMAGE_BYTES };
  const frames = new FrameAllocator(random, image.ranges, [kernelImage]);
  const levels = mode === 'la57' ? 5 : 4;
  const kernel = new PageTableBuilder(image, levels, () => frames.frame());

  // The direct map covers all RAM with 1 GiB pages; the kernel image with 2 MiB pages (text, then data).
  for (let at = 0; at < memoryBytes; at += GiB) kernel.map(layout.directMap + BigInt(at), at, GiB, KERNEL_RW);
  kernel.map(layout.kernelText, kernelImage.start, MiB2, KERNEL_RX);
  kernel.map(layout.kernelText + BigInt(MiB2), kernelImage.start + MiB2, MiB2, KERNEL_RW);

  const data = buildDataRegion(image, kernel, frames, VMALLOC[mode], dataPages, seed);
  const profile: LinuxProfile = { ...SYNTHETIC_PROFILE_OFFSETS, initTask: layout.kernelText + BigInt(INIT_TASK_OFFSET) };
  const processes = buildTasks(image, kernel, frames, layout, profile, taskCount, random);
  return { image, mode, dtb: kernel.root, profile, processes, layout, data, dataPage: (i) => dataPattern(seed, i) };
}

/** The word-offset half of dataPattern, the same for every page and seed: computed once, so building a guest's data region is a XOR per word. */
const PATTERN_COLUMNS = Int32Array.from({ length: PAGE_SIZE / 4 }, (_, k) => Math.imul(k + 1, 0x85ebca6b));

/** Page i of the data region: 32-bit words that differ per seed, page and offset, so a wrong frame never passes a check. */
function dataPattern(seed: number, page: number): Uint8Array {
  const words = new Uint32Array(PAGE_SIZE / 4);
  const perPage = Math.imul(page + 1, 0x9e3779b1) ^ seed;
  for (let k = 0; k < words.length; k++) words[k] = (perPage ^ (PATTERN_COLUMNS[k] as number)) >>> 0;
  return new Uint8Array(words.buffer);
}

function buildDataRegion(image: MemoryImage, kernel: PageTableBuilder, frames: FrameAllocator, va: bigint, pages: number, seed: number): SyntheticGuest['data'] {
  const placed: number[] = [];
  for (let i = 0; i < pages; i++) {
    const frame = frames.frame();
    placed.push(frame);
    image.write(frame, dataPattern(seed, i));
    kernel.map(va + BigInt(i * PAGE_SIZE), frame, PAGE_SIZE, KERNEL_RW);
  }
  // vmalloc leaves the page after an area unmapped (a guard page): the hole is left as is.
  return { va, pages, frames: placed };
}

function directMapAddress(layout: GuestLayout, physical: number): bigint {
  return layout.directMap + BigInt(physical);
}

function buildTasks(image: MemoryImage, kernel: PageTableBuilder, frames: FrameAllocator, layout: GuestLayout, profile: LinuxProfile, count: number, random: () => number): SyntheticProcess[] {
  const initTaskPhysical = layout.kernelImagePhysical + INIT_TASK_OFFSET;
  const tasks: { physical: number; va: bigint; pid: number; comm: string; kernelThread: boolean }[] = [
    { physical: initTaskPhysical, va: profile.initTask, pid: 0, comm: 'swapper/0', kernelThread: true },
  ];
  let pid = 1;
  for (let n = 1; n < count; n++) {
    const physical = frames.contiguous(Math.ceil(TASK_STRUCT_BYTES / PAGE_SIZE));
    const comm = n === 1 ? 'systemd' : n === 2 ? 'kthreadd' : (COMMS[(n - 3) % COMMS.length] as string);
    tasks.push({ physical, va: directMapAddress(layout, physical), pid, comm, kernelThread: n === 2 });
    pid += 1 + randomInt(random, n < 3 ? 1 : 400);
  }
  const result: SyntheticProcess[] = [];
  tasks.forEach((task, i) => {
    const next = tasks[(i + 1) % tasks.length]!;
    const prev = tasks[(i + tasks.length - 1) % tasks.length]!;
    image.writeU64(task.physical + profile.tasks, next.va + BigInt(profile.tasks));
    image.writeU64(task.physical + profile.tasks + 8, prev.va + BigInt(profile.tasks));
    image.writeU32(task.physical + profile.pid, task.pid);
    image.write(task.physical + profile.comm, commBytes(task.comm));
    let dtb: number | undefined;
    if (!task.kernelThread) {
      dtb = buildUserSpace(image, kernel, frames, layout, task.pid, task.comm);
      const mm = frames.frame();
      image.writeU64(mm + profile.pgd, directMapAddress(layout, dtb));
      image.writeU64(task.physical + profile.mm, directMapAddress(layout, mm));
    }
    result.push({ pid: task.pid, comm: task.comm, task: task.va, ...(dtb !== undefined ? { dtb } : {}) });
  });
  return result;
}

/** TASK_COMM_LEN is 16: at most 15 characters and a NUL. */
function commBytes(comm: string): Uint8Array {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < Math.min(15, comm.length); i++) bytes[i] = comm.charCodeAt(i) & 0xff;
  return bytes;
}

/**
 * A process's address space: the kernel half shared with init_mm, a read-only text page, two
 * heap pages with an unmapped page between them, and a stack page, each holding the pid and
 * comm so a read through the process's CR3 can be checked.
 */
function buildUserSpace(image: MemoryImage, kernel: PageTableBuilder, frames: FrameAllocator, layout: GuestLayout, pid: number, comm: string): number {
  const levels = layout.directMap === LAYOUTS.la57.directMap ? 5 : 4;
  const space = new PageTableBuilder(image, levels, () => frames.frame());
  space.shareKernelHalf(kernel.root);
  const pages: [bigint, typeof USER_RX][] = [
    [layout.userText, USER_RX],
    [layout.userHeap, USER_RW],
    [layout.userHeap + 2n * BigInt(PAGE_SIZE), USER_RW],
    [layout.userStack, USER_RW],
  ];
  for (const [va, protection] of pages) {
    const frame = frames.frame();
    image.write(frame, userPageContent(pid, comm, va));
    space.map(va, frame, PAGE_SIZE, protection);
  }
  return space.root;
}

/** What a user page of the synthetic guest holds: "pid <n> <comm> @<va>", NUL-padded. */
export function userPageContent(pid: number, comm: string, va: bigint): Uint8Array {
  const text = `pid ${pid} ${comm} @0x${va.toString(16)}`;
  const bytes = new Uint8Array(PAGE_SIZE);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
