import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { LABELS } from '../../src/activities/docker/container-options';
import { CallbackBodySchema } from '../../src/results/result-schema';
import { validateGradeResult } from '../../src/results/schemas';
import { EXAMPLE_IMAGE_TAGS } from '../../src/setup/images';
import { useTempDir } from '../helpers/hooks';
import { GRADESCOPE_RUNUSER, GRADESCOPE_SAMPLE, SCRIPT_RUNNER } from '../helpers/images';

/**
 * `gradeflow try`, the real CLI (bin/gradeflow.js, built), on the local Docker engine: no Temporal, no
 * database. Its exit code says whether the grading succeeded; the reason and origin say why not.
 */

const BIN = path.resolve(__dirname, '../../bin/gradeflow.js');
const ROOT = path.resolve(__dirname, '../..');
const dir = useTempDir('try-cli');
const docker = new Dockerode();
const validateCallback = new Ajv({ strict: false }).compile(CallbackBodySchema);

/** A config with a flavour whose time limit is short, and one that allows root (Gradescope's own pattern). */
function configFile(): string {
  const file = path.join(dir(), 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      dataDir: path.join(dir(), 'data'),
      flavours: { default: {}, quick: { timeLimitSeconds: 2 }, root: { allowRoot: true }, gradescope: { allowRoot: true, switchUser: true } },
    }),
  );
  return file;
}

function gradeflowTry(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, 'try', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, GRADEFLOW_CONFIG: configFile(), ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
}

function script(name: string, text: string): string {
  const file = path.join(dir(), name);
  writeFileSync(file, text);
  return file;
}

/** Containers `try` left behind (its host label is "try"), of this submission. */
async function leftovers(submissionId: string): Promise<number> {
  const found = await docker.listContainers({ all: true, filters: { label: [`${LABELS.host}=try`, `${LABELS.submission}=${submissionId}`] } });
  return found.length;
}

describe('gradeflow try', () => {
  it('a grading that succeeds: exit 0, the result and the callback body it would send, no container left', async () => {
    const run = await gradeflowTry(['--image', EXAMPLE_IMAGE_TAGS.correctomatic, '--file', 'examples/sum-grader/submission/sum.sh', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { spec: Record<string, any>; result: Record<string, any>; callback_body: Record<string, any> };
    expect(out.result).toMatchObject({ success: true, grade: 10, format: 'correctomatic', exit_code: 0 });
    expect(validateGradeResult(out.result)).toBe(true);
    expect(validateCallback(out.callback_body)).toBe(true);
    expect(out.callback_body).toMatchObject({ success: true, grade: 10, attempt: 1, work_id: null, submission_id: out.spec.submissionId });
    expect(out.callback_body).not.toHaveProperty('stdout');
    // The production limits of the flavour, from this configuration.
    expect(out.spec).toMatchObject({ flavour: 'default', limits: { timeLimitSeconds: 60, memoryMb: 256, pids: 128 } });
    expect(await leftovers(out.spec.submissionId)).toBe(0);
  });

  it("a grader whose output is invalid: non-zero, the reason and whose fault it is shown", async () => {
    const file = script('garbage.sh', 'echo "this is not a result"\n');
    const run = await gradeflowTry(['--image', SCRIPT_RUNNER, '--file', file, '--format', 'correctomatic']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('NOT graded: reason invalid_response, origin grader');
    expect(run.stdout).toContain('callback body gradeflow would send:');
    expect(run.stdout).toMatch(/"reason": "invalid_response"/);
  });

  it("the flavour's time limit: stopped, time_limit_exceeded charged to the student, the container removed", async () => {
    const file = script('slow.sh', 'echo started; sleep 60\n');
    const run = await gradeflowTry(['--image', SCRIPT_RUNNER, '--file', file, '--flavour', 'quick', '--json']);
    expect(run.code).toBe(1);
    const out = JSON.parse(run.stdout) as { spec: Record<string, any>; result: Record<string, any> };
    expect(out.result).toMatchObject({ success: false, reason: 'time_limit_exceeded', origin: 'student' });
    expect(out.result.duration_ms).toBeGreaterThanOrEqual(2000);
    // Far below the script's 60 s: the 2 s limit stopped it (slack for a loaded machine).
    expect(run.ms).toBeLessThan(40_000);
    expect(await leftovers(out.spec.submissionId)).toBe(0);
  });

  it('usage mistakes: exit 2, naming the option', async () => {
    const run = await gradeflowTry(['--image', SCRIPT_RUNNER, '--file', 'examples/sum-grader/submission/sum.sh', '--format', 'xml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--format must be one of');
  });

  it("Gradescope's Python sample as Gradescope runs it, as root (a flavour with allowRoot): its run_autograder writes into /autograder/source", async () => {
    const run = await gradeflowTry([
      '--image', GRADESCOPE_SAMPLE, '--format', 'gradescope', '--flavour', 'root', '--json',
      '--file', 'test/fixtures/gradescope-sample/solution/calculator.py',
    ]);
    expect(run.code).toBe(0);
    const { result } = JSON.parse(run.stdout) as { result: Record<string, any> };
    const partial = result.tests.find((t: { name: string }) => t.name === 'Sets partial credit');
    expect(result).toMatchObject({ success: true, max_grade: 30, grade_visibility: 'after_published' });
    expect(result.grade).toBeCloseTo(20 + partial.score, 4);
  });

  it("Gradescope's `runuser -u student`: works with switchUser (SETUID, SETGID), the student cannot reach the grader's files; refused without", async () => {
    const probe = script('probe.sh', 'id -un\ncat /autograder/source/secret.txt 2>/dev/null || echo no-secret\ntouch /autograder/run_autograder 2>/dev/null && echo changed-grader || echo grader-untouched\n');
    const ok = await gradeflowTry(['--image', GRADESCOPE_RUNUSER, '--format', 'gradescope', '--flavour', 'gradescope', '--file', probe, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).result.feedback.content).toBe('student no-secret grader-untouched ');
    // Root without switchUser keeps no capability at all: runuser cannot switch.
    const refused = await gradeflowTry(['--image', GRADESCOPE_RUNUSER, '--format', 'gradescope', '--flavour', 'root', '--file', probe, '--json']);
    expect(refused.code).toBe(1);
    const { result } = JSON.parse(refused.stdout) as { result: Record<string, any> };
    expect(result.reason).toBe('crashed');
    expect(result.stderr.text).toContain('runuser: cannot set groups: Operation not permitted');
  });
});
