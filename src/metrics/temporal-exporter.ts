/**
 * The Temporal SDK's own metrics (worker slots, polls, schedule-to-start latency…) come from Core's
 * Prometheus exporter, which the runtime binds to 127.0.0.1 only (src/workers/runtime.ts). A process's
 * `/metrics` fetches that text and appends it to gradeflow's, so one scrape target per process carries
 * both and the exporter's port is never exposed.
 */

let exporterUrl: string | undefined;

/** How long `/metrics` waits for Core's exporter. */
const FETCH_TIMEOUT_MS = 2000;

export function setTemporalExporter(url: string): void {
  exporterUrl = url;
}

/** Core's exposition text, or a comment saying why it is missing (the rest of /metrics is served anyway). */
export async function temporalMetricsText(): Promise<string> {
  if (!exporterUrl) return '# Temporal SDK metrics: the runtime was not installed by gradeflow\n';
  try {
    const res = await fetch(exporterUrl, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) return `# Temporal SDK metrics: the exporter answered ${res.status}\n`;
    const text = await res.text();
    return text.endsWith('\n') ? text : `${text}\n`;
  } catch (err) {
    return `# Temporal SDK metrics: the exporter did not answer (${(err as Error).message})\n`;
  }
}
