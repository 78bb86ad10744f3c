import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db';
import { migrate } from '../../src/store/migrations';
import { createSubmissionStore, type SubmissionStore } from '../../src/store/submissions';

/** `gradeflow prune` (the built CLI) on a PostgreSQL database: progress, summary, idempotence, refusals. */

const BIN = path.resolve(__dirname, '../../bin/gradeflow.js');
const run = promisify(execFile);

let admin: Db;
let db: Db;
let url: string;
let store: SubmissionStore;
const name = `gradeflow_${randomUUID().replace(/-/g, '')}`;

beforeAll(async () => {
  admin = await openDb({ databaseUrl: inject('postgresUrl'), dataDir: '' });
  await admin.exec(`CREATE DATABASE ${name}`);
  url = inject('postgresUrl').replace(/\/postgres$/, `/${name}`);
  db = await openDb({ databaseUrl: url, dataDir: '' });
  await migrate(db);
  store = createSubmissionStore(db);
});

afterAll(async () => {
  await db?.close();
  await admin?.exec(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin?.close();
});

async function submission(ageDays: number): Promise<string> {
  const content = Buffer.from(`echo ${randomUUID()}`);
  const id = randomUUID();
  await store.create({
    id,
    platformId: 'p1',
    workflowId: `submission/p1/${id}`,
    image: 'img:1',
    flavour: 'default',
    grading: { format: 'auto' },
    params: {},
    file: { name: 'a.sh', sha256: createHash('sha256').update(content).digest('hex'), content },
  });
  const at = new Date().toISOString();
  const result = { success: false, comments: [], tests: [], reason: 'crashed' as const, origin: 'student' as const, stdout: { text: 'out', bytes: 3, truncated: false } };
  await store.recordAttempt(id, { attempt: 1, host: 'h', timings: { queuedAt: at, startedAt: at, gradedAt: at }, result }, 'completed');
  await db.query(`UPDATE submissions SET updated_at = now() - make_interval(days => $2) WHERE id = $1`, [id, ageDays]);
  return id;
}

const prune = (...args: string[]) =>
  run(process.execPath, [BIN, 'prune', ...args], { env: { PATH: process.env.PATH, DATABASE_URL: url, GRADEFLOW_DATA_DIR: '/nonexistent' } });

describe('gradeflow prune', () => {
  it('prunes in batches with progress on stderr and a summary on stdout; a second run prunes nothing', async () => {
    const old = await Promise.all([submission(40), submission(35), submission(60)]);
    const kept = await submission(3);
    const first = await prune('--older-than', '30d', '--batch', '2');
    expect(first.stderr).toMatch(/submissions finished before .*, 2 at a time/);
    expect(first.stderr).toMatch(/2 submissions so far \(this batch: 2, 2 files/);
    expect(first.stderr).toMatch(/3 submissions so far \(this batch: 1, 1 files/);
    expect(first.stdout).toMatch(/^pruned 3 submissions: 3 files removed \(0\.0 MiB\), output excerpts of 3 attempts; results and grades kept\n$/);
    for (const id of old) expect((await store.attempts(id))[0]!.result).toEqual({ success: false, comments: [], tests: [], reason: 'crashed', origin: 'student' });
    expect((await store.attempts(kept))[0]!.result).toHaveProperty('stdout');
    const again = await prune('--older-than', '30d');
    expect(again.stdout).toMatch(/^pruned 0 submissions/);
    // The default: retention.filesDays (365) days: the 60-day-old one is already pruned, nothing else is that old.
    expect((await prune()).stdout).toMatch(/^pruned 0 submissions/);
  });

  it('refuses a retention under an hour and a malformed duration, naming the option', async () => {
    await expect(prune('--older-than', '30m')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/--older-than must be at least 1h/) });
    await expect(prune('--older-than', 'soon')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/--older-than "soon" is not a duration/) });
    await expect(prune('--batch', '0')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/--batch must be/) });
  });
});
