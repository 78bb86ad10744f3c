import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type {
  AttemptAllocation,
  AttemptAllocationRequest,
  DeliveryRequest,
  FirstDeliveryTry,
  GradingSpec,
  RunOutcome,
  StartedContainer,
} from '../../src/shared/activity-contracts';
import { createStartAnnouncer } from '../../src/activities/docker/announce-start';
import { SA } from '../../src/shared/search-attributes';
import { failureResult } from '../../src/shared/failure-result';
import { regradeSignal, statusQuery } from '../../src/workflows/messages';
import { createEnv, deferred, graded, runWorkflow, started } from './workflow-env';

/**
 * gradeSubmissionWorkflow against the suite's Temporal dev server, with its activities as plain objects:
 * every path of the workflow in seconds, without Docker or a database. The histories of these runs are
 * the replay fixtures (`npm run histories`).
 */

let env: TestWorkflowEnvironment;
const WAIT = { timeout: 10_000, interval: 20 };

beforeAll(async () => {
  env = await createEnv();
});

afterAll(async () => {
  await env?.teardown();
});

interface Record {
  record: { attempt: number; status: string; result: { reason?: string; grade?: number }; host: string | null };
  delivery?: DeliveryRequest;
}

/**
 * The database's attempt numbers, as src/store/attempt-numbers.ts hands them out: one per (run, slot), the
 * same again for the same key, counting on from `first`.
 */
function allocator(first = 1) {
  const given = new Map<string, number>();
  return vi.fn(async (r: AttemptAllocationRequest): Promise<AttemptAllocation> => {
    const key = `${r.workflowId} ${r.runId} ${r.slot}`;
    if (!given.has(key)) given.set(key, first + given.size);
    return { attempt: given.get(key)!, searchAttributes: [] };
  });
}

/** Activities that grade at once and deliver on the first try; each test overrides what its path needs. */
function activities(over: object = {}) {
  return {
    allocateAttempt: allocator(),
    runContainer: vi.fn(async (spec: GradingSpec): Promise<RunOutcome> => ({ kind: 'graded', started: started('q'), result: graded(spec.attempt) })),
    recordResultAndDeliver: vi.fn(async (r: Record): Promise<FirstDeliveryTry | null> => (r.delivery ? { delivered: true } : null)),
    deliverCallback: vi.fn(async (_req: DeliveryRequest) => ({ status: 200 })),
    recordDeliveryFailure: vi.fn(async (_r: { attempt: number; superseded: boolean; error: string }) => {}),
    recordCancellation: vi.fn(async (_r: { attempt: number; result?: { reason?: string }; host?: string | null; timings?: object }) => {}),
    recordAttemptResult: vi.fn(async () => {}),
    ...over,
  };
}

/** Blocks (heartbeating) until the activity is cancelled. */
async function untilCancelled(): Promise<never> {
  const ctx = Context.current();
  for (;;) {
    ctx.heartbeat();
    await ctx.sleep(100);
  }
}

describe('gradeSubmissionWorkflow', () => {
  it('a regrade during a failing delivery supersedes it; the newer result is delivered', async () => {
    const retrying = deferred();
    const acts = activities({
      recordResultAndDeliver: vi.fn(async (r: Record): Promise<FirstDeliveryTry> =>
        r.record.attempt === 1 ? { delivered: false, retryable: true, error: 'receiver answered 503' } : { delivered: true }),
      deliverCallback: vi.fn(async () => {
        retrying.resolve();
        throw ApplicationFailure.retryable('receiver answered 503', 'CallbackNotAccepted');
      }),
    });
    await runWorkflow(env, { name: 'regrade-supersedes-failing-delivery', activities: acts }, async (handle) => {
      await retrying.promise;
      expect(await handle.query(statusQuery)).toMatchObject({ phase: 'delivering', attempt: 1, regradePending: false });
      await handle.signal(regradeSignal, { requestedBy: 'test' });
      const outcome = await handle.result();
      expect(outcome).toMatchObject({ attempts: 2, delivered: true, lastResult: { grade: 2 } });
      expect(await handle.query(statusQuery)).toMatchObject({ phase: 'completed', attempt: 2 });
    });
    expect(acts.recordDeliveryFailure).toHaveBeenCalledTimes(1);
    expect(acts.recordDeliveryFailure.mock.calls[0]![0]).toMatchObject({ attempt: 1, superseded: true, error: 'superseded by a newer attempt' });
    expect(acts.deliverCallback.mock.calls.every(([req]) => req.attempt === 1)).toBe(true);
    expect(acts.recordResultAndDeliver.mock.calls.map(([r]) => [r.record.attempt, r.record.status])).toEqual([[1, 'delivering'], [2, 'delivering']]);
  });

  it('a first try that failed is retried after the policy interval (patch wait-after-first-try), then delivered', async () => {
    const release = deferred();
    const acts = activities({
      recordResultAndDeliver: vi.fn(async (): Promise<FirstDeliveryTry> => ({ delivered: false, retryable: true, error: 'receiver answered 503' })),
      deliverCallback: vi.fn(async () => {
        await release.promise;
        if (Context.current().info.attempt === 1) throw ApplicationFailure.retryable('receiver answered 503', 'CallbackNotAccepted');
        return { status: 200 };
      }),
    });
    await runWorkflow(env, { name: 'delivery-retried-then-delivered', activities: acts }, async (handle) => {
      await vi.waitFor(() => expect(acts.deliverCallback).toHaveBeenCalled(), WAIT);
      expect(await handle.query(statusQuery)).toMatchObject({ phase: 'delivering', attempt: 1, host: 'host-a' });
      release.resolve();
      expect(await handle.result()).toMatchObject({ attempts: 1, delivered: true });
      const progress = await handle.query(statusQuery);
      expect(progress.phase).toBe('completed');
      expect(progress.timings.deliveredAt).toBeDefined();
    });
    expect(acts.deliverCallback).toHaveBeenCalledTimes(2);
    expect(acts.recordDeliveryFailure).not.toHaveBeenCalled();
  });

  it('a first try the receiver refused for good is recorded as undelivered; the submission fails', async () => {
    const acts = activities({
      recordResultAndDeliver: vi.fn(async (): Promise<FirstDeliveryTry> => ({ delivered: false, retryable: false, error: 'callback URL is private' })),
    });
    await runWorkflow(env, { name: 'delivery-refused', activities: acts }, async (handle) => {
      expect(await handle.result()).toMatchObject({ attempts: 1, delivered: false });
      expect((await handle.query(statusQuery)).phase).toBe('failed');
    });
    expect(acts.deliverCallback).not.toHaveBeenCalled();
    expect(acts.recordDeliveryFailure.mock.calls[0]![0]).toMatchObject({ attempt: 1, superseded: false, error: expect.stringContaining('callback URL is private') });
  });

  it('repeated infrastructure faults end as infrastructure_error, without a second attempt number', async () => {
    const acts = activities({
      runContainer: vi.fn(async (): Promise<RunOutcome> => {
        throw ApplicationFailure.nonRetryable('the container vanished', 'ContainerLost');
      }),
    });
    await runWorkflow(env, { name: 'infrastructure-faults', activities: acts, input: () => ({ callbackUrl: undefined, infrastructureRetries: 1 }) }, async (handle) => {
      const outcome = await handle.result();
      expect(outcome).toMatchObject({ attempts: 1, delivered: false, lastResult: { reason: 'infrastructure_error', origin: 'infrastructure' } });
      expect(outcome.lastResult.error).toContain('after 2 tries');
      expect((await handle.query(statusQuery)).phase).toBe('failed');
    });
    expect(acts.runContainer.mock.calls.map(([spec]) => spec.attempt)).toEqual([1, 1]);
    expect(acts.recordResultAndDeliver.mock.calls.map(([r]) => [r.record.attempt, r.record.status])).toEqual([[1, 'failed']]);
  });

  it('handedOver leads to awaitContainer on that host\'s queue; status says queued, then running there', async () => {
    const running = deferred();
    const finish = deferred();
    let hostQueue = '';
    const awaitedOn: string[] = [];
    const acts = activities({
      runContainer: vi.fn(async (_spec: GradingSpec): Promise<RunOutcome> => {
        await running.promise;
        hostQueue = started(Context.current().info.taskQueue).hostQueue;
        return { kind: 'handedOver', started: started(Context.current().info.taskQueue) };
      }),
    });
    const host = {
      awaitContainer: vi.fn(async (spec: GradingSpec, s: StartedContainer) => {
        awaitedOn.push(Context.current().info.taskQueue);
        expect(s.hostId).toBe('host-a');
        await finish.promise;
        return graded(spec.attempt + 6);
      }),
    };
    await runWorkflow(env, { name: 'handed-over', activities: acts, hosts: [['-host-host-a', host]], input: () => ({ callbackUrl: undefined }) }, async (handle) => {
      await vi.waitFor(() => expect(acts.runContainer).toHaveBeenCalled(), WAIT);
      expect(await handle.query(statusQuery)).toMatchObject({ phase: 'queued', attempt: 1 });
      running.resolve();
      await vi.waitFor(() => expect(host.awaitContainer).toHaveBeenCalled(), WAIT);
      expect(await handle.query(statusQuery)).toMatchObject({ phase: 'running', attempt: 1, host: 'host-a' });
      finish.resolve();
      expect(await handle.result()).toMatchObject({ attempts: 1, lastResult: { grade: 7 } });
      expect(await handle.query(statusQuery)).toMatchObject({ phase: 'completed', host: 'host-a' });
    });
    expect(awaitedOn).toEqual([hostQueue]);
    expect(acts.recordResultAndDeliver.mock.calls[0]![0].record).toMatchObject({ attempt: 1, status: 'completed', host: 'host-a' });
  });

  it('an operator cancel records the unfinished attempt as cancelled', async () => {
    const acts = activities({ runContainer: vi.fn(untilCancelled) });
    await runWorkflow(env, { name: 'operator-cancel', activities: acts }, async (handle) => {
      await vi.waitFor(() => expect(acts.runContainer).toHaveBeenCalled(), WAIT);
      await handle.cancel();
      const err = await handle.result().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    });
    expect(acts.recordCancellation).toHaveBeenCalledTimes(1);
    expect(acts.recordCancellation.mock.calls[0]![0]).toMatchObject({ attempt: 1, result: { reason: 'cancelled' } });
    expect(acts.recordResultAndDeliver).not.toHaveBeenCalled();
  });

  it('a submission the host refuses (SubmissionRejected) ends as invalid_submission, not retried', async () => {
    const acts = activities({
      runContainer: vi.fn(async (): Promise<RunOutcome> => {
        throw ApplicationFailure.nonRetryable('the archive holds a path outside its root', 'SubmissionRejected');
      }),
    });
    await runWorkflow(env, { name: 'submission-rejected', activities: acts }, async (handle) => {
      const outcome = await handle.result();
      expect(outcome).toMatchObject({ attempts: 1, delivered: true, lastResult: { reason: 'invalid_submission', origin: 'student' } });
      expect((await handle.query(statusQuery)).phase).toBe('completed');
    });
    expect(acts.runContainer).toHaveBeenCalledTimes(1);
    expect(acts.recordResultAndDeliver.mock.calls[0]![0].record).toMatchObject({ attempt: 1, status: 'delivering', result: { reason: 'invalid_submission' } });
  });

  it('a run started only for a regrade numbers its attempt after the earlier runs\' ones', async () => {
    const acts = activities({ allocateAttempt: allocator(3) });
    await runWorkflow(
      env,
      { name: 'regrade-run', activities: acts, input: () => ({ previousAttempts: 2, gradeOnStart: false }), signalRegrade: true },
      async (handle) => {
        expect(await handle.result()).toMatchObject({ attempts: 3, delivered: true, lastResult: { grade: 3 } });
      },
    );
    expect(acts.runContainer.mock.calls.map(([spec]) => spec.attempt)).toEqual([3]);
    expect(acts.allocateAttempt.mock.calls.map(([r]) => r.slot)).toEqual(['1']);
  });

  it('a result whose number another run recorded (a reset past its allocation) is recorded and delivered under a new number', async () => {
    const acts = activities({
      recordResultAndDeliver: vi.fn(async (r: Record): Promise<FirstDeliveryTry | null> => {
        if (r.record.attempt === 1) throw ApplicationFailure.nonRetryable('attempt 1 was recorded by another run', 'AttemptTaken');
        return { delivered: true };
      }),
    });
    const priority = { key: 2, regradeKey: 4, fairnessKey: 'test/cs101', fairnessWeight: 1 };
    await runWorkflow(env, { name: 'attempt-renumbered', activities: acts, input: () => ({ priority }) }, async (handle) => {
      expect(await handle.result()).toMatchObject({ attempts: 2, delivered: true, lastResult: { grade: 1 } });
      const history = await handle.fetchHistory();
      const scheduled = history.events!.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
      // The grading waited at the submission's priority, in its course's share.
      expect(scheduled.map((a) => [a.activityType?.name, a.priority?.priorityKey, a.priority?.fairnessKey])).toEqual([['runContainer', 2, 'test/cs101']]);
    });
    // Graded once as attempt 1; its record refused; recorded (and its callback sent) as attempt 2.
    expect(acts.runContainer.mock.calls.map(([spec]) => spec.attempt)).toEqual([1]);
    expect(acts.allocateAttempt.mock.calls.map(([r]) => r.slot)).toEqual(['1', '1/after-1']);
    expect(acts.recordResultAndDeliver.mock.calls.map(([r]) => [r.record.attempt, r.delivery?.attempt, r.delivery?.body.attempt])).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
  });

  it('a regrade with an image grades that attempt (and later ones) with it, and records which image graded each (patch regrade-with-image)', async () => {
    const acts = activities({ allocateAttempt: allocator(2) });
    await runWorkflow(
      env,
      {
        name: 'regrade-with-image',
        activities: acts,
        input: () => ({ previousAttempts: 1, gradeOnStart: false }),
        signalRegrade: true,
        regradeRequest: { requestedBy: 'test', image: 'gradeflow-test/script-runner:fixed' },
      },
      async (handle) => {
        expect(await handle.result()).toMatchObject({ attempts: 2, delivered: true });
      },
    );
    expect(acts.runContainer.mock.calls.map(([spec]) => [spec.attempt, spec.image])).toEqual([[2, 'gradeflow-test/script-runner:fixed']]);
    expect(acts.recordResultAndDeliver.mock.calls.map(([r]) => (r.record as { image?: string }).image)).toEqual(['gradeflow-test/script-runner:fixed']);
  });

  it('the callback body names the image that graded the attempt and its digest (patch callback-names-image)', async () => {
    const pinned = `127.0.0.1:5000/course/grader@sha256:${'ab'.repeat(32)}`;
    const acts = activities({ allocateAttempt: allocator(2) });
    await runWorkflow(
      env,
      {
        name: 'callback-names-image',
        activities: acts,
        input: () => ({ previousAttempts: 1, gradeOnStart: false }),
        signalRegrade: true,
        regradeRequest: { requestedBy: 'test', image: pinned },
      },
      async (handle) => {
        expect(await handle.result()).toMatchObject({ attempts: 2, delivered: true });
      },
    );
    const bodies = acts.recordResultAndDeliver.mock.calls.map(([r]) => r.delivery?.body);
    expect(bodies).toEqual([expect.objectContaining({ attempt: 2, image: pinned, image_digest: `sha256:${'ab'.repeat(32)}` })]);
  });

  it('the grading host\'s containerStarted signal makes phase and host running at once (patch container-started-signal); the outcome is a search attribute (patch outcome-search-attributes)', async () => {
    const finish = deferred();
    const acts = activities({
      runContainer: vi.fn(async (spec: GradingSpec): Promise<RunOutcome> => {
        const s = started('q', 'host-b');
        createStartAnnouncer(env.client)(Context.current(), spec.attempt, s);
        await finish.promise;
        return { kind: 'graded', started: s, result: failureResult('time_limit_exceeded', 'student', 'over time') };
      }),
    });
    await runWorkflow(env, { name: 'container-started', activities: acts }, async (handle) => {
      await vi.waitFor(async () => expect(await handle.query(statusQuery)).toMatchObject({ phase: 'running', attempt: 1, host: 'host-b' }), WAIT);
      expect((await handle.query(statusQuery)).timings.startedAt).toBe('2025-01-01T00:00:00.000Z');
      await vi.waitFor(async () => {
        const sa = (await handle.describe()).typedSearchAttributes;
        expect([sa.get(SA.phase), sa.get(SA.host), sa.get(SA.reason)]).toEqual(['running', 'host-b', undefined]);
      }, WAIT);
      finish.resolve();
      expect(await handle.result()).toMatchObject({ attempts: 1, lastResult: { reason: 'time_limit_exceeded' } });
      await vi.waitFor(async () => {
        const sa = (await handle.describe()).typedSearchAttributes;
        expect([sa.get(SA.phase), sa.get(SA.reason), sa.get(SA.origin)]).toEqual(['completed', 'time_limit_exceeded', 'student']);
      }, WAIT);
    });
    expect(acts.recordResultAndDeliver.mock.calls[0]![0].record).toMatchObject({ attempt: 1, host: 'host-b' });
  });

  it('a cancel while the container runs records its host and start time; phase cancelled, outcome cancelled (operator)', async () => {
    const acts = activities({
      runContainer: vi.fn(async (spec: GradingSpec): Promise<RunOutcome> => {
        createStartAnnouncer(env.client)(Context.current(), spec.attempt, started('q', 'host-c'));
        return untilCancelled();
      }),
    });
    await runWorkflow(env, { name: 'cancel-while-running', activities: acts }, async (handle) => {
      await vi.waitFor(async () => expect(await handle.query(statusQuery)).toMatchObject({ phase: 'running', host: 'host-c' }), WAIT);
      await handle.cancel();
      await handle.result().then(() => undefined, () => undefined);
      await vi.waitFor(async () => {
        const sa = (await handle.describe()).typedSearchAttributes;
        expect([sa.get(SA.phase), sa.get(SA.reason), sa.get(SA.origin)]).toEqual(['cancelled', 'cancelled', 'operator']);
      }, WAIT);
    });
    expect(acts.recordCancellation.mock.calls[0]![0]).toMatchObject({
      attempt: 1,
      host: 'host-c',
      timings: { startedAt: '2025-01-01T00:00:00.000Z' },
      result: { reason: 'cancelled' },
    });
  });
});
