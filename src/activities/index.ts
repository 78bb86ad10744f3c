import type { ControlActivities, HostActivities } from '../shared/activity-contracts';
import { createDeliverCallback, createDeliveryTry, type DeliverDeps } from './callback/deliver-callback';
import { createAwaitContainer } from './docker/await-container';
import type { LaunchDeps } from './docker/launch-container';
import { createRunContainer } from './docker/run-container';
import { createRecordAndDeliver } from './record-and-deliver';
import { createRegradeRequests } from './regrade-requests';
import { createRecordActivities } from './store/record-results';
import { createRegradeTargetActivities } from './store/regrade-targets';
import type { RegradeActivities } from '../shared/regrade-contracts';
import type { OwnedStarts } from '../control/workflow-ownership';
import type { RegradeStore } from '../store/regrades';
import type { SubmissionStore } from '../store/submissions';
import type { SearchAttributePrivacy } from '../privacy/search-attribute-privacy';

/** What a grading host's activities use: Docker, its slots and output collectors, the submission source. */
export type HostActivityDeps = LaunchDeps;

/** What the control and delivery workers' activities use: the platforms, the store, callback deadlines. */
export type ControlActivityDeps = DeliverDeps & {
  /** Rewrites the search attributes a run started without them gets (student id hashed, see src/privacy/). */
  searchAttributePrivacy?: SearchAttributePrivacy;
};

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
  const records = createRecordActivities(deps.store, deps.searchAttributePrivacy);
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
export function createDeliveryActivities(deps: Pick<ControlActivityDeps, 'platforms' | 'store' | 'timeoutMs' | 'rules'>): Pick<ControlActivities, 'deliverCallback'> {
  return { deliverCallback: createDeliverCallback(deps) };
}

/** Activities of the control worker for assignment regrades: the database's pages and outcomes, and the regrade signals. */
export function createRegradeActivities(deps: { regrades: RegradeStore; store: SubmissionStore; owned: Pick<OwnedStarts, 'regrade'> }): RegradeActivities {
  return {
    ...createRegradeTargetActivities(deps.regrades),
    requestRegrades: createRegradeRequests(deps),
  };
}
