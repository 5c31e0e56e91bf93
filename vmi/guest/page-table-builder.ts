// Writes real IA-32e page tables (4- or 5-level) into a MemoryImage: the synthetic guest's
// kernel and process address spaces. Intermediate entries are permissive (P, R/W, and U/S
// when the leaf is a user page), as Linux's _PAGE_TABLE / _KERNPG_TABLE are, so each leaf's
// own bits decide the effective permissions.

import { PAGE_SIZE } from '../memory/physical-memory.js';
import type { MemoryImage } from '../memory/memory-image.js';

type PageSize = 4096 | 2097152 | 1073741824;

interface Protection {
  readonly rw: boolean;
  readonly us: boolean;
  readonly nx: boolean;
}

const P = 1n;
const RW = 2n;
const US = 4n;
const PS = 0x80n;
const NX = 1n << 63n;
const ADDRESS = 0x000ffffffffff000n;

export class PageTableBuilder {
  readonly root: number;

  constructor(
    private readonly image: MemoryImage,
    private readonly levels: 4 | 5,
    private readonly allocate: () => number,
    root?: number,
  ) {
    this.root = root ?? this.freshTable();
  }

  private freshTable(): number {
    const at = this.allocate();
    this.image.write(at, new Uint8Array(PAGE_SIZE));
    return at;
  }

  private readEntry(address: number): bigint {
    const r = this.image.readInto(address, scratch, 0, 8);
    return r.ok ? new DataView(scratch.buffer).getBigUint64(0, true) : 0n;
  }

  /** Maps `size` bytes at `va` (aligned to size) to `physical`, creating tables as needed. */
  map(va: bigint, physical: number, size: PageSize, protection: Protection): void {
    const leafLevel = size === PAGE_SIZE ? 1 : size === 2097152 ? 2 : 3;
    let table = this.root;
    for (let level = this.levels; level > leafLevel; level--) {
      const entryAddress = table + tableIndex(va, level) * 8;
      let entry = this.readEntry(entryAddress);
      if ((entry & P) === 0n) {
        entry = BigInt(this.freshTable()) | P | RW;
      }
      if (protection.us) entry |= US;
      this.image.writeU64(entryAddress, entry);
      table = Number(entry & ADDRESS);
    }
    const leaf = BigInt(physical) | P | (protection.rw ? RW : 0n) | (protection.us ? US : 0n) | (protection.nx ? NX : 0n) | (leafLevel > 1 ? PS : 0n);
    this.image.writeU64(table + tableIndex(va, leafLevel) * 8, leaf);
  }

  /** Copies the root entries for the upper half (the kernel) from another root, as Linux's pgd_alloc does. */
  shareKernelHalf(from: number): void {
    const half = PAGE_SIZE / 2;
    const bytes = new Uint8Array(half);
    this.image.readInto(from + half, bytes, 0, half);
    this.image.write(this.root + half, bytes);
  }
}

const scratch = new Uint8Array(8);

function tableIndex(va: bigint, level: number): number {
  return Number((va >> BigInt(12 + 9 * (level - 1))) & 0x1ffn);
}
