import { Type, type TSchema } from '@sinclair/typebox';

/** The security scheme names the OpenAPI document declares (src/api/openapi.ts). */
export const PLATFORM_KEY = 'platformKey';
export const WORKER_TOKEN = 'workerToken';
export const OPERATOR_TOKEN = 'operatorToken';

/** Route `security` values: a platform's API key, the grading hosts' worker token, an operator's codec token, or none. */
export const platformSecurity = [{ [PLATFORM_KEY]: [] }];
export const workerSecurity = [{ [WORKER_TOKEN]: [] }];
export const operatorSecurity = [{ [OPERATOR_TOKEN]: [] }];
export const publicSecurity: Array<Record<string, string[]>> = [];

/**
 * A route `schema` key marking its body as optional (a POST with no body at all is read as `{}`): the
 * document then says `requestBody.required: false` (src/api/openapi.ts).
 */
export const OPTIONAL_BODY = 'x-optional-body';
/** Spread into a route's `schema` (Fastify's type knows no such key; Fastify and ajv ignore it). */
export const optionalBodyMark: object = { [OPTIONAL_BODY]: true };

/** Tags grouping the routes in the document. */
export const TAGS = {
  submissions: 'submissions',
  assignments: 'assignments',
  regrades: 'regrades',
  discovery: 'discovery',
  internal: 'internal',
} as const;

export const FieldProblemSchema = Type.Object(
  {
    field: Type.String({ description: 'the bad field\'s path: `image`, `limits.cpus`, `student_ids[2]`, `file.content_base64`' }),
    message: Type.String({ description: 'what is wrong with it, naming the field' }),
  },
  { $id: 'FieldProblem', description: 'one bad field of a request' },
);

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable, machine-readable: `invalid_field`, `unauthorized`, `not_found`, `image_not_allowed`, `work_id_conflict`, …' }),
      message: Type.String({ description: 'human-readable' }),
      field: Type.Optional(Type.String({ description: 'the first bad field, when the refusal is about the request\'s fields' })),
      fields: Type.Optional(Type.Array(Type.Ref(FieldProblemSchema), { description: 'every bad field of the request, the first one first' })),
    }),
  },
  { $id: 'Error', description: 'every refusal and failure: `{"error": {"code", "message", "field"?, "fields"?}}`' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'a bad request: `fields` lists every bad field, `field` names the first',
  401: 'no API key, or an unknown one',
  403: 'not allowed for this platform (e.g. an image outside its list)',
  404: 'no such thing (for this platform)',
  409: 'conflicts with what is stored',
  413: 'a file or field larger than the limit',
  414: 'an id in the URL is too long',
  415: 'a body in another media type or encoding',
  500: 'something went wrong on our side; it has been logged',
  503: 'a dependency is not answering; send the request again after `Retry-After` seconds',
};

/** Response schemas for error statuses, each the `Error` shape. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Ref(ErrorSchema, { description: ERROR_DESCRIPTIONS[s] ?? 'refused' })]));
}

export const IdParams = (description: string) => Type.Object({ id: Type.String({ description }) });

/** A string from a fixed list: JSON Schema's `enum` (a refusal then names the values allowed). */
export const StringEnum = <const T extends readonly string[]>(values: T, options: { description?: string } = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/** A nullable value: `anyOf [T, null]`. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Timestamp = Type.String({ description: 'ISO-8601 date-time, UTC' });
