/**
 * Whether an error from the database means it cannot answer right now (down, restarting, a connection lost
 * on the way), as opposed to a query it refused: the request may simply be sent again shortly.
 */

/** Socket errors of a connection that could not be made or broke. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * PostgreSQL's SQLSTATEs for the same: class 08 (connection exception), 57P01–57P03 (shut down by the
 * administrator, crashed, starting up or shutting down: "cannot connect now"), 53300 (too many connections).
 */
const SERVER_CODES = /^(08...|57P0[123]|53300)$/;

/** node-postgres's own messages for a connection that ended or never came (they carry no code). */
const CLIENT_MESSAGES = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed)/;

export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // Node's connect to several addresses (localhost: ::1 and 127.0.0.1) fails with all of them at once.
  if (err instanceof AggregateError && err.errors.some((e) => isDatabaseUnavailable(e))) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_CODES.test(code))) return true;
  return CLIENT_MESSAGES.test(err.message);
}
