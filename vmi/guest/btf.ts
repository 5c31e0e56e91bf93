// BTF, the BPF Type Format every mainstream distribution kernel carries (CONFIG_DEBUG_INFO_BTF):
// the kernel's own description of its structures, so a guest profile need not be hand-made.
// The layout is the kernel's include/uapi/linux/btf.h:
//   btf_header  magic 0xEB9F (little-endian here), version, flags, hdr_len, then type_off,
//               type_len, str_off, str_len — offsets counted from the end of the header;
//   types       from id 1, each a btf_type {name_off, info, size|type} where info holds vlen
//               (bits 0–15), kind (bits 24–28) and kind_flag (bit 31), followed by what its
//               kind adds: INT 4 bytes, ARRAY 12, STRUCT and UNION vlen × btf_member
//               {name_off, type, offset} (with kind_flag the offset is bitfield size << 24 |
//               bit offset), ENUM vlen × 8, FUNC_PROTO vlen × 8, VAR 4, DATASEC vlen × 12,
//               DECL_TAG 4, ENUM64 vlen × 12; the rest nothing;
//   strings     NUL-terminated, name_off indexes them.
// Read from /sys/kernel/btf/vmlinux (the raw blob) or a vmlinux ELF's .BTF section.

import { layoutOffset, MAX_EMBEDDED, MAX_EMBEDDING, type EmbeddingBudget, type StructLayout } from './struct-layout.js';

interface BtfMember {
  readonly name: string;
  readonly type: number;
  /** Offset from the start of the enclosing struct, in bits. */
  readonly bitOffset: number;
}

export interface BtfType {
  readonly kind: number;
  readonly name: string;
  readonly size: number;
  readonly members?: readonly BtfMember[];
}

const BTF_KIND_STRUCT = 4;
const BTF_KIND_UNION = 5;
const BTF_MAGIC = 0xeb9f;
/** Bytes each kind adds after its btf_type, per its vlen where it has one. */
const EXTRA: Readonly<Record<number, (vlen: number) => number>> = {
  1: () => 4, 3: () => 12, 4: (v) => v * 12, 5: (v) => v * 12, 6: (v) => v * 8, 13: (v) => v * 8, 14: () => 4, 15: (v) => v * 12, 17: () => 4, 19: (v) => v * 12,
};
const KNOWN_KINDS = 19;

type BtfParse = { readonly ok: true; readonly types: readonly (BtfType | undefined)[] } | { readonly ok: false; readonly problem: string };

export function isBtf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && (bytes[0] as number) === 0x9f && (bytes[1] as number) === 0xeb;
}

/** Every type of a BTF blob, indexed by id (0, void, is undefined). Only structs and unions keep their members. */
export function parseBtf(bytes: Uint8Array): BtfParse {
  if (bytes.length < 24) return { ok: false, problem: 'shorter than a BTF header' };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint16(0, true) !== BTF_MAGIC) return { ok: false, problem: 'no BTF magic (0xEB9F, little-endian)' };
  const hdrLen = v.getUint32(4, true);
  const [typeOff, typeLen, strOff, strLen] = [8, 12, 16, 20].map((at) => v.getUint32(at, true)) as [number, number, number, number];
  const typesAt = hdrLen + typeOff;
  const stringsAt = hdrLen + strOff;
  if (hdrLen < 24 || typesAt + typeLen > bytes.length || stringsAt + strLen > bytes.length) return { ok: false, problem: `its sections (types ${typeLen} bytes, strings ${strLen} bytes) do not fit in its ${bytes.length} bytes` };
  const decoder = new TextDecoder();
  const strings = bytes.subarray(stringsAt, stringsAt + strLen);
  const name = (off: number): string => {
    if (off >= strings.length) return '';
    const end = strings.indexOf(0, off);
    return decoder.decode(strings.subarray(off, end < 0 ? strings.length : end));
  };
  const types: (BtfType | undefined)[] = [undefined];
  let at = typesAt;
  const end = typesAt + typeLen;
  while (at < end) {
    if (at + 12 > end) return { ok: false, problem: `type ${types.length} is cut off at the end of the type section` };
    const info = v.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kindFlag = info >>> 31 === 1;
    if (kind === 0 || kind > KNOWN_KINDS) return { ok: false, problem: `type ${types.length} has kind ${kind}, which BTF does not define` };
    const extra = EXTRA[kind]?.(vlen) ?? 0;
    if (at + 12 + extra > end) return { ok: false, problem: `type ${types.length} is cut off at the end of the type section` };
    let members: BtfMember[] | undefined;
    if (kind === BTF_KIND_STRUCT || kind === BTF_KIND_UNION) {
      members = [];
      for (let i = 0; i < vlen; i++) {
        const m = at + 12 + i * 12;
        const offset = v.getUint32(m + 8, true);
        members.push({ name: name(v.getUint32(m, true)), type: v.getUint32(m + 4, true), bitOffset: kindFlag ? offset & 0xffffff : offset });
      }
    }
    types.push({ kind, name: name(v.getUint32(at, true)), size: v.getUint32(at + 8, true), ...(members ? { members } : {}) });
    at += 12 + extra;
  }
  return { ok: true, types };
}

/** The struct (not union) named `name`, with members, or undefined. A forward declaration has none. */
export function findStruct(types: readonly (BtfType | undefined)[], name: string): BtfType | undefined {
  return types.find((t) => t?.kind === BTF_KIND_STRUCT && t.name === name && (t.members?.length ?? 0) > 0);
}

/**
 * The struct or union as the profile's layout model has it, its anonymous members resolved to
 * the structs and unions they embed (to MAX_EMBEDDING levels, MAX_EMBEDDED in all).
 */
export function btfLayout(types: readonly (BtfType | undefined)[], struct: BtfType, depth = 0, budget: EmbeddingBudget = { left: MAX_EMBEDDED }): StructLayout {
  return {
    name: struct.name,
    size: struct.size,
    members: (struct.members ?? []).map((m) => {
      const inner = m.name === '' && depth < MAX_EMBEDDING && budget.left > 0 ? types[m.type] : undefined;
      if (!inner?.members) return { name: m.name, bitOffset: m.bitOffset };
      budget.left--;
      return { name: m.name, bitOffset: m.bitOffset, embedded: btfLayout(types, inner, depth + 1, budget) };
    }),
  };
}

/** The byte offset of member `name` in `struct`, looking through anonymous structs and unions, or undefined when absent. */
export function memberOffset(types: readonly (BtfType | undefined)[], struct: BtfType, name: string): number | undefined {
  return layoutOffset(btfLayout(types, struct), name);
}
