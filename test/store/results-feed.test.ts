import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db';
import { migrate } from '../../src/store/migrations';
import { createResultFeed, enterResultFeed, type ResultFeed } from '../../src/store/results-feed';
import { createSubmissionStore, type SubmissionStore } from '../../src/store/submissions';

/**
 * The results feed on a real PostgreSQL server with a pool (concurrent transactions; embedded PGlite runs
 * one at a time): a result recorded by a slow transaction is never skipped by a poller that reads while a
 * faster one commits, and each platform sees only its own results.
 */
describe('results feed on a PostgreSQL server', () => {
  let admin: Db;
  let db: Db;
  let name: string;
  let store: SubmissionStore;
  let feed: ResultFeed;

  beforeAll(async () => {
    admin = await openDb({ databaseUrl: inject('postgresUrl'), dataDir: '' });
    name = `gradeflow_${randomUUID().replace(/-/g, '')}`;
    await admin.exec(`CREATE DATABASE ${name}`);
    db = await openDb({ databaseUrl: inject('postgresUrl').replace(/\/postgres$/, `/${name}`), dataDir: '', poolSize: 4 });
    await migrate(db);
    store = createSubmissionStore(db);
    feed = createResultFeed(db);
  });
  afterAll(async () => {
    await db?.close();
    await admin?.exec(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin?.close();
  });

  async function submission(platformId = 'p1', workId?: string): Promise<string> {
    const id = randomUUID();
    await store.create({
      id,
      platformId,
      ...(workId ? { workId } : {}),
      workflowId: `submission/${platformId}/id/${id}`,
      image: 'img:1',
      flavour: 'default',
      grading: { format: 'auto' },
      params: {},
      file: { name: 'a.sh', sha256: 'b'.repeat(64), content: Buffer.from('echo hi') },
    });
    return id;
  }

  const timings = { queuedAt: new Date().toISOString(), gradedAt: new Date().toISOString() };
  const result = (grade: number) => ({ success: true, grade, comments: [], tests: [] });

  it('a poller reading while a faster transaction commits does not skip the slower one: places follow commits', async () => {
    const slowId = await submission();
    const fastId = await submission();
    const before = (await feed.after('p1', '0', 1000)).at(-1)?.seq ?? '0';
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // The slow transaction records its result and takes its place, then waits before committing.
    const slow = db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO attempts (submission_id, attempt, host, queued_at, graded_at, result) VALUES ($1, 1, 'h', now(), now(), $2)`,
        [slowId, JSON.stringify(result(1))],
      );
      await enterResultFeed(tx, slowId, 1);
      await held;
    });
    await new Promise((r) => setTimeout(r, 200));
    const fast = store.recordAttempt(fastId, { attempt: 1, host: 'h', timings, result: result(2) }, 'completed');
    await new Promise((r) => setTimeout(r, 500));
    // Neither is visible yet: the fast one waits for the slow one's place to commit.
    expect(await feed.after('p1', before, 10)).toEqual([]);
    release();
    await slow;
    expect(await fast).toBe(true);
    const page = await feed.after('p1', before, 10);
    expect(page.map((i) => [i.submissionId, i.attempt])).toEqual([
      [slowId, 1],
      [fastId, 1],
    ]);
    expect(BigInt(page[1]!.seq)).toBeGreaterThan(BigInt(page[0]!.seq));
  });

  it('many results recorded at once: a poller in small pages sees each once, in place order; another platform none of them', async () => {
    const before = (await feed.after('p1', '0', 1000)).at(-1)?.seq ?? '0';
    const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => submission('p1', `w-${i}-${randomUUID()}`)));
    const others = await Promise.all(Array.from({ length: 5 }, () => submission('p2')));
    const seen: string[] = [];
    let cursor = before;
    let recording = true;
    const poller = (async () => {
      while (recording || seen.length < ids.length * 2) {
        const page = await feed.after('p1', cursor, 3);
        seen.push(...page.map((i) => `${i.submissionId}/${i.attempt}`));
        cursor = page.at(-1)?.seq ?? cursor;
        if (page.length === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await Promise.all(
      [...ids, ...others].flatMap((id) => [
        store.recordAttempt(id, { attempt: 1, host: 'h', timings, result: result(1) }, 'completed'),
        store.recordAttempt(id, { attempt: 2, host: 'h', timings, result: result(2) }, 'completed'),
      ]),
    );
    recording = false;
    await poller;
    expect(new Set(seen).size).toBe(seen.length);
    const all = (await feed.after('p1', before, 1000)).map((i) => `${i.submissionId}/${i.attempt}`);
    expect(seen).toEqual(all);
    expect(all).toHaveLength(ids.length * 2);
    expect(all.filter((k) => others.some((o) => k.startsWith(o)))).toEqual([]);
    // A retried record of the same attempt keeps its one place.
    await store.recordAttempt(ids[0]!, { attempt: 1, host: 'h', timings, result: result(1) }, 'completed');
    expect(await feed.after('p1', cursor, 10)).toEqual([]);
    // The item carries the callback body.
    const first = (await feed.after('p1', before, 1))[0]!;
    expect(first.body).toMatchObject({ submission_id: first.submissionId, attempt: first.attempt, success: true });
  });
});
