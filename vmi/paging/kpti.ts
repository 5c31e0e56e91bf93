// Linux's page-table isolation (KPTI, arch/x86/mm/pti.c, CONFIG_PAGE_TABLE_ISOLATION): each
// process's top-level table is an 8 KiB pair — the kernel's tables in the first page, the
// user's in the second — and the kernel switches CR3 to the user half on every return to user
// mode by setting bit 12 (PTI_USER_PGTABLE_BIT, arch/x86/entry/calling.h). The user half maps
// only what entering the kernel needs (the entry trampoline and cpu_entry_area, and without
// PCID the kernel's text), so a dump taken while the vCPU ran user code has a CR3 under which
// init_task, the task list and every kernel datum are absent.
//
// A CR3 with bit 12 set is not proof of that (without KPTI a table may sit at any page), so
// the kernel half is taken only when the tables say so: the kernel address asked for does not
// translate under CR3, and does under CR3 with bit 12 clear. Whoever calls this says so to the
// user, with both addresses.

import type { PhysicalMemory } from '../memory/physical-memory.js';
import { addressSpace, type AddressSpace } from './address-space.js';
import type { PagingMode, PagingOptions } from './modes.js';

const PTI_USER_PGTABLE_BIT = 0x1000n;
/** The upper half of the address space, the kernel's under x86-64 Linux (4- and 5-level alike). */
const KERNEL_HALF = 1n << 63n;

/**
 * The address space of the kernel half of a KPTI pair whose user half `dtb` is, when `probe`
 * (a kernel address) is mapped there and not under `dtb`; undefined otherwise.
 */
export function kptiKernelHalf(memory: PhysicalMemory, mode: PagingMode, dtb: bigint, probe: bigint, options: PagingOptions = {}): { readonly dtb: bigint; readonly space: AddressSpace } | undefined {
  if ((mode !== 'ia32e' && mode !== 'la57') || (dtb & PTI_USER_PGTABLE_BIT) === 0n || (probe & KERNEL_HALF) === 0n) return undefined;
  const user = addressSpace(memory, mode, dtb, options);
  if (!user.ok || user.space.translate(probe).ok) return undefined;
  const kernelDtb = dtb & ~PTI_USER_PGTABLE_BIT;
  const kernel = addressSpace(memory, mode, kernelDtb, options);
  return kernel.ok && kernel.space.translate(probe).ok ? { dtb: kernelDtb, space: kernel.space } : undefined;
}
