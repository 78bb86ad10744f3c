import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { publishedSchemas } from '../../results/published-schemas';
import { ApiError } from '../errors';
import { errorResponses, publicSecurity, TAGS } from '../schemas/common';

/** GET /v1/schemas and /v1/schemas/:name — the published JSON Schemas; public, like documentation. */
export function registerSchemaRoutes(app: FastifyInstance): void {
  const schemas = publishedSchemas();
  app.get('/v1/schemas', {
    schema: {
      summary: 'The published JSON Schemas',
      tags: [TAGS.discovery],
      security: publicSecurity,
      response: { 200: Type.Object({ schemas: Type.Array(Type.Object({ name: Type.String(), url: Type.String() })) }, { description: 'each schema\'s name and URL' }) },
    },
  }, async () => ({ schemas: [...schemas.keys()].map((name) => ({ name, url: `/v1/schemas/${name}` })) }));
  app.get<{ Params: { name: string } }>('/v1/schemas/:name', {
    schema: {
      summary: 'One published JSON Schema',
      tags: [TAGS.discovery],
      security: publicSecurity,
      params: Type.Object({ name: Type.String({ description: `one of: ${[...schemas.keys()].join(', ')} (\`.schema.json\` may follow)` }) }),
      response: {
        200: { description: 'the JSON Schema', content: { 'application/schema+json': { schema: Type.Object({}, { additionalProperties: true }) } } },
        ...errorResponses(404),
      },
    },
  }, async (req, reply) => {
    const text = schemas.get(req.params.name.replace(/\.schema\.json$|\.json$/, ''));
    if (text === undefined) throw new ApiError(404, 'not_found', `no schema "${req.params.name}"; there are: ${[...schemas.keys()].join(', ')}`);
    return reply.type('application/schema+json; charset=utf-8').send(text);
  });
}
