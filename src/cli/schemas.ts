import { writeFileSync } from 'node:fs';
import { GENERATED_SCHEMAS, renderSchema, schemaFile } from '../results/published-schemas';

/** Write the generated schemas into `schemas/` (after changing src/results/result-schema.ts). */
export function writeSchemas(): void {
  for (const [name, schema] of Object.entries(GENERATED_SCHEMAS)) {
    writeFileSync(schemaFile(name), renderSchema(schema));
    process.stdout.write(`wrote ${schemaFile(name)}\n`);
  }
}
