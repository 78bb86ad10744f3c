import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { RedeliverInput } from '../shared/activity-contracts';
import { deliveryProxy, storeWriteProxy } from './activity-options';

/**
 * One redelivery (`POST /v1/submissions/{id}/redeliver`), workflow id `redeliver/<platform>/<submission>/<n>`:
 * the recorded result sent again by the same `deliverCallback` activity, on the delivery queue, with the
 * submission's retry policy, under the redelivery's own webhook id. It is apart from the submission's
 * workflow, so it works whether that one runs or closed long ago, never adds a command to its history, and
 * never touches the grade, the attempt or the status. Retries that end undelivered are recorded as failed.
 */
export async function redeliverWorkflow(input: RedeliverInput): Promise<{ delivered: boolean }> {
  const { request } = input;
  try {
    await deliveryProxy(input, `redelivery ${request.redelivery} of attempt ${request.attempt}`).deliverCallback(request);
    return { delivered: true };
  } catch (err) {
    const error = isCancellation(err) ? 'cancelled' : err instanceof Error ? (err.cause ?? err).toString() : String(err);
    await CancellationScope.nonCancellable(() =>
      storeWriteProxy(`redelivery ${request.redelivery}: record that it failed`).recordRedeliveryFailure({
        submissionId: request.submissionId,
        redelivery: request.redelivery,
        error,
      }),
    );
    if (isCancellation(err)) throw err;
    return { delivered: false };
  }
}
