import http from 'node:http';
import https from 'node:https';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PlatformConfig } from '../../config/schema';
import { callbackSchemeProblem, checkCallbackUrl, guardedLookup } from '../../security/callback-url';
import { ErrorTypes } from '../../shared/error-types';
import type { DeliveryRequest } from '../../shared/activity-contracts';
import { statusOnDelivered } from '../../shared/status';
import type { SubmissionStore } from '../../store/submissions';
import { countDeliveryTries } from '../../metrics/delivery-tries';
import { nextStep, type WebhookRules } from './retry-rules';
import { platformSecrets, redeliveryWebhookId, signWebhook, webhookId } from './sign';

export interface DeliverDeps {
  platforms: ReadonlyMap<string, PlatformConfig>;
  store: SubmissionStore;
  /** Hard deadline of one try of the retrying activity, ms (`callbacks.timeoutMs`). */
  timeoutMs: number;
  /** Hard deadline of the first try, made in the local activity that records the result, ms (at most timeoutMs). */
  firstTryTimeoutMs: number;
  /** First tries in flight at once in this process; beyond it the first try is skipped (`callbacks.firstTryConcurrency`). */
  firstTryConcurrency: number;
  /** The retry schedule, Retry-After and 4xx rules (`callbacks.*`); absent: every failure retryable, Temporal's backoff alone. */
  rules?: WebhookRules;
}

/** What came back: the status line, and a Retry-After header if there was one. */
interface Answer {
  status: number;
  retryAfter?: string;
}

/** A try ended by its deadline or by the activity's cancellation. */
class TryAborted extends Error {}

/**
 * How often a regular delivery activity heartbeats while its try lasts: a cancellation (a newer attempt
 * superseded this delivery, an operator cancelled the run) reaches a regular activity only in a
 * heartbeat's answer. A try answered within this time sends none.
 */
export const DELIVERY_HEARTBEAT_MS = 1000;

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** The running activity's cancellation signal (regular or local activity); none outside an activity (tests). */
export function activityCancellation(): AbortSignal | undefined {
  return currentContext()?.cancellationSignal;
}

/** `work`, or a rejection as soon as `signal` aborts (what `work` holds is not sockets: a DNS lookup at most). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}

/**
 * POST once; resolve with the status code as soon as the status line and headers arrive. The response
 * body is never read: the response and its socket are destroyed at once, so a receiver that answers
 * 200 and trickles its body costs one status line. `signal` (the try's deadline and the activity's
 * cancellation) covers connect, request and headers; whatever ends the try, the socket is closed.
 */
function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  allowLoopback: boolean,
  signal: AbortSignal,
): Promise<Answer> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  const send = url.startsWith('https:') ? https.request : http.request;
  return new Promise<Answer>((resolve, reject) => {
    let settled = false;
    let req: http.ClientRequest | undefined;
    const end = (outcome: Answer | { error: Error }): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      // Closes the socket whether or not a response came: nothing of a try outlives it.
      req?.destroy();
      if ('status' in outcome) resolve(outcome);
      else reject(outcome.error);
    };
    const onAbort = (): void => end({ error: signal.reason as Error });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      req = send(
        url,
        {
          method: 'POST',
          agent: false,
          lookup: guardedLookup(allowLoopback),
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'gradeflow', ...headers },
        },
        (res) => {
          // The status line is the answer; the body (if any) is discarded unread.
          res.on('error', () => undefined);
          res.destroy();
          const retryAfter = res.headers['retry-after'];
          end({ status: res.statusCode ?? 0, ...(retryAfter !== undefined ? { retryAfter } : {}) });
        },
      );
    } catch (err) {
      end({ error: err as Error });
      return;
    }
    // Errors after the end (the destroy itself) are expected and ignored.
    req.on('error', (err) => end({ error: err }));
    req.end(body);
  });
}

/**
 * One try: check the URL (DNS can change; gone; https-only), sign with each active secret, POST (redirects
 * are never followed: a 3xx is an answer like any other), record the try. `deadlineMs` is a hard deadline
 * from the start of the try to the status line (check, connect, request, headers). A cancelled try closes
 * its socket, is not recorded, and rethrows the cancellation.
 *
 * What a failure throws (src/activities/callback/retry-rules.ts, with `rules`): 410 Gone marks the URL gone
 * for the platform and ends the delivery; a URL already gone is not attempted (recorded `gone`); a 3xx or
 * other 4xx on try `clientErrorTries` or later, or a try past the schedule's end, gives up (non-retryable);
 * otherwise a retryable failure whose `nextRetryDelay` is the schedule's jittered wait (at least the
 * receiver's Retry-After on 429/502/503/504), also stored as the delivery's `next_try_at`.
 */
export function createDeliveryTry(
  deps: Pick<DeliverDeps, 'platforms' | 'store' | 'rules'>,
  /** Store each failed try's wait as `next_try_at` (the first try: the retries read it); the retrying activity stores it only when it hands the wait to Temporal. */
  options: { storeWait: boolean } = { storeWait: true },
) {
  /** After a failed try: its next step as the failure Temporal retries on (or not). */
  const failed = async (req: DeliveryRequest, tryNumber: number, message: string, type: string, answer?: Answer): Promise<never> => {
    if (!deps.rules) throw ApplicationFailure.retryable(message, type);
    const step = nextStep(deps.rules, tryNumber, answer?.status, answer?.retryAfter);
    if ('giveUp' in step) throw ApplicationFailure.nonRetryable(`${message}; ${step.giveUp}`, type);
    // A redelivery keeps no schedule in the attempt's delivery row (that is the attempt's own callback).
    if (options.storeWait && req.redelivery === undefined) await deps.store.setNextTryAt(req.submissionId, req.attempt, new Date(Date.now() + step.waitMs));
    throw ApplicationFailure.create({ message: `${message}; next try in ${step.waitMs} ms`, type, nextRetryDelay: step.waitMs });
  };

  return countDeliveryTries(async function deliveryTry(req: DeliveryRequest, deadlineMs: number, cancel?: AbortSignal): Promise<{ status: number }> {
    const platform = deps.platforms.get(req.platformId);
    if (!platform) {
      throw ApplicationFailure.nonRetryable(`platform "${req.platformId}" is no longer configured`, ErrorTypes.CallbackForbidden);
    }
    const id = req.redelivery === undefined ? webhookId(req.submissionId, req.attempt) : redeliveryWebhookId(req.submissionId, req.attempt, req.redelivery);
    // A redelivery's tries are its own record; the attempt's delivery and the submission's status stay as they are.
    type Outcome = Parameters<typeof deps.store.recordDeliveryTry>[3];
    const record = (outcome: Outcome, status?: Parameters<typeof deps.store.recordDeliveryTry>[4]): Promise<number> =>
      req.redelivery === undefined
        ? deps.store.recordDeliveryTry(req.submissionId, req.attempt, id, outcome, status)
        : deps.store.recordRedeliveryTry(req.submissionId, req.redelivery, outcome);
    // The receiver unsubscribed this URL with 410 Gone earlier: not attempted, recorded as such.
    const goneAt = await deps.store.callbackGoneAt(req.platformId, req.url);
    if (goneAt) {
      const error = `not attempted: the receiver answered 410 Gone at ${goneAt.toISOString()}; callbacks to this URL have stopped`;
      if (req.redelivery === undefined) await deps.store.recordDeliveryNotAttempted(req.submissionId, req.attempt, id, error);
      else await deps.store.recordRedeliveryTry(req.submissionId, req.redelivery, { delivered: false, error });
      throw ApplicationFailure.nonRetryable(error, ErrorTypes.CallbackGone);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TryAborted(`no answer within ${deadlineMs} ms`)), deadlineMs);
    const onCancel = (): void => controller.abort(cancel?.reason ?? new TryAborted('the try was cancelled'));
    if (cancel?.aborted) onCancel();
    else cancel?.addEventListener('abort', onCancel, { once: true });
    try {
      let answer: Answer;
      try {
        const problem = callbackSchemeProblem(req.url, platform) ?? (await abortable(checkCallbackUrl(req.url, platform.allowLoopbackCallbacks), controller.signal));
        if (problem) {
          await record({ delivered: false, error: `callback URL ${problem}` });
          throw ApplicationFailure.nonRetryable(`callback URL ${problem}`, ErrorTypes.CallbackForbidden);
        }
        const body = JSON.stringify(req.body);
        const headers = signWebhook(platformSecrets(platform), id, body);
        answer = await post(req.url, body, { ...headers }, platform.allowLoopbackCallbacks, controller.signal);
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        // Cancelled (superseded, the run cancelled, the worker stopping): not a try of the receiver's.
        if (cancel?.aborted) throw cancel.reason ?? err;
        const error = `POST ${req.url} failed: ${(err as Error).message}`;
        const tryNumber = await record({ delivered: false, error });
        return await failed(req, tryNumber, error, ErrorTypes.CallbackUnreachable);
      }
      const { status } = answer;
      const delivered = status >= 200 && status < 300;
      const gone = status === 410;
      const tryNumber = await record(
        {
          delivered,
          status,
          ...(gone ? { gone: true, error: 'receiver answered 410 Gone: callbacks to this URL have stopped' } : {}),
          ...(delivered || gone ? {} : { error: `receiver answered ${status}` }),
        },
        // Runs started before the workflow computed it: the same rule, from the result's reason in the body.
        req.statusWhenDelivered ?? statusOnDelivered(req.body.reason),
      );
      // 410 Gone is how a Standard Webhooks receiver unsubscribes: this delivery stops here, and so do later ones to this URL.
      if (gone) {
        await deps.store.markCallbackGone(req.platformId, req.url, req.submissionId);
        throw ApplicationFailure.nonRetryable(`POST ${req.url} answered 410 Gone: the receiver asked for no more deliveries`, ErrorTypes.CallbackGone);
      }
      if (!delivered) return await failed(req, tryNumber, `POST ${req.url} answered ${status}`, ErrorTypes.CallbackNotAccepted, answer);
      return { status };
    } finally {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
    }
  });
}

/**
 * How long one execution of the retrying activity may go on (its start-to-close timeout is a minute,
 * src/workflows/activity-options.ts): a wait and the try after it are made inside it only if both fit.
 */
const ACTIVITY_BUDGET_MS = 55_000;

/** Resolves after `ms`, or rejects when `signal` aborts (the activity cancelled). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Activity (delivery queue; older runs: control queue): sign and POST one result to the platform, the
 * retries after the first try. Each try has a hard deadline of `callbacks.timeoutMs` and is tied to the
 * activity's cancellation, and is recorded, under the same webhook id.
 *
 * With `rules`, each try waits for the delivery's `next_try_at` (set by the try before: the schedule's
 * jittered step, or a Retry-After). A wait that fits in this execution with its try is waited here
 * (heartbeating, cancellable): Temporal's retry timer is not precise below a second or so. A longer one
 * ends the execution with a retryable failure whose `nextRetryDelay` is the wait, and Temporal starts the
 * next execution then. Without `rules`: one try, Temporal's backoff between.
 */
export function createDeliverCallback(deps: Pick<DeliverDeps, 'platforms' | 'store' | 'timeoutMs' | 'rules'>) {
  const deliveryTry = createDeliveryTry(deps, { storeWait: false });
  return async function deliverCallback(req: DeliveryRequest): Promise<{ status: number }> {
    const ctx = currentContext();
    const cancel = ctx?.cancellationSignal;
    const budgetEnd = Date.now() + ACTIVITY_BUDGET_MS;
    const beat = ctx ? setInterval(() => ctx.heartbeat(), DELIVERY_HEARTBEAT_MS) : undefined;
    try {
      let lastError = '';
      // The wait the try before set: read once; within this execution each failed try says its own.
      // (A redelivery's first try is made at once: its wait is in no row.)
      let waitMs =
        deps.rules && req.redelivery === undefined ? ((await deps.store.deliveryState(req.submissionId, req.attempt))?.nextTryAt?.getTime() ?? 0) - Date.now() : 0;
      for (;;) {
        if (deps.rules) {
          if (waitMs > 0) {
            if (Date.now() + waitMs + deps.timeoutMs > budgetEnd) {
              // The next execution (after Temporal's timer) reads it: a worker that restarts keeps the schedule.
              if (req.redelivery === undefined) await deps.store.setNextTryAt(req.submissionId, req.attempt, new Date(Date.now() + waitMs));
              throw ApplicationFailure.create({
                message: `${lastError || 'the previous try failed'}; next try due in ${waitMs} ms`,
                type: ErrorTypes.CallbackDeferred,
                nextRetryDelay: waitMs,
              });
            }
            await pause(waitMs, cancel);
          }
        }
        try {
          return await deliveryTry(req, deps.timeoutMs, cancel);
        } catch (err) {
          // Given up, refused, cancelled, or no rules to wait by: Temporal takes it from here.
          if (!deps.rules || !(err instanceof ApplicationFailure) || err.nonRetryable) throw err;
          lastError = err.message;
          waitMs = typeof err.nextRetryDelay === 'number' ? err.nextRetryDelay : 0;
        }
      }
    } finally {
      clearInterval(beat);
    }
  };
}
