import { Type } from '@sinclair/typebox';
import { platformSecurity } from '../schemas/common';
import type { FastifyInstance } from 'fastify';
import { platformOf } from '../auth';
import type { AppDeps } from '../deps';
import { invalid } from '../errors';
import { ErrorBody } from '../route-schemas';

const MAX_LIMIT = 200;
const DEFAULT_LIMIT = 50;
const CURSOR_RE = /^r1:(\d{1,18})$/;

/** The opaque cursor of a place in the results feed. */
function encodeResultCursor(seq: string): string {
  return Buffer.from(`r1:${seq}`).toString('base64url');
}

function decodeResultCursor(value: string): string {
  const m = CURSOR_RE.exec(Buffer.from(value, 'base64url').toString());
  if (!m) throw invalid('after', 'is not a cursor this API gave (pass next_cursor back as it was returned)');
  return m[1]!;
}

const ResultsQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 100, description: '`next_cursor` of the previous page; absent: from the first result' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: `results per page, 1–${MAX_LIMIT}` })),
});

const ResultItem = Type.Object({
  submission_id: Type.String(),
  work_id: Type.Union([Type.String(), Type.Null()]),
  attempt: Type.Integer({ description: 'a regrade is a new attempt, and a new item' }),
  recorded_at: Type.String({ format: 'date-time', description: 'when the result was recorded' }),
  body: Type.Object({}, { additionalProperties: true, description: 'the callback body this result gets (schema `callback-body`)' }),
});

const ResultsPage = Type.Object({
  items: Type.Array(ResultItem),
  next_cursor: Type.String({ description: 'pass as `after` for the results that follow (also when this page is empty: poll with it again)' }),
});

/** GET /v1/results (under `buildApp`'s auth hook). */
export function registerResultRoutes(v1: FastifyInstance, deps: Pick<AppDeps, 'results'>): void {
  v1.get<{ Querystring: { after?: string; limit?: number } }>(
    '/v1/results',
    {
      schema: {
        summary: 'Results in the order they became final',
        description:
          "The platform's results, each recorded result once (a regrade's too), in the order they were recorded: for platforms that poll instead of (or besides) receiving callbacks. Start without `after`; pass `next_cursor` back as `after`.",
        tags: ['results'],
        security: platformSecurity,
        querystring: ResultsQuery,
        response: { 200: ResultsPage, 400: ErrorBody },
      },
    },
    async (req) => {
      const after = req.query.after === undefined || req.query.after === '' ? '0' : decodeResultCursor(req.query.after);
      const items = await deps.results.after(platformOf(req).id, after, req.query.limit ?? DEFAULT_LIMIT);
      return {
        items: items.map((i) => ({
          submission_id: i.submissionId,
          work_id: i.workId,
          attempt: i.attempt,
          recorded_at: i.recordedAt.toISOString(),
          body: i.body,
        })),
        next_cursor: encodeResultCursor(items.at(-1)?.seq ?? after),
      };
    },
  );
}
