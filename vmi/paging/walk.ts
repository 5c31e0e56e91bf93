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
export const WALK_RESERVED_BIT = 3;
export const WALK_OUT_OF_SOURCE = 4;
export type WalkCode = 0 | 1 | 2 | 3 | 4;

/** Flag bits of the combined result, at their positions in a page-table entry's low word. */
export const FLAG_PRESENT = 0x1;
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

/** What a walk found: on success the address and page; on failure the level and the entry (or table) address. */
export class WalkState {
  physical = 0;
  pageSize = 0;
  flags = 0;
  /** The level the walk ended at: 1 = page table … 5 = PML5. */
  level = 0;
  /** On failure: the physical address of the entry that stopped the walk (or could not be read). */
  address = 0;
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
  };
}

export type Walker = (memory: PhysicalMemory, dtb: number, hi: number, lo: number, masks: ReservedMasks, out: WalkState) => WalkCode;

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

/** IA-32e paging with 4 or 5 levels: PML5 (LA57 only), PML4, PDPT (1 GiB pages), PD (2 MiB pages), PT. */
function walkLongMode(levels: 4 | 5, memory: PhysicalMemory, dtb: number, hi: number, lo: number, masks: ReservedMasks, out: WalkState): WalkCode {
  // Canonical: bits 63:47 (or 63:56) all equal, i.e. the high word shifted arithmetically is 0 or -1.
  const top = levels === 5 ? hi >> 24 : hi >> 15;
  if (top !== 0 && top !== -1) return fail(out, WALK_NON_CANONICAL, levels, 0);
  const reservedHi = masks.addressHi | masks.nxHi;
  let table = dtb - (dtb % PAGE_SIZE);
  let allowed = RW_US;
  let nx = 0;
  for (let level: number = levels; level >= 1; level--) {
    const entryAddress = table + index64(level, hi, lo) * 8;
    const frame = memory.frame(table / PAGE_SIZE);
    if (frame === undefined) return fail(out, WALK_OUT_OF_SOURCE, level, entryAddress);
    const offset = entryAddress - table;
    const elo = u32At(frame, offset);
    const ehi = u32At(frame, offset + 4);
    if ((elo & P) === 0) return fail(out, WALK_NOT_PRESENT, level, entryAddress);
    if ((ehi & reservedHi) !== 0) return fail(out, WALK_RESERVED_BIT, level, entryAddress);
    const ps = elo & PS;
    // PS is reserved in PML4 and PML5 entries: there are no 512 GiB pages.
    if (ps !== 0 && level >= 4) return fail(out, WALK_RESERVED_BIT, level, entryAddress);
    allowed &= elo;
    nx |= ehi;
    const base = (ehi & 0xfffff) * TWO_32;
    if (level === 1) return leaf(out, base + ((elo & 0xfffff000) >>> 0) + (lo & 0xfff), PAGE_SIZE, 1, allowed, nx, 0, masks);
    if (ps !== 0) {
      // Bit 12 is PAT; bits between it and the page alignment must be zero.
      if (level === 3) {
        if ((elo & 0x3fffe000) !== 0) return fail(out, WALK_RESERVED_BIT, level, entryAddress);
        return leaf(out, base + ((elo & 0xc0000000) >>> 0) + (lo & 0x3fffffff), 1 << 30, 3, allowed, nx, PS, masks);
      }
      if ((elo & 0x1fe000) !== 0) return fail(out, WALK_RESERVED_BIT, level, entryAddress);
      return leaf(out, base + ((elo & 0xffe00000) >>> 0) + (lo & 0x1fffff), 1 << 21, 2, allowed, nx, PS, masks);
    }
    table = base + ((elo & 0xfffff000) >>> 0);
  }
  return fail(out, WALK_NOT_PRESENT, 0, 0); // unreachable: level 1 always returns
}

function leaf(out: WalkState, physical: number, pageSize: number, level: number, allowed: number, nxWord: number, ps: number, masks: ReservedMasks): WalkCode {
  out.physical = physical;
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
const PAE_PDPTE_RESERVED_LO = 0x1e6; // bits 8:5 (G, PS, D, A) and 2:1 (U/S, R/W)
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
  if ((plo & PAE_PDPTE_RESERVED_LO) !== 0 || (phi & (PAE_PDPTE_RESERVED_HI | masks.addressHi)) !== 0) return fail(out, WALK_RESERVED_BIT, 3, pdpteAddress);
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
    const base = (ehi & 0xfffff) * TWO_32;
    if (level === 1) return leaf(out, base + ((elo & 0xfffff000) >>> 0) + (lo & 0xfff), PAGE_SIZE, 1, allowed, nx, 0, masks);
    if ((elo & PS) !== 0) {
      if ((elo & 0x1fe000) !== 0) return fail(out, WALK_RESERVED_BIT, level, entryAddress);
      return leaf(out, base + ((elo & 0xffe00000) >>> 0) + (lo & 0x1fffff), 1 << 21, 2, allowed, nx, PS, masks);
    }
    table = base + ((elo & 0xfffff000) >>> 0);
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
    const physical = ((pde >>> 13) & 0xff) * TWO_32 + ((pde & 0xffc00000) >>> 0) + (lo & 0x3fffff);
    return leaf(out, physical, 1 << 22, 2, pde, 0, PS, masks);
  }
  const pt = (pde & 0xfffff000) >>> 0;
  const pteAddress = pt + ((lo >>> 12) & 0x3ff) * 4;
  const ptFrame = memory.frame(pt / PAGE_SIZE);
  if (ptFrame === undefined) return fail(out, WALK_OUT_OF_SOURCE, 1, pteAddress);
  const pte = u32At(ptFrame, pteAddress - pt);
  if ((pte & P) === 0) return fail(out, WALK_NOT_PRESENT, 1, pteAddress);
  return leaf(out, ((pte & 0xfffff000) >>> 0) + (lo & 0xfff), PAGE_SIZE, 1, pde & pte, 0, 0, masks);
}

export const WALKERS: Readonly<Record<PagingMode, Walker>> = {
  ia32e: (m, dtb, hi, lo, masks, out) => walkLongMode(4, m, dtb, hi, lo, masks, out),
  la57: (m, dtb, hi, lo, masks, out) => walkLongMode(5, m, dtb, hi, lo, masks, out),
  pae: walkPae,
  legacy: walkLegacy,
};
