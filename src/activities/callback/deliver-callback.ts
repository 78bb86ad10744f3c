import http from 'node:http';
import https from 'node:https';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PlatformConfig } from '../../config/schema';
import { checkCallbackUrl, guardedLookup } from '../../security/callback-url';
import { ErrorTypes } from '../../shared/error-types';
import type { DeliveryRequest } from '../../shared/activity-contracts';
import { statusOnDelivered } from '../../shared/status';
import type { SubmissionStore } from '../../store/submissions';
import { redeliveryWebhookId, signWebhook, webhookId } from './sign';
import { countDeliveryTries } from '../../metrics/delivery-tries';

export interface DeliverDeps {
  platforms: ReadonlyMap<string, PlatformConfig>;
  store: SubmissionStore;
  /** Hard deadline of one try of the retrying activity, ms (`callbacks.timeoutMs`). */
  timeoutMs: number;
  /** Hard deadline of the first try, made in the local activity that records the result, ms (at most timeoutMs). */
  firstTryTimeoutMs: number;
  /** First tries in flight at once in this process; beyond it the first try is skipped (`callbacks.firstTryConcurrency`). */
  firstTryConcurrency: number;
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
): Promise<number> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  const send = url.startsWith('https:') ? https.request : http.request;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    let req: http.ClientRequest | undefined;
    const end = (outcome: { status: number } | { error: Error }): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      // Closes the socket whether or not a response came: nothing of a try outlives it.
      req?.destroy();
      if ('status' in outcome) resolve(outcome.status);
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
          end({ status: res.statusCode ?? 0 });
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
 * One try: check the URL (DNS can change), sign, POST, record the try. `deadlineMs` is a hard deadline
 * from the start of the try to the status line (check, connect, request, headers). A non-2xx answer, a
 * connection error or the deadline fails the try (retryable); a cancelled try closes its socket, is not
 * recorded, and rethrows the cancellation.
 */
export function createDeliveryTry(deps: Pick<DeliverDeps, 'platforms' | 'store'>) {
  return countDeliveryTries(async function deliveryTry(req: DeliveryRequest, deadlineMs: number, cancel?: AbortSignal): Promise<{ status: number }> {
    const platform = deps.platforms.get(req.platformId);
    if (!platform) {
      throw ApplicationFailure.nonRetryable(`platform "${req.platformId}" is no longer configured`, ErrorTypes.CallbackForbidden);
    }
    const id = req.redelivery === undefined ? webhookId(req.submissionId, req.attempt) : redeliveryWebhookId(req.submissionId, req.attempt, req.redelivery);
    // A redelivery's tries are its own record; the attempt's delivery and the submission's status stay as they are.
    const record: typeof deps.store.recordDeliveryTry = (submissionId, attempt, webhook, outcome, status) =>
      req.redelivery === undefined
        ? deps.store.recordDeliveryTry(submissionId, attempt, webhook, outcome, status)
        : deps.store.recordRedeliveryTry(submissionId, req.redelivery, outcome);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TryAborted(`no answer within ${deadlineMs} ms`)), deadlineMs);
    const onCancel = (): void => controller.abort(cancel?.reason ?? new TryAborted('the try was cancelled'));
    if (cancel?.aborted) onCancel();
    else cancel?.addEventListener('abort', onCancel, { once: true });
    try {
      let status: number;
      try {
        const problem = await abortable(checkCallbackUrl(req.url, platform.allowLoopbackCallbacks), controller.signal);
        if (problem) {
          await record(req.submissionId, req.attempt, id, { delivered: false, error: `callback URL ${problem}` });
          throw ApplicationFailure.nonRetryable(`callback URL ${problem}`, ErrorTypes.CallbackForbidden);
        }
        const body = JSON.stringify(req.body);
        const headers = signWebhook(platform.callbackSecret, id, body);
        status = await post(req.url, body, { ...headers }, platform.allowLoopbackCallbacks, controller.signal);
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        // Cancelled (superseded, the run cancelled, the worker stopping): not a try of the receiver's.
        if (cancel?.aborted) throw cancel.reason ?? err;
        const error = `POST ${req.url} failed: ${(err as Error).message}`;
        await record(req.submissionId, req.attempt, id, { delivered: false, error });
        throw ApplicationFailure.retryable(error, ErrorTypes.CallbackUnreachable);
      }
      const delivered = status >= 200 && status < 300;
      await record(
        req.submissionId,
        req.attempt,
        id,
        { delivered, status, ...(delivered ? {} : { error: `receiver answered ${status}` }) },
        // Runs started before the workflow computed it: the same rule, from the result's reason in the body.
        req.statusWhenDelivered ?? statusOnDelivered(req.body.reason),
      );
      // 410 Gone is how a Standard Webhooks receiver unsubscribes: this delivery stops here.
      if (status === 410) throw ApplicationFailure.nonRetryable(`POST ${req.url} answered 410 Gone: the receiver asked for no more deliveries`, ErrorTypes.CallbackGone);
      if (!delivered) throw ApplicationFailure.retryable(`POST ${req.url} answered ${status}`, ErrorTypes.CallbackNotAccepted);
      return { status };
    } finally {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
    }
  });
}

/**
 * Activity (delivery queue; older runs: control queue): sign and POST one result to the platform, the
 * retries after the first try. Each try has a hard deadline of `callbacks.timeoutMs` and is tied to the
 * activity's cancellation. A failed try throws; Temporal retries it with backoff, under the same webhook
 * id. Each try is recorded.
 */
export function createDeliverCallback(deps: Pick<DeliverDeps, 'platforms' | 'store' | 'timeoutMs'>) {
  const deliveryTry = createDeliveryTry(deps);
  return async function deliverCallback(req: DeliveryRequest): Promise<{ status: number }> {
    const ctx = currentContext();
    const beat = ctx ? setInterval(() => ctx.heartbeat(), DELIVERY_HEARTBEAT_MS) : undefined;
    try {
      return await deliveryTry(req, deps.timeoutMs, ctx?.cancellationSignal);
    } finally {
      clearInterval(beat);
    }
  };
}
