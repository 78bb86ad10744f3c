import type { GradeResult } from '../shared/types';
import type { Db } from './db';

/** A result sent again on request (`POST /v1/submissions/{id}/redeliver`): its own delivery, with its own webhook id. */
export interface RedeliveryRecord {
  /** 1, 2, … per submission. */
  n: number;
  /** The attempt whose result it sends. */
  attempt: number;
  webhookId: string;
  status: 'pending' | 'delivered' | 'failed';
  tries: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  requestedAt: Date;
}

type Row = Record<string, unknown>;

const UNIQUE_VIOLATION = '23505';

/**
 * Redeliveries, kept apart from the attempts' own deliveries: a redelivery never changes an attempt, its
 * delivery or the submission's status; it is one more message with the same body.
 */
export function createRedeliveryStore(db: Db) {
  return {
    /** The latest graded result (a cancellation's unfinished attempt is not one), or undefined. */
    /** The latest graded attempt's result, and the image that graded it (rows from before attempts kept it: the submission's). */
    async latestResult(submissionId: string): Promise<{ attempt: number; result: GradeResult; image: string } | undefined> {
      const rows = await db.query<{ attempt: number; result: GradeResult; image: string }>(
        `SELECT a.attempt, a.result, COALESCE(a.image, s.image) AS image
         FROM attempts a JOIN submissions s ON s.id = a.submission_id
         WHERE a.submission_id = $1 AND a.graded_at IS NOT NULL ORDER BY a.attempt DESC LIMIT 1`,
        [submissionId],
      );
      return rows[0];
    },

    /** A new redelivery of `attempt`'s result, numbered after the submission's earlier ones; `webhookId(n)` names its message. */
    async createRedelivery(submissionId: string, attempt: number, webhookId: (n: number) => string): Promise<{ n: number; webhookId: string }> {
      for (let tries = 0; ; tries++) {
        const [{ next }] = (await db.query<{ next: number }>(
          'SELECT COALESCE(MAX(n), 0) + 1 AS next FROM redeliveries WHERE submission_id = $1',
          [submissionId],
        )) as [{ next: number }];
        const id = webhookId(next);
        try {
          await db.query(
            `INSERT INTO redeliveries (submission_id, n, attempt, webhook_id, status) VALUES ($1, $2, $3, $4, 'pending')`,
            [submissionId, next, attempt, id],
          );
          return { n: next, webhookId: id };
        } catch (err) {
          // Two requests at once took the same number: the later one takes the next.
          if ((err as { code?: string }).code !== UNIQUE_VIOLATION || tries >= 5) throw err;
        }
      }
    },

    /** One try of a redelivery: delivered, or still pending with why. */
    /** One try of it; resolves with its number (1 for the first), which the retry rules count by. */
    async recordRedeliveryTry(submissionId: string, n: number, outcome: { delivered: boolean; status?: number; error?: string }): Promise<number> {
      const rows = await db.query<{ tries: number }>(
        `UPDATE redeliveries SET tries = tries + 1, status = CASE WHEN $3 THEN 'delivered' ELSE status END,
           last_status = $4, last_error = $5, delivered_at = COALESCE(delivered_at, CASE WHEN $3 THEN now() END), updated_at = now()
         WHERE submission_id = $1 AND n = $2 RETURNING tries`,
        [submissionId, n, outcome.delivered, outcome.status ?? null, outcome.error ?? null],
      );
      return rows[0]?.tries ?? 1;
    },

    /** Its retries ended without the receiver accepting it. */
    async recordRedeliveryGaveUp(submissionId: string, n: number, error: string): Promise<void> {
      await db.query(
        `UPDATE redeliveries SET status = 'failed', last_error = $3, updated_at = now() WHERE submission_id = $1 AND n = $2 AND status = 'pending'`,
        [submissionId, n, error],
      );
    },

    async redeliveries(submissionId: string): Promise<RedeliveryRecord[]> {
      const rows = await db.query<Row>('SELECT * FROM redeliveries WHERE submission_id = $1 ORDER BY n', [submissionId]);
      return rows.map((r) => ({
        n: r.n as number,
        attempt: r.attempt as number,
        webhookId: r.webhook_id as string,
        status: r.status as RedeliveryRecord['status'],
        tries: r.tries as number,
        lastStatus: r.last_status as number | null,
        lastError: r.last_error as string | null,
        deliveredAt: (r.delivered_at as Date | null) ?? null,
        requestedAt: r.created_at as Date,
      }));
    },
  };
}
