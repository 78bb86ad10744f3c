import type { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { StartedContainer } from '../../shared/activity-contracts';
import { containerStartedSignal } from '../../workflows/messages';

/** Tell the workflow that owns the running activity that its attempt's container runs. Never throws; never waits. */
export type AnnounceStart = (ctx: Context, attempt: number, started: StartedContainer) => void;

/**
 * The `containerStarted` signal, sent by the grading activity to its own workflow run (the activity's
 * `workflowExecution`: that run, not a later one under the same id) through the grading host's Temporal
 * client, the moment its container starts. The workflow then says `running` on this host in its search
 * attributes, its `status` query and its details, and a cancel records this host and start time.
 *
 * Why a signal: an activity has no other way to speak to its workflow before it completes (a heartbeat's
 * details are not seen by the workflow), and splitting the grading into a start and an await activity
 * would cost a task queue round trip more per grading. The cost, one workflow task per grading, is
 * measured in docs/performance.md; `worker.announceContainerStart: false` turns it off.
 *
 * Best effort: the grading does not wait for the signal, and a signal that fails (Temporal unreachable for
 * a moment) is logged; the workflow then learns host and start time with the result, as before.
 */
export function createStartAnnouncer(client: Client): AnnounceStart {
  return (ctx, attempt, started) => {
    const execution = ctx.info.workflowExecution;
    if (!execution) return;
    const { workflowId, runId } = execution;
    const notice = { attempt, hostId: started.hostId, startedAt: started.startedAt };
    void client.workflow
      .getHandle(workflowId, runId)
      .signal(containerStartedSignal, notice)
      .catch((err: unknown) => {
        ctx.log.warn('the workflow was not told that its container started; it learns it with the result', {
          error: err instanceof Error ? err.message : String(err),
        });
      });
  };
}
