import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Equal strings, compared in constant time (both are hashed first, so their lengths leak nothing either). */
function sameSecret(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** GitLab sends the hook's secret token as it is, in `X-Gitlab-Token`. */
export function gitlabTokenValid(header: string | undefined, secret: string): boolean {
  return header !== undefined && sameSecret(header, secret);
}

/**
 * GitHub signs the raw body: `X-Hub-Signature-256: sha256=<hex of HMAC-SHA256(secret, body)>`. The body
 * must be the bytes as received: a re-serialized JSON body would not verify.
 */
export function githubSignatureValid(header: string | undefined, rawBody: Buffer, secret: string): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(Buffer.from(m[1]!.toLowerCase(), 'hex'), expected);
}
