// The layout of a kernel structure as a guest profile needs it: each member's name and bit
// offset, and, for an unnamed member, the anonymous struct or union it embeds (task_struct has
// several, mm_struct keeps pgd inside one). The one model both type readers produce — BTF
// (btf.ts) and DWARF (dwarf.ts) — so the profile is built one way whichever the kernel has.

export interface LayoutMember {
  /** '' for an unnamed member (an anonymous struct or union, or padding). */
  readonly name: string;
  /** Offset from the start of the enclosing struct, in bits. */
  readonly bitOffset: number;
  /** The anonymous struct or union an unnamed member embeds, when the reader resolved it. */
  readonly embedded?: StructLayout;
}

export interface StructLayout {
  /** '' for an anonymous struct or union. */
  readonly name: string;
  /** Bytes, as sizeof gives. */
  readonly size: number;
  readonly members: readonly LayoutMember[];
}

/** Anonymous structs nest a few levels in real kernels; deeper is a loop or hostile input. */
export const MAX_EMBEDDING = 8;
/**
 * Anonymous members resolved in one layout: task_struct has a few dozen. A struct whose
 * anonymous members name itself would otherwise unfold (members ^ MAX_EMBEDDING) times.
 */
export const MAX_EMBEDDED = 4096;

/** What is left of MAX_EMBEDDED while one layout is built. */
export interface EmbeddingBudget {
  left: number;
}

/**
 * The byte offset of member `name` in `layout`, looking through anonymous structs and unions as
 * C does (a named member first, then each anonymous one in order), or undefined when absent or
 * not on a byte boundary (a bitfield).
 */
export function layoutOffset(layout: StructLayout, name: string): number | undefined {
  const bits = layoutBits(layout, name, 0);
  return bits === undefined || bits % 8 !== 0 ? undefined : bits / 8;
}

function layoutBits(layout: StructLayout, name: string, depth: number): number | undefined {
  if (depth > MAX_EMBEDDING) return undefined;
  for (const m of layout.members) if (m.name === name) return m.bitOffset;
  for (const m of layout.members) {
    if (m.name !== '' || !m.embedded) continue;
    const found = layoutBits(m.embedded, name, depth + 1);
    if (found !== undefined) return m.bitOffset + found;
  }
  return undefined;
}
