import { STATUS_CANCELLED, STATUS_STARTED, STATUS_UNDELIVERED, statusOnDelivered } from '../shared/status';
import type { AttemptTimings, FailureReason, GradeResult, GradingSettings, ResourceLimits, SubmissionStatus } from '../shared/types';
import { createAttemptNumbers } from './attempt-numbers';
import type { Db } from './db';
import { createRedeliveryStore } from './redeliveries';
import { enterResultFeed } from './results-feed';
import { createDeliveryRuleStore } from './delivery-rules';

export interface NewSubmission {
  id: string;
  platformId: string;
  workId?: string;
  workflowId: string;
  image: string;
  flavour: string;
  callbackUrl?: string;
  params: Record<string, string>;
  assignmentId?: string;
  studentId?: string;
  courseId?: string;
  /** Tighter limits than the flavour's, asked for by the platform. */
  limits?: Partial<ResourceLimits>;
  grading: GradingSettings;
  /** 1 (urgent) … 5; absent: 3. */
  priority?: number;
  file: { name: string; sha256: string; content: Buffer };
}

/** Started and not yet over: what the stall watch looks at (migration 4 indexes exactly these). */
export const UNFINISHED_STATUSES: readonly SubmissionStatus[] = ['queued', 'running', 'delivering'];

export interface Submission {
  id: string;
  platformId: string;
  workId: string | null;
  workflowId: string;
  image: string;
  flavour: string;
  callbackUrl: string | null;
  params: Record<string, string>;
  assignmentId: string | null;
  studentId: string | null;
  courseId: string | null;
  limits: Partial<ResourceLimits>;
  /** How its output is read, fixed at intake (a regrade reads it the same way). */
  grading: GradingSettings;
  /** 1 (urgent) … 5: its place in a busy grading queue (src/control/task-priority.ts). */
  priority: number;
  /** The stored file, by digest (its bytes: `file(sha256)`). */
  file: { name: string; sha256: string; size: number };
  status: SubmissionStatus;
  attempts: number;
  createdAt: Date;
  updatedAt: Date;
  /** Why it is not progressing, as the stall watch or a start found (shown while it is unfinished); null when nothing is known. */
  problem: string | null;
}

export interface AttemptRecord {
  attempt: number;
  host: string | null;
  /** The image that graded it (absent: recorded before images were kept per attempt, or the submission's own). */
  image?: string | null;
  timings: AttemptTimings;
  result: GradeResult;
}

export interface DeliveryRecord {
  attempt: number;
  webhookId: string;
  /** `gone`: the receiver answered 410 Gone, or had before to this platform (not attempted). */
  status: 'pending' | 'delivered' | 'failed' | 'superseded' | 'gone';
  tries: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
}

type Row = Record<string, unknown>;

export function toSubmission(r: Row): Submission {
  return {
    id: r.id as string,
    platformId: r.platform_id as string,
    workId: r.work_id as string | null,
    workflowId: r.workflow_id as string,
    image: r.image as string,
    flavour: r.flavour as string,
    callbackUrl: r.callback_url as string | null,
    params: r.params as Record<string, string>,
    assignmentId: r.assignment_id as string | null,
    studentId: r.student_id as string | null,
    courseId: r.course_id as string | null,
    limits: (r.limits ?? {}) as Partial<ResourceLimits>,
    grading: (r.grading ?? { format: 'auto' }) as GradingSettings,
    priority: (r.priority as number | undefined) ?? 3,
    file: { name: r.file_name as string, sha256: r.file_sha256 as string, size: r.file_size as number },
    status: r.status as SubmissionStatus,
    attempts: r.attempts as number,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
    problem: (r.problem as string | null | undefined) ?? null,
  };
}

const iso = (d: unknown): string | undefined => (d instanceof Date ? d.toISOString() : undefined);

/** The record of truth: submissions, their files, attempts and deliveries, kept long after Temporal forgets. */
export function createSubmissionStore(db: Db) {
  return {
    /**
     * Store a new submission with its file, or find the one this platform already sent with the same
     * work_id. Exactly one row per (platform, work_id), whatever the races.
     */
    async create(s: NewSubmission): Promise<{ submission: Submission; created: boolean }> {
      // One statement, one round trip: the file (content-addressed) and the row. The foreign key is
      // checked at the end of the statement, after the file's insert. A file whose bytes were pruned gets
      // them back; the conflict locks the file's row either way, so a prune waits (src/store/prune.ts).
      const inserted = await db.query<Row>(
        `WITH file AS (
           INSERT INTO files (sha256, content, size) VALUES ($13, $16, $14)
           ON CONFLICT (sha256) DO UPDATE SET content = EXCLUDED.content WHERE files.content IS NULL
         )
         INSERT INTO submissions (id, platform_id, work_id, workflow_id, image, flavour, callback_url, params,
           assignment_id, student_id, course_id, file_name, file_sha256, file_size, limits, grading, priority, status)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$17,$18,'received')
         ON CONFLICT (platform_id, work_id) DO NOTHING
         RETURNING *`,
        [
          s.id, s.platformId, s.workId ?? null, s.workflowId, s.image, s.flavour, s.callbackUrl ?? null,
          JSON.stringify(s.params), s.assignmentId ?? null, s.studentId ?? null, s.courseId ?? null,
          s.file.name, s.file.sha256, s.file.content.length, JSON.stringify(s.limits ?? {}), s.file.content,
          JSON.stringify(s.grading), s.priority ?? 3,
        ],
      );
      if (inserted[0]) return { submission: toSubmission(inserted[0]), created: true };
      // The same platform + work_id exists (ON CONFLICT waited for it to commit): that one is the answer.
      const existing = await db.query<Row>('SELECT * FROM submissions WHERE platform_id = $1 AND work_id = $2', [s.platformId, s.workId]);
      return { submission: toSubmission(existing[0]!), created: false };
    },

    async get(platformId: string, id: string): Promise<Submission | undefined> {
      const rows = await db.query<Row>('SELECT * FROM submissions WHERE id = $1 AND platform_id = $2', [id, platformId]);
      return rows[0] ? toSubmission(rows[0]) : undefined;
    },

    /** Submissions stored `olderThanMs` ago or more whose workflow start was never confirmed (e.g. the server died in between); the oldest `limit`. */
    async listReceived(olderThanMs: number, limit: number): Promise<Submission[]> {
      const rows = await db.query<Row>(
        `SELECT * FROM submissions WHERE status = 'received' AND created_at < now() - ($1::text || ' milliseconds')::interval
         ORDER BY created_at LIMIT $2`,
        [String(olderThanMs), limit],
      );
      return rows.map(toSubmission);
    },

    /** Started but unfinished submissions unchanged for `olderThanMs`, the longest-unchanged first. */
    async listUnfinished(olderThanMs: number, limit: number): Promise<Submission[]> {
      const rows = await db.query<Row>(
        `SELECT * FROM submissions WHERE status IN (${UNFINISHED_STATUSES.map((s) => `'${s}'`).join(', ')})
           AND updated_at < now() - ($1::text || ' milliseconds')::interval
         ORDER BY updated_at LIMIT $2`,
        [String(olderThanMs), limit],
      );
      return rows.map(toSubmission);
    },

    /** Their workflows are started: no longer for the reconcile. One statement for many. */
    async markQueued(ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      await db.query(`UPDATE submissions SET status = $2, updated_at = now() WHERE id = ANY($1::uuid[]) AND status = 'received'`, [ids, STATUS_STARTED]);
    },

    /**
     * Give a submission another workflow id, when its stored one turned out to be another submission's.
     * Idempotent and safe with several servers: whoever comes second finds it already moved to `to`.
     * Undefined when the row has neither id (it was moved elsewhere).
     */
    async moveWorkflowId(id: string, from: string, to: string): Promise<Submission | undefined> {
      const rows = await db.query<Row>(
        `UPDATE submissions SET workflow_id = $3, problem = NULL, updated_at = now()
         WHERE id = $1 AND workflow_id IN ($2, $3) RETURNING *`,
        [id, from, to],
      );
      return rows[0] ? toSubmission(rows[0]) : undefined;
    },

    /** Grade it with another image from now on (a regrade with a new image). */
    async setImage(id: string, image: string): Promise<void> {
      await db.query('UPDATE submissions SET image = $2, updated_at = now() WHERE id = $1', [id, image]);
    },

    /**
     * Before a regrade is asked for: false when the submission was pruned (its file is gone: it cannot be
     * graded again). Otherwise its `updated_at` is now, so a prune running meanwhile passes it over (it
     * takes only submissions finished before its cutoff, at least an hour ago: src/store/prune.ts).
     */
    async claimForRegrade(id: string): Promise<boolean> {
      const rows = await db.query('UPDATE submissions SET updated_at = now() WHERE id = $1 AND pruned_at IS NULL RETURNING id', [id]);
      return rows.length > 0;
    },

    /** Note (or clear, with null) why a submission is not progressing; `GET` shows it while it is unfinished. */
    async noteProblem(id: string, problem: string | null): Promise<void> {
      await db.query('UPDATE submissions SET problem = $2 WHERE id = $1 AND problem IS DISTINCT FROM $2', [id, problem]);
    },

    async file(sha256: string): Promise<Buffer | undefined> {
      const rows = await db.query<{ content: Uint8Array | null }>('SELECT content FROM files WHERE sha256 = $1', [sha256]);
      return rows[0]?.content ? Buffer.from(rows[0].content) : undefined;
    },

    /**
     * Idempotent: a retried activity writes the same row again. `runId`: the workflow run recording it; a
     * row another run recorded is never overwritten (answers false, nothing written). Without `runId`
     * (callers from before it existed) the row is written as before. `onFirstRecord` is called, after the
     * commit, only when this call inserted the row (not when it rewrote it): metrics count each attempt once.
     */
    async recordAttempt(
      submissionId: string,
      a: AttemptRecord,
      status: SubmissionStatus,
      runId?: string,
      onFirstRecord?: (s: { platformId: string; flavour: string }) => void,
    ): Promise<boolean> {
      const recorded = await db.transaction(async (tx) => {
        const written = await tx.query<{ inserted: boolean }>(
          `INSERT INTO attempts (submission_id, attempt, host, queued_at, started_at, graded_at, result, run_id, image)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
           ON CONFLICT (submission_id, attempt) DO UPDATE SET host = EXCLUDED.host, queued_at = EXCLUDED.queued_at,
             started_at = EXCLUDED.started_at, graded_at = EXCLUDED.graded_at, result = EXCLUDED.result, image = EXCLUDED.image
           WHERE $8::text IS NULL OR attempts.run_id = $8::text
           RETURNING attempt, (xmax = 0) AS inserted`,
          [
            submissionId, a.attempt, a.host, a.timings.queuedAt, a.timings.startedAt ?? null,
            a.timings.gradedAt ?? null, JSON.stringify(a.result), runId ?? null, a.image ?? null,
          ],
        );
        if (written.length === 0) return undefined;
        const sub = await tx.query<{ platform_id: string; flavour: string }>(
          `UPDATE submissions SET attempts = GREATEST(attempts, $2),
             status = CASE WHEN attempts <= $2 THEN $3 ELSE status END, updated_at = now()
           WHERE id = $1 RETURNING platform_id, flavour`,
          [submissionId, a.attempt, status],
        );
        // Last, so that the feed's lock is held briefly: the result's place in GET /v1/results.
        await enterResultFeed(tx, submissionId, a.attempt);
        return { inserted: written[0]!.inserted, submission: sub[0] };
      });
      if (!recorded) return false;
      if (recorded.inserted && recorded.submission) {
        onFirstRecord?.({ platformId: recorded.submission.platform_id, flavour: recorded.submission.flavour });
      }
      return true;
    },

    /**
     * Its attempts, oldest first. An attempt's `deliveredAt` is its delivery's: the first try (recorded with
     * the result) and the retries (the delivery activity) both write the delivery row, never the attempt's.
     */
    async attempts(submissionId: string): Promise<AttemptRecord[]> {
      const rows = await db.query<Row>(
        `SELECT a.*, d.delivered_at FROM attempts a
           LEFT JOIN deliveries d ON d.submission_id = a.submission_id AND d.attempt = a.attempt
         WHERE a.submission_id = $1 ORDER BY a.attempt`,
        [submissionId],
      );
      return rows.map((r) => ({
        attempt: r.attempt as number,
        host: r.host as string | null,
        image: (r.image as string | null | undefined) ?? null,
        timings: {
          queuedAt: iso(r.queued_at) ?? '',
          ...(iso(r.started_at) ? { startedAt: iso(r.started_at) } : {}),
          ...(iso(r.graded_at) ? { gradedAt: iso(r.graded_at) } : {}),
          ...(iso(r.delivered_at) ? { deliveredAt: iso(r.delivered_at) } : {}),
        },
        result: r.result as GradeResult,
      }));
    },

    /**
     * Count one try of a delivery; `outcome` says how it ended. Once delivered, the submission (if this is
     * its latest attempt) takes `statusIfDelivered`, as src/shared/status.ts computed it; without it (callers
     * from before it existed) the same rule is applied to the recorded attempt's reason.
     */
    async recordDeliveryTry(
      submissionId: string,
      attempt: number,
      webhookId: string,
      outcome: { delivered: boolean; status?: number; error?: string; gone?: boolean },
      statusIfDelivered?: SubmissionStatus,
    ): Promise<number> {
      return db.transaction(async (tx) => {
        const counted = await tx.query<{ tries: number }>(
          `INSERT INTO deliveries (submission_id, attempt, webhook_id, status, tries, last_status, last_error, delivered_at)
           VALUES ($1,$2,$3,$4,1,$5,$6, CASE WHEN $4 = 'delivered' THEN now() END)
           ON CONFLICT (submission_id, attempt) DO UPDATE SET tries = deliveries.tries + 1, status = EXCLUDED.status,
             last_status = EXCLUDED.last_status, last_error = EXCLUDED.last_error,
             delivered_at = COALESCE(deliveries.delivered_at, EXCLUDED.delivered_at), updated_at = now()
           RETURNING tries`,
          [submissionId, attempt, webhookId, outcome.delivered ? 'delivered' : outcome.gone ? 'gone' : 'pending', outcome.status ?? null, outcome.error ?? null],
        );
        if (outcome.delivered) {
          let status = statusIfDelivered;
          if (status === undefined) {
            const rows = await tx.query<{ reason: FailureReason | null }>(
              `SELECT result->>'reason' AS reason FROM attempts WHERE submission_id = $1 AND attempt = $2`,
              [submissionId, attempt],
            );
            status = statusOnDelivered(rows[0]?.reason ?? undefined);
          }
          await tx.query(`UPDATE submissions SET updated_at = now(), status = $3 WHERE id = $1 AND attempts = $2`, [submissionId, attempt, status]);
        }
        // Which try of this delivery this was (1: the first), for the retry schedule.
        return counted[0]?.tries ?? 1;
      });
    },

    /**
     * A delivery that ended without reaching the receiver: it gave up (the delivery `failed`, the submission,
     * if this is its latest attempt, `status`: src/shared/status.ts), or a newer attempt's result superseded
     * it (the delivery `superseded`, the submission as it is).
     */
    async recordDeliveryGaveUp(
      submissionId: string,
      attempt: number,
      superseded: boolean,
      error: string,
      status: SubmissionStatus = STATUS_UNDELIVERED,
    ): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO deliveries (submission_id, attempt, webhook_id, status, last_error)
           VALUES ($1, $2, '', $3, $4)
           ON CONFLICT (submission_id, attempt) DO UPDATE SET
             status = CASE WHEN deliveries.status = 'gone' AND EXCLUDED.status = 'failed' THEN 'gone' ELSE EXCLUDED.status END,
             last_error = CASE WHEN deliveries.status = 'gone' AND EXCLUDED.status = 'failed' THEN deliveries.last_error ELSE EXCLUDED.last_error END,
             updated_at = now()`,
          [submissionId, attempt, superseded ? 'superseded' : 'failed', error],
        );
        if (!superseded) {
          await tx.query(`UPDATE submissions SET status = $3, updated_at = now() WHERE id = $1 AND attempts = $2`, [submissionId, attempt, status]);
        }
      });
    },

    /**
     * An operator cancelled the submission's run: keep the unfinished attempt's result (if given and not
     * already recorded), end a pending delivery of that attempt, and mark the submission cancelled.
     */
    async recordCancellation(submissionId: string, attempt: number, unfinished?: AttemptRecord): Promise<void> {
      await db.transaction(async (tx) => {
        if (unfinished) {
          await tx.query(
            `INSERT INTO attempts (submission_id, attempt, host, queued_at, started_at, graded_at, result)
             VALUES ($1,$2,$3,$4,$5,NULL,$6) ON CONFLICT (submission_id, attempt) DO NOTHING`,
            [submissionId, attempt, unfinished.host, unfinished.timings.queuedAt, unfinished.timings.startedAt ?? null, JSON.stringify(unfinished.result)],
          );
        }
        await tx.query(
          `UPDATE deliveries SET status = 'failed', last_error = 'cancelled by an operator', updated_at = now()
           WHERE submission_id = $1 AND attempt = $2 AND status = 'pending'`,
          [submissionId, attempt],
        );
        await tx.query(
          `UPDATE submissions SET attempts = GREATEST(attempts, $2), status = $3, updated_at = now()
           WHERE id = $1 AND attempts <= $2`,
          [submissionId, attempt, STATUS_CANCELLED],
        );
      });
    },

    async deliveries(submissionId: string): Promise<DeliveryRecord[]> {
      const rows = await db.query<Row>('SELECT * FROM deliveries WHERE submission_id = $1 ORDER BY attempt', [submissionId]);
      return rows.map((r) => ({
        attempt: r.attempt as number,
        webhookId: r.webhook_id as string,
        status: r.status as DeliveryRecord['status'],
        tries: r.tries as number,
        lastStatus: r.last_status as number | null,
        lastError: r.last_error as string | null,
        deliveredAt: (r.delivered_at as Date | null) ?? null,
      }));
    },

    /** Results sent again on request, each its own delivery (./redeliveries.ts). */
    ...createRedeliveryStore(db),

    /** An attempt number for a run's grading, never one used before (./attempt-numbers.ts). */
    allocateAttempt: createAttemptNumbers(db).allocate,

    // Webhook rules' state: next try, URLs gone, unfinished count (./delivery-rules.ts).
    ...createDeliveryRuleStore(db),

    /** Cheap liveness probe for /healthz. */
    async ping(): Promise<void> {
      await db.query('SELECT 1');
    },
  };
}

export type SubmissionStore = ReturnType<typeof createSubmissionStore>;
