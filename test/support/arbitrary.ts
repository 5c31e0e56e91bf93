// fast-check generators of valid specs: random hosts of introspectors and targets whose
// capabilities respect what each guest kind supports, so every generated spec must
// compile — and every compiled policy must pass the real checkpolicy.

import fc from 'fast-check';
import { stringify } from 'yaml';
import { CAPABILITIES, XEN_RELEASES, type GuestKind } from '../../compiler/index.js';
import { compareReleases } from '../../catalog/vocabulary.js';
import { capability, foreignMapRefusal, unsupportedReason } from '../../catalog/capabilities.js';

export interface SpecObject {
  vmipolicy: 1;
  xen: string;
  policy: { module: string; mode: 'module' | 'standalone' };
  introspectors: { name: string; type?: string; guest: GuestKind; targets: string[]; capabilities: string[]; lookup: 'domid' | 'name' }[];
  targets: { name: string; type?: string; guest: GuestKind }[];
}

const guest = fc.constantFrom<GuestKind>('pv', 'pvh', 'hvm');

/** Capabilities every target of the introspector supports on the release (the rest would be VP1208). */
function supportedBy(xen: string, kinds: readonly GuestKind[]): string[] {
  return CAPABILITIES.filter((c) => kinds.every((k) => !unsupportedReason(c, { xen, introspector: 'pv', target: k }))).map((c) => c.name);
}

export function specArbitrary(opts: { releases?: readonly string[]; modes?: readonly ('module' | 'standalone')[] } = {}): fc.Arbitrary<SpecObject> {
  const releases = opts.releases ?? XEN_RELEASES;
  const modes = opts.modes ?? ['module', 'standalone'];
  return fc
    .record({
      xen: fc.constantFrom(...releases),
      mode: fc.constantFrom(...modes),
      targetKinds: fc.array(guest, { minLength: 1, maxLength: 5 }),
      introspectorKinds: fc.array(guest, { minLength: 1, maxLength: 3 }),
      explicitTypes: fc.boolean(),
      seed: fc.array(fc.nat(), { minLength: 32, maxLength: 32 }),
    })
    .map(({ xen, mode, targetKinds: tk, introspectorKinds: ik, explicitTypes, seed }) => {
      // PVH domUs exist from Xen 4.10 (VP1209 otherwise): run them as HVM on older releases.
      const kindOn = (g: GuestKind): GuestKind => (g === 'pvh' && compareReleases(xen, '4.10') < 0 ? 'hvm' : g);
      const targetKinds = tk.map(kindOn);
      const introspectorKinds = ik.map(kindOn);
      let k = 0;
      const next = (): number => seed[k++ % seed.length] as number;
      const targets = targetKinds.map((g, i) => ({ name: `guest-${i}.vm`, ...(explicitTypes ? { type: `tgt${i}_t` } : {}), guest: g }));
      const introspectors = introspectorKinds.map((g, i) => {
        // Each introspector watches a non-empty subset of targets (every target watched by someone).
        const mine = targets.filter((_, j) => j % introspectorKinds.length === i || next() % 3 === 0);
        const chosen = mine.length ? mine : [targets[i % targets.length] as (typeof targets)[number]];
        // Before Xen 4.19 an HVM/PVH introspector cannot map target frames (VP1215): it keeps the rest.
        const mapsRefused = foreignMapRefusal(xen, g) !== undefined;
        const caps = supportedBy(xen, chosen.map((t) => t.guest))
          .filter((c) => !(mapsRefused && capability(c)?.mapsTargetFrames))
          .filter((c) => c === 'domain-info' || next() % 2 === 0);
        return {
          name: `mon${i}`,
          ...(explicitTypes ? { type: `mon${i}_vmi_t` } : {}),
          guest: g,
          targets: chosen.map((t) => t.name),
          capabilities: caps,
          lookup: next() % 2 === 0 ? ('name' as const) : ('domid' as const),
        };
      });
      return { vmipolicy: 1 as const, xen, policy: { module: 'vmi_test', mode }, introspectors, targets };
    });
}

export function toYaml(spec: SpecObject): string {
  return stringify(spec);
}

/** The same spec with every list reversed and rotated: must compile to the same policy. */
export function reordered(spec: SpecObject): SpecObject {
  const rot = <T>(xs: T[]): T[] => (xs.length > 1 ? [...xs.slice(1), xs[0] as T].reverse() : [...xs]);
  return {
    ...spec,
    targets: rot(spec.targets),
    introspectors: rot(spec.introspectors).map((i) => ({ ...i, targets: rot(i.targets), capabilities: rot(i.capabilities) })),
  };
}
