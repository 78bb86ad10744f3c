import type { AttemptResultRecord, DeliveryFailureRecord } from '../shared/activity-contracts';
import { eventLogger } from './event-log';
import { callbacksEnded, gradingDuration, gradings, queueWait } from './server-metrics';

/** What the database adds to an attempt's record: the submission's platform and flavour. */
export interface RecordedSubmission {
  platformId: string;
  flavour: string;
}

/** Seconds from one ISO time to another, when both are known and in order. */
function secondsBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : undefined;
}

/**
 * An attempt's result was recorded for the first time (a retried record does not come here): count it,
 * observe its duration and queue wait, and write its one log line. The line names gradeflow's own ids
 * (submission, attempt), never the student's (student_id, work_id, code or output).
 */
export function gradingRecorded(r: AttemptResultRecord, s: RecordedSubmission): void {
  const { result, timings } = r;
  const outcome = result.success ? 'success' : 'failure';
  const reason = result.reason ?? (result.success ? 'none' : 'unknown');
  const origin = result.origin ?? 'none';
  gradings.inc({ platform: s.platformId, flavour: s.flavour, outcome, reason, origin, kind: r.attempt > 1 ? 'regrade' : 'first' });
  const duration = secondsBetween(timings.startedAt, timings.gradedAt);
  const wait = secondsBetween(timings.queuedAt, timings.startedAt);
  if (duration !== undefined) gradingDuration.observe({ flavour: s.flavour }, duration);
  if (wait !== undefined) queueWait.observe({ flavour: s.flavour }, wait);
  eventLogger()?.info(
    {
      event: 'grading_finished',
      submissionId: r.submissionId,
      attempt: r.attempt,
      platform: s.platformId,
      flavour: s.flavour,
      outcome,
      reason,
      origin,
      host: r.host,
      ...(duration !== undefined ? { durationSeconds: duration } : {}),
      ...(wait !== undefined ? { queueWaitSeconds: wait } : {}),
      ...(result.exit_code !== undefined ? { exitCode: result.exit_code } : {}),
    },
    'grading finished',
  );
}

/** A message with each URL cut to its origin: a callback URL's path or query may name a student. */
function withoutUrlPaths(message: string): string {
  return message.replace(/\bhttps?:\/\/[^\s/?#]+[^\s]*/gi, (url) => {
    try {
      return `${new URL(url).origin}/…`;
    } catch {
      return '<url>';
    }
  });
}

/** A delivery ended without the receiver accepting it: count it and write its one warning line. */
export function deliveryEnded(r: DeliveryFailureRecord): void {
  const result = r.superseded ? 'superseded' : 'given_up';
  callbacksEnded.inc({ result });
  const line = { event: 'delivery_ended', submissionId: r.submissionId, attempt: r.attempt, result, error: withoutUrlPaths(r.error) };
  if (r.superseded) eventLogger()?.info(line, 'delivery superseded by a newer attempt');
  else eventLogger()?.warn(line, 'delivery given up');
}
