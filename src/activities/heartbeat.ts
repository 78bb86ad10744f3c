import type { Context } from '@temporalio/activity';

/**
 * Heartbeat every `ms` until the returned function is called; cancellation arrives through heartbeats.
 * The first beat is after `ms`, not at once: a grading shorter than that costs Temporal no heartbeat
 * write at all (the heartbeat timeout is many times `ms`).
 */
export function keepHeartbeating(ctx: Context, ms: number, details?: () => unknown): () => void {
  const timer = setInterval(() => ctx.heartbeat(details?.()), ms);
  return () => clearInterval(timer);
}
