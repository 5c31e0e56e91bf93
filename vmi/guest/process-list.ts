// A Linux process listing as LibVMI's examples/process-list.c does it: start at
// init_task.tasks, follow the circular list_head's `next` pointers, and for each entry step
// back by the tasks offset (container_of) to the task_struct, reading pid and comm; stop on
// returning to the head. Beyond the example we also follow task->mm->pgd and translate it to
// the process's page-directory base, which is what an introspector needs next.

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
  | { readonly ok: false; readonly reason: 'too-many-tasks'; readonly limit: number; readonly processes: readonly ProcessEntry[] };

/** Linux's TASK_COMM_LEN. */
const TASK_COMM_LEN = 16;
/** A list that has not come back to its head after this many entries is corrupt or not a task list. */
const MAX_TASKS = 1 << 16;

export function listProcesses(kernel: AddressSpace, profile: LinuxProfile, limit = MAX_TASKS): ProcessListing {
  const head = profile.initTask + BigInt(profile.tasks);
  const processes: ProcessEntry[] = [];
  let entry = head;
  for (let n = 0; n < limit; n++) {
    const task = entry - BigInt(profile.tasks);
    const read = readTask(kernel, profile, task);
    if ('failure' in read) return { ok: false, reason: 'read-failed', what: read.what, failure: read.failure, processes };
    processes.push(read.entry);
    const next = kernel.readU64(entry);
    if (!next.ok) return { ok: false, reason: 'read-failed', what: `tasks.next of task 0x${task.toString(16)}`, failure: next, processes };
    entry = next.value;
    if (entry === head) return { ok: true, processes };
  }
  return { ok: false, reason: 'too-many-tasks', limit, processes };
}

function readTask(kernel: AddressSpace, profile: LinuxProfile, task: bigint): { entry: ProcessEntry } | { what: string; failure: VirtualReadFailure } {
  const at = (offset: number): bigint => task + BigInt(offset);
  const where = (field: string): string => `${field} of task 0x${task.toString(16)}`;
  const pid = kernel.readU32(at(profile.pid));
  if (!pid.ok) return { what: where('pid'), failure: pid };
  const comm = kernel.readCString(at(profile.comm), TASK_COMM_LEN);
  if (!comm.ok) return { what: where('comm'), failure: comm };
  const mm = kernel.readU64(at(profile.mm));
  if (!mm.ok) return { what: where('mm'), failure: mm };
  if (mm.value === 0n) return { entry: { pid: pid.value, comm: comm.value, task, mm: 0n } };
  const pgd = kernel.readU64(mm.value + BigInt(profile.pgd));
  if (!pgd.ok) return { what: where('mm->pgd'), failure: pgd };
  const dtb = kernel.translate(pgd.value);
  return { entry: { pid: pid.value, comm: comm.value, task, mm: mm.value, pgd: pgd.value, ...(dtb.ok ? { dtb: dtb.physical } : {}) } };
}

export function describeListingFailure(listing: Exclude<ProcessListing, { ok: true }>): string {
  return listing.reason === 'too-many-tasks'
    ? `the task list did not return to init_task within ${listing.limit} entries`
    : `cannot read ${listing.what}: ${describeFailure(listing.failure)}`;
}
