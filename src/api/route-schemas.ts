import { Type } from '@sinclair/typebox';

/** The API's error answer, `{"error": {"code", "message", "field"?}}` (src/api/errors.ts), for route `response` schemas. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'machine-readable reason, e.g. not_found, no_result' }),
        message: Type.String({ description: 'what went wrong, for a person' }),
        field: Type.Optional(Type.String({ description: 'the request field at fault, when there is one' })),
      },
      { additionalProperties: true },
    ),
  },
  { description: 'an error', additionalProperties: true },
);

/** `:id` of a submission route. */
export const SubmissionIdParams = Type.Object({ id: Type.String({ description: "the submission's id (from POST /v1/submissions)" }) });

// A route schema's OpenAPI words (summary, description, tags): the same declarations @fastify/swagger makes.
declare module 'fastify' {
  interface FastifySchema {
    tags?: readonly string[];
    description?: string;
    summary?: string;
  }
}
