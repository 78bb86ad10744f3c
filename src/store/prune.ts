import type { Db } from './db';

/**
 * Retention (`gradeflow prune`): the stored file and the output excerpts (`stdout`, `stderr` of each
 * attempt's result) of submissions finished before a cutoff are removed; the submission, its attempts'
 * results and grades, and its deliveries stay. A pruned submission is marked (`pruned_at`) and cannot be
 * regraded (`claimForRegrade` answers false: the API says 409, an assignment regrade counts it failed).
 *
 * Safe while servers run, batch by batch, each batch one transaction:
 * - only finished submissions (`completed`, `failed`, `cancelled`) last changed before the cutoff, with no
 *   attempt allocated and not yet recorded (a regrade that is running); rows locked elsewhere are skipped;
 * - a regrade asked for touches `updated_at` first (`claimForRegrade`), so it is after the cutoff: the
 *   cutoff is at least an hour ago, far more than a regrade takes from being asked to allocating its attempt;
 * - a file (content-addressed, shared by equal submissions) loses its bytes only when no unpruned
 *   submission names it; its row is locked first, and intake's upsert locks it too, so a submission of
 *   the same bytes either commits first (and is seen) or waits and puts the bytes back.
 * Idempotent: a pruned submission is not taken again.
 */

export interface PruneBatch {
  submissions: number;
  /** Attempts whose result lost its output excerpts. */
  excerpts: number;
  /** Files whose bytes were removed, and how many bytes. */
  files: number;
  bytes: number;
}

/** The shortest retention `prune` accepts: a regrade asked for is never raced (see above). */
export const MIN_RETENTION_MS = 60 * 60 * 1000;

export function createPruner(db: Db) {
  return {
    /** Prune at most `limit` submissions finished before `cutoff`; a batch of 0 submissions means done. */
    async pruneBatch(cutoff: Date, limit: number): Promise<PruneBatch> {
      if (Date.now() - cutoff.getTime() < MIN_RETENTION_MS) throw new Error('the cutoff must be at least an hour ago');
      return db.transaction(async (tx) => {
        const taken = await tx.query<{ id: string; file_sha256: string }>(
          `SELECT s.id, s.file_sha256 FROM submissions s
           WHERE s.pruned_at IS NULL AND s.status IN ('completed', 'failed', 'cancelled') AND s.updated_at < $1
             AND NOT EXISTS (SELECT 1 FROM attempt_allocations a WHERE a.submission_id = s.id AND a.attempt > s.attempts)
           ORDER BY s.updated_at
           LIMIT $2
           FOR UPDATE OF s SKIP LOCKED`,
          [cutoff.toISOString(), limit],
        );
        if (taken.length === 0) return { submissions: 0, excerpts: 0, files: 0, bytes: 0 };
        const ids = taken.map((t) => t.id);
        await tx.query('UPDATE submissions SET pruned_at = now() WHERE id = ANY($1::uuid[])', [ids]);
        const excerpts = await tx.query(
          `UPDATE attempts SET result = result - 'stdout' - 'stderr'
           WHERE submission_id = ANY($1::uuid[]) AND (result ? 'stdout' OR result ? 'stderr')
           RETURNING attempt`,
          [ids],
        );
        const digests = [...new Set(taken.map((t) => t.file_sha256))].sort();
        // Lock the files first; the next statement then sees every submission committed meanwhile.
        await tx.query('SELECT sha256 FROM files WHERE sha256 = ANY($1::text[]) AND content IS NOT NULL ORDER BY sha256 FOR UPDATE', [digests]);
        const files = await tx.query<{ size: number }>(
          `UPDATE files f SET content = NULL
           WHERE f.sha256 = ANY($1::text[]) AND f.content IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.file_sha256 = f.sha256 AND s.pruned_at IS NULL)
           RETURNING f.size`,
          [digests],
        );
        return {
          submissions: ids.length,
          excerpts: excerpts.length,
          files: files.length,
          bytes: files.reduce((n, f) => n + Number(f.size), 0),
        };
      });
    },
  };
}
