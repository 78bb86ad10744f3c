import { WorkflowIdReusePolicy } from '@temporalio/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { redeliveryWebhookId } from '../activities/callback/sign';
import type { GradeflowConfig } from '../config/schema';
import { callbackBody } from '../shared/callback-body';
import { deliveryQueue } from '../shared/task-queues';
import type { Submission, SubmissionStore } from '../store/submissions';
import { UNFINISHED_STATUSES } from '../store/submissions';
import { redeliverWorkflow } from '../workflows';
import type { SubmissionWorkflows } from './submission-workflows';
import { workflowInput } from './workflow-input';

/** The workflow id of a submission's n-th redelivery. */
export function redeliveryWorkflowId(sub: Pick<Submission, 'platformId' | 'id'>, n: number): string {
  return `redeliver/${sub.platformId}/${sub.id}/${n}`;
}

export type RedeliverOutcome =
  | { started: true; n: number; attempt: number; webhookId: string; workflowId: string }
  | { started: false; why: 'no_callback' | 'no_result' };

export type CancelOutcome = 'requested' | 'recorded' | 'finished';

/** What a platform may do to one of its submissions besides regrading it: send its result again, cancel it. */
export function createSubmissionActions(deps: {
  client: Client;
  config: GradeflowConfig;
  store: SubmissionStore;
  workflows: Pick<SubmissionWorkflows, 'owner'>;
}) {
  const { client, config, store } = deps;
  return {
    /**
     * Send the latest recorded result again as a new message (a new webhook id), recorded as a redelivery
     * and retried like any callback by a workflow of its own (src/workflows/redeliver.ts).
     */
    async redeliver(sub: Submission): Promise<RedeliverOutcome> {
      if (!sub.callbackUrl) return { started: false, why: 'no_callback' };
      const latest = await store.latestResult(sub.id);
      if (!latest) return { started: false, why: 'no_result' };
      const { n, webhookId } = await store.createRedelivery(sub.id, latest.attempt, (k) => redeliveryWebhookId(sub.id, latest.attempt, k));
      const input = workflowInput(sub, config, { previousAttempts: sub.attempts, gradeOnStart: false });
      const workflowId = redeliveryWorkflowId(sub, n);
      try {
        await client.workflow.start(redeliverWorkflow, {
          workflowId,
          taskQueue: input.taskQueues.control,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [
            {
              request: {
                submissionId: sub.id,
                platformId: sub.platformId,
                attempt: latest.attempt,
                url: sub.callbackUrl,
                body: callbackBody({ submissionId: sub.id, ...(sub.workId ? { workId: sub.workId } : {}) }, latest.attempt, latest.result, latest.image),
                redelivery: n,
              },
              callbackPolicy: input.callbackPolicy,
              taskQueues: { control: input.taskQueues.control, deliveries: deliveryQueue(config.temporal.taskQueuePrefix) },
            },
          ],
          staticSummary: `Redeliver attempt ${latest.attempt} of submission ${sub.id}`,
        });
      } catch (err) {
        await store.recordRedeliveryGaveUp(sub.id, n, 'its workflow could not be started');
        throw err;
      }
      return { started: true, n, attempt: latest.attempt, webhookId, workflowId };
    },

    /**
     * Cancel an unfinished submission: its workflow is cancelled (as from the Temporal UI: the container is
     * stopped and the workflow records the cancellation). A submission with no running workflow (not started
     * yet, or one that ended without recording its end) is recorded as cancelled here. `finished`: nothing to do.
     */
    async cancel(sub: Submission): Promise<CancelOutcome> {
      if (!UNFINISHED_STATUSES.includes(sub.status) && sub.status !== 'received') return 'finished';
      // Never another submission's workflow (rows of the old id scheme may share one).
      const owner = await deps.workflows.owner(sub.workflowId);
      const handle = client.workflow.getHandle(sub.workflowId);
      if (owner === sub.id) {
        try {
          const info = await handle.describe();
          if (info.status.name === 'RUNNING') {
            await handle.cancel();
            return 'requested';
          }
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
      // No run of its own is going: what the database says decides (read again: the run may just have ended).
      const now = await store.get(sub.platformId, sub.id);
      if (!now || (!UNFINISHED_STATUSES.includes(now.status) && now.status !== 'received')) return 'finished';
      await store.recordCancellation(now.id, now.attempts);
      return 'recorded';
    },
  };
}

export type SubmissionActions = ReturnType<typeof createSubmissionActions>;
