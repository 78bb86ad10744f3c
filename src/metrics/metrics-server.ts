import http from 'node:http';
import { listen } from '../shared/http-listener';
import type { Registry } from 'prom-client';
import { METRICS_CONTENT_TYPE, metricsText } from './exposition';

/** Answer `GET /metrics` with `registry`'s text (and the Temporal SDK's); false for any other path (the caller answers it). */
export function answerMetrics(registry: Registry, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if ((req.url ?? '').split('?')[0] !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  metricsText(registry).then(
    (text) => {
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
    (err: Error) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'internal_error', message: `metrics failed: ${err.message}` } }));
    },
  );
  return true;
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** A listener of its own for `GET /metrics` (`metrics.host`:`metrics.port`), so the API's port need not serve it. */
export async function startMetricsServer(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (answerMetrics(registry, req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'not_found', message: 'only GET /metrics is served here' } }));
  });
  return listen(server, host, port, '/metrics');
}
