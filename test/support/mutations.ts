// Widening mutations of a compiled policy, for the checker's mutation, brute-force and
// minimality tests. Each mutation is a handful of statements that give some declared domain
// more than its declaration: an extra permission, a new attribute carrying one, a relabel
// chain (relabelself + transition, or relabelfrom/relabelto + transition), a grant behind a
// boolean — and the added statements' text, so a test can ask whether a finding cites them.

import fc from 'fast-check';
import type { PolicyModel } from '../../policy/model/model.js';
import { grantingRules } from '../../checker/effective.js';
import { isIntrospection } from '../../checker/permissions.js';
import type { IR } from '../../compiler/ir.js';

export type MutationKind = 'permission' | 'reverse' | 'target-introspects' | 'attribute' | 'relabel-self' | 'relabel-other' | 'boolean';
export const MUTATION_KINDS: readonly MutationKind[] = ['permission', 'reverse', 'target-introspects', 'attribute', 'relabel-self', 'relabel-other', 'boolean'];

export interface Mutation {
  readonly kind: MutationKind;
  readonly statements: readonly string[];
  readonly subject: string;
  readonly object: string;
  readonly cls: string;
  readonly perm: string;
}

export interface MutationChoice {
  readonly kind: MutationKind;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly n: number;
}

export const mutationChoice: fc.Arbitrary<MutationChoice> = fc.record({
  kind: fc.constantFrom(...MUTATION_KINDS),
  a: fc.nat(),
  b: fc.nat(),
  c: fc.nat(),
  n: fc.nat(9999),
});

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length] as T;

function has(model: PolicyModel, s: string, o: string, cls: string, perm: string): boolean {
  const si = model.typeIndex.get(s);
  const oi = model.typeIndex.get(o);
  const ci = model.classIndex.get(cls);
  const pi = ci === undefined ? undefined : model.classes[ci]?.permIndex.get(perm);
  return si !== undefined && oi !== undefined && pi !== undefined && grantingRules(model, si, oi, ci as number, pi).length > 0;
}

function classPerms(model: PolicyModel, filter: (cls: string, perm: string) => boolean = () => true): [string, string][] {
  return model.classes.flatMap((c) => c.perms.filter((p) => filter(c.name, p)).map((p): [string, string] => [c.name, p]));
}

/**
 * Turns a random choice into a concrete widening mutation of this policy, or undefined when
 * the choice would grant nothing new (the permission is already there).
 */
export function concreteMutation(ir: IR, model: PolicyModel, choice: MutationChoice): Mutation | undefined {
  const introspectors = ir.domains.filter((d) => d.role === 'introspector');
  const targets = ir.domains.filter((d) => d.role === 'target');
  const domains = ir.domains;
  const s = pick(introspectors, choice.a);
  const t = pick(targets, choice.a);
  const anyPerm = classPerms(model);
  const introspectionPerms = classPerms(model, isIntrospection);
  const fresh = (subject: string, object: string, cls: string, perm: string, statements: string[], kind: MutationKind): Mutation | undefined =>
    has(model, subject, object, cls, perm) ? undefined : { kind, statements, subject, object, cls, perm };
  switch (choice.kind) {
    case 'permission': {
      const objects = [...domains.flatMap((d) => [d.type, d.self, d.channel]), 'dom0_t', 'xen_t', 'domxen_t', 'security_t'];
      const object = pick(objects, choice.b);
      const [cls, perm] = pick(anyPerm, choice.c);
      return fresh(s.type, object, cls, perm, [`allow ${s.type} ${object}:${cls} ${perm};`], 'permission');
    }
    case 'reverse': {
      const object = pick([s.type, s.self], choice.b);
      const subject = pick([...targets.map((d) => d.type), ...introspectors.filter((d) => d.type !== s.type).map((d) => d.type)], choice.c);
      const [cls, perm] = pick(anyPerm, choice.n);
      return fresh(subject, object, cls, perm, [`allow ${subject} ${object}:${cls} ${perm};`], 'reverse');
    }
    case 'target-introspects': {
      const object = pick([...domains.filter((d) => d.type !== t.type).map((d) => d.type), 'dom0_t'], choice.b);
      const [cls, perm] = pick(introspectionPerms, choice.c);
      return fresh(t.type, object, cls, perm, [`allow ${t.type} ${object}:${cls} ${perm};`], 'target-introspects');
    }
    case 'attribute': {
      const object = pick([...targets.map((d) => d.type), 'dom0_t'], choice.b);
      const [cls, perm] = pick(introspectionPerms, choice.c);
      const attr = `vmi_mut_${choice.n}`;
      return fresh(s.type, object, cls, perm, [`attribute ${attr};`, `typeattribute ${s.type} ${attr};`, `allow ${attr} ${object}:${cls} ${perm};`], 'attribute');
    }
    case 'relabel-self': {
      const subject = pick(domains, choice.b).type;
      const into = pick([...domains.map((d) => d.type), 'dom0_t'].filter((x) => x !== subject), choice.c);
      return fresh(subject, into, 'domain2', 'relabelself', [`allow ${subject} ${into}:domain2 relabelself;`, `allow ${subject} ${into}:domain transition;`], 'relabel-self');
    }
    case 'relabel-other': {
      const into = pick([...domains.map((d) => d.type), 'dom0_t'].filter((x) => x !== s.type), choice.c);
      return fresh(s.type, into, 'domain2', 'relabelto', [`allow ${s.type} ${s.type}:domain2 relabelfrom;`, `allow ${s.type} ${into}:domain2 relabelto;`, `allow ${s.type} ${into}:domain transition;`], 'relabel-other');
    }
    case 'boolean': {
      const object = pick([...domains.map((d) => d.type), 'dom0_t', 'xen_t'], choice.b);
      const [cls, perm] = pick(anyPerm, choice.c);
      const bool = `vmi_mut_${choice.n}`;
      return fresh(s.type, object, cls, perm, [`bool ${bool} ${choice.n % 2 === 0 ? 'true' : 'false'};`, `if (${choice.n % 3 === 0 ? '!' : ''}${bool}) {`, `allow ${s.type} ${object}:${cls} ${perm};`, '}'], 'boolean');
    }
  }
}
