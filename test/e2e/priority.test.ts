import { randomBytes } from 'node:crypto';
import { temporal as temporalProto } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { submissionWorkflowId } from '../../src/shared/workflow-ids';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useStack, useTemporalClient } from '../helpers/hooks';
import { b64file } from '../helpers/stack';

/**
 * Priorities and fairness on a saturated grading host (one slot), with Temporal's priority and fairness
 * keys on (the suite's dev server, as `npm start`'s): the order in which waiting gradings start.
 */
const stack = useStack('priority', {
  worker: { hostId: `host-priority-${randomBytes(3).toString('hex')}`, slots: 1, shutdownGraceSeconds: 5, reapIntervalSeconds: 60, reapOverdueSeconds: 120,
    healthPort: 0, healthHost: '127.0.0.1', pullRetrySeconds: 120 },
});
const temporal = useTemporalClient(stack);

const quick = b64file('grade.sh', 'echo \'{"success": true, "grade": 1}\'');
const blocker = b64file('grade.sh', 'sleep 12; echo \'{"success": true, "grade": 1}\'');

const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] ?? NaN;

const startedAt = (body: Record<string, any>): number => Date.parse(body.attempts[0].timings.started_at);

/** POST and answer the submission's id. */
async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await stack.post({ image: SCRIPT_RUNNER, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id as string;
}

/**
 * Its workflow runs and waits for the host (the live `progress` comes from the running workflow; a
 * submission not started yet has none), with a moment for the grading to reach the task queue.
 */
async function waitingForHost(id: string): Promise<void> {
  await stack.waitFor(id, (b) => b.progress?.phase === 'queued', 60_000);
  await new Promise((r) => setTimeout(r, 500));
}

async function until(probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Its grading is scheduled in Temporal and no host has taken it yet. */
async function inTemporalQueue(id: string): Promise<boolean> {
  const sub = (await stack.get(id)).body;
  const workflowId = submissionWorkflowId('test', { id, workId: sub.work_id as string | null });
  const described = await temporal.workflow.getHandle(workflowId).describe();
  const pending = described.raw.pendingActivities ?? [];
  return pending.some((a) => a.activityType?.name === 'runContainer' && a.state === temporalProto.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED);
}

describe('priority', () => {
  it('takes, validates and shows a submission\'s priority (default 3)', async () => {
    const plain = await stack.get(await submit({ file: quick }));
    expect(plain.body.priority).toBe(3);
    const form = new FormData();
    form.set('image', SCRIPT_RUNNER);
    form.set('priority', '2');
    form.set('file', new Blob([Buffer.from('echo \'{"success": true, "grade": 1}\'')]), 'grade.sh');
    const res = await stack.postForm(form);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await stack.get(res.body.id as string)).body.priority).toBe(2);
    for (const bad of [0, 6, 2.5, 'high']) {
      const refused = await stack.post({ image: SCRIPT_RUNNER, priority: bad, file: quick });
      expect(refused.status).toBe(400);
      expect((refused.body.error as { field: string }).field).toBe('priority');
    }
  });

  it('starts a later urgent submission (priority 1) before earlier normal ones on a saturated host', async () => {
    const busy = await submit({ file: blocker });
    await stack.waitFor(busy, (b) => b.status === 'running');
    const normal: string[] = [];
    for (let i = 0; i < 5; i++) normal.push(await submit({ file: quick, course_id: 'prio-course' }));
    await Promise.all(normal.map((id) => waitingForHost(id)));
    expect((await stack.get(busy)).body.status).toBe('running'); // the host is still saturated
    const urgent = await submit({ file: quick, course_id: 'prio-course', priority: 1 });
    await until(() => inTemporalQueue(urgent));
    // A grading host takes gradings ahead of its free slots (src/workers/host-workers.ts): those already
    // taken are not Temporal's to reorder. The ones still in Temporal's queue next to the urgent one:
    const waiting = (await Promise.all(normal.map(async (id) => ((await inTemporalQueue(id)) ? [id] : [])))).flat();

    const urgentDone = await stack.waitFor(urgent, (b) => b.status === 'completed', 60_000);
    const waitingDone = await Promise.all(waiting.map((id) => stack.waitFor(id, (b) => b.status === 'completed', 60_000)));
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    // Every one still waiting in Temporal's queue starts after the urgent one.
    expect(waitingDone.filter((n) => startedAt(n) < startedAt(urgentDone))).toEqual([]);
    expect(urgentDone.priority).toBe(1);
  }, 120_000);
});

describe('fairness', () => {
  it('starts course B\'s submission within a few gradings while course A has 200 of the same priority waiting', async () => {
    // Course A: 200 submissions at the regrade priority (as a bulk regrade would queue them).
    const a: string[] = [];
    for (let i = 0; i < 200; i++) {
      a.push(await submit({ file: quick, course_id: 'course-a', priority: 4, work_id: `fair-a-${i}-${randomBytes(3).toString('hex')}` }));
    }
    try {
      await fairShare(a);
    } finally {
      // The rest of A is not this test's: stop it.
      await Promise.all(
        a.map(async (id) => {
          const sub = (await stack.get(id)).body;
          if (sub.status === 'completed') return;
          await temporal.workflow
            .getHandle(`submission/test/w/${sub.work_id as string}`)
            .terminate('test over')
            .catch(() => undefined);
        }),
      );
    }
  }, 300_000);
});

/** Course B's one submission, posted once all of course A's are waiting: how long it waits, and behind how many of A. */
async function fairShare(a: string[]): Promise<void> {
    // Every one of them started (the starter is first-in first-out: the last one started means all did).
    await waitingForHost(a.at(-1)!);
    const b = await submit({ file: quick, course_id: 'course-b', priority: 4 });
    const bDone = await stack.waitFor(b, (x) => x.status === 'completed', 120_000);
    const bQueued = Date.parse(bDone.attempts[0].timings.queued_at);
    const bStarted = startedAt(bDone);
    const aBodies: Array<Record<string, any>> = await Promise.all(a.map(async (id) => (await stack.get(id)).body));
    const aStarts = aBodies.flatMap((x) => (x.attempts?.[0]?.timings?.started_at ? [Date.parse(x.attempts[0].timings.started_at)] : []));
    const aBefore = aStarts.filter((t) => t < bQueued).length;
    const aWhileBWaited = aStarts.filter((t) => t >= bQueued && t < bStarted).length;
    const grading = median(aBodies.flatMap((x) => (x.status === 'completed' ? [Date.parse(x.attempts[0].timings.graded_at) - startedAt(x)] : [])));
    console.log(
      `fairness: B waited ${bStarted - bQueued} ms (one A grading: ${grading} ms host time); A started before B arrived: ${aBefore}/200, while B waited: ${aWhileBWaited}`,
    );
    // Without fairness B would wait behind every A still queued (200 − aBefore gradings).
    expect(aBefore).toBeLessThan(150);
    // With it, B waits only for what the host already holds: the grading in its slot and the one it took
    // ahead of that slot, give or take one in the hand-over (priority and fairness hold within a task-queue
    // partition: gradeflow's Temporal runs one per queue, src/setup/temporal-dev-server.ts).
    expect(aWhileBWaited).toBeLessThanOrEqual(3);

}
