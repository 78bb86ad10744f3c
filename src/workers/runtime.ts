import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import { freePort } from '../setup/free-port';
import { setTemporalExporter } from '../metrics/temporal-exporter';

let installing: Promise<void> | undefined;

/** Free ports tried for Core's exporter (0): another process may take a port between the probe and the bind. */
const PORT_TRIES = 5;

function install(logger: Logger, bindAddress: string): void {
  Runtime.install({
    // gradeflow's processes handle SIGINT/SIGTERM themselves, stopping hosts before the server.
    shutdownSignals: [],
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
      const fn = level === 'ERROR' ? logger.error.bind(logger) : logger.warn.bind(logger);
      fn({ temporal: meta }, message);
    }),
    telemetryOptions: {
      metrics: {
        prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
      },
    },
  });
}

/**
 * Install the SDK runtime once per process, before any connection or worker: its logs (warnings and up)
 * go to ours, and its metrics to Core's Prometheus exporter on 127.0.0.1:`temporalMetricsPort` (0: a
 * free port), which this process's `/metrics` reads and appends (src/metrics/temporal-exporter.ts).
 */
export function installRuntime(logger: Logger, temporalMetricsPort = 0): Promise<void> {
  installing ??= (async () => {
    for (let tries = 1; ; tries++) {
      const bindAddress = `127.0.0.1:${temporalMetricsPort || (await freePort())}`;
      try {
        install(logger, bindAddress);
        setTemporalExporter(`http://${bindAddress}/metrics`);
        return;
      } catch (err) {
        // Runtime.install throws before installing anything when the exporter cannot bind.
        if (temporalMetricsPort || tries >= PORT_TRIES) {
          throw new Error(`the Temporal SDK's metrics exporter cannot listen on ${bindAddress} (metrics.temporalPort): ${(err as Error).message}`);
        }
      }
    }
  })();
  return installing;
}
