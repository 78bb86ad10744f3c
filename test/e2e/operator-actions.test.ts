import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTemporalCli } from '../../src/setup/temporal-cli';
import { SA } from '../../src/shared/search-attributes';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack, useTemporalClient } from '../helpers/hooks';
import { b64file } from '../helpers/stack';

/**
 * What an operator can do to a submission's workflow from the Temporal UI, done with the real Temporal CLI
 * (the same calls): reset, "Start Workflow Like This One" (a start with the old run's input) and a
 * hand-made signal-with-start. Each grading that follows gets a new attempt number, leaves the earlier
 * attempts as they were recorded, and reaches the receiver under a new `webhook-id`; the new run carries
 * gradeflow's search attributes even when it was started without them.
 */
const stack = useStack('operator');
const receiver = useReceiver(stack);
const temporal = useTemporalClient(stack);
const run = promisify(execFile);
let cli: string;

beforeAll(async () => {
  cli = await ensureTemporalCli();
});

const grade = b64file('grade.sh', 'echo \'{"success": true, "grade": 4}\'');

/** `temporal workflow …` against the stack's server. */
async function temporalCli(...args: string[]): Promise<string> {
  const { stdout } = await run(cli, ['workflow', ...args, '--address', stack.config.temporal.address!, '--namespace', stack.config.temporal.namespace]);
  return stdout;
}

/** A submission graded once and delivered (attempt 1): its id, workflow id and first attempt as recorded. */
async function gradedOnce(workId: string) {
  const res = await stack.post({ image: SCRIPT_RUNNER, work_id: workId, callback: receiver.url(), file: grade });
  expect(res.status).toBe(202);
  const id = res.body.id as string;
  await receiver.waitForOne((c) => c.body.work_id === workId);
  const done = await stack.waitFor(id, (b) => b.status === 'completed' && b.attempts[0]?.delivery?.status === 'delivered');
  return { id, workflowId: `submission/test/w/${workId}`, first: done.attempts[0] };
}

/** The first run's input, as the UI shows it to "Start Workflow Like This One" (JSON). */
async function firstInput(workflowId: string): Promise<string> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  return JSON.stringify(temporal.options.loadedDataConverter.payloadConverter.fromPayload(payload));
}

/** After the operator's action: the next attempt delivered and recorded, attempt 1 untouched, search attributes set. */
async function expectNewAttempt(s: Awaited<ReturnType<typeof gradedOnce>>, workId: string) {
  const second = await receiver.waitForOne((c) => c.body.work_id === workId && c.body.attempt !== 1);
  expect(second.verified).toBe(true);
  const attempt = second.body.attempt as number;
  expect(attempt).toBeGreaterThan(1);
  expect(second.headers['webhook-id']).toBe(`msg_${s.id}_${attempt}`);
  const ids = receiver.received.filter((c) => c.body.work_id === workId).map((c) => c.headers['webhook-id']);
  expect(new Set(ids).size).toBe(ids.length);
  const done = await stack.waitFor(s.id, (b) => b.status === 'completed' && b.attempts.some((a: { attempt: number; delivery?: { status: string } }) => a.attempt === attempt && a.delivery?.status === 'delivered'));
  expect(done.attempts[0]).toEqual(s.first); // attempt 1 as it was recorded: its timings, grade and delivery
  expect(done.attempt).toBe(attempt);
  const described = await temporal.workflow.getHandle(s.workflowId).describe();
  expect(described.typedSearchAttributes.get(SA.platform)).toBe('test');
  expect(described.typedSearchAttributes.get(SA.workId)).toBe(workId);
  expect(described.typedSearchAttributes.get(SA.phase)).toBe('completed');
  return attempt;
}

describe('operator actions from the Temporal UI or CLI', () => {
  it('reset to the first workflow task: graded again as attempt 2, delivered under a new webhook-id', async () => {
    const workId = `op-reset-first-${Date.now()}`;
    const s = await gradedOnce(workId);
    await temporalCli('reset', '--workflow-id', s.workflowId, '--type', 'FirstWorkflowTask', '--reason', 'test: operator reset');
    expect(await expectNewAttempt(s, workId)).toBe(2);
  });

  it('reset to the last workflow task (past the attempt\'s number): the result is recorded as a new attempt, not over attempt 1', async () => {
    const workId = `op-reset-last-${Date.now()}`;
    const s = await gradedOnce(workId);
    await temporalCli('reset', '--workflow-id', s.workflowId, '--type', 'LastWorkflowTask', '--reason', 'test: operator reset');
    expect(await expectNewAttempt(s, workId)).toBe(2);
  });

  it('"Start Workflow Like This One" (a start with the same id, type, queue and input, no search attributes): attempt 2', async () => {
    const workId = `op-start-like-${Date.now()}`;
    const s = await gradedOnce(workId);
    await temporalCli(
      'start',
      '--workflow-id', s.workflowId,
      '--type', 'gradeSubmissionWorkflow',
      '--task-queue', `${stack.config.temporal.taskQueuePrefix}-control`,
      '--input', await firstInput(s.workflowId),
    );
    expect(await expectNewAttempt(s, workId)).toBe(2);
  });

  it('a hand-made signal-with-start of `regrade` on the closed workflow: attempt 2', async () => {
    const workId = `op-signal-start-${Date.now()}`;
    const s = await gradedOnce(workId);
    await temporalCli(
      'signal-with-start',
      '--workflow-id', s.workflowId,
      '--type', 'gradeSubmissionWorkflow',
      '--task-queue', `${stack.config.temporal.taskQueuePrefix}-control`,
      '--input', await firstInput(s.workflowId),
      '--signal-name', 'regrade',
      '--signal-input', '{"requestedBy": "operator"}',
    );
    expect(await expectNewAttempt(s, workId)).toBe(2);
  });
});
