import type { AttemptResultRecord, CancellationRecord, DeliveryFailureRecord } from '../../shared/activity-contracts';
import { STATUS_UNDELIVERED } from '../../shared/status';
import type { SubmissionStore } from '../../store/submissions';

/** Activities (control queue) that write a workflow's outcomes to the record of truth. Idempotent. */
export function createRecordActivities(store: SubmissionStore) {
  return {
    async recordAttemptResult(r: AttemptResultRecord): Promise<void> {
      await store.recordAttempt(r.submissionId, { attempt: r.attempt, host: r.host, timings: r.timings, result: r.result, image: r.image ?? null }, r.status);
    },
    async recordCancellation(r: CancellationRecord): Promise<void> {
      const unfinished = r.result && r.timings ? { attempt: r.attempt, host: r.host ?? null, timings: r.timings, result: r.result } : undefined;
      await store.recordCancellation(r.submissionId, r.attempt, unfinished);
    },
    async recordDeliveryFailure(r: DeliveryFailureRecord): Promise<void> {
      await store.recordDeliveryGaveUp(r.submissionId, r.attempt, r.superseded, r.error, STATUS_UNDELIVERED);
    },
  };
}
