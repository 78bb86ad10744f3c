import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Priority } from '@temporalio/common';
import type { ControlActivities, HostActivities } from '../shared/activity-contracts';
import { ErrorTypes } from '../shared/error-types';
import type { GradeSubmissionInput } from '../shared/types';

/** Every activity proxy with its timeouts and retries, in one place. */

/**
 * Run: a whole grading on the flavour's queue, on whichever host takes it. The task waits in Temporal
 * until a host has a free slot, in the order `priority` gives it among the waiting (./priority.ts); the
 * activity then lives as long as its container.
 */
export function runProxy(input: GradeSubmissionInput, summary: string, priority?: Priority) {
  return proxyActivities<HostActivities>({
    summary,
    taskQueue: input.taskQueues.flavour,
    ...(priority ? { priority } : {}),
    startToCloseTimeout: `${Math.ceil(input.limits.timeLimitSeconds) + 600} seconds`,
    heartbeatTimeout: `${input.heartbeatTimeouts?.runContainerSeconds ?? 20} seconds`,
    retry: {
      initialInterval: '1 second',
      maximumInterval: '30 seconds',
      maximumAttempts: 5,
      nonRetryableErrorTypes: [ErrorTypes.ImageNotFound, ErrorTypes.SubmissionRejected, ErrorTypes.ContainerLost, ErrorTypes.GraderRejected],
    },
  });
}

/** Await: a container handed over by a host that shut down, on that host's queue. A host that never comes back counts as lost. */
export function awaitProxy(input: GradeSubmissionInput, hostQueue: string, summary: string, priority?: Priority) {
  return proxyActivities<HostActivities>({
    summary,
    taskQueue: hostQueue,
    ...(priority ? { priority } : {}),
    scheduleToStartTimeout: '2 minutes',
    startToCloseTimeout: `${Math.ceil(input.limits.timeLimitSeconds) + 300} seconds`,
    heartbeatTimeout: `${input.heartbeatTimeouts?.awaitContainerSeconds ?? 15} seconds`,
    // A vanished container cannot come back: the workflow starts the attempt's container again instead.
    retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 20, nonRetryableErrorTypes: [ErrorTypes.ContainerLost] },
  });
}

/** How long one database write may take (local activities). */
const RECORD_MS = 30_000;

/**
 * Database writes (a delivery's end, a cancellation): local activities in the control worker, which runs
 * the workflow. No task queue round trip; recorded with the workflow task. Retried until the database answers.
 */
export function storeWriteProxy(summary: string) {
  return proxyLocalActivities<ControlActivities>({
    summary,
    startToCloseTimeout: RECORD_MS,
    retry: { initialInterval: '500 milliseconds', maximumInterval: '30 seconds' },
  });
}

/**
 * An attempt's result recorded, with its callback's first try, in one local activity (why: docs/ARCHITECTURE.md §5).
 * Retried until the database answers. The timeout covers the database write and the
 * first try's hard deadline (`callbacks.firstTryTimeoutMs`; runs started before it existed: one minute in all).
 */
export function recordResultProxy(input: GradeSubmissionInput, summary: string) {
  return proxyLocalActivities<ControlActivities>({
    summary,
    startToCloseTimeout: RECORD_MS + (input.callbackPolicy.firstTryTimeoutMs ?? 30_000),
    retry: { initialInterval: '500 milliseconds', maximumInterval: '30 seconds' },
  });
}

/**
 * Callback delivery, the retries: exponential backoff until the receiver accepts or the policy gives up.
 * On the delivery queue (runs started before it existed: the control queue). Each try has its own hard
 * deadline (`callbacks.timeoutMs`, at most 50 s), inside this minute.
 */
export function deliveryProxy(input: Pick<GradeSubmissionInput, 'callbackPolicy'> & { taskQueues: { control: string; deliveries?: string } }, summary: string) {
  const p = input.callbackPolicy;
  return proxyActivities<ControlActivities>({
    summary,
    taskQueue: input.taskQueues.deliveries ?? input.taskQueues.control,
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: p.giveUpAfterMs,
    retry: {
      initialInterval: p.initialIntervalMs,
      maximumInterval: p.maximumIntervalMs,
      backoffCoefficient: p.backoffCoefficient,
      nonRetryableErrorTypes: [ErrorTypes.CallbackForbidden, ErrorTypes.CallbackGone],
    },
  });
}
