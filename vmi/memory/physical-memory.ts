// The one interface every physical memory source implements (raw snapshot file, QEMU ELF
// core, in-memory image), and the typed results of reading from one.
//
// Physical addresses are plain numbers: x86 physical addresses are below 2^52 (MAXPHYADDR
// is at most 52), and every integer below 2^53 is exact in a double, so no BigInt is needed
// on the hot path. BigInt is accepted only at the API edge (toPhysicalAddress).

export const PAGE_SIZE = 4096;
/** The architectural limit: 52 bits of physical address. */
export const MAX_PHYSICAL_ADDRESS = 2 ** 52;
/** 32-bit words in a frame. */
export const FRAME_WORDS = PAGE_SIZE / 4;

/**
 * Whether this host stores a Uint32Array's elements little-endian, as x86 page-table entries
 * are stored. Only then does a Uint32Array view over a frame hold the entries' 32-bit halves
 * (low word at the even index), so only then may the page walker read entries through
 * `frameWords`; elsewhere it decodes bytes.
 */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Why some bytes could not be read: the address is in no part of the source. */
interface OutOfSource {
  readonly ok: false;
  readonly reason: 'out-of-memory-source';
  /** The first physical address the source does not hold. */
  readonly address: number;
  /** Bytes copied before that address (they are already in the caller's buffer). */
  readonly bytesRead: number;
}

interface ReadOk {
  readonly ok: true;
}

/** Success is one shared frozen object, so the fast read path allocates nothing. */
export const READ_OK: ReadOk = Object.freeze({ ok: true });

export type ReadStatus = ReadOk | OutOfSource;

type PhysicalRead = { readonly ok: true; readonly bytes: Uint8Array } | OutOfSource;

export interface PhysicalMemory {
  /** A human-readable name for messages: the file path, or "in-memory image". */
  readonly name: string;
  /** One past the highest physical address the source can hold (holes may lie below it). */
  readonly end: number;
  /**
   * The 4 KiB frame `pfn` as a view of exactly PAGE_SIZE bytes, or undefined when the frame
   * is not wholly inside the source. The view may be reused for another frame by a later
   * call, so callers copy out of it before asking for the next frame. This is the page
   * walker's fast path: one lookup per table, no copy.
   */
  frame(pfn: number): Uint8Array | undefined;
  /**
   * Optional: the same frame as FRAME_WORDS 32-bit words in host byte order (a view over the
   * same bytes, created once, so asking costs no allocation), or undefined when `frame(pfn)`
   * would be. Why: reading a 64-bit entry as two aligned u32 loads is several times cheaper
   * than assembling it from eight bytes, and the walk reads four entries per page. Callers
   * must check HOST_LITTLE_ENDIAN before treating the words as entry halves.
   */
  frameWords?(pfn: number): Uint32Array | undefined;
  /** Copies `length` bytes at `address` into `target` from `targetOffset`; stops at the first byte not in the source. */
  readInto(address: number, target: Uint8Array, targetOffset: number, length: number): ReadStatus;
  /** Releases any file descriptor; reads after close fail as out of source. */
  close(): void;
}

/** A byte range the source holds, for sources whose frames may be only partly present. */
export type PartialRead = (address: number, target: Uint8Array, targetOffset: number, length: number) => number;

/**
 * readInto in terms of `frame()`: whole frames are copied from their views; a frame that is
 * not wholly present (the tail of a raw file, a segment edge in an ELF core) goes through
 * `partial`, which copies what it has and returns how many bytes that was.
 */
export function readThroughFrames(
  memory: Pick<PhysicalMemory, 'frame'>,
  partial: PartialRead,
  address: number,
  target: Uint8Array,
  targetOffset: number,
  length: number,
): ReadStatus {
  let done = 0;
  while (done < length) {
    const at = address + done;
    const inFrame = at & (PAGE_SIZE - 1);
    const chunk = Math.min(PAGE_SIZE - inFrame, length - done);
    const view = memory.frame(Math.floor(at / PAGE_SIZE));
    if (view) {
      target.set(inFrame === 0 && chunk === PAGE_SIZE ? view : view.subarray(inFrame, inFrame + chunk), targetOffset + done);
      done += chunk;
      continue;
    }
    const got = partial(at, target, targetOffset + done, chunk);
    done += got;
    if (got < chunk) return { ok: false, reason: 'out-of-memory-source', address: address + done, bytesRead: done };
  }
  return READ_OK;
}

/** readInto with a fresh buffer: the convenient, allocating form. */
export function readPhysical(memory: PhysicalMemory, address: number | bigint, length: number): PhysicalRead {
  const at = toPhysicalAddress(address);
  if (at === undefined) return { ok: false, reason: 'out-of-memory-source', address: Number(address), bytesRead: 0 };
  const bytes = new Uint8Array(length);
  const status = memory.readInto(at, bytes, 0, length);
  return status.ok ? { ok: true, bytes } : status;
}

/** A physical address as a number, or undefined when it is negative, fractional or ≥ 2^52. */
export function toPhysicalAddress(address: number | bigint): number | undefined {
  if (typeof address === 'bigint') return address >= 0n && address < BigInt(MAX_PHYSICAL_ADDRESS) ? Number(address) : undefined;
  return Number.isInteger(address) && address >= 0 && address < MAX_PHYSICAL_ADDRESS ? address : undefined;
}

/** Little-endian reads from a frame view; entries never straddle frames, so no bounds juggling. */
export function u32At(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] as number) | ((bytes[offset + 1] as number) << 8) | ((bytes[offset + 2] as number) << 16) | ((bytes[offset + 3] as number) << 24)) >>> 0;
}
