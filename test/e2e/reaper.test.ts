import { describe, expect, it } from 'vitest';
import { LABELS } from '../../src/activities/docker/container-options';
import { BUSYBOX_IMAGE } from '../../src/setup/images';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useStack } from '../helpers/hooks';
import { b64file, docker, leftoverContainers } from '../helpers/stack';

/** The reaper against the real Docker engine and the real Temporal server. */

const stack = useStack('reaper');

/** A container labelled as gradeflow's, as a crashed worker would leave it. */
async function leftover(workflowId: string, attempt: number): Promise<string> {
  const c = await docker.createContainer({
    Image: BUSYBOX_IMAGE,
    Cmd: ['sleep', '300'],
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.host]: stack.hostId,
      [LABELS.workflow]: workflowId,
      [LABELS.attempt]: String(attempt),
      [LABELS.submission]: 'left-over',
      [LABELS.timeLimit]: '60',
    },
    HostConfig: { NetworkMode: 'none' },
  });
  await c.start();
  return c.id;
}

const exists = (id: string) => docker.getContainer(id).inspect().then(() => true, () => false);

describe('reaper', () => {
  it("removes a container whose workflow does not exist, and keeps a live grading's", async () => {
    const orphan = await leftover('submission/test/never-existed', 1);
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: 'reap-live', file: b64file('grade.sh', 'sleep 3; echo \'{"success": true, "grade": 1}\'') });
    const id = res.body.id as string;
    await stack.waitFor(id, (b) => b.status === 'running');
    const live = (await leftoverContainers(stack.hostId)).find((c) => c.Labels[LABELS.submission] === id)!;
    expect(live).toBeDefined();

    const swept = await stack.host!.reaper.sweep();
    expect(swept).toContainEqual(expect.objectContaining({ action: 'remove', why: 'its workflow does not exist' }));
    expect(await exists(orphan)).toBe(false);
    expect(await exists(live.Id)).toBe(true);

    const done = await stack.waitFor(id, (b) => b.status === 'completed');
    expect(done.result).toMatchObject({ success: true, grade: 1 });
  });

  it("removes a container of a closed workflow's attempt", async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: 'reap-closed', file: b64file('grade.sh', 'echo \'{"success": true, "grade": 2}\'') });
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    expect(done.result.grade).toBe(2);
    const stale = await leftover('submission/test/reap-closed', 1);
    await stack.host!.reaper.sweep();
    expect(await exists(stale)).toBe(false);
  });

  it('leaves no container behind', async () => {
    expect(await leftoverContainers(stack.hostId)).toEqual([]);
  });
});
