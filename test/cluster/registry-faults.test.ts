import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/setup/free-port';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { backoffSchedule } from '../helpers/retry-schedule';

/**
 * The cluster's registry is down when a grader image is first needed (`gradeflow cluster`, one grading
 * host, its daemon empty): at intake (503 registry_unavailable, nothing stored, the same POST accepted
 * once it is back); after intake, while the host pulls (a transient failure, tried again within
 * `worker.pullRetrySeconds`: graded once it is back); and down past that window (one infrastructure_error
 * naming the image and the registry's answer). Every submission is delivered exactly once.
 */

const BIN = path.join(PROJECT_ROOT, 'bin', 'gradeflow.js');
const SUM = readFileSync(path.join(PROJECT_ROOT, 'examples', 'sum-grader', 'submission', 'sum.sh')).toString('base64');
/** The hosts' pull window in this test (the default is 120 s). */
const PULL_RETRY_SECONDS = 20;

interface State {
  api: string[];
  registry: string;
  processes: { registry: number; registryUp: boolean; hosts: Array<{ hostId: string; dockerHost: string }> };
  down: string[];
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(250);
  }
}

let dir: string;
let stateFile: string;
let cluster: ChildProcess;
let receiver: Receiver;
let registryPort: number;
const apiKey = `registry-faults-${randomBytes(12).toString('hex')}`;
const secret = `whsec_${randomBytes(24).toString('base64')}`;
const readState = (): State | undefined => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as State) : undefined);
const clusterLog = (): string => readFileSync(path.join(dir, 'cluster.log'), 'utf8');
const sumTag = (): string => `127.0.0.1:${registryPort}/gradeflow/example-sum:2`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-regfault-'));
  chmodSync(dir, 0o755); // the postgres user works in it
  stateFile = path.join(dir, 'state.json');
  receiver = await startReceiver(secret);
  registryPort = await freePort();
  const configFile = path.join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      workerToken: randomBytes(24).toString('hex'),
      platforms: [
        { id: 'test', apiKeys: [apiKey], callbackSecret: secret, allowLoopbackCallbacks: true, images: [`127.0.0.1:${registryPort}/gradeflow/example-*`] },
      ],
      callbacks: { initialIntervalMs: 200, maximumIntervalMs: 2000, retrySchedule: backoffSchedule(200, 2000, 600_000) },
      worker: { shutdownGraceSeconds: 5, pullRetrySeconds: PULL_RETRY_SECONDS },
      // One more attempt after an infrastructure fault: down past the window ends within two windows.
      infrastructureRetries: 1,
      logLevel: 'warn',
    }),
  );
  const out = openSync(path.join(dir, 'cluster.log'), 'a');
  cluster = spawn(
    process.execPath,
    [BIN, 'cluster', '--hosts', '1', '--servers', '1', '--dir', path.join(dir, 'c'), '--state', stateFile,
      '--api-port', '0', '--temporal-port', '0', '--postgres-port', '0', '--registry-port', String(registryPort)],
    { env: { ...process.env, GRADEFLOW_CONFIG: configFile, GRADEFLOW_SLOTS: '2' }, stdio: ['ignore', out, out] },
  );
  await until('the state file', () => {
    if (cluster.exitCode !== null) throw new Error(`gradeflow cluster exited with ${cluster.exitCode}:\n${clusterLog()}`);
    return readState();
  }, 240_000);
}, 300_000);

afterAll(async () => {
  if (cluster && cluster.exitCode === null) {
    cluster.kill('SIGTERM');
    await until('the cluster to stop', () => (cluster.exitCode !== null ? true : undefined), 120_000).catch(() => cluster.kill('SIGKILL'));
  }
  await receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 180_000);

const post = (image: string, workId: string): Promise<Response> =>
  fetch(`${readState()!.api[0]}/v1/submissions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ image, work_id: workId, callback: receiver.url(), file: { name: 'sum.sh', content_base64: SUM } }),
  });

interface Submission {
  status: string;
  image: string;
  result: { success: boolean; grade?: number; reason?: string; origin?: string; error?: string } | null;
  attempts: Array<{ attempt: number; host: string; reason: string | null }>;
}

async function submission(id: string): Promise<Submission> {
  const res = await fetch(`${readState()!.api[0]}/v1/submissions/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
  return (await res.json()) as Submission;
}

/** Kill the registry by PID; resolves once the cluster marks it down. */
async function killRegistry(): Promise<void> {
  process.kill(readState()!.processes.registry, 'SIGKILL');
  await until('the state file to mark the registry down', () => (readState()?.down.includes('registry') ? true : undefined), 10_000);
}

async function restartRegistry(): Promise<void> {
  const { stderr } = await promisify(execFile)(process.execPath, [BIN, 'cluster', 'restart', 'registry', '--dir', path.join(dir, 'c')], {
    env: { ...process.env, GRADEFLOW_CONFIG: path.join(dir, 'config.json') },
  });
  expect(stderr).toContain('registry is up');
  expect(readState()!.down).toEqual([]);
}

/** Remove `image` from the grading host's daemon: its next grading must pull it again. */
async function removeFromHost(image: string): Promise<void> {
  const docker = new Dockerode({ socketPath: readState()!.processes.hosts[0]!.dockerHost.replace(/^unix:\/\//, '') });
  await docker.getImage(image).remove({ force: true });
  expect(await docker.getImage(image).inspect().then(() => true, () => false)).toBe(false);
}

/** The one delivery of `workId`: after a pause in which a second would arrive, exactly one webhook-id and attempt. */
async function deliveredOnce(workId: string): Promise<void> {
  await receiver.arrival(workId);
  await pause(2000);
  const messages = receiver.messages.get(workId) ?? [];
  expect(new Set(messages.map((m) => m.webhookId)).size).toBe(1);
  expect(new Set(messages.map((m) => m.attempt))).toEqual(new Set([1]));
}

describe('the cluster registry is down when an image is first needed', () => {
  let pinned: string;

  it('at intake: 503 registry_unavailable with Retry-After, nothing stored; once it is back the same POST is accepted and graded once', async () => {
    await killRegistry();
    const workId = `regfault-${randomUUID()}`;
    const refused = await post(sumTag(), workId);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('registry_unavailable');
    expect(body.error.message).toContain(`registry 127.0.0.1:${registryPort} could not be reached`);

    await restartRegistry();
    const accepted = await post(sumTag(), workId);
    expect(accepted.status).toBe(202);
    // Nothing was stored by the refused POST: this one is new, not a duplicate.
    const { id, duplicate } = (await accepted.json()) as { id: string; duplicate: boolean };
    expect(duplicate).toBe(false);
    await deliveredOnce(workId);
    const done = await submission(id);
    expect(done.status).toBe('completed');
    expect(done.result).toMatchObject({ success: true, grade: 10 });
    expect(done.attempts).toHaveLength(1);
    expect(done.image).toMatch(new RegExp(`^127\\.0\\.0\\.1:${registryPort}/gradeflow/example-sum@sha256:[a-f0-9]{64}$`));
    pinned = done.image;
  }, 180_000);

  it('after intake, before the host pulls: the pull is tried again within the window and grades once the registry is back', async () => {
    await removeFromHost(pinned);
    await killRegistry();
    const workId = `regfault-${randomUUID()}`;
    // Pinned to its digest: intake asks the registry nothing; the host's pull finds it down.
    const res = await post(pinned, workId);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await pause(6000);
    expect(receiver.messages.get(workId)).toBeUndefined();
    expect((await submission(id)).status).not.toMatch(/completed|failed/);

    await restartRegistry();
    await deliveredOnce(workId);
    const done = await submission(id);
    expect(done.status).toBe('completed');
    expect(done.result).toMatchObject({ success: true, grade: 10 });
    // Retried within the attempt: no attempt was lost to it.
    expect(done.attempts).toHaveLength(1);
  }, 180_000);

  it('down past the window: one infrastructure_error naming the image and the registry answer, delivered once', async () => {
    await removeFromHost(pinned);
    await killRegistry();
    const workId = `regfault-${randomUUID()}`;
    const started = Date.now();
    const res = await post(pinned, workId);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await until('the failure', () => (receiver.messages.get(workId) ? true : undefined), 6 * PULL_RETRY_SECONDS * 1000);
    const waited = Date.now() - started;
    await deliveredOnce(workId);
    const done = await submission(id);
    expect(done.status).toBe('failed');
    // The student is not charged: an infrastructure fault, not the submission's.
    expect(done.result).toMatchObject({ success: false, reason: 'infrastructure_error', origin: 'infrastructure' });
    expect(done.result!.error).toContain(`could not pull image "${pinned}"`);
    expect(done.result!.error).toMatch(/connection refused/);
    expect(done.result!.error).toContain(`over ${PULL_RETRY_SECONDS} s`);
    expect(done.attempts).toHaveLength(1);
    // Each of its two tries waited out the window.
    expect(waited).toBeGreaterThanOrEqual(2 * PULL_RETRY_SECONDS * 1000 - 2000);
    console.log(`down past the window: infrastructure_error delivered after ${waited} ms (window ${PULL_RETRY_SECONDS} s, 2 tries)`);
    await restartRegistry();
  }, 240_000);
});
