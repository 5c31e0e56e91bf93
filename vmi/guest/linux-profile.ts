// The guest profile: where a Linux task_struct keeps the fields a process listing needs, and
// where init_task is — what LibVMI's config gives as linux_tasks / linux_pid / linux_name /
// linux_mm / linux_pgd and a System.map symbol. As JSON:
//   { "tasks": 1224, "pid": "0x5c8", "comm": "0x738", "mm": "0x518", "pgd": "0x50",
//     "init_task": "0xffffffff82a12940" }
// Offsets may be numbers or hex strings; init_task must be a string when it does not fit a
// double exactly (every kernel address does not). `pgd` is an offset in mm_struct.

import { diagnostic, type Diagnostic } from '../../core/diagnostics.js';
import { parseAddress } from '../paging/virtual-address.js';

export interface LinuxProfile {
  readonly tasks: number;
  readonly pid: number;
  readonly comm: number;
  readonly mm: number;
  readonly pgd: number;
  readonly initTask: bigint;
}

type ProfileParse = { readonly ok: true; readonly profile: LinuxProfile } | { readonly ok: false; readonly diagnostic: Diagnostic };

const OFFSET_KEYS = ['tasks', 'pid', 'comm', 'mm', 'pgd'] as const;
const KEYS = new Set<string>([...OFFSET_KEYS, 'init_task']);
/** No kernel structure is anywhere near this large; a bigger "offset" is a wrong profile. */
const MAX_OFFSET = 0x10000;

/** The profile in `text` (the contents of `file`), or a diagnostic naming the file and the field. */
export function parseLinuxProfile(text: string, file: string): ProfileParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return invalid(file, `not JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return invalid(file, 'must be a JSON object');
  const record = json as Record<string, unknown>;
  const unknown = Object.keys(record).find((k) => !KEYS.has(k));
  if (unknown !== undefined) return invalid(file, `unknown field "${unknown}" (fields: ${[...KEYS].join(', ')})`);
  const offsets: Partial<Record<(typeof OFFSET_KEYS)[number], number>> = {};
  for (const key of OFFSET_KEYS) {
    const value = numberField(record[key]);
    if (value === undefined || value >= BigInt(MAX_OFFSET)) return invalid(file, `"${key}" must be an offset below 0x${MAX_OFFSET.toString(16)} (a number or a "0x…" string)`);
    offsets[key] = Number(value);
  }
  const initTask = numberField(record.init_task);
  if (initTask === undefined) return invalid(file, '"init_task" must be the virtual address of init_task, as a "0x…" string');
  return { ok: true, profile: { ...(offsets as Record<(typeof OFFSET_KEYS)[number], number>), initTask } };
}

function numberField(value: unknown): bigint | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined;
  if (typeof value === 'string') return parseAddress(value);
  return undefined;
}

function invalid(file: string, problem: string): ProfileParse {
  return { ok: false, diagnostic: diagnostic('ProfileInvalid', [file, problem]) };
}

/** The profile as JSON, the inverse of parseLinuxProfile (addresses as hex strings). */
export function profileJson(profile: LinuxProfile): string {
  const hexOf = (n: number | bigint): string => '0x' + n.toString(16);
  return JSON.stringify({
    tasks: hexOf(profile.tasks), pid: hexOf(profile.pid), comm: hexOf(profile.comm), mm: hexOf(profile.mm), pgd: hexOf(profile.pgd),
    init_task: hexOf(profile.initTask),
  }, null, 2) + '\n';
}
