import type { GradeflowConfig } from '../config/schema';
import { controlQueue, flavourQueue } from '../shared/task-queues';
import type { GradeSubmissionInput } from '../shared/types';
import type { Submission } from '../store/submissions';
import { effectiveLimits } from './submission-limits';

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
    file: sub.file,
    grading: sub.grading,
    ...(sub.callbackUrl ? { callbackUrl: sub.callbackUrl } : {}),
    previousAttempts: run.previousAttempts,
    gradeOnStart: run.gradeOnStart,
    callbackPolicy: {
      initialIntervalMs: config.callbacks.initialIntervalMs,
      maximumIntervalMs: config.callbacks.maximumIntervalMs,
      backoffCoefficient: config.callbacks.backoffCoefficient,
      giveUpAfterMs: config.callbacks.giveUpAfterMs,
    },
    infrastructureRetries: config.infrastructureRetries,
    taskQueues: { control: controlQueue(prefix), flavour: flavourQueue(prefix, sub.flavour) },
  };
}
