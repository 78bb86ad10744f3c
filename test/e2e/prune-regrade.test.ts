import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db';
import { createPruner } from '../../src/store/prune';
import { SCRIPT_RUNNER } from '../helpers/images';
import { b64file, startStack, type Stack } from '../helpers/stack';

/**
 * A pruned submission through the API of a running server on PostgreSQL: GET still shows its result
 * (without output excerpts); its regrade answers 409 submission_pruned; an assignment regrade counts it failed.
 */

let admin: Db;
let db: Db;
let stack: Stack;
const name = `gradeflow_${randomUUID().replace(/-/g, '')}`;

beforeAll(async () => {
  admin = await openDb({ databaseUrl: inject('postgresUrl'), dataDir: '' });
  await admin.exec(`CREATE DATABASE ${name}`);
  const databaseUrl = inject('postgresUrl').replace(/\/postgres$/, `/${name}`);
  stack = await startStack('prune-regrade', { databaseUrl });
  db = await openDb({ databaseUrl, dataDir: '', poolSize: 2 });
});

afterAll(async () => {
  await stack?.stop();
  await db?.close();
  await admin?.exec(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin?.close();
});

describe('a pruned submission', () => {
  it('keeps its result, refuses a regrade with 409, and fails in an assignment regrade', async () => {
    const assignment = `asg-prune-${process.pid}`;
    const res = await stack.post({ image: SCRIPT_RUNNER, assignment_id: assignment, file: b64file('grade.sh', 'echo \'{"success": true, "grade": 6}\'') });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    const done = await stack.waitFor(id, (b) => b.status === 'completed');
    expect(done.result).toHaveProperty('stdout');

    await db.query(`UPDATE submissions SET updated_at = now() - interval '40 days' WHERE id = $1`, [id]);
    expect((await createPruner(db).pruneBatch(new Date(Date.now() - 30 * 86_400_000), 100)).submissions).toBe(1);

    const after = await stack.get(id);
    expect(after.status).toBe(200);
    expect((after.body as any).result).toMatchObject({ success: true, grade: 6 });
    expect((after.body as any).result).not.toHaveProperty('stdout');
    expect((after.body as any).attempts[0]).toMatchObject({ success: true, grade: 6 });

    const rg = await stack.regrade(id);
    expect(rg.status).toBe(409);
    expect(rg.body).toMatchObject({ error: { code: 'submission_pruned' } });

    const bulk = await stack.request('POST', `/v1/assignments/${assignment}/regrade`, {});
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(202);
    const regradeId = bulk.body.regrade_id as string;
    let progress: Record<string, unknown> = {};
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      progress = (await stack.request('GET', `/v1/regrades/${encodeURIComponent(regradeId)}`)).body;
      if (progress.finished === true) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(progress).toMatchObject({ finished: true, total: 1, failed: 1, done: 0 });
    expect((await stack.get(id)).body).toMatchObject({ attempt: 1 });
  });
});
