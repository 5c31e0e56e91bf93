// Command-line argument parsing shared by every command: each command names the flags it
// takes, so an unknown flag is a usage error where it is typed, not a silent no-op.

export interface ParsedArgs {
  readonly positional: string[];
  /** Last value of each single-valued flag (`--out` is stored as `-o`). */
  readonly flags: Map<string, string>;
  /** Every value of a repeatable flag, in order (`--policy A --policy B`). */
  readonly lists: Map<string, string[]>;
  readonly errors: string[];
}

export interface FlagSpec {
  /** Flags that take one value. */
  readonly values?: readonly string[];
  /** Flags that take a value and may be given more than once. */
  readonly repeatable?: readonly string[];
  /** Flags without a value. */
  readonly booleans?: readonly string[];
}

import { nearest } from '../compiler/names.js';
import { SCALE_LIMIT_FLAGS, type ScaleLimits } from '../compiler/scale.js';

const ALIASES: Readonly<Record<string, string>> = { '--out': '-o', '-h': '--help' };

export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const repeatable = new Set(spec.repeatable ?? []);
  const booleans = new Set([...(spec.booleans ?? []), '--help', '-h']);
  const positional: string[] = [];
  const flags = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const [raw, inline] = eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const name = ALIASES[raw] ?? raw;
    if (values.has(raw) || values.has(name) || repeatable.has(raw) || repeatable.has(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined) errors.push(`${raw} needs a value`);
      else if (repeatable.has(raw) || repeatable.has(name)) lists.set(name, [...(lists.get(name) ?? []), v]);
      else flags.set(name, v);
    } else if (booleans.has(raw) || booleans.has(name)) {
      if (inline !== undefined) errors.push(`${raw} takes no value`);
      else flags.set(name, 'true');
    } else if (a.startsWith('-') && a !== '-') {
      const near = raw.startsWith('--') ? nearest(raw, [...values, ...repeatable, ...booleans, ...Object.keys(ALIASES)].filter((f) => f.startsWith('--') && (values.has(ALIASES[f] ?? f) || repeatable.has(ALIASES[f] ?? f) || booleans.has(ALIASES[f] ?? f)))) : undefined;
      errors.push(`unknown option ${a}${near ? ` (did you mean ${near}?)` : ''}`);
    } else {
      positional.push(a);
    }
  }
  return { positional, flags, lists, errors };
}

/** The --format value, or an error naming the formats this command takes. */
export function formatOf(args: ParsedArgs, allowed: readonly string[], fallback = 'text'): { format: string } | { error: string } {
  const format = args.flags.get('--format') ?? fallback;
  return allowed.includes(format) ? { format } : { error: `--format must be ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}, not ${format}` };
}

/** The flags that lift the scale limits, taken by every command that reads a spec. */
export const SCALE_FLAGS: readonly string[] = Object.values(SCALE_LIMIT_FLAGS);

/** The limits given with --max-domains, --max-pairs and --max-probes, or the first bad value. */
export function scaleLimitsOf(args: ParsedArgs): { readonly limits?: Partial<ScaleLimits> } | { readonly error: string } {
  const limits: Partial<Record<keyof ScaleLimits, number>> = {};
  for (const [measure, flag] of Object.entries(SCALE_LIMIT_FLAGS) as [keyof ScaleLimits, string][]) {
    const v = args.flags.get(flag);
    if (v === undefined) continue;
    if (!/^[1-9][0-9]{0,8}$/.test(v)) return { error: `${flag} must be a whole number from 1 to 999999999, not ${v}` };
    limits[measure] = Number(v);
  }
  return Object.keys(limits).length ? { limits } : {};
}
