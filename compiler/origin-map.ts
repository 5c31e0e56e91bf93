// What a reader learns of each origin, kept by Origin.id (lower.ts numbers the origins of an
// IR) rather than in a Map keyed by the objects.

import type { Origin } from './ir.js';

/**
 * A map from origins, kept in an array by Origin.id where an origin has one: a manifest
 * looks up 200 000 origins twice each, and a Map of that many objects was a tenth of its
 * time; sorting a host's grants looks each up once per grant.
 */
export class ByOrigin<T> {
  private byId: (T | undefined)[] = [];
  private readonly others = new Map<Origin, T>();

  get(o: Origin): T | undefined {
    return o.id === undefined ? this.others.get(o) : this.byId[o.id];
  }

  set(o: Origin, value: T): void {
    if (o.id === undefined) {
      this.others.set(o, value);
      return;
    }
    // Grown whole and filled, never written past its end: a sparse array is a slow one.
    if (o.id >= this.byId.length) this.byId = this.byId.concat(new Array<T | undefined>(Math.max(o.id + 1, 2 * this.byId.length, 1024) - this.byId.length).fill(undefined));
    this.byId[o.id] = value;
  }
}

