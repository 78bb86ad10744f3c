import type { CallbackBody, GradeResult } from '../shared/types';
import { callbackBody } from '../shared/callback-body';
import type { Db } from './db';

/**
 * The results feed: every recorded result of a platform, in the order it became final, for platforms that
 * poll (`GET /v1/results`). Each result gets its place (`seq`, a bigserial) in the transaction that records
 * it. So that a poller never passes a place that a slower transaction fills in later, a platform's places
 * are handed out under a transaction-scoped advisory lock: a place is taken only after the previous one
 * of that platform has committed, so they become visible in order.
 */

/** Advisory lock space of the feed (the second key is the platform's hash). */
const FEED_LOCK = 7152027;

/** In the transaction that records an attempt's result, as its last statement: its place in the feed (once). */
export async function enterResultFeed(tx: Pick<Db, 'query'>, submissionId: string, attempt: number): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($2, hashtext(platform_id)) FROM submissions WHERE id = $1', [submissionId, FEED_LOCK]);
  await tx.query(
    `INSERT INTO result_feed (platform_id, submission_id, attempt)
     SELECT platform_id, id, $2 FROM submissions WHERE id = $1
     ON CONFLICT (submission_id, attempt) DO NOTHING`,
    [submissionId, attempt],
  );
}

export interface FeedItem {
  /** The place in the platform's feed (a decimal string: a bigint). */
  seq: string;
  submissionId: string;
  workId: string | null;
  attempt: number;
  recordedAt: Date;
  /** The body its callback gets (or got). */
  body: CallbackBody;
}

type Row = { seq: string; submission_id: string; work_id: string | null; attempt: number; recorded_at: Date; result: GradeResult; image: string };

export function createResultFeed(db: Db) {
  return {
    /** The platform's results after place `after` (exclusive; "0": from the first), oldest first, at most `limit`. */
    async after(platformId: string, after: string, limit: number): Promise<FeedItem[]> {
      const rows = await db.query<Row>(
        `SELECT f.seq::text AS seq, f.submission_id, s.work_id, f.attempt, f.recorded_at, a.result, COALESCE(a.image, s.image) AS image
         FROM result_feed f
           JOIN submissions s ON s.id = f.submission_id
           JOIN attempts a ON a.submission_id = f.submission_id AND a.attempt = f.attempt
         WHERE f.platform_id = $1 AND f.seq > $2::bigint
         ORDER BY f.seq LIMIT $3`,
        [platformId, after, limit],
      );
      return rows.map((r) => ({
        seq: r.seq,
        submissionId: r.submission_id,
        workId: r.work_id,
        attempt: r.attempt,
        recordedAt: r.recorded_at,
        body: callbackBody({ submissionId: r.submission_id, ...(r.work_id ? { workId: r.work_id } : {}) }, r.attempt, r.result, r.image),
      }));
    },
  };
}

export type ResultFeed = ReturnType<typeof createResultFeed>;
