/** A field left out: missing, null, or an empty form field. */
export const isAbsent = (v: unknown): boolean => v === undefined || v === null || v === '';

/** A JSON object: not null, not an array. */
export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
