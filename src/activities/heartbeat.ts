import type { Context } from '@temporalio/activity';

/**
 * What a grading needs of its surroundings: a way to report liveness and to learn that it should stop.
 * An activity's Context is one; `gradeflow try` makes its own (no Temporal there).
 */
export type GradingScope = Pick<Context, 'heartbeat' | 'cancellationSignal' | 'cancelled'>;

/**
 * Heartbeat every `ms` until the returned function is called; cancellation arrives through heartbeats.
 * The first beat is after `ms`, not at once: a grading shorter than that costs Temporal no heartbeat
 * write at all (the heartbeat timeout is many times `ms`).
 */
export function keepHeartbeating(ctx: Pick<Context, 'heartbeat'>, ms: number, details?: () => unknown): () => void {
  const timer = setInterval(() => ctx.heartbeat(details?.()), ms);
  return () => clearInterval(timer);
}
