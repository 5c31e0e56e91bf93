// How much work a spec asks of vmipolicy, and the limits it is held to. The spec's 1 MiB
// cap bounds its bytes, not its work: a megabyte of flow-style YAML declares 27 000 domains,
// or lists 5 000 targets under each of 20 introspectors (100 000 sessions), and the proof
// and the self-test grow with three measures, each bounded here before anything is compiled:
//
// - domains (introspectors and targets): every artifact, label and xenstore node, the
//   policy's types, the checker's graph;
// - pairs (an introspector and one of its targets): one self-test session each, running the
//   capability's hypercalls against a booted guest, and the grants the checker proves;
// - probes (every introspector against every domain): the self-test asks, from each
//   introspector, what each other domain must refuse it, and the checker searches every
//   introspector's reach over the host.
//
// The defaults keep every command on a spec at all three limits at once within 60 s and
// 1 GiB on a 2-core machine (bench/scale-limits.bench.ts measures the worst such spec); a
// larger host is one flag away (`--max-domains`, `--max-pairs`, `--max-probes`), so a pull
// request cannot make a CI job spend what its workflow did not allow.

import { diagnostic, type Diagnostic, type SourceSpan } from '../core/diagnostics.js';
import type { Spec } from './spec.js';

export interface ScaleLimits {
  readonly domains: number;
  readonly pairs: number;
  readonly probes: number;
}

export const DEFAULT_SCALE_LIMITS: ScaleLimits = { domains: 2_000, pairs: 2_000, probes: 200_000 };

/** The command-line flag that lifts each limit. */
export const SCALE_LIMIT_FLAGS: Readonly<Record<keyof ScaleLimits, string>> = { domains: '--max-domains', pairs: '--max-pairs', probes: '--max-probes' };

export interface SpecScale extends ScaleLimits {
  readonly introspectors: number;
}

export function scaleOf(spec: Pick<Spec, 'introspectors' | 'targets'>): SpecScale {
  const domains = spec.introspectors.length + spec.targets.length;
  const pairs = spec.introspectors.reduce((n, i) => n + i.targets.length, 0);
  return { domains, pairs, probes: spec.introspectors.length * domains, introspectors: spec.introspectors.length };
}

/**
 * An error for each limit the spec passes, placed where it passes it: the first domain over
 * the limit, the target entry that makes one pair too many, the introspector whose probes
 * of the host go over.
 */
export function scaleDiagnostics(spec: Pick<Spec, 'introspectors' | 'targets'>, limits: ScaleLimits = DEFAULT_SCALE_LIMITS): Diagnostic[] {
  const scale = scaleOf(spec);
  const out: Diagnostic[] = [];
  const over = (measure: keyof ScaleLimits, what: string, span: SourceSpan | undefined): void => {
    const limit = limits[measure];
    out.push(diagnostic('ScaleLimit', [scale[measure], what, limit], span, `pass ${SCALE_LIMIT_FLAGS[measure]} ${scale[measure]} to go on: the limits keep every command within 1 GiB and 60 s (README, "Limits")`));
  };
  if (scale.domains > limits.domains) {
    const domains = [...spec.introspectors, ...spec.targets];
    over('domains', 'domains (introspectors and targets)', domains[limits.domains]?.nameSpan);
  }
  if (scale.pairs > limits.pairs) over('pairs', 'introspector–target pairs', pairOver(spec, limits.pairs));
  if (scale.probes > limits.probes) {
    const within = Math.floor(limits.probes / Math.max(1, scale.domains));
    over('probes', `probes (introspectors × domains: ${scale.introspectors} × ${scale.domains})`, spec.introspectors[within]?.nameSpan);
  }
  return out;
}

/** The target entry that makes pair number `limit + 1`. */
function pairOver(spec: Pick<Spec, 'introspectors'>, limit: number): SourceSpan | undefined {
  let seen = 0;
  for (const i of spec.introspectors) {
    if (seen + i.targets.length > limit) return i.targets[limit - seen]?.span;
    seen += i.targets.length;
  }
  return undefined;
}
