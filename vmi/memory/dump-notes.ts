// The vCPU state a QEMU dump carries, so a user need not find CR3 and the paging mode
// themselves. `dump-guest-memory` writes, per vCPU, ELF notes (in the ELF core's PT_NOTE
// segment, or in a kdump file's note area after the sub-header): NT_PRSTATUS ("CORE", the
// general registers, as a Linux core has) and QEMU's own "QEMU" note of type 0 holding
// QEMUCPUState (target/i386/arch_dump.c, the struct that contrib/elf2dmp/qemu_elf.h also
// reads): version, size, 16 general registers, rip, rflags, eight segments of 24 bytes
// (cs ds es fs gs ss ldt tr), gdt, idt, then cr[0..4] at byte 392. The same struct is
// written for 32- and 64-bit guests. Notes are Elf32_Nhdr/Elf64_Nhdr records — both three
// u32s — with name and descriptor each padded to 4 bytes.

/** One vCPU's control registers, from its QEMU CPU state note. */
export interface CpuState {
  readonly index: number;
  readonly cr0: bigint;
  readonly cr3: bigint;
  readonly cr4: bigint;
  /**
   * Whether the vCPU was in long mode (EFER.LMA), from the size of its NT_PRSTATUS note: QEMU
   * writes the x86-64 elf_prstatus (336 bytes) for a vCPU in long mode and the i386 one (144)
   * otherwise (target/i386/arch_dump.c). Not the dump's ELF class: QEMU writes ELFCLASS64 for
   * every PC guest whose memory map reaches 4 GiB (the BIOS ROM block ends there), 32-bit
   * guests included. Undefined when the dump has no NT_PRSTATUS for this vCPU.
   */
  readonly longMode?: boolean;
}

interface DumpNote {
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
}

/** Notes past this many are not read: QEMU writes two per vCPU (and a VMCOREINFO). */
const MAX_NOTES = 4096;
const QEMU_NOTE_TYPE = 0;
const NT_PRSTATUS = 1;
/** sizeof(struct elf_prstatus) for x86-64 and for i386. */
const PRSTATUS_X86_64 = 336;
const PRSTATUS_I386 = 144;
/** Offset of cr[0] in QEMUCPUState: 8 + 18×8 (registers) + 10×24 (segments and tables). */
export const QEMU_CPU_CR_OFFSET = 392;
/** QEMUCPUState's size in version 1, kernel_gs_base included. */
export const QEMU_CPU_STATE_BYTES = 440;

/** The notes of a note area, in order; stops at the first record that does not fit. */
export function parseNotes(bytes: Uint8Array): DumpNote[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const notes: DumpNote[] = [];
  let at = 0;
  while (at + 12 <= bytes.length && notes.length < MAX_NOTES) {
    const namesz = view.getUint32(at, true);
    const descsz = view.getUint32(at + 4, true);
    const type = view.getUint32(at + 8, true);
    const nameAt = at + 12;
    const descAt = nameAt + align4(namesz);
    const end = descAt + align4(descsz);
    if (namesz > bytes.length || descsz > bytes.length || end > bytes.length) break;
    const rawName = bytes.subarray(nameAt, nameAt + namesz);
    const nul = rawName.indexOf(0);
    notes.push({ name: String.fromCharCode(...(nul < 0 ? rawName : rawName.subarray(0, nul))), type, desc: bytes.subarray(descAt, descAt + descsz) });
    at = end;
  }
  return notes;
}

/** The control registers of every vCPU whose QEMU CPU state note is there, in note order. */
export function cpuStates(notes: readonly DumpNote[]): CpuState[] {
  // QEMU writes every vCPU's NT_PRSTATUS, then every vCPU's QEMU note: the i-th of each is vCPU i.
  const prstatus = notes.filter((n) => n.name === 'CORE' && n.type === NT_PRSTATUS).map((n) => n.desc.length);
  const states: CpuState[] = [];
  for (const note of notes) {
    if (note.name !== 'QEMU' || note.type !== QEMU_NOTE_TYPE || note.desc.length < QEMU_CPU_CR_OFFSET + 5 * 8) continue;
    const view = new DataView(note.desc.buffer, note.desc.byteOffset, note.desc.byteLength);
    const cr = (n: number): bigint => view.getBigUint64(QEMU_CPU_CR_OFFSET + n * 8, true);
    const size = prstatus[states.length];
    const longMode = size === PRSTATUS_X86_64 ? true : size === PRSTATUS_I386 ? false : undefined;
    states.push({ index: states.length, cr0: cr(0), cr3: cr(3), cr4: cr(4), ...(longMode !== undefined ? { longMode } : {}) });
  }
  return states;
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
