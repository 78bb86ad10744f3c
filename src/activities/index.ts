import { createDeliverCallback, type DeliverDeps } from './callback/deliver-callback';
import { createAwaitContainer } from './docker/await-container';
import type { LaunchDeps } from './docker/launch-container';
import { createRunContainer } from './docker/run-container';
import { createRecordAndDeliver } from './record-and-deliver';
import { createRecordActivities } from './store/record-results';

/** Activities of a grading host: Docker work, on the flavour queues and this host's own queue. */
export function createHostActivities(deps: LaunchDeps) {
  return {
    runContainer: createRunContainer(deps),
    awaitContainer: createAwaitContainer(deps),
  };
}

/** Activities of the control worker: the database and the callbacks. */
export function createControlActivities(deps: DeliverDeps) {
  const records = createRecordActivities(deps.store);
  const deliverCallback = createDeliverCallback(deps);
  return {
    ...records,
    deliverCallback,
    recordResultAndDeliver: createRecordAndDeliver(records.recordAttemptResult, deliverCallback),
  };
}

export type HostActivities = ReturnType<typeof createHostActivities>;
export type ControlActivities = ReturnType<typeof createControlActivities>;
