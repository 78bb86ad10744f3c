import type { Context } from '@temporalio/activity';

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

/**
 * Heartbeat every `ms` until the returned function is called; cancellation arrives through heartbeats.
 * The first beat is after `ms`, not at once: a grading shorter than that costs Temporal no heartbeat
 * write at all (the heartbeat timeout is many times `ms`).
 */
export function keepHeartbeating(ctx: Context, ms: number, details?: () => unknown): () => void {
  const timer = setInterval(() => ctx.heartbeat(details?.()), ms);
  return () => clearInterval(timer);
}
