import Ajv, { type ErrorObject } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { ApiError } from '../errors';

/**
 * The validator of the routes' request schemas: every error at once (`allErrors`), no coercion (a field of
 * the wrong type is refused, never converted), no silent removal of unknown fields (`additionalProperties:
 * false` refuses them). `verbose` keeps each error's schema, whose properties name the fields allowed.
 */
const OPTIONS = { allErrors: true, removeAdditional: false, useDefaults: false, verbose: true, strict: false } as const;
const ajv = new Ajv({ ...OPTIONS, coerceTypes: false });
/** A query string is text: `?limit=20` is read as the integer its schema declares (and refused if it is not one). */
const queryAjv = new Ajv({ ...OPTIONS, coerceTypes: true });

/**
 * Compiles a route's `params`, `querystring` and `body` schemas. A body that is absent (`undefined` or
 * JSON `null`) passes: routes whose body is optional read it as empty, the others refuse it themselves.
 */
export const compileRequestSchema: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  if (httpPart === 'querystring') return queryAjv.compile(schema as object);
  const validate = ajv.compile(schema as object);
  if (httpPart !== 'body') return validate;
  const optional = (data: unknown) => data === undefined || data === null || validate(data);
  return Object.defineProperty(optional, 'errors', { get: () => validate.errors });
};

/** A route that validates its body itself (a multipart stream cannot be validated before it is read). */
export const bodyValidatedByHandler: FastifySchemaCompiler<unknown> = (route) =>
  route.httpPart === 'body' ? () => true : compileRequestSchema(route);

/** `/limits/cpus` → `limits.cpus`; `/student_ids/2` → `student_ids[2]`. */
function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  return parts.reduce((path, p) => (/^\d+$/.test(p) && path ? `${path}[${p}]` : path ? `${path}.${p}` : p), '');
}

function describe(e: ErrorObject): { field: string; message: string } {
  switch (e.keyword) {
    case 'required': {
      const field = fieldPath(e.instancePath, String(e.params.missingProperty));
      return { field, message: `${field} is required` };
    }
    case 'additionalProperties': {
      const field = fieldPath(e.instancePath, String(e.params.additionalProperty));
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return { field, message: `${field} is not a field here; the fields are ${known.join(', ')}` };
    }
    case 'enum': {
      const field = fieldPath(e.instancePath);
      return { field, message: `${field} must be one of: ${(e.params.allowedValues as unknown[]).join(', ')}` };
    }
    default: {
      const field = fieldPath(e.instancePath);
      const described = (e.parentSchema as { description?: string } | undefined)?.description;
      const message = e.keyword === 'pattern' || e.keyword === 'anyOf' ? `is not valid${described ? `: ${described}` : ''}` : (e.message ?? 'is invalid');
      return { field, message: `${field} ${message}` };
    }
  }
}

/**
 * A request that fails its route's schema: one 400 listing every bad field (`fields`), `field` the first.
 * A body that is not an object at all is `invalid_json`, as the routes answered it before they had schemas.
 */
export function schemaRefusal(errors: readonly ErrorObject[], part: string | undefined): ApiError {
  if (part === 'body' && errors.some((e) => e.instancePath === '' && e.keyword === 'type')) {
    return new ApiError(400, 'invalid_json', 'send a JSON object');
  }
  const fields: Array<{ field: string; message: string }> = [];
  for (const e of errors) {
    // A union reports each branch's error and then its own: the union's description, if it has one,
    // stands for the field; else its first branch's error.
    const problem = describe(e);
    const seen = fields.find((f) => f.field === problem.field);
    if (!seen) fields.push(problem);
    else if (e.keyword === 'anyOf' && (e.parentSchema as { description?: string } | undefined)?.description) seen.message = problem.message;
  }
  const first = fields[0];
  const field = first?.field || undefined;
  const message = fields.length > 1 ? `${fields.length} problems: ${fields.map((f) => f.message).join('; ')}` : (first?.message ?? `the ${part ?? 'request'} is invalid`);
  return new ApiError(400, 'invalid_field', message, field, undefined, fields.filter((f) => f.field !== ''));
}
