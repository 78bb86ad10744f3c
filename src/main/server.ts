import { Client } from '@temporalio/client';
import type { WorkflowBundleOption } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type Dockerode from 'dockerode';
import { buildApp } from '../api/app';
import { createGraderFactsStore } from '../store/grader-facts';
import type { GradeflowConfig } from '../config/schema';
import { createReconcileLoop } from '../control/reconcile';
import { ensureSearchAttributes } from '../control/register-search-attributes';
import { createStallWatch, type StallWatch } from '../control/stall-watch';
import { createSubmissionActions } from '../control/submission-actions';
import { createSubmissionWorkflows } from '../control/submission-workflows';
import { createOwnedStarts } from '../control/workflow-ownership';
import { WorkflowStarter } from '../control/workflow-starter';
import { openDb } from '../store/db';
import { migrate } from '../store/migrations';
import { createAssignmentStore } from '../store/assignments';
import { createGitHookStore, type GitHookStore } from '../store/git-hooks';
import { createSubmissionStore, type SubmissionStore } from '../store/submissions';
import { createRegradeStore } from '../store/regrades';
import { createSubmissionSearch } from '../store/submission-search';
import { createResultFeed } from '../store/results-feed';
import { createAssignmentRegrades } from '../control/assignment-regrades';
import { createControlWorker, createDeliveryWorker } from '../workers/control';
import { connectClient, connectWorker } from '../shared/temporal-connection';
import { installRuntime } from '../workers/runtime';
import { useEventLogger } from '../metrics/event-log';
import { serverRegistry } from '../metrics/server-metrics';
import { startMetricsServer } from '../metrics/metrics-server';
import { dataConverterFromConfig } from '../security/payload-keys';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  store: SubmissionStore;
  client: Client;
  /** Also runs on its own timer (`stallWatch.intervalSeconds`). */
  stallWatch: StallWatch;
  /** The git hooks received (push-triggered grading). */
  gitHooks: GitHookStore;
  stop(): Promise<void>;
}

export interface ServerOptions {
  logger: Logger;
  /** Docker of this machine, when it has one (dev): checked by /healthz. */
  docker?: Dockerode;
  workflowBundle?: WorkflowBundleOption;
}

/**
 * The server process (`gradeflow server`): database (migrated), Temporal clients, the control and delivery
 * workers, the HTTP API, and two loops: the reconcile (submissions whose workflow start was never
 * confirmed are started again, at once and then periodically) and the stall watch.
 */
export async function startServer(config: GradeflowConfig, opts: ServerOptions): Promise<RunningServer> {
  const log = opts.logger;
  await installRuntime(log, config.metrics.temporalPort);
  useEventLogger(log);
  const db = await openDb({
    dataDir: config.dataDir,
    poolSize: config.server.databasePoolSize,
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
  });
  const applied = await migrate(db);
  if (applied.length) log.info({ applied }, 'database migrated');
  const store = createSubmissionStore(db);

  // Every client and worker encrypts payloads when keys are configured (temporal.payloadKeys).
  const dataConverter = dataConverterFromConfig(config);
  const connection = await connectClient(config);
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
  if (config.temporal.address) await ensureSearchAttributes(connection, config.temporal.namespace);

  // The workflows' client shares the control worker's connection: a workflow it starts can be handed to
  // that worker in the start's own response (eager start), saving a round trip per submission.
  const workerConnection = await connectWorker(config);
  const workflows = createSubmissionWorkflows(new Client({ connection: workerConnection, namespace: config.temporal.namespace, dataConverter }), config);
  // Starts make sure the workflow is the submission's own (rows of the old id scheme may share one).
  const owned = createOwnedStarts({ workflows, store, log });
  const regradeStore = createRegradeStore(db);
  const worker = await createControlWorker({
    connection: workerConnection,
    config,
    store,
    regrades: regradeStore,
    owned,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : {}),
  });
  const workerDone = worker.run();
  const deliveryWorker = await createDeliveryWorker({ connection: workerConnection, config, store });
  const deliveryWorkerDone = deliveryWorker.run();

  const starter = new WorkflowStarter(owned, store, log, config.server.starterConcurrency, {
    quietMs: config.server.starterQuietMs,
    maxDeferMs: config.server.starterMaxDeferMs,
  });
  const gitHooks = createGitHookStore(db);
  const app = await buildApp({
    config,
    store,
    assignments: createAssignmentStore(db),
    search: createSubmissionSearch(db),
    regrades: createAssignmentRegrades(new Client({ connection: workerConnection, namespace: config.temporal.namespace, dataConverter }), config, regradeStore),
    graderFacts: createGraderFactsStore(db),
    gitHooks,
    workflows,
    owned,
    starter,
    actions: createSubmissionActions({ client: new Client({ connection: workerConnection, namespace: config.temporal.namespace }), config, store, workflows }),
    results: createResultFeed(db),
    logger: log,
    health: {
      database: () => store.ping(),
      temporal: () => workflows.ping(),
      ...(opts.docker ? { docker: async () => void (await opts.docker!.ping()) } : {}),
    },
  });
  const address = await app.listen({ host: config.api.host, port: config.api.port });
  const metricsServer = config.metrics.port ? await startMetricsServer(serverRegistry, config.metrics.host, config.metrics.port) : undefined;

  const reconcile = createReconcileLoop({
    store,
    starter,
    log,
    intervalMs: config.server.reconcileIntervalMs,
    batch: config.server.reconcileBatch,
  });
  await reconcile.start();
  const stallWatch = createStallWatch({ client, store, owned, config, log });
  stallWatch.start(config.stallWatch.intervalSeconds);

  return {
    url: address.replace('[::1]', '127.0.0.1'),
    app,
    store,
    client,
    stallWatch,
    gitHooks,
    async stop() {
      await Promise.all([reconcile.stop(), stallWatch.stop()]);
      await app.close();
      await metricsServer?.close();
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
