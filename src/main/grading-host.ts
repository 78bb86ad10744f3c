import { Client } from '@temporalio/client';
import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { apiPublicUrl } from '../config/load';
import type { GradeflowConfig } from '../config/schema';
import { startHealthServer, type HealthServer } from '../workers/health-server';
import { createGradingHost } from '../workers/host-workers';
import { createReaper, type Reaper } from '../workers/reaper';
import { connectClient, connectWorker } from '../shared/temporal-connection';
import { installRuntime } from '../workers/runtime';
import { watchSlots } from '../metrics/host-metrics';
import { dataConverterFromConfig } from '../security/payload-keys';

export interface RunningGradingHost {
  hostId: string;
  /** `GET /healthz` of this host, when `worker.healthPort` is set. */
  healthUrl?: string;
  /** Removes leftover containers of this host; also runs on its own timer. */
  reaper: Reaper;
  /** Resolves when every worker of this host has stopped. */
  done: Promise<void>;
  /** Graceful: stop polling, let running gradings finish within the grace time, then hand the rest back. */
  stop(): Promise<void>;
}

/** A flavour whose OCI runtime the engine lacks would fail every grading: refuse to start instead. */
async function checkRuntimes(config: GradeflowConfig, docker: Dockerode): Promise<void> {
  const info = (await docker.info()) as { Runtimes?: Record<string, unknown> };
  const available = Object.keys(info.Runtimes ?? {});
  for (const name of config.worker.flavours ?? Object.keys(config.flavours)) {
    const runtime = config.flavours[name]?.runtime;
    if (runtime && !available.includes(runtime)) {
      throw new Error(
        `flavour "${name}" needs the Docker runtime "${runtime}", which this engine does not have (it has: ${available.join(', ')}); ` +
          'register it in the daemon\'s daemon.json (see docs/security.md), or leave this flavour out of worker.flavours',
      );
    }
  }
}

/**
 * A grading host process (`gradeflow worker`): checks the flavours' OCI runtimes, then runs one worker per
 * flavour it serves and one on its own queue (`workers/host-workers.ts`), and the reaper (at start and
 * every `worker.reapIntervalSeconds`).
 */
export async function startGradingHost(
  config: GradeflowConfig,
  opts: { logger: Logger; docker: Dockerode },
): Promise<RunningGradingHost> {
  await installRuntime(opts.logger, config.metrics.temporalPort);
  if (!config.workerToken) throw new Error('config field "workerToken" (GRADEFLOW_WORKER_TOKEN) is required on a grading host');
  await checkRuntimes(config, opts.docker);
  const connection = await connectWorker(config);
  const clientConnection = await connectClient(config);
  // The reaper asks about workflows with it; gradings signal their workflow with it (announce-start.ts).
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace, dataConverter: dataConverterFromConfig(config) });
  const host = await createGradingHost({
    connection,
    config,
    docker: opts.docker,
    submissions: { serverUrl: apiPublicUrl(config), workerToken: config.workerToken },
    client,
  });
  const unwatchSlots = watchSlots(host.hostId, host.slots);
  const reaper = createReaper({
    docker: opts.docker,
    client,
    hostId: host.hostId,
    slots: host.slots,
    collectors: host.collectors,
    logger: opts.logger,
    overdueSeconds: config.worker.reapOverdueSeconds,
  });
  await reaper.sweep();
  reaper.start(config.worker.reapIntervalSeconds);
  let health: HealthServer | undefined;
  const done = Promise.all(host.workers.map((w) => w.run())).then(async () => {
    await health?.close();
    unwatchSlots();
    await reaper.stop();
    await Promise.all([connection.close(), clientConnection.close()]);
  });
  if (config.worker.healthPort) {
    // createGradingHost's workers: one per flavour served, in that order, then the one on the host's queue.
    const flavours = config.worker.flavours ?? Object.keys(config.flavours);
    health = await startHealthServer(
      {
        hostId: host.hostId,
        docker: opts.docker,
        flavourWorkers: new Map(flavours.map((f, i) => [f, host.workers[i]!])),
        hostWorker: host.workers[host.workers.length - 1]!,
        slots: host.slots,
      },
      config.worker.healthHost,
      config.worker.healthPort,
    );
  }
  opts.logger.info({ hostId: host.hostId, slots: config.worker.slots, ...(health ? { health: health.url } : {}) }, 'grading host polling');
  return {
    hostId: host.hostId,
    ...(health ? { healthUrl: health.url } : {}),
    done,
    reaper,
    async stop() {
      for (const w of host.workers) {
        if (w.getState() === 'RUNNING') w.shutdown();
      }
      await done;
    },
  };
}
