import type { SubmissionStatus } from '../shared/types';
import type { SearchCursor, SubmissionFilter } from '../store/submission-search';
import { ApiError, invalid } from './errors';
import { isAbsent, isPlainObject } from './fields';
import { checkId } from './intake';

const QUERY_FIELDS = ['assignment_id', 'student_id', 'course_id', 'status', 'since', 'limit', 'cursor'] as const;
export const MAX_LIST_LIMIT = 200;
const DEFAULT_LIST_LIMIT = 50;

/** Public statuses and the stored ones each stands for (`received` is shown as queued). */
const STATUSES: Record<string, readonly SubmissionStatus[]> = {
  queued: ['received', 'queued'],
  running: ['running'],
  delivering: ['delivering'],
  completed: ['completed'],
  failed: ['failed'],
  cancelled: ['cancelled'],
};

/** PostgreSQL's text form of a timestamptz, as the cursor carries it (`2026-12-02 01:33:00.123456+00`). */
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2}){0,2}|Z)?$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The opaque cursor a page ends with: base64url of its last row's creation time and id. */
export function encodeCursor(c: SearchCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');
}

function decodeCursor(value: string): SearchCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString());
    if (Array.isArray(parsed) && parsed.length === 2) {
      const [createdAt, id] = parsed as unknown[];
      if (typeof createdAt === 'string' && TIMESTAMP_RE.test(createdAt) && typeof id === 'string' && UUID_RE.test(id)) {
        return { createdAt, id };
      }
    }
  } catch {
    // not JSON: refused below
  }
  throw invalid('cursor', 'is not a cursor this API gave (use next_cursor as it was returned)');
}

const one = (v: unknown, field: string): string => {
  if (typeof v !== 'string') throw invalid(field, 'must be given once');
  return v;
};

/** `GET /v1/submissions`'s query: filters, limit (1 … 200, default 50), cursor. A 400 names the bad field. */
export function parseListQuery(query: unknown): { filter: SubmissionFilter; limit: number; cursor?: SearchCursor } {
  const q = isPlainObject(query) ? query : {};
  for (const key of Object.keys(q)) {
    if (!(QUERY_FIELDS as readonly string[]).includes(key)) throw invalid(key, `is not a filter; use ${QUERY_FIELDS.join(', ')}`);
  }
  const filter: SubmissionFilter = {};
  if (!isAbsent(q.assignment_id)) filter.assignmentId = checkId(one(q.assignment_id, 'assignment_id'), 'assignment_id');
  if (!isAbsent(q.student_id)) filter.studentId = checkId(one(q.student_id, 'student_id'), 'student_id');
  if (!isAbsent(q.course_id)) filter.courseId = checkId(one(q.course_id, 'course_id'), 'course_id');
  if (!isAbsent(q.status)) {
    const status = one(q.status, 'status');
    const stored = STATUSES[status];
    if (!stored) throw invalid('status', `must be one of ${Object.keys(STATUSES).join(', ')}`);
    filter.statuses = stored;
  }
  if (!isAbsent(q.since)) {
    const since = one(q.since, 'since');
    const at = new Date(since);
    if (!/^\d{4}-\d{2}-\d{2}/.test(since) || Number.isNaN(at.getTime())) throw invalid('since', 'must be an ISO-8601 date or date-time');
    filter.since = at;
  }
  let limit = DEFAULT_LIST_LIMIT;
  if (!isAbsent(q.limit)) {
    // An integer when the route's schema has read it (src/api/schemas/submission.ts), else its text.
    const text = typeof q.limit === 'number' ? String(q.limit) : one(q.limit, 'limit');
    limit = Number(text);
    if (!/^\d+$/.test(text) || limit < 1 || limit > MAX_LIST_LIMIT) throw invalid('limit', `must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  if (isAbsent(q.cursor)) return { filter, limit };
  const cursor = one(q.cursor, 'cursor');
  if (cursor.length > 512) throw new ApiError(400, 'invalid_field', 'cursor is too long', 'cursor');
  return { filter, limit, cursor: decodeCursor(cursor) };
}
