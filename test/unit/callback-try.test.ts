import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliverCallback, createDeliveryTry } from '../../src/activities/callback/deliver-callback';
import type { DeliveryRequest } from '../../src/shared/activity-contracts';
import { createRecordAndDeliver } from '../../src/activities/record-and-deliver';
import type { PlatformConfig } from '../../src/config/schema';
import type { SubmissionStore } from '../../src/store/submissions';

/**
 * One callback try against a real loopback `node:http` server: a hard deadline from the start of the try
 * to the status line, a 2xx status line is delivery (the body is never read), and the socket is closed
 * whenever the try ends (answered, over its deadline, or cancelled).
 */

interface Conn {
  openedAt: number;
  closedAt?: number;
  closed: Promise<void>;
}

const conns: Conn[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/drip') {
        // 200 at once, then one body byte a second, never ending.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.flushHeaders();
        const t = setInterval(() => res.write('.'), 1000);
        res.on('close', () => clearInterval(t));
      } else if (req.url === '/ok') {
        res.statusCode = 204;
        res.end();
      }
      // '/hang': never answered.
    });
  });
  server.on('connection', (socket) => {
    const c: Conn = { openedAt: Date.now(), closed: new Promise<void>((resolve) => socket.on('close', () => resolve())) };
    void c.closed.then(() => (c.closedAt = Date.now()));
    conns.push(c);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function fixture() {
  const tries: Array<{ delivered: boolean; status?: number; error?: string }> = [];
  const store = {
    recordDeliveryTry: async (_s: string, _a: number, _id: string, outcome: { delivered: boolean; status?: number; error?: string }) => {
      tries.push(outcome);
      return tries.length;
    },
    // No URL is gone here (the 410 rules: test/e2e/webhook-rules.test.ts).
    callbackGoneAt: async () => undefined,
  } as unknown as SubmissionStore;
  const platform: PlatformConfig = {
    id: 'p',
    apiKeys: ['k'.repeat(16)],
    callbackSecret: `whsec_${randomBytes(32).toString('base64')}`,
    allowLoopbackCallbacks: true,
    images: ['*'],
  };
  const deps = { platforms: new Map([[platform.id, platform]]), store };
  return { deps, tries };
}

const request = (path: string): DeliveryRequest => ({
  submissionId: 's1',
  platformId: 'p',
  attempt: 1,
  url: `${base}${path}`,
  body: { success: true, work_id: 'w', comments: [], tests: [], format: 'correctomatic', submission_id: 's1', attempt: 1 } as never,
});

/** The connection opened last, once the server saw it. */
async function lastConnection(after: number): Promise<Conn> {
  for (let i = 0; i < 200; i++) {
    const c = conns.at(-1);
    if (c && c.openedAt >= after) return c;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no connection reached the server');
}

describe('one callback try', () => {
  it('counts a trickling 200 as delivered on its status line and closes the socket at once', async () => {
    const { deps, tries } = fixture();
    const t0 = Date.now();
    const answer = await createDeliveryTry(deps)(request('/drip'), 5000);
    const took = Date.now() - t0;
    expect(answer).toEqual({ status: 200 });
    expect(took).toBeLessThan(1500); // the status line, not the (endless) body
    expect(tries).toEqual([{ delivered: true, status: 200 }]);
    const conn = await lastConnection(t0);
    await conn.closed; // the server saw the socket close (the test would time out otherwise)
    expect(conn.closedAt! - t0).toBeLessThan(2000);
  }, 15_000);

  it('ends a try whose receiver never answers at its deadline, and closes the socket', async () => {
    const { deps, tries } = fixture();
    const t0 = Date.now();
    const outcome = await createDeliveryTry(deps)(request('/hang'), 800).then(
      () => undefined,
      (err: unknown) => err,
    );
    const took = Date.now() - t0;
    expect(outcome).toBeInstanceOf(ApplicationFailure);
    expect((outcome as ApplicationFailure).nonRetryable).toBe(false);
    expect((outcome as ApplicationFailure).message).toMatch(/no answer within 800 ms/);
    expect(took).toBeGreaterThanOrEqual(790);
    expect(took).toBeLessThan(3000);
    expect(tries).toHaveLength(1);
    expect(tries[0]).toMatchObject({ delivered: false });
    const conn = await lastConnection(t0);
    await conn.closed;
    expect(conn.closedAt! - t0).toBeLessThan(3000);
  }, 15_000);

  it('ends at the deadline of the whole try, not of an idle gap: a trickling answer cannot stretch it', async () => {
    // The status line is the answer; this checks the deadline also holds for the retrying activity, whose
    // per-try deadline is deps.timeoutMs.
    const { deps } = fixture();
    const env = new MockActivityEnvironment();
    const t0 = Date.now();
    const answer = await env.run(createDeliverCallback({ ...deps, timeoutMs: 5000 }), request('/drip'));
    expect(answer).toEqual({ status: 200 });
    expect(Date.now() - t0).toBeLessThan(1500);
    await (await lastConnection(t0)).closed;
  }, 15_000);

  it('closes the socket of a try that is cancelled (the activity is cancelled), and does not record it', async () => {
    const { deps, tries } = fixture();
    const env = new MockActivityEnvironment();
    const t0 = Date.now();
    const running = env.run(createDeliverCallback({ ...deps, timeoutMs: 30_000 }), request('/hang')).then(
      () => undefined,
      (err: unknown) => err,
    );
    const conn = await lastConnection(t0);
    await new Promise((r) => setTimeout(r, 200));
    env.cancel();
    const outcome = await running;
    expect(outcome).toBeDefined();
    await conn.closed;
    expect(conn.closedAt! - t0).toBeLessThan(3000);
    expect(tries).toEqual([]);
  }, 15_000);

  it('closes the socket of a try aborted through its signal', async () => {
    const { deps } = fixture();
    const ac = new AbortController();
    const t0 = Date.now();
    const running = createDeliveryTry(deps)(request('/hang'), 30_000, ac.signal).then(
      () => undefined,
      (err: unknown) => err,
    );
    const conn = await lastConnection(t0);
    ac.abort(new Error('stop'));
    expect(await running).toBeInstanceOf(Error);
    await conn.closed;
    expect(conn.closedAt! - t0).toBeLessThan(3000);
  }, 15_000);
});

describe('the first try (record and deliver)', () => {
  const record = { submissionId: 's1', attempt: 1, host: null, timings: { queuedAt: new Date().toISOString() }, result: {} as never, status: 'delivering' as const };

  it('is bounded by its own deadline and answers a failure instead of throwing', async () => {
    const { deps } = fixture();
    const recordAndDeliver = createRecordAndDeliver(async () => undefined, createDeliveryTry(deps), { timeoutMs: 500, concurrency: 8 });
    const t0 = Date.now();
    const first = await recordAndDeliver({ record, delivery: request('/hang') });
    expect(first).toMatchObject({ delivered: false, retryable: true });
    expect(first).not.toHaveProperty('skipped');
    expect(Date.now() - t0).toBeLessThan(2500);
  }, 15_000);

  it('skips the try past the cap on first tries in flight, and when the local activity is a retry', async () => {
    const { deps } = fixture();
    const recorded: string[] = [];
    const recordAndDeliver = createRecordAndDeliver(
      async (r) => void recorded.push(r.submissionId),
      createDeliveryTry(deps),
      { timeoutMs: 1000, concurrency: 1 },
    );
    const t0 = Date.now();
    const hanging = recordAndDeliver({ record, delivery: request('/hang') });
    await lastConnection(t0);
    const second = await recordAndDeliver({ record: { ...record, submissionId: 's2' }, delivery: request('/ok') });
    expect(second).toMatchObject({ delivered: false, retryable: true, skipped: true });
    expect(Date.now() - t0).toBeLessThan(900); // not held behind the hanging one
    expect(await hanging).toMatchObject({ delivered: false, retryable: true });
    expect(recorded).toEqual(['s1', 's2']); // both results recorded
    // The cap is free again.
    expect(await recordAndDeliver({ record, delivery: request('/ok') })).toEqual({ delivered: true });
    // A retried local activity records, and leaves the delivery to the retrying activity.
    const retried = await new MockActivityEnvironment({ attempt: 2 }).run(recordAndDeliver, { record, delivery: request('/ok') });
    expect(retried).toMatchObject({ delivered: false, skipped: true });
  }, 15_000);
});
