import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type Dockerode from 'dockerode';
import type { GradeflowConfig } from '../config/schema';
import { ensureSearchAttributes } from '../control/register-search-attributes';
import { openDb } from '../store/db';
import { migrate } from '../store/migrations';
import { createAssignmentStore } from '../store/assignments';
import { createSubmissionStore, type SubmissionStore } from '../store/submissions';
import { createControlWorker, createDeliveryWorker } from '../workers/control';
import { installRuntime, temporalAddress } from '../workers/runtime';
import { buildApp } from '../api/app';
import { createStallWatch, type StallWatch } from '../control/stall-watch';
import { WorkflowStarter } from '../control/workflow-starter';
import { createGradingClient } from '../control/submission-workflows';
import { createOwnedStarts } from '../control/workflow-ownership';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  store: SubmissionStore;
  client: Client;
  /** Also runs on its own timer (`stallWatch.intervalSeconds`). */
  stallWatch: StallWatch;
  stop(): Promise<void>;
}

export interface ServerOptions {
  logger: Logger;
  /** Docker of this machine, when it has one (dev): checked by /healthz. */
  docker?: Dockerode;
  workflowBundle?: WorkflowBundleOption;
  /** How often stored-but-unstarted submissions are started again (ms). */
  reconcileEveryMs?: number;
}

/**
 * The server process: database (migrated), Temporal client, the control and delivery workers, and the HTTP API.
 * Submissions whose workflow start was never confirmed are started again, at once and then periodically.
 */
export async function startServer(config: GradeflowConfig, opts: ServerOptions): Promise<RunningServer> {
  const log = opts.logger;
  installRuntime(log);
  const db = await openDb({ dataDir: config.dataDir, ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}) });
  const applied = await migrate(db);
  if (applied.length) log.info({ applied }, 'database migrated');
  const store = createSubmissionStore(db);

  const connection = await Connection.connect({ address: temporalAddress(config) });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  if (config.temporal.address) await ensureSearchAttributes(connection, config.temporal.namespace);

  // The grading client shares the control worker's connection: a workflow it starts can be handed to
  // that worker in the start's own response (eager start), saving a round trip per submission.
  const workerConnection = await NativeConnection.connect({ address: temporalAddress(config) });
  const grading = createGradingClient(new Client({ connection: workerConnection, namespace: config.temporal.namespace }), config);
  const worker = await createControlWorker({
    connection: workerConnection,
    config,
    store,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : {}),
  });
  const workerDone = worker.run();
  const deliveryWorker = await createDeliveryWorker({ connection: workerConnection, config, store });
  const deliveryWorkerDone = deliveryWorker.run();

  // Starts make sure the workflow is the submission's own (rows of the old id scheme may share one).
  const owned = createOwnedStarts({ grading, store, log });
  const starter = new WorkflowStarter(owned, store, log);
  const app = await buildApp({
    config,
    store,
    assignments: createAssignmentStore(db),
    grading,
    owned,
    starter,
    logger: log,
    health: {
      database: () => store.ping(),
      temporal: () => grading.ping(),
      ...(opts.docker ? { docker: async () => void (await opts.docker!.ping()) } : {}),
    },
  });
  const address = await app.listen({ host: config.api.host, port: config.api.port });

  // Rows accepted but never started (a start failed, or the server stopped first) are enqueued again.
  const reconcile = async (): Promise<void> => {
    for (const sub of await store.listReceived(5000)) {
      if (starter.has(sub.id)) continue;
      log.warn({ submission: sub.id }, 'starting a stored submission whose workflow start was not confirmed');
      starter.enqueue(sub);
    }
  };
  const timer = setInterval(() => reconcile().catch((err) => log.error({ err }, 'reconcile failed')), opts.reconcileEveryMs ?? 30_000);
  timer.unref();
  await reconcile().catch((err) => log.error({ err }, 'reconcile failed'));

  const stallWatch = createStallWatch({ client, store, owned, config, log });
  let sweeping = false;
  const stallTimer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    stallWatch
      .sweep()
      .catch((err: unknown) => log.error({ err }, 'stall watch failed'))
      .finally(() => (sweeping = false));
  }, config.stallWatch.intervalSeconds * 1000);
  stallTimer.unref();

  return {
    url: address.replace('[::1]', '127.0.0.1'),
    app,
    store,
    client,
    stallWatch,
    async stop() {
      clearInterval(timer);
      clearInterval(stallTimer);
      await app.close();
      await starter.close();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      if (deliveryWorker.getState() === 'RUNNING') deliveryWorker.shutdown();
      await Promise.all([workerDone, deliveryWorkerDone]);
      await workerConnection.close();
      await connection.close();
      await db.close();
    },
  };
}
