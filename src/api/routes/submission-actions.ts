import { Type } from '@sinclair/typebox';
import { platformSecurity } from '../schemas/common';
import type { FastifyInstance } from 'fastify';
import { publicStatus } from '../../shared/status';
import { platformOf } from '../auth';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import { ErrorBody, SubmissionIdParams } from '../route-schemas';
import { findSubmission } from './submissions';

type ActionDeps = Pick<AppDeps, 'store' | 'actions'>;

const RedeliverAnswer = Type.Object({
  id: Type.String({ description: 'the submission' }),
  attempt: Type.Integer({ description: 'the attempt whose result is sent again (the latest recorded)' }),
  redelivery: Type.Integer({ description: "the redelivery's number for this submission (1, 2, …)" }),
  webhook_id: Type.String({ description: 'the new message\'s `webhook-id`' }),
});

const CancelAnswer = Type.Object({
  id: Type.String({ description: 'the submission' }),
  status: Type.String({ description: '`cancelled` once recorded; the status it had while its run is being cancelled' }),
  cancel: Type.Union([Type.Literal('requested'), Type.Literal('recorded')], {
    description: '`requested`: its workflow is being cancelled (the status becomes `cancelled` in a moment); `recorded`: it had no run going and is recorded cancelled',
  }),
});

/** POST /v1/submissions/:id/redeliver and /cancel (under `buildApp`'s auth hook). */
export function registerSubmissionActionRoutes(v1: FastifyInstance, deps: ActionDeps): void {
  v1.post<{ Params: { id: string } }>(
    '/v1/submissions/:id/redeliver',
    {
      schema: {
        summary: 'Send the latest result again',
        description:
          'Sends the latest recorded result to the callback URL again, as a new message (a new `webhook-id`), recorded as a redelivery (GET shows it under the attempt) and retried like any callback. The grade, attempt and status do not change.',
        tags: ['submissions'],
        security: platformSecurity,
        params: SubmissionIdParams,
        response: { 202: RedeliverAnswer, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const sub = await findSubmission(deps, platformOf(req), req.params.id);
      const outcome = await deps.actions.redeliver(sub);
      if (!outcome.started) {
        throw outcome.why === 'no_callback'
          ? new ApiError(409, 'no_callback', `submission ${sub.id} has no callback URL; read its result with GET`)
          : new ApiError(409, 'no_result', `submission ${sub.id} has no recorded result yet`);
      }
      return reply.status(202).send({ id: sub.id, attempt: outcome.attempt, redelivery: outcome.n, webhook_id: outcome.webhookId });
    },
  );

  v1.post<{ Params: { id: string } }>(
    '/v1/submissions/:id/cancel',
    {
      schema: {
        summary: 'Cancel an unfinished submission',
        description:
          'Cancels its workflow: a running container is stopped, and the submission becomes `cancelled` (its unfinished attempt recorded as cancelled). A finished submission: 409. A regrade grades it again.',
        tags: ['submissions'],
        security: platformSecurity,
        params: SubmissionIdParams,
        response: { 202: CancelAnswer, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const sub = await findSubmission(deps, platformOf(req), req.params.id);
      const outcome = await deps.actions.cancel(sub);
      if (outcome === 'finished') throw new ApiError(409, 'finished', `submission ${sub.id} is already finished (${publicStatus(sub.status)})`);
      return reply.status(202).send({ id: sub.id, status: outcome === 'recorded' ? 'cancelled' : publicStatus(sub.status), cancel: outcome });
    },
  );
}
