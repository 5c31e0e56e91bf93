// The bundled executable (dist/bin/vmipolicy.js, made by tools/bundle.ts in `npm run build`,
// what package.json's "bin" runs) behaves as the compiled tree it is made from
// (dist/cli/bin.js, what every other test runs): on the same commands — every command, each
// output format, usage mistakes, bad input, standard input, files written — both print the
// same bytes on stdout and stderr, exit alike and write the same files. And it is a bundle:
// `yaml` inside it, every file beside the entry (paths made from import.meta.url, such as
// the schema's, depend on that depth), none of a previous build left behind.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath } from './support/env.js';
import { fleetSpec } from './support/fleet.js';
import { WORKER_FROM } from '../cli/small-files.js';

const UNBUNDLED = repoPath('dist', 'cli', 'bin.js');
const BUNDLED = repoPath('dist', 'bin', 'vmipolicy.js');
const TINYVMI = repoPath('examples', 'tinyvmi', 'vmi.yaml');
const MULTI = repoPath('examples', 'multi-tenant', 'vmi.yaml');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(bin: string, args: readonly string[], options: { cwd?: string; input?: string } = {}): Run {
  // No terminal and no colour, alike for both; the Xen tree of the environment left out.
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: options.cwd ?? repoPath(), input: options.input ?? '', maxBuffer: 64 << 20, env: { ...process.env, VMIPOLICY_XEN_TREE: '', NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file under `dir`, relative path → content. */
function tree(dir: string, under = ''): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(join(dir, under)).sort()) {
    const rel = under ? join(under, name) : name;
    if (statSync(join(dir, rel)).isDirectory()) for (const [f, c] of tree(dir, rel)) files.set(f, c);
    else files.set(rel, readFileSync(join(dir, rel), 'latin1'));
  }
  return files;
}

const BAD_SPEC = 'vmipolicy: 1\nxen: "4.19"\npolicy: { module: vmi }\nintrospectors: [{ name: x, guest: pv, targets: [nobody], capabilities: [read-memory] }]\ntargets: [{ name: y, guest: hvm }]\n';

/** Commands run by both executables, each with what it needs. */
const COMMANDS: readonly { readonly args: readonly string[]; readonly input?: string }[] = [
  { args: ['--version'] },
  { args: ['-V'] },
  { args: [] },
  { args: ['--help'] },
  { args: ['verify', '--help'] },
  { args: ['compile', '--help'] },
  { args: ['verifx', TINYVMI] },
  { args: ['check', TINYVMI, '--format', 'pdf'] },
  { args: ['verify', TINYVMI] },
  { args: ['verify', TINYVMI, '--format', 'json'] },
  { args: ['verify', MULTI, '--format', 'html'] },
  { args: ['selftest', TINYVMI, '--format', 'json'] },
  { args: ['check', MULTI] },
  { args: ['check', TINYVMI, '--format', 'sarif'] },
  { args: ['check', TINYVMI, '--format', 'dot'] },
  { args: ['check', TINYVMI, '--format', 'json', '--notes'] },
  { args: ['check', '-', '--format', 'sarif'], input: BAD_SPEC },
  { args: ['check', repoPath('examples', 'none.yaml'), '--format', 'html'] },
  { args: ['diff', TINYVMI, MULTI, '--format', 'markdown'] },
  { args: ['diff', TINYVMI, repoPath('examples', 'none.yaml'), '--format', 'markdown'] },
  { args: ['capabilities', '--format', 'json'] },
  { args: ['explain', '-', '--spec', TINYVMI], input: '(XEN) avc:  denied  { map_read } for domid=1 target=2 scontext=system_u:system_r:tinyvmi_t tcontext=system_u:system_r:ubuntu_t tclass=mmu\n' },
];

describe('the bundled executable', () => {
  it('is built (npm run build) beside the compiled tree', () => {
    assert.ok(existsSync(BUNDLED), `${BUNDLED} is missing: run npm run build (tsc, then tools/bundle.ts)`);
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.equal(pkg.bin['vmipolicy'], 'dist/bin/vmipolicy.js');
  });

  it('is a bundle: yaml inside, every file beside the entry and reached from it', () => {
    const dir = repoPath('dist', 'bin');
    const files = readdirSync(dir);
    for (const f of files) assert.ok(statSync(join(dir, f)).isFile(), `${f}: a file in a folder of its own would resolve import.meta.url paths from another depth`);
    const text = new Map(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    for (const [f, t] of text) {
      assert.doesNotMatch(t, /from\s*["']yaml["']|import\(\s*["']yaml["']\)/, `${f} imports yaml from node_modules`);
      assert.doesNotMatch(t, /chevrotain\.m?js["']/, `${f} loads a file of chevrotain's at run time`);
      // Installed elsewhere (npm pack), the bundle must not name where it was built.
      assert.ok(!t.includes(repoPath()), `${f} holds the path it was built at, ${repoPath()}`);
    }
    // Every file is imported by the entry or another file: none is left from an older build.
    const imported = new Set<string>(['vmipolicy.js']);
    for (const t of text.values()) for (const m of t.matchAll(/["']\.\/([\w.-]+\.js)["']/g)) imported.add(m[1] as string);
    assert.deepEqual(files.filter((f) => !imported.has(f)), []);
    // And every file one names beside it is there (a command's lazy import, a worker's entry).
    assert.deepEqual([...imported].filter((f) => !files.includes(f)), []);
  });

  for (const { args, input } of COMMANDS) {
    it(`behaves as dist/cli/bin.js: vmipolicy ${args.join(' ').replaceAll(repoPath() + '/', '')}`, () => {
      const options = input === undefined ? {} : { input };
      assert.deepEqual(run(BUNDLED, args, options), run(UNBUNDLED, args, options));
    });
  }

  it(`writes the same files when the file-writing worker makes them (${WORKER_FROM} small files and more): dist/bin/write-files-worker.js`, () => {
    const dirs = [mkdtempSync(join(tmpdir(), 'vmipolicy-bundle-a-')), mkdtempSync(join(tmpdir(), 'vmipolicy-bundle-b-'))] as const;
    try {
      const per = Math.ceil(WORKER_FROM / 2);
      for (const d of dirs) writeFileSync(join(d, 'fleet.yaml'), fleetSpec(2, per));
      const args = ['compile', 'fleet.yaml', '-o', 'out'];
      const bundled = run(BUNDLED, args, { cwd: dirs[0] });
      const unbundled = run(UNBUNDLED, args, { cwd: dirs[1] });
      assert.equal(bundled.status, 0, bundled.stderr);
      assert.deepEqual(bundled, unbundled);
      const written = tree(join(dirs[0], 'out'));
      assert.deepEqual(written, tree(join(dirs[1], 'out')));
      assert.ok([...written.keys()].filter((f) => f.startsWith('xl/')).length >= WORKER_FROM, 'enough xl snippets for the worker');
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  it('writes the same files: vmipolicy compile -o DIR (--binary, standalone), and reads them alike: vmipolicy policy', () => {
    const dirs = [mkdtempSync(join(tmpdir(), 'vmipolicy-bundle-a-')), mkdtempSync(join(tmpdir(), 'vmipolicy-bundle-b-'))] as const;
    try {
      const args = ['compile', TINYVMI, '-o', 'out', '--mode', 'standalone', '--binary'];
      const bundled = run(BUNDLED, args, { cwd: dirs[0] });
      const unbundled = run(UNBUNDLED, args, { cwd: dirs[1] });
      assert.equal(unbundled.status, 0, unbundled.stderr);
      assert.deepEqual(bundled, unbundled);
      assert.deepEqual(tree(join(dirs[0], 'out')), tree(join(dirs[1], 'out')));
      // The policy reader on what was written, and on a broken copy: the statements the fast
      // path leaves to chevrotain's parser, and its syntax errors, through both executables.
      const conf = join(dirs[0], 'out', 'policy.conf');
      const broken = join(dirs[0], 'broken.conf');
      writeFileSync(broken, readFileSync(conf, 'utf8').replace(/^allow (\S+)/m, 'allow $1 - { $1 }').replace(/^type /m, 'typo ') + 'allow a_t b_t : { x y ;\n');
      for (const policy of [['stats', conf], ['query', conf, '-s', 'tinyvmi_t', '--format', 'json'], ['stats', broken], ['query', broken, '-s', 'dom0_t']]) {
        assert.deepEqual(run(BUNDLED, ['policy', ...policy]), run(UNBUNDLED, ['policy', ...policy]), policy.join(' '));
      }
      assert.match(run(BUNDLED, ['policy', 'stats', broken]).stderr, /error VP3001/);
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});
