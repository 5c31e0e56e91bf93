// `vmipolicy policy stats FILE` and `vmipolicy policy query FILE -s TYPE [-t TYPE] [-c CLASS] [-p PERM]`:
// the PolicyModel of any Xen policy (a policy.conf, a binary policy, or a Xen tree's
// tools/flask/policy directory), with every answer traced to the line of the user's own file
// (or the binary's table entry) that grants it. `vmipolicy policy build FILE -o OUT
// [--policy-version 24|30] [--mls]`: the binary policy Xen loads, as checkpolicy -t Xen writes it.

import { printStatement } from '../policy/grammar/printer.js';
import type { LoadedPolicy } from '../policy/load.js';
import { buildBinaryPolicy, readPolicy } from '../api/policy.js';
import { XEN_POLICY_VERSIONS } from '../policy/binary/read.js';
import { placeAll } from '../core/located.js';
import { writeFileAtomically } from './output.js';
import { policyStats, queryAccess, queryRules, typeIndexOf, type RuleMatch } from '../policy/model/query.js';
import { EXIT_OK, EXIT_USAGE, usageError, type Io } from './io.js';
import { reportAll } from './render.js';
import { summary } from '../report/diagnostics.js';
import { terminalSafe } from '../core/terminal.js';

export interface PolicyArgs {
  readonly positional: readonly string[];
  readonly flags: ReadonlyMap<string, string>;
}

function load(path: string | undefined, io: Io): LoadedPolicy | number {
  if (!path) {
    return usageError(io, 'policy needs a FILE (a policy.conf or a Xen policy tree)');
  }
  const { policy, diagnostics, exit } = readPolicy(path);
  reportAll(io, diagnostics);
  if (!policy) io.stderr(`vmipolicy: cannot read the policy (${summary(diagnostics.map((p) => p.diagnostic))})\n`);
  return policy ?? exit;
}

export function runPolicy(args: PolicyArgs, io: Io): number {
  const [sub, path, ...extra] = args.positional;
  const format = args.flags.get('--format') ?? 'text';
  if (extra.length) return usage(io, `unexpected argument ${extra[0]}`);
  if (format !== 'text' && format !== 'json') return usage(io, `--format must be text or json, not ${format}`);
  if (sub === 'build') return build(path, args, format, io);
  if (sub !== 'stats' && sub !== 'query') return usage(io, `policy takes stats, query or build, not ${sub ?? 'nothing'}`);
  if (sub === 'query' && !args.flags.has('-s')) return usage(io, 'policy query needs -s TYPE');
  const policy = load(path, io);
  if (typeof policy === 'number') return policy;
  return sub === 'stats' ? stats(policy, format, io) : query(policy, args, format, io);
}

/** `policy build FILE -o OUT`: OUT replaced atomically by the binary, or left as it was. */
function build(path: string | undefined, args: PolicyArgs, format: string, io: Io): number {
  if (!path) return usage(io, 'policy build needs a FILE (a policy.conf, a Xen policy tree or a binary policy)');
  const out = args.flags.get('-o');
  if (!out) return usage(io, 'policy build needs -o FILE (where to write the binary policy)');
  const versionText = args.flags.get('--policy-version') ?? '30';
  const version = Number(versionText);
  if (!XEN_POLICY_VERSIONS.includes(version)) return usage(io, `--policy-version must be ${XEN_POLICY_VERSIONS.join(' or ')} (the Xen versions libsepol writes), not ${versionText}`);
  // --mls is checkpolicy's -M: an MLS policy needs it, a policy without sensitivities refuses it.
  const built = buildBinaryPolicy(path, { version, mls: args.flags.has('--mls') });
  reportAll(io, built.diagnostics);
  if (!built.bytes) {
    io.stderr(`vmipolicy: nothing written (${summary(built.diagnostics.map((p) => p.diagnostic))})\n`);
    return built.exit;
  }
  const written = writeFileAtomically(out, built.bytes);
  if (!written.ok) {
    reportAll(io, placeAll([written.diagnostic]));
    return EXIT_USAGE;
  }
  if (format === 'json') io.stdout(JSON.stringify({ ok: true, out, version, bytes: built.bytes.length }, null, 2) + '\n');
  else io.stdout(`wrote ${terminalSafe(out)}: Xen binary policy version ${version}, ${built.bytes.length.toLocaleString('en-US')} bytes\n`);
  return EXIT_OK;
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
  const unknown = (): number => usage(io, `no such type, attribute or class in ${policy.file}: ${[q.source, 'target' in q ? q.target : undefined, 'cls' in q ? q.cls : undefined].filter(Boolean).join(', ')}`);
  // One source type: its entries are at most one per target and class, so each can be
  // listed with its effective permissions. An attribute as the source: its rules reach
  // |members| × |targets| entries (millions on a large host), so they are counted per rule.
  if (typeIndexOf(policy.model, q.source) === undefined) {
    const matches = queryRules(policy.model, q);
    if (!matches) return unknown();
    return format === 'json' ? printRulesJson(matches, io) : printRules(matches, io);
  }
  const entries = queryAccess(policy.model, q);
  if (!entries) return unknown();
  if (format === 'json') {
    const plain = entries.map((e) => ({ ...e, rules: e.rules.map(({ statement, ...r }) => ({ ...r, rule: printStatement(statement).join(' ') })) }));
    io.stdout(JSON.stringify(plain, null, 2) + '\n');
    return EXIT_OK;
  }
  for (const e of entries) {
    if (e.perms.length === 0) continue;
    io.stdout(`allow ${e.source} ${e.target}:${e.cls} ${permList(e.perms)};\n`);
    // The file name comes from a #line marker and the rule from the policy text: both are input.
    for (const r of e.rules) io.stdout(`    ${terminalSafe(r.at.file)}:${r.at.line}: ${terminalSafe(printStatement(r.statement).join(' '))}${conditionState(r)}\n`);
  }
  return EXIT_OK;
}

function permList(perms: readonly string[]): string {
  return perms.length === 1 ? (perms[0] as string) : `{ ${perms.join(' ')} }`;
}

function conditionState(r: { readonly conditional: boolean; readonly active: boolean }): string {
  return r.conditional ? (r.active ? '  [conditional: on by default]' : '  [conditional: off by default]') : '';
}

/** Each rule once (where it was written), then per class how many pairs it reaches, with examples. */
function printRules(matches: readonly RuleMatch[], io: Io): number {
  let previous: RuleMatch['statement'] | undefined;
  for (const m of matches) {
    if (m.statement !== previous) io.stdout(`${terminalSafe(m.at.file)}:${m.at.line}: ${terminalSafe(printStatement(m.statement).join(' '))}${conditionState(m)}\n`);
    previous = m.statement;
    const examples = m.examples.map(([s, t]) => `${s} ${t}`).join(', ');
    const more = m.pairs > m.examples.length ? ', …' : '';
    io.stdout(`    ${m.cls} ${permList(m.perms)}: ${m.pairs.toLocaleString('en-US')} (source, target) ${m.pairs === 1 ? 'pair' : 'pairs'}: ${examples}${more}\n`);
  }
  return EXIT_OK;
}

function printRulesJson(matches: readonly RuleMatch[], io: Io): number {
  const plain = matches.map(({ statement, examples, ...m }) => ({ ...m, rule: printStatement(statement).join(' '), examples: examples.map(([source, target]) => ({ source, target })) }));
  io.stdout(JSON.stringify(plain, null, 2) + '\n');
  return EXIT_OK;
}
