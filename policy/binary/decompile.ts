// A binary policy, written back as the policy.conf statements it holds, so one parser and
// one model builder serve policy.conf, Xen trees and binaries alike. What the binary keeps
// is written as it keeps it:
// - attributes keep their names and members (the type_attr_map); an allow rule on an
//   attribute stays on the attribute, because checkpolicy keeps attributes in AV rules
//   unless the rule's type set has a negation, `*`, `~` or `self` (libsepol expand.c,
//   `expand_rule` and `type_set_expand`: alwaysexpand for type rules and self rules);
//   type_transition/type_member/type_change rules are always per type;
// - rules with the same (source, target, class, kind) are one avtab entry (their
//   permissions OR-ed), so one statement here may stand for several in the source;
// - auditdeny entries hold the permissions still audited: written as `dontaudit` of the rest;
// - neverallow rules are not in a binary (checkpolicy checks them and drops them);
// - the names of initial SIDs are not in a binary either, only their numbers: they are named
//   from the Xen release whose classes and permissions the binary declares (catalog/vocabulary.ts).
//
// Every statement is preceded by a `#line N "FILE#table"` marker (policy/grammar/lines.ts),
// so a rule's provenance is `xenpolicy#avtab:17` — the 17th avtab entry of the file, in file
// order — or `#cond`, `#cond-avtab`, `#types`, `#roles`, `#users`, `#constraints`,
// `#validatetrans`, `#role-transitions`, `#role-allows`, `#initial-sids`, `#ocontexts`:
// the table and the 1-based entry number a reader finds with any policydb dumper.

import { vocabulary, XEN_RELEASES, compareReleases } from '../../catalog/vocabulary.js';
import { AVTAB, CEXPR, COND, type BinaryConstraint, type BinaryContext, type BinaryPolicy, type Level, type Range } from './read.js';

interface Decompiled {
  readonly text: string;
  /** The Xen release whose initial SID names were used (or undefined: numbered names). */
  readonly sidRelease?: string;
}

const CEXPR_OPS: Record<number, string> = { [CEXPR.eq]: '==', [CEXPR.neq]: '!=', [CEXPR.dom]: 'dom', [CEXPR.domby]: 'domby', [CEXPR.incomp]: 'incomp' };
const MLS_OPERANDS: Record<number, readonly [string, string]> = {
  [CEXPR.l1l2]: ['l1', 'l2'], [CEXPR.l1h2]: ['l1', 'h2'], [CEXPR.h1l2]: ['h1', 'l2'],
  [CEXPR.h1h2]: ['h1', 'h2'], [CEXPR.l1h1]: ['l1', 'h1'], [CEXPR.l2h2]: ['l2', 'h2'],
};
const COND_OPS: Record<number, string> = { [COND.or]: '||', [COND.and]: '&&', [COND.xor]: '^', [COND.eq]: '==', [COND.neq]: '!=' };
const DEFAULT_OBJECT = ['', 'source', 'target'];
const DEFAULT_RANGE = ['', 'source low', 'source high', 'source low-high', 'target low', 'target high', 'target low-high', 'glblub'];

export function decompile(p: BinaryPolicy, file: string): Decompiled {
  const out: string[] = [];
  const at = (table: string, n: number): void => {
    out.push(`#line ${n} "${file}#${table}"`);
  };

  const byValue = <T extends { value: number; name: string }>(items: readonly T[]): Map<number, string> => new Map(items.map((i) => [i.value, i.name]));
  const primaryTypes = p.types.filter((t) => t.primary);
  const typeNames = byValue(primaryTypes);
  const roleNames = byValue(p.roles);
  const userNames = byValue(p.users);
  const boolNames = byValue(p.bools);
  const classByValue = new Map(p.classes.map((c) => [c.value, c]));
  const commonPerms = new Map(p.commons.map((m) => [m.name, m.perms.map((x) => x.name)]));
  /** Each class's permissions in bit order: its common's, then its own (values continue). */
  const classPerms = new Map(p.classes.map((c) => [c.value, [...(c.common ? commonPerms.get(c.common) ?? [] : []), ...c.perms.map((x) => x.name)]]));
  const type = (v: number): string => typeNames.get(v) ?? `type${v}`;
  const role = (v: number): string => roleNames.get(v) ?? `role${v}`;
  const cls = (v: number): string => classByValue.get(v)?.name ?? `class${v}`;
  const permsOf = (c: number, bits: number): string[] => (classPerms.get(c) ?? []).filter((_, i) => ((bits >>> i) & 1) === 1);
  const set = (names: readonly string[]): string => (names.length === 1 ? (names[0] as string) : `{ ${wrap(names, ' ')} }`);

  // MLS names.
  const sensNames = new Map<number, string>();
  for (const s of p.sensitivities) if (!s.alias) sensNames.set(s.level.sens, s.name);
  const catNames = new Map<number, string>();
  for (const k of p.categories) if (!k.alias) catNames.set(k.value, k.name);
  const cats = (bits: readonly number[]): string => {
    const parts: string[] = [];
    for (let i = 0; i < bits.length; ) {
      let j = i;
      while (j + 1 < bits.length && (bits[j + 1] as number) === (bits[j] as number) + 1) j++;
      const first = catNames.get((bits[i] as number) + 1) ?? `c${bits[i]}`;
      const last = catNames.get((bits[j] as number) + 1) ?? `c${bits[j]}`;
      parts.push(j === i ? first : j === i + 1 ? `${first},${last}` : `${first}.${last}`);
      i = j + 1;
    }
    return parts.join(',');
  };
  const level = (l: Level): string => `${sensNames.get(l.sens) ?? `s${l.sens}`}${l.cats.length ? `:${cats(l.cats)}` : ''}`;
  const range = (r: Range): string => {
    const low = level(r.low);
    const high = level(r.high);
    return low === high ? low : `${low} - ${high}`;
  };
  const context = (c: BinaryContext): string => `${userNames.get(c.user) ?? `user${c.user}`}:${role(c.role)}:${type(c.type)}${p.mls ? `:${range(c.range)}` : ''}`;

  // ---- classes, initial SIDs, access vectors (checkpolicy's fixed order)
  for (const c of p.classes) {
    at('classes', c.value);
    out.push(`class ${c.name}`);
  }
  const sids = initialSidNames(p);
  at('initial-sids', 1);
  for (const s of sids.names) out.push(`sid ${s}`);
  for (const m of p.commons) {
    at('commons', m.value);
    out.push(`common ${m.name} { ${m.perms.map((x) => x.name).join(' ')} }`);
  }
  for (const c of p.classes) {
    at('classes', c.value);
    const own = c.perms.length ? ` { ${c.perms.map((x) => x.name).join(' ')} }` : '';
    out.push(`class ${c.name}${c.common ? ` inherits ${c.common}` : ''}${own}`);
  }
  for (const c of p.classes) {
    const d = c.defaults;
    if (d.user) { at('classes', c.value); out.push(`default_user ${c.name} ${DEFAULT_OBJECT[d.user]};`); }
    if (d.role) { at('classes', c.value); out.push(`default_role ${c.name} ${DEFAULT_OBJECT[d.role]};`); }
    if (d.type) { at('classes', c.value); out.push(`default_type ${c.name} ${DEFAULT_OBJECT[d.type]};`); }
    if (d.range) { at('classes', c.value); out.push(`default_range ${c.name} ${DEFAULT_RANGE[d.range]};`); }
  }

  // Constraints, numbered class by class in the binary's order; checkpolicy's grammar puts
  // mlsconstrain and mlsvalidatetrans in the MLS section, the others after the users.
  const names = (attr: number, bits: readonly number[]): string[] => {
    const kind = attr & (CEXPR.user | CEXPR.role | CEXPR.type);
    const name = kind === CEXPR.user ? (v: number) => userNames.get(v) ?? `user${v}` : kind === CEXPR.role ? role : type;
    return bits.map((b) => name(b + 1));
  };
  const constraints: { table: string; n: number; mls: boolean; text: string }[] = [];
  for (const [table, validate] of [['constraints', false], ['validatetrans', true]] as const) {
    let n = 0;
    for (const c of p.classes) {
      for (const k of validate ? c.validatetrans : c.constraints) {
        const { text, mls } = constraintExpr(k, names);
        const keyword = `${mls ? 'mls' : ''}${validate ? 'validatetrans' : 'constrain'}`;
        constraints.push({ table, n: ++n, mls, text: validate ? `${keyword} ${c.name} ${text};` : `${keyword} ${c.name} ${set(permsOf(c.value, k.perms))} ${text};` });
      }
    }
  }

  // ---- MLS: sensitivities (with aliases), dominance, categories, levels
  if (p.mls) {
    const primarySens = p.sensitivities.filter((s) => !s.alias).sort((a, b) => a.level.sens - b.level.sens);
    for (const s of primarySens) {
      const aliases = p.sensitivities.filter((x) => x.alias && x.level.sens === s.level.sens).map((x) => x.name);
      at('sensitivities', s.level.sens);
      out.push(`sensitivity ${s.name}${aliases.length ? ` alias ${set(aliases)}` : ''};`);
    }
    at('sensitivities', 1);
    out.push(`dominance { ${primarySens.map((s) => s.name).join(' ')} }`);
    for (const k of p.categories.filter((x) => !x.alias).sort((a, b) => a.value - b.value)) {
      const aliases = p.categories.filter((x) => x.alias && x.value === k.value).map((x) => x.name);
      at('categories', k.value);
      out.push(`category ${k.name}${aliases.length ? ` alias ${set(aliases)}` : ''};`);
    }
    for (const s of primarySens) {
      at('sensitivities', s.level.sens);
      out.push(`level ${level(s.level)};`);
    }
    for (const k of constraints) if (k.mls) { at(k.table, k.n); out.push(k.text); }
  }

  // ---- types and attributes, booleans, bounds, permissive
  for (const t of primaryTypes.filter((x) => x.attribute)) {
    at('types', t.value);
    out.push(`attribute ${t.name};`);
  }
  const aliasesOf = new Map<number, string[]>();
  for (const a of p.types) if (!a.primary) aliasesOf.set(a.value, [...(aliasesOf.get(a.value) ?? []), a.name]);
  for (const t of primaryTypes.filter((x) => !x.attribute)) {
    const aliases = aliasesOf.get(t.value) ?? [];
    const attributes = (p.typeAttributes[t.value - 1] ?? []).map((a) => type(a + 1));
    at('types', t.value);
    out.push(`type ${t.name}${aliases.length ? ` alias ${set(aliases)}` : ''}${attributes.length ? `, ${wrap(attributes, ', ')}` : ''};`);
  }
  for (const b of p.bools) {
    at('booleans', b.value);
    out.push(`bool ${b.name} ${b.state ? 'true' : 'false'};`);
  }
  for (const t of primaryTypes) {
    if (!t.bounds) continue;
    at('types', t.value);
    out.push(`typebounds ${type(t.bounds)} ${t.name};`);
  }
  for (const v of p.permissive) {
    at('types', v);
    out.push(`permissive ${type(v)};`);
  }

  // ---- the avtab, then the conditionals
  const rule = (e: BinaryPolicy['avtab'][number]): string | undefined => {
    const kind = e.specified & ~AVTAB.enabled;
    const head = `${type(e.source)} ${type(e.target)}:${cls(e.cls)}`;
    switch (kind) {
      case AVTAB.allowed:
      case AVTAB.auditallow: {
        const perms = permsOf(e.cls, e.data);
        return perms.length ? `${kind === AVTAB.allowed ? 'allow' : 'auditallow'} ${head} ${set(perms)};` : undefined;
      }
      case AVTAB.auditdeny: {
        const perms = permsOf(e.cls, ~e.data);
        return perms.length ? `dontaudit ${head} ${set(perms)};` : undefined;
      }
      case AVTAB.transition: return `type_transition ${head} ${type(e.data)};`;
      case AVTAB.member: return `type_member ${head} ${type(e.data)};`;
      default: return `type_change ${head} ${type(e.data)};`;
    }
  };
  p.avtab.forEach((e, i) => {
    const text = rule(e);
    if (!text) return;
    at('avtab', i + 1);
    out.push(text);
  });
  let condRule = 0;
  p.conditionals.forEach((node, i) => {
    at('cond', i + 1);
    out.push(`if (${condExpr(node.expr, (v) => boolNames.get(v) ?? `bool${v}`)}) {`);
    const branch = (entries: typeof node.whenTrue): void => {
      for (const e of entries) {
        condRule++;
        const text = rule(e);
        if (!text) continue;
        at('cond-avtab', condRule);
        out.push(text);
      }
    };
    branch(node.whenTrue);
    out.push('} else {');
    branch(node.whenFalse);
    out.push('}');
  });

  // ---- roles, role allow, role transitions, range transitions
  for (const r of p.roles) {
    if (r.name === 'object_r') continue;
    at('roles', r.value);
    const types = r.types.map((t) => type(t + 1));
    out.push(types.length ? `role ${r.name} types ${set(types)};` : `role ${r.name};`);
  }
  p.roleAllows.forEach((a, i) => {
    at('role-allows', i + 1);
    out.push(`allow ${role(a.role)} ${role(a.newRole)};`);
  });
  p.roleTransitions.forEach((t, i) => {
    at('role-transitions', i + 1);
    out.push(`role_transition ${role(t.role)} ${type(t.type)}${t.cls ? `:${cls(t.cls)}` : ''} ${role(t.newRole)};`);
  });
  p.filenameTransitions.forEach((t, i) => {
    at('filename-transitions', i + 1);
    out.push(`type_transition ${type(t.source)} ${type(t.target)}:${cls(t.cls)} ${type(t.result)} "${t.name}";`);
  });
  p.rangeTransitions.forEach((t, i) => {
    at('range-transitions', i + 1);
    out.push(`range_transition ${type(t.source)} ${type(t.target)}:${cls(t.cls)} ${range(t.range)};`);
  });

  // ---- users
  for (const u of p.users) {
    at('users', u.value);
    const roles = u.roles.map((r) => role(r + 1));
    out.push(`user ${u.name} roles ${set(roles.length ? roles : ['object_r'])}${p.mls ? ` level ${level(u.defaultLevel)} range ${range(u.range)}` : ''};`);
  }

  // ---- constraints and validatetrans (the MLS ones went into the MLS section above)
  for (const k of constraints) if (!k.mls) { at(k.table, k.n); out.push(k.text); }

  // ---- initial SID contexts, then Xen's device labels
  p.initialSids.forEach((o, i) => {
    at('initial-sids', i + 1);
    out.push(`sid ${sids.nameOf(o.key)} ${context(o.context)}`);
  });
  let nOcon = 0;
  for (const o of p.pirqs) { at('ocontexts', ++nOcon); out.push(`pirqcon ${o.key} ${context(o.context)}`); }
  for (const o of p.ioports) { at('ocontexts', ++nOcon); out.push(`ioportcon ${hexRange(BigInt(o.key[0]), BigInt(o.key[1]))} ${context(o.context)}`); }
  for (const o of p.iomems) { at('ocontexts', ++nOcon); out.push(`iomemcon ${hexRange(o.key[0], o.key[1])} ${context(o.context)}`); }
  for (const o of p.pciDevices) { at('ocontexts', ++nOcon); out.push(`pcidevicecon 0x${o.key.toString(16)} ${context(o.context)}`); }
  for (const o of p.deviceTrees) { at('ocontexts', ++nOcon); out.push(`devicetreecon "${o.key}" ${context(o.context)}`); }
  return { text: `${out.join('\n')}\n`, ...(sids.release ? { sidRelease: sids.release } : {}) };
}

/**
 * Names joined by `separator`, broken into lines well under the 8 KiB line checkpolicy's
 * scanner (and so our parser, VP3001) accepts: a role of a large host holds thousands of types.
 */
function wrap(names: readonly string[], separator: string): string {
  const lines: string[] = [];
  let line = '';
  for (const n of names) {
    if (line && line.length + n.length > 2048) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line}${separator}${n}` : n;
  }
  lines.push(line);
  return lines.join(`${separator.trimEnd()}\n  `);
}

function hexRange(lo: bigint, hi: bigint): string {
  return lo === hi ? `0x${lo.toString(16)}` : `0x${lo.toString(16)}-0x${hi.toString(16)}`;
}

/** Reverse Polish → infix, fully parenthesised. The reader has checked the stack discipline. */
function condExpr(expr: readonly (readonly [number, number])[], bool: (v: number) => string): string {
  const stack: string[] = [];
  for (const [kind, b] of expr) {
    if (kind === COND.bool) stack.push(bool(b));
    else if (kind === COND.not) stack.push(`! (${stack.pop()})`);
    else {
      const right = stack.pop();
      const left = stack.pop();
      stack.push(`(${left} ${COND_OPS[kind]} ${right})`);
    }
  }
  return stack.pop() ?? '';
}

function constraintExpr(k: BinaryConstraint, names: (attr: number, bits: readonly number[]) => string[]): { text: string; mls: boolean } {
  const stack: string[] = [];
  let mls = false;
  for (const n of k.expr) {
    if (n.type === CEXPR.not) stack.push(`not (${stack.pop()})`);
    else if (n.type === CEXPR.and || n.type === CEXPR.or) {
      const right = stack.pop();
      const left = stack.pop();
      stack.push(`(${left} ${n.type === CEXPR.and ? 'and' : 'or'} ${right})`);
    } else {
      const op = CEXPR_OPS[n.op] as string;
      const operand = n.attr & ~(CEXPR.target | CEXPR.xtarget);
      const mlsOperands = MLS_OPERANDS[operand];
      if (mlsOperands) {
        mls = true;
        stack.push(`(${mlsOperands[0]} ${op} ${mlsOperands[1]})`);
        continue;
      }
      const letter = operand === CEXPR.user ? 'u' : operand === CEXPR.role ? 'r' : 't';
      if (n.type === CEXPR.attr) {
        stack.push(`(${letter}1 ${op} ${letter}2)`);
        continue;
      }
      const which = n.attr & CEXPR.xtarget ? 3 : n.attr & CEXPR.target ? 2 : 1;
      const listed = names(n.attr, n.names ?? []);
      // An empty set (an attribute with no members when it was compiled) matches nothing:
      // `x == {}` is false and `x != {}` true, written with the operand compared to itself.
      if (listed.length === 0) stack.push(op === '!=' ? `not (${letter}1 != ${letter}1)` : `(${letter}1 != ${letter}1)`);
      else stack.push(`(${letter}${which} ${op} ${listed.length === 1 ? listed[0] : `{ ${wrap(listed, ' ')} }`})`);
    }
  }
  return { text: stack.pop() ?? '', mls };
}

/**
 * The names of the initial SIDs, which a binary keeps only as numbers (checkpolicy numbers
 * them 1… in `sid` declaration order, and Xen's policy declares them in the order of its
 * xen/xsm/flask/policy/initial_sids, which the hypervisor's SECINITSID_* follow). The list is
 * the newest release's whose classes and permissions are exactly the binary's and whose
 * length is the highest SID labelled; failing that, one at least that long (of the same
 * vocabulary, then of any release); failing that, `sidN`.
 */
function initialSidNames(p: BinaryPolicy): { names: readonly string[]; nameOf: (n: number) => string; release?: string } {
  const highest = Math.max(0, ...p.initialSids.map((o) => o.key));
  const commonPerms = new Map(p.commons.map((m) => [m.name, m.perms.map((x) => x.name)]));
  const canonical = (avs: readonly (readonly [string, readonly string[]])[]): string => JSON.stringify([...avs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  const declared = canonical(p.classes.map((c) => [c.name, [...(c.common ? commonPerms.get(c.common) ?? [] : []), ...c.perms.map((x) => x.name)]] as const));
  const newestFirst = [...XEN_RELEASES].sort((a, b) => compareReleases(b, a));
  const sidCount = (r: string): number => vocabulary(r).initialSids.length;
  const sameVocabulary = (r: string): boolean => canonical(vocabulary(r).accessVectors) === declared;
  // Stock policies label every SID, so the list whose length is the highest SID is the one
  // (a longer list may have gained a SID in front: xenboot, numbered 1 from 4.17 on).
  const release = newestFirst.find((r) => sameVocabulary(r) && sidCount(r) === highest)
    ?? newestFirst.find((r) => sameVocabulary(r) && sidCount(r) >= highest)
    ?? newestFirst.find((r) => sidCount(r) === highest)
    ?? newestFirst.find((r) => sidCount(r) >= highest);
  const listed = release ? vocabulary(release).initialSids : [];
  const names = Array.from({ length: Math.max(highest, listed.length) }, (_, i) => listed[i] ?? `sid${i + 1}`);
  return { names, nameOf: (n) => names[n - 1] ?? `sid${n}`, ...(release ? { release } : {}) };
}
