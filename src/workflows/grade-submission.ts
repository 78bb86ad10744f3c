import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { callbackBody } from '../shared/callback-body';
import { ErrorTypes } from '../shared/error-types';
import { failureResult } from '../shared/failure-result';
import { SA } from '../shared/search-attributes';
import type { DeliveryRequest } from '../activities/callback/deliver-callback';
import type {
  FirstDeliveryTry,
  GradeResult,
  GradeSubmissionInput,
  GradeSubmissionOutcome,
  GradingSpec,
  Phase,
  SubmissionProgress,
} from '../shared/types';
import { awaitProxy, deliveryProxy, recordProxy, runProxy, storeProxy } from './activity-options';
import { regradeSignal, statusQuery } from './messages';

interface Delivery {
  attempt: number;
  scope: CancellationScope;
  /** Set when a newer attempt's result replaces this one. */
  superseded?: boolean;
  /** undefined while in flight; then whether the receiver accepted it. */
  delivered?: boolean;
}

/** Why an attempt that infrastructure kept failing ends; the platform must not charge the student. */
function infrastructureFailure(err: unknown, tries: number): GradeResult {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  const lostHost = cause instanceof TimeoutFailure;
  const detail = lostHost ? 'the grading host stopped answering' : cause instanceof Error ? cause.message : String(cause);
  return failureResult(
    'infrastructure_error',
    'infrastructure',
    `Grading could not run after ${tries} tries because of an infrastructure fault (${detail}). This is not the submission's fault.`,
  );
}

/** A submission the host could not unpack (a hostile or broken archive) is a result, not a fault to retry. */
function rejectedSubmission(err: unknown): GradeResult | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== ErrorTypes.SubmissionRejected) return undefined;
  return failureResult('invalid_submission', 'student', `The submission was refused: ${cause.message}`);
}

const CANCELLED: GradeResult = failureResult(
  'cancelled',
  'operator',
  'Grading was cancelled by an operator before it finished. Ask for a regrade to grade it again.',
);

/**
 * One workflow per submission. It grades once when started for a new submission, then once more for
 * every `regrade` signal (merged while one is pending), and closes when no regrade is pending. A regrade
 * after it closed starts a new run under the same id (signal-with-start), numbering attempts on.
 *
 * Each attempt: start the container on the flavour's queue, await it on the host that started it, record
 * the result, deliver the callback. Infrastructure faults repeat the attempt; student and grader faults
 * are results. A newer attempt's result supersedes an older one still being delivered. Cancelling the
 * run (an operator, from the Temporal UI) stops the container and records the submission as cancelled.
 */
export async function gradeSubmissionWorkflow(input: GradeSubmissionInput): Promise<GradeSubmissionOutcome> {
  let attempt = input.previousAttempts;
  let recordedAttempt = input.previousAttempts;
  let regradePending = input.gradeOnStart;
  let lastResult: GradeResult | undefined;
  let delivery: Delivery | undefined;
  const progress: SubmissionProgress = {
    phase: 'queued',
    attempt: attempt + 1,
    regradePending: false,
    timings: { queuedAt: new Date().toISOString() },
  };

  setHandler(regradeSignal, () => {
    regradePending = true;
    progress.regradePending = true;
  });
  setHandler(statusQuery, () => progress);

  let indexed: { phase: Phase; host?: string } = { phase: 'queued' }; // as the start set them
  const setPhase = (phase: Phase, host?: string): void => {
    progress.phase = phase;
    if (host !== undefined) progress.host = host;
    // Each change of a search attribute is a visibility write: only real changes are sent.
    if (indexed.phase !== phase || (host !== undefined && indexed.host !== host)) {
      upsertSearchAttributes([
        { key: SA.phase, value: phase },
        ...(host !== undefined ? [{ key: SA.host, value: host }] : []),
      ]);
      indexed = { phase, ...(host !== undefined ? { host } : indexed.host !== undefined ? { host: indexed.host } : {}) };
    }
    setCurrentDetails(`**${phase}** · attempt ${progress.attempt}${progress.host ? ` · host ${progress.host}` : ''}`);
  };

  /** Run one attempt's container to a result, repeating it on infrastructure faults. */
  const grade = async (spec: GradingSpec): Promise<GradeResult> => {
    for (let tries = 1; ; tries++) {
      try {
        const outcome = await runProxy(input, `attempt ${spec.attempt}: grade in a container (${input.flavour})`).runContainer(spec);
        progress.timings.startedAt = outcome.started.startedAt;
        progress.host = outcome.started.hostId;
        if (outcome.kind === 'graded') return outcome.result;
        // Its host is shutting down with the container running: a restarted worker there takes it over.
        setPhase('running', outcome.started.hostId);
        return await awaitProxy(input, outcome.started.hostQueue, `attempt ${spec.attempt}: await the container handed over on ${outcome.started.hostId}`)
          .awaitContainer(spec, outcome.started);
      } catch (err) {
        if (isCancellation(err)) throw err;
        const rejected = rejectedSubmission(err);
        if (rejected) return rejected;
        if (tries > input.infrastructureRetries) return infrastructureFailure(err, tries);
        await sleep(Math.min(30_000, 1000 * 2 ** (tries - 1)));
      }
    }
  };

  const deliveryRequest = (n: number, result: GradeResult): DeliveryRequest => ({
    submissionId: input.submissionId,
    platformId: input.platformId,
    attempt: n,
    url: input.callbackUrl!,
    body: callbackBody({ submissionId: input.submissionId, workId: input.workId }, n, result),
  });

  /** The delivery of attempt `n` after its first try (made with the record) failed: retries, or the end. */
  const continueDelivery = (request: DeliveryRequest, first: FirstDeliveryTry): Delivery => {
    const n = request.attempt;
    const scope = new CancellationScope();
    const d: Delivery = { attempt: n, scope };
    if (first.delivered) {
      d.delivered = true;
      return d;
    }
    void scope
      .run(async () => {
        if (!first.retryable) throw ApplicationFailure.nonRetryable(first.error, ErrorTypes.CallbackForbidden);
        // A first try that was made and failed: the retries keep the policy's first interval (a skipped one need not).
        if (!first.skipped && patched('wait-after-first-try')) await sleep(input.callbackPolicy.initialIntervalMs);
        return deliveryProxy(input, `attempt ${n}: deliver callback (retries)`).deliverCallback(request);
      })
      .then(() => true)
      .catch(async (err: unknown) => {
        // An operator's cancel of the whole run is recorded once, below; not here.
        if (isCancellation(err) && !d.superseded) return false;
        await CancellationScope.nonCancellable(() =>
          storeProxy(input, `attempt ${n}: record delivery outcome`).recordDeliveryFailure({
            submissionId: input.submissionId,
            attempt: n,
            superseded: d.superseded === true,
            error: d.superseded ? 'superseded by a newer attempt' : err instanceof Error ? (err.cause ?? err).toString() : String(err),
          }),
        );
        return false;
      })
      .then((ok) => {
        d.delivered = ok;
      });
    return d;
  };

  const gradeUntilNothingPending = async (): Promise<void> => {
    for (;;) {
      while (regradePending) {
        regradePending = false;
        progress.regradePending = false;
        attempt += 1;
        progress.attempt = attempt;
        progress.timings = { queuedAt: new Date().toISOString() };
        delete progress.host;
        setPhase('queued');

        const result = await grade({
          submissionId: input.submissionId,
          workflowId: workflowInfo().workflowId,
          platformId: input.platformId,
          attempt,
          image: input.image,
          flavour: input.flavour,
          limits: input.limits,
          env: input.env,
          file: input.file,
          grading: input.grading,
        });
        lastResult = result;
        progress.timings.gradedAt = new Date().toISOString();

        const final = !input.callbackUrl && !regradePending;
        const request = input.callbackUrl ? deliveryRequest(attempt, result) : undefined;
        if (request && delivery) {
          // A newer result replaces the one still being delivered.
          delivery.superseded = true;
          delivery.scope.cancel();
        }
        const first = await recordProxy(input, `attempt ${attempt}: record result${request ? ', deliver callback' : ''}`).recordResultAndDeliver({
          record: {
            submissionId: input.submissionId,
            attempt,
            host: progress.host ?? null,
            timings: progress.timings,
            result,
            status: final ? (result.reason === 'infrastructure_error' ? 'failed' : 'completed') : 'delivering',
          },
          ...(request ? { delivery: request } : {}),
        });
        recordedAttempt = attempt;
        if (request && first) delivery = continueDelivery(request, first);
      }

      if (delivery && delivery.delivered === undefined) {
        setPhase('delivering', progress.host);
        const inFlight = delivery;
        // A regrade that arrives while the last result is being delivered starts the next attempt at once.
        await condition(() => regradePending || inFlight.delivered !== undefined);
        if (regradePending) continue;
      }
      return;
    }
  };

  try {
    await gradeUntilNothingPending();
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(() =>
      storeProxy(input, `attempt ${attempt}: record cancellation`).recordCancellation({
        submissionId: input.submissionId,
        attempt,
        ...(recordedAttempt < attempt ? { result: CANCELLED, host: progress.host ?? null, timings: progress.timings } : {}),
      }),
    );
    throw err;
  }

  const deliveredLatest = delivery?.delivered ?? false;
  if (deliveredLatest) progress.timings.deliveredAt = new Date().toISOString();
  setPhase(lastResult?.reason === 'infrastructure_error' || (delivery && !deliveredLatest) ? 'failed' : 'completed', progress.host);
  if (lastResult === undefined) {
    throw ApplicationFailure.nonRetryable(`run ${workflowInfo().runId} was started without anything to grade`);
  }
  return { attempts: attempt, lastResult, delivered: deliveredLatest };
}
