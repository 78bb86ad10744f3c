import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CallbackBodySchema, GradeResultSchema } from './result-schema';
import { SCHEMA_DIR } from './schemas';

/**
 * The JSON Schemas gradeflow publishes (files in `schemas/`, served at GET /v1/schemas/{name}). Two are
 * generated from the TypeBox source the code's types come from (`gradeflow schemas` writes them; a test
 * keeps the files equal to it); the others describe what graders print and are written by hand.
 */
export const GENERATED_SCHEMAS = {
  'grade-result': GradeResultSchema,
  'callback-body': CallbackBodySchema,
} as const;

/** A generated schema as its published file's text. */
export function renderSchema(schema: object): string {
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...schema }, null, 2)}\n`;
}

export const schemaFile = (name: string): string => path.join(SCHEMA_DIR, `${name}.schema.json`);

/** Every published schema by name, read from `schemas/`. */
export function publishedSchemas(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json')).sort()) {
    out.set(file.slice(0, -'.schema.json'.length), readFileSync(path.join(SCHEMA_DIR, file), 'utf8'));
  }
  return out;
}
