import { afterEach, describe, expect, it } from 'vitest';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack, useTempDir } from '../helpers/hooks';
import { b64file, leftoverContainers } from '../helpers/stack';
import { killWorkerProcesses, startWorkerProcess } from '../helpers/worker-process';

/**
 * A real `gradeflow worker` process (the built CLI) is sent SIGTERM while a grading runs in it. The stack
 * in this process has the API and the control worker only, so the child is the one grading host.
 */

const stack = useStack('shutdown', {}, { host: false });
const receiver = useReceiver(stack);
const dir = useTempDir('shutdown');

/** Submit a grading that sleeps, then prints `grade`; resolves with its id once its container runs. */
async function slowGradingRunning(workId: string, sleepSeconds: number, grade: number): Promise<string> {
  const res = await stack.post({
    image: SCRIPT_RUNNER,
    work_id: workId,
    callback: receiver.url(),
    file: b64file('grade.sh', `sleep ${sleepSeconds}; echo '{"success": true, "grade": ${grade}}'`),
  });
  const id = res.body.id as string;
  await stack.waitFor(id, (b) => b.status === 'running');
  return id;
}

async function runningContainers(): Promise<number> {
  return (await leftoverContainers(stack.hostId)).filter((c) => c.State === 'running').length;
}

afterEach(killWorkerProcesses);

describe('worker SIGTERM mid-grade', () => {
  it('lets a running grading finish within the grace time, then exits 0', async () => {
    const worker = await startWorkerProcess(stack, dir(), { shutdownGraceSeconds: 30 });
    const id = await slowGradingRunning('sigterm-graceful', 3, 7);
    worker.child.kill('SIGTERM');

    expect(await worker.exited, worker.log()).toBe(0);
    expect(worker.log()).toContain('SIGTERM received');
    // The only grading host is gone: the grading must have completed inside it before it exited.
    expect(await leftoverContainers(stack.hostId)).toEqual([]);
    const cb = await receiver.waitForOne((c) => c.body.work_id === 'sigterm-graceful');
    expect(cb.verified).toBe(true);
    expect(cb.body).toMatchObject({ success: true, grade: 7, attempt: 1 });
    const done = await stack.waitFor(id, (b) => b.status === 'completed');
    expect(done.attempts).toHaveLength(1);
  });

  it('hands a running grading over intact when the grace time is over: the restarted host finishes it', async () => {
    const first = await startWorkerProcess(stack, dir(), { shutdownGraceSeconds: 0 });
    const id = await slowGradingRunning('sigterm-handover', 6, 8);
    first.child.kill('SIGTERM');
    expect(await first.exited, first.log()).toBe(0);

    // The container keeps running with no worker, and the submission is not failed in the meantime.
    expect(await runningContainers()).toBe(1);
    expect((await stack.get(id)).body).toMatchObject({ status: 'running', attempt: 1 });
    expect(receiver.received.filter((c) => c.body.work_id === 'sigterm-handover')).toEqual([]);

    const second = await startWorkerProcess(stack, dir(), { shutdownGraceSeconds: 30 });
    const cb = await receiver.waitForOne((c) => c.body.work_id === 'sigterm-handover', 45_000);
    expect(cb.body).toMatchObject({ success: true, grade: 8, attempt: 1 });
    const done = await stack.waitFor(id, (b) => b.status === 'completed');
    expect(done.attempts).toHaveLength(1);
    expect(await leftoverContainers(stack.hostId)).toEqual([]);

    second.child.kill('SIGTERM');
    expect(await second.exited, second.log()).toBe(0);
  }, 90_000);

  it('survives a worker crash (SIGKILL) mid-grade: the restarted host adopts the container and finishes it', async () => {
    const first = await startWorkerProcess(stack, dir(), { shutdownGraceSeconds: 30 });
    const id = await slowGradingRunning('sigkill', 4, 9);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await leftoverContainers(stack.hostId)).toHaveLength(1);

    // The await activity's heartbeat times out; its retry on this host's queue reaches the new process.
    const second = await startWorkerProcess(stack, dir(), { shutdownGraceSeconds: 30 });
    const cb = await receiver.waitForOne((c) => c.body.work_id === 'sigkill', 60_000);
    expect(cb.body, JSON.stringify(cb.body)).toMatchObject({ success: true, grade: 9, attempt: 1 });
    expect((await stack.waitFor(id, (b) => b.status === 'completed')).attempts).toHaveLength(1);
    expect(await leftoverContainers(stack.hostId)).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await second.exited, second.log()).toBe(0);
  }, 90_000);
});
