import { DefaultLogger, NativeConnection, Runtime} from '@temporalio/worker';
import type { Logger } from 'pino';
import type { GradeflowConfig } from '../config/schema';

let installed = false;

/** Install the SDK runtime once per process, forwarding its logs (warnings and up) to ours. */
export function installRuntime(logger: Logger): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    // gradeflow's processes handle SIGINT/SIGTERM themselves, stopping hosts before the server.
    shutdownSignals: [],
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
      const fn = level === 'ERROR' ? logger.error.bind(logger) : logger.warn.bind(logger);
      fn({ temporal: meta }, message);
    }),
  });
}

export function temporalAddress(config: GradeflowConfig): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.port}`;
}

export async function connectWorker(config: GradeflowConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: temporalAddress(config) });
}

