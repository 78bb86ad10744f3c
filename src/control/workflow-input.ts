import type { GradeflowConfig } from '../config/schema';
import { controlQueue, deliveryQueue, flavourQueue } from '../shared/task-queues';
import type { GradeSubmissionInput } from '../shared/types';
import type { Submission } from '../store/submissions';
import { effectiveLimits } from '../api/submission-limits';

/**
 * Files up to this size travel inside the workflow and activity inputs (base64, in the history), so a
 * grading host does not fetch them from the server: most submissions are a source file of a few KiB.
 */
export const INLINE_FILE_BYTES = 4096;

/** The submission as the API just stored it, carrying its bytes when they are small enough to inline. */
export function withSmallFile(sub: Submission, content: Buffer): Submission {
  return content.length <= INLINE_FILE_BYTES ? { ...sub, file: { ...sub.file, content } } : sub;
}

/**
 * The workflow input for a stored submission, with the flavour's limits and the callback policy as the
 * configuration has them now (so a regrade after a config change uses the new limits).
 */
export function workflowInput(
  sub: Submission,
  config: GradeflowConfig,
  run: { previousAttempts: number; gradeOnStart: boolean },
): GradeSubmissionInput {
  const flavour = config.flavours[sub.flavour] ?? config.flavours.default!;
  const prefix = config.temporal.taskQueuePrefix;
  return {
    submissionId: sub.id,
    platformId: sub.platformId,
    ...(sub.workId ? { workId: sub.workId } : {}),
    image: sub.image,
    flavour: sub.flavour,
    limits: effectiveLimits(flavour, sub.limits),
    env: sub.params,
    file: {
      name: sub.file.name,
      sha256: sub.file.sha256,
      size: sub.file.size,
      ...(sub.file.content ? { inlineBase64: sub.file.content.toString('base64') } : {}),
    },
    grading: sub.grading,
    ...(sub.callbackUrl ? { callbackUrl: sub.callbackUrl } : {}),
    previousAttempts: run.previousAttempts,
    gradeOnStart: run.gradeOnStart,
    callbackPolicy: {
      initialIntervalMs: config.callbacks.initialIntervalMs,
      maximumIntervalMs: config.callbacks.maximumIntervalMs,
      backoffCoefficient: config.callbacks.backoffCoefficient,
      giveUpAfterMs: config.callbacks.giveUpAfterMs,
      firstTryTimeoutMs: Math.min(config.callbacks.firstTryTimeoutMs, config.callbacks.timeoutMs),
    },
    infrastructureRetries: config.infrastructureRetries,
    taskQueues: { control: controlQueue(prefix), flavour: flavourQueue(prefix, sub.flavour), deliveries: deliveryQueue(prefix) },
  };
}
