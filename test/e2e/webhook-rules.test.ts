import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useStack } from '../helpers/hooks';
import { b64file } from '../helpers/stack';

/**
 * The Standard Webhooks rules, each against a real receiver on loopback, through the real API, a real
 * grading host and real Temporal: Retry-After honoured (seconds and HTTP date), a 4xx tried exactly
 * `clientErrorTries` times, a redirect never followed, 410 Gone ending deliveries to that URL (and later
 * ones not attempted), every active secret signing, the schedule's jitter within its bounds, and
 * https-only platforms refusing http callbacks. The schedule is short here so the timings take seconds.
 */

const RUN = randomBytes(3).toString('hex');
const KEY = `key-webhooks-${randomBytes(12).toString('hex')}`;
const HTTPS_KEY = `key-httpsonly-${randomBytes(12).toString('hex')}`;
const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const SECRET_OLD = secret();
const SECRET_NEW = secret();

const STEP_S = 0.6; // every step of the schedule
const JITTER = 0.25;
const CLIENT_ERROR_TRIES = 3;

const stack = useStack('webhooks', {
  platforms: [
    {
      id: 'test',
      apiKeys: [KEY],
      callbackSecret: SECRET_OLD,
      callbackSecrets: [SECRET_NEW],
      allowLoopbackCallbacks: true,
      images: ['gradeflow-test/*'],
    },
    {
      id: 'strict',
      apiKeys: [HTTPS_KEY],
      callbackSecret: secret(),
      allowLoopbackCallbacks: true,
      callbackHttpsOnly: true,
      images: ['gradeflow-test/*'],
    },
  ],
  callbacks: {
    initialIntervalMs: 100,
    maximumIntervalMs: 1000,
    backoffCoefficient: 2,
    giveUpAfterMs: 120_000,
    timeoutMs: 5000,
    firstTryTimeoutMs: 2000,
    firstTryConcurrency: 8,
    retrySchedule: Array<number>(8).fill(STEP_S),
    retryJitter: JITTER,
    maxRetryAfterMs: 60_000,
    clientErrorTries: CLIENT_ERROR_TRIES,
    maxConcurrentDeliveries: 50,
  },
});

interface Arrival {
  path: string;
  at: number;
  headers: http.IncomingHttpHeaders;
  raw: string;
}

/** Per path, the answers to give in turn (the last one repeats): a status and its headers. */
type Script = Array<{ status: number; headers?: Record<string, string> | (() => Record<string, string>) }>;

const scripts = new Map<string, Script>();
const arrivals: Arrival[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const n = arrivals.filter((a) => a.path === path).length;
      arrivals.push({ path, at: Date.now(), headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      const script = scripts.get(path) ?? [{ status: 204 }];
      const answer = script[Math.min(n, script.length - 1)]!;
      const headers = typeof answer.headers === 'function' ? answer.headers() : (answer.headers ?? {});
      res.writeHead(answer.status, headers);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const quick = b64file('grade.sh', 'echo \'{"success": true, "grade": 1}\'');
const at = (path: string) => arrivals.filter((a) => a.path === path);
const gaps = (path: string) => at(path).slice(1).map((a, i) => a.at - at(path)[i]!.at);

async function submit(path: string, tag: string, key = KEY): Promise<string> {
  const res = await stack.post({ image: SCRIPT_RUNNER, work_id: `wh-${RUN}-${tag}`, callback: `${base}${path}`, file: quick }, key);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id as string;
}

/** Until `path` has had `n` requests. */
async function arrived(path: string, n: number, timeoutMs = 60_000): Promise<Arrival[]> {
  const deadline = Date.now() + timeoutMs;
  while (at(path).length < n) {
    if (Date.now() > deadline) throw new Error(`${path}: ${at(path).length} requests, expected ${n}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return at(path);
}

/** Poll GET (as this file's platform) until `done` holds. */
async function waitFor(id: string, done: (body: Record<string, any>) => boolean, timeoutMs = 30_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await stack.get(id, KEY);
    if (done(body)) return body;
    if (Date.now() > deadline) throw new Error(`submission ${id} did not reach the expected state: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('webhooks per Standard Webhooks', () => {
  it('honours Retry-After on 503 (seconds) and 429 (an HTTP date), whatever the shorter schedule says', async () => {
    scripts.set('/retry-503', [{ status: 503, headers: { 'retry-after': '2' } }, { status: 204 }]);
    // A date three seconds ahead (HTTP dates have whole seconds: at least two seconds from the answer).
    scripts.set('/retry-429', [{ status: 429, headers: () => ({ 'retry-after': new Date(Date.now() + 3000).toUTCString() }) }, { status: 204 }]);
    const [a, b] = await Promise.all([submit('/retry-503', 'r503'), submit('/retry-429', 'r429')]);
    await Promise.all([arrived('/retry-503', 2), arrived('/retry-429', 2)]);
    const g503 = gaps('/retry-503')[0]!;
    const g429 = gaps('/retry-429')[0]!;
    console.log(`Retry-After: 2 → next try after ${g503} ms; Retry-After: <date +3 s> → after ${g429} ms (schedule step ${STEP_S * 1000} ms)`);
    expect(g503).toBeGreaterThanOrEqual(2000);
    expect(g429).toBeGreaterThanOrEqual(2000);
    for (const id of [a, b]) {
      const done = await waitFor(id, (s) => s.status === 'completed');
      expect(done.attempts[0].delivery).toMatchObject({ status: 'delivered', tries: 2, last_status: 204 });
    }
  });

  it('hands a wait longer than the activity can hold to a Temporal retry timer (nextRetryDelay), and still honours it', async () => {
    // 52 s + the try's 5 s deadline do not fit in the retrying activity's 55 s: it stores next_try_at and ends.
    scripts.set('/retry-long', [{ status: 503 }, { status: 503, headers: { 'retry-after': '52' } }, { status: 204 }]);
    const id = await submit('/retry-long', 'rlong');
    await arrived('/retry-long', 3, 120_000);
    const g = gaps('/retry-long');
    console.log(`Retry-After: 52 → next try after ${g[1]} ms (through a Temporal retry timer)`);
    expect(g[1]).toBeGreaterThanOrEqual(52_000);
    const done = await waitFor(id, (s) => s.status === 'completed');
    expect(done.attempts[0].delivery).toMatchObject({ status: 'delivered', tries: 3 });
  }, 150_000);

  it(`tries a receiver that answers 404 exactly ${CLIENT_ERROR_TRIES} times, then gives up and records it`, async () => {
    scripts.set('/missing', [{ status: 404 }]);
    const id = await submit('/missing', 'r404');
    await arrived('/missing', CLIENT_ERROR_TRIES);
    const done = await waitFor(id, (s) => s.status === 'failed');
    expect(done.attempts[0].delivery).toMatchObject({ status: 'failed', tries: CLIENT_ERROR_TRIES, last_status: 404 });
    // Well past several more steps of the schedule: nothing more came.
    await settle(STEP_S * 1000 * 4);
    expect(at('/missing')).toHaveLength(CLIENT_ERROR_TRIES);
  });

  it('does not follow a redirect: the Location is never requested, and a 301 counts as a 4xx does', async () => {
    scripts.set('/moved', [{ status: 301, headers: { location: `${base}/moved-here` } }]);
    const id = await submit('/moved', 'r301');
    const done = await waitFor(id, (s) => s.status === 'failed');
    expect(done.attempts[0].delivery).toMatchObject({ status: 'failed', tries: CLIENT_ERROR_TRIES, last_status: 301 });
    await settle(1000);
    expect(at('/moved')).toHaveLength(CLIENT_ERROR_TRIES);
    expect(at('/moved-here')).toHaveLength(0);
  });

  it('stops at 410 Gone and records it; later callbacks to that URL are not attempted and recorded as gone', async () => {
    scripts.set('/unsubscribed', [{ status: 410 }]);
    const first = await submit('/unsubscribed', 'gone-1');
    const done = await waitFor(first, (s) => s.status === 'failed');
    expect(done.attempts[0].delivery).toMatchObject({ status: 'gone', tries: 1, last_status: 410 });
    const later = await submit('/unsubscribed', 'gone-2');
    const second = await waitFor(later, (s) => s.status === 'failed');
    expect(second.attempts[0].delivery).toMatchObject({ status: 'gone', tries: 0 });
    expect(second.attempts[0].delivery.last_error).toMatch(/not attempted.*410 Gone/);
    await settle(1000);
    expect(at('/unsubscribed')).toHaveLength(1);
  });

  it('signs with every active secret: one v1 signature each in webhook-signature, each verifying alone', async () => {
    const id = await submit('/signed', 'sig');
    const [cb] = await arrived('/signed', 1);
    const signatures = String(cb!.headers['webhook-signature']).split(' ');
    expect(signatures).toHaveLength(2);
    for (const s of signatures) expect(s).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    const headers = cb!.headers as Record<string, string>;
    // A receiver holding only the old secret, and one holding only the new, both accept it.
    expect(new Webhook(SECRET_OLD).verify(cb!.raw, headers)).toMatchObject({ submission_id: id });
    expect(new Webhook(SECRET_NEW).verify(cb!.raw, headers)).toMatchObject({ submission_id: id });
    // Each signature is the one of its own secret (not one signature twice).
    const ts = new Date(Number(headers['webhook-timestamp']) * 1000);
    const own = [SECRET_OLD, SECRET_NEW].map((s) => new Webhook(s).sign(headers['webhook-id']!, ts, cb!.raw));
    expect(signatures).toEqual(own);
    expect(() => new Webhook(secret()).verify(cb!.raw, headers)).toThrow();
  });

  it(`waits each step of the schedule within ±${JITTER * 100}% jitter`, async () => {
    scripts.set('/flaky', [{ status: 500 }, { status: 500 }, { status: 502 }, { status: 500 }, { status: 204 }]);
    const id = await submit('/flaky', 'jitter');
    await arrived('/flaky', 5);
    const waits = gaps('/flaky');
    console.log(`schedule step ${STEP_S * 1000} ms ± ${JITTER * 100}%: waits ${waits.join(', ')} ms`);
    const low = STEP_S * 1000 * (1 - JITTER);
    const high = STEP_S * 1000 * (1 + JITTER);
    for (const w of waits) {
      expect(w).toBeGreaterThanOrEqual(low - 5);
      // A try is due at its wait's end; a loaded machine may start it somewhat later, never earlier.
      expect(w).toBeLessThan(high + 1500);
    }
    await waitFor(id, (s) => s.status === 'completed');
  });

  it('refuses an http callback at intake for an https-only platform (400 naming callback)', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: `wh-${RUN}-https`, callback: `${base}/never`, file: quick }, HTTPS_KEY);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid_field', field: 'callback' } });
    expect((res.body.error as { message: string }).message).toMatch(/https/);
  });
});
