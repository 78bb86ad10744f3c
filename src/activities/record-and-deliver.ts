import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes } from '../shared/error-types';
import type { AttemptResultRecord, DeliveryRequest, FirstDeliveryTry, RecordAndDeliverRequest } from '../shared/activity-contracts';
import { activityCancellation } from './callback/deliver-callback';

export interface FirstTryOptions {
  /** Hard deadline of the first try, ms. */
  timeoutMs: number;
  /** First tries in flight at once in this process; when reached, the try is skipped. 0: never try here. */
  concurrency: number;
}

/** The local activity's attempt number (1 outside an activity). */
function activityAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/**
 * Activity (local, control worker): record an attempt's result, then make the first try of its callback,
 * in one step, so that a grading costs the workflow one local activity after its container rather than
 * two. A failed record throws (the activity is retried; recording is idempotent); a failed delivery is
 * answered, not thrown, so the record is not repeated, and the workflow hands the retries to a regular
 * activity on the delivery queue.
 *
 * A local activity keeps its workflow task open, and so holds one of the control worker's workflow-task
 * slots, so the first try is bounded twice: by its own short deadline (`callbacks.firstTryTimeoutMs`), and
 * by a cap on first tries in flight in this process (`callbacks.firstTryConcurrency`). Past the cap, or
 * when this local activity is itself a retry (its delivery is never tried twice here), the result is
 * recorded and the try skipped (`skipped: true`): the regular activity delivers it at once.
 */
export function createRecordAndDeliver(
  recordAttemptResult: (r: AttemptResultRecord) => Promise<void>,
  firstTry: (req: DeliveryRequest, deadlineMs: number, cancel?: AbortSignal) => Promise<unknown>,
  options: FirstTryOptions,
) {
  let inFlight = 0;
  return async function recordResultAndDeliver(r: RecordAndDeliverRequest): Promise<FirstDeliveryTry | null> {
    await recordAttemptResult(r.record);
    if (!r.delivery) return null;
    if (activityAttempt() > 1) return { delivered: false, retryable: true, skipped: true, error: 'first try skipped: the record was retried' };
    if (inFlight >= options.concurrency) {
      return { delivered: false, retryable: true, skipped: true, error: `first try skipped: ${inFlight} first tries in flight` };
    }
    inFlight++;
    try {
      await firstTry(r.delivery, options.timeoutMs, activityCancellation());
      return { delivered: true };
    } catch (err) {
      const refused = err instanceof ApplicationFailure && (err.nonRetryable || err.type === ErrorTypes.CallbackForbidden);
      return { delivered: false, retryable: !refused, error: err instanceof Error ? err.message : String(err) };
    } finally {
      inFlight--;
    }
  };
}
