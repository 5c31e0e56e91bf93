// A stand-in for the GitHub CLI as the example workflow calls it, keeping a pull request's
// comments in the JSON file $FAKE_GH_STATE: `gh pr comment N --body-file F` adds one as
// github-actions[bot]; `gh api --paginate repos/R/issues/N/comments --jq EXPR` lists them
// through the real jq (gh's --jq prints strings raw, as jq -r does); `gh api --method PATCH
// repos/R/issues/comments/ID -F body=@F` edits one. Anything else exits 1 and says so, so a
// workflow that starts calling gh differently fails its test.
//
// node --test runs every .js under dist/test/, this file included: it acts only as the
// stand-in, when $FAKE_GH_STATE is set.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

interface Comment { id: number; user: { login: string }; body: string }

const GITHUB_COMMENT_LIMIT = 65_536;
const state = process.env.FAKE_GH_STATE;
const comments: Comment[] = state !== undefined && existsSync(state) ? (JSON.parse(readFileSync(state, 'utf8')) as Comment[]) : [];
const args = process.argv.slice(2);

function save(): void {
  writeFileSync(state as string, JSON.stringify(comments, null, 2));
}

function body(text: string): string {
  // GitHub counts characters; the limit is checked here as the API would refuse the call.
  if ([...text].length > GITHUB_COMMENT_LIMIT) {
    process.stderr.write(`gh: Body is too long (maximum is ${GITHUB_COMMENT_LIMIT} characters)\n`);
    process.exit(1);
  }
  return text;
}

function flag(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (state === undefined) {
  // Loaded by the test runner, not called by a workflow.
} else if (args[0] === 'pr' && args[1] === 'comment' && flag('--body-file')) {
  comments.push({ id: 1000 + comments.length, user: { login: 'github-actions[bot]' }, body: body(readFileSync(flag('--body-file') as string, 'utf8')) });
  save();
} else if (args[0] === 'api' && flag('--method') === 'PATCH') {
  const path = args.find((a) => a.startsWith('repos/')) ?? '';
  const id = Number(/\/issues\/comments\/(\d+)$/.exec(path)?.[1]);
  const field = flag('-F') ?? '';
  const target = comments.find((c) => c.id === id);
  if (!target || !field.startsWith('body=@')) {
    process.stderr.write(`gh: cannot edit ${path} with ${field}\n`);
    process.exit(1);
  }
  target.body = body(readFileSync(field.slice('body=@'.length), 'utf8'));
  save();
} else if (args[0] === 'api' && args.some((a) => /^repos\/[^/]+\/[^/]+\/issues\/\d+\/comments$/.test(a)) && flag('--jq')) {
  const jq = spawnSync('jq', ['-r', flag('--jq') as string], { input: JSON.stringify(comments), encoding: 'utf8' });
  process.stdout.write(jq.stdout);
  process.stderr.write(jq.stderr);
  process.exit(jq.status ?? 1);
} else {
  process.stderr.write(`fake gh: not modelled: gh ${args.join(' ')}\n`);
  process.exit(1);
}
