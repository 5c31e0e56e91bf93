// Benchmark: every command that reads a spec, on the largest specs the default scale limits
// let through (compiler/scale.ts: 2 000 domains, 2 000 introspector–target pairs, 200 000
// probes), as child processes under GNU time: wall time and peak RSS beside the bound a spec
// must keep, 60 s and 1 GiB. The shapes put the work where it grows: 100 DRAKVUF monitors
// with every HVM capability over 19 targets each (all three limits at once: 2 000 domains,
// 1 900 pairs, 200 000 probes); 10 such monitors over 199 targets each; one LibVMI monitor over
// 1 999 targets. No other tool has such limits: the bound stands in for the peer.
// `node dist/bench/limits.bench.js [MONITORSxPER …]`.

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mib, printTable, runCliMeasured } from './support.js';
import { EVERY_HVM_CAPABILITY, fleetSpec } from '../test/support/fleet.js';

const BIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', 'cli', 'bin.js');
const TIMEOUT_S = 300;
const BOUND = { seconds: 60, kib: 1 << 20 };

interface Shape { readonly monitors: number; readonly per: number; readonly every: boolean }
const SHAPES: readonly Shape[] = [{ monitors: 100, per: 19, every: true }, { monitors: 10, per: 199, every: true }, { monitors: 1, per: 1999, every: false }];

const COMMANDS: readonly { readonly name: string; readonly args: (spec: string, dir: string) => string[] }[] = [
  { name: 'compile -o', args: (s, d) => ['compile', s, '-o', join(d, 'out'), '--format', 'json'] },
  { name: 'check', args: (s) => ['check', s, '--format', 'json'] },
  { name: 'verify', args: (s) => ['verify', s, '--format', 'json'] },
  { name: 'diff', args: (s) => ['diff', s, s, '--format', 'json'] },
];

function shapeOf(arg: string): Shape {
  const [monitors, per] = arg.split('x').map(Number) as [number, number];
  return { monitors, per, every: monitors > 1 };
}

function main(): void {
  const shapes = process.argv.slice(2).length ? process.argv.slice(2).map(shapeOf) : SHAPES;
  const dir = mkdtempSync(join(tmpdir(), 'vmipolicy-limits-bench-'));
  const rows: string[][] = [];
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  try {
    for (const s of shapes) {
      const spec = join(dir, `fleet-${s.monitors}x${s.per}.yaml`);
      writeFileSync(spec, fleetSpec(s.monitors, s.per, s.every ? { tool: 'drakvuf', capabilities: EVERY_HVM_CAPABILITY } : {}));
      const domains = s.monitors * (s.per + 1);
      const label = `${s.monitors} × ${s.per}${s.every ? ', every capability' : ''} (${domains} domains, ${s.monitors * s.per} pairs, ${s.monitors * domains} probes; ${(statSync(spec).size / 1024).toFixed(0)} KiB)`;
      for (const c of COMMANDS) {
        rmSync(join(dir, 'out'), { recursive: true, force: true });
        const r = runCliMeasured(BIN, c.args(spec, dir), TIMEOUT_S);
        rows.push([label, c.name, `${r.seconds.toFixed(1)} s`, mib(r.kib), `${(r.seconds / BOUND.seconds).toFixed(2)}× / ${r.kib === undefined ? '—' : (r.kib / BOUND.kib).toFixed(2)}×`, r.status]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(['spec at the default limits', 'command', 'wall', 'peak RSS', 'of 60 s / 1 GiB', 'status'], rows);
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main();
