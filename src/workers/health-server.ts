import http from 'node:http';
import { listen } from '../shared/http-listener';
import type { Worker } from '@temporalio/worker';
import type Dockerode from 'dockerode';
import type { ContainerSlots } from '../activities/docker/container-slots';
import { hostRegistry } from '../metrics/host-metrics';
import { answerMetrics } from '../metrics/metrics-server';

/**
 * A grading host's `GET /healthz` (`worker.healthPort`, off by default): whether its Docker engine answers,
 * whether its workers poll, and how many container slots are taken. 200 when all is well, 503 naming what
 * is down; for a load balancer, compose's healthcheck or `gradeflow cluster`. Also `GET /metrics`, the
 * host's Prometheus metrics (src/metrics/host-metrics.ts). It answers no other path.
 */

export interface HealthSource {
  hostId: string;
  docker: Dockerode;
  /** One worker per flavour it serves, by flavour name, and the one on its own queue. */
  flavourWorkers: ReadonlyMap<string, Worker>;
  hostWorker: Worker;
  slots: ContainerSlots;
}

export interface HealthReport {
  hostId: string;
  docker: { ok: boolean; version?: string; error?: string };
  polling: { ok: boolean; state: string; flavours: Record<string, string> };
  /** Container slots are shared by the flavours a host serves: one count, listed under each flavour. */
  slots: Record<string, { used: number; total: number }>;
  down: string[];
}

export interface HealthServer {
  url: string;
  close(): Promise<void>;
}

/** How long the Docker engine gets to answer a health probe. */
const DOCKER_PROBE_MS = 2000;

async function dockerHealth(docker: Dockerode): Promise<HealthReport['docker']> {
  try {
    const probe = docker.version() as Promise<{ Version?: string }>;
    const timeout = new Promise<never>((_, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer within ${DOCKER_PROBE_MS} ms`)), DOCKER_PROBE_MS);
      t.unref();
    });
    const v = await Promise.race([probe, timeout]);
    return { ok: true, ...(v.Version ? { version: v.Version } : {}) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** The host's health now. */
export async function healthReport(src: HealthSource): Promise<HealthReport> {
  const docker = await dockerHealth(src.docker);
  const flavours: Record<string, string> = {};
  for (const [name, w] of src.flavourWorkers) flavours[name] = w.getState();
  const states = [...Object.values(flavours), src.hostWorker.getState()];
  const running = states.every((s) => s === 'RUNNING');
  const state = running ? 'RUNNING' : (states.find((s) => s !== 'RUNNING') ?? 'RUNNING');
  const slots: HealthReport['slots'] = {};
  for (const name of src.flavourWorkers.keys()) slots[name] = { used: src.slots.inUse, total: src.slots.capacity };
  const down = [
    ...(docker.ok ? [] : [`docker: the engine does not answer (${docker.error})`]),
    ...(running ? [] : [`polling: the worker is not running (${state})`]),
  ];
  return { hostId: src.hostId, docker, polling: { ok: running, state, flavours }, slots, down };
}

/** Serve `GET /healthz` on `host`:`port` (0: a free port). */
export async function startHealthServer(src: HealthSource, host: string, port: number): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (answerMetrics(hostRegistry, req, res)) return;
    const url = (req.url ?? '').split('?')[0];
    if (url !== '/healthz') return send(404, { error: { code: 'not_found', message: 'only GET /healthz and GET /metrics are served here' } });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: { code: 'method_not_allowed', message: 'GET /healthz' } });
    healthReport(src).then(
      (report) => send(report.down.length ? 503 : 200, report),
      (err: Error) => send(503, { hostId: src.hostId, down: [`health check failed: ${err.message}`] }),
    );
  });
  return listen(server, host, port, '/healthz');
}
