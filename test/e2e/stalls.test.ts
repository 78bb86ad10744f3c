import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureImageFromDir } from '../../src/setup/images';
import { submissionWorkflowId } from '../../src/shared/workflow-ids';
import { gradeSubmissionWorkflow } from '../../src/workflows';
import { useProcessStack, useReceiver, useStack, useTemporalClient } from '../helpers/hooks';
import { BENCH_IMAGE, SCRIPT_RUNNER } from '../helpers/images';
import { b64file, docker } from '../helpers/stack';

/**
 * Stalls of the control plane, with every role in its own process as in production: the database and
 * the server (API + control worker) frozen with SIGSTOP, as a long GC pause, a swapped-out VM or CPU
 * starvation would, for longer than Temporal's workflow task timeout (10 s), while results are being
 * recorded. Nothing may be lost, graded twice or left unfinished.
 */

beforeAll(() => ensureImageFromDir(docker, BENCH_IMAGE));
const stack = useProcessStack({ temporalAddress: inject('temporalAddress'), workerSlots: 4 });
const receiver = useReceiver(stack, { keepAliveTimeoutMs: 30_000 });

async function post(workId: string): Promise<string> {
  const res = await fetch(`${stack.apiUrl}/v1/submissions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      image: BENCH_IMAGE.tag,
      work_id: workId,
      callback: receiver.url(),
      file: { name: 'grade.sh', content_base64: Buffer.from(`sleep 2; echo '{"success": true, "grade": 1}'\n`).toString('base64') },
    }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function statuses(ids: string[]): Promise<string[]> {
  return Promise.all(
    ids.map(async (id) => {
      const res = await fetch(`${stack.apiUrl}/v1/submissions/${id}`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
      return ((await res.json()) as { status: string }).status;
    }),
  );
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the control plane stalls past the workflow task timeout', () => {
  it('finishes every submission once: graded once, recorded, delivered under one webhook-id', async () => {
    const workIds = Array.from({ length: 24 }, () => `stall-${randomUUID()}`);
    const ids: string[] = [];
    for (const w of workIds) ids.push(await post(w));
    const { api, database } = stack.pids();
    await pause(3000); // the first gradings are running
    try {
      if (database) process.kill(database, 'SIGSTOP'); // results cannot be recorded…
      await pause(4000);
      process.kill(api!, 'SIGSTOP'); // …and then the control worker stops answering at all
      await pause(13_000);
    } finally {
      if (database) process.kill(database, 'SIGCONT');
      process.kill(api!, 'SIGCONT');
    }

    await Promise.all(workIds.map((w) => receiver.arrival(w)));
    const deadline = Date.now() + 60_000;
    let states = await statuses(ids);
    while (states.some((s) => s !== 'completed') && Date.now() < deadline) {
      await pause(1000);
      states = await statuses(ids);
    }
    expect(states).toEqual(ids.map(() => 'completed'));
    await pause(2000); // a second delivery would arrive now
    for (const w of workIds) {
      const messages = receiver.messages.get(w) ?? [];
      expect(new Set(messages.map((m) => m.webhookId)).size, w).toBe(1);
      expect(messages.every((m) => m.attempt === 1), w).toBe(true);
    }

    // The stall did what it is for: some workflow tasks timed out.
    const connection = await Connection.connect({ address: stack.temporalAddress });
    try {
      const client = new Client({ connection });
      let timedOut = 0;
      for (const w of workIds) {
        const history = await client.workflow.getHandle(submissionWorkflowId('bench', { id: '', workId: w })).fetchHistory();
        timedOut += (history.events ?? []).filter((e) => e.workflowTaskTimedOutEventAttributes).length;
      }
      expect(timedOut).toBeGreaterThan(0);
    } finally {
      await connection.close();
    }
  }, 180_000);
});

describe('the stall watch', () => {
  // No grading host: a submission waits for one, unfinished. The timer is off; the test calls sweep().
  const local = useStack('stall-watch', { stallWatch: { intervalSeconds: 3600, minAgeSeconds: 0, batch: 20, taskAttempts: 3 } }, { host: false });
  const client = useTemporalClient(local);

  const taskAttempt = async (workflowId: string) => (await client.workflow.getHandle(workflowId).describe()).raw.pendingWorkflowTask?.attempt ?? 0;
  async function untilTaskAttempt(workflowId: string, n: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    while ((await taskAttempt(workflowId)) < n) {
      if (Date.now() > deadline) throw new Error(`workflow task of ${workflowId} never reached attempt ${n}`);
      await pause(500);
    }
  }

  it('leaves a submission that waits in a queue alone; resets a run whose task keeps failing, once; reports one that ended unrecorded', async () => {
    const res = await local.post({ image: SCRIPT_RUNNER, work_id: 'stalled', file: b64file('grade.sh', 'echo') });
    const id = res.body.id as string;
    const workflowId = submissionWorkflowId('test', { id: '', workId: 'stalled' });
    await local.waitFor(id, (b) => b.status === 'queued');
    await pause(1000);
    expect(await local.server.stallWatch.sweep()).toEqual([]); // waiting for a grading host is normal

    // Replace the run with one whose workflow task fails every time (no input: the workflow code throws
    // a TypeError, which fails the task, not the workflow), as a run stuck in a worker would look: the
    // submission stays `queued` and nothing progresses.
    const handle = client.workflow.getHandle(workflowId);
    const started = (await handle.fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!;
    await handle.terminate('test: replaced by a broken run');
    await client.workflow.start(gradeSubmissionWorkflow, { workflowId, taskQueue: started.taskQueue!.name!, args: [null as never] });
    await untilTaskAttempt(workflowId, 3);
    const before = (await handle.describe()).runId;

    const first = await local.server.stallWatch.sweep();
    expect(first).toEqual([expect.objectContaining({ submissionId: id, workflowId, runId: before, action: 'reset' })]);
    const after = (await client.workflow.getHandle(workflowId).describe()).runId;
    expect(after).not.toBe(before);

    // The reset cannot cure a broken input: reported, not reset again.
    await untilTaskAttempt(workflowId, 3);
    expect(await local.server.stallWatch.sweep()).toEqual([expect.objectContaining({ runId: after, action: 'still-stalled' })]);

    await client.workflow.getHandle(workflowId).terminate('test: done');
    expect(await local.server.stallWatch.sweep()).toEqual([expect.objectContaining({ submissionId: id, action: 'closed', detail: 'TERMINATED' })]);
  }, 180_000);
});
