import { describe, expect, it } from 'vitest';
import { LABELS } from '../../src/activities/docker/container-options';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack, useTemporalClient } from '../helpers/hooks';
import { b64file, docker, leftoverContainers } from '../helpers/stack';

/**
 * Faults that are nobody's grade: the infrastructure's (retried, then reported as such) and an operator's
 * cancel from the Temporal UI (recorded, container removed, regrade possible).
 */

const stack = useStack('faults', { infrastructureRetries: 1 });
const receiver = useReceiver(stack);
const client = useTemporalClient(stack);

const slow = (grade: number, seconds = 3) => b64file('grade.sh', `sleep ${seconds}; echo '{"success": true, "grade": ${grade}}'`);

async function containerOf(submissionId: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = (await leftoverContainers(stack.hostId)).find((c) => c.Labels[LABELS.submission] === submissionId);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no container for ${submissionId}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('infrastructure faults', () => {
  it('retries a grading whose container vanished, and grades it in the same attempt', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: 'vanished', callback: receiver.url(), file: slow(6) });
    const id = res.body.id as string;
    await stack.waitFor(id, (b) => b.status === 'running');
    const first = await containerOf(id);
    await docker.getContainer(first.Id).remove({ force: true });

    const cb = await receiver.waitForOne((c) => c.body.work_id === 'vanished', 45_000);
    expect(cb.body).toMatchObject({ success: true, grade: 6, attempt: 1 });
    const done = await stack.waitFor(id, (b) => b.status === 'completed');
    expect(done.attempts).toHaveLength(1);
  });

  it('reports a fault that persists as infrastructure_error, so the student is not charged', async () => {
    const res = await stack.post({ image: 'gradeflow-test/not-on-this-host:1', work_id: 'no-image', callback: receiver.url(), file: slow(1, 0) });
    expect(res.status).toBe(202);
    const cb = await receiver.waitForOne((c) => c.body.work_id === 'no-image', 45_000);
    expect(cb.body).toMatchObject({ success: false, reason: 'infrastructure_error', origin: 'infrastructure', attempt: 1 });
    expect(cb.body.error).toMatch(/after 2 tries.*image "gradeflow-test\/not-on-this-host:1" is not on grading host/);
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'failed');
    expect(done.result).toMatchObject({ reason: 'infrastructure_error', origin: 'infrastructure' });
  });
});

describe('an operator cancels a run', () => {
  it('stops the container, records the submission as cancelled, and a regrade grades it again', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: 'cancel-me', file: slow(4, 8) });
    const id = res.body.id as string;
    await stack.waitFor(id, (b) => b.status === 'running');
    const container = await containerOf(id);

    await client.workflow.getHandle('submission/test/w/cancel-me').cancel();
    const cancelled = await stack.waitFor(id, (b) => b.status === 'cancelled');
    expect(cancelled.result).toMatchObject({ success: false, reason: 'cancelled', origin: 'operator' });
    expect(cancelled.attempts).toHaveLength(1);
    const deadline = Date.now() + 20_000;
    while (await docker.getContainer(container.Id).inspect().then(() => true, () => false)) {
      if (Date.now() > deadline) throw new Error('the cancelled grading kept its container');
      await new Promise((r) => setTimeout(r, 200));
    }

    expect((await stack.regrade(id)).status).toBe(202);
    const done = await stack.waitFor(id, (b) => b.status === 'completed' && b.attempt === 2, 60_000);
    expect(done.attempts.map((a: { reason: string | null }) => a.reason)).toEqual(['cancelled', null]);
  }, 90_000);
});

describe('cleanup', () => {
  it('leaves no container behind', async () => {
    expect(await leftoverContainers(stack.hostId)).toEqual([]);
  });
});
