import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db';
import { migrate } from '../../src/store/migrations';
import { createPruner } from '../../src/store/prune';
import { createSubmissionStore, type NewSubmission, type SubmissionStore } from '../../src/store/submissions';
import { STORE_BACKENDS } from '../helpers/store-backends';

/** Retention (`gradeflow prune`'s store part) on both backends: what it takes, what it keeps, and what it never touches. */

const DAY = 86_400_000;
const result = { success: true, grade: 7, comments: ['ok'], tests: [], stdout: { text: 'student output', bytes: 14, truncated: false }, stderr: { text: 'warn', bytes: 4, truncated: false } };

describe.each(STORE_BACKENDS)('prune on %s', (_name, open) => {
  let db: Db;
  let store: SubmissionStore;
  let cleanup: () => Promise<void>;
  const cutoff = () => new Date(Date.now() - 30 * DAY);

  beforeAll(async () => {
    ({ db, cleanup } = await open());
    await migrate(db);
    store = createSubmissionStore(db);
  });
  afterAll(async () => cleanup?.());

  /** A submission with its own file (or `content`'s), graded once, `status`, last changed `ageDays` ago. */
  async function graded(o: { ageDays: number; status?: 'completed' | 'failed' | 'cancelled' | 'delivering'; content?: string }): Promise<NewSubmission> {
    const content = Buffer.from(o.content ?? `echo ${randomUUID()}`);
    const id = randomUUID();
    const s: NewSubmission = {
      id,
      platformId: 'p1',
      workflowId: `submission/p1/${id}`,
      image: 'img:1',
      flavour: 'default',
      grading: { format: 'auto' },
      params: {},
      studentId: 'stu-1',
      file: { name: 'a.sh', sha256: createHash('sha256').update(content).digest('hex'), content },
    };
    await store.create(s);
    const at = new Date().toISOString();
    await store.recordAttempt(id, { attempt: 1, host: 'h', timings: { queuedAt: at, startedAt: at, gradedAt: at }, result }, o.status ?? 'completed');
    await db.query(`UPDATE submissions SET updated_at = now() - make_interval(days => $2) WHERE id = $1`, [id, o.ageDays]);
    return s;
  }

  const row = async (id: string) =>
    (await db.query<{ pruned_at: Date | null; status: string }>('SELECT pruned_at, status FROM submissions WHERE id = $1', [id]))[0]!;
  const pruneAll = async (limit = 500) => {
    const pruner = createPruner(db);
    const total = { submissions: 0, files: 0, excerpts: 0, batches: 0 };
    for (;;) {
      const b = await pruner.pruneBatch(cutoff(), limit);
      if (b.submissions === 0) return total;
      total.batches++;
      total.submissions += b.submissions;
      total.files += b.files;
      total.excerpts += b.excerpts;
    }
  };

  it('removes the file and output excerpts of old finished submissions, keeps results and grades; idempotent; in batches', async () => {
    const old = await Promise.all([graded({ ageDays: 40 }), graded({ ageDays: 31, status: 'failed' }), graded({ ageDays: 50, status: 'cancelled' })]);
    const recent = await graded({ ageDays: 10 });
    const unfinished = await graded({ ageDays: 40, status: 'delivering' });
    const total = await pruneAll(1);
    expect(total).toEqual({ submissions: 3, files: 3, excerpts: 3, batches: 3 });
    for (const s of old) {
      expect((await row(s.id)).pruned_at).toBeInstanceOf(Date);
      expect(await store.file(s.file.sha256)).toBeUndefined();
      const [a] = await store.attempts(s.id);
      expect(a!.result).toEqual({ success: true, grade: 7, comments: ['ok'], tests: [] });
      expect(await store.claimForRegrade(s.id)).toBe(false);
    }
    for (const s of [recent, unfinished]) {
      expect((await row(s.id)).pruned_at).toBeNull();
      expect((await store.file(s.file.sha256))?.toString()).toBe(s.file.content.toString());
      expect((await store.attempts(s.id))[0]!.result).toMatchObject({ stdout: { text: 'student output' } });
    }
    expect(await pruneAll()).toEqual({ submissions: 0, files: 0, excerpts: 0, batches: 0 });
  });

  it('never takes a submission whose regrade is running (an attempt allocated, not recorded) or was just asked for', async () => {
    const running = await graded({ ageDays: 40 });
    await store.allocateAttempt({ submissionId: running.id, workflowId: running.workflowId, runId: 'run-2', slot: '1' });
    const asked = await graded({ ageDays: 40 });
    expect(await store.claimForRegrade(asked.id)).toBe(true); // the API's and the assignment regrade's first step
    await pruneAll();
    expect((await row(running.id)).pruned_at).toBeNull();
    expect((await row(asked.id)).pruned_at).toBeNull();
    expect(await store.file(running.file.sha256)).toBeDefined();
  });

  it('keeps a file another unpruned submission names, and gives a pruned file its bytes back when they are submitted again', async () => {
    const shared = `echo shared ${randomUUID()}`;
    const a = await graded({ ageDays: 40, content: shared });
    const b = await graded({ ageDays: 5, content: shared });
    await pruneAll();
    expect((await row(a.id)).pruned_at).toBeInstanceOf(Date);
    expect((await store.file(b.file.sha256))?.toString()).toBe(shared);

    const alone = `echo alone ${randomUUID()}`;
    const c = await graded({ ageDays: 40, content: alone });
    await pruneAll();
    expect(await store.file(c.file.sha256)).toBeUndefined();
    const again = await graded({ ageDays: 0, content: alone });
    expect((await store.file(again.file.sha256))?.toString()).toBe(alone);
  });

  it('refuses a cutoff less than an hour ago', async () => {
    await expect(createPruner(db).pruneBatch(new Date(Date.now() - 60_000), 10)).rejects.toThrow(/at least an hour/);
  });
});
