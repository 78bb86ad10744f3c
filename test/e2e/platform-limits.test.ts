import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useStack } from '../helpers/hooks';
import { b64file } from '../helpers/stack';

/**
 * Limits per platform through the real API (real Temporal, real PGlite; no grading host, so what is
 * submitted stays unfinished): a request rate limit answered 429 with Retry-After in the API's error
 * shape, counted per platform; and a cap on unfinished submissions, 429 naming the cap, a repeat of a
 * stored work_id still answered 200.
 */

const RUN = randomBytes(3).toString('hex');
const LIMITED = `key-limited-${randomBytes(12).toString('hex')}`;
const CAPPED = `key-capped-${randomBytes(12).toString('hex')}`;
const RATE_MAX = 5;
const RATE_WINDOW_MS = 3000;
const CAP = 3;
const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;

const stack = useStack(
  'limits',
  {
    platforms: [
      {
        id: 'limited',
        apiKeys: [LIMITED],
        callbackSecret: whsec(),
        allowLoopbackCallbacks: true,
        images: ['gradeflow-test/*'],
        rateLimit: { max: RATE_MAX, windowMs: RATE_WINDOW_MS },
      },
      { id: 'capped', apiKeys: [CAPPED], callbackSecret: whsec(), allowLoopbackCallbacks: true, images: ['gradeflow-test/*'], maxUnfinished: CAP },
    ],
  },
  { host: false },
);

const quick = b64file('grade.sh', 'echo \'{"success": true, "grade": 1}\'');

async function list(key: string): Promise<{ status: number; headers: Headers; body: Record<string, any> }> {
  const res = await fetch(`${stack.server.url}/v1/submissions`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

describe('request rate limit per platform', () => {
  it(`answers the ${RATE_MAX + 1}th request in a window 429 with Retry-After, counting per platform, and lets it through after the window`, async () => {
    const t0 = Date.now();
    for (let i = 0; i < RATE_MAX; i++) expect((await list(LIMITED)).status).toBe(200);
    const over = await list(LIMITED);
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ error: { code: 'rate_limited' } });
    expect(over.body.error.message).toContain(`${RATE_MAX} requests per ${RATE_WINDOW_MS} ms`);
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(RATE_WINDOW_MS / 1000));
    // A submission is refused the same way, before its body is read.
    expect((await stack.post({ image: SCRIPT_RUNNER, file: quick }, LIMITED)).status).toBe(429);
    // Another platform has its own count.
    expect((await list(CAPPED)).status).toBe(200);
    // Once the window has passed (Retry-After told when), the platform is served again.
    await new Promise((r) => setTimeout(r, Math.max(retryAfter * 1000, RATE_WINDOW_MS - (Date.now() - t0)) + 100));
    expect((await list(LIMITED)).status).toBe(200);
  });
});

describe('cap on unfinished submissions per platform', () => {
  it(`refuses a new submission past ${CAP} unfinished (429 naming the cap); a repeat of a stored work_id is still 200`, async () => {
    for (let i = 0; i < CAP; i++) {
      const res = await stack.post({ image: SCRIPT_RUNNER, work_id: `cap-${RUN}-${i}`, file: quick }, CAPPED);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
    }
    const over = await stack.post({ image: SCRIPT_RUNNER, work_id: `cap-${RUN}-over`, file: quick }, CAPPED);
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ error: { code: 'too_many_unfinished' } });
    expect((over.body.error as { message: string }).message).toMatch(new RegExp(`maxUnfinished\\) is ${CAP}`));
    // Nothing was stored for it.
    const listed = await list(CAPPED);
    expect(listed.body.items.map((s: { work_id: string }) => s.work_id)).not.toContain(`cap-${RUN}-over`);
    // The same submission again under a stored work_id: answered as a repeat, not refused.
    const repeat = await stack.post({ image: SCRIPT_RUNNER, work_id: `cap-${RUN}-0`, file: quick }, CAPPED);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({ duplicate: true, work_id: `cap-${RUN}-0` });
    // The other platform is not capped by this one's backlog.
    expect((await stack.post({ image: SCRIPT_RUNNER, work_id: `cap-${RUN}-elsewhere`, file: quick }, LIMITED)).status).toBe(202);
  });
});
