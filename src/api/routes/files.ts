import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps';
import { checkWorkerToken } from '../auth';
import { ApiError } from '../errors';
import { errorResponses, TAGS, workerSecurity } from '../schemas/common';

/** GET /internal/v1/files/:sha256 — submission bytes for grading hosts, by digest, with the worker token. */
export function registerFileRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'store' | 'config'>): void {
  app.get<{ Params: { sha256: string } }>('/internal/v1/files/:sha256', {
    schema: {
      summary: "A submission's bytes, by digest (grading hosts)",
      tags: [TAGS.internal],
      security: workerSecurity,
      params: Type.Object({ sha256: Type.String({ description: 'the file\'s SHA-256, 64 hex digits' }) }),
      response: {
        200: { description: 'the file', content: { 'application/octet-stream': { schema: Type.String({ contentMediaType: 'application/octet-stream' }) } } },
        ...errorResponses(400, 401, 404),
      },
    },
  }, async (req, reply) => {
    checkWorkerToken(req, deps.config.workerToken);
    if (!/^[a-f0-9]{64}$/.test(req.params.sha256)) throw new ApiError(400, 'invalid_field', 'sha256 must be 64 hex digits', 'sha256');
    const bytes = await deps.store.file(req.params.sha256);
    if (!bytes) throw new ApiError(404, 'not_found', 'no such file');
    return reply.type('application/octet-stream').send(bytes);
  });
}
