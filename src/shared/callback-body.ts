import type { CallbackBody, GradeResult } from './types';

/**
 * The callback body: correctomatic's fields (success, work_id, grade, comments, error) plus gradeflow's
 * (ids, attempt, tests, feedback, max_grade, reason, origin). The output excerpts stay in the API.
 */
export function callbackBody(ids: { submissionId: string; workId?: string }, attempt: number, result: GradeResult): CallbackBody {
  const { exit_code: _exit, duration_ms: _duration, stdout: _out, stderr: _err, ...rest } = result;
  return {
    ...rest,
    work_id: ids.workId ?? null,
    submission_id: ids.submissionId,
    attempt,
  };
}
