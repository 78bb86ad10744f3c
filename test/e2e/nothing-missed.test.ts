import { describe, expect, it } from 'vitest';
import { LABELS } from '../../src/activities/docker/container-options';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack } from '../helpers/hooks';
import { startReceiver } from '../helpers/receiver';
import { b64file, docker, leftoverContainers } from '../helpers/stack';

/**
 * Issue 18, point 5: a platform misses nothing. It can have a result sent again (a new message, recorded
 * as a redelivery), poll every result in the order they became final, cancel a submission, and follow a
 * submission's status as Server-Sent Events. Against the real stack: Temporal, Docker, a receiver.
 */
const stack = useStack('missed', {
  api: { host: '127.0.0.1', port: 0, maxFileBytes: 1024 * 1024, eventsPollMs: 200, eventsHeartbeatMs: 300 },
});
const receiver = useReceiver(stack);

const quick = (grade = 4) => b64file('grade.sh', `echo '{"success": true, "grade": ${grade}}'`);
const slow = (seconds: number, grade = 5) => b64file('grade.sh', `sleep ${seconds}; echo '{"success": true, "grade": ${grade}}'`);
const workId = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}`;

type Body = Record<string, any>;

/** A submission graded once and its callback delivered: its id and the callback as it arrived. */
async function graded(name: string, file = quick(), callback = receiver.url()) {
  const wid = workId(name);
  const res = await stack.post({ image: SCRIPT_RUNNER, work_id: wid, callback, file });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const id = res.body.id as string;
  const done = await stack.waitFor(id, (b) => b.status === 'completed' && b.attempts[0]?.delivery?.status === 'delivered');
  return { id, workId: wid, done };
}

async function containerOf(submissionId: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = (await leftoverContainers(stack.hostId)).find((c) => c.Labels[LABELS.submission] === submissionId);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no container for ${submissionId}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('POST /v1/submissions/{id}/redeliver', () => {
  it('sends the latest result again under a new webhook-id, recorded as a redelivery; grade, attempt and status unchanged', async () => {
    const s = await graded('redeliver');
    const first = receiver.received.find((c) => c.body.submission_id === s.id)!;
    expect(first.headers['webhook-id']).toBe(`msg_${s.id}_1`);

    const r1 = await stack.request('POST', `/v1/submissions/${s.id}/redeliver`);
    expect(r1.status, JSON.stringify(r1.body)).toBe(202);
    expect(r1.body).toEqual({ id: s.id, attempt: 1, redelivery: 1, webhook_id: `msg_${s.id}_1_r1` });
    const again = await receiver.waitForOne((c) => c.headers['webhook-id'] === `msg_${s.id}_1_r1`);
    expect(again.verified).toBe(true);
    expect(again.body).toEqual(first.body);

    const r2 = await stack.request('POST', `/v1/submissions/${s.id}/redeliver`);
    expect(r2.body.webhook_id).toBe(`msg_${s.id}_1_r2`);
    await receiver.waitForOne((c) => c.headers['webhook-id'] === `msg_${s.id}_1_r2`);

    const after = await stack.waitFor(s.id, (b) => b.attempts[0].redeliveries.every((r: Body) => r.status === 'delivered'));
    expect(after.status).toBe('completed');
    expect(after.attempt).toBe(1);
    expect(after.attempts).toHaveLength(1);
    expect(after.result).toEqual(s.done.result);
    expect(after.attempts[0].delivery).toEqual(s.done.attempts[0].delivery); // the attempt's own delivery as it was
    expect(after.attempts[0].redeliveries.map((r: Body) => [r.redelivery, r.webhook_id, r.status, r.tries])).toEqual([
      [1, `msg_${s.id}_1_r1`, 'delivered', 1],
      [2, `msg_${s.id}_1_r2`, 'delivered', 1],
    ]);
  });

  it('is retried like any callback: a receiver that answers 503 twice gets it on the third try', async () => {
    const flaky = await startReceiver(stack.secret);
    try {
      const s = await graded('redeliver-retry', quick(), flaky.url('/flaky'));
      flaky.failNext(2);
      const r = await stack.request('POST', `/v1/submissions/${s.id}/redeliver`);
      expect(r.status).toBe(202);
      const ok = await flaky.waitForOne((c) => c.headers['webhook-id'] === `msg_${s.id}_1_r1` && c.answeredStatus === 204);
      expect(ok.verified).toBe(true);
      expect(flaky.received.filter((c) => c.headers['webhook-id'] === `msg_${s.id}_1_r1`).map((c) => c.answeredStatus)).toEqual([503, 503, 204]);
      const after = await stack.waitFor(s.id, (b) => b.attempts[0].redeliveries[0]?.status === 'delivered');
      expect(after.attempts[0].redeliveries[0]).toMatchObject({ tries: 3, last_status: 204 });
      expect(after.status).toBe('completed');
    } finally {
      await flaky.close();
    }
  });

  it('records a redelivery to a URL that answered 410 Gone as failed, not attempted; the submission stays as it was', async () => {
    const wid = workId('redeliver-gone');
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: wid, callback: receiver.url('/gone'), file: quick() });
    const id = res.body.id as string;
    const before = await stack.waitFor(id, (b) => b.status === 'failed' && b.attempts[0]?.delivery?.status === 'gone');
    const sent = receiver.received.length;
    const r = await stack.request('POST', `/v1/submissions/${id}/redeliver`);
    expect(r.status).toBe(202);
    // The receiver unsubscribed that URL (Standard Webhooks' 410): a redelivery is not sent there either.
    const after = await stack.waitFor(id, (b) => b.attempts[0].redeliveries[0]?.status === 'failed');
    expect(after.attempts[0].redeliveries[0]).toMatchObject({ tries: 1, last_status: null, webhook_id: `msg_${id}_1_r1` });
    expect(after.attempts[0].redeliveries[0].last_error).toMatch(/not attempted: the receiver answered 410 Gone/);
    expect(receiver.received.length).toBe(sent);
    expect(after.status).toBe('failed');
    expect(after.attempts[0].delivery).toEqual(before.attempts[0].delivery);
  });

  it('sends the latest recorded result while the submission workflow runs a regrade', async () => {
    const s = await graded('redeliver-running', slow(3, 7));
    expect((await stack.regrade(s.id)).status).toBe(202);
    await stack.waitFor(s.id, (b) => b.status === 'running' && b.attempt === 2);
    const r = await stack.request('POST', `/v1/submissions/${s.id}/redeliver`);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body).toMatchObject({ attempt: 1, webhook_id: `msg_${s.id}_1_r1` });
    const again = await receiver.waitForOne((c) => c.headers['webhook-id'] === `msg_${s.id}_1_r1`);
    expect(again.body).toMatchObject({ attempt: 1, grade: 7 });
    const done = await stack.waitFor(s.id, (b) => b.status === 'completed' && b.attempt === 2);
    expect(done.attempts[1].delivery.webhook_id).toBe(`msg_${s.id}_2`);
  });

  it('answers 409 without a callback URL, 409 before any result, 404 for an unknown submission', async () => {
    const none = await stack.post({ image: SCRIPT_RUNNER, file: quick() });
    await stack.waitFor(none.body.id as string, (b) => b.status === 'completed');
    const noCallback = await stack.request('POST', `/v1/submissions/${none.body.id}/redeliver`);
    expect(noCallback.status).toBe(409);
    expect((noCallback.body.error as Body).code).toBe('no_callback');

    const running = await stack.post({ image: SCRIPT_RUNNER, work_id: workId('no-result'), callback: receiver.url(), file: slow(3) });
    const early = await stack.request('POST', `/v1/submissions/${running.body.id}/redeliver`);
    expect(early.status).toBe(409);
    expect((early.body.error as Body).code).toBe('no_result');
    await stack.waitFor(running.body.id as string, (b) => b.status === 'completed');

    const unknown = await stack.request('POST', '/v1/submissions/00000000-0000-4000-8000-000000000000/redeliver');
    expect(unknown.status).toBe(404);
    expect((unknown.body.error as Body).code).toBe('not_found');
  });
});

describe('GET /v1/results', () => {
  /** Every result after `after`, page by page; returns them and the cursor to poll with next. */
  async function drain(after: string | undefined, limit: number, key = stack.apiKey) {
    const items: Body[] = [];
    let cursor = after;
    for (;;) {
      const q = new URLSearchParams({ limit: String(limit), ...(cursor ? { after: cursor } : {}) });
      const res = await fetch(`${stack.server.url}/v1/results?${q}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: Body[]; next_cursor: string };
      expect(page.items.length).toBeLessThanOrEqual(limit);
      items.push(...page.items);
      cursor = page.next_cursor;
      if (page.items.length < limit) return { items, cursor };
    }
  }

  it('lists every result once, in the order they were recorded, regrades included, with the callback body', async () => {
    const start = await drain(undefined, 50);
    const a = await graded('feed-a');
    const b = await graded('feed-b');
    expect((await stack.regrade(a.id)).status).toBe(202);
    await stack.waitFor(a.id, (x) => x.status === 'completed' && x.attempt === 2);

    const { items, cursor } = await drain(start.cursor, 1);
    const mine = items.filter((i) => i.submission_id === a.id || i.submission_id === b.id);
    expect(mine.map((i) => [i.submission_id, i.attempt])).toEqual([
      [a.id, 1],
      [b.id, 1],
      [a.id, 2],
    ]);
    const keys = items.map((i) => `${i.submission_id}/${i.attempt}`);
    expect(new Set(keys).size).toBe(keys.length);
    const times = items.map((i) => Date.parse(i.recorded_at));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    // The body is the one the callback carried.
    const cb = receiver.received.find((c) => c.body.submission_id === b.id)!;
    expect(mine[1]).toMatchObject({ work_id: b.workId, body: cb.body });

    // Polling again from the end: nothing, the same cursor; then exactly the next result.
    const empty = await drain(cursor, 10);
    expect(empty.items).toEqual([]);
    expect(empty.cursor).toBe(cursor);
    const c = await graded('feed-c');
    const next = await drain(cursor, 10);
    expect(next.items.map((i) => [i.submission_id, i.attempt])).toEqual([[c.id, 1]]);

    // Another platform's feed has none of these.
    const other = await drain(undefined, 200, stack.otherApiKey);
    expect(other.items.filter((i) => [a.id, b.id, c.id].includes(i.submission_id))).toEqual([]);
  });

  it('a poller that reads while results are recorded gets each exactly once, in order', async () => {
    const start = await drain(undefined, 200);
    const posted = await Promise.all(
      Array.from({ length: 6 }, (_, i) => stack.post({ image: SCRIPT_RUNNER, work_id: workId(`feed-burst-${i}`), file: quick(i) })),
    );
    const ids = posted.map((p) => p.body.id as string);
    const seen: Body[] = [];
    let cursor = start.cursor;
    const deadline = Date.now() + 60_000;
    while (ids.some((id) => !seen.some((s) => s.submission_id === id))) {
      if (Date.now() > deadline) throw new Error('the burst did not reach the feed');
      const page = await drain(cursor, 2);
      seen.push(...page.items);
      cursor = page.cursor;
      await new Promise((r) => setTimeout(r, 50));
    }
    const all = await drain(start.cursor, 200);
    expect(seen.map((s) => `${s.submission_id}/${s.attempt}`)).toEqual(all.items.map((s) => `${s.submission_id}/${s.attempt}`));
  });

  it('refuses a cursor it did not give and a limit out of range, naming the field', async () => {
    const bad = await stack.request('GET', '/v1/results?after=bm90LWEtY3Vyc29y');
    expect(bad.status).toBe(400);
    expect((bad.body.error as Body).field).toBe('after');
    const zero = await stack.request('GET', '/v1/results?limit=0');
    expect(zero.status).toBe(400);
    expect((zero.body.error as Body).field).toBe('limit');
  });
});

describe('POST /v1/submissions/{id}/cancel', () => {
  it('cancels a running submission: its container stops, it is recorded cancelled; a finished one is 409', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: workId('cancel'), file: slow(30) });
    const id = res.body.id as string;
    await stack.waitFor(id, (b) => b.status === 'running');
    const container = await containerOf(id);

    const cancel = await stack.request('POST', `/v1/submissions/${id}/cancel`);
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(202);
    expect(cancel.body).toMatchObject({ id, cancel: 'requested' });
    const cancelled = await stack.waitFor(id, (b) => b.status === 'cancelled', 20_000);
    expect(cancelled.result).toMatchObject({ success: false, reason: 'cancelled' });
    const deadline = Date.now() + 20_000;
    while (await docker.getContainer(container.Id).inspect().then(() => true, () => false)) {
      if (Date.now() > deadline) throw new Error('the cancelled grading kept its container');
      await new Promise((r) => setTimeout(r, 200));
    }

    const again = await stack.request('POST', `/v1/submissions/${id}/cancel`);
    expect(again.status).toBe(409);
    expect((again.body.error as Body).code).toBe('finished');
    const s = await graded('cancel-done');
    expect((await stack.request('POST', `/v1/submissions/${s.id}/cancel`)).status).toBe(409);
    expect((await stack.get(s.id)).body.status).toBe('completed');
  }, 60_000);
});

/** An SSE stream read to its end (or until `stopAfter` events, then the client closes it). */
async function readEvents(id: string, opts: { stopAfter?: number; timeoutMs?: number } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('the stream did not end in time')), opts.timeoutMs ?? 60_000);
  const res = await fetch(`${stack.server.url}/v1/submissions/${id}/events`, {
    headers: { authorization: `Bearer ${stack.apiKey}` },
    signal: controller.signal,
  });
  const events: Body[] = [];
  let heartbeats = 0;
  let text = '';
  let endedByServer = false;
  const contentType = res.headers.get('content-type');
  try {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        endedByServer = true;
        break;
      }
      text += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = text.indexOf('\n\n')) >= 0) {
        const frame = text.slice(0, cut);
        text = text.slice(cut + 2);
        if (frame.startsWith(':')) heartbeats++;
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (frame.includes('event: status') && data) events.push(JSON.parse(data.slice(6)) as Body);
      }
      if (opts.stopAfter !== undefined && events.length >= opts.stopAfter) {
        controller.abort();
        break;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return { status: res.status, contentType, events, heartbeats, endedByServer };
}

describe('GET /v1/submissions/{id}/events', () => {
  it('streams the status changes until the submission is finished, then closes; heartbeats in between', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: workId('events'), callback: receiver.url(), file: slow(3) });
    const id = res.body.id as string;
    const stream = await readEvents(id);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    expect(stream.endedByServer).toBe(true);
    const statuses = stream.events.map((e) => e.status);
    expect(statuses[0]).toBe('queued');
    expect(statuses).toContain('running');
    expect(statuses.at(-1)).toBe('completed');
    // Each event is a change, in the lifecycle's order.
    const order = ['queued', 'running', 'delivering', 'completed'];
    expect(statuses.map((s) => order.indexOf(s))).toEqual([...statuses.map((s) => order.indexOf(s))].sort((x, y) => x - y));
    expect(stream.events.find((e) => e.status === 'running')).toMatchObject({ attempt: 1, host: stack.hostId });
    expect(stream.events.at(-1)).toMatchObject({ attempt: 1 });
    // 3 s of grading at a heartbeat every 300 ms.
    expect(stream.heartbeats).toBeGreaterThanOrEqual(3);
  });

  it('sends a finished submission its final state and closes', async () => {
    const s = await graded('events-done');
    const started = Date.now();
    const stream = await readEvents(s.id, { timeoutMs: 10_000 });
    expect(stream.endedByServer).toBe(true);
    expect(stream.events).toEqual([{ status: 'completed', attempt: 1, host: null, regrade_pending: false }]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('ends the server side when the client goes', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: workId('events-gone'), file: slow(5) });
    const id = res.body.id as string;
    const stream = await readEvents(id, { stopAfter: 1 });
    expect(stream.endedByServer).toBe(false);
    const deadline = Date.now() + 5000;
    while (stack.server.app.eventStreams.open > 0) {
      if (Date.now() > deadline) throw new Error(`${stack.server.app.eventStreams.open} streams still open after the client left`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await stack.waitFor(id, (b) => b.status === 'completed');
  });

  it('answers 404 in the API shape for an unknown submission', async () => {
    const res = await stack.request('GET', '/v1/submissions/00000000-0000-4000-8000-000000000000/events');
    expect(res.status).toBe(404);
    expect((res.body.error as Body).code).toBe('not_found');
  });
});

describe('cleanup', () => {
  it('leaves no container behind', async () => {
    expect(await leftoverContainers(stack.hostId)).toEqual([]);
  });
});
