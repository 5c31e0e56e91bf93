// The four x86 paging modes, what selects them (CR0.PG, CR4.PAE, EFER.LMA, CR4.LA57), and the
// options that change which entry bits are reserved (MAXPHYADDR, EFER.NXE, CR4.PSE).

export type PagingMode = 'ia32e' | 'la57' | 'pae' | 'legacy';

export const PAGING_MODES: readonly PagingMode[] = ['ia32e', 'la57', 'pae', 'legacy'];

export interface PagingOptions {
  /** CPUID MAXPHYADDR: entry address bits at and above it are reserved (default 52; 32-bit paging's PSE-36 stops at 40). */
  readonly maxPhysAddr?: number;
  /** EFER.NXE: when clear, bit 63 (XD) is reserved instead of meaning "no execute" (default true). */
  readonly nxe?: boolean;
  /** CR4.PSE for 32-bit paging: when clear the PS bit of a PDE is ignored (default true). */
  readonly pse?: boolean;
  /**
   * PAE PDPTEs with bits set that the SDM reserves (Accessed, Dirty, R/W, U/S, PS, G): a CPU
   * refuses them, but QEMU's TCG walker sets Accessed there and guests run on with it, so by
   * default they are read as LibVMI and Volatility read them — the bits ignored, and counted
   * (AddressSpace.toleratedPdptes) so the caller can say so. `strictPdpte`: refuse, as a CPU does.
   */
  readonly strictPdpte?: boolean;
}

export function isPagingMode(name: string): name is PagingMode {
  return (PAGING_MODES as readonly string[]).includes(name);
}

const CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n;
const CR4_LA57 = 1n << 12n;

/**
 * The paging mode and page-directory base a vCPU's control registers select (Intel SDM vol. 3
 * §4.1.1): none without CR0.PG; IA-32e when the CPU is in long mode (EFER.LMA: a QEMU dump
 * says so by the size of the vCPU's NT_PRSTATUS note, dump-notes.ts), 5-level with CR4.LA57;
 * otherwise PAE with CR4.PAE, else 32-bit paging. CR3's low bits are flags or a PCID, not
 * address: the base is bits 51:12 (IA-32e), 31:5 (PAE) or 31:12 (32-bit).
 */
export function pagingFromRegisters(cr0: bigint, cr3: bigint, cr4: bigint, longMode: boolean): { readonly mode: PagingMode; readonly dtb: bigint } | { readonly problem: string } {
  if ((cr0 & CR0_PG) === 0n) return { problem: `paging is off (CR0 = 0x${cr0.toString(16)}): there is no page table to walk` };
  if (longMode) return { mode: (cr4 & CR4_LA57) !== 0n ? 'la57' : 'ia32e', dtb: cr3 & 0x000f_ffff_ffff_f000n };
  if ((cr4 & CR4_PAE) !== 0n) return { mode: 'pae', dtb: cr3 & 0xffff_ffe0n };
  return { mode: 'legacy', dtb: cr3 & 0xffff_f000n };
}
