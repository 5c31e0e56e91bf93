// Virtual addresses are 64 bits wide and do not fit a double (0xffff888000000000 loses its low
// bits), so inside the VMI core a virtual address travels as two unsigned 32-bit halves.
// BigInt appears only at the API edge, where addresses come from users and JSON.

import { HOST_LITTLE_ENDIAN } from '../memory/physical-memory.js';

interface SplitAddress {
  /** Bits 63:32, as an unsigned 32-bit number. */
  readonly hi: number;
  /** Bits 31:0, as an unsigned 32-bit number. */
  readonly lo: number;
}

const TWO_32 = 2 ** 32;
const TWO_64 = 1n << 64n;

// One 64-bit slot seen as two 32-bit words: a bigint stored into it reads back as its two
// halves with no bigint made on the way. `Number(va >> 32n)` and `Number(va & 0xffffffffn)`
// each allocate an intermediate bigint; on the public read path (a bigint address per page)
// those two allocations cost more than the page walk they lead to.
const SLOT64 = new BigUint64Array(1);
const SLOT32 = new Uint32Array(SLOT64.buffer);
const LOW_WORD = HOST_LITTLE_ENDIAN ? 0 : 1;
const HIGH_WORD = 1 - LOW_WORD;

/** Whether `va` is a 64-bit virtual address: a bigint in [0, 2^64), or a safe non-negative integer. */
export function isVirtualAddress(va: bigint | number): boolean {
  return typeof va === 'number' ? Number.isSafeInteger(va) && va >= 0 : va >= 0n && va < TWO_64;
}

/** Bits 63:32 of a 64-bit address (isVirtualAddress), as an unsigned 32-bit number. */
export function highHalf(va: bigint | number): number {
  if (typeof va === 'number') return Math.floor(va / TWO_32);
  SLOT64[0] = va;
  return SLOT32[HIGH_WORD] as number;
}

/** Bits 31:0 of a 64-bit address (isVirtualAddress), as an unsigned 32-bit number. */
export function lowHalf(va: bigint | number): number {
  if (typeof va === 'number') return va % TWO_32;
  SLOT64[0] = va;
  return SLOT32[LOW_WORD] as number;
}

/** The halves of a virtual address given as a bigint or a safe non-negative integer; undefined if it is not a 64-bit address. */
export function splitVirtual(va: bigint | number): SplitAddress | undefined {
  return isVirtualAddress(va) ? { hi: highHalf(va), lo: lowHalf(va) } : undefined;
}

export function joinVirtual(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function hex(value: bigint | number): string {
  return '0x' + value.toString(16);
}

/**
 * A hex (0x…) or decimal address typed by a user, as a bigint; undefined when it is not one.
 * Underscores are allowed as digit separators, as in `0xffff_8880_0000_0000`.
 */
export function parseAddress(text: string): bigint | undefined {
  const t = text.trim().replace(/_/g, '');
  if (/^0x[0-9a-f]+$/i.test(t) || /^[0-9]+$/.test(t)) {
    const v = BigInt(t);
    return v < 1n << 64n ? v : undefined;
  }
  return undefined;
}
