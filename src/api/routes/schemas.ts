import type { FastifyInstance } from 'fastify';
import { publishedSchemas } from '../../results/published-schemas';
import { ApiError } from '../errors';

/** GET /v1/schemas and /v1/schemas/:name — the published JSON Schemas; public, like documentation. */
export function registerSchemaRoutes(app: FastifyInstance): void {
  const schemas = publishedSchemas();
  app.get('/v1/schemas', async () => ({ schemas: [...schemas.keys()].map((name) => ({ name, url: `/v1/schemas/${name}` })) }));
  app.get<{ Params: { name: string } }>('/v1/schemas/:name', async (req, reply) => {
    const text = schemas.get(req.params.name.replace(/\.schema\.json$|\.json$/, ''));
    if (text === undefined) throw new ApiError(404, 'not_found', `no schema "${req.params.name}"; there are: ${[...schemas.keys()].join(', ')}`);
    return reply.type('application/schema+json; charset=utf-8').send(text);
  });
}
