import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAndWait, spawnLogged, unmountIfMounted } from '../../src/cluster/processes';
import { daemonConfig } from '../../src/setup/docker';
import { freePort } from '../../src/setup/free-port';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { useStack } from '../helpers/hooks';

/**
 * A grading host's GET /healthz: a real `gradeflow worker` on a Docker daemon of this test's own (own
 * socket, data and exec roots), answering 200 while its engine answers and its workers poll, 503 naming
 * Docker while the daemon is stopped, 200 again once it is back.
 */

const BIN = path.join(PROJECT_ROOT, 'bin', 'gradeflow.js');
const stack = useStack('health', {}, { host: false });

// Short: dockerd's unix sockets live under it (at most ~100 characters).
let dir: string;
let sock: string;
let dockerdPid: number | undefined;
let worker: ChildProcess;
let workerLog = '';
let healthUrl: string;
const hostId = `health-${Math.random().toString(36).slice(2, 8)}`;

async function startDockerd(): Promise<void> {
  const args = [
    '--host', `unix://${sock}`,
    '--data-root', path.join(dir, 'data'),
    '--exec-root', path.join(dir, 'exec'),
    '--pidfile', path.join(dir, 'dockerd.pid'),
    '--bridge=none', '--iptables=false', '--ip6tables=false',
    `--config-file=${daemonConfig(dir)}`,
  ];
  dockerdPid = spawnLogged('dockerd', args, process.env, path.join(dir, 'dockerd.log'));
  const docker = new Dockerode({ socketPath: sock });
  const deadline = Date.now() + 90_000;
  while (!(await docker.ping().then(() => true, () => false))) {
    if (Date.now() > deadline) throw new Error('the test dockerd did not answer');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopDockerd(): Promise<void> {
  await killAndWait(dockerdPid, 30_000);
  unmountIfMounted(path.join(dir, 'data'));
}

async function health(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(healthUrl, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  dir = mkdtempSync('/tmp/gf-health-');
  sock = path.join(dir, 'docker.sock');
  await startDockerd();
  const port = await freePort();
  healthUrl = `http://127.0.0.1:${port}/healthz`;
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ flavours: stack.config.flavours, worker: { slots: 3, shutdownGraceSeconds: 5, healthPort: port } }));
  worker = spawn(process.execPath, [BIN, 'worker'], {
    env: {
      PATH: process.env.PATH,
      DOCKER_HOST: `unix://${sock}`,
      GRADEFLOW_CONFIG: configFile,
      GRADEFLOW_DATA_DIR: dir,
      GRADEFLOW_LOG_LEVEL: 'info',
      GRADEFLOW_HOST_ID: hostId,
      GRADEFLOW_PUBLIC_URL: stack.server.url,
      GRADEFLOW_WORKER_TOKEN: stack.config.workerToken,
      GRADEFLOW_TASK_QUEUE_PREFIX: stack.config.temporal.taskQueuePrefix,
      TEMPORAL_ADDRESS: stack.config.temporal.address,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (d: Buffer) => (workerLog += d.toString()));
  worker.stderr!.on('data', (d: Buffer) => (workerLog += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!workerLog.includes('grading host polling')) {
    if (worker.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${workerLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 180_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) await killAndWait(worker.pid, 30_000);
  await stopDockerd();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('gradeflow worker: GET /healthz (worker.healthPort)', () => {
  it('answers 200 with Docker, polling and slots while all is well; only /healthz and /metrics', async () => {
    expect(workerLog).toContain(healthUrl);
    const { status, body } = await health();
    expect(status).toBe(200);
    expect(body).toMatchObject({
      hostId,
      docker: { ok: true, version: expect.stringMatching(/^\d+\./) },
      polling: { ok: true, state: 'RUNNING', flavours: { default: 'RUNNING' } },
      slots: { default: { used: 0, total: 3 } },
      down: [],
    });
    expect((await fetch(healthUrl.replace('/healthz', '/other'))).status).toBe(404);
  });

  it('answers 503 naming Docker while its daemon is stopped, and 200 once it is back', async () => {
    await stopDockerd();
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ docker: { ok: false }, polling: { ok: true } });
    expect((down.body.down as string[]).join(' ')).toMatch(/^docker: the engine does not answer/);
    expect(worker.exitCode).toBeNull();

    await startDockerd();
    const back = await health();
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ docker: { ok: true }, down: [] });
  }, 150_000);

  it('stops answering with the worker: SIGTERM closes it', async () => {
    worker.kill('SIGTERM');
    await new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    await expect(fetch(healthUrl, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
  }, 60_000);
});
