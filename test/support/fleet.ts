// The generated fleet the scale benchmarks and the progress tests run: `monitors` LibVMI
// monitors, each with `per` HVM targets of its own, in flow style to stay compact (100 × 100
// is 372 KiB).

/** The capabilities fleet monitors declare by default: what a LibVMI process-list tool needs. */
const FLEET_CAPABILITIES = ['domain-info', 'libvmi-init', 'read-memory', 'read-registers', 'pause'];

/**
 * Every capability a DRAKVUF monitor can hold on an HVM target: the most work the self-test
 * does per pair (the scale-limit benchmark's worst case).
 */
export const EVERY_HVM_CAPABILITY = [...FLEET_CAPABILITIES, 'write-memory', 'write-registers', 'tsc-info', 'memory-events', 'register-events', 'breakpoint-events', 'singlestep', 'altp2m', 'inject-events', 'vmtrace'];

export function fleetSpec(monitors: number, per: number, fleet: { readonly tool?: 'libvmi' | 'drakvuf'; readonly capabilities?: readonly string[] } = {}): string {
  const tool = fleet.tool ?? 'libvmi';
  const capabilities = (fleet.capabilities ?? FLEET_CAPABILITIES).join(', ');
  const lines = ['vmipolicy: 1', 'xen: "4.17.7"', 'policy: {module: fleet, mode: standalone}', 'introspectors:'];
  const targets: string[] = [];
  for (let m = 0; m < monitors; m++) {
    const own = Array.from({ length: per }, (_, i) => `t${m * per + i}`);
    targets.push(...own);
    lines.push(`  - {name: m${m}, guest: pv, tool: ${tool}, targets: [${own.join(', ')}], capabilities: [${capabilities}]}`);
  }
  lines.push('targets:', ...targets.map((t) => `  - {name: ${t}, guest: hvm}`), '');
  return lines.join('\n');
}
