// Typed results of translating and of reading by virtual address. Every failure is a value
// with a reason, the level it happened at and the physical address involved; nothing here
// throws.

interface PageFlags {
  readonly present: true;
  /** Writable at every level (R/W ANDed). */
  readonly rw: boolean;
  /** User-accessible at every level (U/S ANDed). */
  readonly us: boolean;
  /** Execute-disable at some level (XD ORed; always false without EFER.NXE or in 32-bit paging). */
  readonly nx: boolean;
  /** The walk ended at a large page (2 MiB, 4 MiB or 1 GiB). */
  readonly ps: boolean;
}

interface TranslationOk {
  readonly ok: true;
  readonly virtual: bigint;
  readonly physical: number;
  /** 4096, 2 MiB, 4 MiB or 1 GiB. */
  readonly pageSize: number;
  /** The level of the leaf entry: 1 = PTE, 2 = PDE, 3 = PDPTE. */
  readonly level: number;
  readonly flags: PageFlags;
}

export type TranslationFailure =
  | { readonly ok: false; readonly reason: 'non-canonical'; readonly virtual: bigint }
  | {
      readonly ok: false;
      readonly reason: 'not-present' | 'reserved-bit' | 'out-of-memory-source';
      readonly virtual: bigint;
      /**
       * 5 = PML5 … 1 = page table: the entry that stopped the walk. 0 = the walk succeeded
       * but the data page itself is outside the memory source (reads only).
       */
      readonly level: number;
      /** The physical address of that entry (or, at level 0, of the data). */
      readonly address: number;
    };

export type Translation = TranslationOk | TranslationFailure;

/** A failed read by virtual address: which address failed, why, and how much was copied before it. */
export type VirtualReadFailure = TranslationFailure & { readonly bytesRead: number };

export type VirtualReadStatus = { readonly ok: true } | VirtualReadFailure;

export type VirtualRead = { readonly ok: true; readonly bytes: Uint8Array } | VirtualReadFailure;

export function describeFailure(f: TranslationFailure): string {
  const va = '0x' + f.virtual.toString(16);
  if (f.reason === 'non-canonical') return `${va} is not a canonical address in this paging mode`;
  const at = `0x${f.address.toString(16)}`;
  switch (f.reason) {
    case 'not-present': return `${va}: the level-${f.level} entry at physical ${at} is not present`;
    case 'reserved-bit': return `${va}: the level-${f.level} entry at physical ${at} has reserved bits set`;
    case 'out-of-memory-source':
      return f.level === 0
        ? `${va} translates to physical ${at}, which is outside the memory snapshot`
        : `${va}: the level-${f.level} entry at physical ${at} is outside the memory snapshot`;
  }
}
