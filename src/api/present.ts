import { imageDigest } from '../shared/callback-body';
import { publicStatus } from '../shared/status';
import type { AttemptTimings, SubmissionProgress } from '../shared/types';
import type { RedeliveryRecord } from '../store/redeliveries';
import type { AttemptRecord, DeliveryRecord, Submission } from '../store/submissions';

const FINISHED: readonly string[] = ['completed', 'failed', 'cancelled'];

/**
 * The API's view of a submission: stored facts, with live progress from the workflow while it runs.
 * Snake_case, as platforms (and correctomatic's body) expect.
 */
export function presentSubmission(
  sub: Submission,
  attempts: AttemptRecord[],
  deliveries: DeliveryRecord[],
  progress: SubmissionProgress | undefined,
  redeliveries: RedeliveryRecord[] = [],
) {
  const latest = attempts.at(-1);
  const live = progress && !FINISHED.includes(progress.phase) ? progress : undefined;
  const status = live ? live.phase : publicStatus(sub.status);
  return {
    id: sub.id,
    work_id: sub.workId,
    status,
    attempt: live?.attempt ?? sub.attempts,
    image: sub.image,
    flavour: sub.flavour,
    priority: sub.priority,
    file: { name: sub.file.name, size: sub.file.size, sha256: sub.file.sha256 },
    grading: {
      format: sub.grading.format,
      results_file: sub.grading.resultsFile ?? null,
      max_grade: sub.grading.maxGrade ?? null,
      pull_policy: sub.grading.pullPolicy ?? null,
    },
    assignment_id: sub.assignmentId,
    student_id: sub.studentId,
    course_id: sub.courseId,
    created_at: sub.createdAt.toISOString(),
    updated_at: sub.updatedAt.toISOString(),
    // Why it is not progressing (stall watch), while it is unfinished: a platform can see it, not only the log.
    ...(sub.problem && !FINISHED.includes(sub.status) ? { problem: sub.problem } : {}),
    ...(live ? { progress: { phase: live.phase, attempt: live.attempt, host: live.host ?? null, timings: presentTimings(live.timings), regrade_pending: live.regradePending } } : {}),
    // Results stored before comments and tests were always present get them as empty lists.
    result: latest ? { ...latest.result, comments: latest.result.comments ?? [], tests: latest.result.tests ?? [] } : null,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      host: a.host,
      // The image that graded it, and its digest when the reference is pinned (attempts recorded before: null).
      image: a.image ?? null,
      image_digest: imageDigest(a.image),
      timings: presentTimings(a.timings),
      success: a.result.success,
      grade: a.result.grade ?? null,
      max_grade: a.result.max_grade ?? null,
      reason: a.result.reason ?? null,
      delivery: presentDelivery(deliveries.find((d) => d.attempt === a.attempt)),
      // Its result sent again on request (POST /v1/submissions/{id}/redeliver), each a message of its own.
      redeliveries: redeliveries.filter((r) => r.attempt === a.attempt).map(presentRedelivery),
    })),
  };
}

/** A submission in a list: its facts and latest grade, without attempts (GET /v1/submissions/:id has them). */
export function presentListedSubmission(sub: Submission) {
  return {
    id: sub.id,
    work_id: sub.workId,
    status: publicStatus(sub.status),
    attempt: sub.attempts,
    image: sub.image,
    flavour: sub.flavour,
    assignment_id: sub.assignmentId,
    student_id: sub.studentId,
    course_id: sub.courseId,
    created_at: sub.createdAt.toISOString(),
    updated_at: sub.updatedAt.toISOString(),
  };
}

function presentTimings(t: AttemptTimings | undefined) {
  return {
    queued_at: t?.queuedAt ?? null,
    started_at: t?.startedAt ?? null,
    graded_at: t?.gradedAt ?? null,
    delivered_at: t?.deliveredAt ?? null,
  };
}

function presentDelivery(d: DeliveryRecord | undefined) {
  if (!d) return null;
  return {
    webhook_id: d.webhookId || null,
    status: d.status,
    tries: d.tries,
    last_status: d.lastStatus,
    last_error: d.lastError,
    delivered_at: d.deliveredAt?.toISOString() ?? null,
  };
}

function presentRedelivery(r: RedeliveryRecord) {
  return {
    redelivery: r.n,
    webhook_id: r.webhookId,
    status: r.status,
    tries: r.tries,
    last_status: r.lastStatus,
    last_error: r.lastError,
    requested_at: r.requestedAt.toISOString(),
    delivered_at: r.deliveredAt?.toISOString() ?? null,
  };
}
