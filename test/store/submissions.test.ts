import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db';
import { MIGRATIONS, migrate } from '../../src/store/migrations';
import { createSubmissionStore, type SubmissionStore } from '../../src/store/submissions';
import { newSubmission, STORE_BACKENDS } from '../helpers/store-backends';

describe.each(STORE_BACKENDS)('submission store on %s', (_name, open) => {
  let db: Db;
  let store: SubmissionStore;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ db, cleanup } = await open());
    expect(await migrate(db)).toEqual(MIGRATIONS.map((m) => m.id));
    expect(await migrate(db)).toEqual([]); // idempotent
    store = createSubmissionStore(db);
  });
  afterAll(async () => cleanup?.());

  it('stores a submission and its file, and finds it only for its platform', async () => {
    const s = newSubmission({ limits: { timeLimitSeconds: 5, memoryMb: 64 } });
    const { submission, created } = await store.create(s);
    expect(created).toBe(true);
    expect(submission).toMatchObject({ id: s.id, status: 'received', params: { A: '1' }, file: { size: 7 } });
    expect(submission.limits).toEqual({ timeLimitSeconds: 5, memoryMb: 64 });
    expect(await store.get('p1', s.id)).toMatchObject({ id: s.id });
    expect(await store.get('p2', s.id)).toBeUndefined();
    expect((await store.file(s.file.sha256))?.toString()).toBe('echo hi');
  });

  it('keeps one row per platform + work_id, even under concurrent inserts', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 8 }, () => store.create(newSubmission({ workId: 'w-race' }))).map((p) => p.catch((e: Error) => e)),
    );
    const ok = attempts.filter((a): a is Exclude<typeof a, Error> => !(a instanceof Error));
    expect(ok.filter((a) => a.created)).toHaveLength(1);
    expect(new Set(ok.map((a) => a.submission.id)).size).toBe(1);
    const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM submissions WHERE work_id = 'w-race'`);
    expect(rows[0]!.n).toBe(1);
  });

  it('lists submissions whose workflow start was never confirmed, until marked queued', async () => {
    const s = newSubmission();
    await store.create(s);
    await db.query(`UPDATE submissions SET created_at = now() - interval '1 minute' WHERE id = $1`, [s.id]);
    expect((await store.listReceived(5000, 1000)).map((r) => r.id)).toContain(s.id);
    await store.markQueued([s.id]);
    expect((await store.listReceived(5000, 1000)).map((r) => r.id)).not.toContain(s.id);
  });

  it('records attempts idempotently and lets only the latest attempt set the status', async () => {
    const s = newSubmission();
    await store.create(s);
    const result = { success: true, grade: 3, comments: [], tests: [] };
    const timings = { queuedAt: new Date().toISOString(), gradedAt: new Date().toISOString() };
    await store.recordAttempt(s.id, { attempt: 2, host: 'h', timings, result }, 'completed');
    await store.recordAttempt(s.id, { attempt: 2, host: 'h', timings, result }, 'completed');
    await store.recordAttempt(s.id, { attempt: 1, host: 'h', timings, result: { success: false, comments: [], tests: [] } }, 'delivering');
    const sub = await store.get('p1', s.id);
    expect(sub).toMatchObject({ attempts: 2, status: 'completed' });
    expect((await store.attempts(s.id)).map((a) => a.attempt)).toEqual([1, 2]);
  });

  it('counts delivery tries and marks the submission completed on success', async () => {
    const s = newSubmission();
    await store.create(s);
    const timings = { queuedAt: new Date().toISOString() };
    await store.recordAttempt(s.id, { attempt: 1, host: null, timings, result: { success: true, grade: 1, comments: [], tests: [] } }, 'delivering');
    await store.recordDeliveryTry(s.id, 1, 'msg_x', { delivered: false, error: 'ECONNREFUSED' });
    await store.recordDeliveryTry(s.id, 1, 'msg_x', { delivered: true, status: 200 });
    const [d] = await store.deliveries(s.id);
    expect(d).toMatchObject({ tries: 2, status: 'delivered', lastStatus: 200, webhookId: 'msg_x' });
    expect(d!.deliveredAt).toBeInstanceOf(Date);
    expect(await store.get('p1', s.id)).toMatchObject({ status: 'completed' });
  });

  it('keeps an infrastructure failure failed once delivered', async () => {
    const s = newSubmission();
    await store.create(s);
    const result = { success: false, reason: 'infrastructure_error' as const, origin: 'infrastructure' as const, comments: [], tests: [] };
    await store.recordAttempt(s.id, { attempt: 1, host: null, timings: { queuedAt: new Date().toISOString() }, result }, 'delivering');
    await store.recordDeliveryTry(s.id, 1, 'msg_y', { delivered: true, status: 204 });
    expect(await store.get('p1', s.id)).toMatchObject({ status: 'failed' });
  });

  it('once delivered, writes the status it is given (src/shared/status.ts decides it, not the SQL)', async () => {
    const s = newSubmission();
    await store.create(s);
    const result = { success: false, reason: 'infrastructure_error' as const, origin: 'infrastructure' as const, comments: [], tests: [] };
    await store.recordAttempt(s.id, { attempt: 1, host: null, timings: { queuedAt: new Date().toISOString() }, result }, 'delivering');
    await store.recordDeliveryTry(s.id, 1, 'msg_w', { delivered: true, status: 200 }, 'completed');
    expect(await store.get('p1', s.id)).toMatchObject({ status: 'completed' });
  });

  it('records a cancellation: the unfinished attempt, the pending delivery ended, the submission cancelled', async () => {
    const s = newSubmission();
    await store.create(s);
    const timings = { queuedAt: new Date().toISOString() };
    await store.recordAttempt(s.id, { attempt: 1, host: 'h', timings, result: { success: true, grade: 1, comments: [], tests: [] } }, 'delivering');
    await store.recordDeliveryTry(s.id, 1, 'msg_z', { delivered: false, error: 'ECONNREFUSED' });
    await store.recordCancellation(s.id, 1);
    expect((await store.deliveries(s.id))[0]).toMatchObject({ status: 'failed', lastError: 'cancelled by an operator' });
    expect(await store.get('p1', s.id)).toMatchObject({ status: 'cancelled', attempts: 1 });

    const cancelled = { success: false, reason: 'cancelled' as const, origin: 'operator' as const, comments: [], tests: [] };
    await store.recordCancellation(s.id, 2, { attempt: 2, host: 'h', timings, result: cancelled });
    await store.recordCancellation(s.id, 2, { attempt: 2, host: 'h', timings, result: cancelled }); // retried: same outcome
    expect((await store.attempts(s.id)).map((a) => a.result.reason ?? 'ok')).toEqual(['ok', 'cancelled']);
    expect(await store.get('p1', s.id)).toMatchObject({ status: 'cancelled', attempts: 2 });
  });
  it('allocates attempt numbers once per (workflow, run, slot), above every number used; a record never overwrites another run\'s', async () => {
    const { submission: s } = await store.create(newSubmission({ workId: 'alloc-1', courseId: 'cs101', priority: 2 }));
    expect(s.priority).toBe(2);
    const key = { submissionId: s.id, workflowId: s.workflowId, runId: 'run-a', slot: '1' };
    const first = await store.allocateAttempt(key);
    expect(first.attempt).toBe(1);
    expect(first.searchAttributes).toEqual(expect.arrayContaining([{ name: 'GradeflowPlatform', value: 'p1' }, { name: 'GradeflowCourse', value: 'cs101' }]));
    expect((await store.allocateAttempt(key)).attempt).toBe(1); // a retry or replay: the same number
    const timings = { queuedAt: new Date().toISOString() };
    const result = { success: true, grade: 1, comments: [], tests: [] };
    expect(await store.recordAttempt(s.id, { attempt: 1, host: 'h', timings, result }, 'completed', 'run-a')).toBe(true);
    expect(await store.recordAttempt(s.id, { attempt: 1, host: 'h', timings, result }, 'completed', 'run-a')).toBe(true); // idempotent
    // A reset run that kept number 1: refused, attempt 1 as run-a recorded it.
    const other = { success: false, comments: [], tests: [] };
    expect(await store.recordAttempt(s.id, { attempt: 1, host: 'h2', timings, result: other }, 'completed', 'run-b')).toBe(false);
    expect((await store.attempts(s.id)).map((a) => [a.attempt, a.host, a.result.success])).toEqual([[1, 'h', true]]);
    // Any other run (or slot) gets a number above all used: recorded, or only allocated.
    expect((await store.allocateAttempt({ ...key, runId: 'run-b' })).attempt).toBe(2);
    expect((await store.allocateAttempt({ ...key, runId: 'run-b', slot: '1/after-1' })).attempt).toBe(3);
    expect((await store.allocateAttempt({ ...key, runId: 'run-c', workflowId: 'started-by-hand' })).attempt).toBe(4);
    expect((await store.allocateAttempt({ ...key, runId: 'run-b' })).attempt).toBe(2);
  });
});
