// `vmipolicy capabilities [--format text|markdown|json]`: the capability catalog and the tool
// profiles, from catalog/ alone.

import { CAPABILITIES } from '../catalog/capabilities.js';
import { capabilityReferenceMarkdown } from '../catalog/reference.js';
import { TOOL_NAMES, toolProfile } from '../catalog/tools.js';
import { XEN_RELEASES } from '../catalog/vocabulary.js';
import type { ParsedArgs } from './args.js';
import { EXIT_OK, usageError, type Io } from './io.js';

type Parsed = ParsedArgs;

export function runCapabilities(args: Parsed, io: Io): number {
  const format = args.flags.get('--format') ?? 'text';
  if (format === 'markdown') {
    io.stdout(capabilityReferenceMarkdown() + '\n');
  } else if (format === 'json') {
    const latest = XEN_RELEASES[XEN_RELEASES.length - 1] as string;
    io.stdout(JSON.stringify(CAPABILITIES.map((c) => ({
      name: c.name, summary: c.summary, requires: c.requires, targetKinds: c.targetKinds, control: c.control ?? null,
      grantsOnXen: latest,
      grants: { 'pv->hvm': c.targetKinds.includes('hvm') ? c.grants({ xen: latest, introspector: 'pv', target: 'hvm' }) : null,
        'hvm->hvm': c.targetKinds.includes('hvm') ? c.grants({ xen: latest, introspector: 'hvm', target: 'hvm' }) : null },
    })), null, 2) + '\n');
  } else if (format === 'text') {
    const width = Math.max(...CAPABILITIES.map((c) => c.name.length));
    for (const c of CAPABILITIES) io.stdout(`${c.name.padEnd(width)}  ${c.summary}\n`);
    io.stdout('\nTool profiles (introspectors[].tool):\n');
    for (const t of TOOL_NAMES) {
      const p = toolProfile(t);
      const adds = p.mandatory.map((m) => m.capability);
      io.stdout(`${t.padEnd(width)}  ${p.summary}${adds.length ? ` Adds ${adds.join(', ')}.` : ''}\n`);
    }
    io.stdout('\nFull reference: vmipolicy capabilities --format markdown (also docs/capabilities.md)\n');
  } else {
    return usageError(io, `--format must be text, markdown or json for capabilities, not ${format}`);
  }
  return EXIT_OK;
}
