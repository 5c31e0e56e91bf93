// A Linux process listing as LibVMI's examples/process-list.c does it: start at
// init_task.tasks, follow the circular list_head's `next` pointers, and for each entry step
// back by the tasks offset (container_of) to the task_struct, reading pid and comm; stop on
// returning to the head. Beyond the example we also follow task->mm->pgd and translate it to
// the process's page-directory base, which is what an introspector needs next.
//
// Pointers are the guest's width: 8 bytes in IA-32e, 4 in PAE and 32-bit paging (a 32-bit
// kernel). A wrong profile is caught early and said plainly instead of walking garbage: the
// first task must be init_task (pid 0, a printable comm), every tasks.next a kernel address
// (the upper half: canonical high addresses in IA-32e, at or above init_task's 256 MiB
// region on a 32-bit kernel, whose PAGE_OFFSET is 0xC0000000 or one of the other splits),
// no pid above PID_MAX_LIMIT (include/linux/threads.h: 4 194 304) and none twice (the list
// links one task per thread group, each leader with its own pid), and no task visited twice
// without coming back to init_task.

import type { AddressSpace } from '../paging/address-space.js';
import { describeFailure, type VirtualReadFailure } from '../paging/translation.js';
import type { LinuxProfile } from './linux-profile.js';

export interface ProcessEntry {
  readonly pid: number;
  readonly comm: string;
  /** Virtual address of the task_struct. */
  readonly task: bigint;
  /** task->mm; 0 for kernel threads, which have no address space of their own. */
  readonly mm: bigint;
  /** mm->pgd (a kernel virtual address), absent for kernel threads. */
  readonly pgd?: bigint;
  /** The physical address of that PGD (the process's CR3 without PCID bits), when it translates. */
  readonly dtb?: number;
}

type ProcessListing =
  | { readonly ok: true; readonly processes: readonly ProcessEntry[] }
  | { readonly ok: false; readonly reason: 'read-failed'; readonly what: string; readonly failure: VirtualReadFailure; readonly processes: readonly ProcessEntry[] }
  | { readonly ok: false; readonly reason: 'too-many-tasks'; readonly limit: number; readonly processes: readonly ProcessEntry[] }
  /** What was read cannot be a Linux task list: the profile does not fit this guest. */
  | { readonly ok: false; readonly reason: 'wrong-profile'; readonly problem: string; readonly processes: readonly ProcessEntry[] };

/** Linux's TASK_COMM_LEN. */
const TASK_COMM_LEN = 16;
/** A list that has not come back to its head after this many entries is corrupt or not a task list. */
const MAX_TASKS = 1 << 16;
/** include/linux/threads.h PID_MAX_LIMIT on 64-bit kernels (4 M); 32-bit ones stop at 32 768. */
const PID_MAX_LIMIT = 4 * 1024 * 1024;

/** How the guest's kernel stores a pointer, and which addresses can be the kernel's. */
interface PointerModel {
  readonly bytes: 4 | 8;
  readonly mask: bigint;
  readonly isKernel: (va: bigint) => boolean;
}

function pointerModel(kernel: AddressSpace, initTask: bigint): PointerModel {
  switch (kernel.mode) {
    case 'ia32e': return { bytes: 8, mask: (1n << 64n) - 1n, isKernel: (va) => va >= 0xffff800000000000n };
    case 'la57': return { bytes: 8, mask: (1n << 64n) - 1n, isKernel: (va) => va >= 0xff00000000000000n };
    default: {
      const floor = initTask & 0xf0000000n;
      return { bytes: 4, mask: 0xffffffffn, isKernel: (va) => va >= floor && va <= 0xffffffffn };
    }
  }
}

function readPointer(kernel: AddressSpace, model: PointerModel, va: bigint): { ok: true; value: bigint } | VirtualReadFailure {
  if (model.bytes === 8) return kernel.readU64(va);
  const r = kernel.readU32(va);
  return r.ok ? { ok: true, value: BigInt(r.value) } : r;
}

const hexOf = (va: bigint): string => `0x${va.toString(16)}`;

export function listProcesses(kernel: AddressSpace, profile: LinuxProfile, limit = MAX_TASKS): ProcessListing {
  const model = pointerModel(kernel, profile.initTask);
  const head = (profile.initTask + BigInt(profile.tasks)) & model.mask;
  const processes: ProcessEntry[] = [];
  const seen = new Set<bigint>();
  const pids = new Map<number, bigint>();
  const wrong = (problem: string): ProcessListing => ({ ok: false, reason: 'wrong-profile', problem, processes });
  let entry = head;
  for (let n = 0; n < limit; n++) {
    // container_of, in the guest's arithmetic: a wrong offset must not make a negative address.
    const task = (entry - BigInt(profile.tasks)) & model.mask;
    const read = readTask(kernel, profile, model, task);
    if ('failure' in read) return { ok: false, reason: 'read-failed', what: read.what, failure: read.failure, processes };
    const implausible = implausibleTask(read.entry, n === 0);
    if (implausible) return wrong(implausible);
    const twin = pids.get(read.entry.pid);
    if (twin !== undefined) return wrong(`tasks ${hexOf(twin)} and ${hexOf(task)} both have pid ${read.entry.pid}, and the task list holds one task per process: the pid offset is wrong`);
    pids.set(read.entry.pid, task);
    processes.push(read.entry);
    seen.add(entry);
    const next = readPointer(kernel, model, entry);
    if (!next.ok) return { ok: false, reason: 'read-failed', what: `tasks.next of task ${hexOf(task)}`, failure: next, processes };
    entry = next.value;
    if (entry === head) return { ok: true, processes };
    if (!model.isKernel(entry)) return wrong(`tasks.next of task ${hexOf(task)} is ${hexOf(entry)}, not a kernel address: the tasks offset or init_task is wrong`);
    if (seen.has(entry)) return wrong(`the task list comes back to task ${hexOf((entry - BigInt(profile.tasks)) & model.mask)} without returning to init_task: the tasks offset is wrong, or the list is corrupt`);
  }
  return { ok: false, reason: 'too-many-tasks', limit, processes };
}

/** Why this task cannot be what the profile says it is, or undefined when it can. */
function implausibleTask(t: ProcessEntry, isInitTask: boolean): string | undefined {
  if (isInitTask && t.pid !== 0) return `init_task at ${hexOf(t.task)} has pid ${t.pid}, not 0: init_task or the pid offset is wrong`;
  if (t.pid > PID_MAX_LIMIT) return `task ${hexOf(t.task)} has pid ${t.pid}, above Linux's limit of ${PID_MAX_LIMIT}: the pid offset is wrong`;
  if (isInitTask && (t.comm.length === 0 || /[^\x20-\x7e]/.test(t.comm))) return `init_task's comm is not a printable name (${JSON.stringify(t.comm)}): init_task or the comm offset is wrong`;
  return undefined;
}

function readTask(kernel: AddressSpace, profile: LinuxProfile, model: PointerModel, task: bigint): { entry: ProcessEntry } | { what: string; failure: VirtualReadFailure } {
  const at = (offset: number): bigint => (task + BigInt(offset)) & model.mask;
  const where = (field: string): string => `${field} of task ${hexOf(task)}`;
  const pid = kernel.readU32(at(profile.pid));
  if (!pid.ok) return { what: where('pid'), failure: pid };
  const comm = kernel.readCString(at(profile.comm), TASK_COMM_LEN);
  if (!comm.ok) return { what: where('comm'), failure: comm };
  const mm = readPointer(kernel, model, at(profile.mm));
  if (!mm.ok) return { what: where('mm'), failure: mm };
  if (mm.value === 0n) return { entry: { pid: pid.value, comm: comm.value, task, mm: 0n } };
  const pgd = readPointer(kernel, model, (mm.value + BigInt(profile.pgd)) & model.mask);
  if (!pgd.ok) return { what: where('mm->pgd'), failure: pgd };
  const dtb = kernel.translate(pgd.value);
  return { entry: { pid: pid.value, comm: comm.value, task, mm: mm.value, pgd: pgd.value, ...(dtb.ok ? { dtb: dtb.physical } : {}) } };
}

export function describeListingFailure(listing: Exclude<ProcessListing, { ok: true }>): string {
  switch (listing.reason) {
    case 'too-many-tasks': return `the task list did not return to init_task within ${listing.limit} entries`;
    case 'wrong-profile': return `the profile does not fit this guest: ${listing.problem}`;
    case 'read-failed': return `cannot read ${listing.what}: ${describeFailure(listing.failure)}`;
  }
}
