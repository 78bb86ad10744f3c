import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { RegradeActivities, RegradeAssignmentInput, RegradeCarried, RegradeOutcomeView, RegradeProgress } from '../shared/regrade-contracts';
import { cancelSignal, pauseSignal, progressQuery, resumeSignal } from './regrade-assignment-messages';

/** Database reads and the regrade signals: short activities on the control queue, retried until the database answers. */
const store = proxyActivities<RegradeActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

function fresh(): RegradeCarried {
  return { total: null, done: 0, failed: 0, changed: 0, paused: false, continuedAsNew: 0, cursor: null, exhausted: false, queue: [], running: [] };
}

/** A grading that ended in a fault that is not the student's: the regrade did not give a grade. */
function faulted(o: RegradeOutcomeView): boolean {
  return !o.success && o.origin !== null && o.origin !== 'student';
}

/**
 * One assignment regrade: every submission it takes (each student's latest, all, or the listed students'
 * — the regrade's row in the database says which) is regraded through its own submission workflow (the
 * `regrade` signal, signal-with-start when that workflow has closed), at most `concurrency` at once: a
 * sliding window that starts the next as each one's result is recorded.
 *
 * Outcomes are read from the database (the record of truth), every `pollIntervalMs`, for the whole window
 * in one activity: the submission workflows stay unchanged and need not know of this one, a submission
 * whose workflow was reset, restarted or regraded again meanwhile is still seen, and nothing is lost when
 * a signal back would have reached a run that continued-as-new or closed.
 *
 * Ids only travel: pages of submission ids read in id order; the filter (student ids) stays in the
 * database. The run continues as new after `continueAsNewAfter` outcomes (or when Temporal suggests it),
 * carrying its counts, cursor and window, so 10,000 submissions fit.
 *
 * Signals: `pause` (start no more), `resume`, `cancel` (start no more and close; those asked for finish on
 * their own). Query: `progress`. Returns the final progress.
 */
export async function regradeAssignmentWorkflow(input: RegradeAssignmentInput): Promise<RegradeProgress> {
  const s = input.carried ?? fresh();
  let cancelled = false;
  let wake = false;
  const key = { platformId: input.platformId, assignmentId: input.assignmentId, seq: input.seq };
  const progress = (finished = false): RegradeProgress => ({
    total: s.total,
    done: s.done,
    failed: s.failed,
    running: s.running.length,
    changed: s.changed,
    paused: s.paused,
    cancelled,
    finished,
    continuedAsNew: s.continuedAsNew,
  });
  setHandler(pauseSignal, () => {
    s.paused = true;
  });
  setHandler(resumeSignal, () => {
    s.paused = false;
    wake = true;
  });
  setHandler(cancelSignal, () => {
    cancelled = true;
  });
  setHandler(progressQuery, () => progress());

  s.total ??= await store.regradeTotal(key);
  let outcomesThisRun = 0;
  const nothingLeft = () => s.exhausted && s.queue.length === 0;

  while (!cancelled) {
    // Fill the window.
    while (!s.paused && !cancelled && s.running.length < input.concurrency && !nothingLeft()) {
      if (s.queue.length === 0) {
        const page = await store.regradePage({ ...key, afterId: s.cursor, limit: input.pageSize });
        if (page.length < input.pageSize) s.exhausted = true;
        if (page.length === 0) break;
        s.cursor = page[page.length - 1]!;
        s.queue.push(...page);
        continue;
      }
      const batch = s.queue.splice(0, input.concurrency - s.running.length);
      const asked = await store.requestRegrades({
        ...key,
        submissionIds: batch,
        ...(input.image !== undefined ? { image: input.image } : {}),
        ...(input.priority !== undefined ? { priority: input.priority } : {}),
      });
      for (const a of asked) {
        if (a.ok) s.running.push({ submissionId: a.submissionId, afterAttempt: a.afterAttempt });
        else s.failed += 1;
      }
    }
    if (s.running.length === 0 && nothingLeft()) break;
    // Wait a poll interval (a cancel, or a resume while nothing runs, ends the wait early).
    wake = false;
    await condition(() => cancelled || wake, s.running.length > 0 ? input.pollIntervalMs : undefined);
    if (cancelled || s.running.length === 0) continue;
    const outcomes = await store.regradeOutcomes(s.running);
    const ended = new Set<string>();
    for (const o of outcomes) {
      ended.add(o.submissionId);
      if (faulted(o)) s.failed += 1;
      else {
        s.done += 1;
        if (o.hadPrevious !== false && o.grade !== o.previousGrade) s.changed += 1;
      }
    }
    s.running = s.running.filter((r) => !ended.has(r.submissionId));
    outcomesThisRun += outcomes.length;
    if (outcomesThisRun >= input.continueAsNewAfter || workflowInfo().continueAsNewSuggested) {
      s.continuedAsNew += 1;
      await continueAsNew<typeof regradeAssignmentWorkflow>({ ...input, carried: s });
    }
  }
  return progress(true);
}
