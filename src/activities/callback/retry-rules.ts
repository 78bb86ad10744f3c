/**
 * The Standard Webhooks rules for what follows a failed try, as pure functions: the retry schedule with
 * jitter, a receiver's Retry-After, and which answers are worth only a few tries.
 */

/** The `callbacks` settings these rules read (src/config/schema.ts). */
export interface WebhookRules {
  /** Seconds to wait after try 1, 2, … before the next; past its end the delivery is given up. */
  retrySchedule: readonly number[];
  /** Each wait is drawn within ± this fraction of the schedule's step. */
  retryJitter: number;
  /** The longest Retry-After honoured, ms. */
  maxRetryAfterMs: number;
  /** A 3xx or 4xx (other than 410, 429) on this try or later gives the delivery up. */
  clientErrorTries: number;
}

/** Statuses whose Retry-After is honoured: the receiver is overloaded or behind a proxy that is. */
const THROTTLED = new Set([429, 502, 503, 504]);

/**
 * How an answer (or no answer: `status` undefined) counts: `client` for redirects (never followed) and
 * 4xx other than 410 and 429, which a retry seldom mends; `retry` for everything else that is not a 2xx.
 */
export function failureKind(status: number | undefined): 'client' | 'retry' {
  if (status === undefined) return 'retry';
  return status >= 300 && status < 500 && status !== 429 && status !== 410 ? 'client' : 'retry';
}

/** A Retry-After value (delay in seconds, or an HTTP date), as ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP date names its weekday and month ("Wed, 21 Oct 2015 07:28:00 GMT"); a bare "-5" is no date.
  if (!/^[A-Za-z]{3}, /.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The wait after try `tryNumber` (1: the first), jittered; undefined when the schedule has run out. */
export function scheduledWaitMs(rules: Pick<WebhookRules, 'retrySchedule' | 'retryJitter'>, tryNumber: number, random: () => number = Math.random): number | undefined {
  const step = rules.retrySchedule[tryNumber - 1];
  if (step === undefined) return undefined;
  const factor = 1 + rules.retryJitter * (2 * random() - 1);
  return Math.max(0, Math.round(step * 1000 * factor));
}

/** What follows a failed try: a wait before the next, or giving up (with why). */
export type NextStep = { waitMs: number } | { giveUp: string };

/**
 * After failed try number `tryNumber` that was answered `status` (undefined: no answer) with `retryAfter`
 * (the header, if any): the next try's wait, or the reason to give up.
 */
export function nextStep(rules: WebhookRules, tryNumber: number, status: number | undefined, retryAfter: string | undefined, now: number = Date.now()): NextStep {
  if (failureKind(status) === 'client' && tryNumber >= rules.clientErrorTries) {
    return { giveUp: `given up: the receiver answered ${status} on try ${tryNumber} (redirects and 4xx are tried ${rules.clientErrorTries} times)` };
  }
  const scheduled = scheduledWaitMs(rules, tryNumber);
  if (scheduled === undefined) return { giveUp: `given up after ${tryNumber} tries: the retry schedule has run out` };
  const asked = status !== undefined && THROTTLED.has(status) ? parseRetryAfter(retryAfter, now) : undefined;
  return { waitMs: asked === undefined ? scheduled : Math.max(scheduled, Math.min(asked, rules.maxRetryAfterMs)) };
}
