import type { Db } from './db';

/** Which submissions of the assignment a regrade takes: each student's latest, or every one. */
export type RegradeScope = 'latest' | 'all';

/** An assignment regrade as requested: what it takes, and with which image. */
export interface RegradeRecord {
  platformId: string;
  assignmentId: string;
  /** 1, 2, … per assignment: the `<n>` of its workflow id. */
  seq: number;
  scope: RegradeScope;
  /** Only these students' submissions (kept here, never in the workflow's input or search attributes). */
  studentIds: string[] | null;
  /** The image to regrade with (pinned as at intake), or null for each submission's own. */
  image: string | null;
  reason: string | null;
  /** Submissions stored after this are not taken (they are graded anyway). */
  createdAt: Date;
}

/** One submission to regrade: its id and how many attempts it had when the page was read. */
export interface RegradeTarget {
  submissionId: string;
  attempts: number;
}

/** A regraded submission's newest recorded attempt after `afterAttempt`, with the grade before it. */
export interface RegradeOutcome {
  submissionId: string;
  attempt: number;
  grade: number | null;
  previousGrade: number | null;
  /** The submission had an attempt before the regrade (a first grading has no grade to change). */
  hadPrevious: boolean;
  success: boolean;
  origin: string | null;
}

type Row = Record<string, unknown>;

const toRecord = (r: Row): RegradeRecord => ({
  platformId: r.platform_id as string,
  assignmentId: r.assignment_id as string,
  seq: r.seq as number,
  scope: r.scope as RegradeScope,
  studentIds: (r.student_ids as string[] | null) ?? null,
  image: (r.image as string | null) ?? null,
  reason: (r.reason as string | null) ?? null,
  createdAt: r.created_at as Date,
});

const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number(v));

/** Assignment regrades and the submissions they take, read in pages by id (ids only travel into workflows). */
export function createRegradeStore(db: Db) {
  /** The submissions a regrade takes, as SQL over `submissions`, with its parameters from $1. */
  const targets = (r: RegradeRecord) => {
    const params: unknown[] = [r.platformId, r.assignmentId, r.createdAt];
    let where = 'platform_id = $1 AND assignment_id = $2 AND created_at <= $3';
    if (r.studentIds) {
      params.push(r.studentIds);
      where += ` AND student_id = ANY($${params.length}::text[])`;
    }
    const sql =
      r.scope === 'all'
        ? `SELECT id, attempts FROM submissions WHERE ${where}`
        : // Each student's newest; a submission without a student id stands alone.
          `SELECT DISTINCT ON (COALESCE(student_id, id::text)) id, attempts FROM submissions WHERE ${where}
           ORDER BY COALESCE(student_id, id::text), created_at DESC, id DESC`;
    return { sql, params };
  };

  return {
    /** Record a new regrade of the assignment with the next number (1 for the first). */
    async create(r: Omit<RegradeRecord, 'seq' | 'createdAt'>): Promise<RegradeRecord> {
      return db.transaction(async (tx) => {
        // Serialize numbering per assignment (two servers asking at once get 1 and 2).
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`regrade:${r.platformId}:${r.assignmentId}`]);
        const rows = await tx.query<Row>(
          `INSERT INTO regrades (platform_id, assignment_id, seq, scope, student_ids, image, reason)
           SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6 FROM regrades WHERE platform_id = $1 AND assignment_id = $2
           RETURNING *`,
          [r.platformId, r.assignmentId, r.scope, r.studentIds ? JSON.stringify(r.studentIds) : null, r.image, r.reason],
        );
        return toRecord(rows[0]!);
      });
    },

    async get(platformId: string, assignmentId: string, seq: number): Promise<RegradeRecord | undefined> {
      const rows = await db.query<Row>('SELECT * FROM regrades WHERE platform_id = $1 AND assignment_id = $2 AND seq = $3', [
        platformId,
        assignmentId,
        seq,
      ]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    /** How many submissions the regrade takes. */
    async countTargets(r: RegradeRecord): Promise<number> {
      const { sql, params } = targets(r);
      const rows = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM (${sql}) t`, params);
      return Number(rows[0]?.n ?? 0);
    },

    /** The next page of its submissions, by id, after `afterId` (none: from the start). */
    async pageTargets(r: RegradeRecord, afterId: string | null, limit: number): Promise<RegradeTarget[]> {
      const { sql, params } = targets(r);
      params.push(afterId, limit);
      const rows = await db.query<Row>(
        `SELECT id, attempts FROM (${sql}) t WHERE ($${params.length - 1}::uuid IS NULL OR id > $${params.length - 1}::uuid)
         ORDER BY id LIMIT $${params.length}`,
        params,
      );
      return rows.map((row) => ({ submissionId: row.id as string, attempts: row.attempts as number }));
    },

    /** For each (submission, attempts before its regrade): its newest attempt recorded since, if any. */
    async outcomes(items: ReadonlyArray<{ submissionId: string; afterAttempt: number }>): Promise<RegradeOutcome[]> {
      if (items.length === 0) return [];
      const rows = await db.query<Row>(
        `SELECT DISTINCT ON (t.id) t.id, a.attempt, a.result->>'grade' AS grade, (a.result->>'success')::boolean AS success,
           a.result->>'origin' AS origin, p.result->>'grade' AS previous_grade, p.attempt IS NOT NULL AS had_previous
         FROM unnest($1::uuid[], $2::int[]) AS t(id, after)
         JOIN attempts a ON a.submission_id = t.id AND a.attempt > t.after
         LEFT JOIN attempts p ON p.submission_id = t.id AND p.attempt = t.after
         ORDER BY t.id, a.attempt DESC`,
        [items.map((i) => i.submissionId), items.map((i) => i.afterAttempt)],
      );
      return rows.map((row) => ({
        submissionId: row.id as string,
        attempt: row.attempt as number,
        grade: num(row.grade),
        previousGrade: num(row.previous_grade),
        hadPrevious: row.had_previous === true,
        success: row.success === true,
        origin: (row.origin as string | null) ?? null,
      }));
    },
  };
}

export type RegradeStore = ReturnType<typeof createRegradeStore>;
