import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { GraderFactsStore } from '../../store/grader-facts';
import type { AppDeps } from '../deps';
import { checkWorkerToken } from '../auth';
import { ApiError } from '../errors';
import { errorResponses, IdParams, TAGS, workerSecurity } from '../schemas/common';

/** GET /internal/v1/submissions/:id/grader-facts — what the grader is told (docs/graders.md), for grading hosts, with the worker token. */
export function registerGraderFactsRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'config'> & { graderFacts: GraderFactsStore }): void {
  app.get<{ Params: { id: string } }>('/internal/v1/submissions/:id/grader-facts', {
    schema: {
      summary: 'What the grader is told about its grading (grading hosts)',
      description: 'The facts docs/graders.md lists, for the grading host to put in the container.',
      tags: [TAGS.internal],
      security: workerSecurity,
      params: IdParams("the submission's id"),
      response: { 200: Type.Object({}, { additionalProperties: true, description: 'the grader facts' }), ...errorResponses(400, 401, 404) },
    },
  }, async (req) => {
    checkWorkerToken(req, deps.config.workerToken);
    if (!/^[0-9a-f-]{36}$/.test(req.params.id)) throw new ApiError(400, 'invalid_field', 'id must be a submission id', 'id');
    const facts = await deps.graderFacts.factsFor(req.params.id);
    if (!facts) throw new ApiError(404, 'not_found', 'no such submission');
    return facts;
  });
}
