/** An error the API answers with `{error: {code, message, field?}}` and its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Seconds for a Retry-After header (a 503 the platform should simply repeat). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): { error: { code: string; message: string; field?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

export const invalid = (field: string, message: string): ApiError => new ApiError(400, 'invalid_field', `${field} ${message}`, field);
