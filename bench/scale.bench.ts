// Benchmark: `vmipolicy check` on pathological hosts — N generated domain types in one
// attribute with a few attribute-wide rules (test/support/pathological.ts) — as a child
// process under GNU time: wall time, peak RSS, output size and the number of findings.
// `node dist/bench/scale.bench.js [N:kinds …]`, e.g. `150:relabel,set-target 600:read,write,reverse`.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileStandalone } from '../test/support/checker.js';
import { pathologicalPolicy, SCALE_HOST, SCALE_SPEC, type PathologicalRule } from '../test/support/pathological.js';
import { mib, printTable, runCliMeasured } from './support.js';

const BIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', 'cli', 'bin.js');

const DEFAULT_CASES = [
  '100:relabel', '150:relabel,set-target', '300:relabel,set-target', '1000:relabel,set-target',
  '600:read,write,reverse', '800:read,write,reverse,control',
];

const TIMEOUT_S = 300;

function run(spec: string, policy: string): { seconds: number; kib?: number; bytes: number; findings?: number; status: string } {
  const r = runCliMeasured(BIN, ['check', spec, '--policy', policy, '--format', 'json'], TIMEOUT_S);
  let findings: number | undefined;
  try { findings = (JSON.parse(r.stdout) as { findings: unknown[] }).findings.length; } catch { findings = undefined; }
  return { seconds: r.seconds, ...(r.kib !== undefined ? { kib: r.kib } : {}), bytes: Buffer.byteLength(r.stdout), ...(findings !== undefined ? { findings } : {}), status: r.status };
}

function main(): void {
  const cases = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT_CASES;
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-scale-bench-'));
  const rows: string[][] = [];
  try {
    const compiled = compileStandalone(SCALE_SPEC, join(dir, 'spec.yaml'));
    const spec = join(dir, 'spec.yaml');
    writeFileSync(spec, SCALE_SPEC);
    for (const c of cases) {
      const [n, kinds] = c.split(':') as [string, string];
      const host = pathologicalPolicy(compiled.policyText, Number(n), kinds.split(',') as PathologicalRule[], SCALE_HOST);
      const policy = join(dir, `host-${n}.conf`);
      writeFileSync(policy, host.text);
      const r = run(spec, policy);
      // The hostile-input goal: no input under 1 MB makes check use more than 60 s or 1 GiB.
      const ofGoal = `${(r.seconds / 60).toFixed(3)}× / ${r.kib !== undefined ? (r.kib / (1 << 20)).toFixed(3) : '—'}×`;
      rows.push([n, kinds, `${(Buffer.byteLength(host.text) / 1024).toFixed(0)} KiB`, `${r.seconds.toFixed(2)} s`, mib(r.kib), ofGoal, `${(r.bytes / (1 << 20)).toFixed(2)} MiB`, String(r.findings ?? '—'), r.status]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(['types', 'attribute rules', 'policy', 'wall', 'peak RSS', 'of goal (60 s / 1 GiB)', 'JSON output', 'findings', 'status'], rows);
}

main();
