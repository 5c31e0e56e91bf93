// Virtual addresses are 64 bits wide and do not fit a double (0xffff888000000000 loses its low
// bits), so inside the VMI core a virtual address travels as two unsigned 32-bit halves.
// BigInt appears only at the API edge, where addresses come from users and JSON.

interface SplitAddress {
  /** Bits 63:32, as an unsigned 32-bit number. */
  readonly hi: number;
  /** Bits 31:0, as an unsigned 32-bit number. */
  readonly lo: number;
}

const TWO_32 = 2 ** 32;

/** The halves of a virtual address given as a bigint or a safe non-negative integer; undefined if it is not a 64-bit address. */
export function splitVirtual(va: bigint | number): SplitAddress | undefined {
  if (typeof va === 'number') {
    if (!Number.isSafeInteger(va) || va < 0) return undefined;
    return { hi: Math.floor(va / TWO_32), lo: va % TWO_32 };
  }
  if (va < 0n || va >= 1n << 64n) return undefined;
  return { hi: Number(va >> 32n), lo: Number(va & 0xffffffffn) };
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
