import type { GradeflowConfig } from '../config/schema';
import { controlQueue, deliveryQueue, flavourQueue } from '../shared/task-queues';
import type { GradeSubmissionInput } from '../shared/types';
import type { Submission } from '../store/submissions';
import { effectiveLimits } from '../shared/limits';
import { taskPriority } from './task-priority';

/**
 * The bytes of a file small enough to travel inside the workflow and activity inputs (base64, in the
 * history), so that a grading host does not fetch them from the server: most submissions are a source
 * file of a few KiB (`server.inlineFileBytes`). Undefined for a larger file.
 */
export function inlineBytes(content: Buffer, config: Pick<GradeflowConfig, 'server'>): Buffer | undefined {
  return content.length <= config.server.inlineFileBytes ? content : undefined;
}

/**
 * The workflow input for a stored submission, with the flavour's limits and the callback policy as the
 * configuration has them now (so a regrade after a config change uses the new limits). `inline`: the
 * file's bytes, when the API has just received them and they are small (`inlineBytes`); a regrade, or a
 * start by the reconcile, carries the digest alone. `run.priority`: of the run's first grading (default:
 * the submission's).
 */
export function workflowInput(
  sub: Submission,
  config: GradeflowConfig,
  run: { previousAttempts: number; gradeOnStart: boolean; priority?: number },
  inline?: Buffer,
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
      ...(inline ? { inlineBase64: inline.toString('base64') } : {}),
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
    heartbeatTimeouts: {
      runContainerSeconds: config.heartbeatTimeouts.runContainerSeconds,
      awaitContainerSeconds: config.heartbeatTimeouts.awaitContainerSeconds,
    },
    priority: taskPriority(sub, config, run.priority ?? sub.priority),
  };
}
