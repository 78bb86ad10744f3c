import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db';
import { freePort } from '../../src/setup/free-port';

/** The server's connections to PostgreSQL: opened before the first request and kept. */
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

  it('keeps them while idle, past the usual 10 s idle timeout', async () => {
    await new Promise((r) => setTimeout(r, 11_000));
    expect(await backendsOf()).toHaveLength(10);
  });

  it('refuses to open, with the reason, when no connection can be made', async () => {
    const port = await freePort();
    await expect(openDb({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, dataDir: '' })).rejects.toThrow(/ECONNREFUSED/);
  });
});
