import pino, { type Logger } from 'pino';

/** The root logger: JSON lines on stderr; quiet in tests unless GRADEFLOW_LOG_LEVEL says otherwise. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'gradeflow' } }, pino.destination(2));
}
