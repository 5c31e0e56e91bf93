// Running the real tools the tests compare against: Debian's checkpolicy (-t Xen), Xen's
// own policy build flow (../shared/tools/build-xen-policy.sh: m4 in Makefile.common's
// order, then checkpolicy), and setools' sesearch.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from './env.js';

export interface ToolRun {
  readonly ok: boolean;
  readonly output: string;
}

function run(cmd: string, args: readonly string[]): ToolRun {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 << 20 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-test-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * checkpolicy -t Xen -c VERSION (30 unless given) on a policy.conf text (`-M` with `mls`);
 * the binary lands in `dir` (as `name`, default xenpolicy).
 */
export function checkpolicy(dir: string, policyConf: string, options: { readonly mls?: boolean; readonly version?: number; readonly name?: string } = {}): ToolRun & { binary: string } {
  const name = options.name ?? 'xenpolicy';
  const conf = join(dir, options.name ? `${name}.conf` : 'policy.conf');
  const binary = join(dir, name);
  writeFileSync(conf, policyConf);
  return { ...run('checkpolicy', ['-t', 'Xen', '-c', String(options.version ?? 30), ...(options.mls ? ['-M'] : []), conf, '-o', binary]), binary };
}

/** Builds Xen's stock policy of a corpus release with our module added, as Xen's Makefile does. */
export function buildInXenTree(dir: string, release: string, module: string, te: string): ToolRun & { binary: string } {
  const teFile = join(dir, `${module}.te`);
  writeFileSync(teFile, te);
  const out = join(dir, 'build');
  return {
    ...run('bash', [sharedPath('tools', 'build-xen-policy.sh'), '-s', sharedPath('corpus', `xen-${release}`, 'src'), '-o', out, '-m', `${module}=${teFile}`]),
    binary: join(out, 'xenpolicy'),
  };
}

/** `subject object:class perm` for every allow rule sesearch finds in a binary policy. */
export function sesearchAllows(binary: string): Set<string> {
  const r = run('sesearch', ['-A', binary]);
  if (!r.ok) throw new Error(`sesearch failed: ${r.output}`);
  const out = new Set<string>();
  for (const line of r.output.split('\n')) {
    const m = /^allow (\S+) (\S+):(\S+) (?:\{ ([^}]*) \}|(\S+));/.exec(line.trim());
    if (!m) continue;
    for (const perm of (m[4] ?? m[5] ?? '').trim().split(/\s+/)) out.add(`${m[1]} ${m[2]}:${m[3]} ${perm}`);
  }
  return out;
}

/** sesearch -A (optionally for one source type), with attributes expanded as `seinfo -a A -x` lists them. */
export function sesearchExpanded(binary: string, attributes: readonly string[], source?: string): Set<string> {
  const members = new Map<string, string[]>();
  for (const a of attributes) {
    const r = run('seinfo', ['-a', a, '-x', binary]);
    if (!r.ok) throw new Error(`seinfo failed: ${r.output}`);
    const lines = r.output.split('\n').map((l) => l.trim());
    members.set(a, lines.filter((l) => l && !l.startsWith('Type Attributes') && !l.startsWith('attribute')).map((l) => l.replace(/;$/, '')));
  }
  const expand = (n: string): string[] => members.get(n) ?? [n];
  const search = run('sesearch', ['-A', ...(source ? ['-s', source] : []), binary]);
  if (!search.ok) throw new Error(`sesearch failed: ${search.output}`);
  const out = new Set<string>();
  for (const line of search.output.split('\n')) {
    const x = /^allow (\S+) (\S+):(\S+) (?:\{ ([^}]*) \}|(\S+));/.exec(line.trim());
    if (!x) continue;
    const perms = (x[4] ?? x[5] ?? '').trim().split(/\s+/);
    for (const s of expand(x[1] as string)) {
      if (source && s !== source) continue;
      const targets = x[2] === 'self' ? [s] : expand(x[2] as string);
      for (const t of targets) for (const p of perms) out.add(`${s} ${t}:${x[3]} ${p}`);
    }
  }
  return out;
}
