import type { Registry } from 'prom-client';
import { temporalMetricsText } from './temporal-exporter';

/** Prometheus text exposition format 0.0.4, what prom-client and Core's exporter both serve. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A process's `/metrics`: gradeflow's own (this registry), then the Temporal SDK's. */
export async function metricsText(registry: Registry): Promise<string> {
  const [own, temporal] = await Promise.all([registry.metrics(), temporalMetricsText()]);
  return `${own.endsWith('\n') ? own : `${own}\n`}${temporal}`;
}
