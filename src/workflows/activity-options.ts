import { proxyActivities } from '@temporalio/workflow';
import type { ControlActivities, HostActivities } from '../activities';
import { ErrorTypes } from '../shared/error-types';
import type { GradeSubmissionInput } from '../shared/types';

/** Every activity proxy with its timeouts and retries, in one place. */

/** Start: on the flavour queue; may wait there for a free container slot, heartbeating. */
export function startProxy(input: GradeSubmissionInput, summary: string) {
  return proxyActivities<HostActivities>({
    summary,
    taskQueue: input.taskQueues.flavour,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '20 seconds',
    retry: {
      initialInterval: '1 second',
      maximumInterval: '30 seconds',
      maximumAttempts: 5,
      nonRetryableErrorTypes: [ErrorTypes.ImageNotFound, ErrorTypes.SubmissionRejected],
    },
  });
}

/** Await: on the host that started the container. A host that never picks it up counts as lost. */
export function awaitProxy(input: GradeSubmissionInput, hostQueue: string, summary: string) {
  return proxyActivities<HostActivities>({
    summary,
    taskQueue: hostQueue,
    scheduleToStartTimeout: '2 minutes',
    startToCloseTimeout: `${Math.ceil(input.limits.timeLimitSeconds) + 300} seconds`,
    heartbeatTimeout: '15 seconds',
    // A vanished container cannot come back: the workflow starts the attempt's container again instead.
    retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 20, nonRetryableErrorTypes: [ErrorTypes.ContainerLost] },
  });
}

/** Database writes on the control queue: retried until the database answers. */
export function storeProxy(input: GradeSubmissionInput, summary: string) {
  return proxyActivities<ControlActivities>({
    summary,
    taskQueue: input.taskQueues.control,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '500 milliseconds', maximumInterval: '30 seconds' },
  });
}

/** Callback delivery: exponential backoff until the platform's receiver accepts or the policy gives up. */
export function deliveryProxy(input: GradeSubmissionInput, summary: string) {
  const p = input.callbackPolicy;
  return proxyActivities<ControlActivities>({
    summary,
    taskQueue: input.taskQueues.control,
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: p.giveUpAfterMs,
    retry: {
      initialInterval: p.initialIntervalMs,
      maximumInterval: p.maximumIntervalMs,
      backoffCoefficient: p.backoffCoefficient,
      nonRetryableErrorTypes: [ErrorTypes.CallbackForbidden],
    },
  });
}
