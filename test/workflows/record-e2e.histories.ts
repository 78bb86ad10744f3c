import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redeliveryWorkflowId } from '../../src/control/submission-actions';
import { submissionWorkflowId } from '../../src/shared/workflow-ids';
import { SCRIPT_RUNNER } from '../helpers/images';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { b64file, startStack, type Stack } from '../helpers/stack';
import { saveHistory } from './workflow-env';

/**
 * Replay fixtures from real gradings (Docker, PostgreSQL, a real receiver). Runs only under vitest.histories.config.mts
 * (`npm run histories`); `replay.test.ts` replays what it saved on every `npm test`.
 */
describe('record e2e histories', () => {
  let stack: Stack;
  let receiver: Receiver;

  beforeAll(async () => {
    stack = await startStack('histories');
    receiver = await startReceiver(stack.secret);
  });

  afterAll(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  const grade = b64file('grade.sh', 'echo \'{"success": true, "grade": 4}\'');

  async function gradeAndSave(name: string, workId: string): Promise<void> {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: workId, callback: receiver.url(), file: grade });
    const id = res.body.id as string;
    await stack.waitFor(id, (b) => b.status === 'completed');
    const handle = stack.server.client.workflow.getHandle(submissionWorkflowId('test', { id, workId }));
    await handle.result();
    await saveHistory(name, handle);
  }

  it('a grading through Docker, delivered on the first try', async () => {
    await gradeAndSave('e2e-docker-delivered', 'hist-e2e-1');
  });

  it('a grading through Docker whose first callback try is answered 503', async () => {
    receiver.failNext(1);
    await gradeAndSave('e2e-docker-delivery-retried', 'hist-e2e-2');
    expect(receiver.accepted().filter((c) => c.body.work_id === 'hist-e2e-2')).toHaveLength(1);
  });

  it('a redelivery (POST /v1/submissions/{id}/redeliver) whose first try is answered 503', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: 'hist-e2e-3', callback: receiver.url(), file: grade });
    const id = res.body.id as string;
    await stack.waitFor(id, (b) => b.status === 'completed');
    receiver.failNext(1);
    expect((await stack.request('POST', `/v1/submissions/${id}/redeliver`)).status).toBe(202);
    const handle = stack.server.client.workflow.getHandle(redeliveryWorkflowId({ platformId: 'test', id }, 1));
    expect(await handle.result()).toEqual({ delivered: true });
    await saveHistory('e2e-redelivery-retried', handle);
  });
});
