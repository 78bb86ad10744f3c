import type { GradeflowConfig } from '../config/schema';
import { sha256Hex } from '../shared/sha256';
import type { TaskPriority } from '../shared/types';
import type { Submission } from '../store/submissions';

/** Temporal's limit on a fairness key. */
const MAX_FAIRNESS_KEY_BYTES = 64;

/**
 * The fairness key of a submission: its course within its platform (`<platform>/<course_id>`), or the
 * platform alone when it names no course, so that one course's backlog (a bulk regrade) shares a busy
 * queue with every other course instead of holding it. A course id is the platform's label, not personal
 * data; one too long for Temporal's 64 bytes is replaced by its digest (`<platform>/#<sha256 prefix>`,
 * at most 58 bytes).
 */
export function fairnessKey(platformId: string, courseId: string | null | undefined): string {
  if (!courseId) return platformId;
  const key = `${platformId}/${courseId}`;
  if (Buffer.byteLength(key) <= MAX_FAIRNESS_KEY_BYTES) return key;
  // The digest covers the whole key; the platform's first characters stay readable in the Temporal UI.
  return `${platformId.slice(0, 24)}/#${sha256Hex(key).slice(0, 32)}`;
}

/**
 * The task-queue priority of a submission's run. `key`: the priority of its first attempt (the
 * submission's for a new submission, the regrade's for a run started by a regrade).
 */
export function taskPriority(sub: Pick<Submission, 'platformId' | 'courseId'>, config: GradeflowConfig, key: number): TaskPriority {
  const platform = config.platforms.find((p) => p.id === sub.platformId);
  return {
    key,
    regradeKey: config.priorities.regrade,
    fairnessKey: fairnessKey(sub.platformId, sub.courseId),
    fairnessWeight: platform?.fairnessWeight ?? 1,
  };
}
