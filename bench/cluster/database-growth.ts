import { readFileSync } from 'node:fs';
import pg from 'pg';

/**
 * What the cluster's PostgreSQL writes while gradings run: each database's size (gradeflow's `postgres`,
 * Temporal's `temporal` and `temporal_visibility`), the WAL it generated and the transactions it committed
 * (each commit waits for a WAL flush: the basis of an IOPS estimate). Read before and after; the
 * difference is divided by the gradings in between.
 */
export interface DatabaseSnapshot {
  sizes: Record<string, number>;
  walBytes: number;
  commits: number;
}

export interface DatabaseGrowth {
  /** Bytes per grading each database grew by (8 KiB pages: meaningful over many gradings). */
  bytesPerGrading: Record<string, number>;
  walBytesPerGrading: number;
  commitsPerGrading: number;
}

/** The postmaster's port, from its command line (`postgres -D … -p PORT …`). */
function postmasterPort(pid: number): number {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const port = Number(args[args.indexOf('-p') + 1]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no -p PORT on the command line of PostgreSQL (pid ${pid}): ${args.join(' ')}`);
  return port;
}

export async function snapshotDatabase(postmasterPid: number): Promise<DatabaseSnapshot> {
  const client = new pg.Client({ host: '127.0.0.1', port: postmasterPort(postmasterPid), user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    // Counters of other backends reach the statistics within about a second of their commit.
    await client.query('SELECT pg_stat_clear_snapshot()');
    const sizes = await client.query<{ datname: string; size: string }>(
      "SELECT datname, pg_database_size(datname)::text AS size FROM pg_database WHERE datname NOT IN ('template0', 'template1')",
    );
    const wal = await client.query<{ lsn: string }>("SELECT (pg_current_wal_lsn() - '0/0')::text AS lsn");
    const commits = await client.query<{ n: string }>('SELECT sum(xact_commit)::text AS n FROM pg_stat_database');
    return {
      sizes: Object.fromEntries(sizes.rows.map((r) => [r.datname, Number(r.size)])),
      walBytes: Number(wal.rows[0]!.lsn),
      commits: Number(commits.rows[0]!.n),
    };
  } finally {
    await client.end();
  }
}

export function growth(before: DatabaseSnapshot, after: DatabaseSnapshot, gradings: number): DatabaseGrowth {
  return {
    bytesPerGrading: Object.fromEntries(Object.entries(after.sizes).map(([db, size]) => [db, Math.round((size - (before.sizes[db] ?? 0)) / gradings)])),
    walBytesPerGrading: Math.round((after.walBytes - before.walBytes) / gradings),
    commitsPerGrading: Math.round(((after.commits - before.commits) / gradings) * 10) / 10,
  };
}
