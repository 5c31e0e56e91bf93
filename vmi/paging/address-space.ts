// One guest address space: a memory source, a paging mode and a page-directory base (CR3),
// with a translation cache. Reads by virtual address cross page boundaries, translating
// each page; the *Into forms copy into the caller's buffer and allocate nothing on success,
// which is what makes reading hundreds of pages per millisecond possible.

import { HOST_LITTLE_ENDIAN, PAGE_SIZE, READ_OK, toPhysicalAddress, type PhysicalMemory } from '../memory/physical-memory.js';
import type { PagingMode, PagingOptions } from './modes.js';
import { TranslationCache } from './translation-cache.js';
import type { Translation, TranslationFailure, VirtualRead, VirtualReadFailure, VirtualReadStatus } from './translation.js';
import { checkAddressNumber, HIGH_WORD, joinVirtual, LOW_WORD, splitVirtual, wordsOf } from './virtual-address.js';
import {
  FLAG_NX, FLAG_PS, FLAG_RW, FLAG_US, reservedMasks, WALK_NON_CANONICAL, WALK_NOT_PRESENT, WALK_OK, WALK_OUT_OF_SOURCE,
  WALKERS, WalkState, WORD_WALKERS, type ReservedMasks, type WalkCode, type WordFrames,
} from './walk.js';

const TWO_32 = 2 ** 32;

interface AddressSpaceOptions extends PagingOptions {
  /** Entries in the translation cache (default 1024). */
  readonly cacheEntries?: number;
  /**
   * How the walker reads page-table entries: 'words' (the default where it is correct: the
   * memory offers frameWords, the host is little-endian and the mode has a word walker) or
   * 'bytes' (portable; what big-endian hosts get, and what tests force to check both agree).
   */
  readonly entryAccess?: 'words' | 'bytes';
}

/** A walk of this space's tables for one address, result in the given state. */
type BoundWalk = (hi: number, lo: number) => WalkCode;

function hasFrameWords(memory: PhysicalMemory): memory is PhysicalMemory & WordFrames {
  return typeof memory.frameWords === 'function';
}

/**
 * The walk for this memory, mode and options, bound once: the hot path then makes one call
 * with no per-walk choice of reader. Word views hold entry halves only on little-endian
 * hosts, so anywhere else (or when asked) the byte walker is used.
 */
function bindWalk(memory: PhysicalMemory, mode: PagingMode, dtb: number, masks: ReservedMasks, state: WalkState, access: 'words' | 'bytes'): BoundWalk {
  const words = WORD_WALKERS[mode];
  if (access === 'words' && HOST_LITTLE_ENDIAN && words !== undefined && hasFrameWords(memory)) {
    return (hi, lo) => words(memory, dtb, hi, lo, masks, state);
  }
  const bytes = WALKERS[mode];
  return (hi, lo) => bytes(memory, dtb, hi, lo, masks, state);
}

type AddressSpaceResult = { readonly ok: true; readonly space: AddressSpace } | { readonly ok: false; readonly problem: string };

/** An address space, or why the page-directory base cannot be one (negative, beyond 2^52). */
export function addressSpace(memory: PhysicalMemory, mode: PagingMode, dtb: number | bigint, options: AddressSpaceOptions = {}): AddressSpaceResult {
  const base = toPhysicalAddress(dtb);
  if (base === undefined) return { ok: false, problem: `the page-directory base ${dtb.toString()} is not a physical address below 2^52` };
  if ((mode === 'pae' || mode === 'legacy') && base >= TWO_32) return { ok: false, problem: `in ${mode} paging CR3 is 32 bits wide; ${'0x' + base.toString(16)} is not` };
  return { ok: true, space: new AddressSpace(memory, mode, base, options) };
}

export class AddressSpace {
  private readonly walk: BoundWalk;
  private readonly masks: ReservedMasks;
  private readonly cache: TranslationCache;
  private readonly state = new WalkState();
  /** Bits of the high word that form the virtual page number (the rest are sign copies). */
  private readonly pageHiMask: number;
  /** The high word shifted right by this must be 0 or -1 for a canonical address (32 for 32-bit modes: must be 0). */
  private readonly canonicalShift: number;

  constructor(readonly memory: PhysicalMemory, readonly mode: PagingMode, readonly dtb: number, options: AddressSpaceOptions = {}) {
    this.masks = reservedMasks(options);
    this.walk = bindWalk(memory, mode, dtb, this.masks, this.state, options.entryAccess ?? 'words');
    this.cache = new TranslationCache(options.cacheEntries);
    this.pageHiMask = mode === 'la57' ? 0x1ffffff : mode === 'ia32e' ? 0xffff : 0;
    this.canonicalShift = mode === 'la57' ? 24 : mode === 'ia32e' ? 15 : 32;
  }

  /** Walks so far that read through a PAE PDPTE with reserved bits set (PagingOptions.strictPdpte). */
  get toleratedPdptes(): number {
    return this.state.toleratedPdptes;
  }

  /** Forget every cached translation: after page tables change, and before a cold measurement. */
  flush(): void {
    this.cache.flush();
  }

  translate(va: bigint | number): Translation {
    if (typeof va === 'number') checkAddressNumber(va);
    const split = splitVirtual(va);
    const virtual = typeof va === 'bigint' ? va : BigInt(va);
    if (split === undefined) return { ok: false, reason: 'non-canonical', virtual };
    const code = this.walk(split.hi, split.lo);
    if (code !== WALK_OK) return this.failure(code, virtual);
    const s = this.state;
    return {
      ok: true, virtual, physical: s.physical, pageSize: s.pageSize, level: s.level,
      flags: { present: true, rw: (s.flags & FLAG_RW) !== 0, us: (s.flags & FLAG_US) !== 0, nx: (s.flags & FLAG_NX) !== 0, ps: (s.flags & FLAG_PS) !== 0 },
    };
  }

  private failure(code: WalkCode, virtual: bigint): TranslationFailure {
    if (code === WALK_NON_CANONICAL) return { ok: false, reason: 'non-canonical', virtual };
    const reason = code === WALK_NOT_PRESENT ? 'not-present' : code === WALK_OUT_OF_SOURCE ? 'out-of-memory-source' : 'reserved-bit';
    return { ok: false, reason, virtual, level: this.state.level, address: this.state.address };
  }

  /** Reads `length` bytes at `va` into a new buffer. */
  readVirtual(va: bigint | number, length: number): VirtualRead {
    const bytes = new Uint8Array(length);
    const status = this.readVirtualInto(va, bytes, 0, length);
    return status.ok ? { ok: true, bytes } : status;
  }

  /**
   * The public read, as fast as readSplitInto: a bigint's halves come out of one store into a
   * 64-bit slot, a number's out of one division, and nothing is allocated on success. A bigint
   * outside [0, 2^64) or a negative integer has no canonical form ('non-canonical'); a number
   * that is not a safe integer is a RangeError (checkAddressNumber: it may not be the address
   * meant). For every safe integer the number and its bigint read the same bytes.
   */
  readVirtualInto(va: bigint | number, target: Uint8Array, targetOffset: number, length: number): VirtualReadStatus {
    if (typeof va === 'bigint') {
      const words = wordsOf(va);
      if (words !== undefined) return this.readSplitInto(words[HIGH_WORD] as number, words[LOW_WORD] as number, target, targetOffset, length);
    } else {
      checkAddressNumber(va);
      if (va >= 0) return this.readSplitInto(Math.floor(va / TWO_32), va >>> 0, target, targetOffset, length);
    }
    return { ok: false, reason: 'non-canonical', virtual: BigInt(va), bytesRead: 0 };
  }

  /**
   * The hot path: the virtual address as two unsigned 32-bit halves (see virtual-address.ts),
   * bytes copied into `target`. Success returns a shared object; nothing is allocated unless
   * a read must be split at an unaligned page edge or fails.
   */
  readSplitInto(hi: number, lo: number, target: Uint8Array, targetOffset: number, length: number): VirtualReadStatus {
    let done = 0;
    while (done < length) {
      const sum = lo + done;
      const curLo = sum >>> 0;
      const curHi = (hi + Math.floor(sum / TWO_32)) >>> 0;
      const pfn = this.pagePfn(curHi, curLo);
      if (pfn < 0) return this.readFailure(curHi, curLo, done);
      const inPage = curLo & (PAGE_SIZE - 1);
      const chunk = Math.min(PAGE_SIZE - inPage, length - done);
      const frame = this.memory.frame(pfn);
      if (frame !== undefined) {
        // A whole page copies from the frame view itself: no subarray object per page.
        target.set(chunk === PAGE_SIZE ? frame : frame.subarray(inPage, inPage + chunk), targetOffset + done);
      } else {
        const status = this.memory.readInto(pfn * PAGE_SIZE + inPage, target, targetOffset + done, chunk);
        if (!status.ok) {
          return { ok: false, reason: 'out-of-memory-source', virtual: joinVirtual(curHi, curLo), level: 0, address: status.address, bytesRead: done + status.bytesRead };
        }
      }
      done += chunk;
    }
    return READ_OK;
  }

  /**
   * The frame number of the 4 KiB page holding the address, from the cache or a walk; -1 when
   * the walk fails (details in this.state). A frame number, not an address, because that is
   * what memory.frame() takes: no division of a 52-bit double per page.
   */
  private pagePfn(hi: number, lo: number): number {
    const page = (hi & this.pageHiMask) * 2 ** 20 + (lo >>> 12);
    // The page number drops the sign-copy bits, so only a canonical address may use the cache.
    const top = this.canonicalShift === 32 ? hi : hi >> this.canonicalShift;
    const slot = top === 0 || (top === -1 && this.canonicalShift < 32) ? this.cache.find(page) : -1;
    if (slot >= 0) return this.cache.pfnAt(slot);
    const s = this.state;
    if (this.walk(hi, lo) !== WALK_OK) return -1;
    this.cache.insertPfn(page, s.pfn, s.flags, s.pageSize, s.level);
    return s.pfn;
  }

  private readFailure(hi: number, lo: number, bytesRead: number): VirtualReadStatus {
    // Walk again to learn which failure it was: failures are rare, so the hot path stays lean.
    const code = this.walk(hi, lo);
    return { ...this.failure(code, joinVirtual(hi, lo)), bytesRead };
  }

  /** A little-endian unsigned 64-bit value (a pointer), or the read failure. */
  readU64(va: bigint | number): { ok: true; value: bigint } | VirtualReadFailure {
    const r = this.readVirtual(va, 8);
    return r.ok ? { ok: true, value: new DataView(r.bytes.buffer).getBigUint64(0, true) } : r;
  }

  readU32(va: bigint | number): { ok: true; value: number } | VirtualReadFailure {
    const r = this.readVirtual(va, 4);
    return r.ok ? { ok: true, value: new DataView(r.bytes.buffer).getUint32(0, true) } : r;
  }

  /**
   * A NUL-terminated string of at most `maxLength` bytes, read page by page so a short string
   * just before an unmapped page still reads (as LibVMI's vmi_read_str_va does). Latin-1:
   * kernel names are bytes, not UTF-8 by contract.
   */
  readCString(va: bigint | number, maxLength: number): { ok: true; value: string } | VirtualReadFailure {
    if (typeof va === 'number') checkAddressNumber(va);
    const start = typeof va === 'bigint' ? va : BigInt(va);
    const bytes: number[] = [];
    while (bytes.length < maxLength) {
      const at = start + BigInt(bytes.length);
      const chunk = Math.min(maxLength - bytes.length, PAGE_SIZE - Number(at % BigInt(PAGE_SIZE)));
      const r = this.readVirtual(at, chunk);
      if (!r.ok) return { ...r, bytesRead: bytes.length + r.bytesRead };
      const end = r.bytes.indexOf(0);
      bytes.push(...r.bytes.subarray(0, end < 0 ? chunk : end));
      if (end >= 0) break;
    }
    return { ok: true, value: String.fromCharCode(...bytes) };
  }
}
