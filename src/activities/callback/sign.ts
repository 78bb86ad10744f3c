import { Webhook } from 'standardwebhooks';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** One webhook id per (submission, attempt): the same across every retry of that delivery. */
export function webhookId(submissionId: string, attempt: number): string {
  return `msg_${submissionId}_${attempt}`;
}

/** The webhook id of the n-th redelivery of an attempt's result: a new message, so a new id. */
export function redeliveryWebhookId(submissionId: string, attempt: number, n: number): string {
  return `${webhookId(submissionId, attempt)}_r${n}`;
}

/**
 * Standard Webhooks headers: one `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per secret, keyed by the
 * base64 part of each `whsec_` secret, space-separated (the spec's form for several active secrets: a
 * receiver holding any one of them verifies). The `standardwebhooks` reference library does the signing.
 */
export function signWebhook(secrets: string | readonly string[], id: string, body: string, at: Date = new Date()): SignedHeaders {
  const all = typeof secrets === 'string' ? [secrets] : secrets;
  if (all.length === 0) throw new Error('no secret to sign the callback with');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': all.map((secret) => new Webhook(secret).sign(id, at, body)).join(' '),
  };
}

/** A platform's active secrets: `callbackSecret` (if set) and every one of `callbackSecrets`, each once, in that order. */
export function platformSecrets(platform: { callbackSecret?: string | undefined; callbackSecrets?: readonly string[] | undefined }): string[] {
  return [...new Set([...(platform.callbackSecret !== undefined ? [platform.callbackSecret] : []), ...(platform.callbackSecrets ?? [])])];
}
