import http from 'node:http';
import https from 'node:https';
import { ApplicationFailure } from '@temporalio/common';
import type { PlatformConfig } from '../../config/schema';
import { checkCallbackUrl, guardedLookup } from '../../security/callback-url';
import { ErrorTypes } from '../../shared/error-types';
import type { CallbackBody } from '../../shared/types';
import type { SubmissionStore } from '../../store/submissions';
import { signWebhook, webhookId } from './sign';

export interface DeliveryRequest {
  submissionId: string;
  platformId: string;
  attempt: number;
  url: string;
  body: CallbackBody;
}

export interface DeliverDeps {
  platforms: ReadonlyMap<string, PlatformConfig>;
  store: SubmissionStore;
  timeoutMs: number;
}

const MAX_RESPONSE_BYTES = 4096;

/** POST once; resolve with the status code (the response body is read, capped, and dropped). */
function post(url: string, body: string, headers: Record<string, string>, allowLoopback: boolean, timeoutMs: number): Promise<number> {
  const send = url.startsWith('https:') ? https.request : http.request;
  return new Promise<number>((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        agent: false,
        lookup: guardedLookup(allowLoopback),
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'gradeflow', ...headers },
      },
      (res) => {
        let seen = 0;
        res.on('data', (c: Buffer) => {
          seen += c.length;
          if (seen > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('close', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Activity (control queue): sign and POST one result to the platform. A non-2xx answer or a connection
 * error fails this try; Temporal retries it with backoff, under the same webhook id. Each try is recorded.
 */
export function createDeliverCallback(deps: DeliverDeps) {
  return async function deliverCallback(req: DeliveryRequest): Promise<{ status: number }> {
    const platform = deps.platforms.get(req.platformId);
    if (!platform) {
      throw ApplicationFailure.nonRetryable(`platform "${req.platformId}" is no longer configured`, ErrorTypes.CallbackForbidden);
    }
    const id = webhookId(req.submissionId, req.attempt);
    const problem = await checkCallbackUrl(req.url, platform.allowLoopbackCallbacks);
    if (problem) {
      await deps.store.recordDeliveryTry(req.submissionId, req.attempt, id, { delivered: false, error: `callback URL ${problem}` });
      throw ApplicationFailure.nonRetryable(`callback URL ${problem}`, ErrorTypes.CallbackForbidden);
    }
    const body = JSON.stringify(req.body);
    const headers = signWebhook(platform.callbackSecret, id, body);
    let status: number;
    try {
      status = await post(req.url, body, { ...headers }, platform.allowLoopbackCallbacks, deps.timeoutMs);
    } catch (err) {
      const error = `POST ${req.url} failed: ${(err as Error).message}`;
      await deps.store.recordDeliveryTry(req.submissionId, req.attempt, id, { delivered: false, error });
      throw ApplicationFailure.retryable(error, 'CallbackUnreachable');
    }
    const delivered = status >= 200 && status < 300;
    await deps.store.recordDeliveryTry(req.submissionId, req.attempt, id, {
      delivered,
      status,
      ...(delivered ? {} : { error: `receiver answered ${status}` }),
    });
    if (!delivered) throw ApplicationFailure.retryable(`POST ${req.url} answered ${status}`, 'CallbackNotAccepted');
    return { status };
  };
}
