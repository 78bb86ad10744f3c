import type { SubmissionStatus } from '../shared/types';
import type { Db } from './db';
import { toSubmission, type Submission } from './submissions';

/** What a platform may filter its submissions by (every one optional, combined with AND). */
export interface SubmissionFilter {
  assignmentId?: string;
  studentId?: string;
  courseId?: string;
  /** Stored statuses (a public status may stand for several). */
  statuses?: readonly SubmissionStatus[];
  /** Created at or after. */
  since?: Date;
}

/** Where a page ends: the last row's creation time (as the database spells it, to the microsecond) and id. */
export interface SearchCursor {
  createdAt: string;
  id: string;
}

/** A platform's submissions, newest first, in pages (keyset: stable while new ones arrive). */
export function createSubmissionSearch(db: Db) {
  return {
    async list(platformId: string, filter: SubmissionFilter, limit: number, after?: SearchCursor): Promise<{ items: Submission[]; next?: SearchCursor }> {
      const params: unknown[] = [platformId];
      const where = ['platform_id = $1'];
      const add = (clause: (n: number) => string, value: unknown) => {
        params.push(value);
        where.push(clause(params.length));
      };
      if (filter.assignmentId !== undefined) add((n) => `assignment_id = $${n}`, filter.assignmentId);
      if (filter.studentId !== undefined) add((n) => `student_id = $${n}`, filter.studentId);
      if (filter.courseId !== undefined) add((n) => `course_id = $${n}`, filter.courseId);
      if (filter.statuses !== undefined) add((n) => `status = ANY($${n}::text[])`, filter.statuses);
      if (filter.since !== undefined) add((n) => `created_at >= $${n}`, filter.since);
      if (after) {
        params.push(after.createdAt, after.id);
        where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
      }
      params.push(limit + 1);
      const rows = await db.query<Record<string, unknown>>(
        `SELECT *, created_at::text AS created_key FROM submissions WHERE ${where.join(' AND ')}
         ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
        params,
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toSubmission),
        ...(rows.length > limit && last ? { next: { createdAt: last.created_key as string, id: last.id as string } } : {}),
      };
    },
  };
}

export type SubmissionSearch = ReturnType<typeof createSubmissionSearch>;
