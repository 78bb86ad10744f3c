import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { GradeResultSchema, type GradeResult } from './result-schema';

/** The JSON Schema files in `schemas/` (published), compiled once. */
export const SCHEMA_DIR = path.resolve(__dirname, '..', '..', 'schemas');

export function loadSchema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(SCHEMA_DIR, `${name}.schema.json`), 'utf8')) as Record<string, unknown>;
}

const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false });

export interface CorrectomaticResponse {
  success: boolean;
  grade?: number;
  comments?: string[];
  error?: string;
}

export const validateCorrectomatic: ValidateFunction<CorrectomaticResponse> = ajv.compile<CorrectomaticResponse>(
  loadSchema('correctomatic-response'),
);

/** The normalized result every grading ends in (schema: `schemas/grade-result.schema.json`). */
export const validateGradeResult: ValidateFunction<GradeResult> = ajv.compile<GradeResult>(GradeResultSchema);

/** One line naming the first schema violation, e.g. `/grade must be number`. */
export function describeSchemaError(validate: ValidateFunction): string {
  const errors = validate.errors ?? [];
  // An anyOf reports each branch's failure first; the anyOf itself says what is really wanted.
  if (errors.some((e) => e.keyword === 'anyOf')) return 'needs "grade" or "comments" when success is true';
  const err = errors[0];
  if (!err) return 'does not match the schema';
  if (err.keyword === 'required') return `missing required field "${String(err.params.missingProperty)}"`;
  const where = err.instancePath ? `field "${err.instancePath.slice(1).replace(/\//g, '.')}"` : 'the response';
  return `${where} ${err.message ?? 'is invalid'}`;
}
