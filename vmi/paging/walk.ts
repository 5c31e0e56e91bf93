// The page walk as the processor does it (Intel SDM vol. 3 §4; cross-checked against Xen's
// guest_walk_tables): one function per paging mode, reading entries straight out of frame
// views, with no BigInt and no allocation. Results go into a caller-owned WalkState so the
// hot path returns a small integer; translation.ts turns that into typed result objects.
//
// Effective permissions combine the levels as hardware does: R/W and U/S are ANDed over
// every level that has them, XD is ORed. The walk checks present first, then reserved
// bits, at every level, so a not-present entry never reports reserved bits.

import { PAGE_SIZE, u32At, type PhysicalMemory } from '../memory/physical-memory.js';
import type { PagingMode, PagingOptions } from './modes.js';

export const WALK_OK = 0;
export const WALK_NON_CANONICAL = 1;
export const WALK_NOT_PRESENT = 2;
const WALK_RESERVED_BIT = 3;
export const WALK_OUT_OF_SOURCE = 4;
export type WalkCode = 0 | 1 | 2 | 3 | 4;

/** Flag bits of the combined result, at their positions in a page-table entry's low word. */
export const FLAG_RW = 0x2;
export const FLAG_US = 0x4;
export const FLAG_PS = 0x80;
/** XD lives in bit 63 of an entry; in the combined flags it takes an otherwise unused bit. */
export const FLAG_NX = 0x100;

const P = 0x1;
const RW_US = 0x6;
const PS = 0x80;
const NX_HI = 0x80000000;
const TWO_32 = 2 ** 32;
/** PAE PDPTE bits the SDM reserves in the low word: 8:5 (G, PS, D, A) and 2:1 (U/S, R/W). */
const PAE_PDPTE_RESERVED_LO = 0x1e6;

/** What a walk found: on success the address and page; on failure the level and the entry (or table) address. */
export class WalkState {
  physical = 0;
  /**
   * On success: the frame number of the 4 KiB page holding the address (physical / 4096).
   * Why kept beside `physical`: the read path looks frames up by number, and computing it
   * here from entry bits is a shift, where dividing a 52-bit double is not.
   */
  pfn = 0;
  pageSize = 0;
  flags = 0;
  /** The level the walk ended at: 1 = page table … 5 = PML5. */
  level = 0;
  /** On failure: the physical address of the entry that stopped the walk (or could not be read). */
  address = 0;
  /** Walks that went through a PAE PDPTE whose reserved low bits were set, ignored (PagingOptions.strictPdpte). */
  toleratedPdptes = 0;
}

/** A memory source that offers word views of its frames (see PhysicalMemory.frameWords). */
export interface WordFrames {
  frameWords(pfn: number): Uint32Array | undefined;
}

/** Reserved-bit masks derived once from the options, split by entry word. */
export interface ReservedMasks {
  /** Address bits at and above MAXPHYADDR (bits 51:M), in the high word. */
  readonly addressHi: number;
  /** XD when EFER.NXE is clear, in the high word. */
  readonly nxHi: number;
  /** 32-bit paging: PDE bits of a 4 MiB page that are reserved (bit 21, PSE-36 bits past MAXPHYADDR). */
  readonly pse4mLo: number;
  readonly pse: boolean;
  readonly nxe: boolean;
  /** PAE PDPTE low bits that refuse the walk: all the reserved ones when strict, else none. */
  readonly pdpteLo: number;
}

export function reservedMasks(options: PagingOptions = {}): ReservedMasks {
  const m = Math.min(52, Math.max(32, options.maxPhysAddr ?? 52));
  const nxe = options.nxe ?? true;
  const m36 = Math.min(m, 40);
  return {
    addressHi: 0xfffff & ~((1 << (m - 32)) - 1),
    nxHi: nxe ? 0 : NX_HI,
    pse4mLo: (1 << 21) | ((0xff & ~((1 << (m36 - 32)) - 1)) << 13),
    pse: options.pse ?? true,
    nxe,
    pdpteLo: options.strictPdpte ? PAE_PDPTE_RESERVED_LO : 0,
  };
}

type Walker = (memory: PhysicalMemory, dtb: number, hi: number, lo: number, masks: ReservedMasks, out: WalkState) => WalkCode;
/** A walker that reads entries as 32-bit words; valid only on a little-endian host (HOST_LITTLE_ENDIAN). */
type WordWalker = (memory: WordFrames, dtb: number, hi: number, lo: number, masks: ReservedMasks, out: WalkState) => WalkCode;

function fail(out: WalkState, code: WalkCode, level: number, address: number): WalkCode {
  out.level = level;
  out.address = address;
  return code;
}

/** The 9-bit table index of a 64-bit-mode virtual address at `level`. */
function index64(level: number, hi: number, lo: number): number {
  switch (level) {
    case 5: return (hi >>> 16) & 0x1ff;
    case 4: return (hi >>> 7) & 0x1ff;
    case 3: return ((hi & 0x7f) << 2) | (lo >>> 30);
    case 2: return (lo >>> 21) & 0x1ff;
    default: return (lo >>> 12) & 0x1ff;
  }
}

/**
 * A long-mode step's result when the walk does not go on: -1 - code, so that any value ≥ 0
 * can be the next table's pfn. A number either way, so the walk allocates nothing.
 */
const STOP_OK = -1;

/** Records a failure at the entry `index` of the table at pfn `table`, and returns it as a stop. */
function stopAt(out: WalkState, code: WalkCode, level: number, table: number, index: number): number {
  fail(out, code, level, table * PAGE_SIZE + index * 8);
  return -1 - code;
}

/** The walk's code from the last step's stop. */
function stopCode(stopped: number): WalkCode {
  return (-1 - stopped) as WalkCode;
}

/** Canonical for IA-32e: bits 63:47 (or 63:56) all equal, i.e. the high word shifted arithmetically is 0 or -1. */
function canonicalLongMode(levels: 4 | 5, hi: number): boolean {
  const top = levels === 5 ? hi >> 24 : hi >> 15;
  return top === 0 || top === -1;
}

/** Checks a long-mode entry, present first, then reserved bits: the first failure's code, or WALK_OK. */
function checkLongMode(level: number, elo: number, ehi: number, reservedHi: number): WalkCode {
  if ((elo & P) === 0) return WALK_NOT_PRESENT;
  if ((ehi & reservedHi) !== 0) return WALK_RESERVED_BIT;
  // PS is reserved in PML4 and PML5 entries: there are no 512 GiB pages.
  if ((elo & PS) !== 0 && level >= 4) return WALK_RESERVED_BIT;
  return WALK_OK;
}

/**
 * One IA-32e entry (entry `index` of the table at pfn `table`, as its low and high words),
 * with the permissions already folded over the levels so far, this one included: returns the
 * next table's pfn, or at a leaf records the translation and returns STOP_OK, or records the
 * failure and returns its stop. Shared by both entry readers below, so they differ only in
 * how words are fetched; large pages are in largeLeaf to keep this small enough to inline.
 */
function stepLongMode(level: number, table: number, index: number, elo: number, ehi: number, lo: number, reservedHi: number, allowed: number, nx: number, masks: ReservedMasks, out: WalkState): number {
  const code = checkLongMode(level, elo, ehi, reservedHi);
  if (code !== WALK_OK) return stopAt(out, code, level, table, index);
  // Frame numbers, not addresses: entry bits 51:32 are pfn bits 39:20, and shifting the low
  // word right by 12 keeps every value exact without dividing a double.
  const pfn = (ehi & 0xfffff) * 2 ** 20 + (elo >>> 12);
  if (level === 1) {
    leaf(out, pfn, lo, PAGE_SIZE, 1, allowed, nx, 0, masks);
    return STOP_OK;
  }
  return (elo & PS) === 0 ? pfn : largeLeaf(level, table, index, elo, ehi, lo, allowed, nx, masks, out);
}

/** A PDPTE or PDE with PS: a 1 GiB or 2 MiB page, whose bits between PAT (bit 12) and the page alignment must be zero. */
function largeLeaf(level: number, table: number, index: number, elo: number, ehi: number, lo: number, allowed: number, nx: number, masks: ReservedMasks, out: WalkState): number {
  const hiPfn = (ehi & 0xfffff) * 2 ** 20;
  if (level === 3) {
    if ((elo & 0x3fffe000) !== 0) return stopAt(out, WALK_RESERVED_BIT, level, table, index);
    leaf(out, hiPfn + ((elo & 0xc0000000) >>> 12) + ((lo >>> 12) & 0x3ffff), lo, 1 << 30, 3, allowed, nx, PS, masks);
    return STOP_OK;
  }
  if ((elo & 0x1fe000) !== 0) return stopAt(out, WALK_RESERVED_BIT, level, table, index);
  leaf(out, hiPfn + ((elo & 0xffe00000) >>> 12) + ((lo >>> 12) & 0x1ff), lo, 1 << 21, 2, allowed, nx, PS, masks);
  return STOP_OK;
}

/**
 * IA-32e paging with 4 or 5 levels (PML5 on LA57, PML4, PDPT with 1 GiB pages, PD with 2 MiB
 * pages, PT), entries read as two aligned u32 from the frame's word view. Why a second walker:
 * this is the benchmark's hot path, and a word load is one instruction where u32At is four
 * loads and three shifts, twice per level. (A loop, not four unrolled steps: unrolled, the
 * steps exceed V8's inlining budget and become calls, which measured slower.)
 */
function walkLongModeWords(levels: 4 | 5, memory: WordFrames, dtb: number, hi: number, lo: number, masks: ReservedMasks, out: WalkState): WalkCode {
  if (!canonicalLongMode(levels, hi)) return fail(out, WALK_NON_CANONICAL, levels, 0);
  const reservedHi = masks.addressHi | masks.nxHi;
  let table = Math.floor(dtb / PAGE_SIZE);
  let allowed = RW_US;
  let nx = 0;
  for (let level: number = levels; level >= 1; level--) {
    const index = index64(level, hi, lo);
    const words = memory.frameWords(table);
    if (words === undefined) return stopCode(stopAt(out, WALK_OUT_OF_SOURCE, level, table, index));
    const elo = words[index * 2] as number;
    const ehi = words[index * 2 + 1] as number;
    allowed &= elo;
    nx |= ehi;
    table = stepLongMode(level, table, index, elo, ehi, lo, reservedHi, allowed, nx, masks, out);
    if (table < 0) return stopCode(table);
  }
  return fail(out, WALK_NOT_PRESENT, 0, 0); // unreachable: level 1 always stops
}

/** The same walk reading entries byte by byte: for sources without word views, and for big-endian hosts. */
function walkLongModeBytes(levels: 4 | 5, memory: PhysicalMemory, dtb: number, hi: number, lo: number, masks: ReservedMasks, out: WalkState): WalkCode {
  if (!canonicalLongMode(levels, hi)) return fail(out, WALK_NON_CANONICAL, levels, 0);
  const reservedHi = masks.addressHi | masks.nxHi;
  let table = Math.floor(dtb / PAGE_SIZE);
  let allowed = RW_US;
  let nx = 0;
  for (let level: number = levels; level >= 1; level--) {
    const index = index64(level, hi, lo);
    const frame = memory.frame(table);
    if (frame === undefined) return stopCode(stopAt(out, WALK_OUT_OF_SOURCE, level, table, index));
    const elo = u32At(frame, index * 8);
    const ehi = u32At(frame, index * 8 + 4);
    allowed &= elo;
    nx |= ehi;
    table = stepLongMode(level, table, index, elo, ehi, lo, reservedHi, allowed, nx, masks, out);
    if (table < 0) return stopCode(table);
  }
  return fail(out, WALK_NOT_PRESENT, 0, 0); // unreachable: level 1 always stops
}

/** Records a successful translation: `pfn` is the 4 KiB frame holding the address, `lo` the address's low word. */
function leaf(out: WalkState, pfn: number, lo: number, pageSize: number, level: number, allowed: number, nxWord: number, ps: number, masks: ReservedMasks): typeof WALK_OK {
  out.pfn = pfn;
  out.physical = pfn * PAGE_SIZE + (lo & 0xfff);
  out.pageSize = pageSize;
  out.level = level;
  out.flags = P | (allowed & RW_US) | ps | (masks.nxe && (nxWord & NX_HI) !== 0 ? FLAG_NX : 0);
  return WALK_OK;
}

/**
 * PAE: CR3 bits 31:5 locate four PDPTEs (the PDPT is 32-byte aligned, not page aligned).
 * PDPTEs carry no R/W, U/S or XD (those bits are reserved), so permissions come from the PD
 * and PT levels only; PAE also reserves entry bits 62:52, which IA-32e leaves to software.
 */
const PAE_PDPTE_RESERVED_HI = 0xfff00000; // bits 63:52
const PAE_RESERVED_HI = 0x7ff00000; // bits 62:52

function walkPae(memory: PhysicalMemory, dtb: number, hi: number, lo: number, masks: ReservedMasks, out: WalkState): WalkCode {
  if (hi !== 0) return fail(out, WALK_NON_CANONICAL, 3, 0);
  const pdpt = (dtb % TWO_32) - ((dtb % TWO_32) % 32);
  const pdpteAddress = pdpt + (lo >>> 30) * 8;
  const pdptFrame = memory.frame(Math.floor(pdpteAddress / PAGE_SIZE));
  if (pdptFrame === undefined) return fail(out, WALK_OUT_OF_SOURCE, 3, pdpteAddress);
  const plo = u32At(pdptFrame, pdpteAddress % PAGE_SIZE);
  const phi = u32At(pdptFrame, (pdpteAddress % PAGE_SIZE) + 4);
  if ((plo & P) === 0) return fail(out, WALK_NOT_PRESENT, 3, pdpteAddress);
  if ((plo & masks.pdpteLo) !== 0 || (phi & (PAE_PDPTE_RESERVED_HI | masks.addressHi)) !== 0) return fail(out, WALK_RESERVED_BIT, 3, pdpteAddress);
  if ((plo & PAE_PDPTE_RESERVED_LO) !== 0) out.toleratedPdptes++;
  const reservedHi = PAE_RESERVED_HI | masks.addressHi | masks.nxHi;
  let table = (phi & 0xfffff) * TWO_32 + ((plo & 0xfffff000) >>> 0);
  let allowed = RW_US;
  let nx = 0;
  for (let level = 2; level >= 1; level--) {
    const entryAddress = table + (level === 2 ? (lo >>> 21) & 0x1ff : (lo >>> 12) & 0x1ff) * 8;
    const frame = memory.frame(table / PAGE_SIZE);
    if (frame === undefined) return fail(out, WALK_OUT_OF_SOURCE, level, entryAddress);
    const elo = u32At(frame, entryAddress - table);
    const ehi = u32At(frame, entryAddress - table + 4);
    if ((elo & P) === 0) return fail(out, WALK_NOT_PRESENT, level, entryAddress);
    if ((ehi & reservedHi) !== 0) return fail(out, WALK_RESERVED_BIT, level, entryAddress);
    allowed &= elo;
    nx |= ehi;
    const hiPfn = (ehi & 0xfffff) * 2 ** 20;
    if (level === 1) return leaf(out, hiPfn + (elo >>> 12), lo, PAGE_SIZE, 1, allowed, nx, 0, masks);
    if ((elo & PS) !== 0) {
      if ((elo & 0x1fe000) !== 0) return fail(out, WALK_RESERVED_BIT, level, entryAddress);
      return leaf(out, hiPfn + ((elo & 0xffe00000) >>> 12) + ((lo >>> 12) & 0x1ff), lo, 1 << 21, 2, allowed, nx, PS, masks);
    }
    table = hiPfn * PAGE_SIZE + ((elo & 0xfffff000) >>> 0);
  }
  return fail(out, WALK_NOT_PRESENT, 0, 0); // unreachable
}

/**
 * 32-bit paging: 4-byte entries, no XD. With CR4.PSE a PDE with PS maps 4 MiB, and PSE-36
 * puts physical address bits 39:32 in PDE bits 20:13 (bit 21 is reserved). Without PSE the
 * PS bit is ignored and there are no reserved bits at all.
 */
function walkLegacy(memory: PhysicalMemory, dtb: number, hi: number, lo: number, masks: ReservedMasks, out: WalkState): WalkCode {
  if (hi !== 0) return fail(out, WALK_NON_CANONICAL, 2, 0);
  const pd = (dtb % TWO_32) - (dtb % PAGE_SIZE);
  const pdeAddress = pd + (lo >>> 22) * 4;
  const pdFrame = memory.frame(pd / PAGE_SIZE);
  if (pdFrame === undefined) return fail(out, WALK_OUT_OF_SOURCE, 2, pdeAddress);
  const pde = u32At(pdFrame, pdeAddress - pd);
  if ((pde & P) === 0) return fail(out, WALK_NOT_PRESENT, 2, pdeAddress);
  if (masks.pse && (pde & PS) !== 0) {
    if ((pde & masks.pse4mLo) !== 0) return fail(out, WALK_RESERVED_BIT, 2, pdeAddress);
    // PSE-36: PDE bits 20:13 are physical bits 39:32, i.e. pfn bits 27:20.
    const pfn = ((pde >>> 13) & 0xff) * 2 ** 20 + ((pde & 0xffc00000) >>> 12) + ((lo >>> 12) & 0x3ff);
    return leaf(out, pfn, lo, 1 << 22, 2, pde, 0, PS, masks);
  }
  const pt = (pde & 0xfffff000) >>> 0;
  const pteAddress = pt + ((lo >>> 12) & 0x3ff) * 4;
  const ptFrame = memory.frame(pt / PAGE_SIZE);
  if (ptFrame === undefined) return fail(out, WALK_OUT_OF_SOURCE, 1, pteAddress);
  const pte = u32At(ptFrame, pteAddress - pt);
  if ((pte & P) === 0) return fail(out, WALK_NOT_PRESENT, 1, pteAddress);
  return leaf(out, pte >>> 12, lo, PAGE_SIZE, 1, pde & pte, 0, 0, masks);
}

export const WALKERS: Readonly<Record<PagingMode, Walker>> = {
  ia32e: (m, dtb, hi, lo, masks, out) => walkLongModeBytes(4, m, dtb, hi, lo, masks, out),
  la57: (m, dtb, hi, lo, masks, out) => walkLongModeBytes(5, m, dtb, hi, lo, masks, out),
  pae: walkPae,
  legacy: walkLegacy,
};

/**
 * Word-reading walkers, for the 64-bit modes only: those are what x86-64 guests (and the
 * benchmark) use; PAE and 32-bit guests keep the byte walkers, whose cost is not measured.
 */
export const WORD_WALKERS: Readonly<Partial<Record<PagingMode, WordWalker>>> = {
  ia32e: (m, dtb, hi, lo, masks, out) => walkLongModeWords(4, m, dtb, hi, lo, masks, out),
  la57: (m, dtb, hi, lo, masks, out) => walkLongModeWords(5, m, dtb, hi, lo, masks, out),
};
