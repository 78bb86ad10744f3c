import { describe, expect, it } from 'vitest';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack } from '../helpers/hooks';
import { startReceiver } from '../helpers/receiver';
import { b64file, leftoverContainers } from '../helpers/stack';

const stack = useStack('regrade');
const receiver = useReceiver(stack);

const quick = b64file('grade.sh', 'echo \'{"success": true, "grade": 4}\'');
const slow = b64file('grade.sh', 'sleep 3; echo \'{"success": true, "grade": 5}\'');

describe('regrade', () => {
  it('regrades a long-finished submission: a second callback with attempt 2', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: 'rg-after', callback: receiver.url(), file: quick });
    const id = res.body.id as string;
    await receiver.waitForOne((c) => c.body.work_id === 'rg-after' && c.body.attempt === 1);
    await stack.waitFor(id, (b) => b.status === 'completed');

    const rg = await stack.regrade(id);
    expect(rg.status).toBe(202);
    const second = await receiver.waitForOne((c) => c.body.work_id === 'rg-after' && c.body.attempt === 2);
    expect(second.verified).toBe(true);
    expect(second.body).toMatchObject({ success: true, grade: 4, submission_id: id });
    expect(second.headers['webhook-id']).toBe(`msg_${id}_2`);
    const done = await stack.waitFor(id, (b) => b.status === 'completed' && b.attempts.length === 2);
    expect(done.attempt).toBe(2);
  });

  it('regrades while grading: attempt 1 and attempt 2 are both delivered, in order', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: 'rg-during', callback: receiver.url(), file: slow });
    const id = res.body.id as string;
    await stack.waitFor(id, (b) => b.status === 'running');
    expect((await stack.regrade(id)).status).toBe(202);
    await receiver.waitForOne((c) => c.body.work_id === 'rg-during' && c.body.attempt === 2);
    const mine = receiver.accepted().filter((c) => c.body.work_id === 'rg-during').map((c) => c.body.attempt);
    expect(mine).toEqual([1, 2]);
    await stack.waitFor(id, (b) => b.status === 'completed' && b.attempt === 2);
  });

  it('answers 404 for a regrade of an unknown submission', async () => {
    const res = await stack.regrade('00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
  });
});

describe('delivery', () => {
  it('retries a receiver that is down, then up, under one webhook-id', async () => {
    const flaky = await startReceiver(stack.secret);
    const url = flaky.url('/flaky');
    await flaky.down();
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: 'down-up', callback: url, file: quick });
    const id = res.body.id as string;
    // Wait until at least two tries failed (connection refused), then bring the receiver back.
    await stack.waitFor(id, (b) => (b.attempts[0]?.delivery?.tries ?? 0) >= 2, 30_000);
    const before = await stack.get(id);
    expect((before.body as any).attempts[0].delivery).toMatchObject({ status: 'pending' });
    expect((before.body as any).attempts[0].delivery.last_error).toMatch(/ECONNREFUSED/);
    await flaky.up();
    flaky.failNext(1); // one 503 first
    const cb = await flaky.waitForOne((c) => c.answeredStatus === 204);
    expect(cb.verified).toBe(true);
    const ids = new Set(flaky.received.map((c) => c.headers['webhook-id']));
    expect([...ids]).toEqual([`msg_${id}_1`]);
    const done = await stack.waitFor(id, (b) => b.status === 'completed');
    expect(done.attempts[0].delivery).toMatchObject({ status: 'delivered', last_status: 204 });
    expect(done.attempts[0].delivery.tries).toBeGreaterThanOrEqual(4);
    await flaky.close();
  });

  it('stops at a receiver that answers 410 Gone: one try, the delivery recorded as failed', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: `gone-${Date.now()}`, callback: receiver.url('/gone'), file: quick });
    const id = res.body.id as string;
    const done = await stack.waitFor(id, (b) => b.status === 'failed' || b.status === 'completed', 30_000);
    expect(done.status).toBe('failed');
    expect(done.result).toMatchObject({ success: true, grade: 4 });
    expect(done.attempts[0].delivery).toMatchObject({ tries: 1, last_status: 410 });
    expect(done.attempts[0].delivery.status).not.toBe('pending');
    // Retries would come after initialIntervalMs (200 ms here): wait well past several of them.
    await new Promise((r) => setTimeout(r, 2000));
    expect(receiver.received.filter((c) => c.body.submission_id === id)).toHaveLength(1);
  });

  it('keeps the result for GET when there is no callback', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, file: quick });
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    expect(done.result).toMatchObject({ success: true, grade: 4 });
    expect(done.attempts[0].delivery).toBeNull();
  });

  it('leaves no container behind', async () => {
    expect(await leftoverContainers(stack.hostId)).toEqual([]);
  });
});
