import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes } from '../shared/error-types';
import type { FirstDeliveryTry } from '../shared/types';
import type { DeliveryRequest } from './callback/deliver-callback';
import type { AttemptResultRecord } from './store/record-results';

/**
 * Activity (local, control worker): record an attempt's result, then make the first try of its callback,
 * in one step, so that a grading costs the workflow one local activity after its container rather than
 * two. A failed record throws (the activity is retried; recording is idempotent); a failed delivery is
 * answered, not thrown, so the record is not repeated, and the workflow hands the retries to a regular
 * activity.
 */
export function createRecordAndDeliver(
  recordAttemptResult: (r: AttemptResultRecord) => Promise<void>,
  deliverCallback: (req: DeliveryRequest) => Promise<unknown>,
) {
  return async function recordResultAndDeliver(r: { record: AttemptResultRecord; delivery?: DeliveryRequest }): Promise<FirstDeliveryTry | null> {
    await recordAttemptResult(r.record);
    if (!r.delivery) return null;
    try {
      await deliverCallback(r.delivery);
      return { delivered: true };
    } catch (err) {
      const refused = err instanceof ApplicationFailure && (err.nonRetryable || err.type === ErrorTypes.CallbackForbidden);
      return { delivered: false, retryable: !refused, error: err instanceof Error ? err.message : String(err) };
    }
  };
}
