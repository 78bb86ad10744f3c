import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTemporalCli } from '../../src/setup/temporal-cli';
import { PROJECT_ROOT } from '../../src/setup/paths';
import type { RegradeProgress } from '../../src/shared/regrade-contracts';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack, useTemporalClient } from '../helpers/hooks';
import { b64file, docker } from '../helpers/stack';

const run = promisify(execFile);

/** Small numbers so that a few submissions exercise the window, the pages and continue-as-new. */
const stack = useStack('assignment-regrade', {
  regrades: { concurrency: 2, pageSize: 2, pollIntervalMs: 250, continueAsNewAfter: 2, maxStudentIds: 100 },
});
const receiver = useReceiver(stack);
const client = useTemporalClient(stack);

/** Its grade: 3, plus the image's REGRADE_MARK (the "fixed" grader adds 2). */
const marked = b64file('grade.sh', 'echo "{\\"success\\": true, \\"grade\\": $((3 + ${REGRADE_MARK:-0}))}"');
const slow = b64file('grade.sh', 'sleep 1.5; echo \'{"success": true, "grade": 1}\'');
/** The script runner with `REGRADE_MARK=2`: a grader "fixed" after the deadline. */
const FIXED_IMAGE = 'gradeflow-test/script-runner:regrade-fixed';

const A = `hw-${Date.now().toString(36)}`;
const SLOW = `slow-${Date.now().toString(36)}`;
const ids: Record<string, string> = {};

async function submit(key: string, assignment: string, student: string | undefined, file: { name: string; content_base64: string }) {
  const res = await stack.post({
    image: SCRIPT_RUNNER,
    work_id: `${assignment}-${key}`,
    assignment_id: assignment,
    ...(student ? { student_id: student } : {}),
    course_id: 'c1',
    callback: receiver.url(),
    file,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  ids[key] = res.body.id as string;
  return ids[key]!;
}

async function startRegrade(assignment: string, body: Record<string, unknown> = {}) {
  const res = await stack.request('POST', `/v1/assignments/${assignment}/regrade`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body as { regrade_id: string; workflow_id: string; n: number };
}

async function progress(id: string): Promise<Record<string, any>> {
  const res = await stack.request('GET', `/v1/regrades/${id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function until<T>(what: string, get: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms; last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const attemptsOf = async (key: string) => ((await stack.get(ids[key]!)).body as any).attempts as Array<Record<string, any>>;

beforeAll(async () => {
  // The fixed grader: the same image with one more environment variable.
  const c = await docker.createContainer({ Image: SCRIPT_RUNNER });
  const [repo, tag] = FIXED_IMAGE.split(':');
  await c.commit({ repo, tag, changes: ['ENV REGRADE_MARK=2'] });
  await c.remove();
  // Assignment A: student s1 twice (the second is the latest), s2 and s3 once, one without a student.
  await submit('s1-old', A, 's1', marked);
  await new Promise((r) => setTimeout(r, 20));
  await submit('s1-new', A, 's1', marked);
  await submit('s2', A, 's2', marked);
  await submit('s3', A, 's3', marked);
  for (const key of ['s1-old', 's1-new', 's2', 's3']) await stack.waitFor(ids[key]!, (b) => b.status === 'completed', 90_000);
  // The slow assignment: 8 gradings of 1.5 s.
  for (let i = 0; i < 8; i++) await submit(`slow-${i}`, SLOW, `p${i}`, slow);
  for (let i = 0; i < 8; i++) await stack.waitFor(ids[`slow-${i}`]!, (b) => b.status === 'completed', 120_000);
}, 240_000);

afterAll(async () => {
  await docker.getImage(FIXED_IMAGE).remove({ force: true }).catch(() => undefined);
});

describe('assignment regrade', () => {
  it('regrades each student\'s latest submission through its own workflow, continuing as new, with progress', async () => {
    const started = await startRegrade(A, { reason: 'grader fixed' });
    expect(started.workflow_id).toBe(`regrade/test/${A}/1`);
    expect(started.n).toBe(1);
    const end = await until('regrade finished', () => progress(started.regrade_id), (p) => p.finished === true);
    expect(end).toMatchObject({ status: 'completed', total: 3, done: 3, failed: 0, running: 0, changed: 0, paused: false, cancelled: false });
    expect((await attemptsOf('s1-new')).length).toBe(2);
    expect((await attemptsOf('s1-old')).length).toBe(1);
    expect((await attemptsOf('s2')).map((a) => a.image)).toEqual([SCRIPT_RUNNER, SCRIPT_RUNNER]);
    // The second attempts' callbacks went out.
    await receiver.waitForOne((c) => c.body.submission_id === ids.s3 && c.body.attempt === 2);
    // Three outcomes with continueAsNewAfter 2: the run continued as new at least once.
    const result = (await client.workflow.getHandle(started.workflow_id).result()) as RegradeProgress;
    expect(result.continuedAsNew).toBeGreaterThanOrEqual(1);
    // No personal data in the search attributes: only platform and assignment.
    const info = await client.workflow.getHandle(started.workflow_id).describe();
    expect(Object.keys(info.searchAttributes).sort()).toEqual(expect.not.arrayContaining(['GradeflowStudent']));
    expect(JSON.stringify(info.searchAttributes)).not.toMatch(/"s[123]"/);
  });

  it('takes every submission of the listed students with scope "all"; numbers regrades per assignment', async () => {
    const started = await startRegrade(A, { scope: 'all', student_ids: ['s1'] });
    expect(started.n).toBe(2);
    const end = await until('regrade finished', () => progress(started.regrade_id), (p) => p.finished === true);
    expect(end).toMatchObject({ total: 2, done: 2, failed: 0 });
    expect((await attemptsOf('s1-old')).length).toBe(2);
    expect((await attemptsOf('s2')).length).toBe(2);
  });

  it('regrades with a new image: the changed grades are counted, each attempt says its image, the assignment takes it', async () => {
    const refused = await stack.request('POST', `/v1/assignments/${A}/regrade`, { image: 'evil/miner:1' });
    expect(refused.status).toBe(403);
    expect((refused.body as any).error.field).toBe('image');
    const badScope = await stack.request('POST', `/v1/assignments/${A}/regrade`, { scope: 'some' });
    expect(badScope.status).toBe(400);
    expect((badScope.body as any).error.field).toBe('scope');

    const started = await startRegrade(A, { image: FIXED_IMAGE, update_assignment: true });
    const end = await until('regrade finished', () => progress(started.regrade_id), (p) => p.finished === true);
    expect(end).toMatchObject({ total: 3, done: 3, failed: 0, changed: 3 });
    const attempts = await attemptsOf('s2');
    expect(attempts.at(-1)).toMatchObject({ grade: 5, image: FIXED_IMAGE });
    expect(attempts[0]).toMatchObject({ grade: 3, image: SCRIPT_RUNNER });
    expect(((await stack.get(ids.s2!)).body as any).image).toBe(FIXED_IMAGE);
    const cb = await receiver.waitForOne((c) => c.body.submission_id === ids.s2 && c.body.attempt === attempts.length);
    expect(cb.body.grade).toBe(5);
    expect(((await stack.request('GET', `/v1/assignments/${A}`)).body as any).image).toBe(FIXED_IMAGE);

    // One submission back to the old image, through the per-submission regrade.
    const one = await stack.request('POST', `/v1/submissions/${ids.s3}/regrade`, { image: SCRIPT_RUNNER });
    expect(one.status, JSON.stringify(one.body)).toBe(202);
    const n = (one.body as any).previous_attempts + 1;
    const done = await stack.waitFor(ids.s3!, (b) => b.attempts.length === n && b.status === 'completed', 60_000);
    expect(done.attempts.at(-1)).toMatchObject({ grade: 3, image: SCRIPT_RUNNER });
    const bad = await stack.request('POST', `/v1/submissions/${ids.s3}/regrade`, { image: 'evil/miner:1' });
    expect(bad.status).toBe(403);
  });

  it('pauses, resumes and cancels through the API', async () => {
    const started = await startRegrade(SLOW);
    expect((await stack.request('POST', `/v1/regrades/${started.regrade_id}/pause`)).status).toBe(202);
    const paused = await until('paused and drained', () => progress(started.regrade_id), (p) => p.paused === true && p.running === 0);
    expect(paused.done).toBeLessThan(8);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await progress(started.regrade_id)).toMatchObject({ paused: true, running: 0, done: paused.done });

    expect((await stack.request('POST', `/v1/regrades/${started.regrade_id}/resume`)).status).toBe(202);
    await until('resumed', () => progress(started.regrade_id), (p) => p.paused === false && p.done > paused.done);
    expect((await stack.request('POST', `/v1/regrades/${started.regrade_id}/pause`)).status).toBe(202);
    const again = await until('paused again', () => progress(started.regrade_id), (p) => p.running === 0);
    expect((await stack.request('POST', `/v1/regrades/${started.regrade_id}/cancel`)).status).toBe(202);
    const end = await until('cancelled', () => progress(started.regrade_id), (p) => p.status !== 'running');
    expect(end).toMatchObject({ status: 'cancelled', cancelled: true, total: 8, done: again.done });
    expect(end.done).toBeLessThan(8);
    // Nothing more is regraded after the cancel.
    await new Promise((r) => setTimeout(r, 2000));
    let regraded = 0;
    for (let i = 0; i < 8; i++) if ((await attemptsOf(`slow-${i}`)).length > 1) regraded++;
    expect(regraded).toBe(end.done);
    // Signals to an ended regrade: 409. Another platform does not see it.
    expect((await stack.request('POST', `/v1/regrades/${started.regrade_id}/resume`)).status).toBe(409);
    const other = await fetch(`${stack.server.url}/v1/regrades/${started.regrade_id}`, { headers: { authorization: `Bearer ${stack.otherApiKey}` } });
    expect(other.status).toBe(404);
  });

  it('answers the exact Temporal CLI commands of docs/operations.md against a live regrade', async () => {
    const cli = await ensureTemporalCli();
    const started = await startRegrade(SLOW);
    const wf = started.workflow_id;
    const common = ['--address', stack.config.temporal.address!, '--namespace', stack.config.temporal.namespace];
    const signal = (name: string) => run(cli, ['workflow', 'signal', '--workflow-id', wf, '--name', name, ...common]);
    const query = async (): Promise<RegradeProgress> => {
      const { stdout } = await run(cli, ['workflow', 'query', '--workflow-id', wf, '--type', 'progress', '--output', 'json', ...common]);
      const parsed = JSON.parse(stdout) as { queryResult: [RegradeProgress] };
      return parsed.queryResult[0];
    };
    await signal('pause');
    const paused = await until('paused (CLI)', query, (p) => p.paused && p.running === 0);
    expect(paused.total).toBe(8);
    await signal('resume');
    await until('resumed (CLI)', query, (p) => !p.paused && p.done > paused.done);
    await signal('cancel');
    const end = await until('cancelled (API after CLI)', () => progress(started.regrade_id), (p) => p.status !== 'running');
    expect(end).toMatchObject({ status: 'cancelled', cancelled: true });
  });

  it('finds submissions: filtered, newest first, in pages, platform-scoped, 400 naming a bad field', async () => {
    const page1 = await stack.request('GET', `/v1/submissions?assignment_id=${A}&limit=3`);
    expect(page1.status).toBe(200);
    const b1 = page1.body as { items: Array<Record<string, any>>; next_cursor: string | null };
    expect(b1.items.map((s) => s.id)).toEqual([ids.s3, ids.s2, ids['s1-new']]);
    expect(b1.next_cursor).toEqual(expect.any(String));
    const page2 = await stack.request('GET', `/v1/submissions?assignment_id=${A}&limit=3&cursor=${b1.next_cursor}`);
    const b2 = page2.body as { items: Array<Record<string, any>>; next_cursor: string | null };
    expect(b2.items.map((s) => s.id)).toEqual([ids['s1-old']]);
    expect(b2.next_cursor).toBeNull();

    const s1 = await stack.request('GET', `/v1/submissions?student_id=s1&course_id=c1&status=completed`);
    expect((s1.body as any).items.map((s: any) => s.id)).toEqual([ids['s1-new'], ids['s1-old']]);
    const future = await stack.request('GET', `/v1/submissions?assignment_id=${A}&since=2999-01-01`);
    expect((future.body as any).items).toEqual([]);
    const other = await fetch(`${stack.server.url}/v1/submissions?assignment_id=${A}`, { headers: { authorization: `Bearer ${stack.otherApiKey}` } });
    expect(((await other.json()) as any).items).toEqual([]);

    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=1000', 'limit'],
      ['status=done', 'status'],
      ['since=yesterday', 'since'],
      ['cursor=bm9wZQ', 'cursor'],
      ['student=s1', 'student'],
    ] as const) {
      const res = await stack.request('GET', `/v1/submissions?${query}`);
      expect(res.status, query).toBe(400);
      expect((res.body as any).error.field, query).toBe(field);
    }
  });

  it('gradeflow regrade: starts it, follows it, ends with a summary', async () => {
    const { stdout } = await run(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin', 'gradeflow.js'), 'regrade', '--assignment', A, '--api', stack.server.url, '--api-key', stack.apiKey, '--image', SCRIPT_RUNNER, '--interval', '200'],
      { timeout: 120_000 },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^regrade \S+ started \(workflow regrade\/test\/.+\/\d+\)$/);
    expect(lines.some((l) => /^\[[#.]{30}\] \d+\/3 {2}running \d+/.test(l))).toBe(true);
    // From the fixed grader's 5 back to 3; s3 was already back at 3 (the per-submission regrade above).
    expect(lines.at(-1)).toBe('regraded 3, changed grade 2, failed 0');
  });

  it('gradeflow regrade on a terminal: redraws one line in place, then prints the summary', async () => {
    // A real pseudo-terminal (util-linux `script`): stdout.isTTY is true in the CLI, as in an instructor's shell.
    const cli = [process.execPath, path.join(PROJECT_ROOT, 'bin', 'gradeflow.js'), 'regrade', '--assignment', SLOW, '--api', stack.server.url, '--api-key', stack.apiKey, '--interval', '200'];
    const { stdout } = await run('script', ['-qfec', cli.map((a) => `'${a}'`).join(' '), '/dev/null'], { timeout: 180_000 });
    // The terminal turns each "\n" into "\r\n"; the CLI's own redraws are "\r" + line + erase-to-end-of-line.
    const out = stdout.replace(/\r\n/g, '\n');
    const [startLine, progress, summary, ...rest] = out.split('\n');
    expect(startLine).toMatch(/^regrade \S+ started \(workflow regrade\/test\/.+\/\d+\)$/);
    // All the progress on one line: each redraw starts with a carriage return and ends erasing the rest.
    const redraws = progress!.split('\r').filter(Boolean);
    expect(redraws.length).toBeGreaterThanOrEqual(3);
    for (const r of redraws) expect(r).toMatch(/^\[[#.]{30}\] \d+\/(8|\?) {2}running \d+ {2}failed 0 {2}changed 0\u001b\[K$/);
    expect(new Set(redraws).size).toBeGreaterThanOrEqual(2); // it moved
    expect(redraws.at(-1)).toMatch(/^\[#{30}\] 8\/8 /);
    expect(summary).toBe('regraded 8, changed grade 0, failed 0');
    expect(rest.join('')).toBe('');
  }, 200_000);
});
