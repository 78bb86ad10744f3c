import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { RegradeAssignmentInput, RegradeKey, RegradeProgress, RunningRegrade } from '../../src/shared/regrade-contracts';
import { cancelSignal, pauseSignal, progressQuery } from '../../src/workflows/regrade-assignment-messages';
import type { regradeAssignmentWorkflow } from '../../src/workflows/regrade-assignment';
import { createEnv, saveHistory } from './workflow-env';

/**
 * regradeAssignmentWorkflow against the suite's Temporal dev server with its activities as plain objects:
 * the window, the pages, continue-as-new, pause and cancel, in seconds. Histories: replay fixtures.
 */

let env: TestWorkflowEnvironment;
const RECORDING = process.env.GRADEFLOW_RECORD_HISTORIES === '1';

beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const IDS = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'].map((s) => `00000000-0000-4000-8000-0000000000${s}`);

/** A database of seven submissions: a2 cannot be asked (its workflow id is taken), a3's grade changes, a4 is graded for the first time. */
function activities(opts: { outcomes: boolean }) {
  const asked: string[] = [];
  return {
    asked,
    acts: {
      regradeTotal: vi.fn(async (_k: RegradeKey) => IDS.length),
      regradePage: vi.fn(async (r: { afterId: string | null; limit: number }) => IDS.filter((id) => r.afterId === null || id > r.afterId).slice(0, r.limit)),
      requestRegrades: vi.fn(async (r: { submissionIds: string[]; image?: string }) => {
        asked.push(...r.submissionIds);
        return r.submissionIds.map((submissionId) =>
          submissionId === IDS[1] ? { ok: false as const, submissionId, error: 'workflow id taken' } : { ok: true as const, submissionId, afterAttempt: 1 },
        );
      }),
      regradeOutcomes: vi.fn(async (running: RunningRegrade[]) =>
        opts.outcomes
          ? running.map((r) =>
              r.submissionId === IDS[3]
                ? // Its first grading: a grade, but no change.
                  { submissionId: r.submissionId, grade: 9, previousGrade: null, hadPrevious: false, success: true, origin: null }
                : { submissionId: r.submissionId, grade: r.submissionId === IDS[2] ? 7 : 4, previousGrade: 4, hadPrevious: true, success: true, origin: null },
            )
          : [],
      ),
    },
  };
}

async function run(name: string, acts: object, over: Partial<RegradeAssignmentInput>, body: (h: ReturnType<typeof env.client.workflow.getHandle<typeof regradeAssignmentWorkflow>>) => Promise<void>) {
  const queue = `wf-${name}-${randomBytes(4).toString('hex')}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: queue, workflowBundle: { codePath: inject('workflowBundlePath') }, activities: acts });
  await worker.runUntil(async () => {
    const input: RegradeAssignmentInput = {
      platformId: 'test', assignmentId: 'hw', seq: 1, concurrency: 2, pageSize: 3, pollIntervalMs: 100, continueAsNewAfter: 3, image: 'img:2', ...over,
    };
    const handle = await env.client.workflow.start<typeof regradeAssignmentWorkflow>('regradeAssignmentWorkflow', { taskQueue: queue, workflowId: `regrade/test/${queue}/1`, args: [input] });
    await body(env.client.workflow.getHandle(handle.workflowId));
    if (RECORDING) await saveHistory(name, handle);
  });
}

describe('regradeAssignmentWorkflow', () => {
  it('regrades every page through a window of two, continues as new, and counts done, failed and changed', async () => {
    const { acts, asked } = activities({ outcomes: true });
    await run('regrade-assignment', acts, {}, async (handle) => {
      const result: RegradeProgress = await handle.result();
      expect(result).toMatchObject({ total: 7, done: 6, failed: 1, changed: 1, running: 0, finished: true, cancelled: false });
      expect(result.continuedAsNew).toBeGreaterThanOrEqual(1);
    });
    expect(asked).toEqual(IDS);
    // Never more than the window at once, the image passed on.
    expect(acts.requestRegrades.mock.calls.every(([r]) => r.submissionIds.length <= 2 && r.image === 'img:2')).toBe(true);
  });

  it('pause starts no more; cancel closes it with what it had', async () => {
    const { acts, asked } = activities({ outcomes: false });
    await run('regrade-assignment-cancelled', acts, {}, async (handle) => {
      await vi.waitFor(async () => expect((await handle.query(progressQuery)).running).toBe(2), { timeout: 10_000, interval: 50 });
      await handle.signal(pauseSignal);
      await vi.waitFor(async () => expect((await handle.query(progressQuery)).paused).toBe(true), { timeout: 10_000, interval: 50 });
      await handle.signal(cancelSignal);
      expect(await handle.result()).toMatchObject({ total: 7, done: 0, running: 2, paused: true, cancelled: true, finished: true });
    });
    // a2 could not be asked, so the window took a3 in its place; then nothing more.
    expect(asked).toEqual(IDS.slice(0, 3));
  });
});
