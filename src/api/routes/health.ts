import type { FastifyInstance } from 'fastify';

/** Named probes; each resolves when its dependency answers. */
export type HealthChecks = Record<string, () => Promise<void>>;

const TIMEOUT_MS = 3000;

function withTimeout(p: Promise<void>): Promise<void> {
  return Promise.race([
    p,
    new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref()),
  ]);
}

/** GET /healthz: 200 when every dependency answers, 503 naming those that do not. No key needed. */
export function registerHealthRoutes(app: FastifyInstance, checks: HealthChecks): void {
  app.get('/healthz', async (_req, reply) => {
    const names = Object.keys(checks);
    const results = await Promise.allSettled(names.map((n) => withTimeout(checks[n]!())));
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
