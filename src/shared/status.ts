import type { FailureReason, Phase, SubmissionStatus } from './types';

/**
 * The rules that decide a submission's status, in one place: the workflow computes a status with them and
 * hands it to the store, the store writes what it is given, and the API shows it. Workflow-safe (no I/O).
 *
 *   received   ─ stored; its workflow's start not yet confirmed (the API shows `queued`)
 *   queued     ─ the workflow runs (the live `status` query says queued / running / delivering)
 *   delivering ─ a result is recorded and its callback (or a pending regrade) is still to come
 *   completed  ─ over: graded (whatever the grade) and, with a callback, delivered
 *   failed     ─ over: infrastructure kept it from running, or its callback could not be delivered
 *   cancelled  ─ an operator cancelled the run
 * A regrade starts the cycle again from `delivering`/`completed`/`failed` (the attempt number grows).
 */

/** A grading that is over: failed when infrastructure kept the attempt from running, completed otherwise. */
export function finishedStatus(reason: FailureReason | undefined): 'completed' | 'failed' {
  return reason === 'infrastructure_error' ? 'failed' : 'completed';
}

/** Recorded with an attempt's result: over at once unless a callback or a pending regrade follows it. */
export function statusOnResult(reason: FailureReason | undefined, next: { callback: boolean; regradePending: boolean }): SubmissionStatus {
  return next.callback || next.regradePending ? 'delivering' : finishedStatus(reason);
}

/** Once the attempt's callback is delivered. */
export function statusOnDelivered(reason: FailureReason | undefined): 'completed' | 'failed' {
  return finishedStatus(reason);
}

/** When the attempt's callback cannot be delivered (given up, refused). A superseded delivery changes nothing. */
export const STATUS_UNDELIVERED = 'failed' satisfies SubmissionStatus;

/** An operator cancelled the run. */
export const STATUS_CANCELLED = 'cancelled' satisfies SubmissionStatus;

/** Once its workflow's start is confirmed. */
export const STATUS_STARTED = 'queued' satisfies SubmissionStatus;

/** The workflow's last phase (search attribute, `status` query) when it closes. */
export function closingPhase(
  reason: FailureReason | undefined,
  delivery: 'none' | 'delivered' | 'undelivered',
): Extract<Phase, 'completed' | 'failed'> {
  return reason === 'infrastructure_error' || delivery === 'undelivered' ? 'failed' : 'completed';
}

/** What the API shows for a stored status: `received` is internal (the start is on its way), shown as queued. */
export function publicStatus(status: SubmissionStatus): Exclude<SubmissionStatus, 'received'> {
  return status === 'received' ? 'queued' : status;
}
