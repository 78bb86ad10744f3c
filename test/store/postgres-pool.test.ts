import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { openDb, type Db } from '../../src/store/db';
import { freePort } from '../../src/setup/free-port';

/** The server's connections to PostgreSQL: opened at start, kept, replaced when one breaks. */
describe('PostgreSQL connection pool', () => {
  let admin: Db;
  let db: Db;
  const name = `gradeflow_${randomUUID().replace(/-/g, '')}`;
  const backendsOf = async (): Promise<number[]> =>
    (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 ORDER BY pid', [name])).map((r) => r.pid);

  beforeAll(async () => {
    admin = await openDb({ databaseUrl: inject('postgresUrl'), dataDir: '' });
    await admin.exec(`CREATE DATABASE ${name}`);
    db = await openDb({ databaseUrl: inject('postgresUrl').replace(/\/postgres$/, `/${name}`), dataDir: '' });
  });
  afterAll(async () => {
    await db?.close();
    await admin?.exec(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin?.close();
  });

  it('has all ten connections open before the first query', async () => {
    expect(await backendsOf()).toHaveLength(10);
  });

  it('replaces connections that the server ends, and keeps answering', async () => {
    const before = await backendsOf();
    const ended = before.slice(0, 3);
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [ended]);
    await vi.waitFor(
      async () => {
        const now = await backendsOf();
        expect(now.filter((pid) => ended.includes(pid))).toEqual([]);
        expect(now).toHaveLength(10);
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('refuses to open, with the reason, when no connection can be made', async () => {
    const port = await freePort();
    await expect(openDb({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, dataDir: '' })).rejects.toThrow(/ECONNREFUSED/);
  });
});
