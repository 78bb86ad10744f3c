/** One bad field of a request: its path (`limits.cpus`, `student_ids[2]`) and what is wrong with it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** The body of every refusal: `{error: {code, message, field?, fields?}}`. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; fields?: FieldProblem[] };
}

/**
 * An error the API answers with `{error: {code, message, field?, fields?}}` and its HTTP status. `field`
 * names the first bad field; `fields` lists every bad field of the request (the first among them).
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Seconds for a Retry-After header (a 503 the platform should simply repeat). */
    readonly retryAfterSeconds?: number,
    /** Every bad field, when the request had any (a 400 lists them all at once). */
    readonly fields?: readonly FieldProblem[],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field ? { field: this.field } : {}),
        ...(this.fields?.length ? { fields: [...this.fields] } : {}),
      },
    };
  }
}

export const invalid = (field: string, message: string): ApiError =>
  new ApiError(400, 'invalid_field', `${field} ${message}`, field, undefined, [{ field, message: `${field} ${message}` }]);

/**
 * Several refusals of one request as one: the first decides the status and code (as when it was the only
 * one), and `fields` lists every bad field, in the order found.
 */
export function combineProblems(errors: readonly ApiError[]): ApiError {
  const [first, ...rest] = errors;
  if (!first) throw new Error('combineProblems needs at least one error');
  if (rest.length === 0) return first;
  const fields = errors.flatMap((e) => e.fields ?? (e.field ? [{ field: e.field, message: e.message }] : []));
  const message = `${errors.length} problems: ${errors.map((e) => e.message).join('; ')}`;
  return new ApiError(first.statusCode, first.code, message, first.field ?? fields[0]?.field, first.retryAfterSeconds, fields);
}
