/** True when a dockerode error carries this HTTP status (404 no such container/image, 409 conflict…). */
export function isDockerStatus(err: unknown, status: number): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: number }).statusCode === status;
}

/** Docker's own words for a failed call ("no command specified"), else the error's message. */
export function dockerMessage(err: unknown): string {
  const json = typeof err === 'object' && err !== null ? (err as { json?: unknown }).json : undefined;
  const message = typeof json === 'object' && json !== null ? (json as { message?: unknown }).message : undefined;
  if (typeof message === 'string' && message.trim() !== '') return message.trim();
  return err instanceof Error ? err.message : String(err);
}

/** How Docker reports a time that never happened, e.g. the start of a container that never ran: "0001-01-01T00:00:00Z". */
const ZERO_TIME_PREFIX = '0001-';

/** When the container started; undefined when it never did. */
export function dockerStartedAt(state: { StartedAt?: string }): Date | undefined {
  const t = state.StartedAt;
  return t && !t.startsWith(ZERO_TIME_PREFIX) ? new Date(t) : undefined;
}

/** A container that was created and never ran (not one that ran and exited). */
export function neverStarted(state: { Running: boolean; StartedAt: string }): boolean {
  return !state.Running && state.StartedAt.startsWith(ZERO_TIME_PREFIX);
}
