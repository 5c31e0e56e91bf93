// Writing artifacts atomically: everything goes to a fresh sibling directory first, which
// then replaces the destination in one rename. An existing destination is replaced only if
// vmipolicy wrote it (its manifest.json says so), so a typo in -o cannot wipe a directory.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';

export type WriteOutcome = { ok: true } | { ok: false; reason: 'not-ours' | 'failed'; detail: string };

function writtenByUs(dir: string): boolean {
  if (readdirSync(dir).length === 0) return true;
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { generator?: unknown };
    return typeof m.generator === 'string' && m.generator.startsWith('vmipolicy ');
  } catch {
    return false;
  }
}

export function writeArtifacts(outDir: string, artifacts: ReadonlyMap<string, string>): WriteOutcome {
  const dest = resolve(outDir);
  if (existsSync(dest)) {
    if (!statSync(dest).isDirectory() || !writtenByUs(dest)) return { ok: false, reason: 'not-ours', detail: outDir };
  }
  let staging: string | undefined;
  try {
    mkdirSync(dirname(dest), { recursive: true });
    staging = mkdtempSync(join(dirname(dest), `.${basename(dest)}.vmipolicy-`));
    for (const [rel, content] of artifacts) {
      const file = join(staging, rel);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
    }
    if (existsSync(dest)) {
      const old = `${staging}.old`;
      renameSync(dest, old);
      renameSync(staging, dest);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(staging, dest);
    }
    return { ok: true };
  } catch (e) {
    if (staging) rmSync(staging, { recursive: true, force: true });
    return { ok: false, reason: 'failed', detail: (e as Error).message };
  }
}
