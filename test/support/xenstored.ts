// A harness around ../shared/tools/xenstored-noxen: the real C xenstored (Xen 4.17) running
// without a hypervisor, so the emitted xenstore scripts can be run against the daemon's own
// permission code and their effect read back as dom0 and *as a given guest domain*.
//
// Every child process gets an argument array (execFile/spawn, never a shell string), and the
// daemon's exports (XENSTORED_PATH, XS_SHIM_DIR) travel as env, never through `eval`.

import { execFile, execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SCRIPT_PATH } from '../../xenstore/script-contract.js';
import { promisify } from 'node:util';
import { sharedPath } from './env.js';
import { libxlNodes, type LaidNode } from '../../xenstore/libxl-layout.js';

const execFileAsync = promisify(execFile);

export const NOXEN_DIR = sharedPath('tools', 'xenstored-noxen');
const CONTROL = join(NOXEN_DIR, 'xenstored-noxen.sh');
const CLIENT = join(NOXEN_DIR, 'xsclient.py');

/** Commands the harness runs; tests pass these to `requires` so a machine without them skips. */
export const XENSTORED_COMMANDS = ['python3', 'gcc', 'xenstore-chmod', 'xenstore-write', 'xenstore-ls', '/usr/lib/xen-4.17/bin/xenstored'] as const;

export interface Xenstored {
  /** Private temp dir: socket, shim, ring pages, the domain list, the fake xl. */
  readonly rundir: string;
  /** process.env plus the daemon's exports; every client process needs it. */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Starts a daemon in a fresh temp RUNDIR in which the domids `existing` exist (shim syntax,
 * e.g. "0-9"). The C daemon, not oxenstored: the two differ on ACL entries for absent domids.
 */
export function startXenstored(existing = '0-9'): Xenstored {
  const rundir = mkdtempSync(join(tmpdir(), 'vmipolicy-xs-'));
  // The shim re-reads this file on every lookup; without it every domid < 32752 would exist.
  writeFileSync(join(rundir, 'domains'), `${existing}\n`);
  try {
    const out = execFileSync(CONTROL, ['start', rundir], {
      env: { ...process.env, XS_IMPL: 'xenstored' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { rundir, env: { ...process.env, ...parseExports(out) } };
  } catch (e) {
    // A daemon may be up even so (e.g. the exports were unreadable): stop it; no pid file, no-op.
    spawnSync(CONTROL, ['stop', rundir], { stdio: 'ignore' });
    rmSync(rundir, { recursive: true, force: true });
    throw e;
  }
}

/** `export NAME=value` lines (what the control script means to be eval'ed) as an env object. */
function parseExports(out: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  if (!env.XENSTORED_PATH || !env.XS_SHIM_DIR) throw new Error(`xenstored-noxen.sh printed no exports:\n${out}`);
  return env;
}

/**
 * Stops the daemon and removes its RUNDIR. Asynchronous because the control script waits
 * until the pid is gone, and here an orphaned daemon stays a zombie until PID 1 reaps it
 * (1–2 s): callers may start the stop and await it later, but must await it.
 */
export async function stopXenstored(xsd: Xenstored): Promise<void> {
  try {
    await execFileAsync(CONTROL, ['stop', xsd.rundir], { env: xsd.env });
  } finally {
    rmSync(xsd.rundir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- dom0 (the privileged socket)

function dom0(xsd: Xenstored, cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { env: xsd.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** xenstore-write as dom0; pairs of path and value, one process for all of them. */
export function dom0Write(xsd: Xenstored, entries: ReadonlyArray<readonly [string, string]>): void {
  if (entries.length > 0) dom0(xsd, 'xenstore-write', entries.flat());
}

/** xenstore-chmod as dom0: exactly these entries, owner first (no -r, no -u). */
export function dom0Chmod(xsd: Xenstored, path: string, perms: readonly string[]): void {
  dom0(xsd, 'xenstore-chmod', [path, ...perms]);
}

export interface NodeState {
  readonly value: string;
  /** The ACL as xenstore-ls -p prints it, e.g. "n0,r5": owner first, then the entries. */
  readonly perms: string;
}

/** Every node below / with its value and ACL, from `xenstore-ls -f -p` as dom0. */
export function snapshot(xsd: Xenstored): Map<string, NodeState> {
  const nodes = new Map<string, NodeState>();
  for (const line of dom0(xsd, 'xenstore-ls', ['-f', '-p', '/']).split('\n')) {
    if (line === '') continue;
    const m = /^(\/\S*) = "(.*)"\s+\(([^()]*)\)$/.exec(line);
    if (!m) throw new Error(`unexpected xenstore-ls line: ${line}`);
    nodes.set(m[1]!, { value: m[2]!, perms: m[3]! });
  }
  return nodes;
}

// ---------------------------------------------------------------- guests (the ring, real ACL checks)

/** xsclient.py's answer: the output, or the xenstore error name (EACCES, ENOENT, …). */
export type XsAnswer = { readonly ok: true; readonly out: string } | { readonly ok: false; readonly error: string };

let python: string | undefined;
/** The interpreter behind `python3`, resolved once: a version-manager shim costs ~0.1 s a call. */
function pythonPath(): string {
  python ??= execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  return python;
}

function clientArgs(domid: number | undefined, op: string, args: readonly string[]): string[] {
  return [CLIENT, ...(domid === undefined ? [] : ['--as', String(domid)]), op, ...args];
}

/**
 * Exit 0 is an answer, exit 1 with "ERROR X" is a refusal; anything else (a timeout on the
 * ring, a traceback) throws, so a broken harness can never pass for "access denied".
 */
function toAnswer(code: number | null, stdout: string, stderr: string, what: string): XsAnswer {
  const out = stdout.replace(/\n$/, '');
  if (code === 0) return { ok: true, out };
  const m = /^ERROR (\w+)$/.exec(out);
  if (code === 1 && m) return { ok: false, error: m[1]! };
  throw new Error(`xsclient.py ${what} failed (exit ${code}): ${stdout}${stderr}`);
}

/** One xsclient.py op (read, ls, getperms, mkdir, write, …) as `domid`, or as dom0 when undefined. */
export function xs(xsd: Xenstored, domid: number | undefined, op: string, ...args: string[]): XsAnswer {
  const r = spawnSync(pythonPath(), clientArgs(domid, op, args), { env: xsd.env, encoding: 'utf8' });
  if (r.error) throw r.error;
  return toAnswer(r.status, r.stdout, r.stderr, `${op} ${args.join(' ')}`);
}

/**
 * Runs many xsclient.py ops in one Python process: its own main(), once per op, with the
 * argv the CLI would get. A process per op costs ~50 ms, and an access matrix is >1000 ops.
 * The driver is fixed text; the ops travel as JSON lines on stdin. No bytecode is written:
 * the tools dir is shared and read-only.
 */
const BATCH_DRIVER = `
import contextlib, io, json, os, sys
client = sys.argv[1]
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(client))
import xsclient
for line in sys.stdin:
    sys.argv = [client] + json.loads(line)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            code = xsclient.main()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 2
    print(json.dumps([code, out.getvalue()]), flush=True)
`;

export interface XsRequest {
  readonly domid: number;
  readonly op: string;
  readonly args: readonly string[];
}

/** The answers to `requests`, in order, each as that guest (a batch of `xs` calls). */
export function xsBatch(xsd: Xenstored, requests: readonly XsRequest[]): XsAnswer[] {
  // Every request names a guest, so this is the mixed batch without dom0's socket.
  return xsBatchAny(xsd, requests);
}

/** XS_INTRODUCE: xenstored maps the domain's ring, so the domain can talk to it. */
export function introduce(xsd: Xenstored, domids: readonly number[]): void {
  for (const d of domids) {
    const a = xs(xsd, undefined, 'introduce', String(d));
    if (!a.ok) throw new Error(`introduce ${d}: ${a.error}`);
  }
}

export interface Access {
  /** "domid path" pairs where a read as that domain succeeds. */
  readonly read: Set<string>;
  /** "domid path" pairs where that domain may write the node. */
  readonly write: Set<string>;
}

export const pair = (domid: number, path: string): string => `${domid} ${path}`;

/**
 * What each domain may do to each node, asked of the daemon itself. Write access is probed
 * with mkdir: on an existing node xenstored checks the write permission and changes nothing,
 * where a probing write could change a value.
 */
export function accessMatrix(xsd: Xenstored, domids: readonly number[], paths: readonly string[]): Access {
  const probes = domids.flatMap((domid) => paths.flatMap((p) => (['read', 'mkdir'] as const).map((op) => ({ domid, op, args: [p] }))));
  const access: Access = { read: new Set(), write: new Set() };
  xsBatch(xsd, probes).forEach((answer, i) => {
    const q = probes[i]!;
    if (answer.ok) (q.op === 'read' ? access.read : access.write).add(pair(q.domid, q.args[0]!));
  });
  return access;
}

// ---------------------------------------------------------------- a store laid out like libxl's

export interface Guest {
  readonly domid: number;
  readonly name: string;
  readonly uuid: string;
}

/**
 * Beyond libxl's nodes (xenstore/libxl-layout.ts, the product's one statement of them), a
 * frontend so that "reads nothing else" has something to bite on: owned by the guest, read
 * by its backend (dom0).
 */
function frontendNodes(g: Guest): LaidNode[] {
  const own = ['n0', `r${g.domid}`];
  const dir = `/local/domain/${g.domid}`;
  return [
    { path: `${dir}/device`, value: '', perms: own },
    { path: `${dir}/device/vbd`, value: '', perms: own },
    { path: `${dir}/device/vbd/51712`, value: '', perms: [`n${g.domid}`, 'r0'] },
  ];
}

/**
 * Introduces the guests and writes their nodes with libxl's ACLs into the real daemon.
 * Introduce first: it honours an ACL entry only for a domain that existed when it was set.
 */
export function layOutLikeLibxl(xsd: Xenstored, guests: readonly Guest[]): void {
  introduce(xsd, guests.map((g) => g.domid));
  const nodes: LaidNode[] = [...libxlNodes(guests, new Map(guests.map((g) => [g.domid, g.uuid]))), ...guests.flatMap(frontendNodes)];
  dom0Write(xsd, nodes.map((n) => [n.path, n.value] as const));
  for (const n of nodes) dom0Chmod(xsd, n.path, n.perms);
}

// ---------------------------------------------------------------- running the emitted scripts

/** What the fake `xl domid NAME` prints for NAME; a name left out makes it fail (exit 1). */
export type XlTable = Readonly<Record<string, string | number>>;

/**
 * A fake `xl` that answers only `xl domid NAME`, from a table file beside it. The script is
 * fixed text; the data (names, answers) lives in the table, which sh only reads.
 */
export function writeFakeXl(xsd: Xenstored, table: XlTable, dir = mkdtempSync(join(xsd.rundir, 'xl-'))): string {
  const lines = Object.entries(table).map(([name, out]) => {
    if (/[\t\n]/.test(name + String(out))) throw new Error('fake xl table: no tabs or newlines');
    return `${name}\t${out}\n`;
  });
  writeFileSync(join(dir, 'domids'), lines.join(''));
  const xl = join(dir, 'xl');
  writeFileSync(
    xl,
    [
      '#!/bin/sh',
      '# fake xl for tests: only "xl domid NAME", answered from ./domids (NAME<TAB>output)',
      '[ "$1" = domid ] || { echo "fake xl: only domid is supported" >&2; exit 2; }',
      'while IFS="$(printf \'\\t\')" read -r name out; do',
      '\t[ "$name" = "$2" ] && { printf \'%s\\n\' "$out"; exit 0; }',
      'done < "$(dirname "$0")/domids"',
      'echo "fake xl: domain $2 does not exist" >&2',
      'exit 1',
      '',
    ].join('\n'),
  );
  chmodSync(xl, 0o755);
  return xl;
}

/**
 * The emitted script with `dir` put first on its own PATH: the one line changed, so that the
 * fake xl there runs (the script takes no PATH from the environment). Throws unless the
 * script sets PATH exactly once, as emitted.
 */
export function withToolsFirst(script: string, dir: string): string {
  const line = `\nPATH=${SCRIPT_PATH}\n`;
  if (script.split(line).length !== 2) throw new Error('the script does not set the emitted PATH exactly once');
  return script.replace(line, `\nPATH=${dir}:${SCRIPT_PATH}\n`);
}

/**
 * Runs an emitted script with sh, as dom0 of this daemon, with the directory of `xl` first on
 * the script's PATH; xenstore-chmod is the real one (from the script's PATH), and reaches
 * this daemon through XENSTORED_PATH in the env. `env` is added to the environment.
 */
export function runScript(xsd: Xenstored, script: string, xl: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const file = join(mkdtempSync(join(xsd.rundir, 'script-')), 'script.sh');
  writeFileSync(file, withToolsFirst(script, dirname(xl)));
  const r = spawnSync('sh', [file], { env: { ...xsd.env, ...env }, encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

// ---------------------------------------------------------------- mixed batches (added for the simulator's differential test)

export interface XsAnyRequest {
  /** A guest's domid (its ring), or undefined for dom0's privileged socket. */
  readonly domid: number | undefined;
  readonly op: string;
  readonly args: readonly string[];
}

/**
 * The answers to `requests`, in order (a batch of `xs` calls in one Python process); unlike
 * `xsBatch`, a request may go through dom0's socket (domid undefined): dom0 has no ring here.
 */
export function xsBatchAny(xsd: Xenstored, requests: readonly XsAnyRequest[]): XsAnswer[] {
  const input = requests.map((q) => `${JSON.stringify(clientArgs(q.domid, q.op, q.args).slice(1))}\n`).join('');
  const r = spawnSync(pythonPath(), ['-c', BATCH_DRIVER, CLIENT], { env: xsd.env, input, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`xsclient batch failed (exit ${r.status}): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== requests.length) throw new Error(`xsclient batch: ${lines.length} answers to ${requests.length} ops: ${r.stderr}`);
  return lines.map((line, i) => {
    const [code, out] = JSON.parse(line) as [number, string];
    const q = requests[i]!;
    return toAnswer(code, out, '', `${q.domid === undefined ? 'dom0' : `--as ${q.domid}`} ${q.op} ${q.args.join(' ')}`);
  });
}
