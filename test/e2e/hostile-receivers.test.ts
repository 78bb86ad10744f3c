import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack } from '../helpers/hooks';
import { startReceiver } from '../helpers/receiver';
import { backoffSchedule } from '../helpers/retry-schedule';
import { b64file, leftoverContainers, startStack } from '../helpers/stack';

/**
 * No receiver can hold gradeflow hostage: 100 receivers that answer 200 and trickle their body, and 100
 * that never answer, all at once, through the real API, a real grading host, real Temporal and a real
 * loopback receiver. Ordinary submissions posted while all 200 are in their delivery phase are called
 * back about as fast as without them, every trickling one counts as delivered on its status line, the
 * hanging ones keep being retried, and no connection outlives its try.
 */

const TIMEOUT_MS = 2000; // callbacks.timeoutMs: the retries' deadline per try
const FIRST_TRY_MS = 1000; // callbacks.firstTryTimeoutMs
const FIRST_TRY_CONCURRENCY = 8;
const HOSTILE = 100; // of each kind
const ORDINARY = 5;
// Work ids (and so workflow ids) unique to this run: every test file shares one Temporal namespace.
const RUN = randomBytes(3).toString('hex');

/** The retry rules: the backoff these tests were written for (1 s doubling to 4 s, 10 min), not the three-day default. */
const RECEIVER_RULES = { retrySchedule: backoffSchedule(1000, 4000, 600_000), retryJitter: 0.2, maxRetryAfterMs: 3_600_000, clientErrorTries: 3 };

const stack = useStack('receivers', {
  callbacks: {
    initialIntervalMs: 1000,
    maximumIntervalMs: 4000,
    backoffCoefficient: 2,
    giveUpAfterMs: 600_000,
    timeoutMs: TIMEOUT_MS,
    firstTryTimeoutMs: FIRST_TRY_MS,
    firstTryConcurrency: FIRST_TRY_CONCURRENCY,
    ...RECEIVER_RULES,
    maxConcurrentDeliveries: 200,
  },
});
const receiver = useReceiver(stack, { dripEveryMs: 1000 });
const hangWorkIds: string[] = [];

afterAll(async () => {
  // The hanging deliveries would be retried for 10 minutes: cancel their runs (best effort) before stopping.
  await Promise.allSettled(hangWorkIds.map((w) => stack.server.client.workflow.getHandle(`submission/test/w/${w}`).cancel()));
});

const quick = b64file('grade.sh', 'echo \'{"success": true, "grade": 1}\'');

/** Run `fn` over `items`, `width` at a time. */
async function pool<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Ordinary submissions, one after the other: ms from POST to callback, and from graded to callback. */
async function ordinaryLatencies(tag: string): Promise<{ post: number[]; graded: number[] }> {
  const post: number[] = [];
  const graded: number[] = [];
  for (let i = 0; i < ORDINARY; i++) {
    const workId = `hr-${RUN}-${tag}-${i}`;
    const t0 = Date.now();
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: workId, callback: receiver.url('/ok'), file: quick });
    expect(res.status).toBe(202);
    const cb = await receiver.waitForOne((c) => c.body.work_id === workId, 60_000);
    expect(cb.verified).toBe(true);
    post.push(cb.at - t0);
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    graded.push(cb.at - Date.parse(done.attempts[0].timings.graded_at as string));
  }
  return { post, graded };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `${xs.join(', ')} ms (median ${median(xs)}, max ${Math.max(...xs)})`;

describe('hostile receivers', () => {
  it('100 trickling and 100 hanging receivers neither delay other callbacks nor keep connections open', async () => {
    // Warm-up (first container of the run), then the baseline without hostile receivers.
    await ordinaryLatencies('warm');
    const baseline = await ordinaryLatencies('base');

    // 200 hostile submissions at once, from 8 clients.
    const hostile = Array.from({ length: 2 * HOSTILE }, (_, i) => (i % 2 === 0 ? { kind: 'drip', n: i / 2 } : { kind: 'hang', n: (i - 1) / 2 }));
    const t0 = Date.now();
    const ids = new Map<string, string>(); // work id → submission id
    await pool(hostile, 8, async ({ kind, n }) => {
      const workId = `hr-${RUN}-${kind}-${n}`;
      if (kind === 'hang') hangWorkIds.push(workId);
      const res = await stack.post({ image: SCRIPT_RUNNER, work_id: workId, callback: receiver.url(`/${kind}/${n}`), file: quick });
      expect(res.status).toBe(202);
      ids.set(workId, res.body.id as string);
    });
    const posted = Date.now() - t0;

    // All 200 graded and in their delivery phase: each receiver has had at least one POST.
    const reached = () => new Set(receiver.received.map((r) => r.body.work_id).filter((w) => typeof w === 'string' && /^hr-\w+-(drip|hang)-/.test(w)));
    await receiver.waitFor(() => reached().size === 2 * HOSTILE, 180_000);
    const allReached = Date.now() - t0;
    const dripDelivered = () => receiver.connections.filter((c) => c.path?.startsWith('/drip/') && c.answeredAt).length;

    // Now the ordinary ones, with every hostile submission in its delivery phase.
    receiver.resetMaxOpenConnections();
    let openMax = 0;
    const sampler = setInterval(() => (openMax = Math.max(openMax, receiver.openConnections())), 50);
    const withHostile = await ordinaryLatencies('with');
    clearInterval(sampler);
    const openMaxDuringOrdinary = Math.max(openMax, receiver.maxOpenConnections());

    // Every hanging one retried: a third POST has begun, so two tries have ended and are recorded
    // (the last of them may have been reached only just before the ordinary ones ran).
    const postsTo = (workId: string) => receiver.received.filter((r) => r.body.work_id === workId).length;
    await receiver.waitFor(() => hangWorkIds.every((w) => postsTo(w) >= 3), 60_000);
    // Every trickling one delivered (on its status line), every hanging one still being retried.
    const states = await pool([...ids.entries()], 8, async ([workId, id]) => ({ workId, body: (await stack.get(id)).body as Record<string, any> }));
    const drips = states.filter((s) => s.workId.includes('-drip-'));
    const hangs = states.filter((s) => s.workId.includes('-hang-'));
    const dripsDelivered = drips.filter((s) => s.body.status === 'completed' && s.body.attempts[0]?.delivery?.status === 'delivered').length;
    const hangsPending = hangs.filter((s) => s.body.status === 'delivering' && s.body.attempts[0]?.delivery?.status === 'pending').length;
    const hangTries = hangs.map((s) => (s.body.attempts[0]?.delivery?.tries as number | undefined) ?? 0);

    // No connection outlives its try.
    const dripConns = receiver.connections.filter((c) => c.path?.startsWith('/drip/'));
    const hangConns = receiver.connections.filter((c) => c.path?.startsWith('/hang/'));
    const now = Date.now();
    const dripAfterStatus = dripConns.filter((c) => c.answeredAt).map((c) => (c.closedAt ?? now) - c.answeredAt!);
    const hangLife = hangConns.filter((c) => c.closedAt).map((c) => c.closedAt! - c.openedAt);
    const hangOpenTooLong = hangConns.filter((c) => !c.closedAt && now - c.openedAt > TIMEOUT_MS + 1500).length;
    const maxOpenOverall = receiver.maxOpenConnections();

    // End the hanging ones: their sockets close with their tries.
    const tCancel = Date.now();
    await Promise.all(hangWorkIds.map((w) => stack.server.client.workflow.getHandle(`submission/test/w/${w}`).cancel()));
    let openAfterCancel = receiver.openConnections();
    while (openAfterCancel > 0 && Date.now() - tCancel < 10_000) {
      await new Promise((r) => setTimeout(r, 100));
      openAfterCancel = receiver.openConnections();
    }
    const zeroAfter = Date.now() - tCancel;

    console.log(
      [
        `hostile receivers: ${HOSTILE} trickling + ${HOSTILE} hanging; timeoutMs ${TIMEOUT_MS}, firstTryTimeoutMs ${FIRST_TRY_MS}, firstTryConcurrency ${FIRST_TRY_CONCURRENCY}`,
        `  200 POSTed in ${posted} ms; all 200 graded and their receivers reached after ${allReached} ms`,
        `  baseline   POST→callback: ${fmt(baseline.post)}; graded→callback: ${fmt(baseline.graded)}`,
        `  w/ hostile POST→callback: ${fmt(withHostile.post)}; graded→callback: ${fmt(withHostile.graded)}`,
        `  trickling: ${dripsDelivered}/${HOSTILE} delivered; ${dripConns.length} connections (${dripDelivered()} answered); socket closed after the status line within max ${Math.max(...dripAfterStatus)} ms (median ${median(dripAfterStatus)})`,
        `  hanging: ${hangsPending}/${HOSTILE} still delivering; tries so far min ${Math.min(...hangTries)} max ${Math.max(...hangTries)}; ${hangConns.length} connections, lifetime max ${Math.max(...hangLife)} ms (median ${median(hangLife)}); open past the deadline: ${hangOpenTooLong}`,
        `  open connections at the receiver: max ${maxOpenOverall} overall, max ${openMaxDuringOrdinary} while the ordinary ones ran; ${openAfterCancel} open ${zeroAfter} ms after the hanging runs were cancelled`,
      ].join('\n'),
    );

    // The ordinary ones are not held behind the hostile ones (a generous bound, not a ratio).
    expect(Math.max(...withHostile.post)).toBeLessThanOrEqual(Math.max(...baseline.post) + 2000);
    expect(Math.max(...withHostile.graded)).toBeLessThanOrEqual(Math.max(...baseline.graded) + 2000);
    // A 200 status line is delivery, whatever the body does; each trickling receiver got one POST.
    expect(dripsDelivered).toBe(HOSTILE);
    expect(dripConns.length).toBe(HOSTILE);
    // The hanging ones are not lost: still delivering, retried.
    expect(hangsPending).toBe(HOSTILE);
    expect(Math.min(...hangTries)).toBeGreaterThanOrEqual(2);
    // No connection outlives its try: a trickling one closes right after its status line, a hanging one
    // at its deadline (generous slack for two busy cores).
    expect(Math.max(...dripAfterStatus)).toBeLessThan(1500);
    expect(Math.max(...hangLife)).toBeLessThan(TIMEOUT_MS + 1500);
    expect(hangOpenTooLong).toBe(0);
    // At most one try in flight per hostile submission (and ordinary ones close at once).
    expect(maxOpenOverall).toBeLessThanOrEqual(2 * HOSTILE);
    expect(openMaxDuringOrdinary).toBeLessThanOrEqual(HOSTILE + 2);
    expect(openAfterCancel).toBe(0);
    hangWorkIds.length = 0;
  }, 300_000);

  it('leaves no container behind', async () => {
    expect(await leftoverContainers(stack.hostId)).toEqual([]);
  });
});

describe('a cancelled delivery', () => {
  it('closes its socket within seconds of the cancel, not at its deadline', async () => {
    // Its own stack: a per-try deadline long enough (20 s) to tell a cancellation from a deadline.
    const slow = await startStack('cancel-delivery', {
      callbacks: {
        initialIntervalMs: 500,
        maximumIntervalMs: 1000,
        backoffCoefficient: 2,
        giveUpAfterMs: 120_000,
        timeoutMs: 20_000,
        firstTryTimeoutMs: 1000,
        firstTryConcurrency: 8,
        retrySchedule: backoffSchedule(500, 1000, 120_000),
        retryJitter: 0.2,
        maxRetryAfterMs: 3_600_000,
        clientErrorTries: 3,
        maxConcurrentDeliveries: 10,
      },
    });
    const hang = await startReceiver(slow.secret);
    try {
      const res = await slow.post({ image: SCRIPT_RUNNER, work_id: `hr-${RUN}-cancel`, callback: hang.url('/hang/cancel'), file: quick });
      expect(res.status).toBe(202);
      // The first try (1 s), then the retry: its connection stays open up to 20 s.
      await hang.waitFor((r) => r.length >= 2, 60_000);
      await new Promise((r) => setTimeout(r, 1500));
      const retry = hang.connections[1]!;
      expect(retry.closedAt).toBeUndefined();
      const t0 = Date.now();
      await slow.server.client.workflow.getHandle(`submission/test/w/hr-${RUN}-cancel`).cancel();
      while (retry.closedAt === undefined && Date.now() - t0 < 25_000) await new Promise((r) => setTimeout(r, 50));
      const closedIn = (retry.closedAt ?? Date.now()) - t0;
      console.log(`cancelled delivery: the retry's socket (deadline 20 s, open ${t0 - retry.openedAt} ms) closed ${closedIn} ms after the cancel`);
      expect(closedIn).toBeLessThan(8000);
      const done = await slow.waitFor(res.body.id as string, (b) => b.status === 'cancelled' || b.status === 'completed' || b.status === 'failed');
      expect(done.status).not.toBe('completed');
    } finally {
      await hang.close();
      await slow.stop();
    }
  }, 120_000);
});
