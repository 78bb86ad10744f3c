import type { Logger } from 'pino';

/**
 * The logger of the server process's outcome lines (one per finished grading, one per delivery given up),
 * set once at start (src/main/server.ts); activities have no logger of their own at info level (the SDK's
 * passes warnings only). Until set, the lines are not written.
 */
let logger: Logger | undefined;

export function useEventLogger(log: Logger): void {
  logger = log.child({ component: 'outcomes' });
}

export function eventLogger(): Logger | undefined {
  return logger;
}
