import { parseImageReference } from '../security/image-reference';
import type { CallbackBody, GradeResult } from './types';

/**
 * The callback body: correctomatic's fields (success, work_id, grade, comments, error) plus gradeflow's
 * (ids, attempt, tests, feedback, max_grade, reason, origin, and the image that graded it with its digest
 * when the reference is pinned, as GET's attempts show them). The output excerpts stay in the API.
 * `image` absent: a body of a run started before the body named its image (workflows/delivery.ts).
 */
export function callbackBody(ids: { submissionId: string; workId?: string }, attempt: number, result: GradeResult, image?: string): CallbackBody {
  const { exit_code: _exit, duration_ms: _duration, stdout: _out, stderr: _err, ...rest } = result;
  return {
    ...rest,
    work_id: ids.workId ?? null,
    submission_id: ids.submissionId,
    attempt,
    ...(image !== undefined ? { image, image_digest: imageDigest(image) } : {}),
  };
}

/** The digest an image reference is pinned to (`name@sha256:…`), else null (a tag or a local image). */
export function imageDigest(image: string | null | undefined): string | null {
  const ref = image ? parseImageReference(image) : undefined;
  return ref?.digest ?? null;
}
