import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_SCHEMAS, publishedSchemas, renderSchema, schemaFile } from '../../src/results/published-schemas';

describe('published schemas', () => {
  it.each(Object.entries(GENERATED_SCHEMAS))('schemas/%s.schema.json is what the code’s types come from (run `npm run schemas`)', (name, schema) => {
    expect(readFileSync(schemaFile(name), 'utf8')).toBe(renderSchema(schema));
  });
  it('publishes every schema file, each valid JSON with a $schema', () => {
    const all = publishedSchemas();
    expect([...all.keys()]).toEqual(['callback-body', 'correctomatic-response', 'grade-result', 'gradescope-results']);
    for (const text of all.values()) expect(JSON.parse(text)).toHaveProperty('$schema');
  });
});
