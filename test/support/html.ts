// The hostile input of the HTML report's tests: a deployed policy whose `#line` marker names
// a file that is markup (a script, an image whose error handler runs code, an entity, a
// quote), checked against a spec whose own file name is markup too. Every string of it must
// reach the page as text; none may run.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileStandalone, inject } from './checker.js';
import { repoPath } from './env.js';

/** A `#line` file name (a marker's name holds no double quote) that is markup; `window.pwned` is set if any of it runs. */
export const HOSTILE_FILE = `<script>window.pwned=1</script><img src=x onerror=window.pwned=2>&amp;'.te`;

/** A spec file name that is markup (no slash, so it can be a file's name). */
export const HOSTILE_SPEC = `<svg onload=window.pwned=3>'&.yaml`;

/** Writes the case into `dir`: the spec (tinyvmi) and a policy granting an excess permission at the hostile file. */
export function writeHostileCase(dir: string): { readonly spec: string; readonly policy: string } {
  mkdirSync(dir, { recursive: true });
  const yaml = readFileSync(repoPath('examples', 'tinyvmi', 'vmi.yaml'), 'utf8');
  const { policyText } = compileStandalone(yaml, 'vmi.yaml');
  const injected = inject(policyText, [`#line 7 "${HOSTILE_FILE}"`, 'allow tinyvmi_t ubuntu_t:domain shutdown;']);
  const spec = join(dir, HOSTILE_SPEC);
  const policy = join(dir, 'policy.conf');
  writeFileSync(spec, yaml);
  writeFileSync(policy, injected.text);
  return { spec, policy };
}
