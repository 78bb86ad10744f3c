import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';

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

