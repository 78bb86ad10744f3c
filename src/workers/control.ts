import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createControlActivities } from '../activities';
import type { GradeflowConfig } from '../config/schema';
import { controlQueue } from '../shared/task-queues';
import type { SubmissionStore } from '../store/submissions';

export interface ControlWorkerDeps {
  connection: NativeConnection;
  config: GradeflowConfig;
  store: SubmissionStore;
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
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createControlActivities({
      platforms: new Map(config.platforms.map((p) => [p.id, p])),
      store: deps.store,
      timeoutMs: config.callbacks.timeoutMs,
    }),
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds} seconds`,
  });
}
