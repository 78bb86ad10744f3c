import { Type } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { combineProblems, invalid } from '../../src/api/errors';
import { compileRequestSchema, schemaRefusal } from '../../src/api/schemas/validation';

const Body = Type.Object(
  {
    name: Type.String(),
    limits: Type.Optional(Type.Object({ cpus: Type.Number({ minimum: 0.01 }) }, { additionalProperties: false })),
    student_ids: Type.Optional(Type.Array(Type.String({ pattern: '^\\S+$', description: 'no spaces' }))),
    scope: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: ['latest', 'all'] })),
  },
  { additionalProperties: false },
);

function refuse(data: unknown, httpPart = 'body') {
  const validate = compileRequestSchema({ schema: Body, httpPart, method: 'POST', url: '/x' }) as ((d: unknown) => boolean) & { errors?: ErrorObject[] };
  expect(validate(data)).toBe(false);
  return schemaRefusal(validate.errors!, httpPart).toBody().error;
}

describe('schema refusals: every bad field, by its path', () => {
  it('names nested fields with dots and array items with brackets, the first as `field`', () => {
    const error = refuse({ limits: { cpus: 0, gpus: 1 }, student_ids: ['a', 'b c'], scope: 'some', colour: 'red' });
    expect(error.code).toBe('invalid_field');
    expect(error.fields!.map((f) => f.field)).toEqual(['name', 'colour', 'limits.gpus', 'limits.cpus', 'student_ids[1]', 'scope']);
    expect(error.field).toBe('name');
    expect(error.fields!.find((f) => f.field === 'scope')!.message).toBe('scope must be one of: latest, all');
    expect(error.fields!.find((f) => f.field === 'colour')!.message).toBe('colour is not a field here; the fields are name, limits, student_ids, scope');
    expect(error.fields!.find((f) => f.field === 'student_ids[1]')!.message).toBe('student_ids[1] is not valid: no spaces');
    expect(error.message).toMatch(/^6 problems: /);
  });

  it('an absent body passes (the route reads it as empty); a body that is not an object is invalid_json', () => {
    const validate = compileRequestSchema({ schema: Body, httpPart: 'body', method: 'POST', url: '/x' }) as (d: unknown) => boolean;
    expect(validate(undefined)).toBe(true);
    expect(validate(null)).toBe(true);
    expect(refuse([1, 2]).code).toBe('invalid_json');
  });

  it('combines hand-made refusals: the first decides the code, all are listed', () => {
    const a = invalid('work_id', 'must be 1 to 200 printable characters without spaces');
    const b = invalid('priority', 'must be an integer from 1 (urgent) to 5');
    const body = combineProblems([a, b]).toBody().error;
    expect(body).toMatchObject({ code: 'invalid_field', field: 'work_id' });
    expect(body.fields).toEqual([
      { field: 'work_id', message: a.message },
      { field: 'priority', message: b.message },
    ]);
    expect(combineProblems([a])).toBe(a);
  });
});
