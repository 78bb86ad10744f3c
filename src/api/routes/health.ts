import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps';
import { publicSecurity, TAGS } from '../schemas/common';

/** Named probes; each resolves when its dependency answers. */
export type HealthChecks = Record<string, () => Promise<void>>;

function withTimeout(p: Promise<void>, timeoutMs: number): Promise<void> {
  return Promise.race([
    p,
    new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
  ]);
}

/**
 * GET /healthz: 200 when every dependency answers within `server.healthCheckTimeoutMs`, 503 naming those
 * that do not. No key needed.
 */
export function registerHealthRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'health' | 'config'>): void {
  const checks = deps.health;
  const timeoutMs = deps.config.server.healthCheckTimeoutMs;
  app.get('/healthz', {
    schema: {
      summary: 'Whether the database, Temporal and Docker answer',
      tags: [TAGS.discovery],
      security: publicSecurity,
      response: {
        200: Type.Object({ status: Type.Literal('ok'), checks: Type.Record(Type.String(), Type.String()) }, { description: 'every dependency answers' }),
        503: Type.Object(
          { status: Type.Literal('unavailable'), checks: Type.Record(Type.String(), Type.String()), error: Type.Object({ code: Type.String(), message: Type.String() }) },
          { description: 'a dependency does not answer within `server.healthCheckTimeoutMs`: named in `checks` and the message' },
        ),
      },
    },
  }, async (_req, reply) => {
    const names = Object.keys(checks);
    const results = await Promise.allSettled(names.map((n) => withTimeout(checks[n]!(), timeoutMs)));
    const status: Record<string, string> = {};
    const down: string[] = [];
    results.forEach((r, i) => {
      const name = names[i]!;
      if (r.status === 'fulfilled') status[name] = 'ok';
      else {
        status[name] = `down: ${(r.reason as Error)?.message ?? String(r.reason)}`;
        down.push(name);
      }
    });
    if (down.length) {
      return reply.status(503).send({
        status: 'unavailable',
        checks: status,
        error: { code: 'unavailable', message: `not answering: ${down.join(', ')}` },
      });
    }
    return { status: 'ok', checks: status };
  });
}
