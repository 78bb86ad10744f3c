/**
 * A `callbacks.retrySchedule` (seconds) that waits as Temporal's exponential backoff did before the
 * schedule existed: `initialMs`, doubling up to `maxMs`, for `totalMs` in all. Tests that expect a receiver
 * to be retried quickly (and for long) use it instead of the three-day default.
 */
export function backoffSchedule(initialMs: number, maxMs: number, totalMs: number): number[] {
  const out: number[] = [];
  let wait = initialMs;
  for (let sum = 0; sum < totalMs; sum += wait, wait = Math.min(maxMs, wait * 2)) out.push(wait / 1000);
  return out;
}
