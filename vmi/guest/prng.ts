// A small seeded PRNG (mulberry32) so a synthetic guest is the same bytes for the same seed
// on every machine and Node version; Math.random is neither seedable nor stable.

export type Random = () => number;

/** Uniform in [0, 1), deterministic for the seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export function randomInt(random: Random, below: number): number {
  return Math.floor(random() * below);
}
