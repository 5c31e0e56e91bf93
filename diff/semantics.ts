// Access that no allow rule states: `permissive T;` and the labels of objects. Both are
// decided as effective access, with the same engine as the rules (access.ts).
//
// - permissive: Xen's security_compute_av sets AVD_FLAGS_PERMISSIVE when the source type is
//   in the policy's permissive map (xen/xsm/flask/ss/services.c), and avc_has_perm_noaudit
//   then grants what was denied (xen/xsm/flask/avc.c). A type made permissive gains every
//   permission of every class on every object that OLD denied it.
// - labels: Xen labels a pirq, an iomem page, an ioport, a PCI device or a device-tree node
//   with the first object context that matches it, else with an initial SID
//   (security_irq_sid → SECINITSID_IRQ, security_iomem_sid → SECINITSID_IOMEM,
//   security_ioport_sid → SECINITSID_IOPORT, security_device_sid and
//   security_devicetree_sid → SECINITSID_DEVICE); hooks.c checks the resource class (and
//   every other check on the object) against that label. Domains built without a label run
//   in an initial SID (SECINITSID_DOMU, …), so an initial SID's type is a subject too. A
//   relabelled object gives whoever holds more on its new type than on its old one new access.

import { compareCodePoints } from '../core/compare.js';
import type { PolicyModel } from '../policy/model/model.js';
import { AccessEngine, cmp } from './access.js';
import type { Grants } from './effective.js';
import type { LabelStatement, PolicyFacts } from './facts.js';
import type { AccessGain, NamedChange, ObjectLabelChange, PermissiveChange, StatementChange } from './types.js';

/** Gains listed per change; the count covers all of them. */
const LISTED = 5;

const NOTHING: Grants = { conditions: new Map(), rules: new Map() };

/** A running list of gains: the first few (sorted) and how many. */
class Gains {
  readonly list: AccessGain[] = [];
  count = 0;

  add(g: AccessGain, times: number): void {
    this.count += times;
    this.list.push(g);
    if (this.list.length > 4 * LISTED) this.trim();
  }

  trim(): AccessGain[] {
    this.list.sort((a, b) => cmp(a.subject, b.subject) || cmp(a.object, b.object) || cmp(a.cls, b.cls));
    this.list.length = Math.min(this.list.length, LISTED);
    return this.list;
  }
}

/**
 * The types standing for a set, for questions about one `special` type or two: each
 * special member alone, then one other member per block with how many it stands for.
 */
function representatives(engine: AccessEngine, cls: string, role: 'source' | 'target', members: Iterable<number>, special: readonly (number | undefined)[]): [number, number][] {
  const blocks = engine.blocks(cls)[role];
  const perBlock = new Map<number, [number, number]>();
  const out: [number, number][] = [];
  for (const x of members) {
    if (special.includes(x)) {
      out.push([x, 1]);
      continue;
    }
    const b = blocks.blockOf[x] as number;
    const e = perBlock.get(b);
    if (e) e[1]++;
    else perBlock.set(b, [x, 1]);
  }
  return [...out, ...perBlock.values()];
}

// ------------------------------------------------------------------------------ permissive

function permissiveNames(model: PolicyModel | undefined): Set<string> {
  return new Set([...(model?.permissive ?? [])].map((t) => model?.types[t] as string));
}

function where(statements: readonly StatementChange[], type: string): StatementChange['at'] {
  return statements.find((s) => s.text === `permissive ${type};`)?.at ?? { file: '?', line: 0 };
}

export function diffPermissive(engine: AccessEngine, o: { model?: PolicyModel; facts: PolicyFacts }, w: { model?: PolicyModel; facts: PolicyFacts }): NamedChange<PermissiveChange> {
  const before = permissiveNames(o.model);
  const after = permissiveNames(w.model);
  const added = [...after].filter((t) => !before.has(t)).sort(cmp).map((type): PermissiveChange => {
    const gains = permissiveGains(engine, type, w.model as PolicyModel);
    return { type, at: where(w.facts.otherStatements, type), gains: gains.trim(), gainCount: gains.count };
  });
  const removed = [...before].filter((t) => !after.has(t)).sort(cmp).map((type): PermissiveChange => ({ type, at: where(o.facts.otherStatements, type), gains: [], gainCount: 0 }));
  return { added, removed };
}

/** Every (object, class) where OLD does not grant `type` a permission of the class in every boolean state. */
function permissiveGains(engine: AccessEngine, type: string, model: PolicyModel): Gains {
  const gains = new Gains();
  const s = engine.universe.index.get(type);
  if (s === undefined) return gains;
  const objects = model.types.map((t) => engine.universe.index.get(t) as number);
  for (const cls of model.classes) {
    for (const [t, times] of representatives(engine, cls.name, 'target', objects, [s])) {
      const o = engine.grants('old', s, t, cls.name);
      const missing = cls.perms.filter((p) => !o.conditions.has(p) || o.conditions.get(p) !== undefined);
      if (missing.length) gains.add({ subject: type, object: engine.universe.names[t] as string, cls: cls.name, perms: missing }, times);
    }
  }
  return gains;
}

// ------------------------------------------------------------------------------ labels

type Kind = ObjectLabelChange['kind'];

/** The initial SID an unlabelled resource of each kind falls back to (services.c). */
const FALLBACK: Readonly<Record<Exclude<Kind, 'sid'>, string>> = {
  pirqcon: 'irq', iomemcon: 'iomem', ioportcon: 'ioport', pcidevicecon: 'device', devicetreecon: 'device',
};

const RESOURCE_WORD: Readonly<Record<Exclude<Kind, 'sid'>, string>> = {
  pirqcon: 'pirq', iomemcon: 'iomem', ioportcon: 'ioport', pcidevicecon: 'pcidevice', devicetreecon: 'devicetree',
};

function number(kind: Kind, n: bigint): string {
  return kind === 'pirqcon' ? n.toString() : `0x${n.toString(16)}`;
}

/** What labels a resource on one side: the first statement that matches, else the initial SID's context. */
interface Label {
  readonly type?: string;
  readonly by?: StatementChange;
}

function sidLabel(labels: readonly LabelStatement[], name: string): Label {
  const s = labels.find((l) => l.kind === 'sid' && l.name === name);
  return s ? { type: s.type, by: s.written } : {};
}

export function diffObjectLabels(engine: AccessEngine, o: PolicyFacts, w: PolicyFacts): ObjectLabelChange[] {
  const gainsOf = new GainCache(engine);
  const out: ObjectLabelChange[] = [];
  const push = (kind: Kind, resource: string, a: Label, b: Label, asSubject: boolean): void => {
    // A resource piece is compared by its type (its statement may be rewritten around it);
    // an initial SID by its whole context.
    if (a.type === b.type && (kind !== 'sid' || a.by?.text === b.by?.text)) return;
    const g = a.type === b.type ? new Gains() : gainsOf.relabel(a.type, b.type, asSubject);
    out.push({
      kind, resource, ...(a.type !== undefined ? { oldType: a.type } : {}), ...(b.type !== undefined ? { newType: b.type } : {}),
      ...(a.by ? { old: a.by } : {}), ...(b.by ? { new: b.by } : {}), gains: g.list.slice(0, LISTED), gainCount: g.count,
    });
  };
  // Initial SIDs: as objects, and as the subjects unlabelled domains run as.
  const sids = new Set([...o.labels, ...w.labels].filter((l) => l.kind === 'sid').map((l) => l.name as string));
  for (const name of [...sids].sort(cmp)) push('sid', `sid ${name}`, sidLabel(o.labels, name), sidLabel(w.labels, name), true);
  // Numbered resources: compared on the pieces both sides' ranges cut the numbers into.
  for (const kind of ['pirqcon', 'iomemcon', 'ioportcon', 'pcidevicecon'] as const) {
    const a = o.labels.filter((l) => l.kind === kind);
    const b = w.labels.filter((l) => l.kind === kind);
    const cuts = [...new Set([...a, ...b].flatMap((l) => [l.low as bigint, (l.high as bigint) + 1n]))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    let run: { low: bigint; high: bigint; a: Label; b: Label } | undefined;
    const flush = (): void => {
      if (run) push(kind, `${RESOURCE_WORD[kind]} ${number(kind, run.low)}${run.high !== run.low ? `-${number(kind, run.high)}` : ''}`, run.a, run.b, false);
      run = undefined;
    };
    for (let i = 0; i + 1 < cuts.length; i++) {
      const low = cuts[i] as bigint;
      const high = (cuts[i + 1] as bigint) - 1n;
      const la = rangeLabel(a, low, o.labels, kind);
      const lb = rangeLabel(b, low, w.labels, kind);
      if (run && run.high + 1n === low && run.a.by === la.by && run.b.by === lb.by) run.high = high;
      else {
        flush();
        run = { low, high, a: la, b: lb };
      }
    }
    flush();
  }
  // Device-tree paths: exact matches.
  const paths = new Set([...o.labels, ...w.labels].filter((l) => l.kind === 'devicetreecon').map((l) => l.name as string));
  for (const path of [...paths].sort(compareCodePoints)) {
    const find = (labels: readonly LabelStatement[]): Label => {
      const s = labels.find((l) => l.kind === 'devicetreecon' && l.name === path);
      return s ? { type: s.type, by: s.written } : sidLabel(labels, FALLBACK.devicetreecon);
    };
    push('devicetreecon', `devicetree "${path}"`, find(o.labels), find(w.labels), false);
  }
  return out;
}

/** First statement whose range holds `n` (security_iomem_sid and its kin walk the list in order), else the initial SID. */
function rangeLabel(statements: readonly LabelStatement[], n: bigint, all: readonly LabelStatement[], kind: Exclude<Kind, 'sid'>): Label {
  const s = statements.find((l) => (l.low as bigint) <= n && n <= (l.high as bigint));
  return s ? { type: s.type, by: s.written } : sidLabel(all, FALLBACK[kind]);
}

/** Gains of a relabelling, once per (old type, new type, position). */
class GainCache {
  private readonly cache = new Map<string, Gains>();

  constructor(private readonly engine: AccessEngine) {}

  relabel(oldType: string | undefined, newType: string | undefined, asSubject: boolean): Gains {
    const key = `${oldType ?? ''}\u0000${newType ?? ''}\u0000${asSubject}`;
    let g = this.cache.get(key);
    if (!g) this.cache.set(key, (g = relabelGains(this.engine, oldType, newType, asSubject)));
    return g;
  }
}

/**
 * What an object (and, for an initial SID, a subject) labelled `newType` in NEW is granted
 * beyond what it was granted as `oldType` in OLD: for every type NEW lets act on `newType`,
 * the permissions NEW grants it there and OLD did not on `oldType`.
 */
function relabelGains(engine: AccessEngine, oldType: string | undefined, newType: string | undefined, asSubject: boolean): Gains {
  const gains = new Gains();
  const u = engine.universe;
  const n = newType === undefined ? undefined : u.index.get(newType);
  if (n === undefined || newType === undefined) return gains;
  const before = oldType === undefined ? undefined : u.index.get(oldType);
  const grantsOld = (s: number | undefined, t: number | undefined, cls: string): Grants => (s === undefined || t === undefined ? NOTHING : engine.grants('old', s, t, cls));
  // A subject permissive in OLD was allowed everything already.
  const wasPermissive = (s: number | undefined): boolean => s !== undefined && (engine.input.permissive?.old.has(s) ?? false);
  // As an object: every subject of a NEW rule that reaches it.
  const subjects = new Map<string, Set<number>>();
  const targets = new Map<string, Set<number>>();
  const into = (m: Map<string, Set<number>>, cls: string, xs: Iterable<number>): void => {
    const set = m.get(cls) ?? new Set<number>();
    for (const x of xs) set.add(x);
    m.set(cls, set);
  };
  for (const r of engine.rules('new')) {
    if (r.targets.set.has(n)) into(subjects, r.cls, r.sources.set);
    else if (r.self && r.sources.set.has(n)) into(subjects, r.cls, [n]);
    if (asSubject && r.sources.set.has(n)) into(targets, r.cls, r.self ? [...r.targets.set, n] : r.targets.set);
  }
  for (const [cls, set] of subjects) {
    for (const [s, times] of representatives(engine, cls, 'source', set, [n, before])) {
      if (wasPermissive(s)) continue;
      const added = AccessEngine.added(grantsOld(s, before, cls), engine.grants('new', s, n, cls));
      if (added.length) gains.add({ subject: u.names[s] as string, object: newType, cls, perms: added }, times);
    }
  }
  for (const [cls, set] of wasPermissive(before) ? [] : targets) {
    for (const [t, times] of representatives(engine, cls, 'target', set, [n, before])) {
      const added = AccessEngine.added(grantsOld(before, t === n ? before : t, cls), engine.grants('new', n, t, cls));
      if (added.length) gains.add({ subject: newType, object: u.names[t] as string, cls, perms: added }, times);
    }
  }
  gains.trim();
  return gains;
}
