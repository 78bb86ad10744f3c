import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { isDatabaseUnavailable } from './database-unavailable';

/** The little of SQL access gradeflow needs, served alike by embedded PGlite and a PostgreSQL server. */
export interface Db {
  readonly kind: 'pglite' | 'postgres';
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
  transaction<T>(fn: (tx: Omit<Db, 'transaction' | 'close'>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

async function openPglite(dataDir: string): Promise<Db> {
  const dir = path.join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const lite = await PGlite.create(dir);
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>) => ({
    kind: 'pglite' as const,
    query: async <T>(sql: string, params?: unknown[]) => (await q.query<T>(sql, params)).rows,
    exec: async (sql: string) => {
      await q.exec(sql);
    },
  });
  return {
    ...wrap(lite),
    transaction: (fn) => lite.transaction((tx) => fn(wrap(tx))),
    close: () => lite.close(),
  };
}

/** Connections to a PostgreSQL server when the caller names no number (tests, tools); the server passes `server.databasePoolSize`. */
const DEFAULT_POOL_SIZE = 10;

/**
 * A pool whose connections are opened before the first request and kept while idle: opening one costs
 * the server a process and the request that waits for it tens of milliseconds, and a burst of POSTs after
 * a quiet spell would otherwise pay that ten times over (measured: the first 32 of a burst at 150–250 ms).
 * A connection that breaks (a restart of the server) is opened again when next needed. Starts with those
 * that opened; fails only when none did.
 */
async function openPostgres(url: string, poolSize: number): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, min: poolSize });
  pool.on('error', () => undefined); // idle client errors surface on the next query instead
  const opened = await Promise.allSettled(Array.from({ length: poolSize }, () => pool.connect()));
  for (const o of opened) if (o.status === 'fulfilled') o.value.release();
  if (!opened.some((o) => o.status === 'fulfilled')) {
    await pool.end();
    throw (opened[0] as PromiseRejectedResult).reason; // server down, bad URL, refused login
  }
  const wrap = (q: pg.Pool | pg.PoolClient) => ({
    kind: 'postgres' as const,
    query: async <T>(sql: string, params?: unknown[]) => (await q.query(sql, params)).rows as T[],
    exec: async (sql: string) => {
      await q.query(sql);
    },
  });
  return {
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      // A checked-out connection that breaks between two queries (PostgreSQL restarting) emits 'error' on
      // the client, which the pool does not handle for it: without a listener the process dies. The next
      // query fails instead, and the broken connection is destroyed rather than given back to the pool.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const out = await fn(wrap(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (err instanceof Error && isDatabaseUnavailable(err)) broken ??= err;
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken ?? false);
      }
    },
    close: () => pool.end(),
  };
}

/**
 * A PostgreSQL server when a URL is given (a pool of `poolSize` connections, opened at start and kept),
 * otherwise PGlite persisted in `<dataDir>/pglite`.
 */
export async function openDb(opts: { databaseUrl?: string; dataDir: string; poolSize?: number }): Promise<Db> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.poolSize ?? DEFAULT_POOL_SIZE) : openPglite(opts.dataDir);
}
