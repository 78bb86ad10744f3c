import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTemporalCli } from '../../src/setup/temporal-cli';
import { SA } from '../../src/shared/search-attributes';
import { statusQuery } from '../../src/workflows/messages';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack, useTemporalClient } from '../helpers/hooks';
import { b64file } from '../helpers/stack';

/**
 * What an operator sees in the Temporal UI and CLI, against the real stack (Temporal dev server, Docker,
 * PostgreSQL, an HTTP receiver): a grading whose container runs is listed by `GradeflowPhase="running"`
 * with its host as soon as the container starts (the grading host's `containerStarted` signal), and the
 * `status` query says so; a grading that ran out of time is found by its outcome attributes; a delivered
 * attempt says when (first try or retries); a cancelled running attempt keeps its host and start time.
 */
const stack = useStack('ui-truth');
const receiver = useReceiver(stack);
const temporal = useTemporalClient(stack);
const run = promisify(execFile);
let cli: string;

beforeAll(async () => {
  cli = await ensureTemporalCli();
});

/** `temporal workflow list --query Q` against the stack's server: the workflow ids listed. */
async function listed(query: string): Promise<string[]> {
  const { stdout } = await run(cli, [
    'workflow', 'list', '--query', query, '--output', 'json',
    '--address', stack.config.temporal.address!, '--namespace', stack.config.temporal.namespace,
  ]);
  // The CLI prints one JSON array (an empty list: `[]` or nothing at all).
  const rows = stdout.trim() ? (JSON.parse(stdout) as Array<{ execution: { workflowId: string } }>) : [];
  return rows.map((r) => r.execution.workflowId);
}

/** Poll `get` until `done` holds for what it answers (visibility is eventually consistent). */
async function until<T>(what: string, get: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms; last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function submit(workId: string, script: string, extra: Record<string, unknown> = {}) {
  const res = await stack.post({ image: SCRIPT_RUNNER, work_id: workId, callback: receiver.url(), file: b64file('grade.sh', script), ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return { id: res.body.id as string, workflowId: `submission/test/w/${workId}` };
}

const inList = (workflowId: string) => (ids: string[]) => ids.includes(workflowId);

describe('the Temporal UI tells the truth', () => {
  it('a running grading is listed by GradeflowPhase="running" with its host, and the status query says running; once delivered, delivered_at is set', async () => {
    const workId = `ui-running-${Date.now()}`;
    const s = await submit(workId, 'sleep 4; echo \'{"success": true, "grade": 2}\'');
    const query = `GradeflowPhase="running" AND GradeflowHost="${stack.hostId}" AND WorkflowId="${s.workflowId}"`;
    await until('listed as running', () => listed(query), inList(s.workflowId));
    const status = await temporal.workflow.getHandle(s.workflowId).query(statusQuery);
    expect(status).toMatchObject({ phase: 'running', attempt: 1, host: stack.hostId });
    expect(Date.parse(status.timings.startedAt!)).toBeGreaterThan(Date.parse(status.timings.queuedAt));
    // The grading is still going: the container sleeps 4 s and no callback has come.
    expect(receiver.received.some((c) => c.body.work_id === workId)).toBe(false);

    await receiver.waitForOne((c) => c.body.work_id === workId);
    const done = await stack.waitFor(s.id, (b) => b.status === 'completed' && b.attempts[0]?.delivery?.status === 'delivered');
    const a = done.attempts[0];
    expect(a.host).toBe(stack.hostId);
    expect(a.timings.delivered_at).not.toBeNull();
    expect(a.timings.delivered_at).toBe(a.delivery.delivered_at);
    expect(Date.parse(a.timings.delivered_at)).toBeGreaterThanOrEqual(Date.parse(a.timings.graded_at));
    await until('listed as graded and completed', () => listed(`GradeflowReason="graded" AND GradeflowPhase="completed" AND WorkflowId="${s.workflowId}"`), inList(s.workflowId));
    expect(await listed(`GradeflowPhase="running" AND WorkflowId="${s.workflowId}"`)).toEqual([]);
  });

  it('a grading over its time limit is found by GradeflowReason and GradeflowOrigin; the details say so', async () => {
    const workId = `ui-timeout-${Date.now()}`;
    const s = await submit(workId, 'sleep 30', { limits: { time_limit_seconds: 1 } });
    await until(
      'listed by its outcome',
      () => listed(`GradeflowReason="time_limit_exceeded" AND GradeflowOrigin="student" AND GradeflowPlatform="test" AND WorkflowId="${s.workflowId}"`),
      inList(s.workflowId),
      60_000,
    );
    // An infrastructure failure is told apart: this one is not listed there.
    expect(await listed(`GradeflowOrigin="infrastructure" AND WorkflowId="${s.workflowId}"`)).toEqual([]);
    const described = await temporal.workflow.getHandle(s.workflowId).describe();
    expect(described.typedSearchAttributes.get(SA.reason)).toBe('time_limit_exceeded');
    // The UI's "Current Details" (the workflow's metadata query, as the UI asks it): the outcome, no grade.
    const metadata = await temporal.workflow.getHandle(s.workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toMatch(/^\*\*completed\*\* · attempt 1 · host \S+ · attempt 1: \*\*time_limit_exceeded\*\* \(student\)$/);
  });

  it('a delivery made by the retries (the first try refused) sets delivered_at too', async () => {
    const workId = `ui-retried-${Date.now()}`;
    receiver.failNext(2);
    const s = await submit(workId, 'echo \'{"success": true, "grade": 1}\'');
    const done = await stack.waitFor(s.id, (b) => b.status === 'completed' && b.attempts[0]?.delivery?.status === 'delivered', 60_000);
    const a = done.attempts[0];
    expect(a.delivery.tries).toBe(3);
    expect(a.timings.delivered_at).not.toBeNull();
    expect(a.timings.delivered_at).toBe(a.delivery.delivered_at);
  });

  it('a cancelled running attempt records its host and start time; listed as cancelled by an operator', async () => {
    const workId = `ui-cancel-${Date.now()}`;
    const s = await submit(workId, 'sleep 30; echo \'{"success": true, "grade": 1}\'');
    await until('listed as running', () => listed(`GradeflowPhase="running" AND WorkflowId="${s.workflowId}"`), inList(s.workflowId));
    await temporal.workflow.getHandle(s.workflowId).cancel();
    const done = await stack.waitFor(s.id, (b) => b.status === 'cancelled' && b.attempts.length === 1);
    const a = done.attempts[0];
    expect(a).toMatchObject({ attempt: 1, host: stack.hostId, reason: 'cancelled' });
    expect(a.timings.started_at).not.toBeNull();
    expect(Date.parse(a.timings.started_at)).toBeGreaterThanOrEqual(Date.parse(a.timings.queued_at));
    await until(
      'listed as cancelled',
      () => listed(`GradeflowPhase="cancelled" AND GradeflowReason="cancelled" AND GradeflowOrigin="operator" AND WorkflowId="${s.workflowId}"`),
      inList(s.workflowId),
    );
  });
});
