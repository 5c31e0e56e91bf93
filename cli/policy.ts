// `vmipolicy policy stats FILE` and `vmipolicy policy query FILE -s TYPE [-t TYPE] [-c CLASS] [-p PERM]`:
// the PolicyModel of any Xen policy (a policy.conf, or a Xen tree's tools/flask/policy
// directory), with every answer traced to the line of the user's own file that grants it.

import { printStatement } from '../grammar/printer.js';
import { loadPolicy, type LoadedPolicy } from '../checker/policy-input.js';
import { policyStats, queryAccess } from '../checker/model/query.js';
import { usageError, type Io } from './main.js';
import { reportPolicyDiagnostic, summary } from './render.js';
import { terminalSafe } from '../grammar/terminal.js';

const EXIT_OK = 0;
const EXIT_USAGE = 2;

export interface PolicyArgs {
  readonly positional: readonly string[];
  readonly flags: ReadonlyMap<string, string>;
}

function load(path: string | undefined, io: Io): LoadedPolicy | number {
  if (!path) {
    return usageError(io, 'policy needs a FILE (a policy.conf or a Xen policy tree)');
  }
  const { policy, parsed, diagnostics } = loadPolicy(path);
  for (const d of diagnostics) reportPolicyDiagnostic(io, d, parsed);
  if (!policy) io.stderr(`vmipolicy: cannot read the policy (${summary(diagnostics)})\n`);
  return policy ?? EXIT_USAGE;
}

export function runPolicy(args: PolicyArgs, io: Io): number {
  const [sub, path, ...extra] = args.positional;
  const format = args.flags.get('--format') ?? 'text';
  if (extra.length) return usage(io, `unexpected argument ${extra[0]}`);
  if (format !== 'text' && format !== 'json') return usage(io, `--format must be text or json, not ${format}`);
  if (sub !== 'stats' && sub !== 'query') return usage(io, `policy takes stats or query, not ${sub ?? 'nothing'}`);
  if (sub === 'query' && !args.flags.has('-s')) return usage(io, 'policy query needs -s TYPE');
  const policy = load(path, io);
  if (typeof policy === 'number') return policy;
  return sub === 'stats' ? stats(policy, format, io) : query(policy, args, format, io);
}

function usage(io: Io, message: string): number {
  return usageError(io, message);
}

function stats(policy: LoadedPolicy, format: string, io: Io): number {
  const s = policyStats(policy.model);
  if (format === 'json') {
    io.stdout(JSON.stringify({ file: policy.file, ...s }, null, 2) + '\n');
    return EXIT_OK;
  }
  const rows: [string, number][] = [
    ['classes', s.classes], ['permissions', s.permissions], ['commons', s.commons], ['initial SIDs', s.initialSids],
    ['types', s.types], ['aliases', s.aliases], ['attributes', s.attributes], ['roles', s.roles], ['users', s.users],
    ['booleans', s.booleans], ['allow rules', s.avRules.allow], ['auditallow rules', s.avRules.auditallow],
    ['dontaudit rules', s.avRules.dontaudit], ['neverallow rules', s.avRules.neverallow], ['conditional AV rules', s.conditionalAvRules],
    ['type rules', s.typeRules], ['constraints', s.constraints], ['expanded allow entries', s.expandedAllowEntries],
  ];
  io.stdout(`${terminalSafe(policy.file)}\n`);
  for (const [k, v] of rows) io.stdout(`  ${k.padEnd(24)} ${v.toLocaleString('en-US')}\n`);
  return EXIT_OK;
}

function query(policy: LoadedPolicy, args: PolicyArgs, format: string, io: Io): number {
  const q = {
    source: args.flags.get('-s') as string,
    ...(args.flags.has('-t') ? { target: args.flags.get('-t') as string } : {}),
    ...(args.flags.has('-c') ? { cls: args.flags.get('-c') as string } : {}),
    ...(args.flags.has('-p') ? { perm: args.flags.get('-p') as string } : {}),
  };
  const entries = queryAccess(policy.model, q);
  if (!entries) return usage(io, `no such type, attribute or class in ${policy.file}: ${[q.source, 'target' in q ? q.target : undefined, 'cls' in q ? q.cls : undefined].filter(Boolean).join(', ')}`);
  if (format === 'json') {
    const plain = entries.map((e) => ({ ...e, rules: e.rules.map(({ statement, ...r }) => ({ ...r, rule: printStatement(statement).join(' ') })) }));
    io.stdout(JSON.stringify(plain, null, 2) + '\n');
    return EXIT_OK;
  }
  for (const e of entries) {
    if (e.perms.length === 0) continue;
    io.stdout(`allow ${e.source} ${e.target}:${e.cls} ${e.perms.length === 1 ? e.perms[0] : `{ ${e.perms.join(' ')} }`};\n`);
    for (const r of e.rules) {
      const written = printStatement(r.statement).join(' ');
      const state = r.conditional ? (r.active ? '  [conditional: on by default]' : '  [conditional: off by default]') : '';
      // The file name comes from a #line marker and the rule from the policy text: both are input.
      io.stdout(`    ${terminalSafe(r.at.file)}:${r.at.line}: ${terminalSafe(written)}${state}\n`);
    }
  }
  return EXIT_OK;
}
