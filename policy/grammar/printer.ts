// AST → canonical policy text that checkpolicy compiles to the same policy: one statement
// per line, sets in braces with single spaces, the statements in their original order (the
// policy language is sectioned, so order is meaning). Comments and #line markers are not
// kept: the printout is for machines and diffs, the source stays the source.

import type { BoolExpr, ConstraintExpr, Context, Name, NameSet, PolicyAst, Statement } from './ast.js';

const names = (xs: readonly Name[]): string => xs.map((x) => x.name).join(' ');

function printNameSet(s: NameSet): string {
  if (s.star) return s.complement ? '~*' : '*';
  const items = s.names.map((n) => (n.excluded ? `-${n.name}` : n.name));
  const body = items.length === 1 && !s.complement ? (items[0] as string) : `{ ${items.join(' ')} }`;
  return s.complement ? `~${body}` : body;
}

function printContext(c: Context): string {
  return `${c.user.name}:${c.role.name}:${c.type.name}${c.range !== undefined ? `:${c.range}` : ''}`;
}

function quote(s: string): string {
  return `"${s}"`;
}

export function printConstraint(e: ConstraintExpr): string {
  switch (e.op) {
    case 'not':
      return `not (${printConstraint(e.operand)})`;
    case 'and':
    case 'or':
      return `(${printConstraint(e.left)} ${e.op} ${printConstraint(e.right)})`;
    default:
      return `${e.left} ${e.op} ${typeof e.right === 'string' ? e.right : printNameSet(e.right)}`;
  }
}

/**
 * Fully parenthesised. In checkpolicy's grammar `!` binds more loosely than `==` and `!=`
 * (`!a == b` is `!(a == b)`), so a negation that is an operand gets its own parentheses.
 */
export function printBoolExpr(e: BoolExpr): string {
  const operand = (x: BoolExpr): string => (x.op === 'not' ? `(${printBoolExpr(x)})` : printBoolExpr(x));
  switch (e.op) {
    case 'var':
      return e.name.name;
    case 'not':
      return `!(${printBoolExpr(e.operand)})`;
    default:
      return `(${operand(e.left)} ${e.op} ${operand(e.right)})`;
  }
}

export function printStatement(s: Statement, indent = ''): string[] {
  switch (s.kind) {
    case 'class-decl': return [`${indent}class ${s.name.name}`];
    case 'sid-decl': return [`${indent}sid ${s.name.name}`];
    case 'common': return [`${indent}common ${s.name.name} { ${names(s.perms)} }`];
    case 'access-vector': {
      const inherits = s.inherits ? ` inherits ${s.inherits.name}` : '';
      const perms = s.perms.length ? ` { ${names(s.perms)} }` : '';
      return [`${indent}class ${s.cls.name}${inherits}${perms}`];
    }
    case 'policycap': return [`${indent}policycap ${s.name.name};`];
    case 'sensitivity': return [`${indent}sensitivity ${s.name.name}${s.aliases.length ? ` alias { ${names(s.aliases)} }` : ''};`];
    case 'dominance': return [`${indent}dominance { ${names(s.order)} }`];
    case 'category': return [`${indent}category ${s.name.name}${s.aliases.length ? ` alias { ${names(s.aliases)} }` : ''};`];
    case 'level': return [`${indent}level ${s.level};`];
    case 'attribute': return [`${indent}attribute ${s.name.name};`];
    case 'type': {
      const aliases = s.aliases.length ? ` alias { ${names(s.aliases)} }` : '';
      const attrs = s.attributes.map((a) => `, ${a.name}`).join('');
      return [`${indent}type ${s.name.name}${aliases}${attrs};`];
    }
    case 'typeattribute': return [`${indent}typeattribute ${s.type.name} ${s.attributes.map((a) => a.name).join(', ')};`];
    case 'typealias': return [`${indent}typealias ${s.type.name} alias { ${names(s.aliases)} };`];
    case 'bool': return [`${indent}bool ${s.name.name} ${s.value};`];
    case 'allow':
    case 'auditallow':
    case 'dontaudit':
    case 'neverallow':
    case 'auditdeny':
      return [`${indent}${s.kind} ${printNameSet(s.sources)} ${printNameSet(s.targets)}:${printNameSet(s.classes)} ${printNameSet(s.perms)};`];
    case 'type_transition':
    case 'type_change':
    case 'type_member':
      return [`${indent}${s.kind} ${printNameSet(s.sources)} ${printNameSet(s.targets)}:${printNameSet(s.classes)} ${s.result.name}${s.objectName !== undefined ? ` ${quote(s.objectName)}` : ''};`];
    case 'role': {
      const attrs = s.attributes ? s.attributes.map((a) => `, ${a.name}`).join('') : '';
      return [`${indent}role ${s.name.name}${s.types ? ` types ${printNameSet(s.types)}` : ''}${attrs};`];
    }
    case 'role-allow': return [`${indent}allow ${printNameSet(s.sources)} ${printNameSet(s.targets)};`];
    case 'role_transition': {
      const classes = s.classes ? `:${printNameSet(s.classes)}` : '';
      return [`${indent}role_transition ${printNameSet(s.roles)} ${printNameSet(s.types)}${classes} ${s.result.name};`];
    }
    case 'attribute_role': return [`${indent}attribute_role ${s.name.name};`];
    case 'roleattribute': return [`${indent}roleattribute ${s.role.name} ${s.attributes.map((a) => a.name).join(', ')};`];
    case 'typebounds': return [`${indent}typebounds ${s.bounding.name} ${s.bounded.map((t) => t.name).join(', ')};`];
    case 'permissive': return [`${indent}permissive ${s.type.name};`];
    case 'expandattribute': return [`${indent}expandattribute ${printNameSet(s.attributes)} ${s.value};`];
    case 'range_transition': {
      const classes = s.classes ? `:${printNameSet(s.classes)}` : '';
      return [`${indent}range_transition ${printNameSet(s.sources)} ${printNameSet(s.targets)}${classes} ${s.range};`];
    }
    case 'default_user':
    case 'default_role':
    case 'default_type':
      return [`${indent}${s.kind} ${printNameSet(s.classes)} ${s.object};`];
    case 'default_range':
      return [`${indent}default_range ${printNameSet(s.classes)} ${s.object !== undefined ? `${s.object} ` : ''}${s.range};`];
    case 'user': {
      const mls = s.level !== undefined ? ` level ${s.level}${s.range !== undefined ? ` range ${s.range}` : ''}` : '';
      return [`${indent}user ${s.name.name} roles ${printNameSet(s.roles)}${mls};`];
    }
    case 'constrain':
    case 'mlsconstrain':
      return [`${indent}${s.kind} ${printNameSet(s.classes)} ${printNameSet(s.perms)} (${printConstraint(s.expr)});`];
    case 'validatetrans':
    case 'mlsvalidatetrans':
      return [`${indent}${s.kind} ${printNameSet(s.classes)} (${printConstraint(s.expr)});`];
    case 'if': {
      const out = [`${indent}if (${printBoolExpr(s.condition)}) {`, ...s.then.flatMap((r) => printStatement(r, indent + '\t')), `${indent}}`];
      if (s.else.length) out.push(`${indent}else {`, ...s.else.flatMap((r) => printStatement(r, indent + '\t')), `${indent}}`);
      return out;
    }
    case 'sid-context': return [`${indent}sid ${s.name.name} ${printContext(s.context)}`];
    case 'devicetreecon': return [`${indent}devicetreecon ${quote(s.path ?? '')} ${printContext(s.context)}`];
    case 'pirqcon':
    case 'iomemcon':
    case 'ioportcon':
    case 'pcidevicecon':
      return [`${indent}${s.kind} ${s.low ?? ''}${s.high !== undefined ? `-${s.high}` : ''} ${printContext(s.context)}`];
  }
}

export function printPolicy(ast: PolicyAst): string {
  return ast.statements.flatMap((s) => printStatement(s)).join('\n') + '\n';
}
