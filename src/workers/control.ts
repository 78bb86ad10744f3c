import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createControlActivities, createDeliveryActivities, createRegradeActivities } from '../activities';
import { DELIVERY_HEARTBEAT_MS } from '../activities/callback/deliver-callback';
import type { GradeflowConfig } from '../config/schema';
import { createSearchAttributePrivacy } from '../privacy/search-attribute-privacy';
import { dataConverterFromConfig } from '../security/payload-keys';
import { controlQueue, deliveryQueue } from '../shared/task-queues';
import type { OwnedStarts } from '../control/workflow-ownership';
import type { RegradeStore } from '../store/regrades';
import type { SubmissionStore } from '../store/submissions';

export interface ControlWorkerDeps {
  connection: NativeConnection;
  config: GradeflowConfig;
  store: SubmissionStore;
  /** Assignment regrades' rows (their activities read pages and outcomes). */
  regrades: RegradeStore;
  /** The regrade signals that assignment regrades send (the per-submission path). */
  owned: Pick<OwnedStarts, 'regrade'>;
  /** A prebuilt bundle (tests build it once); otherwise the worker bundles src/workflows at start. */
  workflowBundle?: WorkflowBundleOption;
}

/** The control worker: every workflow, and the activities that need the database or the network. */
export async function createControlWorker(deps: ControlWorkerDeps): Promise<Worker> {
  const { config } = deps;
  return Worker.create({
    connection: deps.connection,
    namespace: config.temporal.namespace,
    taskQueue: controlQueue(config.temporal.taskQueuePrefix),
    dataConverter: dataConverterFromConfig(config),
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: {
      ...createControlActivities({
        platforms: new Map(config.platforms.map((p) => [p.id, p])),
        store: deps.store,
        timeoutMs: config.callbacks.timeoutMs,
        rules: config.callbacks,
        firstTryTimeoutMs: config.callbacks.firstTryTimeoutMs,
        firstTryConcurrency: config.callbacks.firstTryConcurrency,
        searchAttributePrivacy: createSearchAttributePrivacy(config),
      }),
      ...createRegradeActivities({ regrades: deps.regrades, store: deps.store, owned: deps.owned }),
    },
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds} seconds`,
  });
}

/**
 * The delivery worker, in the server process beside the control worker: the callback retries
 * (`deliverCallback`) on the delivery queue, up to `callbacks.maxConcurrentDeliveries` at once. A try
 * costs a socket and a timer, no CPU to speak of, so the slots are many; a receiver that hangs holds
 * one of them for at most `callbacks.timeoutMs`, and none of the control queue's.
 */
export async function createDeliveryWorker(deps: Pick<ControlWorkerDeps, 'connection' | 'config' | 'store'>): Promise<Worker> {
  const { config } = deps;
  return Worker.create({
    connection: deps.connection,
    namespace: config.temporal.namespace,
    taskQueue: deliveryQueue(config.temporal.taskQueuePrefix),
    dataConverter: dataConverterFromConfig(config),
    activities: createDeliveryActivities({
      platforms: new Map(config.platforms.map((p) => [p.id, p])),
      store: deps.store,
      timeoutMs: config.callbacks.timeoutMs,
      rules: config.callbacks,
    }),
    maxConcurrentActivityTaskExecutions: config.callbacks.maxConcurrentDeliveries,
    // A try heartbeats every second while it lasts (DELIVERY_HEARTBEAT_MS), so that a cancelled delivery
    // learns it and closes its socket within about a second, not at its deadline (30 s would be the default).
    defaultHeartbeatThrottleInterval: DELIVERY_HEARTBEAT_MS,
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds} seconds`,
  });
}
