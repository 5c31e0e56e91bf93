// Test equipment: builds the real clients of ../shared/tools/real-clients (LibVMI at its pinned
// commit, with its Xen driver and examples) and the stand-in libraries they load
// (standin.c), once, into a cache keyed by what went into them; and runs one client as an
// introspector of a simulated host through the bridge. Nothing here is product code.

import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimulatedHost } from '../../../vmi/host/host.js';
import { REPO_ROOT, repoPath, sharedPath } from '../env.js';
import { Bridge } from './bridge.js';

export const LIBVMI_TARBALL = 'tools/real-clients/libvmi-82bbee6.tar.gz';
export const XEN_ACCESS_SOURCE = 'tools/real-clients/xen-access-4.17.0.c';
/** What building LibVMI and the stand-in needs (Debian: cmake make pkg-config bison flex libglib2.0-dev libjson-c-dev zlib1g-dev libxen-dev gcc). */
export const REAL_CLIENT_COMMANDS = ['cmake', 'make', 'gcc', 'pkg-config', 'bison', 'flex'] as const;
/** The examples the differential runs, as LibVMI's CMake names its targets. */
export const LIBVMI_EXAMPLES = ['vmi-dump-memory', 'vmi-process-list', 'cr3-event-example', 'singlestep-event-example'] as const;

const CMAKE_FLAGS = [
  '-DCMAKE_BUILD_TYPE=Release', '-DENABLE_XEN=ON', '-DENABLE_KVM=OFF', '-DENABLE_KVM_LEGACY=OFF', '-DENABLE_BAREFLANK=OFF',
  '-DENABLE_FILE=OFF', '-DENABLE_VMIFS=OFF', '-DBUILD_EXAMPLES=ON', '-DENABLE_TESTING=OFF',
];
const STANDIN_SOURCE = 'test/support/real-clients/standin.c';

export interface RealClients {
  /** Directory of LibVMI's built examples. */
  readonly examples: string;
  /** Directory holding the stand-in under the names the clients load. */
  readonly lib: string;
  /** Directory of libvmi.so (the build moved after linking, so its run path is stale). */
  readonly libvmi: string;
  /** Xen's xen-access, linked against the stand-in. */
  readonly xenAccess: string;
}

/** What is missing for the build (headers and libraries pkg-config must find), if anything. */
export function missingBuildInputs(): string | undefined {
  for (const pkg of ['glib-2.0', 'json-c']) {
    if (spawnSync('pkg-config', ['--exists', pkg]).status !== 0) return `the ${pkg} development files are not installed (.ci/run installs them)`;
  }
  if (!existsSync('/usr/include/xenctrl.h')) return 'libxen-dev (xenctrl.h) is not installed (.ci/run installs it)';
  return undefined;
}

function run(cmd: string, args: readonly string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stderr || r.stdout).slice(-4000)}`);
}

let built: RealClients | undefined;

/**
 * LibVMI and the stand-in, built on first use into node_modules/.cache (a clean clone builds
 * once, ~10 s on two cores; later runs reuse it while the tarball, flags and standin.c are the same).
 */
export function realClients(): RealClients {
  if (built) return built;
  const tarball = sharedPath(LIBVMI_TARBALL);
  const standin = readFileSync(repoPath(STANDIN_SOURCE));
  const xenAccess = sharedPath(XEN_ACCESS_SOURCE);
  const key = createHash('sha256').update(readFileSync(tarball)).update(readFileSync(xenAccess)).update(CMAKE_FLAGS.join(' ')).update(standin).digest('hex').slice(0, 16);
  const cacheRoot = join(REPO_ROOT, 'node_modules', '.cache', 'vmipolicy-real-clients');
  const home = join(cacheRoot, key);
  if (!existsSync(join(home, 'done'))) {
    mkdirSync(cacheRoot, { recursive: true });
    const work = mkdtempSync(join(cacheRoot, 'build-'));
    try {
      run('tar', ['xzf', tarball, '-C', work]);
      run('cmake', ['-S', join(work, 'libvmi'), '-B', join(work, 'build'), ...CMAKE_FLAGS]);
      run('cmake', ['--build', join(work, 'build'), '-j2', '--target', ...LIBVMI_EXAMPLES]);
      const lib = join(work, 'lib');
      mkdirSync(lib);
      run('gcc', ['-std=gnu11', '-O1', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-o', join(lib, 'libvmipolicy-standin.so'), repoPath(STANDIN_SOURCE), '-ldl']);
      // LibVMI dlopens these two names (libxc_wrapper.c, libxs_wrapper.c); both resolve to the one stand-in.
      // xen-access links libxenctrl and libxenevtchn: the same stand-in again.
      for (const name of ['libxenctrl.so', 'libxenstore.so', 'libxenevtchn.so']) symlinkSync('libvmipolicy-standin.so', join(lib, name));
      // xen-access.c includes Xen's in-tree <xen-tools/libs.h>, which libxen-dev lacks: a one-macro shim stands in.
      run('gcc', ['-std=gnu11', '-O1', '-w', '-I', repoPath('test/support/real-clients/include'), '-o', join(lib, 'xen-access'), xenAccess, '-L', lib, '-lxenctrl', '-lxenevtchn']);
      writeFileSync(join(work, 'done'), key);
      rmSync(home, { recursive: true, force: true });
      renameSync(work, home);
    } catch (e) {
      rmSync(work, { recursive: true, force: true });
      throw e;
    }
  }
  built = { examples: join(home, 'build', 'examples'), lib: join(home, 'lib'), libvmi: join(home, 'build', 'libvmi'), xenAccess: join(home, 'lib', 'xen-access') };
  return built;
}

export interface ClientRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly bridge: Bridge;
}

export interface RunOptions {
  /** The client's HOME (LibVMI reads $HOME/etc/libvmi.conf). */
  readonly home?: string;
  /** Interrupt the client (SIGINT, as its examples expect) once this many events were served. */
  readonly stopAfterEvents?: number;
  readonly timeoutMs?: number;
}

/** Runs one real client as domain `caller` of the simulated host, through the bridge. */
export async function runClient(clients: RealClients, sim: SimulatedHost, caller: number, argv: readonly string[], options: RunOptions = {}): Promise<ClientRun> {
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-client-'));
  const socket = join(dir, 'host.sock');
  const bridge = new Bridge(sim, caller);
  await bridge.listen(socket);
  try {
    const [program = '', ...args] = argv;
    const child = spawn(program.includes('/') ? program : join(clients.examples, program), args, {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: options.home ?? dir,
        VMIPOLICY_SIM_SOCKET: socket,
        LD_PRELOAD: join(clients.lib, 'libvmipolicy-standin.so'),
        LD_LIBRARY_PATH: `${clients.lib}:${clients.libvmi}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    if (options.stopAfterEvents !== undefined) {
      bridge.onServed(() => {
        if (bridge.served.length >= (options.stopAfterEvents as number)) child.kill('SIGINT');
      });
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    return { code, signal, stdout, stderr, bridge };
  } finally {
    await bridge.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A Volatility 3 ISF for the synthetic kernel (what `vmi-process-list -j` reads through LibVMI's
 * json_profiles/volatility_ist.c): init_task's address and the five offsets LibVMI's Linux
 * support looks up (linux/core.c init_from_json_profile). Written to `dir`; returns the path.
 */
export function isfProfile(dir: string, profile: { tasks: number; mm: number; pid: number; comm: number; pgd: number; initTask: bigint }): string {
  const field = (offset: number) => ({ offset, type: { kind: 'base', name: 'unsigned long' } });
  const isf = {
    metadata: { format: '6.2.0', linux: { symbols: [{ kind: 'symtab', name: 'vmipolicy synthetic kernel' }] } },
    base_types: { 'unsigned long': { kind: 'int', size: 8, signed: false, endian: 'little' } },
    symbols: { init_task: { address: 'INIT_TASK' } },
    user_types: {
      task_struct: { kind: 'struct', size: 0x1c00, fields: { tasks: field(profile.tasks), mm: field(profile.mm), pid: field(profile.pid), comm: field(profile.comm) } },
      mm_struct: { kind: 'struct', size: 0x400, fields: { pgd: field(profile.pgd) } },
    },
    enums: {},
  };
  const path = join(dir, 'kernel.json');
  // A JS number cannot carry a 64-bit kernel address exactly; json-c reads the integer literal as uint64.
  writeFileSync(path, JSON.stringify(isf, null, 1).replace('"INIT_TASK"', profile.initTask.toString()));
  return path;
}

/** $HOME/etc/libvmi.conf for a Linux target: the synthetic kernel's offsets and a System.map. */
export function libvmiHome(target: string, profile: { tasks: number; mm: number; pid: number; comm: number; pgd: number; initTask: bigint }, kernelText: bigint): string {
  const home = mkdtempSync(join(tmpdir(), 'vmipolicy-libvmi-home-'));
  mkdirSync(join(home, 'etc'));
  const sysmap = join(home, 'System.map');
  writeFileSync(sysmap, `${kernelText.toString(16)} T _text\n${profile.initTask.toString(16)} D init_task\n`);
  const hex = (n: number): string => `0x${n.toString(16)}`;
  writeFileSync(join(home, 'etc', 'libvmi.conf'), [
    `${target} {`,
    '    ostype = "Linux";',
    `    sysmap = "${sysmap}";`,
    `    linux_tasks = ${hex(profile.tasks)};`,
    `    linux_mm = ${hex(profile.mm)};`,
    `    linux_pid = ${hex(profile.pid)};`,
    `    linux_name = ${hex(profile.comm)};`,
    `    linux_pgd = ${hex(profile.pgd)};`,
    '}',
    '',
  ].join('\n'));
  return home;
}
