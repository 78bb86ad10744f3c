import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import { freePort } from '../setup/free-port';
import { setTemporalExporter } from '../metrics/temporal-exporter';

let installing: Promise<void> | undefined;

/**
 * Install the SDK runtime once per process, before any connection or worker: its logs (warnings and up)
 * go to ours, and its metrics to Core's Prometheus exporter on 127.0.0.1:`temporalMetricsPort` (0: a
 * free port), which this process's `/metrics` reads and appends (src/metrics/temporal-exporter.ts).
 */
export function installRuntime(logger: Logger, temporalMetricsPort = 0): Promise<void> {
  installing ??= (async () => {
    const port = temporalMetricsPort || (await freePort());
    const bindAddress = `127.0.0.1:${port}`;
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
    setTemporalExporter(`http://${bindAddress}/metrics`);
  })();
  return installing;
}
