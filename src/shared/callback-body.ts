import type { CallbackBody, GradeResult } from './types';

/** The callback body: correctomatic's fields (success, work_id, grade, comments, error) plus gradeflow's. */
export function callbackBody(
  ids: { submissionId: string; workId?: string },
  attempt: number,
  result: GradeResult,
): CallbackBody {
  return {
    success: result.success,
    work_id: ids.workId ?? null,
    submission_id: ids.submissionId,
    attempt,
    ...(result.grade !== undefined ? { grade: result.grade } : {}),
    ...(result.comments !== undefined ? { comments: result.comments } : {}),
    ...(result.error !== undefined ? { error: result.error } : {}),
    ...(result.reason !== undefined ? { reason: result.reason } : {}),
    ...(result.origin !== undefined ? { origin: result.origin } : {}),
  };
}
