import Dockerode from 'dockerode';
import { startServer } from '../main/server';
import { ConfigError, loadConfig } from '../config/load';
import type { GradeflowConfig } from '../config/schema';
import { createLogger } from '../logging';
import { startGradingHost } from '../main/grading-host';

/** Stop everything on SIGINT/SIGTERM, once; a second signal exits at once. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string): void => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`gradeflow: ${signal} received, shutting down gracefully (again to force)…\n`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`gradeflow: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Say so when no Temporal address is configured: the default dev server's is used. */
function warnWithoutTemporalAddress(config: GradeflowConfig): void {
  if (!config.temporal.address) {
    process.stderr.write(`gradeflow: TEMPORAL_ADDRESS not set; using 127.0.0.1:${config.temporal.port}\n`);
  }
}

/** The server and its grading hosts (separate processes) must share one; `gradeflow dev` makes its own. */
function requireWorkerToken(config: GradeflowConfig, command: string): void {
  if (!config.workerToken) {
    throw new ConfigError(`config field "workerToken" (or GRADEFLOW_WORKER_TOKEN) is required for \`gradeflow ${command}\`: the server and its grading hosts share it`);
  }
}

/** `gradeflow server`: API + control worker. */
export async function runServer(): Promise<void> {
  const config = loadConfig();
  requireWorkerToken(config, 'server');
  warnWithoutTemporalAddress(config);
  const logger = createLogger(config.logLevel);
  if (!config.platforms.length) logger.warn('no platforms configured: every API call will answer 401');
  const server = await startServer(config, { logger });
  logger.info({ url: server.url }, 'gradeflow server listening');
  onShutdown(() => server.stop());
}

/** `gradeflow worker`: a grading host on this machine's Docker engine. */
export async function runWorker(): Promise<void> {
  const config = loadConfig();
  requireWorkerToken(config, 'worker');
  warnWithoutTemporalAddress(config);
  const logger = createLogger(config.logLevel);
  const docker = new Dockerode();
  await docker.ping().catch((err: Error) => {
    throw new Error(`no Docker engine answers (${err.message}); set DOCKER_HOST or start dockerd`);
  });
  const host = await startGradingHost(config, { logger, docker });
  onShutdown(() => host.stop());
  await host.done;
}
