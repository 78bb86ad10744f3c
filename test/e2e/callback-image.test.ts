import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/setup/free-port';
import { pushImage, startRegistry, type RunningRegistry } from '../../src/setup/registry';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack } from '../helpers/hooks';
import { b64file, docker } from '../helpers/stack';

/**
 * The callback says which image graded the attempt: a submission graded by a local image, then regraded
 * with a new grader from a course registry (pinned to its digest at the regrade): the receiver sees each
 * attempt's image and digest in the signed body, as GET shows them in the attempts.
 */
const stack = useStack('callback-image');
const receiver = useReceiver(stack);

let registry: RunningRegistry;
let dir: string;
const made: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-callback-image-'));
  registry = await startRegistry({ port: await freePort(), dir });
  const platform = stack.config.platforms.find((p) => p.id === 'test')!;
  platform.images = [...platform.images, `${registry.address}/course/*`];
  stack.config.registries.push({ host: registry.address });
});

afterAll(async () => {
  // Only the references made here: the script runner keeps its own name.
  for (const ref of made) await docker.getImage(ref).remove().catch(() => undefined);
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the callback names the image that graded', () => {
  it('attempt 1 by a local image (no digest); attempt 2, regraded with a registry image, by that image pinned and its digest', async () => {
    const tag = `${registry.address}/course/grader:2`;
    const digest = await pushImage(docker, SCRIPT_RUNNER, tag);
    const pinned = `${registry.address}/course/grader@${digest}`;
    made.push(tag, pinned);

    const workId = `cb-image-${Date.now().toString(36)}`;
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: workId, callback: receiver.url(), file: b64file('grade.sh', 'echo \'{"success": true, "grade": 2}\'') });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const id = res.body.id as string;
    await stack.waitFor(id, (b) => b.status === 'completed');

    const regrade = await stack.request('POST', `/v1/submissions/${id}/regrade`, { image: tag });
    expect(regrade.status, JSON.stringify(regrade.body)).toBe(202);
    const done = await stack.waitFor(id, (b) => b.status === 'completed' && b.attempts.length === 2);

    const callbacks = receiver.accepted().filter((c) => c.body.work_id === workId);
    expect(callbacks.map((c) => c.verified)).toEqual([true, true]);
    expect(callbacks.map((c) => ({ attempt: c.body.attempt, image: c.body.image, image_digest: c.body.image_digest }))).toEqual([
      { attempt: 1, image: SCRIPT_RUNNER, image_digest: null },
      { attempt: 2, image: pinned, image_digest: digest },
    ]);
    // The same as GET's attempts say.
    expect(done.attempts.map((a: Record<string, unknown>) => [a.image, a.image_digest])).toEqual([
      [SCRIPT_RUNNER, null],
      [pinned, digest],
    ]);
  });
});
