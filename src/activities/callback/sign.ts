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
 * Standard Webhooks headers: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the base64 part
 * of the platform's `whsec_` secret (the `standardwebhooks` reference library does the signing).
 */
export function signWebhook(secret: string, id: string, body: string, at: Date = new Date()): SignedHeaders {
  const signature = new Webhook(secret).sign(id, at, body);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}
