// Names are hostile input: every domain name reaches a shell script and an xl config, and
// every type and module name reaches a policy file that m4 and checkpolicy read. Only
// names that are safe in all of those places by construction are accepted.

/** xl domain names as vmipolicy accepts them. Letters, digits, `_`, `.`, `-`; starts with a letter or digit. */
export const DOMAIN_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
/** FLASK type names vmipolicy accepts: identifier characters, ending in `_t`. */
export const TYPE_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,60}_t$';
/** Policy module names: lower-case identifier (it becomes modules/<name>.te and a modules.conf line). */
export const MODULE_NAME_PATTERN = '^[a-z][a-z0-9_]{0,31}$';

export const DOMAIN_NAME_RULE = 'use 1–64 of A–Z a–z 0–9 _ . -, starting with a letter or digit';
export const TYPE_NAME_RULE = 'use A–Z a–z 0–9 _, start with a letter and end in _t (at most 63 characters)';
export const MODULE_NAME_RULE = 'use 1–32 of a–z 0–9 _, starting with a letter';

/**
 * Types declared by Xen's own policy (tools/flask/policy at 4.8 … 4.22). A spec that
 * reused one would merge its domains with stock ones — the very mistake vmipolicy exists
 * to prevent — so it is an error, not a warning.
 */
export const XEN_BUILTIN_TYPES: ReadonlySet<string> = new Set([
  'xen_t', 'xenboot_t', 'dom0_t', 'domio_t', 'domxen_t', 'unlabeled_t', 'security_t',
  'irq_t', 'ioport_t', 'iomem_t', 'device_t', 'domU_t', 'dm_dom_t', 'isolated_domU_t',
  'prot_domU_t', 'nomigrate_t', 'nic_dev_t', 'xenstore_t',
]);

/** Modules of Xen's tree: a module of the same name would replace the stock file. */
export const XEN_STOCK_MODULES: ReadonlySet<string> = new Set([
  'xen', 'dom0', 'domU', 'guest_features', 'isolated_domU', 'prot_domU', 'nomigrate',
  'nic_dev', 'xenstore', 'all_system_role', 'vm_role', 'modules',
]);

/** xl treats a name that is a number as a domid; Domain-0 is dom0, which has its own type. */
export function reservedDomainName(name: string): string | undefined {
  if (/^[0-9]+$/.test(name)) return 'xl reads an all-digit name as a domid';
  if (name === 'Domain-0') return 'Domain-0 is dom0, whose label (dom0_t) belongs to Xen\'s base policy';
  return undefined;
}

/** The default type of a domain: its name made an identifier, with `_t`. */
export function defaultTypeFor(domainName: string): string {
  const id = domainName.replace(/[.-]/g, '_').replace(/_+/g, '_');
  return /^[A-Za-z]/.test(id) ? `${id}_t` : `d_${id}_t`;
}

/** Damerau–Levenshtein (optimal string alignment) distance. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The closest candidate, if it is close enough to be what the user meant. */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const dist = cl.startsWith(w) || w.startsWith(cl) ? Math.abs(cl.length - w.length) * 0.5 : editDistance(w, cl);
    if (dist < bestDistance || (dist === bestDistance && best !== undefined && c < best)) {
      best = c;
      bestDistance = dist;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
