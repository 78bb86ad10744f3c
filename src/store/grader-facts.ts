import type { GraderFacts, PreviousResult } from '../shared/grader-facts';
import type { Db } from './db';

/** At most this many earlier submissions are told (the most recent ones). */
const MAX_PREVIOUS = 200;

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();
const numberOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const parsed = (v: unknown): Record<string, unknown> | null => (typeof v === 'string' ? (JSON.parse(v) as Record<string, unknown>) : ((v as Record<string, unknown> | null) ?? null));

/** An earlier result as the grader is told it: the student's view (no output excerpts, exit code or error). */
function previousResult(result: Record<string, unknown>): PreviousResult {
  const keep = ['grade', 'max_grade', 'tests', 'feedback', 'stdout_visibility', 'execution_time', 'extra_data', 'leaderboard'] as const;
  return Object.fromEntries(keep.filter((k) => result[k] !== undefined).map((k) => [k, result[k]])) as PreviousResult;
}

/** The facts a grader is told, read from the database. */
export function createGraderFactsStore(db: Pick<Db, 'query'>) {
  return {
    /** Undefined when there is no such submission. */
    async factsFor(submissionId: string): Promise<GraderFacts | undefined> {
      const rows = await db.query<Record<string, unknown>>(
        'SELECT id, platform_id, assignment_id, student_id, course_id, created_at FROM submissions WHERE id = $1',
        [submissionId],
      );
      const s = rows[0];
      if (!s) return undefined;
      const assignmentId = (s.assignment_id as string | null) ?? null;
      const studentId = (s.student_id as string | null) ?? null;
      const previous =
        assignmentId !== null && studentId !== null
          ? await db.query<Record<string, unknown>>(
              `SELECT p.created_at, a.result FROM submissions p
                 LEFT JOIN LATERAL (SELECT result FROM attempts WHERE submission_id = p.id ORDER BY attempt DESC LIMIT 1) a ON true
               WHERE p.platform_id = $1 AND p.assignment_id = $2 AND p.student_id = $3 AND p.created_at < $4 AND p.id <> $5
               ORDER BY p.created_at DESC LIMIT ${MAX_PREVIOUS}`,
              [s.platform_id, assignmentId, studentId, s.created_at, submissionId],
            )
          : [];
      const assignment =
        assignmentId !== null
          ? (await db.query<{ settings: unknown }>('SELECT settings FROM assignments WHERE platform_id = $1 AND assignment_id = $2', [s.platform_id, assignmentId]))[0]
          : undefined;
      const settings = parsed(assignment?.settings) as { grading?: { maxGrade?: unknown } } | null;
      return {
        submission: { id: submissionId, createdAt: iso(s.created_at), assignmentId, studentId, courseId: (s.course_id as string | null) ?? null },
        assignment: settings ? { maxGrade: numberOrNull(settings.grading?.maxGrade) } : null,
        previous: previous.reverse().map((p) => {
          const result = parsed(p.result);
          return {
            createdAt: iso(p.created_at),
            grade: numberOrNull(result?.grade),
            maxGrade: numberOrNull(result?.max_grade),
            autograderError: result?.origin === 'infrastructure' || result?.origin === 'operator',
            result: result ? previousResult(result) : null,
          };
        }),
      };
    },
  };
}

export type GraderFactsStore = ReturnType<typeof createGraderFactsStore>;
