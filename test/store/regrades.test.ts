import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db';
import { migrate } from '../../src/store/migrations';
import { createRegradeStore, type RegradeStore } from '../../src/store/regrades';
import { createSubmissionSearch, type SubmissionSearch } from '../../src/store/submission-search';
import { createSubmissionStore, type SubmissionStore } from '../../src/store/submissions';
import { newSubmission, STORE_BACKENDS } from '../helpers/store-backends';

describe.each(STORE_BACKENDS)('regrades and submission search on %s', (_name, open) => {
  let db: Db;
  let store: SubmissionStore;
  let regrades: RegradeStore;
  let search: SubmissionSearch;
  let cleanup: () => Promise<void>;
  /** Assignment hw: s1 three times, s2 once, one without a student; hw2: s1 once. Ids in creation order. */
  const made: Array<{ id: string; student?: string; assignment: string }> = [];

  beforeAll(async () => {
    ({ db, cleanup } = await open());
    await migrate(db);
    store = createSubmissionStore(db);
    regrades = createRegradeStore(db);
    search = createSubmissionSearch(db);
    const plan = [
      { student: 's1', assignment: 'hw' },
      { student: 's1', assignment: 'hw' },
      { student: 's2', assignment: 'hw' },
      { assignment: 'hw' },
      { student: 's1', assignment: 'hw' },
      { student: 's1', assignment: 'hw2' },
    ];
    for (const p of plan) {
      const sub = newSubmission({
        params: {},
        assignmentId: p.assignment,
        ...(p.student ? { studentId: p.student } : {}),
        file: { name: 'a.sh', sha256: 'b'.repeat(64), content: Buffer.from('x') },
      });
      const id = sub.id;
      await store.create({ ...sub, workflowId: `submission/p1/id/${id}` });
      made.push({ id, ...p });
    }
    // Two rows created in the same microsecond: the page order breaks the tie by id.
    await db.query(`UPDATE submissions SET created_at = (SELECT created_at FROM submissions WHERE id = $1) WHERE id = $2`, [made[2]!.id, made[3]!.id]);
  });
  afterAll(async () => cleanup?.());

  it('numbers regrades per assignment and takes the latest per student, all, or the listed students', async () => {
    const r1 = await regrades.create({ platformId: 'p1', assignmentId: 'hw', scope: 'latest', studentIds: null, image: null, reason: null });
    const r2 = await regrades.create({ platformId: 'p1', assignmentId: 'hw', scope: 'all', studentIds: ['s1'], image: 'img:2', reason: 'x' });
    const other = await regrades.create({ platformId: 'p1', assignmentId: 'hw2', scope: 'all', studentIds: null, image: null, reason: null });
    expect([r1.seq, r2.seq, other.seq]).toEqual([1, 2, 1]);
    expect(await regrades.get('p1', 'hw', 2)).toMatchObject({ scope: 'all', studentIds: ['s1'], image: 'img:2' });
    // latest: s1's newest (made[4]), s2's, and the one without a student.
    expect(await regrades.countTargets(r1)).toBe(3);
    const first = await regrades.pageTargets(r1, null, 2);
    const second = await regrades.pageTargets(r1, first.at(-1)!.submissionId, 2);
    const latest = [...first, ...second].map((t) => t.submissionId);
    expect(latest.sort()).toEqual([made[4]!.id, made[2]!.id, made[3]!.id].sort());
    expect(second).toHaveLength(1);
    expect(await regrades.countTargets(r2)).toBe(3);
    expect((await regrades.pageTargets(r2, null, 10)).map((t) => t.submissionId).sort()).toEqual([made[0]!.id, made[1]!.id, made[4]!.id].sort());
  });

  it('reads the outcome of a regrade: the newest attempt after the one it started from, with the grade before', async () => {
    const id = made[0]!.id;
    const result = (grade: number) => ({ success: true, grade, reason: undefined } as never);
    const timings = { queuedAt: new Date().toISOString() };
    await store.recordAttempt(id, { attempt: 1, host: 'h', timings, result: result(3), image: 'img:1' }, 'completed');
    expect(await regrades.outcomes([{ submissionId: id, afterAttempt: 1 }])).toEqual([]);
    await store.recordAttempt(id, { attempt: 2, host: 'h', timings, result: result(5), image: 'img:2' }, 'completed');
    expect(await regrades.outcomes([{ submissionId: id, afterAttempt: 1 }, { submissionId: made[1]!.id, afterAttempt: 0 }])).toEqual([
      { submissionId: id, attempt: 2, grade: 5, previousGrade: 3, hadPrevious: true, success: true, origin: null },
    ]);
    // A first grading: nothing before it, so no grade to change.
    expect(await regrades.outcomes([{ submissionId: id, afterAttempt: 0 }])).toMatchObject([{ attempt: 2, previousGrade: null, hadPrevious: false }]);
    expect((await store.attempts(id)).map((a) => a.image)).toEqual(['img:1', 'img:2']);
  });

  it('lists a platform\'s submissions newest first, in pages that neither skip nor repeat', async () => {
    const seen: string[] = [];
    let cursor;
    for (let i = 0; i < 10; i++) {
      const page = await search.list('p1', { assignmentId: 'hw' }, 2, cursor);
      seen.push(...page.items.map((s) => s.id));
      if (!page.next) break;
      cursor = page.next;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expect(seen[0]).toBe(made[4]!.id);
    expect(seen.at(-1)).toBe(made[0]!.id);
    const s1 = await search.list('p1', { studentId: 's1', statuses: ['completed'] }, 10);
    expect(s1.items.map((s) => s.id)).toEqual([made[0]!.id]);
    expect((await search.list('p2', {}, 10)).items).toEqual([]);
    expect((await search.list('p1', { since: new Date(Date.now() + 60_000) }, 10)).items).toEqual([]);
  });
});
