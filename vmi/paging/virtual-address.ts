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
// halves with no bigint made on the way (wordsOf). `Number(va >> 32n)` and
// `Number(va & 0xffffffffn)` each allocate an intermediate bigint; on the public read path (a bigint address per page)
// those two allocations cost more than the page walk they lead to.
const SLOT64 = new BigUint64Array(1);
const SLOT32 = new Uint32Array(SLOT64.buffer);
export const LOW_WORD = HOST_LITTLE_ENDIAN ? 0 : 1;
export const HIGH_WORD = 1 - LOW_WORD;

/**
 * The two words of a bigint address, read at HIGH_WORD (bits 63:32) and LOW_WORD (bits 31:0),
 * or undefined when `va` is outside [0, 2^64): one store into the shared slot, nothing
 * allocated. The range is checked by comparing, not by reading the slot back to see whether it
 * kept va (it keeps va modulo 2^64): that read makes a bigint, a heap allocation per page that
 * measured slower than the two comparisons. The view is shared: read both words before the next call.
 */
export function wordsOf(va: bigint): Uint32Array | undefined {
  if (va < 0n || va >= TWO_64) return undefined;
  SLOT64[0] = va;
  return SLOT32;
}

/**
 * Refuses a number that cannot be an exact address. Above 2^53 a double is rounded to a
 * multiple of a power of two (0xffff888000000001 and 0xffff888000000000 are one double), so a
 * read there could be of an address the caller never wrote, and an answer about it (even
 * "non-canonical") would be about another address: a RangeError, as for a negative length,
 * with the way out. Every safe integer is exact, and is then the same address as its bigint.
 */
export function checkAddressNumber(va: number): void {
  if (Number.isSafeInteger(va)) return;
  const shown = Number.isInteger(va) && va > 0 ? `0x${va.toString(16)}` : String(va);
  throw new RangeError(`the virtual address ${shown} is a number that is not a safe integer, so it may not be the address meant: pass an address at or above 2^53 (a kernel address, for one) as a bigint`);
}

/** The halves of a virtual address given as a bigint or a safe non-negative integer; undefined if it is not a 64-bit address. */
export function splitVirtual(va: bigint | number): SplitAddress | undefined {
  if (typeof va === 'number') return Number.isSafeInteger(va) && va >= 0 ? { hi: Math.floor(va / TWO_32), lo: va % TWO_32 } : undefined;
  const words = wordsOf(va);
  return words === undefined ? undefined : { hi: words[HIGH_WORD] as number, lo: words[LOW_WORD] as number };
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
