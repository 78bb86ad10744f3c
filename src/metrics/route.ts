import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { publicSecurity } from '../api/schemas/common';
import { METRICS_CONTENT_TYPE, metricsText } from './exposition';
import { serverRegistry } from './server-metrics';

/**
 * GET /metrics on the API port (when `metrics.port` is 0): Prometheus text, no key, like /healthz. It
 * holds counts by platform and flavour, no student data; an operator who would rather not expose it on
 * the API's address sets `metrics.port` (a listener of its own, src/metrics/metrics-server.ts) or blocks
 * the path at the proxy in front.
 */
export function registerMetricsRoute(app: FastifyInstance): void {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics of this server process',
        description:
          "gradeflow's own counters and histograms (submissions, gradings, callback deliveries, regrades), Node process metrics, then the Temporal SDK's; text exposition format 0.0.4. Not behind a key. See docs/operations.md#metrics.",
        tags: ['operations'],
        security: publicSecurity,
        response: { 200: Type.String({ description: 'Prometheus text exposition format' }) },
      },
    },
    async (_req, reply) => reply.header('content-type', METRICS_CONTENT_TYPE).header('cache-control', 'no-store').send(await metricsText(serverRegistry)),
  );
}
