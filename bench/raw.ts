import { randomUUID } from 'node:crypto';
import type Dockerode from 'dockerode';
import { containerOptions } from '../src/activities/docker/container-options';
import { SUBMISSION_DIR } from '../src/results/container-layout';
import { submissionTar } from '../src/archives/submission-tar';
import type { GradingSpec } from '../src/shared/activity-contracts';
import { BENCH_LIMITS } from '../test/helpers/limits';

/** The host id in the raw containers' labels. */
export const RAW_HOST_ID = 'bench-raw';

/**
 * The baseline: what a grading costs with nothing but dockerode, the same hardened HostConfig, the same
 * image and submission: create → copy the submission in → start → wait → logs → remove.
 */
export async function rawGrading(docker: Dockerode, image: string, script: string): Promise<{ ms: number; output: string }> {
  const begin = performance.now();
  const spec: GradingSpec = {
    submissionId: randomUUID(),
    workflowId: 'bench/raw',
    platformId: 'bench',
    attempt: 1,
    image,
    flavour: 'default',
    limits: BENCH_LIMITS,
    env: {},
    file: { name: 'grade.sh', sha256: '', size: script.length },
    grading: { format: 'auto' },
  };
  const container = await docker.createContainer(containerOptions(spec, RAW_HOST_ID, { allowRoot: false }));
  let output = '';
  try {
    const tar = submissionTar({ name: 'grade.sh', content: Buffer.from(script) }, { maxEntries: 1, maxExpandedBytes: 1048576 });
    await Promise.all([container.putArchive(tar.stream, { path: SUBMISSION_DIR }), tar.done]);
    await container.start();
    await container.wait();
    output = ((await container.logs({ stdout: true, stderr: true })) as unknown as Buffer).toString('utf8');
  } finally {
    await container.remove({ force: true, v: true });
  }
  return { ms: performance.now() - begin, output };
}
