// PolicyAst → PolicyModel. Two passes, as checkpolicy does: declarations first (classes,
// commons, types, attributes, typeattribute, booleans), then everything that refers to them
// (rules, roles, users, constraints, SID labels). Names that do not resolve are reported with
// their position, as checkpolicy would refuse them; the model is still built from the rest.

import type { AvRule, Conditional, NameSet, PolicyAst, RoleTransition, Statement, TypeRule } from '../../grammar/ast.js';
import { diagnostic, type Diagnostic } from '../../grammar/diagnostics.js';
import { BitSet, compact, SmallSet, type IndexSet } from './bitset.js';
import type { ClassInfo, Guard, ModelAvRule, ModelConstraint, ModelRoleTransition, ModelTypeRule, PolicyModel, Provenance } from './model.js';

/** Offsets → original file and line (grammar/lines.ts LineMap.locate). */
export type Locate = (offset: number) => Provenance;

interface Tables {
  readonly classIndex: Map<string, number>;
  readonly classes: ClassInfo[];
  readonly typeIndex: Map<string, number>;
  readonly aliases: Map<string, number>;
  readonly types: string[];
  readonly attributeIndex: Map<string, number>;
  readonly attributes: string[];
  readonly members: BitSet[];
}

export function buildModel(ast: PolicyAst, locate: Locate): { model: PolicyModel; diagnostics: Diagnostic[] } {
  const d: Diagnostic[] = [];
  const span = (s: { span: { start: number; end: number } }) => ({ file: ast.file, start: s.span.start, end: s.span.end });

  // ---- pass 1: declarations
  const classOrder: string[] = [];
  const commons = new Map<string, string[]>();
  const classPerms = new Map<string, string[]>();
  const initialSids: string[] = [];
  const typeIndex = new Map<string, number>();
  const aliases = new Map<string, number>();
  const types: string[] = [];
  const attributeIndex = new Map<string, number>();
  const attributes: string[] = [];
  const typeAttrNames: string[][] = [];
  const booleans = new Map<string, boolean>();
  const roleAttributes = new Map<string, Set<string>>();
  const declared = (name: string): boolean => typeIndex.has(name) || aliases.has(name) || attributeIndex.has(name);

  const flat: { s: Statement; guard?: Guard }[] = [];
  for (const s of ast.statements) {
    if (s.kind === 'if') flat.push(...conditionalRules(s));
    else flat.push({ s });
  }

  for (const { s } of flat) {
    switch (s.kind) {
      case 'class-decl': classOrder.push(s.name.name); break;
      case 'sid-decl': initialSids.push(s.name.name); break;
      case 'common': commons.set(s.name.name, s.perms.map((p) => p.name)); break;
      case 'access-vector': {
        const inherited = s.inherits ? commons.get(s.inherits.name) : [];
        if (s.inherits && !inherited) d.push(diagnostic('ModelUnknownCommon', [s.inherits.name], span(s.inherits)));
        classPerms.set(s.cls.name, [...(inherited ?? []), ...s.perms.map((p) => p.name)]);
        break;
      }
      case 'attribute':
        if (declared(s.name.name)) d.push(diagnostic('ModelDuplicateDeclaration', ['attribute', s.name.name], span(s.name)));
        else {
          attributeIndex.set(s.name.name, attributes.length);
          attributes.push(s.name.name);
        }
        break;
      case 'type':
        if (declared(s.name.name)) d.push(diagnostic('ModelDuplicateDeclaration', ['type', s.name.name], span(s.name)));
        else {
          typeIndex.set(s.name.name, types.length);
          types.push(s.name.name);
          typeAttrNames.push(s.attributes.map((a) => a.name));
          for (const a of s.aliases) aliases.set(a.name, types.length - 1);
        }
        break;
      case 'typealias': {
        const t = typeIndex.get(s.type.name);
        if (t === undefined) d.push(diagnostic('ModelUnknownType', [s.type.name], span(s.type)));
        else for (const a of s.aliases) aliases.set(a.name, t);
        break;
      }
      case 'bool': booleans.set(s.name.name, s.value); break;
      case 'attribute_role': roleAttributes.set(s.name.name, new Set()); break;
      default: break;
    }
  }
  const classes: ClassInfo[] = classOrder.map((name, index) => {
    const perms = classPerms.get(name) ?? [];
    return { name, index, perms, permIndex: new Map(perms.map((p, i) => [p, i])) };
  });
  const classIndex = new Map(classes.map((c) => [c.name, c.index]));

  // Attribute membership: from `type t, a;` and `typeattribute t a;`, both directions.
  const members = attributes.map(() => new BitSet(types.length));
  const typeAttributes: number[][] = types.map(() => []);
  const join = (t: number, attrName: string, at: { span: { start: number; end: number } }): void => {
    const a = attributeIndex.get(attrName);
    if (a === undefined) {
      d.push(diagnostic('ModelUnknownType', [attrName], span(at)));
      return;
    }
    if (!(members[a] as BitSet).has(t)) {
      (members[a] as BitSet).add(t);
      (typeAttributes[t] as number[]).push(a);
    }
  };
  for (const { s } of flat) {
    if (s.kind === 'type') {
      const t = typeIndex.get(s.name.name);
      if (t !== undefined && types[t] === s.name.name) for (const a of s.attributes) join(t, a.name, a);
    } else if (s.kind === 'typeattribute') {
      const t = typeIndex.get(s.type.name) ?? aliases.get(s.type.name);
      if (t === undefined) d.push(diagnostic('ModelUnknownType', [s.type.name], span(s.type)));
      else for (const a of s.attributes) join(t, a.name, a);
    }
  }
  const tables: Tables = { classIndex, classes, typeIndex, aliases, types, attributeIndex, attributes, members };

  // ---- pass 2: everything that refers to declarations
  const avRules: ModelAvRule[] = [];
  const typeRules: ModelTypeRule[] = [];
  const roles = new Map<string, BitSet>();
  const users = new Map<string, Set<string>>();
  const constraints: ModelConstraint[] = [];
  const sidTypes = new Map<string, string>();
  const at = (s: { span: { start: number } }): Provenance => locate(s.span.start);
  const permissive = new Set<number>();
  const permissiveAt = new Map<number, Provenance[]>();
  const typebounds = new Map<number, number>();
  /** role attribute → the types `role ra types …;` gives it, handed to its members below. */
  const roleAttributeTypes = new Map<string, BitSet>();
  const roleTransitions: RoleTransition[] = [];
  const typeOf = (n: { name: string; span: { start: number; end: number } }): number | undefined => {
    const t = typeIndex.get(n.name) ?? aliases.get(n.name);
    if (t === undefined) d.push(diagnostic('ModelUnknownType', [n.name], span(n)));
    return t;
  };
  const joinRole = (role: string, attribute: { name: string; span: { start: number; end: number } }): void => {
    const members = roleAttributes.get(attribute.name);
    if (members) members.add(role);
    else d.push(diagnostic('ModelUnknownRole', [attribute.name], span(attribute)));
  };

  for (const { s, guard } of flat) {
    switch (s.kind) {
      case 'allow':
      case 'auditallow':
      case 'dontaudit':
      case 'neverallow': {
        const src = resolveTypes(s.sources, tables, d, ast.file, false);
        const tgt = resolveTypes(s.targets, tables, d, ast.file, true);
        const classesOf = resolveClasses(s.classes, tables, d, ast.file);
        avRules.push({ kind: s.kind, sources: src.set, targets: tgt.set, self: tgt.self, perms: resolvePerms(classesOf, s.perms, tables, d, ast.file), ...(guard ? { guard } : {}), statement: s as AvRule, at: at(s) });
        break;
      }
      case 'type_transition':
      case 'type_change':
      case 'type_member': {
        const src = resolveTypes(s.sources, tables, d, ast.file, false);
        const tgt = resolveTypes(s.targets, tables, d, ast.file, true);
        const result = typeIndex.get(s.result.name) ?? aliases.get(s.result.name);
        if (result === undefined) {
          d.push(diagnostic('ModelUnknownType', [s.result.name], span(s.result)));
          break;
        }
        typeRules.push({
          kind: s.kind, sources: src.set, targets: tgt.set, self: tgt.self, classes: resolveClasses(s.classes, tables, d, ast.file), result,
          ...(s.objectName !== undefined ? { objectName: s.objectName } : {}), ...(guard ? { guard } : {}), statement: s as TypeRule, at: at(s),
        });
        break;
      }
      case 'role': {
        const attribute = roleAttributes.has(s.name.name);
        const set = (attribute ? roleAttributeTypes.get(s.name.name) : roles.get(s.name.name)) ?? new BitSet(types.length);
        if (s.types) for (const t of resolveTypes(s.types, tables, d, ast.file, false).set) set.add(t);
        (attribute ? roleAttributeTypes : roles).set(s.name.name, set);
        for (const a of s.attributes ?? []) joinRole(s.name.name, a);
        break;
      }
      case 'roleattribute':
        if (!roles.has(s.role.name)) d.push(diagnostic('ModelUnknownRole', [s.role.name], span(s.role)));
        for (const a of s.attributes) joinRole(s.role.name, a);
        break;
      case 'role_transition':
        roleTransitions.push(s);
        break;
      case 'permissive': {
        const t = typeOf(s.type);
        if (t !== undefined) {
          permissive.add(t);
          permissiveAt.set(t, [...(permissiveAt.get(t) ?? []), at(s)]);
        }
        break;
      }
      case 'typebounds': {
        const parent = typeOf(s.bounding);
        for (const child of s.bounded) {
          const c = typeOf(child);
          if (parent !== undefined && c !== undefined) typebounds.set(c, parent);
        }
        break;
      }
      case 'user': {
        const set = users.get(s.name.name) ?? new Set<string>();
        for (const r of s.roles.names) {
          if (!r.excluded) set.add(r.name);
        }
        users.set(s.name.name, set);
        break;
      }
      case 'constrain':
      case 'mlsconstrain': {
        const cls = resolveClasses(s.classes, tables, d, ast.file);
        constraints.push({ kind: s.kind, classes: cls, perms: resolvePerms(cls, s.perms, tables, d, ast.file), expr: s.expr, at: at(s) });
        break;
      }
      case 'validatetrans':
      case 'mlsvalidatetrans':
        constraints.push({ kind: s.kind, classes: resolveClasses(s.classes, tables, d, ast.file), perms: new Map(), expr: s.expr, at: at(s) });
        break;
      case 'sid-context':
        sidTypes.set(s.name.name, s.context.type.name);
        break;
      default:
        break;
    }
  }
  // Role attributes: their types go to every member role; users and role_transitions
  // naming an attribute mean its members.
  for (const [attribute, set] of roleAttributeTypes) {
    for (const member of roleAttributes.get(attribute) ?? []) roles.get(member)?.addAll(set);
  }
  for (const rs of users.values()) {
    for (const r of [...rs]) {
      const members = roleAttributes.get(r);
      if (!members) continue;
      rs.delete(r);
      for (const m of members) rs.add(m);
    }
  }
  const modelRoleTransitions: ModelRoleTransition[] = roleTransitions.map((s) => ({
    roles: resolveRoles(s.roles, roles, roleAttributes, d, ast.file),
    types: resolveTypes(s.types, tables, d, ast.file, false).set,
    classes: s.classes ? resolveClasses(s.classes, tables, d, ast.file) : [],
    result: s.result.name,
    statement: s,
    at: at(s),
  }));
  for (const s of roleTransitions) {
    if (!roles.has(s.result.name)) d.push(diagnostic('ModelUnknownRole', [s.result.name], span(s.result)));
  }
  for (const [user, rs] of users) {
    for (const r of rs) {
      if (r !== 'object_r' && !roles.has(r)) {
        const stmt = flat.find(({ s }) => s.kind === 'user' && s.name.name === user)?.s;
        d.push(diagnostic('ModelUnknownRole', [r], stmt ? span(stmt) : undefined));
      }
    }
  }

  const model: PolicyModel = {
    classes, classIndex, commons, initialSids, types, typeIndex, aliases, attributes, attributeIndex,
    attributeMembers: members, typeAttributes, booleans, avRules, typeRules,
    roles: new Map([...roles].map(([r, set]) => [r, compact(set)])), roleAttributes, roleTransitions: modelRoleTransitions,
    permissive, permissiveAt, typebounds, users, constraints, sidTypes,
  };
  return { model, diagnostics: d };
}

function conditionalRules(c: Conditional): { s: Statement; guard: Guard }[] {
  return [
    ...c.then.map((s) => ({ s: s as Statement, guard: { expr: c.condition, branch: true } })),
    ...c.else.map((s) => ({ s: s as Statement, guard: { expr: c.condition, branch: false } })),
  ];
}

/**
 * A type set: names of types, aliases or attributes, `*`, `~`, `-exclusions`, and `self`
 * (allowed in targets only). Single attributes reuse the attribute's member set.
 */
function resolveTypes(set: NameSet, t: Tables, d: Diagnostic[], file: string, allowSelf: boolean): { set: IndexSet; self: boolean } {
  const included = set.names.filter((n) => !n.excluded);
  const self = allowSelf && included.some((n) => n.name === 'self');
  const positive = included.filter((n) => !(allowSelf && n.name === 'self'));
  const simple = !set.star && !set.complement && set.names.every((n) => !n.excluded);
  // Fast paths: one attribute (shared member set) or a few plain types.
  if (simple && positive.length === 1 && t.attributeIndex.has((positive[0] as { name: string }).name)) {
    return { set: t.members[t.attributeIndex.get((positive[0] as { name: string }).name) as number] as BitSet, self };
  }
  if (simple && positive.every((n) => t.typeIndex.has(n.name) || t.aliases.has(n.name))) {
    return { set: SmallSet.of(positive.map((n) => (t.typeIndex.get(n.name) ?? t.aliases.get(n.name)) as number)), self };
  }
  let bits = new BitSet(t.types.length);
  const apply = (name: string, at: { span: { start: number; end: number } }, add: boolean): void => {
    const ti = t.typeIndex.get(name) ?? t.aliases.get(name);
    const ai = t.attributeIndex.get(name);
    if (ti !== undefined) (add ? bits.add(ti) : bits.delete(ti));
    else if (ai !== undefined) (add ? bits.addAll(t.members[ai] as BitSet) : bits.removeAll(t.members[ai] as BitSet));
    else d.push(diagnostic('ModelUnknownType', [name], { file, start: at.span.start, end: at.span.end }));
  };
  if (set.star) bits = new BitSet(t.types.length).complement();
  for (const n of positive) apply(n.name, n, true);
  for (const n of set.names.filter((x) => x.excluded)) apply(n.name, n, false);
  if (set.complement) bits = bits.complement();
  return { set: compact(bits), self };
}

/** A role set: roles and role attributes (their members), `*`, `~`, `-exclusions`. */
function resolveRoles(set: NameSet, roles: ReadonlyMap<string, unknown>, attributes: ReadonlyMap<string, ReadonlySet<string>>, d: Diagnostic[], file: string): string[] {
  const chosen = new Set<string>(set.star ? roles.keys() : []);
  const expand = (n: { name: string; span: { start: number; end: number } }): string[] => {
    const members = attributes.get(n.name);
    if (members) return [...members];
    if (roles.has(n.name)) return [n.name];
    d.push(diagnostic('ModelUnknownRole', [n.name], { file, start: n.span.start, end: n.span.end }));
    return [];
  };
  for (const n of set.names) if (!n.excluded) for (const r of expand(n)) chosen.add(r);
  for (const n of set.names) if (n.excluded) for (const r of expand(n)) chosen.delete(r);
  const out = set.complement ? [...roles.keys()].filter((r) => !chosen.has(r)) : [...chosen];
  return out.sort();
}

function resolveClasses(set: NameSet, t: Tables, d: Diagnostic[], file: string): number[] {
  if (set.star) return t.classes.map((c) => c.index);
  const chosen = new Set<number>();
  for (const n of set.names) {
    const c = t.classIndex.get(n.name);
    if (c === undefined) d.push(diagnostic('ModelUnknownClass', [n.name], { file, start: n.span.start, end: n.span.end }));
    else if (!n.excluded) chosen.add(c);
  }
  for (const n of set.names.filter((x) => x.excluded)) {
    const c = t.classIndex.get(n.name);
    if (c !== undefined) chosen.delete(c);
  }
  const out = set.complement ? t.classes.map((c) => c.index).filter((c) => !chosen.has(c)) : [...chosen];
  return out.sort((a, b) => a - b);
}

/** Permission names apply to each listed class that has them; a name no class has is an error. */
function resolvePerms(classes: readonly number[], set: NameSet, t: Tables, d: Diagnostic[], file: string): Map<number, BitSet> {
  const out = new Map<number, BitSet>();
  for (const ci of classes) {
    const info = t.classes[ci] as ClassInfo;
    let bits = new BitSet(info.perms.length);
    if (set.star) bits = bits.complement();
    for (const n of set.names) {
      const p = info.permIndex.get(n.name);
      if (p !== undefined) (n.excluded ? bits.delete(p) : bits.add(p));
    }
    if (set.complement) bits = bits.complement();
    out.set(ci, bits);
  }
  for (const n of set.names) {
    if (!classes.some((ci) => (t.classes[ci] as ClassInfo).permIndex.has(n.name))) {
      d.push(diagnostic('ModelUnknownPermission', [n.name, classes.map((ci) => (t.classes[ci] as ClassInfo).name).join(', ') || '?'], { file, start: n.span.start, end: n.span.end }));
    }
  }
  return out;
}
