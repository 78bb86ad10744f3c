import { ConfigError, loadConfig } from '../config/load';
import { openDb } from '../store/db';
import { migrate } from '../store/migrations';
import { MIN_RETENTION_MS, createPruner, type PruneBatch } from '../store/prune';

/** `gradeflow prune`: remove stored files and output excerpts of submissions finished long ago (src/store/prune.ts). */

export interface PruneCliOptions {
  /** e.g. `30d`, `12h`, `2w`; default `retention.filesDays` days. */
  olderThan?: string;
  /** Submissions per transaction. */
  batch: string;
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `2w` (a number and one unit) as milliseconds; NaN for anything else. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([mhdw])$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : Number.NaN;
}

/** The retention as milliseconds, from `--older-than` or the configuration; at least an hour. */
function retentionMs(olderThan: string | undefined, filesDays: number): number {
  const value = olderThan === undefined ? filesDays * 86_400_000 : parseDuration(olderThan);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError(`--older-than "${olderThan}" is not a duration (a number and m, h, d or w: 30d, 12h)`);
  }
  if (value < MIN_RETENTION_MS) {
    throw new ConfigError(`--older-than must be at least 1h (a regrade asked for meanwhile is then never raced), got "${olderThan}"`);
  }
  return value;
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

export async function runPrune(opts: PruneCliOptions): Promise<void> {
  const config = loadConfig();
  const olderMs = retentionMs(opts.olderThan, config.retention.filesDays);
  const limit = Number(opts.batch);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new ConfigError(`--batch must be an integer from 1 to 10000, got "${opts.batch}"`);
  const cutoff = new Date(Date.now() - olderMs);
  const db = await openDb({ dataDir: config.dataDir, poolSize: 2, ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}) });
  try {
    await migrate(db);
    const pruner = createPruner(db);
    const total: PruneBatch = { submissions: 0, excerpts: 0, files: 0, bytes: 0 };
    process.stderr.write(`gradeflow prune: submissions finished before ${cutoff.toISOString()}, ${limit} at a time\n`);
    for (;;) {
      const b = await pruner.pruneBatch(cutoff, limit);
      if (b.submissions === 0) break;
      total.submissions += b.submissions;
      total.excerpts += b.excerpts;
      total.files += b.files;
      total.bytes += b.bytes;
      process.stderr.write(`  ${total.submissions} submissions so far (this batch: ${b.submissions}, ${b.files} files, ${mib(b.bytes)})\n`);
    }
    process.stdout.write(
      `pruned ${total.submissions} submissions: ${total.files} files removed (${mib(total.bytes)}), output excerpts of ${total.excerpts} attempts; results and grades kept\n`,
    );
  } finally {
    await db.close();
  }
}
