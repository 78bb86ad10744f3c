import type { ControlActivities, HostActivities } from '../shared/activity-contracts';
import { createDeliverCallback, createDeliveryTry, type DeliverDeps } from './callback/deliver-callback';
import { createAwaitContainer } from './docker/await-container';
import type { LaunchDeps } from './docker/launch-container';
import { createRunContainer } from './docker/run-container';
import { createRecordAndDeliver } from './record-and-deliver';
import { createRecordActivities } from './store/record-results';

/** What a grading host's activities use: Docker, its slots and output collectors, the submission source. */
export type HostActivityDeps = LaunchDeps;

/** What the control and delivery workers' activities use: the platforms, the store, callback deadlines. */
export type ControlActivityDeps = DeliverDeps;

/** Activities of a grading host: Docker work, on the flavour queues and this host's own queue. */
export function createHostActivities(deps: HostActivityDeps): HostActivities {
  return {
    runContainer: createRunContainer(deps),
    awaitContainer: createAwaitContainer(deps),
  };
}

/**
 * Activities of the control worker: the database and the callbacks. `deliverCallback` stays here for runs
 * started before the delivery queue existed (their input names no delivery queue).
 */
export function createControlActivities(deps: ControlActivityDeps): ControlActivities {
  const records = createRecordActivities(deps.store);
  return {
    ...records,
    deliverCallback: createDeliverCallback(deps),
    recordResultAndDeliver: createRecordAndDeliver(records.recordAttemptResult, createDeliveryTry(deps), {
      timeoutMs: Math.min(deps.firstTryTimeoutMs, deps.timeoutMs),
      concurrency: deps.firstTryConcurrency,
    }),
  };
}

/** Activities of the delivery worker (the delivery queue): the callback retries, I/O-bound, many at once. */
export function createDeliveryActivities(deps: Pick<ControlActivityDeps, 'platforms' | 'store' | 'timeoutMs'>): Pick<ControlActivities, 'deliverCallback'> {
  return { deliverCallback: createDeliverCallback(deps) };
}
