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
}

export function isPagingMode(name: string): name is PagingMode {
  return (PAGING_MODES as readonly string[]).includes(name);
}
