import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { expect, inject } from 'vitest';
import { startServer, type RunningServer } from '../../src/main/server';
import { LABELS } from '../../src/activities/docker/container-options';
import { loadConfig } from '../../src/config/load';
import type { GradeflowConfig } from '../../src/config/schema';
import { createLogger } from '../../src/logging';
import { startGradingHost, type RunningGradingHost } from '../../src/main/grading-host';
import { STACK_LIMITS } from './limits';
import { backoffSchedule } from './retry-schedule';
import type { Receiver } from './receiver';

export const docker = new Dockerode();

/** The images each of the stack's platforms may run: `test` the test and bench images, `other` only the examples. */
const TEST_PLATFORM_IMAGES = ['gradeflow/*', 'gradeflow-test/*', 'gradeflow-bench/*'];
export const OTHER_PLATFORM_IMAGES = ['gradeflow/example-*'];

export interface Stack {
  config: GradeflowConfig;
  server: RunningServer;
  host?: RunningGradingHost;
  apiKey: string;
  otherApiKey: string;
  secret: string;
  hostId: string;
  post(body: unknown, key?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  postForm(form: FormData, key?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  get(id: string, key?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  regrade(id: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Any call to the API as the test platform, with a JSON body. */
  request(method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Poll GET until `done` holds for the body. */
  waitFor(id: string, done: (body: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  startHost(): Promise<RunningGradingHost>;
  stop(): Promise<void>;
}

/**
 * POST a submission (a fresh work_id) with its callback to `receiver` at `callbackPath`; wait for the signed
 * callback and for the record to be `completed`. Both are returned for the test's own checks.
 */
export async function gradeThroughCallback(stack: Stack, receiver: Receiver, callbackPath: string, body: Record<string, unknown>) {
  const workId = `g-${Math.random().toString(36).slice(2)}`;
  const res = await stack.post({ work_id: workId, callback: receiver.url(callbackPath), ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const cb = await receiver.waitForOne((c) => c.body.work_id === workId);
  expect(cb.verified).toBe(true);
  const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
  return { callback: cb.body as Record<string, any>, done };
}

export function b64file(name: string, text: string | Buffer) {
  return { name, content_base64: Buffer.from(text).toString('base64') };
}

/** Containers of this stack's grading host still present in Docker (running or not). */
export async function leftoverContainers(hostId: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${LABELS.host}=${hostId}`] } });
}

/**
 * A real gradeflow in this process: API + control worker + grading host, on the shared Temporal dev
 * server, with its own task queues, its own PGlite, and two platforms (test and other).
 */
export async function startStack(name: string, overrides: Partial<GradeflowConfig> = {}, opts: { host?: boolean } = {}): Promise<Stack> {
  const id = `${name}-${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `gradeflow-${name}-`));
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const apiKey = `key-test-${randomBytes(12).toString('hex')}`;
  const otherApiKey = `key-other-${randomBytes(12).toString('hex')}`;
  const config = loadConfig({}, {
    dataDir,
    api: { host: '127.0.0.1', port: 0, maxFileBytes: 1024 * 1024 },
    temporal: { address: inject('temporalAddress'), namespace: 'default', port: 7233, uiPort: 8233, taskQueuePrefix: `t-${id}` },
    workerToken: randomBytes(24).toString('hex'),
    worker: { hostId: `host-${id}`, slots: 2, shutdownGraceSeconds: 5, reapIntervalSeconds: 60 },
    flavours: { default: { ...STACK_LIMITS } },
    platforms: [
      { id: 'test', apiKeys: [apiKey], callbackSecret: secret, allowLoopbackCallbacks: true, images: TEST_PLATFORM_IMAGES },
      {
        id: 'other',
        apiKeys: [otherApiKey],
        callbackSecret: `whsec_${randomBytes(32).toString('base64')}`,
        allowLoopbackCallbacks: true,
        images: OTHER_PLATFORM_IMAGES,
      },
    ],
    callbacks: {
      initialIntervalMs: 200,
      maximumIntervalMs: 1000,
      backoffCoefficient: 2,
      giveUpAfterMs: 120_000,
      timeoutMs: 5000,
      firstTryTimeoutMs: 2000,
      firstTryConcurrency: 8,
      retrySchedule: backoffSchedule(200, 1000, 120_000),
      retryJitter: 0.2,
      maxRetryAfterMs: 3_600_000,
      clientErrorTries: 3,
      maxConcurrentDeliveries: 200,
    },
    logLevel: 'silent',
    ...overrides,
  });
  const logger = createLogger(process.env.GRADEFLOW_TEST_LOG ?? 'silent');
  const workflowBundle = { codePath: inject('workflowBundlePath') };
  const server = await startServer(config, { logger, docker, workflowBundle });
  config.api.publicUrl = server.url;
  const startHost = () => startGradingHost(config, { logger, docker });
  const host = opts.host === false ? undefined : await startHost();

  const call = async (method: string, url: string, key: string, body?: string | FormData, type?: string) => {
    const res = await fetch(`${server.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(type ? { 'content-type': type } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const stack: Stack = {
    config,
    server,
    ...(host ? { host } : {}),
    apiKey,
    otherApiKey,
    secret,
    hostId: config.worker.hostId!,
    post: (body, key = apiKey) => call('POST', '/v1/submissions', key, JSON.stringify(body), 'application/json'),
    postForm: (form, key = apiKey) => call('POST', '/v1/submissions', key, form),
    get: (sid, key = apiKey) => call('GET', `/v1/submissions/${sid}`, key),
    regrade: (sid) => call('POST', `/v1/submissions/${sid}/regrade`, apiKey),
    request: (method, url, body) =>
      body === undefined ? call(method, url, apiKey) : call(method, url, apiKey, JSON.stringify(body), 'application/json'),
    async waitFor(sid, done, timeoutMs = 40_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await stack.get(sid);
        if (done(body)) return body;
        if (Date.now() > deadline) throw new Error(`submission ${sid} did not reach the expected state: ${JSON.stringify(body)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    startHost,
    async stop() {
      await stack.host?.stop();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}
