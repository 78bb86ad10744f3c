import { ApplicationFailure, CancellationScope, condition, isCancellation, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { DeliveryRequest, FirstDeliveryTry, GradingSpec } from '../shared/activity-contracts';
import { closingPhase, statusOnResult } from '../shared/status';
import type { GradeResult, GradeSubmissionInput, GradeSubmissionOutcome } from '../shared/types';
import { recordResultProxy, storeWriteProxy } from './activity-options';
import { allocateAttempt, attemptTaken, numbersFromDatabase } from './attempt-numbers';
import { Attempts } from './attempts';
import { Deliveries, deliveryRequest } from './delivery';
import { CANCELLED } from './failures';
import { gradeInContainer, gradingSpec } from './grading';
import { containerStartedSignal, regradeSignal, statusQuery } from './messages';
import { attemptPriority } from './priority';
import { Progress } from './progress';

/** Patches (docs/ARCHITECTURE.md, "Changing workflow code safely"): the `containerStarted` signal's phase change. */
const PATCH_CONTAINER_STARTED = 'container-started-signal';
/** The outcome search attributes when a result is recorded, and the `cancelled` phase. */
const PATCH_OUTCOME = 'outcome-search-attributes';

/** A run's state: its attempts and regrade requests, what it reports, and its callbacks. */
interface Run {
  input: GradeSubmissionInput;
  attempts: Attempts;
  progress: Progress;
  deliveries: Deliveries;
}

/**
 * One workflow per submission. It grades once when started for a new submission, then once more for
 * every `regrade` signal (merged while one is pending), and closes when no regrade is pending. A regrade
 * after it closed starts a new run under the same id (signal-with-start), numbering attempts on.
 *
 * Attempt numbers come from the database, keyed on the run, so whatever an operator does in the Temporal
 * UI or CLI (reset, start like this one, signal-with-start) a new grading gets a new number, never
 * overwrites an earlier attempt and is delivered under a new `webhook-id` (docs/operations.md). Each
 * grading waits for a host at its priority, shared fairly between courses (./priority.ts).
 *
 * Each attempt: start the container on the flavour's queue, await it on the host that started it, record
 * the result, deliver the callback. Infrastructure faults repeat the attempt; student and grader faults
 * are results. A newer attempt's result supersedes an older one still being delivered. Cancelling the
 * run (an operator, from the Temporal UI) stops the container and records the submission as cancelled.
 *
 * Replay-compatible with the runs in flight: the commands and their order are pinned by the histories in
 * test/fixtures/histories (docs/ARCHITECTURE.md, "Changing workflow code safely").
 */
export async function gradeSubmissionWorkflow(input: GradeSubmissionInput): Promise<GradeSubmissionOutcome> {
  const attempts = new Attempts(input.previousAttempts, input.gradeOnStart, input.priority?.key);
  const run: Run = { input, attempts, progress: new Progress(attempts.current + 1), deliveries: new Deliveries(input) };
  setHandler(regradeSignal, (request) => {
    attempts.requestRegrade(request?.priority, request?.image);
    run.progress.regradeRequested();
  });
  setHandler(statusQuery, () => run.progress.state);
  // The grading host says the container runs: the phase and host change now, not when the grading ends.
  // Runs started before this patch (or replayed from such a history) ignore the notice.
  setHandler(containerStartedSignal, (notice) => {
    if (run.progress.isNews(notice) && patched(PATCH_CONTAINER_STARTED)) run.progress.running(notice);
  });
  try {
    await gradeUntilNothingPending(run);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await recordCancellation(run);
    throw err;
  }
  return finish(run);
}

/** Grade while regrades are pending; wait for the latest delivery, unless a regrade arrives meanwhile. */
async function gradeUntilNothingPending(run: Run): Promise<void> {
  const { attempts, progress, deliveries } = run;
  for (;;) {
    while (attempts.regradePending) {
      const { slot, priority } = attempts.take();
      let attempt = attempts.begin(numbersFromDatabase() ? await allocateAttempt(run.input, String(slot)) : undefined);
      progress.attemptQueued(attempt);
      const spec = attemptSpec(run, attempt);
      const result = await gradeInContainer(run.input, spec, progress, attemptPriority(run.input, priority));
      let request = graded(run, result, attempt, spec.image);
      let first: FirstDeliveryTry | null;
      for (;;) {
        try {
          first = await recordResult(run, attempt, result, request, spec.image);
          break;
        } catch (err) {
          if (!attemptTaken(err)) throw err;
          // A reset kept this attempt's number and an earlier run recorded it: this grading gets a new one.
          attempt = attempts.begin(await allocateAttempt(run.input, `${slot}/after-${attempt}`));
          progress.renumbered(attempt);
          request = run.input.callbackUrl ? deliveryRequest(run.input, attempt, result, spec.image) : undefined;
        }
      }
      attempts.recorded = attempt;
      if (patched(PATCH_OUTCOME)) progress.recorded(attempt, result);
      if (request && first) deliveries.start(request, first);
    }
    if (!deliveries.inFlight) return;
    progress.setPhase('delivering', progress.host);
    // A regrade that arrives while the last result is being delivered starts the next attempt at once.
    await condition(() => attempts.regradePending || !deliveries.inFlight);
    if (!attempts.regradePending) return;
  }
}

/** The attempt's grading: with the image a regrade asked for, if one did (runs before that option: the input's). */
function attemptSpec(run: Run, attempt: number): GradingSpec {
  const spec = gradingSpec(run.input, attempt);
  const image = run.attempts.requestedImage;
  if (image !== undefined && patched('regrade-with-image')) spec.image = image;
  return spec;
}

/** An attempt's result is in: its callback (if any) supersedes the one still being delivered. */
function graded(run: Run, result: GradeResult, attempt: number, image: string): DeliveryRequest | undefined {
  run.attempts.lastResult = result;
  run.progress.graded();
  if (!run.input.callbackUrl) return undefined;
  const request = deliveryRequest(run.input, attempt, result, image);
  run.deliveries.supersedeLatest();
  return request;
}

/** Record the result with the submission's new status, and make its callback's first try (one local activity). */
function recordResult(
  run: Run,
  attempt: number,
  result: GradeResult,
  delivery: DeliveryRequest | undefined,
  image: string,
): Promise<FirstDeliveryTry | null> {
  const { input, progress } = run;
  const status = statusOnResult(result.reason, { callback: Boolean(input.callbackUrl), regradePending: run.attempts.regradePending });
  return recordResultProxy(input, `attempt ${attempt}: record result${delivery ? ', deliver callback' : ''}`).recordResultAndDeliver({
    record: { submissionId: input.submissionId, attempt, host: progress.host ?? null, timings: progress.state.timings, result, status, image },
    ...(delivery ? { delivery } : {}),
  });
}

/** An operator cancelled the run: record it, with the unfinished attempt's result if it has none yet. */
function recordCancellation(run: Run): Promise<void> {
  const { input, attempts, progress } = run;
  const attempt = attempts.current;
  if (patched(PATCH_OUTCOME)) {
    if (attempts.unrecorded) progress.recorded(attempt, CANCELLED);
    progress.setPhase('cancelled');
  }
  return CancellationScope.nonCancellable(() =>
    storeWriteProxy(`attempt ${attempt}: record cancellation`).recordCancellation({
      submissionId: input.submissionId,
      attempt,
      ...(attempts.unrecorded ? { result: CANCELLED, host: progress.host ?? null, timings: progress.state.timings } : {}),
    }),
  );
}

/** The run closes: its last phase, and what it returns. */
function finish(run: Run): GradeSubmissionOutcome {
  const { attempts, progress, deliveries } = run;
  const delivery = deliveries.outcome;
  if (delivery === 'delivered') progress.delivered();
  progress.setPhase(closingPhase(attempts.lastResult?.reason, delivery), progress.host);
  if (attempts.lastResult === undefined) {
    throw ApplicationFailure.nonRetryable(`run ${workflowInfo().runId} was started without anything to grade`);
  }
  return { attempts: attempts.current, lastResult: attempts.lastResult, delivered: delivery === 'delivered' };
}
