import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type {
  AttemptAllocation,
  AttemptAllocationRequest,
  AttemptResultRecord,
  CancellationRecord,
  DeliveryFailureRecord,
  RedeliveryFailureRecord,
} from '../../shared/activity-contracts';
import { ErrorTypes } from '../../shared/error-types';
import { STATUS_UNDELIVERED } from '../../shared/status';
import { deliveryEnded, gradingRecorded } from '../../metrics/grading-outcomes';
import type { SubmissionStore } from '../../store/submissions';
import type { SearchAttributePrivacy } from '../../privacy/search-attribute-privacy';
import { SA } from '../../shared/search-attributes';

/** The workflow run this activity works for (undefined outside an activity, e.g. a unit test). */
function callingRun(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.runId;
  } catch {
    return undefined;
  }
}

/** Activities (control queue) that write a workflow's outcomes to the record of truth. Idempotent. */
export function createRecordActivities(store: SubmissionStore, privacy?: SearchAttributePrivacy) {
  return {
    /** An attempt number for the calling run's grading (src/store/attempt-numbers.ts). */
    async allocateAttempt(r: AttemptAllocationRequest): Promise<AttemptAllocation> {
      const allocation = await store.allocateAttempt(r);
      const platformId = allocation.searchAttributes.find((a) => a.name === SA.platform.name)?.value;
      if (!privacy || platformId === undefined) return allocation;
      return { ...allocation, searchAttributes: privacy(platformId, allocation.searchAttributes) };
    },
    /**
     * Record an attempt's result under its number, unless another run recorded that number (a run reset
     * past its allocation re-grades under the number it kept): then nothing is written, and `AttemptTaken`
     * tells the workflow to record under a new number.
     */
    async recordAttemptResult(r: AttemptResultRecord): Promise<void> {
      const run = callingRun();
      const written = await store.recordAttempt(r.submissionId, { attempt: r.attempt, host: r.host, timings: r.timings, result: r.result, image: r.image ?? null }, r.status, run, (s) => gradingRecorded(r, s));
      if (!written) {
        throw ApplicationFailure.nonRetryable(`attempt ${r.attempt} was recorded by another run of this submission; not overwritten`, ErrorTypes.AttemptTaken);
      }
    },
    async recordCancellation(r: CancellationRecord): Promise<void> {
      const unfinished = r.result && r.timings ? { attempt: r.attempt, host: r.host ?? null, timings: r.timings, result: r.result } : undefined;
      await store.recordCancellation(r.submissionId, r.attempt, unfinished);
    },
    async recordDeliveryFailure(r: DeliveryFailureRecord): Promise<void> {
      await store.recordDeliveryGaveUp(r.submissionId, r.attempt, r.superseded, r.error, STATUS_UNDELIVERED);
      deliveryEnded(r);
    },
    async recordRedeliveryFailure(r: RedeliveryFailureRecord): Promise<void> {
      await store.recordRedeliveryGaveUp(r.submissionId, r.redelivery, r.error);
    },
  };
}
