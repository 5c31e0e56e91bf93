// The generated fleet the scale benchmarks and the progress tests run: `monitors` LibVMI
// monitors, each with `per` HVM targets of its own, in flow style to stay compact (100 × 100
// is 372 KiB).

export function fleetSpec(monitors: number, per: number): string {
  const lines = ['vmipolicy: 1', 'xen: "4.17.7"', 'policy: {module: fleet, mode: standalone}', 'introspectors:'];
  const targets: string[] = [];
  for (let m = 0; m < monitors; m++) {
    const own = Array.from({ length: per }, (_, i) => `t${m * per + i}`);
    targets.push(...own);
    lines.push(`  - {name: m${m}, guest: pv, tool: libvmi, targets: [${own.join(', ')}], capabilities: [domain-info, libvmi-init, read-memory, read-registers, pause]}`);
  }
  lines.push('targets:', ...targets.map((t) => `  - {name: ${t}, guest: hvm}`), '');
  return lines.join('\n');
}
