import type { Db } from './db';

/** Where a delivery stands between its tries: how many were made, and when the next may be. */
export interface DeliveryState {
  tries: number;
  /** The earliest moment of the next try (the schedule's wait, or the receiver's Retry-After); null: at once. */
  nextTryAt: Date | null;
  status: string;
}

/** Statuses of a submission that count against its platform's `maxUnfinished` (`received` is shown as queued). */
const UNFINISHED = ['received', 'queued', 'running', 'delivering'];

/**
 * What the Standard Webhooks rules keep between tries (src/activities/callback/): each delivery's next
 * allowed try, the callback URLs a receiver unsubscribed with 410 Gone (per platform), and the count of a
 * platform's unfinished submissions that intake caps.
 */
export function createDeliveryRuleStore(db: Pick<Db, 'query'>) {
  return {
    async deliveryState(submissionId: string, attempt: number): Promise<DeliveryState | undefined> {
      const rows = await db.query<{ tries: number; next_try_at: Date | null; status: string }>(
        'SELECT tries, next_try_at, status FROM deliveries WHERE submission_id = $1 AND attempt = $2',
        [submissionId, attempt],
      );
      const r = rows[0];
      return r ? { tries: r.tries, nextTryAt: r.next_try_at, status: r.status } : undefined;
    },

    /** The earliest moment the delivery's next try may be made (after a failed try). */
    async setNextTryAt(submissionId: string, attempt: number, at: Date): Promise<void> {
      await db.query('UPDATE deliveries SET next_try_at = $3 WHERE submission_id = $1 AND attempt = $2', [submissionId, attempt, at]);
    },

    /** The receiver at `url` answered 410 Gone: no callback of this platform is sent there again. The first 410 stands. */
    async markCallbackGone(platformId: string, url: string, submissionId: string): Promise<void> {
      await db.query(
        `INSERT INTO callback_gone (platform_id, url, submission_id) VALUES ($1, $2, $3) ON CONFLICT (platform_id, url) DO NOTHING`,
        [platformId, url, submissionId],
      );
    },

    /** When the receiver at `url` answered this platform 410 Gone; undefined if it never did. */
    async callbackGoneAt(platformId: string, url: string): Promise<Date | undefined> {
      const rows = await db.query<{ gone_at: Date }>('SELECT gone_at FROM callback_gone WHERE platform_id = $1 AND url = $2', [platformId, url]);
      return rows[0]?.gone_at;
    },

    /** A delivery not attempted because its URL is gone: recorded as `gone`, with no try. */
    async recordDeliveryNotAttempted(submissionId: string, attempt: number, webhookId: string, error: string): Promise<void> {
      await db.query(
        `INSERT INTO deliveries (submission_id, attempt, webhook_id, status, tries, last_error)
         VALUES ($1, $2, $3, 'gone', 0, $4)
         ON CONFLICT (submission_id, attempt) DO UPDATE SET status = 'gone', last_error = EXCLUDED.last_error, updated_at = now()`,
        [submissionId, attempt, webhookId, error],
      );
    },

    /** This platform's submissions not yet over (stored, queued, running or delivering). */
    async countUnfinished(platformId: string): Promise<number> {
      const rows = await db.query<{ n: number | string }>('SELECT count(*) AS n FROM submissions WHERE platform_id = $1 AND status = ANY($2)', [
        platformId,
        UNFINISHED,
      ]);
      return Number(rows[0]?.n ?? 0);
    },

    /** The submission this platform stored with `workId`, if any (a repeat is answered even past the cap). */
    async hasWorkId(platformId: string, workId: string): Promise<boolean> {
      const rows = await db.query('SELECT 1 FROM submissions WHERE platform_id = $1 AND work_id = $2', [platformId, workId]);
      return rows.length > 0;
    },
  };
}
