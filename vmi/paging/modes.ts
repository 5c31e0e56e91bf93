// The four x86 paging modes, what selects them (CR0.PG, CR4.PAE, EFER.LMA, CR4.LA57), and the
// options that change which entry bits are reserved (MAXPHYADDR, EFER.NXE, CR4.PSE).

export type PagingMode = 'ia32e' | 'la57' | 'pae' | 'legacy';

export const PAGING_MODES: readonly PagingMode[] = ['ia32e', 'la57', 'pae', 'legacy'];

export const MODE_DESCRIPTIONS: Readonly<Record<PagingMode, string>> = {
  ia32e: 'IA-32e 4-level paging (x86-64, 48-bit virtual addresses)',
  la57: 'IA-32e 5-level paging (CR4.LA57, 57-bit virtual addresses)',
  pae: 'PAE paging (32-bit virtual addresses, 64-bit entries)',
  legacy: '32-bit paging (4-byte entries, 4 MiB pages with CR4.PSE)',
};

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

/** The bits of a virtual address the mode translates: 48, 57 or 32. */
export function virtualAddressBits(mode: PagingMode): number {
  return mode === 'la57' ? 57 : mode === 'ia32e' ? 48 : 32;
}
