import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { pause, startClusterProcess, until, type ClusterProcess } from '../helpers/cluster-process';

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

let cluster: ClusterProcess;

beforeAll(async () => {
  cluster = await startClusterProcess({
    hosts: 1,
    servers: 1,
    slots: 2,
    config: {
      worker: { shutdownGraceSeconds: 5, pullRetrySeconds: PULL_RETRY_SECONDS },
      // One more attempt after an infrastructure fault: down past the window ends within two windows.
      infrastructureRetries: 1,
    },
  });
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
}, 180_000);

const post = (image: string, workId: string) => cluster.post(cluster.state().api[0]!, workId, SUM, image);

interface Submission {
  status: string;
  image: string;
  result: { success: boolean; grade?: number; reason?: string; origin?: string; error?: string } | null;
  attempts: Array<{ attempt: number; host: string; reason: string | null }>;
}

const submission = async (id: string): Promise<Submission> => (await cluster.submission(id)) as unknown as Submission;

/** Kill the registry by PID; resolves once the cluster marks it down. */
async function killRegistry(): Promise<void> {
  process.kill(cluster.state().processes.registry, 'SIGKILL');
  await cluster.waitForState('the state file to mark the registry down', (s) => s.down.includes('registry'), 10_000);
}

async function restartRegistry(): Promise<void> {
  const { stderr } = await promisify(execFile)(process.execPath, [BIN, 'cluster', 'restart', 'registry', '--dir', cluster.clusterDir], {
    env: { ...process.env, GRADEFLOW_CONFIG: cluster.configFile },
  });
  expect(stderr).toContain('registry is up');
  expect(cluster.state().down).toEqual([]);
}

/** Remove `image` from the grading host's daemon: its next grading must pull it again. */
async function removeFromHost(image: string): Promise<void> {
  const docker = cluster.docker(1);
  await docker.getImage(image).remove({ force: true });
  expect(await docker.getImage(image).inspect().then(() => true, () => false)).toBe(false);
}

/** The one delivery of `workId`: after a pause in which a second would arrive, exactly one webhook-id and attempt. */
async function deliveredOnce(workId: string): Promise<void> {
  await cluster.receiver.arrival(workId);
  await pause(2000);
  const messages = cluster.receiver.messages.get(workId) ?? [];
  expect(new Set(messages.map((m) => m.webhookId)).size).toBe(1);
  expect(new Set(messages.map((m) => m.attempt))).toEqual(new Set([1]));
}

describe('the cluster registry is down when an image is first needed', () => {
  let pinned: string;

  it('at intake: 503 registry_unavailable with Retry-After, nothing stored; once it is back the same POST is accepted and graded once', async () => {
    await killRegistry();
    const workId = `regfault-${randomUUID()}`;
    const refused = await post(cluster.sumImage, workId);
    expect(refused.status).toBe(503);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.code).toBe('registry_unavailable');
    expect(refused.message).toContain(`registry ${cluster.registry} could not be reached`);

    await restartRegistry();
    const accepted = await post(cluster.sumImage, workId);
    expect(accepted.status).toBe(202);
    // Nothing was stored by the refused POST: this one is new, not a duplicate.
    expect(accepted.duplicate).toBe(false);
    const id = accepted.id!;
    await deliveredOnce(workId);
    const done = await submission(id);
    expect(done.status).toBe('completed');
    expect(done.result).toMatchObject({ success: true, grade: 10 });
    expect(done.attempts).toHaveLength(1);
    expect(done.image).toMatch(new RegExp(`^${cluster.registry.replace(/\./g, '\\.')}/gradeflow/example-sum@sha256:[a-f0-9]{64}$`));
    pinned = done.image;
  }, 180_000);

  it('after intake, before the host pulls: the pull is tried again within the window and grades once the registry is back', async () => {
    await removeFromHost(pinned);
    await killRegistry();
    const workId = `regfault-${randomUUID()}`;
    // Pinned to its digest: intake asks the registry nothing; the host's pull finds it down.
    const res = await post(pinned, workId);
    expect(res.status).toBe(202);
    const id = res.id!;
    await pause(6000);
    expect(cluster.receiver.messages.get(workId)).toBeUndefined();
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
    const id = res.id!;
    await until('the failure', () => (cluster.receiver.messages.get(workId) ? true : undefined), 6 * PULL_RETRY_SECONDS * 1000);
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
