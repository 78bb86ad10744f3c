import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type AppDeps } from '../../src/api/app';
import { loadConfig } from '../../src/config/load';
import { freePort } from '../../src/setup/free-port';
import { startPostgres, type TempPostgres } from '../../src/setup/postgres';
import { createAssignmentStore } from '../../src/store/assignments';
import { isDatabaseUnavailable } from '../../src/store/database-unavailable';
import { openDb, type Db } from '../../src/store/db';
import { migrate } from '../../src/store/migrations';
import { createGitHookStore } from '../../src/store/git-hooks';
import { createGraderFactsStore } from '../../src/store/grader-facts';
import { createSubmissionSearch } from '../../src/store/submission-search';
import { createSubmissionStore } from '../../src/store/submissions';

/**
 * A PostgreSQL server that stops and comes back (a restart, a failover): the errors the pool then raises
 * read as "unavailable", and the API answers them 503 with Retry-After (never a 500); once it is back the
 * same pool serves again.
 */
describe('PostgreSQL restarting under the API', () => {
  const key = 'pg-restart-key-0123456789';
  let dir: string;
  let port: number;
  let pg: TempPostgres;
  let db: Db;
  let app: FastifyInstance;
  const enqueued: string[] = [];
  const post = (workId: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/submissions',
      headers: { authorization: `Bearer ${key}` },
      payload: { image: 'gradeflow/example-sum:2', work_id: workId, file: { name: 'sum.sh', content_base64: Buffer.from('echo 3').toString('base64') } },
    });
  const start = async () => {
    pg = await startPostgres({ dir: path.join(dir, 'pg'), port, noFsync: true });
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-pg-restart-'));
    chmodSync(dir, 0o755);
    port = await freePort();
    await start();
    db = await openDb({ databaseUrl: pg.url, dataDir: '', poolSize: 2 });
    await migrate(db);
    const config = loadConfig({}, { platforms: [{ id: 't', apiKeys: [key], callbackSecret: 'whsec_dGVzdHRlc3R0ZXN0dGVzdA==', images: ['gradeflow/example-*'] }] } as never);
    const store = createSubmissionStore(db);
    app = await buildApp({
      config,
      store,
      assignments: createAssignmentStore(db),
      workflows: { progress: async () => undefined } as unknown as AppDeps['workflows'],
      owned: {} as AppDeps['owned'],
      starter: { enqueue: (sub: { id: string }) => void enqueued.push(sub.id) } as unknown as AppDeps['starter'],
      search: createSubmissionSearch(db),
      regrades: {} as AppDeps['regrades'],
      actions: {} as AppDeps['actions'],
      results: {} as AppDeps['results'],
      graderFacts: createGraderFactsStore(db),
      gitHooks: createGitHookStore(db),
      health: { database: () => store.ping() },
      logger: false,
    });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await db?.close().catch(() => undefined);
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a query in flight when the server stops fails as unavailable; so does the next one, while it is down', async () => {
    const inFlight = db.query('SELECT pg_sleep(30)').then(() => undefined, (err: unknown) => err);
    await new Promise((r) => setTimeout(r, 300));
    await pg.stop();
    const err = await inFlight;
    expect(err).toBeInstanceOf(Error);
    expect(isDatabaseUnavailable(err), String(err)).toBe(true);
    const next = await db.query('SELECT 1').then(() => undefined, (e: unknown) => e);
    expect(isDatabaseUnavailable(next), String(next)).toBe(true);
  }, 60_000);

  it('meanwhile POST, GET and /healthz answer 503 (POST and GET with Retry-After), never 500', async () => {
    const res = await post('while-down');
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.json()).toEqual({ error: { code: 'database_unavailable', message: expect.stringContaining('send the request again') } });
    const get = await app.inject({ method: 'GET', url: '/v1/submissions/00000000-0000-4000-8000-000000000000', headers: { authorization: `Bearer ${key}` } });
    expect(get.statusCode).toBe(503);
    expect(get.headers['retry-after']).toBe('2');
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(503);
    expect(enqueued).toEqual([]);
  });

  it('once it is back, the same pool serves: the POST is accepted, its repeat answers the stored one', async () => {
    await start();
    const res = await post('while-down');
    expect(res.statusCode).toBe(202);
    const again = await post('while-down');
    expect(again.statusCode).toBe(200); // a repeat: the stored one
    expect(again.json<{ id: string }>().id).toBe(res.json<{ id: string }>().id);
    expect((await db.query<{ n: string }>("SELECT count(*) AS n FROM submissions WHERE work_id = 'while-down'"))[0]!.n).toBe('1');
  }, 60_000);

  it('a query the server refuses, or any other error, is not "unavailable"', async () => {
    const err = await db.query('SELEC 1').then(() => undefined, (e: unknown) => e);
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });
});
