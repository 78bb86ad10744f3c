import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { GradeflowConfig } from '../config/schema';
import { UNFINISHED_STATUSES, type Submission, type SubmissionStore } from '../store/submissions';
import { workflowOwner } from './submission-workflows';
import type { OwnedStarts } from './workflow-ownership';
import { periodic } from '../shared/periodic';

/** What one check found about one unfinished submission. */
export interface Stall {
  submissionId: string;
  workflowId: string;
  runId: string;
  /**
   * `reset`: its workflow task kept failing or timing out; the run was reset to its last finished workflow
   * task (activity results before it are kept, so nothing is graded again), in a new run that no worker
   * has in its cache. `still-stalled`: the same after this process already reset it once (a bug that a
   * reset cannot cure: an operator must look). `closed`: its workflow ended (e.g. terminated from the
   * Temporal UI) before it recorded a result. `repaired`: its workflow id was another submission's (rows
   * stored under the old id scheme: a work_id equal to an earlier submission's id), so it had never been
   * graded; it was moved to a workflow id of its own and started. `foreign`: the same, and it could not be
   * repaired (an operator must look).
   */
  action: 'reset' | 'still-stalled' | 'closed' | 'repaired' | 'foreign';
  /** How often the workflow task has been tried in a row; the close status for `closed`. */
  detail: string;
}

/** Workflow-task events that end a task: the points a run can be reset to. */
const TASK_FINISH_EVENTS = new Set(['workflowTaskCompletedEventAttributes', 'workflowTaskFailedEventAttributes', 'workflowTaskTimedOutEventAttributes']);

/**
 * The stall watch: nothing may stay unfinished without anyone knowing. Periodically the server looks at
 * the submissions that have been unfinished and unchanged the longest, and asks Temporal about each
 * one's workflow. Waiting in a queue behind others is normal and left alone; a workflow whose task keeps
 * failing or timing out (seen once under a 10,000-submission burst: one run's task never completed again)
 * is reset once, and reported; a workflow that ended without recording is reported; a submission whose
 * workflow is another submission's is given its own and started. What it reports is also noted on the
 * submission, and `GET` shows it (`problem`) while the submission is unfinished.
 */
export function createStallWatch(deps: {
  client: Client;
  store: Pick<SubmissionStore, 'listUnfinished' | 'get' | 'noteProblem'>;
  /** Repairs a submission found under another's workflow. */
  owned: Pick<OwnedStarts, 'repair'>;
  config: GradeflowConfig;
  log: Logger;
}) {
  const { client, config, log } = deps;
  const opts = config.stallWatch;
  /** Workflow ids this process has reset: at most once each, so a run that a reset cannot cure is not reset in a loop. */
  const reset = new Set<string>();

  const resetPoint = async (workflowId: string, runId: string) => {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i]!;
      if (e.eventId && Object.keys(e).some((k) => TASK_FINISH_EVENTS.has(k) && (e as Record<string, unknown>)[k])) return e.eventId;
    }
    return undefined;
  };

  const check = async (sub: Submission): Promise<Stall | undefined> => {
    const d = await client.workflow.getHandle(sub.workflowId).describe();
    const base = { submissionId: sub.id, workflowId: sub.workflowId, runId: d.runId };
    // Whatever its state, a run that grades another submission does nothing for this one.
    const owner = await workflowOwner(client, config.temporal.namespace, sub.workflowId, d.runId);
    if (owner !== undefined && owner !== sub.id) {
      const problem = `its workflow ${sub.workflowId} belongs to submission ${owner}`;
      try {
        const moved = await deps.owned.repair(sub, owner);
        return { ...base, action: 'repaired', detail: `${problem}; moved to ${moved.workflowId} and started` };
      } catch (err) {
        return { ...base, action: 'foreign', detail: `${problem}; could not be repaired: ${(err as Error).message}` };
      }
    }
    if (d.status.name !== 'RUNNING') {
      // It may have recorded its result between the list and the describe: only a row still unfinished counts.
      const now = await deps.store.get(sub.platformId, sub.id);
      if (!now || !UNFINISHED_STATUSES.includes(now.status)) return undefined;
      return { ...base, action: 'closed', detail: d.status.name };
    }
    const attempt = d.raw.pendingWorkflowTask?.attempt ?? 0;
    if (attempt < opts.taskAttempts) return undefined;
    const detail = `workflow task tried ${attempt} times in a row`;
    if (reset.has(sub.workflowId)) return { ...base, action: 'still-stalled', detail };
    const eventId = await resetPoint(sub.workflowId, d.runId);
    if (eventId === undefined) return { ...base, action: 'still-stalled', detail: `${detail}; no workflow task finished yet to reset to` };
    await client.workflowService.resetWorkflowExecution({
      namespace: config.temporal.namespace,
      workflowExecution: { workflowId: sub.workflowId, runId: d.runId },
      reason: `gradeflow stall watch: ${detail}`,
      workflowTaskFinishEventId: eventId,
      requestId: randomUUID(),
    });
    reset.add(sub.workflowId);
    return { ...base, action: 'reset', detail };
  };

  /** One check; answers what it found (and logs it). */
  const sweep = async (): Promise<Stall[]> => {
    const found: Stall[] = [];
    for (const sub of await deps.store.listUnfinished(opts.minAgeSeconds * 1000, opts.batch)) {
      const stall = await check(sub).catch((err: unknown) => {
        log.warn({ err, submission: sub.id }, 'stall watch could not check a submission');
        return null; // unknown: keep any note
      });
      if (stall === null) continue;
      if (!stall) {
        // Progressing again (or finished): an earlier note no longer holds.
        if (sub.problem) await deps.store.noteProblem(sub.id, null).catch((err: unknown) => log.warn({ err }, 'stall watch could not clear a note'));
        continue;
      }
      found.push(stall);
      const level = stall.action === 'reset' || stall.action === 'repaired' ? 'warn' : 'error';
      const what = {
        reset: 'was stalled; its workflow was reset',
        closed: 'is unfinished but its workflow has ended',
        'still-stalled': 'is still stalled after a reset',
        repaired: 'was never graded: it shared a workflow with another submission; repaired',
        foreign: 'is never graded: it shares a workflow with another submission',
      }[stall.action];
      log[level]({ stall }, `stall watch: submission ${stall.submissionId} ${what} (${stall.detail})`);
      // What an operator must look at is also on the submission, for the platform to see.
      const problem = stall.action === 'reset' || stall.action === 'repaired' ? null : `stalled: ${what} (${stall.detail})`;
      await deps.store.noteProblem(stall.submissionId, problem).catch((err: unknown) => log.warn({ err }, 'stall watch could not note a problem'));
    }
    return found;
  };

  const loop = periodic(() => sweep(), (err) => log.error({ err }, 'stall watch failed'));
  return {
    sweep,
    /** Check every `intervalSeconds` (`stallWatch.intervalSeconds`); a check still running is not overlapped. */
    start: (intervalSeconds: number): void => loop.start(intervalSeconds * 1000),
    /** Stop the timer and wait for a check in flight. */
    stop: loop.stop,
  };
}

export type StallWatch = ReturnType<typeof createStallWatch>;
