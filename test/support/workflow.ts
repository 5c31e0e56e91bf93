// Runs the `run:` steps of a GitHub Actions job locally, as the runner would on
// ubuntu-latest: each script under `bash --noprofile --norc -eo pipefail`, the job's and the
// step's `env:`, `$GITHUB_OUTPUT` read back into `steps.<id>.outputs`, and `if:` decided
// for the expressions the example workflow uses (`always()`, comparisons of step outputs,
// `&&`). Steps that `uses:` an action are left out, or replaced by a script the test gives.
// An expression this runner does not know fails the test instead of being guessed.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface WorkflowStep {
  readonly name?: string;
  readonly id?: string;
  readonly if?: string;
  readonly run?: string;
  readonly uses?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface WorkflowJob {
  readonly env?: Readonly<Record<string, string>>;
  readonly permissions?: Readonly<Record<string, string>>;
  readonly steps: readonly WorkflowStep[];
}

export interface StepResult {
  readonly name: string;
  readonly ran: boolean;
  readonly status?: number;
  readonly output?: string;
}

export interface JobRun {
  readonly ok: boolean;
  readonly steps: readonly StepResult[];
}

export function readJob(workflowFile: string, job: string): WorkflowJob {
  const doc = parse(readFileSync(workflowFile, 'utf8')) as { jobs: Record<string, WorkflowJob> };
  const found = doc.jobs[job];
  if (!found) throw new Error(`no job ${job} in ${workflowFile}`);
  return found;
}

export interface RunJobOptions {
  readonly cwd: string;
  /** Values for `${{ … }}` contexts other than steps (github.event…, github.token). */
  readonly contexts: Readonly<Record<string, string>>;
  /** Replaces the job env's values (a test pins the tool as a user would). */
  readonly env?: Readonly<Record<string, string>>;
  /** Environment every step inherits: PATH with the test's stand-ins first. */
  readonly baseEnv: NodeJS.ProcessEnv;
  /** Scripts for steps by name, instead of their own (`uses:` steps included). */
  readonly replace?: Readonly<Record<string, string>>;
  /** A scratch directory for $GITHUB_OUTPUT files. */
  readonly scratch: string;
}

export function runJob(job: WorkflowJob, options: RunJobOptions): JobRun {
  const outputs = new Map<string, Map<string, string>>();
  const results: StepResult[] = [];
  let failed = false;
  const expand = (value: string): string =>
    value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => contextValue(expr, options.contexts, outputs));
  const jobEnv = Object.fromEntries(Object.entries(job.env ?? {}).map(([k, v]) => [k, expand(String(v))]));
  Object.assign(jobEnv, options.env ?? {});
  job.steps.forEach((step, index) => {
    const name = step.name ?? step.uses ?? `step ${index}`;
    const script = options.replace?.[name] ?? step.run;
    const runs = step.if === undefined ? !failed : condition(step.if, failed, outputs);
    if (!runs || script === undefined) {
      results.push({ name, ran: false });
      return;
    }
    const outputFile = join(options.scratch, `output-${index}`);
    writeFileSync(outputFile, '');
    const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(String(v))]));
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      cwd: options.cwd,
      encoding: 'utf8',
      env: { ...options.baseEnv, ...jobEnv, ...stepEnv, GITHUB_OUTPUT: outputFile },
    });
    if (step.id) {
      const map = new Map<string, string>();
      for (const line of readFileSync(outputFile, 'utf8').split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) map.set(line.slice(0, eq), line.slice(eq + 1));
      }
      outputs.set(step.id, map);
    }
    const status = r.status ?? -1;
    if (status !== 0) failed = true;
    results.push({ name, ran: true, status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` });
  });
  return { ok: !failed, steps: results };
}

function contextValue(expr: string, contexts: Readonly<Record<string, string>>, outputs: ReadonlyMap<string, ReadonlyMap<string, string>>): string {
  const step = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
  if (step) return outputs.get(step[1] as string)?.get(step[2] as string) ?? '';
  const value = contexts[expr];
  if (value === undefined) throw new Error(`the test runner has no value for \${{ ${expr} }}`);
  return value;
}

/** `if:` as the runner decides it: a conjunction of always() and output comparisons. */
function condition(expr: string, failed: boolean, outputs: ReadonlyMap<string, ReadonlyMap<string, string>>): boolean {
  let always = false;
  let holds = true;
  for (const term of expr.split('&&').map((t) => t.trim())) {
    if (term === 'always()') {
      always = true;
      continue;
    }
    const cmp = /^steps\.([\w-]+)\.outputs\.([\w-]+)\s*(==|!=)\s*'([^']*)'$/.exec(term);
    if (!cmp) throw new Error(`the test runner does not know the condition ${term}`);
    const actual = outputs.get(cmp[1] as string)?.get(cmp[2] as string) ?? '';
    holds &&= cmp[3] === '==' ? actual === cmp[4] : actual !== cmp[4];
  }
  // Without a status function a condition implies success(), as on GitHub.
  return holds && (always || !failed);
}
