import type { AttemptTimings, GradeResult, SubmissionStatus } from '../../shared/types';
import type { SubmissionStore } from '../../store/submissions';

export interface AttemptResultRecord {
  submissionId: string;
  attempt: number;
  host: string | null;
  timings: AttemptTimings;
  result: GradeResult;
  status: SubmissionStatus;
}

/** Activities (control queue) that write a workflow's outcomes to the record of truth. Idempotent. */
export function createRecordActivities(store: SubmissionStore) {
  return {
    async recordAttemptResult(r: AttemptResultRecord): Promise<void> {
      await store.recordAttempt(r.submissionId, { attempt: r.attempt, host: r.host, timings: r.timings, result: r.result }, r.status);
    },
    async recordCancellation(r: {
      submissionId: string;
      attempt: number;
      result?: GradeResult;
      host?: string | null;
      timings?: AttemptTimings;
    }): Promise<void> {
      const unfinished = r.result && r.timings ? { attempt: r.attempt, host: r.host ?? null, timings: r.timings, result: r.result } : undefined;
      await store.recordCancellation(r.submissionId, r.attempt, unfinished);
    },
    async recordDeliveryFailure(r: { submissionId: string; attempt: number; superseded: boolean; error: string }): Promise<void> {
      await store.recordDeliveryGaveUp(r.submissionId, r.attempt, r.superseded, r.error);
    },
  };
}
